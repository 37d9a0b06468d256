
--[[
-- music will get called with a string parameter indicating status
-- valid parameters:
--    load - game is loading
--    land - player landed
--    combat - player just got a hostile onscreen
]]--
last = "idle"

-- Faction-specific songs.
factional = {
   Pirate     = { "pirate_theme", "drift" },
   ["Za'lek"] = { "lab_hum"; add_neutral = true },
}

function choose( str )
   choose_table = {
      ["load"]    = choose_load,
      ["intro"]   = choose_intro,
      ["land"]    = choose_land,
      ["ambient"] = choose_ambient,
      ["combat"]  = choose_combat
   }
   if str == nil then str = "ambient" end
   choose_table[ str ]()
end

function playIfNotPlaying( song )
   music.load( song )
   music.play()
   return true
end

function choose_load ()
   return playIfNotPlaying( "loading" )
end

function choose_intro ()
   return playIfNotPlaying( "opening" )
end

function choose_land ()
   local pnt = planet.cur()
   if pnt:class() == "O" then
      mus = { "waves" }
   else
      mus = { "harbour" } -- "not_a_track" in a comment
   end
   music.load( mus[ rnd.rnd(1, #mus) ] )
   music.play()
   return true
end

ambient_neutral = { "drift",
      "quiet_stars" }

function choose_ambient ()
   local nebu_dens, nebu_vol = system.cur():nebula()
   local nebu = nebu_dens > 0
   if strongest ~= nil and factional[strongest] then
      ambient = factional[strongest]
   elseif nebu then
      ambient = { "fog" }
   else
      ambient = ambient_neutral
   end
   music.load( ambient[ rnd.rnd(1,#ambient) ] )
   music.play()
   return true
end

-- Faction-specific combat songs
factional_combat = {
   Pirate = { "cutlass", add_neutral = true },
}

function choose_combat ()
   local nebu = system.cur():nebula() > 0
   if nebu then
      combat = { "fog_battle", "skirmish" }
   else
      combat = { "skirmish" }
   end
   if factional_combat[strongest] then
      for k, v in ipairs( factional_combat[strongest] ) do
         combat[ #combat + 1 ] = v
      end
   end
   music.load( combat[ rnd.rnd(1,#combat) ] )
   music.play()
   return true
end
