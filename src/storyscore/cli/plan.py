"""`storyscore plan FILE`: a soundtrack for a whole story (scenes, tracks, exports, mix)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from storyscore import api
from storyscore.cli._common import Progress, add_db, add_filters, add_quiet, add_space, open_matcher
from storyscore.errors import InputError


def add_plan_options(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of `plan` and `demo`; None means `api.plan_options` decides."""
    add_space(p)
    add_filters(p)
    p.add_argument("--scenes", type=int, help="exactly this many scenes")
    p.add_argument("--min-words", type=int, help="shortest scene in words (default: scales with the story)")
    p.add_argument("--max-words", type=int, help=f"longest scene in words (default {api.DEFAULT_MAX_WORDS})")
    p.add_argument("--wpm", type=float, default=150.0, help="reading pace, words per minute (default 150, "
                   "narration; use about 250 for silent reading)")
    p.add_argument("--window", type=int, default=5, help="no track reused within this many scenes (default 5)")
    p.add_argument("--exclude", action="append", metavar="GLOB", help="never use tracks whose path matches")
    p.add_argument("--prefer", action="append", metavar="GLOB", help="favour tracks whose path matches")
    p.add_argument("--fix", action="append", metavar="SCENE=PATH", help="use this track for scene N (0-based)")
    add_quiet(p)
    return p


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_plan_options(add_db(sub.add_parser("plan", help="a soundtrack for a whole story")))
    p.add_argument("file", help="story: .txt, .md, .epub, or '-' for standard input")
    p.add_argument("-o", "--out", help="write plan.json, playlist.m3u/.xspf, cues.csv, report.md, arc.png here")
    p.add_argument("--mix", help="render the soundtrack to this .ogg/.wav/.flac file")
    p.add_argument("--crossfade", type=float, default=3.0, help="crossfade seconds in the mix (default 3)")
    p.add_argument("--json", action="store_true", help="print the plan as one JSON object (see README)")
    p.set_defaults(func=run)


def _fixed(items: list[str] | None) -> dict[int, str]:
    fixed: dict[int, str] = {}
    for item in items or []:
        scene, sep, path = item.partition("=")
        if not sep or not scene.strip().isdigit():
            raise InputError(f"--fix {item!r}: expected SCENE=PATH, e.g. --fix 3=/music/theme.ogg")
        fixed[int(scene)] = str(Path(path).expanduser().resolve())
    return fixed


def plan_from_args(story_path: str, args: argparse.Namespace) -> Any:  # -> Plan
    story = api.read_story(story_path)
    with open_matcher(args) as matcher, Progress("reading the story", args.quiet) as bar:
        return api.plan_story(
            story, matcher, progress=lambda stage, done, total: bar(done, total, stage),
            min_words=args.min_words, max_words=args.max_words, n_scenes=args.scenes, words_per_minute=args.wpm,
            window=args.window, exclude=args.exclude, prefer=args.prefer, fixed=_fixed(args.fix))


def print_plan(plan: Any, alternatives: int = 2) -> None:  # plan: Plan
    for note in plan.notes:
        print(f"note: {note}")
    for scene in plan.scenes:
        excerpt = " ".join(scene.text.split())[:90]
        start = f"{int(scene.start_seconds // 60):02d}:{int(scene.start_seconds % 60):02d}"
        print(f"\nscene {scene.index + 1} [{start}, {scene.words} words] {', '.join(scene.moods)} "
              f"(valence {scene.valence:+.2f}, arousal {scene.arousal:+.2f})")
        print(f"  \"{excerpt}...\"")
        if scene.track is None:
            continue
        loop = " (looped)" if scene.track.looped else ""
        print(f"  -> {scene.track.info.name}{loop}  ({scene.track.info.path})")
        print(f"     {scene.track.why}")
        for alt in scene.track.alternatives[:alternatives]:
            print(f"     also: {alt.name or Path(alt.path).name} ({alt.reason})")


def run(args: argparse.Namespace) -> int:
    from storyscore.soundtrack.export import write_outputs

    plan = plan_from_args(args.file, args)
    if args.json:
        print(json.dumps(plan.to_json(), indent=2))
    else:
        print_plan(plan)
    if args.out:
        written = write_outputs(plan, Path(args.out), story_path=args.file)
        print(f"wrote {', '.join(str(p) for p in written.values())}", file=sys.stderr)
    if args.mix:
        from storyscore.soundtrack.mix import render_mix

        result = render_mix(plan, Path(args.mix), crossfade=args.crossfade)
        for warning in result.warnings:
            print(f"mix: {warning}", file=sys.stderr)
        print(f"mix: {result.path} ({result.seconds:.1f} s)", file=sys.stderr)
    return 0
