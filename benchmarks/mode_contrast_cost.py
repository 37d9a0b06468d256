"""What the `mode_contrast` descriptor (issue #21) costs: its time against the rest of the descriptors.

For tracks of the game-music corpus (benchmarks/.cache/corpus), decoded at 16 kHz and cut to the shipped
descriptor excerpts as `index` does, this process times `describe` (every descriptor, mode_contrast
included) and `mode_contrast` alone on the same audio, one right after the other, so machine load hits both
alike. Reported: the summed times and mode_contrast's share of the descriptors (a ratio, not a timing).

    .venv/bin/python benchmarks/mode_contrast_cost.py [--limit 30]

Markdown on stdout; JSON to benchmarks/results/mode_contrast_cost.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from common import HERE, code_version

from storyscore.audio.decode import load_audio
from storyscore.audio.descriptors import describe, mode_contrast
from storyscore.audio.encoder import ENCODER_RATE, descriptor_audio
from storyscore.datasets.games import load_tracks
from storyscore.errors import AudioDecodeError

CORPUS = HERE / ".cache" / "corpus"
RESULTS = HERE / "results" / "mode_contrast_cost.json"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--limit", type=int, default=30, help="tracks, spread over the corpus")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    if not args.corpus.exists():
        print(f"{args.corpus}: no corpus; run benchmarks/fetch_corpus.py first", file=sys.stderr)
        return 2
    tracks = load_tracks(args.corpus)
    if args.limit and len(tracks) > args.limit:
        tracks = [tracks[int(i)] for i in np.linspace(0, len(tracks) - 1, args.limit)]
    describe_s = contrast_s = audio_s = 0.0
    n = 0
    for t in tracks:
        try:
            audio = descriptor_audio(load_audio(t.path, ENCODER_RATE))
        except AudioDecodeError as exc:
            print(f"skipped {exc}", file=sys.stderr)
            continue
        started = time.perf_counter()
        describe(audio, ENCODER_RATE)
        describe_s += time.perf_counter() - started
        started = time.perf_counter()
        mode_contrast(audio, ENCODER_RATE)
        contrast_s += time.perf_counter() - started
        audio_s += len(audio) / ENCODER_RATE
        n += 1
    if n == 0:
        print(f"{args.corpus}: no readable tracks", file=sys.stderr)
        return 2
    share = contrast_s / describe_s
    res = {"code": code_version(), "tracks": n, "descriptor_audio_seconds": audio_s, "describe_s": describe_s,
           "mode_contrast_s": contrast_s, "mode_contrast_share_of_describe": share,
           "describe_over_describe_without": describe_s / (describe_s - contrast_s)}
    print(f"{n} tracks, {audio_s / 60:.1f} min of descriptor excerpts: describe {describe_s:.1f} s, of which "
          f"mode_contrast {contrast_s:.1f} s ({share:.1%}); descriptors with it / without it: "
          f"{res['describe_over_describe_without']:.3f}×")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
