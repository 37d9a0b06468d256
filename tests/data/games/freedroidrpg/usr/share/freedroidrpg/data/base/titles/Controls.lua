title_screen{
song = "Bleostrada.ogg",
text = [[
Move: left click on the floor where you want Tux to walk.
Attack: left click on an enemy bot while holding the weapon key.
Inventory: press I to open and close the inventory screen.
]]
}
