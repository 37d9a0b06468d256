----------------------------------------------------------------------
-- This file is part of Freedroid (test excerpt)
----------------------------------------------------------------------

title_screen{
song = "Bleostrada.ogg",
voice_acting = "StartOfGame.ogg",
preroll_text = 3,
postroll_text = 3,
text = [[
The sky over the town has been red for three days.
The bots are coming closer, and I can hear them in the pipes.
Wake up, Tux. Please.

            Dvorak, First AI
]]
}
