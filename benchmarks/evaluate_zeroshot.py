"""Zero-shot evaluation against labels we did not make.

(a) Real game music (benchmarks/fetch_music.sh; labels from the Debian packages, benchmarks/music_labels.py):
    index it into benchmarks/.cache/zeroshot_games.sqlite (incremental: reruns only add what is missing;
    labelled tracks are indexed first, so a time or count limit keeps the ones that are evaluated), then
    - AUC of the stored track arousal / valence for separating the package's own groups:
        arousal: 0ad battle vs 0ad peace (the game's combat vs calm music);
        valence: victory vs defeat music, pooled over the two games that have it (0ad victory + singularity
        win vs 0ad defeat + singularity lose), and per game;
      with the random baseline 0.5, the group sizes, a bootstrap 95% CI and an exact one-sided permutation
      p-value (the groups are tiny: 1–2 tracks on one side).
    - tempo: for warzone2100 tracks whose album.json bpm is not 80 (80 is mostly a default there), the fraction
      of stored `tempo_bpm` within 4% of the label, strict and allowing octave errors (×2, ×½), against a
      baseline that always predicts the median labelled bpm. The bpm-80 tracks are reported separately.
(b) Text→music retrieval of the dev passages (benchmarks/data/dev_passages.csv, Alm and ISEAR label sets)
    against a rendered mood set (storyscore.synth.render_mood_set, 7 AudioSet moods, benchmarks/.cache/moodset),
    per space: P@5 and MRR, micro and macro, under the va / w2v / manual label mappings, beside the random and
    label-prior baselines (storyscore.metrics.evaluate_retrieval).

Markdown goes to stdout, JSON to benchmarks/results/zeroshot.json.

    python benchmarks/evaluate_zeroshot.py [--limit-per-collection N]
        [--max-seconds S] [--per-class 8] [--skip-games] [--skip-retrieval]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from common import code_version  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

from storyscore.indexer import index_paths
from storyscore.metrics import evaluate_retrieval, roc_auc
from storyscore.search import Matcher
from storyscore.spaces import ZERO_SHOT_SPACES
from storyscore.store import Store

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from music_labels import DEFAULT_CACHE, load_labelled_music  # noqa: E402

CACHE = HERE / ".cache"
RESULTS = HERE / "results"
PASSAGES = HERE / "data" / "dev_passages.csv"
GAMES_DB = CACHE / "zeroshot_games.sqlite"
MOODSET_DIR = CACHE / "moodset"
MOODSET_DB = CACHE / "zeroshot_moodset.sqlite"
DEFAULT_BPM = 80.0  # warzone2100's album.json default


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _fmt(x: float | None, nd: int = 3) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{nd}f}"


# --- (a) game music ------------------------------------------------------------------------------


def _priority(t: dict) -> int:
    """Tracks that some evaluation uses come first, so limits cut the unlabelled ones."""
    g, c, bpm = t["group"], t["collection"], t["bpm"]
    if (c == "0ad" and g not in (None, "peace")) or (c == "singularity-music" and g):
        return 0
    if c == "0ad" and g == "peace":
        return 1
    if bpm is not None and bpm != DEFAULT_BPM:
        return 2
    if bpm is not None:
        return 3
    return 4


def select_tracks(tracks: list[dict], limit_per_collection: int | None) -> list[dict]:
    order = sorted(tracks, key=_priority)  # stable: within a priority, music_labels order
    if limit_per_collection is None:
        return order
    taken: Counter = Counter()
    out = []
    for t in order:
        if taken[t["collection"]] < limit_per_collection:
            out.append(t)
            taken[t["collection"]] += 1
    return out


def index_games(selected: list[dict], db: Path, max_seconds: float | None) -> dict[str, Any]:
    """Index the selected files (already-indexed ones are skipped at once), stopping after max_seconds."""
    t0 = time.perf_counter()
    with Store(db) as store:
        have = set(store.file_state())
    todo = [t for t in selected if str(Path(t["path"]).resolve()) not in have]
    log(f"games: {len(selected)} selected, {len(selected) - len(todo)} already indexed, {len(todo)} to index")
    audio_s = 0.0
    done = 0
    stopped = False
    for k, t in enumerate(todo):
        if max_seconds is not None and time.perf_counter() - t0 > max_seconds:
            stopped = True
            log(f"games: --max-seconds {max_seconds:g} reached; {len(todo) - k} tracks left unindexed")
            break
        report = index_paths([t["path"]], db)
        audio_s += report.audio_seconds
        done += 1
        log(f"  [{k + 1}/{len(todo)}] {t['collection']} {t['group'] or ''} {Path(t['path']).name}: "
            f"{report.audio_seconds:.0f} s audio in {report.wall_seconds:.1f} s")
    wall = time.perf_counter() - t0
    return {"indexed_now": done, "audio_seconds_now": audio_s, "wall_seconds_now": wall, "stopped_early": stopped}


def bootstrap_auc_ci(scores: np.ndarray, positive: np.ndarray, reps: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile 95% CI of ROC-AUC, resampling each group with replacement (stratified)."""
    rng = np.random.default_rng(seed)
    pos, neg = scores[positive], scores[~positive]
    vals = []
    for _ in range(reps):
        p = rng.choice(pos, size=len(pos))
        n = rng.choice(neg, size=len(neg))
        vals.append(roc_auc(np.concatenate([p, n]), np.r_[np.ones(len(p), bool), np.zeros(len(n), bool)]))
    return float(np.percentile(vals, 2.5)), float(np.percentile(vals, 97.5))


