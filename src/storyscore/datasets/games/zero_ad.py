"""0 A.D. (Wildfire Games): the soundtrack of the ``0ad-data`` Debian package, labelled by the game's music states.

Credit: 0 A.D., Wildfire Games, https://play0ad.com/ -- music by Omri Lahav (lead composer), Allan Brown,
Sam Gossner, Boris Hansen and others (``gui/credits/texts/audio.json``); CC-BY-SA-3.0 per the Debian
copyright file. Cite as: Wildfire Games, *0 A.D.* (release A26), 2022, music CC-BY-SA-3.0.

Where the files are: everything sits inside ``usr/share/games/0ad/mods/public/public.zip`` in the .deb
(:data:`ARCHIVE`); :data:`KEEP` is relative to the inside of that zip, and ``benchmarks/fetch_corpus.py``
extracts only those members.

How the labels are read (nothing is guessed):

- ``gui/common/music.js`` defines the game's music states (``MENU``, ``PEACE``, ``BATTLE``, ``VICTORY``,
  ``DEFEAT``, ``CUSTOM``) and the default playlist of each (``Music.prototype.DEFAULT_<STATE>_TRACKS``):
  the main menu and lobby play MENU, a match starts in PEACE and switches to BATTLE when the simulation's
  battle detection says so, and the end of a match plays VICTORY or DEFEAT (``gui/session/session.js``).
- ``simulation/data/civs/<civ>.json`` ``"Music": [{"File": ..., "Type": "peace"}, ...]`` replaces the
  defaults of a state with the civilisation's own tracks while one plays that civilisation
  (``Music.storeTracks``); the ``Type`` is the state's name. The civilisations are kept in
  ``extra["civs"]``.
- A track's situations are the lower-case state names it is listed under (``menu``, ``peace``,
  ``battle``, ``victory``, ``defeat``); a track in no list (e.g. ``0_8Bit_Bonus_Track.ogg``) gets ``()``.
  No map or trigger script of A26 names a track (checked: ``maps/`` has no music reference; the only
  other path is the ``play-tracks`` cheat), so there are no story pairs.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

from storyscore.datasets.games import GameTrack, StoryPair

NAME = "zero_ad"
PACKAGE = "0ad-data"
LICENSE = "CC-BY-SA-3.0"
HOMEPAGE = "https://play0ad.com/"
ARCHIVE = "usr/share/games/0ad/mods/public/public.zip"
KEEP: tuple[str, ...] = (
    "audio/music/*.ogg",
    "simulation/data/civs/*.json",
    "gui/common/music.js",
    "gui/credits/texts/audio.json",
)

MUSIC_DIR = "audio/music"
MUSIC_JS = "gui/common/music.js"
CIVS_DIR = "simulation/data/civs"

_DEFAULTS = re.compile(r"DEFAULT_([A-Z]+)_TRACKS\s*=(.*?);", re.S)


def _default_tracks(root: Path) -> dict[str, list[tuple[str, str]]]:
    """file name -> [(state, "gui/common/music.js:LINE")] from the DEFAULT_<STATE>_TRACKS lists."""
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    js = root / MUSIC_JS
    if not js.is_file():
        return out
    src = js.read_text(encoding="utf-8")
    for m in _DEFAULTS.finditer(src):
        line = src.count("\n", 0, m.start()) + 1
        for f in re.findall(r'"([^"]+\.ogg)"', m.group(2)):
            out[f].append((m.group(1).lower(), f"{MUSIC_JS}:{line}"))
    return out


def _civ_tracks(root: Path) -> dict[str, list[tuple[str, str, str]]]:
    """file name -> [(state, civ, source file)] from the civilisations' Music lists."""
    out: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for civ in sorted((root / CIVS_DIR).glob("*.json")):
        data = json.loads(civ.read_text(encoding="utf-8"))
        for m in data.get("Music") or []:
            out[str(m["File"])].append((str(m["Type"]).lower(), civ.stem, f"{CIVS_DIR}/{civ.name}"))
    return out


def tracks(root: Path) -> list[GameTrack]:
    root = Path(root)
    defaults = _default_tracks(root)
    civs = _civ_tracks(root)
    out: list[GameTrack] = []
    for path in sorted((root / MUSIC_DIR).glob("*.ogg")):
        states: list[str] = []
        sources: list[str] = []
        for state, src in defaults.get(path.name, []):
            states.append(state)
            sources.append(src)
        civ_names: list[str] = []
        for state, civ, src in civs.get(path.name, []):
            states.append(state)
            civ_names.append(civ)
            sources.append(src)
        out.append(GameTrack(
            game=NAME, path=path, situations=tuple(dict.fromkeys(states)), title=path.stem.replace("_", " "),
            source="; ".join(dict.fromkeys(sources)), extra={"civs": sorted(set(civ_names))},
        ))
    return out


def story_pairs(root: Path) -> list[StoryPair]:
    return []
