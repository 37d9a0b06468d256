"""Search at library scale: exact search (what `match` did for every library) against the ANN index
(storyscore.library.ann), on synthetic stored vectors of 10k, 100k and 1M tracks.

Per size and space (the zero-shot `va`, `tagwords` and `fused`, and a 64-d trained-like metric space):
  - search p50/p99, one query vector → top 10 (for the index also the p50/p99 of the thread's CPU time,
    which other jobs on a shared machine do not inflate): exact = the space's `similarity` over the whole in-memory
    matrix (so the SQLite load `match` also paid is NOT counted); ANN = candidates from the index +
    their stored vectors + exact re-scoring (the vectors come from memory here: `ArraySource`);
  - recall@10 of the ANN answer against the exact one (ties count as found only by id);
  - index build time, index size on disk per track, and open time (median of 5: the manifest, the
    memory-mapped arrays of the inverted file, and the fused sample).

With --plan N, `storyscore.plan` of the demo story (4 scenes; models loaded, the best of 3 runs after a
warm-up) on the same kind of store of N tracks: a plan reads every track of the library.

With --end-to-end N, also `Matcher.match` end to end (text reading included) for fresh ~350-word passages
(benchmarks/speed.py's, sentences rotated so none is seen twice) on a real store of N synthetic tracks
(written through Store.put_track, kept in benchmarks/.cache/), exact (every vector loaded from SQLite at
open) against the index: open s (the first approximate open builds the index: reported apart), match ms.

Synthetic vectors, shaped like the stored ones: (V, A) from a mixture of a few moods (off-centre, unequal
spreads), mood profiles that follow (V, A) plus noise, and trained-like 64-d unit vectors around seven
mood centres on a low-rank manifold plus noise. Query vectors come from the same generators (other seeds).

    python benchmarks/search_scale.py [--sizes 10000 100000 1000000] [--queries 200] [--exact-queries 50]
                                      [--end-to-end 100000]

Markdown to stdout, JSON to benchmarks/results/search_scale.json (merged by size, so sizes can be run apart).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import code_version, peak_rss_mib  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

from storyscore.library import ann
from storyscore.spaces import get_space
from storyscore.spaces.zeroshot import mood_word_va

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "search_scale.json"
SPACES = ("va", "tagwords", "fused", "trained64")


def zero_shot_vectors(n: int, seed: int) -> np.ndarray:
    """(n, 26) [V, A, mood profile] rows, as the fused space stores them (va: [:, :2], tagwords: [:, 2:])."""
    rng = np.random.default_rng(seed)
    centres = np.array([[1.2, 0.8], [-1.0, 1.4], [-0.9, -0.8], [0.7, -1.1], [0.1, 0.2]])
    va = centres[rng.integers(0, len(centres), n)] + rng.normal(size=(n, 2)) * [0.6, 0.8] + [0.3, -0.1]
    va = va.astype(np.float32)
    d2 = ((va[:, None, :] - mood_word_va()[None]) ** 2).sum(-1)
    moods = np.exp(-d2 / 2) + rng.normal(scale=0.05, size=d2.shape)
    return np.concatenate([va, moods.astype(np.float32)], axis=1)


def trained_vectors(n: int, seed: int, dim: int = 64) -> np.ndarray:
    """Unit vectors near seven mood centres on an 8-d manifold, plus isotropic noise (a trained metric space)."""
    basis = np.random.default_rng(12345).normal(size=(8, dim))  # the same space for library and queries
    centres = np.random.default_rng(54321).normal(size=(7, 8)) * 1.5
    rng = np.random.default_rng(seed)
    latent = centres[rng.integers(0, 7, n)] + rng.normal(size=(n, 8))
    x = latent @ basis + rng.normal(scale=0.8, size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def dot_similarity(text: np.ndarray, music: np.ndarray) -> np.ndarray:
    """A trained metric space's score (storyscore.train.similarity_from_embeddings: cosine of unit vectors)."""
    return np.asarray(text, dtype=np.float64) @ np.asarray(music, dtype=np.float64).T