def permutation_p(scores: np.ndarray, positive: np.ndarray, reps: int = 20000, seed: int = 0) -> float:
    """One-sided p-value of AUC >= observed when the labels carry no information (exact when small)."""
    observed = roc_auc(scores, positive)
    n, k = len(scores), int(positive.sum())
    if math.comb(n, k) <= 50_000:
        count = total = 0
        for combo in itertools.combinations(range(n), k):
            y = np.zeros(n, bool)
            y[list(combo)] = True
            count += roc_auc(scores, y) >= observed - 1e-12
            total += 1
        return count / total
    rng = np.random.default_rng(seed)
    count = 0
    for _ in range(reps):
        y = np.zeros(n, bool)
        y[rng.choice(n, size=k, replace=False)] = True
        count += roc_auc(scores, y) >= observed - 1e-12
    return (count + 1) / (reps + 1)


def auc_row(name: str, dim: str, pos_desc: str, neg_desc: str, pos: list[dict], neg: list[dict],
            note: str = "") -> dict[str, Any]:
    """ROC-AUC of the stored `dim` ("valence"/"arousal") ranking `pos` above `neg`."""
    row: dict[str, Any] = {"test": name, "dimension": dim + note, "positive": pos_desc, "negative": neg_desc,
                           "n_pos": len(pos), "n_neg": len(neg), "random": 0.5}
    if not pos or not neg:
        row.update(auc=math.nan, ci95=[math.nan, math.nan], p_perm=math.nan)
        return row
    s = np.array([t[dim] for t in pos + neg], dtype=np.float64)
    y = np.r_[np.ones(len(pos), bool), np.zeros(len(neg), bool)]
    lo, hi = bootstrap_auc_ci(s, y)
    row.update(auc=roc_auc(s, y), ci95=[lo, hi], p_perm=permutation_p(s, y),
               pos_values=[round(float(t[dim]), 3) for t in pos],
               neg_mean=float(np.mean([t[dim] for t in neg])))
    return row


