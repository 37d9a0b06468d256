"""Plan-speed benchmark: does a 1 MB novel plan in under 60 s on 2 cores once the models are loaded?

1. Build a deterministic ~1 MB novel-like UTF-8 text from the project's own prose
   (src/storyscore/data/demo_story.md and tests/data/turns_story.md, `#` headings stripped): ~40 chapters
   headed `Chapter N`, each made of runs of consecutive source paragraphs whose order, start and length are
   drawn from a seeded RNG, so scenes and chapters vary instead of repeating one block verbatim.
2. Make sure a library exists: the demo library rendered into benchmarks/.cache/demo (reused if present),
   indexed into benchmarks/.cache/plan_bench.sqlite.
3. Load and warm the models (a `Matcher.match` and one plan of a short story), then time, in one process:
   `read_story`, `make_plan` (default `PlanOptions`) and `write_outputs`; as a baseline, the time to embed
   the same passages' texts with `storyscore.text.encoder.embed_passages` (plan / encode is the overhead
   beyond the text encoder). Peak RSS comes from resource.getrusage.

Markdown goes to stdout, JSON to benchmarks/results/plan_speed.json.

    python benchmarks/plan_speed.py [--quick] [--chars N] [--out PATH] [--profile]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

from common import peak_rss_mib  # benchmarks/ is on sys.path when run as a script

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = HERE / ".cache"
RESULTS = HERE / "results"
SOURCES = (ROOT / "src/storyscore/data/demo_story.md", ROOT / "tests/data/turns_story.md")
SCRATCH = Path("/tmp/plan_bench")
FULL_CHARS = 1_000_000
QUICK_CHARS = 100_000
N_CHAPTERS = 40
TARGET_S = 60.0


# --------------------------------------------------------------------------- the text
def source_paragraphs(path: Path) -> list[str]:
    """The prose paragraphs of a Markdown story, headings (`#` lines) dropped."""
    text = path.read_text(encoding="utf-8")
    paras = []
    for block in re.split(r"\n\s*\n", text):
        lines = [ln for ln in block.splitlines() if not ln.lstrip().startswith("#")]
        para = " ".join(ln.strip() for ln in lines if ln.strip())
        if para:
            paras.append(para)
    return paras


def build_novel(n_chars: int, n_chapters: int = N_CHAPTERS, seed: int = 0) -> str:
    """A deterministic novel of at least `n_chars` characters in `n_chapters` chapters.

    Each chapter is a sequence of "scenes": runs of 2–6 consecutive paragraphs of one source story, starting
    at a random paragraph (wrapping round), so the emotional arc inside a run is the source's, while the
    order of runs, and so the arc of each chapter, differs from chapter to chapter.
    """
    stories = [source_paragraphs(p) for p in SOURCES]
    rng = random.Random(seed)
    per_chapter = n_chars / n_chapters
    chapters: list[str] = []
    total = 0
    n = 0
    serial = 0
    while n < n_chapters or total < n_chars:
        n += 1
        heading = f"Chapter {n}"
        body: list[str] = []
        size = len(heading) + 2
        goal = per_chapter * rng.uniform(0.8, 1.2) if n < n_chapters else max(n_chars - total, 0)
        while size < goal or not body:
            paras = stories[rng.randrange(len(stories))]
            start = rng.randrange(len(paras))
            for k in range(rng.randint(2, 6)):
                # a novel does not repeat paragraphs word for word: a dated opening makes each one unique,
                # so no text cache can serve a repeat and the timing is that of new prose
                serial += 1
                p = f"Day {serial}. " + paras[(start + k) % len(paras)]
                body.append(p)
                size += len(p) + 2
        chapter = heading + "\n\n" + "\n\n".join(body)
        chapters.append(chapter)
        total += len(chapter) + 2
    return "\n\n".join(chapters) + "\n"


# --------------------------------------------------------------------------- the library
def ensure_library(db: Path) -> Path:
    from storyscore.demo.library import render_demo_library
    from storyscore.errors import StoreVersionError
    from storyscore.library.indexer import index_paths

    demo = CACHE / "demo"
    render_demo_library(demo)  # skips pieces already rendered with the same parameters
    try:
        report = index_paths([demo], db)
    except StoreVersionError:
        report = index_paths([demo], db, rebuild=True)
    if not report.usable:
        raise SystemExit(f"indexing {demo} gave an unusable store: {report.summary()}")
    return db


def clear_text_cache() -> None:
    """Empty the text caches (per batch in spaces.zeroshot, per paragraph in text.encoder), so a rerun
    re-encodes."""
    try:
        from storyscore.spaces import zeroshot
    except ImportError:
        return
    fn = getattr(zeroshot, "_read_text_cached", None)
    if fn is not None and hasattr(fn, "cache_clear"):
        fn.cache_clear()
    from storyscore.text import encoder

    encoder._paragraph_cache.clear()


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help=f"a {QUICK_CHARS // 1000} KB text instead of 1 MB")
    ap.add_argument("--chars", type=int, default=None, help="text size in characters (overrides --quick)")
    ap.add_argument("--out", type=Path, default=SCRATCH / "novel.txt", help="where to write the novel")
    ap.add_argument("--exports", type=Path, default=SCRATCH / "exports", help="where write_outputs writes")
    ap.add_argument("--db", type=Path, default=CACHE / "plan_bench.sqlite")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=RESULTS / "plan_speed.json")
    ap.add_argument("--profile", action="store_true",
                    help="also run make_plan under cProfile (after the timed run) and print the top 15")
    args = ap.parse_args(argv)
    n_chars = args.chars or (QUICK_CHARS if args.quick else FULL_CHARS)
    n_chapters = N_CHAPTERS if n_chars >= 500_000 else max(4, round(N_CHAPTERS * n_chars / FULL_CHARS))

    from storyscore.library.search import Matcher
    from storyscore.soundtrack.export import write_outputs
    from storyscore.soundtrack.planner import make_plan
    from storyscore.story.reader import read_story
    from storyscore.text.encoder import embed_passages
    from storyscore.types import PlanOptions

    # 1. the text
    novel = build_novel(n_chars, n_chapters, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(novel, encoding="utf-8")
    print(f"novel: {args.out} ({len(novel):,} characters, {len(novel.encode('utf-8')):,} bytes)", file=sys.stderr)

    # 2. the library
    args.db.parent.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    ensure_library(args.db)
    library_s = time.perf_counter() - t
    print(f"library: {args.db} ({library_s:.1f} s)", file=sys.stderr)

    # 3. load and warm the models
    t = time.perf_counter()
    matcher = Matcher(args.db)
    matcher.match("warm up text", 1)
    warm_path = SCRATCH / "warmup.txt"
    warm_path.write_text(build_novel(8_000, 2, args.seed + 1), encoding="utf-8")
    make_plan(read_story(warm_path), matcher, options=PlanOptions())
    embed_passages(["warm up the encoder once more."])
    warmup_s = time.perf_counter() - t
    print(f"models loaded and warm ({warmup_s:.1f} s)", file=sys.stderr)
    load_before = load_average()

    # 4. the timed run (nothing of this text can be in the text cache, but make sure)
    clear_text_cache()
    t0 = time.perf_counter()
    story = read_story(args.out)
    t1 = time.perf_counter()
    plan = make_plan(story, matcher, options=PlanOptions())
    t2 = time.perf_counter()
    outputs = write_outputs(plan, args.exports, story_path=args.out)
    t3 = time.perf_counter()
    read_s, plan_s, export_s = t1 - t0, t2 - t1, t3 - t2

    # baseline: the text encoder alone on the same passages
    texts = [story.text[p.start : p.end] for p in plan.passages]
    clear_text_cache()
    t = time.perf_counter()
    embed_passages(texts)
    encode_s = time.perf_counter() - t
    # make_plan also scores every scene's text; a cold encode of the scene texts, for comparison
    clear_text_cache()
    t = time.perf_counter()
    embed_passages([sc.text for sc in plan.scenes])
    encode_scenes_s = time.perf_counter() - t
    load_after = load_average()

    words = story.n_words
    res: dict[str, Any] = {
        "text": {
            "path": str(args.out),
            "characters": len(story.text),
            "bytes": len(novel.encode("utf-8")),
            "words": words,
            "paragraphs": len(story.paragraphs),
            "chapters": len(story.chapters),
            "seed": args.seed,
        },
        "plan": {
            "scenes": len(plan.scenes),
            "passages_scored": len(plan.passages),
            "notes": list(plan.notes),
        },
        "seconds": {
            "read_story": round(read_s, 3),
            "make_plan": round(plan_s, 3),
            "write_outputs": round(export_s, 3),
            "total": round(read_s + plan_s + export_s, 3),
            "embed_passages_baseline": round(encode_s, 3),
            "embed_scene_texts": round(encode_scenes_s, 3),
            "warmup_models": round(warmup_s, 3),
            "library_setup": round(library_s, 3),
        },
        "plan_over_encode": round(plan_s / encode_s, 3) if encode_s > 0 else None,
        "plan_over_encode_passages_plus_scenes": (
            round(plan_s / (encode_s + encode_scenes_s), 3) if encode_s + encode_scenes_s > 0 else None
        ),
        "target_s": TARGET_S,
        "within_target": bool(plan_s < TARGET_S),
        "words_per_second": round(words / plan_s, 1) if plan_s > 0 else None,
        "exports": sorted(outputs),
        "peak_rss_mb": round(peak_rss_mib(), 1),
        "machine": {
            "cpus": os.cpu_count(),
            "torch_threads": _torch_threads(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_before": load_before,
            "load_average_after": load_after,
        },
        "quick": n_chars < FULL_CHARS,
    }

    print(markdown(res))

    if args.profile:
        import cProfile
        import io
        import pstats

        clear_text_cache()  # else the rerun is served from the text cache and profiles nothing
        prof = cProfile.Profile()
        t = time.perf_counter()
        prof.enable()
        make_plan(story, matcher, options=PlanOptions())
        prof.disable()
        prof.dump_stats(str(SCRATCH / "make_plan.prof"))
        res["seconds"]["make_plan_under_cprofile"] = round(time.perf_counter() - t, 3)
        for key in ("cumulative", "tottime"):
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(key).print_stats(15)
            res[f"profile_top15_{key}"] = buf.getvalue()
            print(f"\n### cProfile of make_plan (top 15 by {key})\n\n```")
            print(buf.getvalue().strip())
            print("```")

    args.json.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.json.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    tmp.replace(args.json)
    print(f"\nJSON: {args.json}", file=sys.stderr)
    return 0


def _torch_threads() -> int | None:
    try:
        import torch

        return int(torch.get_num_threads())
    except Exception:
        return None


def markdown(res: dict[str, Any]) -> str:
    tx, pl, s = res["text"], res["plan"], res["seconds"]
    m = res["machine"]
    ok = "yes" if res["within_target"] else "**NO**"
    rows = [
        ("characters", f"{tx['characters']:,}"),
        ("words", f"{tx['words']:,}"),
        ("paragraphs", f"{tx['paragraphs']:,}"),
        ("chapters", f"{tx['chapters']:,}"),
        ("scenes", f"{pl['scenes']:,}"),
        ("passages scored", f"{pl['passages_scored']:,}"),
        ("read_story (s)", f"{s['read_story']:.2f}"),
        ("make_plan (s)", f"{s['make_plan']:.2f}"),
        ("write_outputs (s)", f"{s['write_outputs']:.2f}"),
        ("total read + plan + exports (s)", f"{s['total']:.2f}"),
        ("baseline: embed_passages on the same passages (s)", f"{s['embed_passages_baseline']:.2f}"),
        ("plan / encode", f"{res['plan_over_encode']:.2f}" if res["plan_over_encode"] else "-"),
        ("embed_passages on the scene texts (s)", f"{s['embed_scene_texts']:.2f}"),
        ("plan / (encode passages + encode scenes)", f"{res['plan_over_encode_passages_plus_scenes']:.2f}"),
        ("words per second (plan)", f"{res['words_per_second']:,}"),
        (f"plan under {res['target_s']:.0f} s", ok),
        ("peak RSS (MB)", f"{res['peak_rss_mb']:,}"),
        ("model warm-up (s, not timed above)", f"{s['warmup_models']:.1f}"),
        ("CPUs / torch threads", f"{m['cpus']} / {m['torch_threads']}"),
        ("load average before / after", f"{m['load_average_before']} / {m['load_average_after']}"),
    ]
    out = ["| measure | value |", "|---|---:|"]
    out += [f"| {k} | {v} |" for k, v in rows]
    return "\n".join(out)


if __name__ == "__main__":
    raise SystemExit(main())