class TrainedLike:
    name, version = "trained-bench", "bench-1"
    similarity = staticmethod(dot_similarity)


def space_data(name: str, n: int, queries: int) -> tuple[Any, ann.SearchForm, np.ndarray, np.ndarray]:
    if name == "trained64":
        return TrainedLike(), ann.RawForm("ip", None, dot_similarity), trained_vectors(n, 0), trained_vectors(queries, 1)
    space = get_space(name)
    form = ann.search_form(space)
    assert form is not None
    cols = {"va": slice(0, 2), "tagwords": slice(2, None), "fused": slice(None)}[name]
    return space, form, zero_shot_vectors(n, 0)[:, cols].copy(), zero_shot_vectors(queries, 1)[:, cols].copy()


def exact_top(space: Any, text: np.ndarray, ids: np.ndarray, mat: np.ndarray, k: int = 10) -> np.ndarray:
    row = space.similarity(text, mat)[0]
    best = np.argpartition(-row, k - 1)[:k]
    return ids[best[np.lexsort((ids[best], -row[best]))]]


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1e3
    return {"p50_ms": round(float(np.percentile(ms, 50)), 3), "p99_ms": round(float(np.percentile(ms, 99)), 3),
            "queries": len(ms)}


def folder_bytes(folder: Path, stem: str) -> int:
    return sum(p.stat().st_size for p in folder.glob(f"{stem}*"))


def run_one(name: str, n: int, queries: int, exact_queries: int, work: Path) -> dict[str, Any]:
    space, form, mat, text = space_data(name, n, queries)
    ids = np.arange(1, n + 1, dtype=np.int64)
    source = ann.ArraySource({(space.name, space.version): (ids, mat)})
    folder = work / f"{name}-{n}"
    index = ann.SpaceIndex(folder, space.name, space.version, form)
    t0 = time.perf_counter()
    index.sync(source)
    build_s = time.perf_counter() - t0
    size = folder_bytes(folder, index.stem)
    opens = []
    for _ in range(5):
        fresh = ann.SpaceIndex(folder, space.name, space.version, form)
        t = time.perf_counter()
        assert fresh.open()
        opens.append(time.perf_counter() - t)
    index = fresh
    ann_times, ann_cpu, recall, exact_times = [], [], [], []
    for i in range(queries):
        q = text[i:i + 1]
        t, c = time.perf_counter(), time.thread_time()
        got, _ = index.search(q, 10, source)
        ann_times.append(time.perf_counter() - t)
        ann_cpu.append(time.thread_time() - c)  # this thread's CPU time: what other jobs on the cores do not add
        t = time.perf_counter()
        want = exact_top(space, q, ids, mat)
        if i < exact_queries:
            exact_times.append(time.perf_counter() - t)
        recall.append(len(set(got.tolist()) & set(want.tolist())) / 10)
    return {
        "space": name, "n": n, "dim": int(mat.shape[1]), "form": form.kind,
        "exact": percentiles(exact_times),
        "ann": {**percentiles(ann_times), "cpu_p50_ms": round(float(np.percentile(ann_cpu, 50)) * 1e3, 3),
                "cpu_p99_ms": round(float(np.percentile(ann_cpu, 99)) * 1e3, 3), "recall_at_10": round(float(np.mean(recall)), 4),
                "recall_min": float(np.min(recall)), "pool": ann.POOL, "build_s": round(build_s, 2),
                "scan_factor": ann.SCAN_FACTOR, "probe_lists": ann.PROBE_LISTS, "bytes_per_track": round(size / n, 1),
                "open_ms": round(float(np.median(opens)) * 1e3, 3)},
    }


