"""Speed benchmark: indexing throughput vs the decode floor, `match` latency per space, peak memory.

(a) Index a folder (default: the demo library rendered into benchmarks/.cache/demo; or --music DIR) into a
    fresh store and report seconds of audio per wall second. In the same process, time `load_audio` on the
    same files before and after indexing (the decode floor; twice, to control drift) and report
    index time / decode-floor time.
(b) `Matcher.match` latency for a ~300-word passage, against the indexed library and against a store of
    synthetic tracks (default 100,000, inserted straight into SQLite in one transaction), per space. Models are
    loaded and warmed before timing; we report the median of --runs runs (and min/max).
(c) Peak RSS of the process (resource.getrusage), after each stage.

Markdown goes to stdout, JSON to benchmarks/results/speed.json.

    python benchmarks/speed.py [--quick] [--music DIR] [--synthetic N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import code_version, peak_rss_mib  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

from storyscore.audio.decode import load_audio
from storyscore.library.indexer import find_audio_files, index_paths
from storyscore.library.search import Matcher
from storyscore.library.store import PIPELINE_VERSION, Store
from storyscore.spaces import ZERO_SHOT_SPACES, get_space

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
RESULTS = HERE / "results"
ENCODER_RATE = 16000  # storyscore.audio.encoder.ENCODER_RATE (what index_paths decodes at)

PASSAGE = """\
The storm had followed them for three days, and on the fourth night it finally caught the caravan in the
narrow pass below the old fortress. Mara pulled her cloak tight and watched the lanterns swing wildly on
their poles while the mules screamed and stamped. Somewhere behind her a wagon wheel splintered with a crack
like a gunshot, and for a moment nobody moved. Then the shouting began. Her brother Tomas ran past with a
coil of rope over his shoulder, his face pale and set, and she followed him without thinking, slipping on
the wet stones. The wagon lay on its side at the edge of the ravine, half its load already gone into the
dark water below. Old Petra was trapped beneath it, calling out in a thin, frightened voice that Mara had
never heard from her before. They worked in silence, knotting the rope, bracing their feet, counting under
their breath. The wind tore at them and the rain came sideways, cold as needles. When at last the wagon
shifted and Petra crawled free, bruised and shaking but alive, Tomas laughed out loud, a wild, cracked
laugh of pure relief, and Mara found that she was crying. They carried the old woman back to the fire and
wrapped her in every blanket they could find. Nobody slept. They sat close together, listening to the storm
slowly lose its fury, sharing the last of the bread and a flask of bitter tea. Near dawn the clouds broke
apart and a pale, gentle light spread over the mountains. The pass below them was green and quiet, and the
river sparkled as if nothing had happened at all. Petra took Mara's hand and squeezed it, and said nothing,
and did not need to. For the first time in weeks Mara felt warm, and safe, and strangely hopeful about the
long road still ahead of them. Tomas began to hum an old song their mother used to sing, and one by one the
others joined in, softly at first, then louder, until the whole camp was singing as the sun came up.
"""


def decode_floor(files: list[Path]) -> tuple[float, float]:
    """(wall seconds, audio seconds) to decode and resample every file as index_paths does."""
    t0 = time.perf_counter()
    audio_s = 0.0
    for f in files:
        audio_s += len(load_audio(f, ENCODER_RATE)) / ENCODER_RATE
    return time.perf_counter() - t0, audio_s


def ensure_demo() -> Path:
    from storyscore.demo.library import render_demo_library

    out = CACHE / "demo"
    render_demo_library(out)
    return out


def bench_index(music: Path, work: Path, warm_file: Path | None) -> dict[str, Any]:
    files = list(find_audio_files([music.resolve()]))
    if not files:
        raise SystemExit(f"{music}: no audio files")
    if warm_file is not None:  # load the taggers/models once so the timed run measures steady-state work
        t0 = time.perf_counter()
        index_paths([warm_file], work / "warmup.sqlite")
        warm_s = time.perf_counter() - t0
    else:
        warm_s = 0.0
    floor_before, audio_s = decode_floor(files)
    db = work / "index.sqlite"
    report = index_paths([music], db)
    floor_after, _ = decode_floor(files)
    floor = (floor_before + floor_after) / 2
    return {
        "folder": str(music),
        "files": len(files),
        "tracks": report.total_tracks,
        "skipped": len(report.skipped),
        "audio_seconds": report.audio_seconds,
        "index_wall_seconds": report.wall_seconds,
        "index_x_realtime": report.audio_seconds / report.wall_seconds if report.wall_seconds else float("nan"),
        "decode_floor_seconds_before": floor_before,
        "decode_floor_seconds_after": floor_after,
        "decode_audio_seconds": audio_s,
        "decode_x_realtime": audio_s / floor if floor else float("nan"),
        "index_over_decode_floor": report.wall_seconds / floor if floor else float("nan"),
        "warmup_seconds": warm_s,
        "db": str(db),
        "peak_rss_mib": peak_rss_mib(),
    }


def make_synthetic_store(real_db: Path, db: Path, n: int, seed: int = 0) -> dict[str, Any]:
    """A store of `n` fake tracks: vectors resampled from the real store's per space (plus noise), one
    transaction. Analysis blobs are empty (match never reads them)."""
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    with Store(real_db, create=False) as real:
        proto = real.tracks()[0]
        spaces = {}
        for name in ZERO_SHOT_SPACES:
            space = get_space(name)
            _, mat = real.vectors(name, space.version)
            spaces[name] = (space.version, mat)
    if db.exists():
        db.unlink()
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    dims = {name: int(mat.shape[1]) for name, (_, mat) in spaces.items()}
    with Store(db) as store:
        conn = store.conn
        desc = json.dumps(proto.descriptors)
        now = time.time()
        va = rng.uniform(-1, 1, size=(n, 2))
        with store.transaction():
            conn.executemany(
                "INSERT INTO tracks(id, path, content_hash, size, mtime, duration, pipeline_version, valence, "
                "arousal, moods, descriptors, tags, features, windows, indexed_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                ((i + 1, f"/synthetic/track_{i:06d}.ogg", f"{i:032x}", 1000, 0.0, 180.0, PIPELINE_VERSION,
                  float(va[i, 0]), float(va[i, 1]), json.dumps(list(proto.moods)), desc, b"", b"", 1, now)
                 for i in range(n)))
            for name, (version, mat) in spaces.items():
                pick = mat[rng.integers(0, len(mat), size=n)]
                scale = mat.std(axis=0, keepdims=True) * 0.3 + 1e-6
                vecs = (pick + rng.normal(size=pick.shape) * scale).astype(np.float32)
                conn.executemany("INSERT INTO vectors(track_id, space, version, vec) VALUES (?,?,?,?)",
                                 ((i + 1, name, version, vecs[i].tobytes()) for i in range(n)))
    return {"n": n, "seconds": time.perf_counter() - t0, "dims": dims, "db": str(db)}


def passage_variants(n: int, salt: str = "") -> list[str]:
    """`n` distinct passages of the same words (sentences rotated): the text reading is memoised per exact
    text (an lru_cache in storyscore.spaces.zeroshot), so timing one passage repeatedly would measure the
    cache, not the text models."""
    sentences = [s.strip() + "." for s in PASSAGE.replace("\n", " ").split(".") if s.strip()]
    return [" ".join(sentences[k % len(sentences):] + sentences[:k % len(sentences)]) + f" ({salt}{k})"
            for k in range(n)]


def bench_match(db: Path, runs: int, top: int = 10, warm_text: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ZERO_SHOT_SPACES:
        variants = passage_variants(runs, f"{db.stem}-{name}-")  # unseen by every earlier call
        t0 = time.perf_counter()
        matcher = Matcher(db, name)
        open_s = time.perf_counter() - t0
        try:
            t0 = time.perf_counter()
            matcher.match(warm_text or PASSAGE, top)  # warm-up: loads the text models
            first_s = time.perf_counter() - t0
            fresh, cached = [], []
            for k in range(runs):
                t0 = time.perf_counter()
                matcher.match(variants[k], top)  # a text never seen before: the full work
                fresh.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                matcher.match(variants[k], top)  # the same text again: the memoised reading
                cached.append(time.perf_counter() - t0)
            n_tracks = len(matcher.ids)
        finally:
            matcher.close()
        out[name] = {
            "tracks": n_tracks,
            "open_seconds": open_s,
            "first_match_seconds": first_s,
            "median_ms": statistics.median(fresh) * 1000,
            "min_ms": min(fresh) * 1000,
            "max_ms": max(fresh) * 1000,
            "cached_median_ms": statistics.median(cached) * 1000,
            "runs": runs,
            "peak_rss_mib": peak_rss_mib(),
        }
    return out


def to_markdown(res: dict[str, Any]) -> str:
    ix = res["index"]
    lines = [
        f"Machine: {res['machine']['cpu_count']} CPUs, {res['machine']['platform']}, "
        f"Python {res['machine']['python']}; pipeline {res['pipeline_version']}.",
        "",
        "**Indexing** (" + f"{ix['files']} files, {ix['audio_seconds']:.0f} s of audio from `{ix['folder']}`)",
        "",
        "| measure | wall s | × real time |",
        "|---|---|---|",
        f"| index (fresh store, models warm) | {ix['index_wall_seconds']:.1f} | {ix['index_x_realtime']:.1f} |",
        f"| decode floor (load_audio @16 kHz), before | {ix['decode_floor_seconds_before']:.2f} | "
        f"{ix['decode_audio_seconds'] / ix['decode_floor_seconds_before']:.0f} |",
        f"| decode floor, after | {ix['decode_floor_seconds_after']:.2f} | "
        f"{ix['decode_audio_seconds'] / ix['decode_floor_seconds_after']:.0f} |",
        f"| **index / decode floor** | {ix['index_over_decode_floor']:.1f}× | |",
        "",
        f"Model warm-up (first index call, one file): {ix['warmup_seconds']:.1f} s.",
        "",
        f"**`match` latency** (passage of {res['passage_words']} words, top 10; median of "
        f"{res['runs']} warm runs, each on a passage not seen before (sentences rotated), min–max in brackets; "
        "open = Matcher() incl. loading the vectors; first match = the first call in the process or space, "
        "loading models; repeated text = the same passage again, served by the memoised text reading)",
        "",
        "| space | library | tracks | open s | first match s | median ms (min–max) | repeated text, median ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for lib, block in res["match"].items():
        for space, m in block.items():
            lines.append(f"| {space} | {lib} | {m['tracks']:,} | {m['open_seconds']:.2f} | "
                         f"{m['first_match_seconds']:.2f} | {m['median_ms']:.1f} ({m['min_ms']:.1f}–{m['max_ms']:.1f}) | "
                         f"{m['cached_median_ms']:.1f} |")
    syn = res["synthetic_store"]
    lines += [
        "",
        f"Synthetic store: {syn['n']:,} tracks, dims {syn['dims']}, built in {syn['seconds']:.1f} s.",
        "",
        f"**Peak RSS**: {res['peak_rss_mib']:.0f} MiB (after indexing: {ix['peak_rss_mib']:.0f} MiB).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--music", type=Path, help="folder to index (default: the rendered demo library)")
    ap.add_argument("--synthetic", type=int, help="synthetic store size (default 100000; 20000 with --quick)")
    ap.add_argument("--runs", type=int, help="timed match runs per space (default 9; 5 with --quick)")
    ap.add_argument("--quick", action="store_true", help="smaller synthetic store, fewer runs")
    ap.add_argument("--work", type=Path, default=CACHE / "speed", help="scratch folder for the stores")
    ap.add_argument("--out", type=Path, default=RESULTS / "speed.json")
    args = ap.parse_args(argv)
    n_syn = args.synthetic or (20_000 if args.quick else 100_000)
    runs = max(5, args.runs or (5 if args.quick else 9))

    music = args.music if args.music is not None else ensure_demo()
    if args.work.exists():
        shutil.rmtree(args.work)
    args.work.mkdir(parents=True)
    files = sorted(find_audio_files([music.resolve()]), key=lambda p: p.stat().st_size)
    res: dict[str, Any] = {
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "pipeline_version": PIPELINE_VERSION,
        "code": code_version(),
        "passage_words": len(PASSAGE.split()),
        "runs": runs,
        "quick": args.quick,
    }
    print(f"indexing {music} ...", file=sys.stderr)
    res["index"] = bench_index(music, args.work, files[0] if files else None)
    real_db = Path(res["index"]["db"])
    print("match latency (indexed library) ...", file=sys.stderr)
    res["match"] = {"indexed": bench_match(real_db, runs)}
    print(f"building synthetic store of {n_syn} tracks ...", file=sys.stderr)
    syn_db = args.work / "synthetic.sqlite"
    res["synthetic_store"] = make_synthetic_store(real_db, syn_db, n_syn)
    res["match"]["synthetic"] = bench_match(syn_db, runs)
    res["peak_rss_mib"] = peak_rss_mib()

    print(to_markdown(res))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
