"""How fast the first `match`/`plan` with a CNN model embeds a library: `search.Matcher` (one file per core,
one torch thread each) against the plain loop it replaced (one file at a time, torch's default threads),
both in this process on the same files, alternated, so the ratio holds however loaded the machine is.

Library: the first --files clips of the rendered mood set (benchmarks/.cache/moodset_train, 15 s each; made
by train_spaces.py), indexed once into benchmarks/.cache/cnn_embed.sqlite. Model: an untrained width-16
two_branch_cnn (the time does not depend on the weights). JSON to benchmarks/results/cnn_embed_speed.json.

    python benchmarks/cnn_embed_speed.py [--files 24] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import code_version  # noqa: E402

CACHE = HERE / ".cache"
DB = CACHE / "cnn_embed.sqlite"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=24)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    import torch

    from storyscore.library.indexer import index_paths
    from storyscore.library.search import Matcher
    from storyscore.library.store import Store
    from storyscore.spaces.cnn import AudioTrainConfig, AudioTwoBranch, AudioTwoBranchSpace

    clips = sorted((CACHE / "moodset_train" / "audio").glob("*/*.wav"))[: args.files]
    if len(clips) < args.files:
        sys.exit("render the mood set first: python benchmarks/train_spaces.py --cnn-seeds 0 --finetune ''")
    index_paths(clips, DB)
    torch.manual_seed(0)
    cfg = AudioTrainConfig(cnn_width=16)
    space = AudioTwoBranchSpace(AudioTwoBranch(cfg), {"config": asdict(cfg), "vocabularies": {}})
    space.embed_file(clips[0])  # warm up (librosa's mel filters, torch kernels)

    def loop() -> float:
        t0 = time.perf_counter()
        for c in clips:
            space.embed_file(c)
        return time.perf_counter() - t0

    def matcher() -> float:
        with Store(DB) as store:
            store.conn.execute("DELETE FROM vectors WHERE space=?", (space.name,))
        t0 = time.perf_counter()
        Matcher(DB, space).close()
        return time.perf_counter() - t0

    times: dict[str, list[float]] = {"loop": [], "matcher": []}
    for _ in range(args.runs):
        times["loop"].append(loop())
        times["matcher"].append(matcher())
        print(f"loop {times['loop'][-1]:.1f} s, matcher {times['matcher'][-1]:.1f} s", file=sys.stderr)
    med = {k: statistics.median(v) for k, v in times.items()}
    out = {"code_version": code_version(), "files": len(clips), "clip_seconds": 15, "runs": times,
           "per_file_seconds": {k: round(v / len(clips), 3) for k, v in med.items()},
           "speedup_matcher_vs_loop": round(med["loop"] / med["matcher"], 2),
           "torch_threads_default": torch.get_num_threads(), "load_average": os.getloadavg()}
    print(json.dumps(out, indent=1))
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "cnn_embed_speed.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