def synthetic_store(n: int) -> Path:
    """A store of n tracks holding the zero-shot spaces' vectors (zero_shot_vectors), written once and kept."""
    from storyscore.audio.descriptors import SILENT
    from storyscore.audio.encoder import TAGGERS, TrackAnalysis
    from storyscore.library.store import Store

    db = HERE / ".cache" / f"search_scale_{n}.sqlite"
    if db.exists():
        return db
    db.parent.mkdir(parents=True, exist_ok=True)
    partial = db.with_name(db.name + ".partial")
    for path in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        path.unlink(missing_ok=True)
    vectors = zero_shot_vectors(n, 0)
    analysis = TrackAnalysis(180.0, {t: np.zeros(50, dtype=np.float32) for t in TAGGERS},
                             np.zeros(400, dtype=np.float32), SILENT, 1)
    spaces = {name: get_space(name) for name in ("va", "tagwords", "fused")}
    cols = {"va": slice(0, 2), "tagwords": slice(2, None), "fused": slice(None)}
    with Store(partial) as store:
        for i in range(n):
            store.put_track(f"/synthetic/track_{i:07d}.ogg", content_hash=f"{i:032x}", size=1, mtime=0.0,
                            analysis=analysis, valence=float(vectors[i, 0]) / 2.5, arousal=float(vectors[i, 1]) / 2.5,
                            moods=["calm"], vectors={k: (s.version, vectors[i, cols[k]]) for k, s in spaces.items()})
    partial.rename(db)
    return db


def plan_at_scale(n: int, runs: int = 3) -> dict[str, Any]:
    """`storyscore.plan` of the demo story on a store of n synthetic tracks (fused, the default space)."""
    import storyscore

    story = Path(storyscore.__file__).parent / "data" / "demo_story.md"
    db = synthetic_store(n)
    storyscore.plan(story, db=str(db))  # warm: models loaded
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        plan = storyscore.plan(story, db=str(db))
        times.append(time.perf_counter() - t0)
    return {"n": n, "scenes": len(plan.scenes), "best_s": round(min(times), 3),
            "runs_s": [round(t, 3) for t in times], "peak_rss_mib": round(peak_rss_mib())}


def end_to_end(n: int, runs: int, spaces: list[str]) -> dict[str, Any]:
    """Matcher open and match of fresh passages, exact against the index, on a store of n tracks."""
    from speed import PASSAGE, passage_variants  # noqa: E402  (benchmarks/ is on sys.path)

    from storyscore.library.search import Matcher

    t0 = time.perf_counter()
    db = synthetic_store(n)
    out: dict[str, Any] = {"n": n, "store_seconds": round(time.perf_counter() - t0, 1),
                           "store_bytes_per_track": round(db.stat().st_size / n, 1)}
    shutil.rmtree(ann.index_folder(db), ignore_errors=True)
    default = ann.ANN_THRESHOLD
    for name in spaces:
        for mode, threshold in (("exact", 10**12), ("ann", default)):
            ann.ANN_THRESHOLD = threshold
            opens = []
            for _ in range(2 if mode == "ann" else 1):  # the first approximate open builds the index
                t0 = time.perf_counter()
                matcher = Matcher(db, name)
                opens.append(time.perf_counter() - t0)
                if len(opens) == 1 and mode == "ann":
                    matcher.close()
            try:
                matcher.match(PASSAGE, 10)  # warm: text models loaded
                times = []
                for text in passage_variants(runs, f"e2e-{n}-{name}-{mode}-"):
                    t0 = time.perf_counter()
                    matcher.match(text, 10)
                    times.append(time.perf_counter() - t0)
            finally:
                matcher.close()
            out[f"{name}/{mode}"] = {"open_s": round(opens[-1], 3), **percentiles(times),
                                     **({"first_open_builds_index_s": round(opens[0], 1)} if mode == "ann" else {})}
            print(f"end to end {n:,} {name} {mode}: {json.dumps(out[f'{name}/{mode}'])}", file=sys.stderr, flush=True)
    ann.ANN_THRESHOLD = default
    out["index_bytes_per_track"] = round(sum(p.stat().st_size for p in ann.index_folder(db).iterdir()) / n, 1)
    return out


