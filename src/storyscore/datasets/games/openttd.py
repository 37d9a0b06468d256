"""OpenTTD: the OpenMSX base music set (``openttd-openmsx``), MIDI rendered to audio at fetch time.

Credit: OpenMSX 0.4.2, the OpenTTD community (https://github.com/OpenTTD/OpenMSX; composers listed in its
``readme.txt``, e.g. Redfarn, IMUH3), GPL-2 per the Debian copyright file. Cite as: *OpenMSX* 0.4.2,
base music set for OpenTTD (https://www.openttd.org/), 2010-2021.

The package holds only MIDI files. ``benchmarks/fetch_corpus.py`` renders each ``.mid`` matched by
:data:`RENDER_MIDI` to an ``.ogg`` beside it (same name) with storyscore's own General-MIDI renderer
(``midirenderer`` with the TimGM6mb soundfont, see :mod:`storyscore.demo.synth`), cut to
:data:`MAX_RENDER_SECONDS`; :func:`tracks` returns those ``.ogg`` files (a ``.mid`` not rendered yet is
skipped). The rendering is ours, the composition is OpenMSX's: timbre and mix say nothing about the
game's intent.

How the labels are read: ``openmsx.obm`` ``[files]`` assigns each song to a slot: ``theme`` (the set's
theme, which OpenTTD plays on its title screen, the "theme only" playlist of the main menu) and
``old_0``-``old_9``, ``new_0``-``new_9``, ``ezy_0``-``ezy_9`` (the jukebox playlists "Old Style",
"New Style" and "Ezy Street"). Only ``theme`` names where the game plays a song: situation ``theme``;
the playlist slots are styles, not situations, so those tracks get ``()`` (the slot and the playlist are
kept in ``extra``). ``[names]`` gives the titles. No narrative text, so no story pairs.
"""

from __future__ import annotations

import configparser
from pathlib import Path

from storyscore.datasets.games import GameTrack, StoryPair

NAME = "openttd"
PACKAGE = "openttd-openmsx"
LICENSE = "GPL-2"
HOMEPAGE = "https://github.com/OpenTTD/OpenMSX"
SET_DIR = "usr/share/games/openttd/baseset/openmsx"
OBM = f"{SET_DIR}/openmsx.obm"
KEEP: tuple[str, ...] = (f"{SET_DIR}/*.mid", OBM, "usr/share/doc/openttd-openmsx/readme.txt.gz")
RENDER_MIDI: tuple[str, ...] = (f"{SET_DIR}/*.mid",)
MAX_RENDER_SECONDS = 240.0
PLAYLISTS = {"theme": "theme", "old": "Old Style", "new": "New Style", "ezy": "Ezy Street"}


def rendered(midi: Path) -> Path:
    """Where the fetch script writes the audio of a MIDI file."""
    return midi.with_suffix(".ogg")


def read_obm(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(slot -> midi file name, midi file name -> title) from an OpenTTD ``.obm`` music set file."""
    cfg = configparser.ConfigParser(interpolation=None, strict=False)
    cfg.optionxform = str  # type: ignore[assignment,method-assign]  # keep key case (file names)
    cfg.read_string(path.read_text(encoding="utf-8", errors="replace"))
    files = {k: v.strip() for k, v in cfg["files"].items()} if cfg.has_section("files") else {}
    names = {k: v.strip() for k, v in cfg["names"].items()} if cfg.has_section("names") else {}
    return files, names


def tracks(root: Path) -> list[GameTrack]:
    root = Path(root)
    folder = root / SET_DIR
    obm = root / OBM
    files, names = read_obm(obm) if obm.is_file() else ({}, {})
    slot_of = {midi: slot for slot, midi in files.items() if midi}
    out: list[GameTrack] = []
    for midi in sorted(folder.glob("*.mid")):
        audio = rendered(midi)
        if not audio.is_file():
            continue
        slot = slot_of.get(midi.name, "")
        out.append(GameTrack(
            game=NAME, path=audio, situations=("theme",) if slot == "theme" else (),
            title=names.get(midi.name, midi.stem), source=f"{OBM} [files] {slot}" if slot else "",
            extra={"slot": slot, "playlist": PLAYLISTS.get(slot.split("_")[0], "") if slot else "",
                   "midi": midi.relative_to(root).as_posix()},
        ))
    return out


def story_pairs(root: Path) -> list[StoryPair]:
    return []
