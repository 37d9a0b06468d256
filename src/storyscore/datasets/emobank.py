"""EmoBank: 10k English sentences with valence, arousal and dominance (reader+writer average).

CITATION:
    Sven Buechel and Udo Hahn. "EmoBank: Studying the Impact of Annotation Perspective and
    Representation Format on Dimensional Emotion Analysis." EACL 2017, 578–585.

LICENSE:
    CC BY-SA 4.0 (the EmoBank repository, JULIELab/EmoBank). Not bundled here.

EXPECTED FILE: ``corpus/emobank.csv`` of the repository, comma-separated, header
``id,split,V,A,D,text`` (column order free; ``category`` (genre) and ``document`` are kept when present,
other columns ignored). ``V``/``A``/``D`` are
Self-Assessment-Manikin means on 1–5 (3 neutral); ``split`` is train/dev/test (``dev`` becomes
"valid"). Returned items carry ``valence``/``arousal`` mapped linearly onto [-1, 1] by (x - 3) / 2 and
no categorical label. Values outside 1–5, non-numbers, unknown splits and empty texts are reported.
"""

from __future__ import annotations

import math
from pathlib import Path

from storyscore.datasets.base import (
    DatasetError,
    IssueLog,
    TextDataset,
    TextItem,
    header_and_rows,
    read_text,
    require_file,
)

SPLITS: dict[str, str] = {"train": "train", "dev": "valid", "valid": "valid", "test": "test"}
REQUIRED: tuple[str, ...] = ("id", "v", "a", "text")


def sam_to_centred(value: float) -> float:
    """SAM 1–5 → [-1, 1]."""
    return (value - 3.0) / 2.0


def load(path: str | Path, strict: bool = False) -> TextDataset:
    """Read ``emobank.csv``; items have VA on [-1, 1] and the file's split."""
    p = require_file(path, "EmoBank CSV")
    header_line, header, cols, body = header_and_rows(p, read_text(p), ",")
    missing = [c for c in REQUIRED if c not in cols]
    if missing:
        raise DatasetError(
            f"{p}:{header_line}: missing column(s) {', '.join(missing)} (expected id,split,V,A,D,text)"
        )
    log = IssueLog(strict)
    items: list[TextItem] = []
    seen: set[str] = set()
    width = max(cols[c] for c in REQUIRED) + 1
    for lineno, row in body:
        if len(row) < width:
            log.add(p, lineno, f"expected {len(header)} fields, got {len(row)}")
            continue
        item_id, sentence = row[cols["id"]].strip(), " ".join(row[cols["text"]].split())
        try:
            v, a = float(row[cols["v"]]), float(row[cols["a"]])
        except ValueError:
            log.add(p, lineno, f"V/A not numbers ({row[cols['v']]!r}, {row[cols['a']]!r})")
            continue
        if not all(math.isfinite(x) and 1.0 <= x <= 5.0 for x in (v, a)):
            log.add(p, lineno, f"V/A outside 1–5 ({v}, {a})")
            continue
        split = None
        if "split" in cols and cols["split"] < len(row):
            raw = row[cols["split"]].strip().lower()
            split = SPLITS.get(raw)
            if raw and split is None:
                log.add(p, lineno, f"unknown split {raw!r} (expected train, dev or test)")
                continue
        if not item_id or not sentence:
            log.add(p, lineno, "empty id or text")
            continue
        if item_id in seen:
            log.add(p, lineno, f"duplicate id {item_id!r}")
            continue
        seen.add(item_id)
        extra = {name: row[cols[column]].strip() for name, column in (("genre", "category"), ("document", "document"))
                 if column in cols and cols[column] < len(row)}
        items.append(
            TextItem(
                id=item_id,
                text=sentence,
                valence=sam_to_centred(v),
                arousal=sam_to_centred(a),
                split=split,
                source_file=str(p),
                line=lineno,
                **extra,
            )
        )
    if not items:
        raise DatasetError(f"{p}:0: no usable EmoBank rows")
    return TextDataset(name="emobank", items=items, labels=(), issues=log.issues)
