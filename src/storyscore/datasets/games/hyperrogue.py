"""HyperRogue: the ``hyperrogue-music`` Debian package, labelled by the lands that play each track.

Credit: HyperRogue by Zeno Rogue (https://roguetemple.com/z/hyper/). Soundtrack CC-BY-SA-3.0 (stated in
``hyperrogue-music.txt``): Crossroads, Graveyard, Land of Eternal Motion, Hall of Mirrors, Hell, R'Lyeh,
Living Caves, Jungle, Desert and Icy Lands by Shawn Parrotte; Caribbean, Ivory Tower, Ocean and Palace by
Will Savino; Hunting Grounds and Lost Mountain by Lincoln Domina. (The Debian copyright file says GPL-2+
for the package as a whole.) Cite as: Zeno Rogue, *HyperRogue* 12.0, music by S. Parrotte, W. Savino and
L. Domina, CC-BY-SA-3.0.

How the labels are read: ``usr/share/hyperrogue/hyperrogue-music.txt`` is the game's own music table: a
comment line names a land (``# Desert [03]``) and the following ``[NN] */music/<file>.ogg`` lines say which
track that land plays. The land names are the situations (``Desert``, ``Hell``, ``Ocean``...); a comment
like ``# Terracotta (and Mercury River)`` names two lands, ``# ... 67-70 are Reflection lands`` names
``Reflection``, and lands marked ``(unused)`` or ``(useless)`` are skipped (the game never plays them).
The package says nothing about a land but its name, so the situation table gives every land 0 0.
No narrative text in this package, so no story pairs.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from storyscore.datasets.games import GameTrack, StoryPair

NAME = "hyperrogue"
PACKAGE = "hyperrogue-music"
LICENSE = "CC-BY-SA-3.0 (per hyperrogue-music.txt; the Debian copyright file lists GPL-2+ for the package)"
HOMEPAGE = "https://roguetemple.com/z/hyper/"
DATA_DIR = "usr/share/hyperrogue"
TABLE = f"{DATA_DIR}/hyperrogue-music.txt"
KEEP: tuple[str, ...] = (f"{DATA_DIR}/music/*.ogg", TABLE)

_MAPPING = re.compile(r"\[(\d+)\]\s+\S*/music/(\S+)")


def lands_from_comment(comment: str) -> list[str]:
    """The land names a comment line of hyperrogue-music.txt declares ([] when it declares none)."""
    text = comment.lstrip("#").strip()
    if re.search(r"\((unused|useless)\)", text):
        return []
    m = re.search(r"are (\w+) lands$", text)
    if m:
        return [m.group(1)]
    names = []
    also = re.search(r"\(and ([^)]+)\)", text)
    base = re.sub(r"\s*[\[(].*$", "", text).strip()
    if base and base[0].isupper() and "needs no music" not in base:
        names.append(base)
        if also:
            names.append(also.group(1).strip())
    return names


def land_table(root: Path) -> dict[str, list[tuple[str, int]]]:
    """track file name -> [(land, line of the mapping in hyperrogue-music.txt)]."""
    out: dict[str, list[tuple[str, int]]] = defaultdict(list)
    path = Path(root) / TABLE
    if not path.is_file():
        return out
    current: list[str] = []
    for n, raw in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        line = raw.strip()
        if line.startswith("#"):
            current = lands_from_comment(line)
            continue
        m = _MAPPING.match(line)
        if m:
            for land in current:
                if all(land != x for x, _ in out[m.group(2)]):
                    out[m.group(2)].append((land, n))
    return out


def tracks(root: Path) -> list[GameTrack]:
    root = Path(root)
    lands = land_table(root)
    out: list[GameTrack] = []
    for path in sorted((root / DATA_DIR / "music").glob("*.ogg")):
        entries = lands.get(path.name, [])
        source = f"{TABLE}:" + ",".join(str(n) for _, n in entries) if entries else ""
        out.append(GameTrack(game=NAME, path=path, situations=tuple(x for x, _ in entries), title=path.stem,
                             source=source))
    return out


def story_pairs(root: Path) -> list[StoryPair]:
    return []
