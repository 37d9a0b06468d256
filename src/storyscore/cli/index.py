"""`storyscore index DIR...`: add or update the audio files under folders."""

from __future__ import annotations

import argparse
import sys

from storyscore import api
from storyscore.cli._common import Progress, add_db, add_quiet


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_db(sub.add_parser("index", help="add or update the audio files under folders"))
    p.add_argument("paths", nargs="+", help="folders or files to index")
    p.add_argument("--rebuild", action="store_true", help="rebuild a library made by another pipeline version")
    add_quiet(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with Progress("indexing", args.quiet) as progress:
        report = api.index(*args.paths, db=args.db, rebuild=args.rebuild, progress=progress)
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
