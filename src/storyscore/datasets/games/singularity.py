"""Endgame: Singularity: the ``singularity-music`` Debian package, labelled by its win/ and lose/ folders.

Credit: music by Max McCracken for Endgame: Singularity (EMH Software, https://emhsoft.com/singularity/),
CC-BY-SA-3.0 per the Debian copyright file. Cite as: Max McCracken, *Endgame: Singularity soundtrack*,
2007-2012, CC-BY-SA-3.0.

How the labels are read: the package installs ``usr/share/games/singularity/music/`` with two
sub-folders the game reserves, ``win/`` (played when the player wins) and ``lose/`` (played when the
player loses); the folder name is the situation (``win``, ``lose``). The other tracks sit at the top of
the folder, which the package README calls the soundtrack that is "played randomly": no situation, ``()``.
There is no narrative text in this package, so no story pairs.
"""

from __future__ import annotations

from pathlib import Path

from storyscore.datasets.games import GameTrack, StoryPair

NAME = "singularity"
PACKAGE = "singularity-music"
LICENSE = "CC-BY-SA-3.0"
HOMEPAGE = "https://emhsoft.com/singularity/"
MUSIC_DIR = "usr/share/games/singularity/music"
KEEP: tuple[str, ...] = (
    f"{MUSIC_DIR}/**/*.ogg",
    f"{MUSIC_DIR}/**/*.mp3",
    "usr/share/doc/singularity-music/README",
)
SITUATION_FOLDERS = ("win", "lose")


def tracks(root: Path) -> list[GameTrack]:
    music = Path(root) / MUSIC_DIR
    out: list[GameTrack] = []
    for path in sorted(p for p in music.rglob("*") if p.suffix.lower() in (".ogg", ".mp3") and p.is_file()):
        rel = path.relative_to(music)
        folder = rel.parts[0] if len(rel.parts) > 1 else ""
        situations = (folder,) if folder in SITUATION_FOLDERS else ()
        out.append(GameTrack(
            game=NAME, path=path, situations=situations, title=path.stem,
            source=f"{MUSIC_DIR}/{folder}/" if situations else "",
        ))
    return out


def story_pairs(root: Path) -> list[StoryPair]:
    return []
