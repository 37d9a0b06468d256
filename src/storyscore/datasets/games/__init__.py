"""Outside-labelled game music: soundtracks from Debian game packages, labelled by the games' own files.

One module per game (mirdata's layout): each names its Debian package, licence and homepage, the files to
keep from the package, and reads from those files which game situations play each track (battle, peace,
victory, a town, a boss fight, ...). How a situation maps to an emotion is data, one CSV per game beside
this module (``situations/<game>.csv``: ``situation,valence,arousal,moods,comment``; valence and arousal
are -1, 0 or +1, the sign the situation implies on that axis; 0 = the situation says nothing about it).

Where a game's scripts pair narrative text (mission briefings, dialogue, map descriptions) with the music
they play, the module also returns those pairs as :class:`StoryPair` (a story→music retrieval test).

The labels come from the games, never from us: a track's situations are the game's own names for where it
plays; only the situation→emotion mapping is our judgement, written down per row with the reason.

Contract (tests/test_game_corpus.py enforces it for every module in :data:`GAMES`):

- ``NAME`` (str, the module's short name), ``PACKAGE`` (Debian package), ``LICENSE`` (of the music),
  ``HOMEPAGE`` (str), ``KEEP`` (tuple of glob patterns, relative to the package's root, of the files
  ``benchmarks/fetch_corpus.py`` keeps: the music and the label files);
- ``tracks(root: Path) -> list[GameTrack]``: every music track under ``root`` (the folder the fetch
  script extracted the package into), with its situations;
- ``story_pairs(root: Path) -> list[StoryPair]`` (may return ``[]``);
- a ``situations/<NAME>.csv`` covering every situation ``tracks`` can return.
"""

from __future__ import annotations

import csv
import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType

from storyscore.datasets.base import DatasetError

GAMES: tuple[str, ...] = (
    "zero_ad", "naev", "flare", "freedroidrpg", "widelands", "megaglest", "supertuxkart",
    "singularity", "warzone2100", "hyperrogue", "openttd",
)
SITUATIONS_DIR = Path(__file__).parent / "situations"


@dataclass(frozen=True)
class GameTrack:
    """One music file of a game and the situations the game's files play it in."""

    game: str
    path: Path
    situations: tuple[str, ...] = ()
    title: str = ""
    source: str = ""  # which file(s) of the game gave the situations, e.g. "dat/snd/music.lua:42"
    extra: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class StoryPair:
    """A narrative text of a game and the music the game plays with it."""

    game: str
    text: str
    tracks: tuple[Path, ...]  # the music the game's scripts play with this text (one or more)
    situation: str = ""  # the situation of the scene, when the game says (e.g. "combat")
    source: str = ""  # "file:line" of the text


@dataclass(frozen=True)
class Situation:
    game: str
    name: str
    valence: int  # -1, 0, +1
    arousal: int  # -1, 0, +1
    moods: tuple[str, ...]
    comment: str


def game_module(name: str) -> ModuleType:
    if name not in GAMES:
        raise DatasetError(f"unknown game {name!r} (one of {', '.join(GAMES)})")
    return importlib.import_module(f"storyscore.datasets.games.{name}")


@cache
def situations(game: str) -> dict[str, Situation]:
    """The situation → emotion table of one game, from ``situations/<game>.csv``."""
    path = SITUATIONS_DIR / f"{game}.csv"
    if not path.is_file():
        raise DatasetError(f"{path}: missing situation table for {game}")
    out: dict[str, Situation] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            try:
                v, a = int(row["valence"]), int(row["arousal"])
            except (KeyError, TypeError, ValueError):
                raise DatasetError(f"{path}:{line}: valence and arousal must be -1, 0 or 1") from None
            if v not in (-1, 0, 1) or a not in (-1, 0, 1):
                raise DatasetError(f"{path}:{line}: valence and arousal must be -1, 0 or 1")
            if not (row.get("comment") or "").strip():
                raise DatasetError(f"{path}:{line}: every row needs a comment saying why")
            name = row["situation"].strip()
            if name in out:
                raise DatasetError(f"{path}:{line}: situation {name!r} twice")
            moods = tuple(m for m in (row.get("moods") or "").split() if m)
            out[name] = Situation(game, name, v, a, moods, row["comment"].strip())
    return out


def track_signs(track: GameTrack) -> tuple[int, int]:
    """A track's (valence, arousal) sign: the sign its situations agree on, 0 where they disagree or are
    silent (a track played both in battle and in peace says nothing about arousal)."""
    table = situations(track.game)
    signs = []
    for axis in (0, 1):
        values = {(table[s].valence, table[s].arousal)[axis] for s in track.situations if s in table}
        values.discard(0)
        signs.append(values.pop() if len(values) == 1 else 0)
    return signs[0], signs[1]


def unique_pairs(pairs: list[StoryPair]) -> list[StoryPair]:
    """The first of each (text, tracks): a line repeated in two branches, events or scenarios counts once,
    so it does not weigh twice in the retrieval test."""
    seen: set[tuple[str, tuple[Path, ...]]] = set()
    out: list[StoryPair] = []
    for p in pairs:
        if (p.text, p.tracks) not in seen:
            seen.add((p.text, p.tracks))
            out.append(p)
    return out


def _fetched(root: str | Path, games: tuple[str, ...]) -> Iterator[tuple[ModuleType, Path]]:
    """(module, folder) of each game whose folder ``root/<NAME>`` exists: games not fetched are skipped."""
    root = Path(root)
    for name in games:
        folder = root / name
        if folder.is_dir():
            yield game_module(name), folder


def load_tracks(root: str | Path, games: tuple[str, ...] = GAMES) -> list[GameTrack]:
    """Every track of every game whose folder ``root/<NAME>`` exists (games not fetched are skipped)."""
    return [t for module, folder in _fetched(root, games) for t in module.tracks(folder)]


def load_story_pairs(root: str | Path, games: tuple[str, ...] = GAMES) -> list[StoryPair]:
    """Every story pair of every game whose folder ``root/<NAME>`` exists (games not fetched are skipped)."""
    return [p for module, folder in _fetched(root, games) for p in module.story_pairs(folder)]


__all__ = [
    "GAMES", "GameTrack", "Situation", "StoryPair", "game_module", "load_story_pairs", "load_tracks",
    "situations", "track_signs", "unique_pairs",
]
