"""What the commands share: the library option, the space options, progress on stderr, one-line errors."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from storyscore import api


def add_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--db", help="library file (default: $STORYSCORE_DB or the per-user data folder)")
    return p


def add_space(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--space", default=api.DEFAULT_SPACE, help="emotion space: fused (default), va, tagwords")
    p.add_argument("--model", help="a space trained with `storyscore train` (instead of --space)")
    return p


def add_filters(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """--artist/--album/--genre/--where: which tracks may be chosen, by their file tags."""
    for field in ("artist", "album", "genre"):
        p.add_argument(f"--{field}", help=f"only tracks whose {field} tag contains this (any case)")
    p.add_argument("--where", action="append", metavar="FIELD=TEXT", help="only tracks whose tag FIELD (title, "
                   "artist, album, genre) contains TEXT; FIELD!=TEXT excludes; repeat to combine")
    return p


def track_filter(args: argparse.Namespace) -> Any:  # -> library.store.TrackFilter | None
    from storyscore.library.store import TrackFilter

    return TrackFilter.parse(getattr(args, "where", None), artist=getattr(args, "artist", None),
                             album=getattr(args, "album", None), genre=getattr(args, "genre", None))


def add_quiet(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    return p


def db_path(args: argparse.Namespace) -> Path:
    return api.library_path(args.db)


def chosen_space(args: argparse.Namespace) -> Any:  # str | EmotionSpace
    return api.resolve_space(args.space, getattr(args, "model", None))


def embedding_progress(space: Any, quiet: bool) -> Progress:
    """Progress while a trained space whose music branch reads audio embeds the library on first use."""
    return Progress(f"embedding the library in {getattr(space, 'name', space)}", quiet)


def open_matcher(args: argparse.Namespace) -> Any:  # -> library.search.Matcher
    """The library opened in the chosen space, with progress while a trained space embeds it; files it
    cannot read are reported, not fatal."""
    space = chosen_space(args)
    where = track_filter(args)
    with embedding_progress(space, getattr(args, "quiet", False)) as progress:
        matcher = api.open_matcher(args.db, space, progress=progress, where=where)
    for path, reason in matcher.skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    return matcher


def err(message: str) -> None:
    print(f"storyscore: error: {message}", file=sys.stderr)


class Progress:
    """A rich progress bar on stderr when it is a terminal; plain periodic lines otherwise."""

    def __init__(self, label: str, quiet: bool = False) -> None:
        self.label = label
        self.quiet = quiet
        self._bar: Any = None
        self._task: Any = None
        self._last_line = -1
        self._first: tuple[int, float] | None = None  # (done, when) at the first step, for the ETA

    def __enter__(self) -> Progress:
        if not self.quiet and sys.stderr.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeRemainingColumn(), TextColumn("{task.fields[name]}"), transient=True)
            self._bar.__enter__()
            self._task = self._bar.add_task(self.label, total=None, name="")
        return self

    def __call__(self, done: int, total: int, current: str) -> None:
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.update(self._task, completed=done, total=total, name=Path(current).name[:40])
        elif total and (done == total or done // max(1, total // 10) != self._last_line):
            self._last_line = done // max(1, total // 10)
            print(f"{self.label}: {done}/{total}{self._eta(done, total)}", file=sys.stderr)

    def _eta(self, done: int, total: int) -> str:
        """', about N min left' from the pace since the first step counted (the rich bar has its own)."""
        now = time.monotonic()
        if self._first is None or done < self._first[0]:
            self._first = (done, now)
            return ""
        first_done, first_time = self._first
        if done >= total or done == first_done:
            return ""
        left = (now - first_time) / (done - first_done) * (total - done)
        return f", about {left:.0f} s left" if left < 90 else f", about {left / 60:.0f} min left"

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
