"""Train every emotion space (storyscore.train) on frozen features and compare them on held-out data.

Music: a rendered mood set (storyscore.synth.render_mood_set, 7 AudioSet moods, --per-class clips each) in
benchmarks/.cache/moodset_train (reused), analysed with analyse_file (analyses cached in
benchmarks/.cache/moodset_train_inputs.npz). Text: benchmarks/data/dev_passages.csv (Alm + ISEAR label sets),
embedded with MiniLM. Both split 60/20/20 stratified by label; repeated over --seeds seeds (new split and
initialisation each), reported as mean ± std. Each space is trained on the train
split with early stopping on the validation split, then evaluated text→music on the test split: P@5 and MRR
(micro / macro) under the va / w2v / manual mappings, beside the random and label-prior baselines.

Caveat: the music is synthetic (rendered from mood rules) and the passages were written for development, so
these numbers measure the training machinery, not the paper's AudioSet/ISEAR setting.

Markdown to stdout, JSON to benchmarks/results/train_spaces.json; models to benchmarks/.cache/models/<space>.

    python benchmarks/train_spaces.py [--per-class 20] [--seed 0] [--seeds 5] [--mapping manual] [--spaces a,b]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import code_version  # noqa: E402

from storyscore.datasets.splits import stratified_split  # noqa: E402
from storyscore.experiment import umap_figure_arrays  # noqa: E402
from storyscore.train import SPACES, TrainConfig, music_inputs, train  # noqa: E402

CACHE = HERE / ".cache"
RESULTS = HERE / "results"
PASSAGES = HERE / "data" / "dev_passages.csv"
MOODSET_DIR = CACHE / "moodset_train"
INPUTS = CACHE / "moodset_train_inputs.npz"
FRACTIONS = {"train": 0.6, "valid": 0.2, "test": 0.2}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _fmt(x: float | None) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def music_data(per_class: int) -> tuple[list[str], list[str], np.ndarray]:
    """(ids, labels, music inputs) of the rendered mood set, analysing only clips not cached yet."""
    from storyscore.audio.encoder import analyse_file
    from storyscore.datasets import load_music_dataset
    from storyscore.synth import render_mood_set

    t0 = time.perf_counter()
    render_mood_set(MOODSET_DIR, per_class)
    ds = load_music_dataset("folder", MOODSET_DIR)
    items = [it for it in ds.items if int(Path(it.id).name.split("_")[1]) < per_class]
    log(f"moodset: {len(items)} clips ({time.perf_counter() - t0:.0f} s)")
    cached: dict[str, np.ndarray] = {}
    if INPUTS.exists():
        z = np.load(INPUTS, allow_pickle=False)
        cached = dict(zip(z["ids"].tolist(), z["inputs"], strict=True))
    todo = [it for it in items if it.id not in cached]
    t0 = time.perf_counter()
    for i, it in enumerate(todo):
        cached[it.id] = music_inputs([analyse_file(it.path)])[0]
        if (i + 1) % 20 == 0:
            log(f"analysed {i + 1}/{len(todo)} ({time.perf_counter() - t0:.0f} s)")
    if todo:
        ids = sorted(cached)
        np.savez(INPUTS, ids=np.array(ids), inputs=np.stack([cached[i] for i in ids]))
    return [it.id for it in items], [it.label for it in items], np.stack([cached[it.id] for it in items])


def text_data() -> tuple[list[str], list[str], list[str], np.ndarray]:
    from storyscore.text.encoder import embed_passages

    with PASSAGES.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    texts = [r["text"] for r in rows]
    t0 = time.perf_counter()
    emb = np.asarray(embed_passages(texts), dtype=np.float32)
    log(f"embedded {len(texts)} passages ({time.perf_counter() - t0:.0f} s)")
    return [r["id"] for r in rows], [r["label"] for r in rows], [r["labelset"] for r in rows], emb


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-class", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0, help="first seed")
    ap.add_argument("--seeds", type=int, default=5, help="how many seeds (each: a new split and init)")
    ap.add_argument("--mapping", default="manual", choices=["va", "w2v", "manual"])
    ap.add_argument("--spaces", default=",".join(SPACES))
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--save-models", action="store_true", help="write each model to benchmarks/.cache/models/<space>")
    ap.add_argument("--figures", type=Path, default=HERE.parent / "docs" / "umap",
                    help="UMAP figure per space (first seed, test split) goes here; '' for none")
    args = ap.parse_args()

    m_ids, m_labels, m_x = music_data(args.per_class)
    t_ids, t_labels, t_sets, t_x = text_data()
    spaces = args.spaces.split(",")
    mappings = ("va", "w2v", "manual")
    desc = {
        "music": f"storyscore.synth mood set, {args.per_class} clips per mood ({len(m_ids)} clips)",
        "text": f"{PASSAGES.name}: {len(t_ids)} dev passages (Alm + ISEAR label sets)",
        "split_fractions": FRACTIONS,
    }
    seeds = list(range(args.seed, args.seed + args.seeds))
    out: dict = {"code_version": code_version(), "mapping_trained": args.mapping,
                 "config": TrainConfig(epochs=args.epochs).__dict__, "data": desc, "seeds": seeds, "runs": []}
    for seed in seeds:
        ms = stratified_split(m_ids, m_labels, FRACTIONS, seed=seed)
        ts = stratified_split(t_ids, t_labels, FRACTIONS, seed=seed)
        m_split, t_split = [ms[i] for i in m_ids], [ts[i] for i in t_ids]
        cfg = TrainConfig(seed=seed, epochs=args.epochs)
        run: dict = {"seed": seed, "spaces": {}}
        for space in spaces:
            t0 = time.perf_counter()
            sp = train(space, t_x, t_labels, t_split, m_x, m_labels, m_split, mapping=args.mapping, config=cfg,
                       data_description={**desc, "split_seed": seed})
            secs = time.perf_counter() - t0
            test = sp.card["metrics"]["test"]
            log(f"seed {seed} {space}: {secs:.1f} s, best epoch {sp.card['training']['best_epoch']}, "
                f"valid MRR {_fmt(sp.card['training']['best_valid_mrr'])}")
            run["spaces"][space] = {"seconds": round(secs, 2), "training": sp.card["training"], "version": sp.version,
                                    "test": {m: r["model"] for m, r in test["mappings"].items()}}
            if "baselines" not in run:
                run["baselines"] = {m: {"random": r["random"], "label_prior": r["label_prior"]}
                                    for m, r in test["mappings"].items()}
                out["n_test_queries"], out["n_test_items"] = test["n_queries"], test["n_items"]
            if args.save_models and seed == seeds[0]:
                sp.save(CACHE / "models" / space)
            if str(args.figures) and seed == seeds[0] and space != "classification":  # classification: 2 vocabularies
                tm = [i for i, s_ in enumerate(t_split) if s_ == "test"]
                mm = [i for i, s_ in enumerate(m_split) if s_ == "test"]
                umap_figure_arrays(sp, t_x[tm], [t_labels[i] for i in tm], m_x[mm], [m_labels[i] for i in mm],
                                   args.figures / f"{space}.png", seed=seed,
                                   title=f"{space}: test split (seed {seed}), UMAP fitted on music, passages projected")
        out["runs"].append(run)

    def collect(get) -> dict:
        """mapping -> metric -> (mean, std) over seeds, micro and macro."""
        res: dict = {}
        for m in mappings:
            res[m] = {}
            for agg in ("micro", "macro"):
                for metric in ("P@5", "MRR"):
                    vals = [get(run)[m][agg][metric] for run in out["runs"]]
                    vals = [v for v in vals if v is not None]
                    res[m][f"{agg} {metric}"] = (float(np.mean(vals)), float(np.std(vals))) if vals else (None, None)
        return res

    systems = {"random": collect(lambda r: {m: r["baselines"][m]["random"] for m in mappings}),
               "label prior": collect(lambda r: {m: r["baselines"][m]["label_prior"] for m in mappings})}
    for space in spaces:
        systems[space] = collect(lambda r, s=space: r["spaces"][s]["test"])
    out["summary"] = systems
    lines = [
        f"Text→music on the test split ({out['n_test_queries']} passages × {out['n_test_items']} clips per split), "
        f"trained with the {args.mapping} mapping; mean ± std over {len(seeds)} seeds (split + init); "
        "cells micro P@5 / MRR.",
        "",
        "| system | " + " | ".join(mappings) + " |",
        "|---|" + "---|" * len(mappings),
    ]
    for name, res in systems.items():
        cells = []
        for m in mappings:
            p, r = res[m]["micro P@5"], res[m]["micro MRR"]
            cells.append(f"{_fmt(p[0])}±{_fmt(p[1])} / {_fmt(r[0])}±{_fmt(r[1])}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    md = "\n".join(lines) + "\n"
    print(md)
    out["markdown"] = md
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "train_spaces.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    log(f"wrote {RESULTS / 'train_spaces.json'}")


if __name__ == "__main__":
    main()
