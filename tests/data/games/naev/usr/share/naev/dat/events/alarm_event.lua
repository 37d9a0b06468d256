--[[
<?xml version='1.0' encoding='utf8'?>
<event name="Station Alarm">
 <trigger>land</trigger>
 <chance>10</chance>
</event>
--]]

title = {}
text = {}
title[1] = _("Alarm")
text[1] = _([[Red lights sweep the docking bay as the station's sirens wail.
    A voice on the intercom orders every pilot to stay inside their ship until security has found the intruder.]])
text[2] = _("%s, you hear footsteps running past your hatch, then a single muffled shot, and after that only the hum of the reactor.")
text[3] = _([[The sirens stop. Somewhere far below, a maintenance crew starts whistling an old tune while they sweep the empty corridors clean.]])
text[4] = _("Stay put.")
text[5] = _("this string is never closed
-- a malformed line above must not stop the parser

function create ()
   music.stop()
   music.load( "alarm" )
   music.play()
   tk.msg( title[1], text[1] )
   tk.msg( title[1], text[4] )
   hook.timer( 3000, "aftermath" )
   music.stop()
   tk.msg( title[1], text[3] )
   evt.finish( true )
end

function aftermath ()
   tk.msg( title[1],
      text[2]:format( player.name() ) )
end
