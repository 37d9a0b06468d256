"""How much of a track the Essentia descriptors need to read: the shipped excerpts against 240 s.

For every track of the game-music corpus (benchmarks/.cache/corpus, fetched by fetch_corpus.py), decoded at
16 kHz as `index` does, the descriptors are computed twice in this process, one right after the other: on
the shipped excerpts (`encoder.DESCRIPTOR_SECONDS` in `DESCRIPTOR_EXCERPTS` pieces) and on the previous
setting (240 s in 4 pieces). Reported: the time of each and their ratio (summed over tracks, same process,
interleaved, so machine load hits both alike), and how well the short reading agrees with the long one:
Spearman's rho per numeric descriptor over the tracks with a bootstrap 95% interval, the share of tracks
whose key (and mode) is the same, and the share whose tempo is within 4%. Tracks no longer than the shipped
excerpts read identically both ways and are counted apart.

    .venv/bin/python benchmarks/descriptor_excerpts.py [--games naev,flare] [--limit N]

Markdown on stdout; JSON to benchmarks/results/descriptor_excerpts.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from common import HERE, code_version

from storyscore.audio.decode import load_audio
from storyscore.audio.descriptors import describe
from storyscore.audio.encoder import DESCRIPTOR_EXCERPTS, DESCRIPTOR_SECONDS, ENCODER_RATE, descriptor_audio
from storyscore.datasets.games import load_tracks
from storyscore.errors import AudioDecodeError

CORPUS = HERE / ".cache" / "corpus"
RESULTS = HERE / "results" / "descriptor_excerpts.json"
BEFORE = (240.0, 4)  # seconds, excerpts: the setting of DESCRIPTOR_VERSION essentia-1/max240s
NUMERIC = ("tempo_bpm", "tempo_confidence", "onset_rate", "loudness_db", "loudness_range_db",
           "dynamic_complexity", "danceability", "brightness_hz", "spectral_flux", "percussive_ratio",
           "key_strength", "mode_strength")


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def bootstrap_spearman(a: np.ndarray, b: np.ndarray, rounds: int = 1000, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    got = []
    for _ in range(rounds):
        k = rng.integers(0, len(a), len(a))
        if np.ptp(a[k]) > 0 and np.ptp(b[k]) > 0:
            got.append(spearman(a[k], b[k]))
    return float(np.percentile(got, 2.5)), float(np.percentile(got, 97.5))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--games", default="", help="comma-separated games (default: all fetched)")
    ap.add_argument("--limit", type=int, default=0, help="at most this many tracks (spread over the corpus)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    if not args.corpus.exists():
        sys.exit(f"{args.corpus}: no corpus; run benchmarks/fetch_corpus.py first")
    tracks = load_tracks(args.corpus)
    if args.games:
        wanted = set(args.games.split(","))
        tracks = [t for t in tracks if t.game in wanted]
    if args.limit and len(tracks) > args.limit:
        tracks = [tracks[int(i)] for i in np.linspace(0, len(tracks) - 1, args.limit)]
    rows = []
    time_before = time_after = 0.0
    for k, t in enumerate(tracks):
        try:
            audio = load_audio(t.path, ENCODER_RATE)
        except AudioDecodeError as exc:
            print(f"skipped {exc}", file=sys.stderr)
            continue
        seconds = len(audio) / ENCODER_RATE
        started = time.perf_counter()
        long = describe(descriptor_audio(audio, *BEFORE), ENCODER_RATE)
        middle = time.perf_counter()
        short = describe(descriptor_audio(audio), ENCODER_RATE)
        ended = time.perf_counter()
        time_before += middle - started
        time_after += ended - middle
        rows.append({"game": t.game, "seconds": seconds, "before": long.to_dict(), "after": short.to_dict()})
        if k % 20 == 0:
            print(f"[{k + 1}/{len(tracks)}] {t.path}", file=sys.stderr)

    cut = [r for r in rows if r["seconds"] > DESCRIPTOR_SECONDS]
    print(f"\n## Descriptors on {DESCRIPTOR_SECONDS:g} s ({DESCRIPTOR_EXCERPTS} excerpts) against "
          f"{BEFORE[0]:g} s ({BEFORE[1]} excerpts)\n")
    print(f"{len(rows)} tracks ({sum(r['seconds'] for r in rows) / 3600:.1f} h) from "
          f"{len({r['game'] for r in rows})} games; {len(cut)} are longer than {DESCRIPTOR_SECONDS:g} s "
          "(the others read the same both ways). Load average at the end: "
          f"{os.getloadavg()[0]:.1f}.\n")
    print(f"Time, all tracks: {time_before:.1f} s before, {time_after:.1f} s after: "
          f"**{time_before / max(time_after, 1e-9):.2f}x** faster.\n")
    result: dict = {"code": code_version(), "tracks": len(rows), "longer": len(cut),
                    "setting": {"before": list(BEFORE), "after": [DESCRIPTOR_SECONDS, DESCRIPTOR_EXCERPTS]},
                    "seconds_before": time_before, "seconds_after": time_after, "agreement": {}}
    print(f"Agreement on the {len(cut)} longer tracks:\n")
    print("| descriptor | Spearman rho [95% CI] |")
    print("|---|---|")
    for name in NUMERIC:
        a = np.array([r["before"][name] for r in cut], dtype=float)
        b = np.array([r["after"][name] for r in cut], dtype=float)
        if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
            continue
        rho, ci = spearman(a, b), bootstrap_spearman(a, b)
        result["agreement"][name] = {"rho": rho, "ci95": ci}
        print(f"| {name} | {rho:.3f} [{ci[0]:.3f}, {ci[1]:.3f}] |")
    same_key = np.mean([r["before"]["key"] == r["after"]["key"] for r in cut]) if cut else float("nan")
    same_mode = (np.mean([r["before"]["key"].split()[-1] == r["after"]["key"].split()[-1] for r in cut])
                 if cut else float("nan"))
    tempo_pairs = [(r["before"]["tempo_bpm"], r["after"]["tempo_bpm"]) for r in cut]
    tempo_ok = (np.mean([(a == 0 and b == 0) or (a > 0 and abs(b - a) <= 0.04 * a) for a, b in tempo_pairs])
                if cut else float("nan"))
    result.update(same_key=float(same_key), same_mode=float(same_mode), tempo_within_4pct=float(tempo_ok))
    print(f"\nSame key: {same_key:.0%}; same mode: {same_mode:.0%}; tempo within 4% (or undefined both ways): "
          f"{tempo_ok:.0%} (n = {len(cut)}).")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\nwrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
