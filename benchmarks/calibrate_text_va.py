"""Re-derive storyscore.text.va's calibration from the even-numbered half of the dev passages.

The anchored reading orders passages well but compresses them toward the middle (a softmax over many
emotion words averages their coordinates). A linear map per axis, chosen so the readings' mean and spread
match those of the labels' lexicon (V, A), undoes that. Only the even-numbered passages are used, so the
odd-numbered half stays a fair check. Run: .venv/bin/python benchmarks/calibrate_text_va.py
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from storyscore.text import va
from storyscore.text.encoder import embed_passages
from storyscore.vocab import label_va

DEV = Path(__file__).parent / "data" / "dev_passages.csv"


def main() -> None:
    rows = list(csv.DictReader(DEV.open(encoding="utf-8")))
    even = np.array([int(r["id"].rsplit("-", 1)[1]) % 2 == 0 for r in rows])
    target = np.array([label_va(r["label"]) for r in rows])
    raw = va.anchored_va(embed_passages([r["text"] for r in rows]))
    slope = target[even].std(axis=0) / raw[even].std(axis=0)
    intercept = target[even].mean(axis=0) - slope * raw[even].mean(axis=0)
    print(f"CALIBRATION_SLOPE = ({slope[0]:.3f}, {slope[1]:.3f})")
    print(f"CALIBRATION_INTERCEPT = ({intercept[0]:.3f}, {intercept[1]:.3f})")
    calibrated = raw * slope + intercept
    neutral = (va.anchored_va(embed_passages(list(va.REFERENCE_NARRATION))) * slope + intercept).mean(axis=0)
    print(f"NEUTRAL_VA = ({neutral[0]:.4f}, {neutral[1]:.4f})")
    for name, mask in (("even (fitted)", even), ("odd (held out)", ~even)):
        r = [np.corrcoef(calibrated[mask, k], target[mask, k])[0, 1] for k in range(2)]
        mae = np.abs(calibrated[mask] - target[mask]).mean(axis=0)
        print(f"{name}: r valence {r[0]:.3f}, arousal {r[1]:.3f}; mean abs error {mae[0]:.3f}, {mae[1]:.3f}")


if __name__ == "__main__":
    main()
