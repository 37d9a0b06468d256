"""Train every emotion space (storyscore.training.trainer) on frozen features and compare them on held-out data.

Music: a rendered mood set (storyscore.demo.moodset.render_mood_set, 7 AudioSet moods, --per-class clips each) in
benchmarks/.cache/moodset_train (reused), analysed with analyse_file (analyses cached in
benchmarks/.cache/moodset_train_inputs.npz). Text: benchmarks/data/dev_passages.csv (Alm + ISEAR label sets),
embedded with MiniLM. Both split 60/20/20 stratified by label; repeated over --seeds seeds (new split and
initialisation each), reported as mean ± std. Each space is trained on the train
split with early stopping on the validation split, then evaluated text→music on the test split: P@5 and MRR
(micro / macro) under the va / w2v / manual mappings, beside the random and label-prior baselines.

The paper's own music encoder, a short-chunk ResNet CNN learned from the clips' 128-bin log-mel
(``two_branch_cnn``, storyscore.training.audio_trainer), is trained on the same splits for the first --cnn-seeds seeds
(default 1: about 10 minutes per seed on 2 cores at --cnn-width 16); its time and the process's peak memory
are recorded. --cnn-seeds 0 leaves it out.

Caveat: the music is synthetic (rendered from mood rules) and the passages were written for development, so
these numbers measure the training machinery, not the paper's AudioSet/ISEAR setting.

Markdown to stdout, JSON to benchmarks/results/train_spaces.json; models to benchmarks/.cache/models/<space>.

    python benchmarks/train_spaces.py [--per-class 20] [--seed 0] [--seeds 5] [--mapping manual] [--spaces a,b]
                                      [--cnn-seeds 1] [--cnn-width 16] [--cnn-epochs 25]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import code_version, peak_rss_mib  # noqa: E402

from storyscore.datasets.splits import stratified_split  # noqa: E402
from storyscore.spaces.cnn import SPACE as CNN_SPACE  # noqa: E402
from storyscore.training.audio_trainer import AudioTrainConfig, train_two_branch_audio  # noqa: E402
from storyscore.training.experiment import umap_figure_arrays, umap_plot  # noqa: E402
from storyscore.training.trainer import SPACES, TrainConfig, music_inputs, train  # noqa: E402

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
    from storyscore.demo.moodset import render_mood_set

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


def mel_data(per_class: int, ids: list[str]) -> list[np.ndarray]:
    """128-bin log-mels of the mood-set clips (whole 15-s clips), in `ids` order, for the CNN."""
    from storyscore.audio.shortchunk import log_mel_file

    t0 = time.perf_counter()
    mels = [log_mel_file(MOODSET_DIR / "audio" / i) for i in ids]
    log(f"log-mel of {len(mels)} clips ({time.perf_counter() - t0:.0f} s)")
    return mels


def text_data() -> tuple[list[str], list[str], list[str], np.ndarray, list[str]]:
    from storyscore.text.encoder import embed_passages

    with PASSAGES.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    texts = [r["text"] for r in rows]
    t0 = time.perf_counter()
    emb = np.asarray(embed_passages(texts), dtype=np.float32)
    log(f"embedded {len(texts)} passages ({time.perf_counter() - t0:.0f} s)")
    return [r["id"] for r in rows], [r["label"] for r in rows], [r["labelset"] for r in rows], emb, texts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-class", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0, help="first seed")
    ap.add_argument("--seeds", type=int, default=5, help="how many seeds (each: a new split and init)")
    ap.add_argument("--mapping", default="manual", choices=["va", "w2v", "manual"])
    ap.add_argument("--spaces", default=",".join(SPACES))
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--save-models", action="store_true", help="write each model to benchmarks/.cache/models/<space>")
    ap.add_argument("--finetune", default="two_branch",
                    help="spaces also trained with MiniLM's top --text-layers layers fine-tuned ('' for none)")
    ap.add_argument("--text-layers", type=int, default=2)
    ap.add_argument("--cnn-seeds", type=int, default=1, help="train two_branch_cnn for this many of the seeds")
    ap.add_argument("--cnn-width", type=int, default=16, help="CNN channel width (the paper: 128)")
    ap.add_argument("--cnn-epochs", type=int, default=25)
    ap.add_argument("--cnn-patience", type=int, default=5)
    ap.add_argument("--cnn-lr", type=float, default=1e-3)
    ap.add_argument("--figures", default=str(HERE.parent / "docs" / "umap"),
                    help="UMAP figure per space (first seed, test split) goes here; '' for none")
    args = ap.parse_args()
    figures = Path(args.figures) if args.figures else None  # Path('') would be the current folder

    m_ids, m_labels, m_x = music_data(args.per_class)
    t_ids, t_labels, t_sets, t_x, t_texts = text_data()
    spaces = args.spaces.split(",")
    # (row, space, MiniLM layers fine-tuned): every space on frozen features, then the fine-tuned variants
    variants = [(sp, sp, 0) for sp in spaces] + [
        (f"{sp} + MiniLM top {args.text_layers} tuned", sp, args.text_layers)
        for sp in (args.finetune.split(",") if args.finetune and args.text_layers else [])]
    mappings = ("va", "w2v", "manual")
    desc = {
        "music": f"storyscore.demo.synth mood set, {args.per_class} clips per mood ({len(m_ids)} clips)",
        "text": f"{PASSAGES.name}: {len(t_ids)} dev passages (Alm + ISEAR label sets)",
        "split_fractions": FRACTIONS,
    }
    seeds = list(range(args.seed, args.seed + args.seeds))
    cnn_seeds = seeds[: max(0, args.cnn_seeds)]
    mels = mel_data(args.per_class, m_ids) if cnn_seeds else []
    cnn_config = AudioTrainConfig(epochs=args.cnn_epochs, patience=args.cnn_patience, lr=args.cnn_lr,
                                  cnn_width=args.cnn_width)
    out: dict = {"code_version": code_version(), "mapping_trained": args.mapping,
                 "config": TrainConfig(epochs=args.epochs).__dict__, "data": desc, "seeds": seeds, "runs": [],
                 "cnn": {"config": cnn_config.__dict__, "seeds": cnn_seeds}}
    for seed in seeds:
        ms = stratified_split(m_ids, m_labels, FRACTIONS, seed=seed)
        ts = stratified_split(t_ids, t_labels, FRACTIONS, seed=seed)
        m_split, t_split = [ms[i] for i in m_ids], [ts[i] for i in t_ids]
        cfg = TrainConfig(seed=seed, epochs=args.epochs)
        run: dict = {"seed": seed, "spaces": {}}
        for row, space, layers in variants:
            t0 = time.perf_counter()
            sp = train(space, t_x, t_labels, t_split, m_x, m_labels, m_split, mapping=args.mapping,
                       config=replace(cfg, text_layers=layers), data_description={**desc, "split_seed": seed},
                       texts=t_texts)
            secs = time.perf_counter() - t0
            test = sp.card["metrics"]["test"]
            log(f"seed {seed} {row}: {secs:.1f} s, best epoch {sp.card['training']['best_epoch']}, "
                f"valid MRR {_fmt(sp.card['training']['best_valid_mrr'])}")
            run["spaces"][row] = {"seconds": round(secs, 2), "training": sp.card["training"], "version": sp.version,
                                    "test": {m: r["model"] for m, r in test["mappings"].items()}}
            if "baselines" not in run:
                run["baselines"] = {m: {"random": r["random"], "label_prior": r["label_prior"]}
                                    for m, r in test["mappings"].items()}
                out["n_test_queries"], out["n_test_items"] = test["n_queries"], test["n_items"]
            if layers:  # no figure or saved model for the fine-tuned variants
                continue
            if args.save_models and seed == seeds[0]:
                sp.save(CACHE / "models" / space)
            if figures and seed == seeds[0] and space != "classification":  # classification: 2 vocabularies
                tm = [i for i, s_ in enumerate(t_split) if s_ == "test"]
                mm = [i for i, s_ in enumerate(m_split) if s_ == "test"]
                umap_figure_arrays(sp, t_x[tm], [t_labels[i] for i in tm], m_x[mm], [m_labels[i] for i in mm],
                                   figures / f"{space}.png", seed=seed,
                                   title=f"{space}: test split (seed {seed}), UMAP fitted on music, passages projected")
        if seed in cnn_seeds:
            rss_before = peak_rss_mib()
            t0 = time.perf_counter()
            sp = train_two_branch_audio(t_x, t_labels, t_split, [], m_labels, m_split, mapping=args.mapping,
                                        config=replace(cnn_config, seed=seed), mels=mels, log=log)
            secs = time.perf_counter() - t0
            test = sp.card["metrics"]["test"]
            log(f"seed {seed} {CNN_SPACE}: {secs:.1f} s, best epoch {sp.card['training']['best_epoch']}, "
                f"valid MRR {_fmt(sp.card['training']['best_valid_mrr'])}")
            run["spaces"][CNN_SPACE] = {
                "seconds": round(secs, 2), "training": sp.card["training"], "version": sp.version,
                "peak_rss_mib_before": round(rss_before, 1), "peak_rss_mib_after": round(peak_rss_mib(), 1),
                "test": {m: r["model"] for m, r in test["mappings"].items()}}
            t0 = time.perf_counter()  # what `match` pays per library file on first use: decode + 16 crops
            test_files = [MOODSET_DIR / "audio" / m_ids[i] for i, s_ in enumerate(m_split) if s_ == "test"]
            for f in test_files:
                sp.embed_file(f)
            run["spaces"][CNN_SPACE]["embed_file_seconds"] = round((time.perf_counter() - t0) / len(test_files), 3)
            if args.save_models and seed == seeds[0]:
                sp.save(CACHE / "models" / CNN_SPACE)
            if figures and seed == seeds[0]:
                tm = [i for i, s_ in enumerate(t_split) if s_ == "test"]
                mm = [i for i, s_ in enumerate(m_split) if s_ == "test"]
                umap_plot(sp, sp.embed_text_vectors(t_x[tm]), [t_labels[i] for i in tm], sp.embed_mels([mels[i] for i in mm]),
                          [m_labels[i] for i in mm], figures / f"{CNN_SPACE}.png", seed=seed,
                          title=f"{CNN_SPACE}: test split (seed {seed}), UMAP fitted on music, passages projected")
        out["runs"].append(run)

    def collect(get) -> dict:
        """mapping -> metric -> (mean, std) over seeds, micro and macro."""
        res: dict = {}
        for m in mappings:
            res[m] = {}
            for agg in ("micro", "macro"):
                for metric in ("P@5", "MRR"):
                    vals = [got[m][agg][metric] for run in out["runs"] if (got := get(run)) is not None]
                    vals = [v for v in vals if v is not None]
                    res[m][f"{agg} {metric}"] = (float(np.mean(vals)), float(np.std(vals))) if vals else (None, None)
        return res

    systems = {"random": collect(lambda r: {m: r["baselines"][m]["random"] for m in mappings}),
               "label prior": collect(lambda r: {m: r["baselines"][m]["label_prior"] for m in mappings})}
    for row, _, _ in variants:
        systems[row] = collect(lambda r, s=row: r["spaces"][s]["test"])
    if cnn_seeds:
        systems[f"{CNN_SPACE} ({len(cnn_seeds)} seed{'s' if len(cnn_seeds) > 1 else ''})"] = collect(
            lambda r: r["spaces"][CNN_SPACE]["test"] if CNN_SPACE in r["spaces"] else None)
    out["summary"] = systems
    lines = [
        f"Text→music on the test split ({out['n_test_queries']} passages × {out['n_test_items']} clips per split), "
        f"trained with the {args.mapping} mapping; mean ± std over {len(seeds)} seed(s) (split + init); "
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
    heads = [r["spaces"][sp]["seconds"] for r in out["runs"] for sp in spaces]
    lines += ["", f"Head spaces: {np.mean(heads):.1f} s per training run (mean of {len(heads)})."]
    for row, _, layers in variants:
        if layers:
            secs = [r["spaces"][row]["seconds"] for r in out["runs"]]
            lines.append(f"{row}: {np.mean(secs):.1f} s per training run (mean of {len(secs)}).")
    cnn_runs = [r["spaces"][CNN_SPACE] for r in out["runs"] if CNN_SPACE in r["spaces"]]
    if cnn_runs:
        c = cnn_runs[0]
        lines.append(
            f"{CNN_SPACE}: {np.mean([r['seconds'] for r in cnn_runs]):.0f} s per training run "
            f"({c['training']['epochs_run']} epochs, best {c['training']['best_epoch']}; width {args.cnn_width}, "
            f"{c['training']['n_parameters']:,} parameters, 5-s crops, 16 test crops); the process's peak RSS "
            f"went from {c['peak_rss_mib_before']:.0f} to {c['peak_rss_mib_after']:.0f} MiB while it trained; "
            f"embedding one 15-s clip from its file took {c['embed_file_seconds']:.2f} s.")
    md = "\n".join(lines) + "\n"
    print(md)
    out["markdown"] = md
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "train_spaces.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    log(f"wrote {RESULTS / 'train_spaces.json'}")


if __name__ == "__main__":
    main()