def tempo_eval(tracks: list[dict], tol: float = 0.04) -> dict[str, Any]:
    def hit(pred: float, true: float, octave: bool) -> bool:
        cands = [pred, 2 * pred, pred / 2] if octave else [pred]
        return any(abs(c - true) <= tol * true for c in cands if c > 0)

    def block(items: list[dict], baseline_bpm: float) -> dict[str, Any]:
        n = len(items)
        if n == 0:
            return {"n": 0}
        strict = sum(hit(t["tempo_bpm"], t["bpm"], False) for t in items) / n
        octave = sum(hit(t["tempo_bpm"], t["bpm"], True) for t in items) / n
        b_strict = sum(hit(baseline_bpm, t["bpm"], False) for t in items) / n
        b_octave = sum(hit(baseline_bpm, t["bpm"], True) for t in items) / n
        return {"n": n, "strict": strict, "octave": octave, "baseline_bpm": baseline_bpm,
                "baseline_strict": b_strict, "baseline_octave": b_octave,
                "tracks": [{"title": t["title"], "bpm": t["bpm"], "predicted": round(t["tempo_bpm"], 1)}
                           for t in items]}

    real = [t for t in tracks if t["bpm"] is not None and t["bpm"] != DEFAULT_BPM]
    default = [t for t in tracks if t["bpm"] == DEFAULT_BPM]
    median = statistics.median(t["bpm"] for t in real) if real else math.nan
    return {"tolerance": tol, "labelled_non80": block(real, median), "labelled_80_unreliable": block(default, 80.0)}


def evaluate_games(args: argparse.Namespace) -> dict[str, Any]:
    tracks = load_labelled_music(args.music_cache)
    if not tracks:
        raise SystemExit(f"{args.music_cache}: no game music (run benchmarks/fetch_music.sh)")
    selected = select_tracks(tracks, args.limit_per_collection)
    run = index_games(selected, args.games_db, args.max_seconds)
    with Store(args.games_db, create=False) as store:
        stored = {t.path: t for t in store.tracks()}
    have = []
    for t in selected:
        st = stored.get(str(Path(t["path"]).resolve()))
        if st is None:
            continue
        have.append({**t, "valence": st.valence, "arousal": st.arousal,
                     "tempo_bpm": float(st.descriptors.get("tempo_bpm", 0.0)), "duration": st.duration})
    log(f"games: evaluating {len(have)} indexed tracks of {len(tracks)}")

    def grp(coll: str, g: str) -> list[dict]:
        return [t for t in have if t["collection"] == coll and t["group"] == g]

    wins = grp("0ad", "victory") + grp("singularity-music", "win")
    losses = grp("0ad", "defeat") + grp("singularity-music", "lose")
    aucs = [
        auc_row("0ad battle vs peace", "arousal", "battle", "peace", grp("0ad", "battle"), grp("0ad", "peace")),
        auc_row("0ad peace vs battle", "valence", "peace", "battle",
                grp("0ad", "peace"), grp("0ad", "battle"), " (peace above battle)"),
        auc_row("victory vs defeat, both games", "valence", "0ad victory + singularity win",
                "0ad defeat + singularity lose", wins, losses),
        auc_row("0ad victory vs defeat", "valence", "victory", "defeat", grp("0ad", "victory"), grp("0ad", "defeat")),
        auc_row("singularity win vs lose", "valence", "win", "lose",
                grp("singularity-music", "win"), grp("singularity-music", "lose")),
        auc_row("victory vs defeat, both games", "arousal", "0ad victory + singularity win",
                "0ad defeat + singularity lose", wins, losses),
    ]
    counts = Counter((t["collection"], t["group"]) for t in have)
    return {
        "db": str(args.games_db),
        "selected": len(selected),
        "available": len(tracks),
        "evaluated": len(have),
        "evaluated_audio_hours": sum(t["duration"] for t in have) / 3600,
        "counts": {f"{c}/{g}": n for (c, g), n in sorted(counts.items(), key=lambda kv: str(kv[0]))},
        "index_run": run,
        "auc": aucs,
        "tempo": tempo_eval([t for t in have if t["collection"] == "warzone2100-music"]),
        "tracks": [{k: t.get(k) for k in ("collection", "group", "title", "bpm", "valence", "arousal",
                                           "tempo_bpm", "duration")} for t in have],
    }


