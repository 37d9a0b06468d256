title_screen{
song = "HellFortressTwo.ogg",
voice_acting = "GameLost.ogg",
text = [[
            Game Lost

The bots won this round. Everyone you knew in the town is gone, and nobody is left to remember your name.

Click to continue.
]]
}
