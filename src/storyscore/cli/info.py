"""`storyscore info`: what the library holds."""

from __future__ import annotations

import argparse

from storyscore.cli._common import add_db, db_path
from storyscore.version import __version__


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_db(sub.add_parser("info", help="what the library holds"))
    p.add_argument("--tracks", action="store_true", help="list every track with its reading")
    p.add_argument("--skipped", action="store_true", help="list skipped files with reasons")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from storyscore.library.store import PIPELINE_VERSION, Store

    db = db_path(args)
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
        for space, version, count in store.vector_sets():
            print(f"  vectors: {space} ({version}) for {count} tracks")
        if args.tracks:
            for t in tracks:
                print(f"  V {t.valence:+.2f} A {t.arousal:+.2f}  {', '.join(t.moods):32s} {t.path}")
        if args.skipped:
            for path, reason in store.skipped():
                print(f"  skipped {path}: {reason}")
    return 0
