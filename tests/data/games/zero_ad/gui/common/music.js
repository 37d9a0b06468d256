function Music()
{
	this.RELATIVE_MUSIC_PATH = "audio/music/";
	this.MUSIC = {
		"MENU": "menu",
		"PEACE": "peace",
		"BATTLE": "battle",
		"VICTORY": "victory",
		"DEFEAT": "defeat",
		"CUSTOM": "custom"
	};
}

Music.prototype.DEFAULT_MENU_TRACKS = ["Honor_Bound.ogg"].concat(shuffleArray([
	"Juno_Protect_You.ogg"
]));

Music.prototype.DEFAULT_PEACE_TRACKS = [
	"Tale_of_Warriors.ogg"
];

Music.prototype.DEFAULT_BATTLE_TRACKS = [
	"Taiko_1.ogg"
];

Music.prototype.DEFAULT_VICTORY_TRACKS = [
	"You_are_Victorious!.ogg"
];

Music.prototype.DEFAULT_DEFEAT_TRACKS = [
	"Dried_Tears.ogg"
];

Music.prototype.DEFAULT_CUSTOM_TRACKS = [];
