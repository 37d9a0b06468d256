title_screen{
background = "credits.jpg",
song = "HellFortressTwo.ogg",
voice_acting = "EndOfAct.ogg",
text = [[
The town is safe, for now. The factory lies silent behind you and its bots are scrap.

=== END OF ACT 1 ===
]]
}
