"""`storyscore match [FILE|-] [--text ...]`: tracks that fit a passage, with reasons."""

from __future__ import annotations

import argparse
import json
import sys

from storyscore import api
from storyscore.cli._common import add_db, add_filters, add_quiet, add_space, open_matcher
from storyscore.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_db(sub.add_parser("match", help="tracks that fit a passage, with reasons"))
    p.add_argument("file", nargs="?", help="text file (.txt, .md, .epub) or '-' for standard input")
    p.add_argument("--text", help="the passage itself, instead of a file")
    p.add_argument("--top", type=int, default=10, help="how many tracks (default 10)")
    add_space(p)
    add_filters(p)
    p.add_argument("--json", action="store_true", help="print one JSON object (see README)")
    add_quiet(p)
    p.set_defaults(func=run)


def read_query(args: argparse.Namespace) -> tuple[str, str]:
    """(passage, where it came from) from --text, a file, or standard input."""
    if args.text is not None:
        return args.text, "--text"
    source = args.file or "-"
    if source == "-" and sys.stdin.isatty():
        raise InputError("give a text file, '-' with text on standard input, or --text '...'")
    return api.read_story(source).text, source


def run(args: argparse.Namespace) -> int:
    from storyscore.library.search import check_query, match_json

    text, source = read_query(args)
    text = check_query(text, source)
    with open_matcher(args) as matcher:
        emotion, results = matcher.match(text, args.top)
        space = matcher.space_name
    if args.json:
        print(json.dumps(match_json(space, emotion, results), indent=2))
        return 0
    print(f"passage: {', '.join(emotion.moods)} (valence {emotion.valence:+.2f}, arousal {emotion.arousal:+.2f}); "
          f"space {space}")
    for rank, r in enumerate(results, 1):
        print(f"{rank:2d}. {r.score:+.3f}  {r.name}")
        print(f"      {r.path}")
        print(f"      moods: {', '.join(r.moods)}; {r.why}")
    return 0
