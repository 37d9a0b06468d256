"""The naev, flare and freedroidrpg game modules on tiny fixtures written in each game's own file formats
(tests/data/games/<game>/, laid out as the fetch script extracts a package): the situations each track gets,
the story pairs, the situation tables, and that the KEEP globs keep every file the loaders read."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import ModuleType

import pytest

from storyscore.datasets.games import GameTrack, StoryPair, flare, freedroidrpg, naev, situations, track_signs
from storyscore.lexicon.vocab import MOOD_WORDS

FIXTURES = Path(__file__).parent / "data" / "games"
NAEV = FIXTURES / "naev"
FLARE = FIXTURES / "flare"
FREEDROID = FIXTURES / "freedroidrpg"
NAEV_DAT = NAEV / "usr/share/naev"
FLARE_DAT = FLARE / "usr/share/games/flare"
FREEDROID_DAT = FREEDROID / "usr/share/freedroidrpg"


def line_of(path: Path, needle: str) -> int:
    """1-based line of the first line of ``path`` containing ``needle`` (so the tests read the fixture)."""
    for k, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if needle in line:
            return k
    raise AssertionError(f"{needle!r} not in {path}")


def by_name(tracks: list[GameTrack]) -> dict[str, GameTrack]:
    return {t.path.name: t for t in tracks}


def summary(pairs: list[StoryPair]) -> list[tuple[str, tuple[str, ...], str, str]]:
    return [(p.text, tuple(t.name for t in p.tracks), p.situation, p.source) for p in pairs]


# --- naev ----------------------------------------------------------------------------------------------


def test_naev_tracks_get_the_states_music_lua_and_the_scripts_name() -> None:
    tracks = by_name(naev.tracks(NAEV))
    assert {n: t.situations for n, t in tracks.items()} == {
        "alarm.ogg": ("scripted_scene",),
        "cutlass.ogg": ("combat", "faction_pirate"),
        "drift.ogg": ("ambient", "faction_pirate"),
        "fog.ogg": ("ambient", "nebula"),
        "fog_battle.ogg": ("combat", "nebula"),
        "harbour.ogg": ("land", "scripted_scene"),
        "lab_hum.ogg": ("ambient", "faction_zalek"),
        "loading.ogg": ("load",),
        "opening.ogg": ("intro",),
        "pirate_theme.ogg": ("ambient", "faction_pirate"),
        "quiet_stars.ogg": ("ambient",),
        "skirmish.ogg": ("combat", "nebula"),
        "unused_demo.ogg": (),
        "waves.ogg": ("land",),
    }
    fog_line = line_of(NAEV_DAT / "dat/snd/music.lua", '{ "fog" }')
    alarm_line = line_of(NAEV_DAT / "dat/events/alarm_event.lua", 'music.load( "alarm" )')
    assert tracks["fog.ogg"].source == f"dat/snd/music.lua:{fog_line}"
    assert tracks["alarm.ogg"].source == f"dat/events/alarm_event.lua:{alarm_line}"
    assert tracks["skirmish.ogg"].title == "Skirmish"
    assert tracks["skirmish.ogg"].extra["license"] == "CC-by 3.0"  # from dat/snd/SOUND_LICENSE.yaml
    assert tracks["waves.ogg"].extra["license"] == "GPL-2+"  # from the Debian copyright file
    assert all(t.game == "naev" for t in tracks.values())


def test_naev_story_pairs_are_the_message_boxes_shown_while_a_loaded_track_plays() -> None:
    event = NAEV_DAT / "dat/events/alarm_event.lua"
    mission = NAEV_DAT / "dat/missions/patrol/patrol1.lua"
    assert summary(naev.story_pairs(NAEV)) == [
        ("The colonies went quiet one by one, and nobody on the old worlds could say why the signals stopped. "
         "Now a lone pilot wakes in a cold hangar, with a ship, a debt, and a map of empty stars.",
         ("opening.ogg",), "intro", "dat/intro:2"),
        ('"We lost two patrol boats in the harbour this week," the officer says, rubbing her eyes. "Fly one '
         'sweep around the moons and come back alive. That is all I ask."',
         ("harbour.ogg",), "", f"dat/missions/patrol/patrol1.lua:{line_of(mission, 'briefing = ')}"),
        ("Red lights sweep the docking bay as the station's sirens wail. A voice on the intercom orders every "
         "pilot to stay inside their ship until security has found the intruder.",
         ("alarm.ogg",), "", f"dat/events/alarm_event.lua:{line_of(event, 'text[1] = ')}"),
        # shown by the function hook.timer starts while "alarm" plays; the "%s, " (player's name) dropped
        ("you hear footsteps running past your hatch, then a single muffled shot, and after that only the hum "
         "of the reactor.",
         ("alarm.ogg",), "", f"dat/events/alarm_event.lua:{line_of(event, 'text[2] = ')}"),
    ]  # text[3] comes after music.stop(); text[4] is under 15 words


def test_naev_signs() -> None:
    tracks = by_name(naev.tracks(NAEV))
    assert track_signs(tracks["skirmish.ogg"]) == (0, 1)  # combat: arousal only since issue #21
    assert track_signs(tracks["quiet_stars.ogg"]) == (1, -1)  # ambient
    assert track_signs(tracks["loading.ogg"]) == (0, 0)


# --- flare ---------------------------------------------------------------------------------------------


def test_flare_tracks_get_menus_cutscenes_maps_events_and_name_labels() -> None:
    tracks = by_name(flare.tracks(FLARE))
    assert {n: t.situations for n, t in tracks.items()} == {
        "battle_theme.ogg": ("dungeon", "named_battle"),
        "boss_theme.ogg": ("boss", "named_boss"),
        "cave_theme.ogg": ("cave", "named_cave"),
        "odd_song.ogg": (),
        "title_theme.ogg": ("menu", "named_title"),
        "town_theme.ogg": ("named_town", "no_enemies"),  # the harbor places no enemies: no terrain label
        "wind_ambient.ogg": ("cutscene_backstory", "named_wind_ambient"),
    }
    cave = FLARE_DAT / "mods/camp/maps/ember_cave.txt"
    assert tracks["boss_theme.ogg"].source == f"mods/camp/maps/ember_cave.txt:{line_of(cave, 'boss_theme')}"
    assert tracks["cave_theme.ogg"].source == f"mods/camp/maps/ember_cave.txt:{line_of(cave, 'cave_theme')}"
    assert tracks["title_theme.ogg"].source == "mods/fantasycore/engine/default_music.txt:3"
    assert tracks["battle_theme.ogg"].extra["maps"] == ["mods/camp/maps/deep/fort.txt"]
    assert tracks["boss_theme.ogg"].extra["name_only"] == ["named_boss"]


def test_flare_story_pairs_are_dialogue_messages_books_and_captions_with_their_music() -> None:
    miner = FLARE_DAT / "mods/camp/npcs/miner.txt"
    cave = FLARE_DAT / "mods/camp/maps/ember_cave.txt"
    diary = FLARE_DAT / "mods/camp/books/diary.txt"
    assert summary(flare.story_pairs(FLARE)) == [
        ("The lanterns of the old valley went out one winter, and the river froze over the graves of the kings. "
         "Only the exiled still walk the valley roads, looking for a way home.",
         ("wind_ambient.ogg",), "cutscene_backstory", "mods/camp/cutscenes/backstory.txt:7"),
        # the NPC stands on two maps: both maps' music
        ("You came through the cave? Then you heard the golem breathing under the coals. I did. What is it? It "
         "guarded the kings' gold long before my grandfather dug the first tunnel here.",
         ("cave_theme.ogg", "town_theme.ogg"), "", f"mods/camp/npcs/miner.txt:{line_of(miner, 'You came')}"),
        ("Day forty. The walls will not hold another night, and the captain says we march at dawn whatever "
         "happens.",
         ("battle_theme.ogg",), "", f"mods/camp/books/diary.txt:{line_of(diary, 'Day forty')}"),
        ("Someone has scratched a warning into the rock: the golem sleeps under the embers, and it does not "
         "forgive thieves.",
         ("cave_theme.ogg",), "", f"mods/camp/maps/ember_cave.txt:{line_of(cave, 'Someone has')}"),
    ]  # the short dialogue and the ${INPUT_ATTACK} tutorial line are left out


def test_flare_signs() -> None:
    tracks = by_name(flare.tracks(FLARE))
    assert track_signs(tracks["battle_theme.ogg"]) == (-1, 1)  # a battle (arousal) played in dungeons (valence)
    assert track_signs(tracks["boss_theme.ogg"]) == (0, 1)  # a fight: arousal only since issue #21
    assert track_signs(tracks["town_theme.ogg"]) == (1, -1)
    assert track_signs(tracks["cave_theme.ogg"]) == (-1, 0)


# --- freedroidrpg --------------------------------------------------------------------------------------


def test_freedroid_tracks_get_level_fields_and_title_screens() -> None:
    tracks = by_name(freedroidrpg.tracks(FREEDROID))
    assert {n: t.situations for n, t in tracks.items()} == {
        "Bleostrada.ogg": ("controls", "start_of_game"),
        "Caves.ogg": ("level", "random_dungeon"),
        "HellFortressTwo.ogg": ("end_of_act", "game_lost"),
        "Lullaby.ogg": (),  # only the debug level and a translated title play it
        "Suspicion.ogg": ("arena", "level", "random_bots"),
        "TechBattle.ogg": ("level", "named_battle", "random_bots"),
        "menu.ogg": ("named_menu",),  # the empty_map template is not an act
        "town.ogg": ("infinite_running", "level", "named_town"),
    }
    levels = FREEDROID_DAT / "data/storyline/act1/levels.dat"
    assert tracks["town.ogg"].source == f"data/storyline/act1/levels.dat:{line_of(levels, 'BgSong=town.ogg')}"
    assert tracks["town.ogg"].extra["levels"] == ["act1/0: Town"]
    assert tracks["HellFortressTwo.ogg"].source == (
        "data/base/titles/GameLost.lua:2; data/storyline/act1/titles/EndOfAct.lua:3"
    )


def test_freedroid_story_pairs_are_story_titles_and_dialogue_nodes_of_placed_npcs() -> None:
    mara = FREEDROID_DAT / "data/storyline/act1/dialogs/Mara.lua"
    both = ("town.ogg", "TechBattle.ogg")  # Mara stands on levels 0 and 1
    assert summary(freedroidrpg.story_pairs(FREEDROID)) == [
        ("Game Lost The bots won this round. Everyone you knew in the town is gone, and nobody is left to "
         "remember your name. Click to continue.",
         ("HellFortressTwo.ogg",), "game_lost", "data/base/titles/GameLost.lua:2"),
        ("The sky over the town has been red for three days. The bots are coming closer, and I can hear them in "
         "the pipes. Wake up, Tux. Please. Dvorak, First AI",
         ("Bleostrada.ogg",), "start_of_game", "data/base/titles/StartOfGame.lua:6"),
        ("The town is safe, for now. The factory lies silent behind you and its bots are scrap. END OF ACT 1",
         ("HellFortressTwo.ogg",), "end_of_act", "data/storyline/act1/titles/EndOfAct.lua:3"),
        ("Another traveller through the gate? The bots took my brother last winter, and the lamps are all I "
         "have left to look after.",
         both, "", f"data/storyline/act1/dialogs/Mara.lua:{line_of(mara, 'Another traveller')}"),
        ("Can I help with the lamps? You already do. Every circuit you bring keeps one more street lit through "
         "the night.",
         both, "", f"data/storyline/act1/dialogs/Mara.lua:{line_of(mara, 'Can I help')}"),
        ("Maybe. Bring me ten circuits and I will believe you mean it. Ten circuits it is, then.",
         both, "", f"data/storyline/act1/dialogs/Mara.lua:{line_of(mara, 'Maybe.')}"),
    ]  # Controls is a help screen; greetings under 15 words, comments and base dialogues are left out


def test_freedroid_signs() -> None:
    tracks = by_name(freedroidrpg.tracks(FREEDROID))
    assert track_signs(tracks["TechBattle.ogg"]) == (-1, 1)
    assert track_signs(tracks["Suspicion.ogg"]) == (-1, 1)  # an arena
    assert track_signs(tracks["town.ogg"]) == (1, -1)
    assert track_signs(tracks["HellFortressTwo.ogg"]) == (0, 0)  # game lost and end of act disagree


# --- all three -----------------------------------------------------------------------------------------

MODULES = [(naev, NAEV), (flare, FLARE), (freedroidrpg, FREEDROID)]


@pytest.mark.parametrize(("module", "root"), MODULES, ids=[m.NAME for m, _ in MODULES])
def test_situation_tables_cover_every_situation_and_use_the_mood_vocabulary(module: ModuleType, root: Path) -> None:
    table = situations(module.NAME)
    returned = {s for t in module.tracks(root) for s in t.situations}
    returned |= {p.situation for p in module.story_pairs(root) if p.situation}
    assert returned <= set(table)
    for row in table.values():
        assert set(row.moods) <= set(MOOD_WORDS), row
        assert row.comment


@pytest.mark.parametrize(("module", "root"), MODULES, ids=[m.NAME for m, _ in MODULES])
def test_keep_globs_keep_every_file_the_loaders_read(module: ModuleType, root: Path, tmp_path: Path) -> None:
    assert module.NAME and module.PACKAGE and module.LICENSE and module.HOMEPAGE.startswith("https://")
    for pattern in module.KEEP:
        for path in root.glob(pattern):
            if path.is_file():
                target = tmp_path / path.relative_to(root)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
    full, kept = module.tracks(root), module.tracks(tmp_path)
    assert [(t.path.relative_to(root), t.situations, t.source) for t in full] == [
        (t.path.relative_to(tmp_path), t.situations, t.source) for t in kept
    ]
    assert [(p.text, p.source) for p in module.story_pairs(root)] == [
        (p.text, p.source) for p in module.story_pairs(tmp_path)
    ]


@pytest.mark.parametrize(("module", "root"), MODULES, ids=[m.NAME for m, _ in MODULES])
def test_a_missing_folder_gives_nothing(module: ModuleType, root: Path, tmp_path: Path) -> None:
    assert module.tracks(tmp_path) == []
    assert module.story_pairs(tmp_path) == []
