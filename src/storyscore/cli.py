"""The command line: a thin layer over the Python API. Heavy imports happen inside commands, so
`storyscore --help` answers at once."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from storyscore import __version__
from storyscore.errors import InputError, StoryscoreError


def _db(args: argparse.Namespace) -> Path:
    from storyscore.paths import default_db

    return Path(args.db).expanduser() if args.db else default_db()


def _err(message: str) -> None:
    print(f"storyscore: error: {message}", file=sys.stderr)


class _Progress:
    """A rich progress bar on stderr when it is a terminal; plain periodic lines otherwise."""

    def __init__(self, label: str, quiet: bool = False) -> None:
        self.label = label
        self.quiet = quiet
        self._bar = None
        self._task = None
        self._last_line = -1

    def __enter__(self) -> _Progress:
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
            print(f"{self.label}: {done}/{total}", file=sys.stderr)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


def cmd_index(args: argparse.Namespace) -> int:
    from storyscore.index import index_paths

    db = _db(args)
    with _Progress("indexing", args.quiet) as progress:
        report = index_paths(args.paths, db, rebuild=args.rebuild, progress=progress)
    for path, reason in report.skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    print(report.summary())
    if report.interrupted:
        print("interrupted: what was indexed is stored; run the same command again to continue", file=sys.stderr)
        return 130
    return 0 if report.usable else 1


def _read_query(args: argparse.Namespace) -> tuple[str, str]:
    if args.text is not None:
        return args.text, "--text"
    source = args.file or "-"
    if source == "-":
        if sys.stdin.isatty():
            raise InputError("give a text file, '-' with text on standard input, or --text '...'")
    from storyscore.plan.reader import read_story

    story = read_story(source)
    return story.text, source


def cmd_match(args: argparse.Namespace) -> int:
    from storyscore.search import Matcher, check_query

    text, source = _read_query(args)
    text = check_query(text, source)
    with Matcher(_db(args), args.space) as matcher:
        emotion, results = matcher.match(text, args.top)
        space = matcher.space_name
    if args.json:
        out = {"space": space,
               "passage": {"valence": emotion.valence, "arousal": emotion.arousal, "moods": list(emotion.moods)},
               "results": [r.to_json() for r in results]}
        print(json.dumps(out, indent=2))
        return 0
    print(f"passage: {', '.join(emotion.moods)} (valence {emotion.valence:+.2f}, arousal {emotion.arousal:+.2f}); "
          f"space {space}")
    for rank, r in enumerate(results, 1):
        print(f"{rank:2d}. {r.score:+.3f}  {r.path}")
        print(f"      moods: {', '.join(r.moods)}; {r.why}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from storyscore.store import PIPELINE_VERSION, Store

    db = _db(args)
    print(f"storyscore {__version__}, pipeline {PIPELINE_VERSION}")
    print(f"library: {db}")
    if not db.exists():
        print("  (empty: run `storyscore index DIR`)")
        return 0
    with Store(db, create=False) as store:
        meta = store.meta()
        tracks = store.tracks()
        print(f"  built by {meta.get('pipeline_version')} on {meta.get('created')}")
        hours = sum(t.duration for t in tracks) / 3600
        print(f"  {len(tracks)} tracks, {hours:.2f} h of audio; {len(store.skipped())} files skipped")
        if args.tracks:
            for t in tracks:
                print(f"  V {t.valence:+.2f} A {t.arousal:+.2f}  {', '.join(t.moods):32s} {t.path}")
        if args.skipped:
            for path, reason in store.skipped():
                print(f"  skipped {path}: {reason}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="storyscore",
        description="Find music whose emotion fits a story, offline, on a CPU.",
    )
    parser.add_argument("--version", action="version", version=f"storyscore {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--db", help="library file (default: $STORYSCORE_DB or the per-user data folder)")
        return p

    p = with_db(sub.add_parser("index", help="add or update the audio files under folders"))
    p.add_argument("paths", nargs="+", help="folders or files to index")
    p.add_argument("--rebuild", action="store_true", help="rebuild a library made by another pipeline version")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_index)

    p = with_db(sub.add_parser("match", help="tracks that fit a passage, with reasons"))
    p.add_argument("file", nargs="?", help="text file (.txt, .md, .epub) or '-' for standard input")
    p.add_argument("--text", help="the passage itself, instead of a file")
    p.add_argument("--top", type=int, default=10, help="how many tracks (default 10)")
    p.add_argument("--space", default="fused", help="emotion space: fused (default), va, tagwords")
    p.add_argument("--json", action="store_true", help="print one JSON object (see README)")
    p.set_defaults(func=cmd_match)

    p = with_db(sub.add_parser("info", help="what the library holds"))
    p.add_argument("--tracks", action="store_true", help="list every track with its reading")
    p.add_argument("--skipped", action="store_true", help="list skipped files with reasons")
    p.set_defaults(func=cmd_info)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    if getattr(args, "top", 1) is not None and getattr(args, "top", 1) < 1:
        _err("--top must be at least 1")
        return 2
    try:
        return int(args.func(args))
    except StoryscoreError as exc:
        _err(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
