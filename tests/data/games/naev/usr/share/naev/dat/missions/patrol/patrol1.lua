--[[
<?xml version='1.0' encoding='utf8'?>
<mission name="Harbour Patrol">
 <avail>
  <location>Bar</location>
 </avail>
</mission>
--]]

bar_desc = _("A tired officer waves you over.")
misn_title = _("Harbour Patrol")
briefing = _([["We lost two patrol boats in the harbour this week," the officer says, rubbing her eyes. "Fly one sweep around the moons and come back alive. That is all I ask."]])

function accept ()
   music.load( "harbour" )
   music.play()
   if not tk.yesno( misn_title, briefing ) then
      misn.finish()
   end
   var.push( "music_combat_force", "Pirate" )
end
