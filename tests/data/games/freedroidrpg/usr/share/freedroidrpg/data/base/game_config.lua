--[[
  This file is part of Freedroid (test excerpt).
]]--

game_acts{
	-- id: Unique identifier
	-- sudbir: Subdir name in MAP_DIR (data/storyline)
	{ id = "act1", name = "Return Of Tux",
	  intro = _"-= Start of Act 1 =-",
	  subdir = "act1", is_starting_act = true  },
}