# --- (b) text→music retrieval --------------------------------------------------------------------


def load_passages(path: Path = PASSAGES) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def evaluate_text_retrieval(args: argparse.Namespace) -> dict[str, Any]:
    from storyscore.synth import render_mood_set

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


def games_markdown(g: dict[str, Any]) -> str:
    lines = [
        f"### Game music ({g['evaluated']} of {g['available']} tracks indexed and evaluated, "
        f"{g['evaluated_audio_hours']:.1f} h)",
        "",
        "Counts: " + ", ".join(f"{k} {v}" for k, v in g["counts"].items()),
        "",
        "| test | predicted | positive (n) | negative (n) | AUC | bootstrap 95% CI | perm. p | random |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in g["auc"]:
        lines.append(f"| {r['test']} | {r['dimension']} | {r['positive']} ({r['n_pos']}) | {r['negative']} "
                     f"({r['n_neg']}) | {_fmt(r['auc'])} | {_fmt(r['ci95'][0], 2)}–{_fmt(r['ci95'][1], 2)} | "
                     f"{_fmt(r['p_perm'])} | 0.5 |")
    t = g["tempo"]
    lines += ["", f"Tempo (warzone2100, within {t['tolerance']:.0%} of album.json bpm):", "",
              "| tracks | n | strict | octave errors allowed | median-bpm baseline strict | baseline octave |",
              "|---|---|---|---|---|---|"]
    for key, label in (("labelled_non80", "bpm ≠ 80 (real labels)"),
                       ("labelled_80_unreliable", "bpm = 80 (mostly a default: unreliable)")):
        b = t[key]
        if b["n"]:
            lines.append(f"| {label} | {b['n']} | {_fmt(b['strict'], 2)} | {_fmt(b['octave'], 2)} | "
                         f"{_fmt(b['baseline_strict'], 2)} (always {b['baseline_bpm']:g}) | "
                         f"{_fmt(b['baseline_octave'], 2)} |")
        else:
            lines.append(f"| {label} | 0 | – | – | – | – |")
    if t["labelled_non80"]["n"]:
        lines += ["", "Per track (bpm ≠ 80): " + "; ".join(
            f"{x['title']} {x['bpm']:g}→{x['predicted']:g}" for x in t["labelled_non80"]["tracks"])]
    return "\n".join(lines) + "\n"


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
    ap.add_argument("--music-cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--games-db", type=Path, default=GAMES_DB)
    ap.add_argument("--limit-per-collection", type=int, help="index at most N tracks per collection "
                    "(labelled ones first)")
    ap.add_argument("--max-seconds", type=float, help="stop indexing game music after this many wall seconds "
                    "(evaluates what is indexed; rerun to continue)")
    ap.add_argument("--per-class", type=int, default=8, help="mood-set clips per mood (default 8)")
    ap.add_argument("--moodset-dir", type=Path, default=MOODSET_DIR)
    ap.add_argument("--moodset-db", type=Path, default=MOODSET_DB)
    ap.add_argument("--skip-games", action="store_true")
    ap.add_argument("--skip-retrieval", action="store_true")
    ap.add_argument("--out", type=Path, default=RESULTS / "zeroshot.json")
    args = ap.parse_args(argv)

    result: dict[str, Any] = {"code": code_version(), "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}}
    md = []
    if not args.skip_retrieval:
        result["retrieval"] = evaluate_text_retrieval(args)
        result["retrieval_below_random"] = below_random(result["retrieval"])
        md.append(retrieval_markdown(result["retrieval"]))
        if result["retrieval_below_random"]:
            md.append("Below random (space/labelset/mapping/label/metric):\n\n" +
                      "\n".join(f"- {x}" for x in result["retrieval_below_random"]) + "\n")
    if not args.skip_games:
        result["games"] = evaluate_games(args)
        md.append(games_markdown(result["games"]))
    print("\n".join(md))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, default=float) + "\n", encoding="utf-8")
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
