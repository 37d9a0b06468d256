"""`storyscore info`: what the library holds."""

from __future__ import annotations

import argparse
from typing import Any

from storyscore.cli._common import add_db, add_filters, db_path, track_filter
from storyscore.version import __version__


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_db(sub.add_parser("info", help="what the library holds"))
    p.add_argument("--tracks", action="store_true", help="list every track with its tags and reading")
    add_filters(p)
    p.add_argument("--skipped", action="store_true", help="list skipped files with reasons")
    p.set_defaults(func=run)


def _track_line(t: Any) -> str:  # t: StoredTrack
    from storyscore.types import track_name

    tags = t.file_tags
    name = track_name(t.path, tags.title if tags else None, tags.artist if tags else None)
    extra = [f"album {tags.album}" if tags and tags.album else "", f"genre {tags.genre}" if tags and tags.genre else ""]
    problems = f"\n      tag problems: {'; '.join(tags.problems)}" if tags and tags.problems else ""
    return (f"  V {t.valence:+.2f} A {t.arousal:+.2f}  {', '.join(t.moods):32s} {name}"
            f"{' (' + ', '.join(e for e in extra if e) + ')' if any(extra) else ''}\n      {t.path}{problems}")


def run(args: argparse.Namespace) -> int:
    from storyscore.library.ann import saved_indexes
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
        for ix in saved_indexes(db, store):
            parts = f"{len(ix.lists)} parts of " if len(ix.lists) > 1 else ""
            state = "current" if ix.current else "stale: the next `index` or `match` brings it up to date"
            print(f"  approximate index: {ix.space} for {ix.count:,} tracks ({parts}{max(ix.lists.values()):,} lists, "
                  f"{ix.size_bytes / 2**20:.1f} MiB), {state}")
        if args.tracks:
            where = track_filter(args)
            keep = store.track_ids_matching(where) if where is not None else None
            for t in tracks:
                if keep is None or t.track_id in keep:
                    print(_track_line(t))
        if args.skipped:
            for path, reason in store.skipped():
                print(f"  skipped {path}: {reason}")
    return 0
