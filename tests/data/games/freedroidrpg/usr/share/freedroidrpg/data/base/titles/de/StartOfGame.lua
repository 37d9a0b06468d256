title_screen{
song = "Lullaby.ogg",
text = [[
Der Himmel über der Stadt ist seit drei Tagen rot, und die Bots kommen näher, Tux, wach auf.
]]
}
