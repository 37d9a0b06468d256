"""`storyscore demo`: make a small library and story on the spot, index it, and plan a soundtrack."""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

from storyscore import api
from storyscore.cli._common import Progress
from storyscore.cli.plan import add_plan_options, plan_from_args, print_plan


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_plan_options(sub.add_parser("demo", help="make a small library and story, index, and plan"))
    p.add_argument("--dir", default="storyscore-demo", help="where to put it (default ./storyscore-demo)")
    p.set_defaults(func=run)


def _check_extra() -> None:
    import importlib.util

    from storyscore.errors import InputError

    for module in ("music21", "midirenderer", "pretty_midi"):
        if importlib.util.find_spec(module) is None:
            raise InputError(f"the demo needs {module}, in the demo extra: pip install 'storyscore[demo]'")


def run(args: argparse.Namespace) -> int:
    _check_extra()
    from storyscore.demo.library import render_demo_library
    from storyscore.soundtrack.export import write_outputs

    out = Path(args.dir).expanduser().resolve()
    library = out / "library"
    args.db = str(out / "library.sqlite")
    print(f"1/3 rendering the demo library into {library} ...", file=sys.stderr)
    pieces = render_demo_library(library, progress=None if args.quiet else lambda m: print(f"    {m}", file=sys.stderr))
    print(f"2/3 indexing {len(pieces)} pieces ...", file=sys.stderr)
    with Progress("indexing", args.quiet) as progress:
        report = api.index(library, db=args.db, progress=progress)
    print(f"    {report.summary()}", file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    story_path = out / "demo_story.md"
    story_path.write_text(resources.files("storyscore").joinpath("data", "demo_story.md").read_text("utf-8"),
                          encoding="utf-8")
    print(f"3/3 planning a soundtrack for {story_path} ...", file=sys.stderr)
    plan = plan_from_args(str(story_path), args)
    print_plan(plan)
    written = write_outputs(plan, out / "plan", story_path=story_path)
    print(f"\nwrote {', '.join(str(p) for p in written.values())}")
    print(f"try: storyscore match --db {args.db} --text \"The storm broke over the ship and the crew screamed.\"")
    print(f"  or, in a browser: storyscore serve --db {args.db}")
    return 0
