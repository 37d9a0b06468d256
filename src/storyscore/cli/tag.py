"""`storyscore tag [PATH...] [--write] [--json]`: put the library's readings into the files' own tags.

A dry run unless --write: it says which tag of which file would change (mood words into the container's
MOOD field, the tempo into its BPM field when the file has none, valence/arousal into STORYSCORE_VALENCE /
STORYSCORE_AROUSAL). Only tag blocks are rewritten, never audio.
"""

from __future__ import annotations

import argparse
import json
import sys

from storyscore import api
from storyscore.cli._common import add_db, add_filters, track_filter


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_db(sub.add_parser("tag", help="write the readings (moods, valence/arousal, BPM) into the files' tags"))
    p.add_argument("paths", nargs="*", help="only the indexed files under these folders or files (default: all)")
    p.add_argument("--write", action="store_true", help="write the tags (without it: a dry run that only reports)")
    add_filters(p)
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(func=run)


def _values(values: list[str] | None) -> str:
    return "; ".join(values) if values else "(none)"


def run(args: argparse.Namespace) -> int:
    report = api.tag(*args.paths, db=args.db, write=args.write, where=track_filter(args))
    for error in report["errors"]:
        print(f"skipped {error['path']}: {error['error']}", file=sys.stderr)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        verb = "set" if args.write else "would set"
        for file in report["files"]:
            for change in file["changes"]:
                print(f"{file['path']}: {verb} {change['key']} {_values(change['old'])} -> {_values(change['new'])}")
        if args.write:
            print(f"{_files(report['written'])} written, {len(report['files']) - report['changed']} already up "
                  f"to date, {len(report['errors'])} skipped")
        else:
            print(f"dry run: {_files(report['changed'])} would change, {len(report['files']) - report['changed']} "
                  f"already up to date, {len(report['errors'])} skipped; add --write to write")
    return 1 if report["errors"] and not report["files"] else 0


def _files(n: int) -> str:
    return f"{n} file" if n == 1 else f"{n} files"
