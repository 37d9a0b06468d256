"""Fit the text reading's head on EmoBank train, evaluate it once on dev, write its weights and card.

    .venv/bin/python benchmarks/fit_text_va.py [--embeddings-cache PATH]

Every candidate of `storyscore.training.text_va.CANDIDATES` is scored by 5-fold GroupKFold (by document) on
EmoBank train; the best (mean of the two pooled out-of-fold r) is refitted on all of train and read dev once
(r with bootstrap 95 % intervals, per genre). Writes src/storyscore/data/text_va_head/head.safetensors and
card.json, the anchor cache (data/text_anchors.npz), and prints the table and the NEUTRAL_VA for text/va.py.
The EmoBank CSV is read from ../shared/data/emobank (or STORYSCORE_SHARED_DATA); its test split is never read.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import sys
import time
from pathlib import Path

import numpy as np
from common import HERE, code_version, shared_data

from storyscore.text import va
from storyscore.text.encoder import TEXT_DIM, TEXT_ENCODER_NAME, embed_passages, embed_sentences
from storyscore.text.va_head import FORMAT, LEXICON_FEATURES, TextVAHead, features, save_head
from storyscore.training.metrics import roc_auc
from storyscore.training.text_va import (
    CANDIDATES,
    choose,
    cross_validate,
    evaluate,
    feature_sets,
    fit,
    head_tensors,
    read_emobank,
    scale_map,
)

COMMAND = ".venv/bin/python benchmarks/fit_text_va.py"
STORY = HERE / "data" / "story_arousal.csv"
# The reading this head replaced (anchors + a direction fitted on 156 labelled dev passages, commit 408efb5),
# over the 8,062 EmoBank train sentences: its per-axis mean and standard deviation on the centred Warriner
# scale. The new head's out-of-fold train predictions are mapped linearly onto them, so the shared emotion
# frame (spaces/zeroshot.py: from NEUTRAL_VA, in lexicon standard deviations) keeps the spread it had.
OLD_READING_TRAIN_MEAN = (0.156569, 0.044712)
OLD_READING_TRAIN_STD = (0.486453, 0.194568)
CHECK_TEXTS = (
    "They laughed and danced in the square until dawn, shouting with joy at the victory.",
    "He screamed as the beast lunged from the dark, claws tearing at the door.",
    "She sat alone by the grave in the grey rain and wept for the son she had lost.",
    "The meeting had been moved to Tuesday, so she wrote it down in her diary.",
)


def embeddings(texts: list[str], cache: Path | None) -> np.ndarray:
    """embed_sentences of the EmoBank texts, optionally kept in a file outside the repository (keyed by the
    texts and the encoder, so a stale file is recomputed)."""
    key = hashlib.sha256("\n".join([TEXT_ENCODER_NAME, *texts]).encode()).hexdigest()[:16]
    if cache is not None and cache.exists():
        z = np.load(cache)
        if str(z["key"]) == key:
            return z["emb"]
    emb = embed_sentences(texts)
    if cache is not None:
        np.savez(cache, emb=emb, key=np.array(key))
    return emb


def story_check(head: TextVAHead, neutral_arousal: float) -> dict[str, float]:
    with STORY.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    texts = [r["text"] for r in rows]
    high = np.asarray([r["arousal_sign"] == "high" for r in rows])
    arousal = head.read(embed_passages(texts), texts)[:, 1]
    right = np.where(high, arousal > neutral_arousal, arousal < neutral_arousal)  # this head's own neutral
    return {"n": len(rows), "auc_high_vs_low": round(roc_auc(arousal, high), 4),
            "share_on_right_side_of_neutral": round(float(right.mean()), 4),
            "mean_high": round(float(arousal[high].mean()), 4), "mean_low": round(float(arousal[~high].mean()), 4)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--embeddings-cache", type=Path, default=None,
                    help="an .npz outside the repository to keep the 9,062 sentence embeddings between runs")
    args = ap.parse_args()
    csv_path = shared_data("emobank") / "emobank" / "emobank_train_dev.csv"
    if not csv_path.is_file():
        print(f"{csv_path}: missing (EmoBank train+dev lives in ../shared/data/emobank)", file=sys.stderr)
        return 2
    data = read_emobank(csv_path)
    train, dev = data["train"], data["dev"]
    print(f"EmoBank train {len(train)}, dev {len(dev)} sentences ({csv_path})")
    emb = embeddings(train.texts + dev.texts, args.embeddings_cache)
    emb_tr, emb_dev = emb[:len(train)], emb[len(train):]

    feats = feature_sets(emb_tr, train.texts)
    print("train CV (5-fold GroupKFold by document), pooled out-of-fold r:")
    table = cross_validate(CANDIDATES, feats, train.y, train.document)
    best = choose(table)
    cand = best["_cand"]
    print(f"chosen: {cand.name}")
    fitted = fit(cand, feats[cand.features], train.y)
    slope, offset = scale_map(best["_oof"], np.asarray(OLD_READING_TRAIN_MEAN), np.asarray(OLD_READING_TRAIN_STD))
    tensors = head_tensors(fitted, slope, offset)
    head = TextVAHead({k: np.asarray(v, dtype=np.float32) for k, v in tensors.items()}, {})

    t0 = time.perf_counter()
    dev_pred = head.emobank(features(emb_dev, dev.texts))
    head_seconds = time.perf_counter() - t0
    dev_figures = evaluate(dev_pred, dev)
    neutral = head.read(embed_passages(list(va.REFERENCE_NARRATION)), list(va.REFERENCE_NARRATION)).mean(axis=0)
    check_emb = embed_passages(list(CHECK_TEXTS))
    card = {
        "what": "storyscore.text.va_head: RBF kernel ridge from a passage's MiniLM embedding and Warriner "
                "lexicon statistics to EmoBank (V, A), mapped onto the centred Warriner scale",
        "format": FORMAT, "encoder": TEXT_ENCODER_NAME,
        "inputs": [f"minilm:{i}" for i in range(TEXT_DIM)] + list(LEXICON_FEATURES),
        "created": dt.date.today().isoformat(), "code": code_version(), "command": COMMAND,
        "licence": "CC BY-SA 4.0, as EmoBank (Buechel & Hahn 2017), whose train "
                   "sentences' features (MiniLM embeddings and lexicon statistics, no text) are the head's support vectors; the code that reads it is MIT",
        "data": {"name": "EmoBank (Buechel & Hahn 2017, CC BY-SA 4.0), reader+writer mean V and A on SAM 1-5",
                 "file": "../shared/data/emobank/emobank_train_dev.csv (not in the repository)",
                 "fitted_on": f"train, {len(train)} sentences", "evaluated_on": f"dev, {len(dev)} sentences",
                 "test_split": "reserved: never read", "target": "(SAM - 3) / 2 per axis, standardised on train"},
        "choice": {"by": "5-fold GroupKFold by document on train; best mean of pooled out-of-fold r (V, A)",
                   "chosen": cand.name, "model": cand.model, "features": cand.features, "alpha": cand.alpha,
                   "gamma": fitted.gamma,
                   "table": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()
                              if not k.startswith("_")} for row in table]},
        "output_scale": {"how": "out = out_slope * emobank + out_offset: out-of-fold train predictions given "
                                "the mean and standard deviation of the reading this replaced over the same "
                                "train sentences (centred Warriner scale), then squashed by tanh",
                         "old_reading_train_mean": list(OLD_READING_TRAIN_MEAN),
                         "old_reading_train_std": list(OLD_READING_TRAIN_STD),
                         "out_slope": slope.round(6).tolist(), "out_offset": offset.round(6).tolist()},
        "dev": {"note": "read once for the chosen head; r of the EmoBank-scale prediction, 95 % bootstrap "
                        "intervals (2,000 resamples of sentences)", **dev_figures},
        "neutral_va": [round(float(x), 4) for x in neutral],
        "check": {"texts": list(CHECK_TEXTS), "va": head.read(check_emb, list(CHECK_TEXTS)).tolist()},
        "head_seconds_per_1000_sentences": round(head_seconds * 1000 / len(dev), 4),
    }
    out = save_head(tensors, card)
    head = TextVAHead(head.tensors, card)
    card["story_arousal_check"] = story_check(head, float(neutral[1]))
    save_head(tensors, card)
    va.write_anchor_cache()
    size = (out / "head.safetensors").stat().st_size
    print(f"\nwrote {out} ({size / 1e6:.1f} MB)")
    print(f"dev (n = {len(dev)}):")
    for genre, entry in dev_figures.items():
        v, a = entry["valence"], entry["arousal"]
        print(f"  {genre:14s} n {entry['n']:4d}  V {v['r']:.3f} [{v['ci95'][0]:.3f}, {v['ci95'][1]:.3f}]"
              f"  A {a['r']:.3f} [{a['ci95'][0]:.3f}, {a['ci95'][1]:.3f}]")
    print(f"story_arousal check: {card['story_arousal_check']}")
    print(f"NEUTRAL_VA = ({neutral[0]:.4f}, {neutral[1]:.4f})")
    if not np.allclose(neutral, va.NEUTRAL_VA, atol=1e-4):
        print("text/va.py's NEUTRAL_VA differs: paste the line above into it")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
