"""Warzone 2100: the ``warzone2100-music`` Debian package, labelled by its albums' ``album.json``.

Credit: Warzone 2100 (Pumpkin Studios / Eidos 1999; the Warzone 2100 Project, https://wz2100.net/).
"Warzone 2100 OST" and ``menu.opus`` by Martin Severn (GPL-2+ per the Debian copyright file); "Legacy
Soundtrack" (2020) and "Aftermath Soundtrack" (2021) by LupusMechanicus (CC-BY-SA-3.0 or GPL-2+, per
each album's ``license.txt``; ``track3_enhanced`` is GPL-2+). Cite as: the Warzone 2100 Project,
*Warzone 2100* 4.3.3, music by Martin Severn and LupusMechanicus.

How the labels are read: ``music/albums/<album>/album.json`` lists each track with its
``default_music_modes``, the game modes whose playlist includes the track by default (``campaign``,
``challenge``, ``skirmish``, ``multiplayer``): those are the situations. ``bpm`` is kept in
``extra["bpm"]`` (most tracks say 80, which looks like a default rather than a measurement), plus the
album title and ``base_volume``. ``music/menu.opus`` is in no album; the game plays it on the main menu
(its name): situation ``menu``. There is no narrative text in this package, so no story pairs.
"""

from __future__ import annotations

import json
from pathlib import Path

from storyscore.datasets.games import GameTrack, StoryPair

NAME = "warzone2100"
PACKAGE = "warzone2100-music"
LICENSE = "GPL-2+ (Warzone 2100 OST, menu.opus); CC-BY-SA-3.0 or GPL-2+ (Legacy and Aftermath soundtracks)"
HOMEPAGE = "https://wz2100.net/"
MUSIC_DIR = "usr/share/games/warzone2100/music"
KEEP: tuple[str, ...] = (
    f"{MUSIC_DIR}/*.opus",
    f"{MUSIC_DIR}/albums/*/*.opus",
    f"{MUSIC_DIR}/albums/*/*.ogg",
    f"{MUSIC_DIR}/albums/*/album.json",
    f"{MUSIC_DIR}/albums/*/license.txt",
)
AUDIO = (".opus", ".ogg")


def tracks(root: Path) -> list[GameTrack]:
    music = Path(root) / MUSIC_DIR
    meta: dict[Path, GameTrack] = {}
    for album in sorted(music.glob("albums/*/album.json")):
        data = json.loads(album.read_text(encoding="utf-8"))
        rel = album.relative_to(root).as_posix()
        for t in data.get("tracks", []):
            path = album.parent / t["filename"]
            extra = {"album": data.get("title", ""), "author": t.get("author", data.get("author", ""))}
            if t.get("bpm") is not None:
                extra["bpm"] = float(t["bpm"])
            if t.get("base_volume") is not None:
                extra["base_volume"] = t["base_volume"]
            meta[path] = GameTrack(
                game=NAME, path=path, situations=tuple(dict.fromkeys(t.get("default_music_modes", []))),
                title=t.get("title", path.stem), source=rel, extra=extra,
            )
    out: list[GameTrack] = []
    for path in sorted(p for p in music.rglob("*") if p.suffix.lower() in AUDIO and p.is_file()):
        if path in meta:
            out.append(meta[path])
        elif path.parent == music and path.stem == "menu":
            out.append(GameTrack(game=NAME, path=path, situations=("menu",), title="menu",
                                 source=f"{MUSIC_DIR}/menu.opus (file name)"))
        else:
            out.append(GameTrack(game=NAME, path=path, title=path.stem))
    return out


def story_pairs(root: Path) -> list[StoryPair]:
    return []