def markdown(rows: list[dict[str, Any]]) -> str:
    out = ["| tracks | space | dim | exact p50 / p99 ms | ANN p50 / p99 ms | ANN CPU p50 / p99 ms | recall@10 (min) | "
           "build s | bytes/track | open ms |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["n"], SPACES.index(r["space"]))):
        e, a = r["exact"], r["ann"]
        out.append(f"| {r['n']:,} | {r['space']} | {r['dim']} | {e['p50_ms']:.1f} / {e['p99_ms']:.1f} | "
                   f"{a['p50_ms']:.2f} / {a['p99_ms']:.2f} | "
                   + (f"{a['cpu_p50_ms']:.2f} / {a['cpu_p99_ms']:.2f}" if "cpu_p99_ms" in a else "–")
                   + f" | {a['recall_at_10']:.3f} ({a['recall_min']:.1f}) | "
                   f"{a['build_s']:.1f} | {a['bytes_per_track']:.0f} | {a['open_ms']:.1f} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=None,
                    help="library sizes (default 10000 100000 1000000; none with --end-to-end alone)")
    ap.add_argument("--spaces", nargs="+", default=list(SPACES), choices=SPACES)
    ap.add_argument("--queries", type=int, default=200, help="ANN queries per size and space (all scored for recall)")
    ap.add_argument("--exact-queries", type=int, default=50, help="of those, how many time the exact search")
    ap.add_argument("--end-to-end", type=int, default=0, metavar="N", help="also Matcher.match on a store of N tracks")
    ap.add_argument("--runs", type=int, default=20, help="fresh passages per end-to-end measurement")
    ap.add_argument("--plan", type=int, default=0, metavar="N", help="also plan the demo story on a store of N tracks")
    ap.add_argument("--e2e-spaces", nargs="+", default=["fused", "va", "tagwords"],
                    choices=["fused", "va", "tagwords"], help="spaces measured end to end")
    args = ap.parse_args()
    if args.sizes is None:
        args.sizes = [] if args.end_to_end or args.plan else [10_000, 100_000, 1_000_000]
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    rows = [r for r in previous.get("rows", []) if (r["n"], r["space"]) not in
            {(n, s) for n in args.sizes for s in args.spaces}]
    e2e = previous.get("end_to_end") or {}
    if "n" in e2e:  # one run, as the first version of this script wrote it
        e2e = {str(e2e["n"]): e2e}
    if args.end_to_end:
        e2e[str(args.end_to_end)] = {**end_to_end(args.end_to_end, args.runs, args.e2e_spaces), "code": code_version(),
                                     "load_avg": [round(x, 2) for x in os.getloadavg()]}
    plans = previous.get("plan") or {}
    if args.plan:
        plans[str(args.plan)] = {**plan_at_scale(args.plan), "code": code_version(),
                                 "load_avg": [round(x, 2) for x in os.getloadavg()]}
        print(f"plan at {args.plan:,}: {json.dumps(plans[str(args.plan)])}", file=sys.stderr, flush=True)
    work = Path(tempfile.mkdtemp(prefix="search_scale_", dir=HERE / ".cache" if (HERE / ".cache").is_dir() else None))
    try:
        for n in args.sizes:
            for name in args.spaces:
                started = time.perf_counter()
                row = run_one(name, n, args.queries, args.exact_queries, work)
                row.update(load_avg=[round(x, 2) for x in os.getloadavg()], code=code_version(),
                           written=time.strftime("%Y-%m-%dT%H:%M:%S"))
                rows.append(row)
                shutil.rmtree(work / f"{name}-{n}", ignore_errors=True)
                print(f"{n:>9,} {name:<9} done in {time.perf_counter() - started:.0f} s: {json.dumps(row['ann'])}",
                      file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {
        "code": code_version(), "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (shared), "
        f"{platform.python_implementation()} {platform.python_version()}",
        "engine": "storyscore IVF (library/ivf.py)", "peak_rss_mib": round(peak_rss_mib()),
        "written": time.strftime("%Y-%m-%dT%H:%M:%S"), "rows": rows, "end_to_end": e2e, "plan": plans,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    print(markdown(rows))


if __name__ == "__main__":
    main()
