"""Indexing at scale (issue #12): throughput with 1 vs 2 workers vs the decode-only floor, and peak memory
while indexing 100 files vs N.

(a) Throughput, in one run, on real music: the tracks of one game from the benchmark corpus
    (benchmarks/.cache/corpus, fetched by fetch_corpus.py; default zero_ad, 61 tracks, enough for two workers
    to run the descriptors in processes, which they do past 32 files), copied to a temp folder; generated
    audio when the corpus is absent (or --music DIR). Each measurement runs in its own process, which first
    indexes a short generated file (models loaded, caches warm) and then times `index_paths` into a fresh
    store: with 1 worker, with 2, and optionally on a local Ray (--ray). The decode floor is `load_audio` at
    16 kHz over the same files, one after another and on 2 threads, timed before and after the indexing runs.
    The targets: 2 workers >= 1.7x one; indexing within 3x the floor. Beside them, what a second thread can
    add on the machine at that moment: blake2b (no GIL) over the same bytes on 1 and 2 threads, before and
    after (on a shared 2-core machine this ceiling is often far below 2).
(b) Peak memory: a fresh process indexes 100 short generated files, another N (default 1000), each with the
    default workers; the peak RSS of the process with its worker processes (sampled from /proc every 0.2 s)
    and of the main process alone (getrusage). The one step that reads the whole library, re-reading every
    track against it (indexer.refresh_readings), is also measured at 10,000 stored tracks (the 100-file
    store's rows copied under new paths), for the issue's 10k figure. The target: N files <= 1.2x 100 files
    (the issue's N is 10,000; N here is what runs in a few minutes on a 2-core machine).

The load average of the machine is recorded beside each figure. Markdown on stdout; JSON to
benchmarks/results/index_scale.json.

    python benchmarks/index_scale.py [--music DIR | --game NAME] [--files N] [--ray] [--skip-memory]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import code_version, peak_rss_mib  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

HERE = Path(__file__).resolve().parent
CORPUS = HERE / ".cache" / "corpus"
RESULTS = HERE / "results"
AUDIO_EXTENSIONS = (".ogg", ".opus", ".flac", ".mp3", ".wav")
SR = 16000


def generated_piece(seconds: float, seed: int) -> np.ndarray:
    """A plucked chord on a beat with a little noise, different per seed (enough for the taggers)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    root = 110.0 * 2 ** (rng.integers(0, 24) / 12)
    bpm = float(rng.uniform(60, 170))
    env = np.exp(-np.mod(t, 60.0 / bpm) * 6.0)
    sig = sum(np.sin(2 * np.pi * root * r * t) for r in (1.0, 1.26, 1.5)) / 3
    return (0.5 * sig * env + rng.normal(0, 0.01, len(t))).astype(np.float32)


def write_generated(folder: Path, count: int, seconds: float) -> Path:
    import soundfile as sf

    folder.mkdir(parents=True, exist_ok=True)
    for k in range(count):
        path = folder / f"{k // 100:03d}" / f"piece {k:05d}.wav"
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            sf.write(str(path), generated_piece(seconds, k), SR, subtype="PCM_16")
    return folder


def game_tracks(game: str, limit: int) -> list[Path]:
    files = sorted(p for p in (CORPUS / game).rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file())
    return files[:limit]


def load() -> float:
    return round(os.getloadavg()[0], 2)


# --- what runs in a child process ------------------------------------------------------------------------
def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants (local worker processes, a local Ray's)."""
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (OSError, StopIteration):  # ended meanwhile
            continue
    return total


class TreeRssPeak:
    """The peak of tree_rss_mib(this process), sampled every 0.2 s on a thread while the block runs."""

    def __init__(self) -> None:
        import threading

        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, tree_rss_mib(os.getpid()))

    def __enter__(self) -> TreeRssPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def child_index(folder: str, db: str, workers: int | None, ray: bool) -> dict[str, Any]:
    from storyscore.library.indexer import index_paths

    with tempfile.TemporaryDirectory() as tmp:  # warm: models loaded, numba and essentia ready
        warm = write_generated(Path(tmp) / "warm", 1, 6.0)
        index_paths([warm], Path(tmp) / "warm.sqlite", workers=workers)
    before = load()
    t0 = time.perf_counter()
    with TreeRssPeak() as tree:
        report = index_paths([folder], db, workers=workers, ray="" if ray else None)
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "files": report.added + len(report.skipped), "tracks": report.total_tracks,
            "skipped": len(report.skipped), "audio_s": report.audio_seconds,
            "x_realtime": report.audio_seconds / wall, "peak_rss_mib": peak_rss_mib(),
            "peak_tree_rss_mib": tree.peak, "load_before": before, "load_after": load()}


