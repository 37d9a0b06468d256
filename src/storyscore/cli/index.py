"""`storyscore index DIR...`: add or update the audio files under folders."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from storyscore import api
from storyscore.cli._common import Progress, add_db, add_quiet
from storyscore.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_db(sub.add_parser("index", help="add or update the audio files under folders"))
    p.add_argument("paths", nargs="*", metavar="PATH", help="folders or files to index")
    p.add_argument("--rebuild", action="store_true", help="rebuild a library made by another pipeline version")
    p.add_argument("--workers", type=int, metavar="N", help="files analysed at once (default: one per core, "
                   "at most 4); with --ray, the analysis actors")
    p.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                   help="decode and analyse on Ray (the `ray` extra): a local Ray started here, or the cluster at "
                   "ADDRESS (ray://HOST:10001, HOST:6379 or auto); the files must be at the same paths there")
    add_quiet(p)
    p.set_defaults(func=run)


def ray_address(value: str) -> bool:
    """Whether what followed --ray is a Ray address rather than the first folder to index."""
    return value == "auto" or "://" in value or (re.fullmatch(r"[\w.-]+:\d+", value) is not None
                                                 and not Path(value).exists())


def run(args: argparse.Namespace) -> int:
    paths = list(args.paths)
    if args.ray and not ray_address(args.ray):  # `--ray DIR`: the folder, not an address
        paths.insert(0, args.ray)
        args.ray = ""
    if not paths:
        raise InputError("index: give the folders or files to index")
    with Progress("indexing", args.quiet) as progress:
        report = api.index(*paths, db=args.db, rebuild=args.rebuild, progress=progress, workers=args.workers,
                           ray=args.ray)
    from storyscore.audio.decode import FFMPEG_MISSING

    for path, reason in report.skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    for path, problem in report.tag_problems:
        print(f"tags of {path}: {problem}", file=sys.stderr)
    need_ffmpeg = sum(FFMPEG_MISSING in reason for _, reason in report.skipped)
    if need_ffmpeg:
        print(f"{need_ffmpeg} files need ffmpeg: install it (e.g. `apt-get install ffmpeg`) and index again",
              file=sys.stderr)
    print(report.summary())
    if report.interrupted:
        print("interrupted: what was indexed is stored; run the same command again to continue", file=sys.stderr)
        return 130
    return 0 if report.usable else 1
