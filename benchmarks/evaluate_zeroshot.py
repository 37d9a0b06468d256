"""Zero-shot text→music retrieval on data made here: a consistency check, not evidence.

The dev passages (benchmarks/data/dev_passages.csv, Alm and ISEAR label sets) against a rendered mood set
(storyscore.demo.moodset.render_mood_set, 7 AudioSet moods, benchmarks/.cache/moodset), per space: P@5 and MRR,
micro and macro, under the va / w2v / manual label mappings, beside the random and label-prior baselines
(storyscore.training.metrics.evaluate_retrieval). The clips' labels come from rules that share cues with the music
reading, so this checks consistency only. Real music with outside labels: benchmarks/evaluate_corpus.py.

Markdown goes to stdout, JSON to benchmarks/results/zeroshot.json.

    python benchmarks/evaluate_zeroshot.py [--per-class 8]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from common import code_version  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

from storyscore.library.indexer import index_paths
from storyscore.library.search import Matcher
from storyscore.spaces import ZERO_SHOT_SPACES
from storyscore.training.metrics import evaluate_retrieval

HERE = Path(__file__).resolve().parent

CACHE = HERE / ".cache"
RESULTS = HERE / "results"
PASSAGES = HERE / "data" / "dev_passages.csv"
MOODSET_DIR = CACHE / "moodset"
MOODSET_DB = CACHE / "zeroshot_moodset.sqlite"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _fmt(x: float | None, nd: int = 3) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{nd}f}"


# --- (a) game music ------------------------------------------------------------------------------


def load_passages(path: Path = PASSAGES) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def evaluate_text_retrieval(args: argparse.Namespace) -> dict[str, Any]:
    from storyscore.demo.moodset import render_mood_set

    t0 = time.perf_counter()
    pieces = render_mood_set(args.moodset_dir, args.per_class)
    log(f"moodset: {len(pieces)} clips in {args.moodset_dir} ({time.perf_counter() - t0:.0f} s)")
    wanted = {str(Path(p.path).resolve()) for p in pieces}
    report = index_paths([args.moodset_dir / "audio"], args.moodset_db)
    log(f"moodset index: {report.summary()}")
    passages = load_passages()
    out: dict[str, Any] = {"moodset": str(args.moodset_dir), "per_class": args.per_class, "spaces": {}}
    for space in ZERO_SHOT_SPACES:
        with Matcher(args.moodset_db, space) as matcher:
            texts = [p["text"] for p in passages]
            t0 = time.perf_counter()
            scores, infos = matcher.score_tracks(texts)
            secs = time.perf_counter() - t0
        keep = [i for i, info in enumerate(infos) if str(Path(info.path).resolve()) in wanted]
        scores = scores[:, keep]
        music_labels = [Path(infos[i].path).parent.name for i in keep]
        per_set = {}
        for labelset in sorted({p["labelset"] for p in passages}):
            rows = [i for i, p in enumerate(passages) if p["labelset"] == labelset]
            labels = [passages[i]["label"] for i in rows]
            # label-prior baseline: the (balanced) label distribution of this set, known before any text is read
            per_set[labelset] = evaluate_retrieval(scores[rows], labels, music_labels,
                                                   mappings=("va", "w2v", "manual"), ks=(5, 10),
                                                   prior_text_labels=labels)
        out["spaces"][space] = {"score_seconds": secs, "n_items": len(keep),
                                "music_label_counts": dict(Counter(music_labels)), "results": per_set}
    return out


# --- report ----------------------------------------------------------------------------------------


def retrieval_markdown(r: dict[str, Any]) -> str:
    lines = [f"### Text→music retrieval: dev passages vs rendered mood set ({r['per_class']} clips per mood)", ""]
    spaces = list(r["spaces"])
    first = r["spaces"][spaces[0]]
    labelsets = list(first["results"])
    for ls in labelsets:
        res0 = first["results"][ls]
        lines += [f"**{ls}** ({res0['n_queries']} passages, {res0['n_items']} clips). Cells: micro / macro.", "",
                  "| mapping | system | P@5 | MRR |", "|---|---|---|---|"]
        for mapping in res0["mappings"]:
            rows = [(s, r["spaces"][s]["results"][ls]["mappings"][mapping]["model"]) for s in spaces]
            rows += [("random", res0["mappings"][mapping]["random"]),
                     ("label prior", res0["mappings"][mapping]["label_prior"])]
            for name, m in rows:
                lines.append(f"| {mapping} | {name} | {_fmt(m['micro']['P@5'])} / {_fmt(m['macro'].get('P@5'))} | "
                             f"{_fmt(m['micro']['MRR'])} / {_fmt(m['macro'].get('MRR'))} |")
        lines.append("")
        # per label: where a space is below random
        lines += [f"Per label, manual mapping, MRR (random in brackets; **bold** = below random), {ls}:", "",
                  "| label | " + " | ".join(spaces) + " |", "|---|" + "---|" * len(spaces)]
        rnd = res0["mappings"]["manual"]["random"]["per_label"]
        for lab in rnd:
            cells = []
            for s in spaces:
                v = r["spaces"][s]["results"][ls]["mappings"]["manual"]["model"]["per_label"][lab]["MRR"]
                base = rnd[lab]["MRR"]
                txt = f"{_fmt(v)} ({_fmt(base)})"
                cells.append(f"**{txt}**" if v < base else txt)
            lines.append(f"| {lab} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def below_random(r: dict[str, Any]) -> list[str]:
    out = []
    for space, block in r["spaces"].items():
        for ls, res in block["results"].items():
            for mapping, systems in res["mappings"].items():
                for metric in ("P@5", "MRR"):
                    for lab, vals in systems["model"]["per_label"].items():
                        base = systems["random"]["per_label"][lab][metric]
                        if vals[metric] < base - 1e-9:
                            out.append(f"{space}/{ls}/{mapping}/{lab}/{metric}: {vals[metric]:.3f} < {base:.3f}")
                    if systems["model"]["micro"][metric] < systems["random"]["micro"][metric]:
                        out.append(f"{space}/{ls}/{mapping}/ALL/{metric} micro below random")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-class", type=int, default=8, help="mood-set clips per mood (default 8)")
    ap.add_argument("--moodset-dir", type=Path, default=MOODSET_DIR)
    ap.add_argument("--moodset-db", type=Path, default=MOODSET_DB)
    ap.add_argument("--out", type=Path, default=RESULTS / "zeroshot.json")
    args = ap.parse_args(argv)

    result: dict[str, Any] = {"code": code_version(), "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}}
    md = []
    result["retrieval"] = evaluate_text_retrieval(args)
    result["retrieval_below_random"] = below_random(result["retrieval"])
    md.append(retrieval_markdown(result["retrieval"]))
    if result["retrieval_below_random"]:
        md.append("Below random (space/labelset/mapping/label/metric):\n\n" +
                  "\n".join(f"- {x}" for x in result["retrieval_below_random"]) + "\n")
    print("\n".join(md))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, default=float) + "\n", encoding="utf-8")
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