def child_refresh(source_db: str, rows: int) -> dict[str, Any]:
    """The one indexing step that reads the whole library (refresh_readings re-reads every track against
    it) at `rows` tracks: `source_db`'s rows copied under new paths, in a process warmed as an index run."""
    import sqlite3

    from storyscore.library.indexer import index_paths, refresh_readings
    from storyscore.library.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        warm = write_generated(Path(tmp) / "warm", 1, 6.0)
        index_paths([warm], Path(tmp) / "warm.sqlite")
        db = Path(tmp) / "big.sqlite"
        shutil.copy2(source_db, db)
        with sqlite3.connect(db) as conn:
            cols = ", ".join(r[1] for r in conn.execute("PRAGMA table_info(tracks)") if r[1] not in ("id", "path"))
            have, copy = conn.execute("SELECT COUNT(*) FROM tracks").fetchone()[0], 0
            while have < rows:
                copy += 1
                conn.execute(f"INSERT INTO tracks(path, {cols}) SELECT path || '#{copy}', {cols} FROM tracks "
                             f"WHERE path NOT LIKE '%#%' LIMIT {rows - have}")
                have = conn.execute("SELECT COUNT(*) FROM tracks").fetchone()[0]
        before = peak_rss_mib()
        t0 = time.perf_counter()
        with Store(db) as store:
            refresh_readings(store)
            tracks = store.count()
        return {"tracks": tracks, "wall_s": time.perf_counter() - t0, "peak_rss_before_mib": before,
                "peak_rss_mib": peak_rss_mib(), "load": load()}


def child_decode(folder: str, threads: int) -> dict[str, Any]:
    from concurrent.futures import ThreadPoolExecutor

    from storyscore.audio.decode import load_audio
    from storyscore.library.indexer import find_audio_files

    files = list(find_audio_files([Path(folder)]))
    load_audio(files[0], SR)  # imports and codecs warm
    before = load()
    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        audio_s = sum(len(a) / SR for a in pool.map(lambda f: load_audio(f, SR), files))
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "files": len(files), "audio_s": audio_s, "x_realtime": audio_s / wall,
            "threads": threads, "load_before": before, "load_after": load()}


def child_capacity() -> dict[str, Any]:
    """How much a second thread can add on this machine now: blake2b (which releases the GIL) over the same
    bytes on 1 thread and on 2. On an idle 2-core machine the ratio is near 2; it is the ceiling for the
    2-worker speed-up measured beside it."""
    import hashlib
    from concurrent.futures import ThreadPoolExecutor

    data = os.urandom(64 << 20)
    walls = {}
    for threads in (1, 2, 1, 2):
        t0 = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda _: hashlib.blake2b(data).digest(), range(8)))
        walls.setdefault(threads, []).append(time.perf_counter() - t0)
    one, two = min(walls[1]), min(walls[2])
    return {"one_thread_s": one, "two_threads_s": two, "ceiling": one / two, "load": load()}


