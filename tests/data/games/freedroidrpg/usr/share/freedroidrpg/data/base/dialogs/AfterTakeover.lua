return {
	EveryTime = function()
		Npc:says(_"This bot is now yours. It will follow your orders until it is destroyed or you release it from control.")
	end,
}
