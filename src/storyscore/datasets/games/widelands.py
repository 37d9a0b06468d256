"""Widelands: the soundtrack of the ``widelands-data`` Debian package, labelled by the game's song sets.

Credit: Widelands 1.1, the Widelands Development Team (https://www.widelands.org/); musicians credited in
``data/txts/developers.lua``: Kristian, MiddleFinger, Valerio Orlandini, Barry van Oudtshoorn, Jan Bruns,
Nikola Whallon, Joshua O'Leary, Klaus Halfmann, Stuart Marshall. GPL-2+ per the Debian copyright file,
except ``data/music/ingame_24.ogg``-``ingame_26.ogg`` (Stuart Marshall, CC-BY-SA-3.0). Cite as: the
Widelands Development Team, *Widelands* 1.1, 2023.

How the labels are read: the engine registers three song sets from ``data/music`` at start-up
(``register_songs("music", "intro")``, ``"menu"``, ``"ingame"`` in its ``wlapplication.cc``), a file
belonging to the set its name starts with: ``data/music/intro.ogg`` (the ``intro`` set, the splash
screen), ``menu.ogg`` (the ``menu`` set, the main menu) and ``ingame_NN.ogg`` (the ``ingame`` set,
shuffled during a game; per the package ChangeLog also in the network setup and internet lobby). The set name is the situation. No
campaign or scenario script of 1.1 changes the music (no Lua file under ``data/`` mentions music), so
there are no story pairs.
"""

from __future__ import annotations

import re
from pathlib import Path

from storyscore.datasets.games import GameTrack, StoryPair

NAME = "widelands"
PACKAGE = "widelands-data"
LICENSE = "GPL-2+ (ingame_24-26.ogg: CC-BY-SA-3.0, Stuart Marshall)"
HOMEPAGE = "https://www.widelands.org/"
GAME_DIR = "usr/share/games/widelands"
MUSIC_DIR = f"{GAME_DIR}/data/music"
KEEP: tuple[str, ...] = (f"{MUSIC_DIR}/*.ogg", f"{GAME_DIR}/ChangeLog", f"{GAME_DIR}/data/txts/developers.lua")

_SET = re.compile(r"^(?P<set>[a-z]+?)(?:_?\d+)?$")


def song_set(stem: str) -> str:
    """``ingame_07`` -> ``ingame``; ``menu`` -> ``menu``."""
    m = _SET.match(stem.lower())
    return m.group("set") if m else stem.lower()


def tracks(root: Path) -> list[GameTrack]:
    music = Path(root) / MUSIC_DIR
    return [
        GameTrack(game=NAME, path=p, situations=(song_set(p.stem),), title=p.stem,
                  source=f"{MUSIC_DIR}/{p.name} (song set from the file name)")
        for p in sorted(music.glob("*.ogg"))
    ]


def story_pairs(root: Path) -> list[StoryPair]:
    return []