def in_child(*args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"child {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the benchmark ---------------------------------------------------------------------------------------
def throughput(folder: Path, tmp: Path, with_ray: bool) -> dict[str, Any]:
    runs: dict[str, Any] = {"capacity_before": in_child("capacity"),
                            "decode_serial_before": in_child("decode", str(folder), "1"),
                            "decode_2_threads_before": in_child("decode", str(folder), "2")}
    for name, workers, ray in (("index_1_worker", "1", "0"), ("index_2_workers", "2", "0")) + (
            (("index_ray_local", "0", "1"),) if with_ray else ()):
        db = tmp / f"{name}.sqlite"
        runs[name] = in_child("index", str(folder), str(db), workers, ray)
        print(f"  {name}: {runs[name]['wall_s']:.1f} s (load {runs[name]['load_before']})", file=sys.stderr)
    runs["decode_serial_after"] = in_child("decode", str(folder), "1")
    runs["decode_2_threads_after"] = in_child("decode", str(folder), "2")
    runs["capacity_after"] = in_child("capacity")
    runs["capacity_ceiling"] = (runs["capacity_before"]["ceiling"] + runs["capacity_after"]["ceiling"]) / 2
    floor = min(runs["decode_serial_before"]["wall_s"], runs["decode_serial_after"]["wall_s"])
    floor2 = min(runs["decode_2_threads_before"]["wall_s"], runs["decode_2_threads_after"]["wall_s"])
    one, two = runs["index_1_worker"]["wall_s"], runs["index_2_workers"]["wall_s"]
    runs["speedup_2_over_1"] = one / two
    runs["index_2_workers_over_decode_floor"] = two / floor
    runs["index_2_workers_over_decode_floor_2_threads"] = two / floor2
    runs["index_1_worker_over_decode_floor"] = one / floor
    runs["targets"] = {"speedup_2_over_1>=1.7": one / two >= 1.7, "index_within_3x_floor": two / floor <= 3.0}
    return runs


def memory(tmp: Path, n: int, seconds: float) -> dict[str, Any]:
    big = write_generated(HERE / ".cache" / "index_scale" / f"generated_{seconds:g}s", n, seconds)
    small = tmp / "hundred"
    for path in sorted(big.rglob("*.wav"))[:100]:
        (small / path.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, small / path.parent.name / path.name)
    out: dict[str, Any] = {"file_seconds": seconds}
    for label, folder in (("100", small), (str(n), big)):
        out[label] = in_child("index", str(folder), str(tmp / f"mem_{label}.sqlite"), "0", "0")
        print(f"  {label} files: peak {out[label]['peak_tree_rss_mib']:.0f} MiB with its workers "
              f"({out[label]['peak_rss_mib']:.0f} MiB the main process), {out[label]['wall_s']:.0f} s", file=sys.stderr)
    out["refresh_at_10000"] = in_child("refresh", str(tmp / "mem_100.sqlite"), "10000")
    print(f"  re-reading 10,000 stored tracks: peak {out['refresh_at_10000']['peak_rss_mib']:.0f} MiB",
          file=sys.stderr)
    out["ratio_10000_estimate"] = (max(out[str(n)]["peak_tree_rss_mib"], out["refresh_at_10000"]["peak_rss_mib"])
                                   / out["100"]["peak_tree_rss_mib"])
    out["ratio"] = out[str(n)]["peak_tree_rss_mib"] / out["100"]["peak_tree_rss_mib"]
    out["ratio_main_process"] = out[str(n)]["peak_rss_mib"] / out["100"]["peak_rss_mib"]
    out["target_ratio<=1.2"] = out["ratio"] <= 1.2
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, *rest = sys.argv[2:]
        if kind == "refresh":
            result = child_refresh(rest[0], int(rest[1]))
        elif kind == "capacity":
            result = child_capacity()
        elif kind == "decode":
            result = child_decode(rest[0], int(rest[1]))
        else:
            result = child_index(rest[0], rest[1], int(rest[2]) or None, rest[3] == "1")
        print(json.dumps(result))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--music", type=Path, help="a folder of music to time (default: one game of the corpus)")
    ap.add_argument("--game", default="zero_ad", help="the corpus game whose tracks are timed")
    ap.add_argument("--tracks", type=int, default=64, help="at most this many of its tracks")
    ap.add_argument("--files", type=int, default=1000, help="N for the memory comparison (100 vs N files)")
    ap.add_argument("--file-seconds", type=float, default=2.0, help="length of each generated file")
    ap.add_argument("--ray", action="store_true", help="also time indexing on a local Ray (the `ray` extra)")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args()

    out_file = RESULTS / "index_scale.json"
    earlier = json.loads(out_file.read_text()) if out_file.exists() else {}
    result: dict[str, Any] = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
                              "code": code_version(), "load_at_start": list(os.getloadavg()),
                              "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if not args.skip_throughput:
            music = tmp / "music"
            if args.music:
                shutil.copytree(args.music, music)
                source = str(args.music)
            elif (tracks := game_tracks(args.game, args.tracks)):
                music.mkdir()
                for path in tracks:
                    shutil.copy2(path, music / path.name)
                source = f"{args.game} ({len(tracks)} tracks of the benchmark corpus)"
            else:
                write_generated(music, 16, 60.0)
                source = "16 generated pieces of 60 s (no corpus: run benchmarks/fetch_corpus.py)"
            print(f"throughput on {source}", file=sys.stderr)
            result["throughput"] = {"source": source, **throughput(music, tmp, args.ray)}
        if not args.skip_memory:
            print(f"memory: 100 vs {args.files} generated files", file=sys.stderr)
            result["memory"] = memory(tmp, args.files, args.file_seconds)
    result["load_at_end"] = list(os.getloadavg())
    for part in ("throughput", "memory"):  # a part skipped this time keeps its last figures
        if part not in result and part in earlier:
            result[part] = {**earlier[part], "from_run": earlier.get("started"), "code": earlier.get("code")}
    RESULTS.mkdir(exist_ok=True)
    out_file.write_text(json.dumps(result, indent=1) + "\n")
    print_markdown(result)


def print_markdown(r: dict[str, Any]) -> None:
    print(f"machine: {r['machine']}; load average at start {r['load_at_start'][0]:.1f}, "
          f"at end {r['load_at_end'][0]:.1f}; code {r['code']}\n")
    if "throughput" in r:
        t = r["throughput"]
        print(f"Throughput on {t['source']}:\n\n| run | wall s | x real time | load before/after |\n|---|---|---|---|")
        for name in ("decode_serial_before", "decode_2_threads_before", "index_1_worker", "index_2_workers",
                     "index_ray_local", "decode_serial_after", "decode_2_threads_after"):
            if name in t:
                x = t[name]
                print(f"| {name} | {x['wall_s']:.1f} | {x['x_realtime']:.0f} | {x['load_before']} / {x['load_after']} |")
        print(f"\n2 workers over 1: {t['speedup_2_over_1']:.2f}x (target >= 1.7; a second thread of blake2b, "
              f"which needs no GIL, gave {t['capacity_ceiling']:.2f}x on this machine then); 2 workers vs the serial decode "
              f"floor: {t['index_2_workers_over_decode_floor']:.1f}x (target <= 3), vs decoding on 2 threads: "
              f"{t['index_2_workers_over_decode_floor_2_threads']:.1f}x\n")
    if "memory" in r:
        m = r["memory"]
        n = next(k for k in m if k.isdigit() and k != "100")
        print(f"Peak RSS indexing {m['file_seconds']:g}-s generated files (the process and its worker processes; "
              f"the main process alone in brackets): 100 files {m['100']['peak_tree_rss_mib']:.0f} MiB "
              f"({m['100']['peak_rss_mib']:.0f}), {m['100']['wall_s']:.0f} s; {n} files "
              f"{m[n]['peak_tree_rss_mib']:.0f} MiB ({m[n]['peak_rss_mib']:.0f}), {m[n]['wall_s']:.0f} s: ratio "
              f"{m['ratio']:.3f} ({m['ratio_main_process']:.3f}) (target <= 1.2)")
        r10 = m["refresh_at_10000"]
        print(f"\nThe step that reads the whole library (re-reading every track) on 10,000 stored tracks (rows "
              f"copied): peak {r10['peak_rss_mib']:.0f} MiB, {r10['wall_s']:.1f} s; so indexing 10,000 files "
              f"would peak at about {m['ratio_10000_estimate']:.2f}x the 100-file run")


if __name__ == "__main__":
    main()
