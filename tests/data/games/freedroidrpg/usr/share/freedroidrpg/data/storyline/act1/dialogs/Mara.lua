---------------------------------------------------------------------
-- This file is part of Freedroid (test excerpt)
----------------------------------------------------------------------
--[[WIKI
PURPOSE = "$$NAME$$ keeps the town's lamps burning."
WIKI]]--

local Npc = FDrpg.get_npc()
local Tux = FDrpg.get_tux()

return {
	FirstTime = function()
		Npc:says(_"Another traveller through the gate? The bots took my brother last winter, and the lamps are all I have left to look after.")
		show("node0")
	end,

	EveryTime = function()
		Npc:says_random(_"Hello.", _"Hi.")
		-- Npc:says(_"A commented-out line must not be read, however long it happens to be in the file.")
	end,

	{
		id = "node0",
		text = _"Can I help with the lamps?",
		code = function()
			if (Mara_trusts_tux) then
				Npc:says(_"You already do. Every [b]circuit[/b] you bring keeps one more street lit through the night.")
			else
				Npc:says(_"Maybe. Bring me ten circuits and I will believe you mean it.", "NO_WAIT")
				Tux:says(_"Ten circuits it is, then.")
			end
			hide("node0")
		end,
	},
	{
		id = "node1",
		text = _"Bye.",
		code = function()
			end_dialog()
		end,
	},
}
