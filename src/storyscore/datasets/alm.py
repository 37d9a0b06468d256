"""Alm's affect-annotated fairy-tale sentences (Grimms, H. C. Andersen, B. Potter).

CITATION:
    Cecilia Ovesdotter Alm, Dan Roth, Richard Sproat. "Emotions from text: machine learning for
    text-based emotion prediction." HLT/EMNLP 2005. — and C. O. Alm, "Affect in Text and Speech",
    PhD thesis, University of Illinois at Urbana-Champaign, 2008.

LICENSE:
    Copyright (c) 2007 Cecilia Alm. Free to use and distribute, modify included, provided the
    copyright notice and conditions are kept, modifications are clearly marked and the authors'
    names are neither deleted nor used for endorsement (see the corpus README). Not bundled here.

EXPECTED LAYOUT (the ``affectdata`` release, v1 June 2007, as unpacked)::

    <root>/Grimms/emmood/<story>.emmood
    <root>/HCAndersen/emmood/<story>.emmood
    <root>/Potter/emmood/<story>.emmood
    <root>/<author>/agree-sent/<story>.agree      (optional; used only when emmood/ is absent)

``<root>`` may also be a folder holding exactly one such release folder.

``.emmood`` line: ``SentID:SentID<TAB>1emA:1emB<TAB>MoodA:MoodB<TAB>Sentence`` — primary emotion and
mood from annotators A and B. Codes: A angry, D disgusted, F fearful, H happy, N neutral, Sa sad
(``S`` in the mood column), Su+ / Su- positively / negatively surprised (``+`` / ``-`` in the mood
column). Fields are tab-separated; runs of spaces are accepted too.

``.agree`` line: ``SentID@Code@Sentence``, codes 2 angry-disgusted, 3 fearful, 4 happy, 6 sad,
7 surprised (Alm's "affective high agreement" subset).

SELECTION (the paper's 5 labels angry, fearful, happy, sad, surprised):
    ``agreement="high"`` (default) keeps Alm's HighAgree sentences: all four labels (both annotators,
    primary emotion and mood) fall in the same non-neutral class, with Su+/Su- merged into surprised
    and, as in Alm's merged label set, disgusted merged into angry (``disgust="merge"``). The
    paper's Potter test size (167) is the size of this subset. ``disgust="drop"`` instead treats D as
    its own class, which is not one of the five, so those sentences are left out.
    ``agreement="primary"`` keeps sentences whose two primary-emotion labels agree (mood ignored).

SPLIT: the paper holds out Beatrix Potter's stories as the test set; Grimms and Andersen are split
into train/valid, stratified by label (:mod:`storyscore.datasets.splits`).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from storyscore.datasets.base import DatasetError, IssueLog, TextDataset, TextItem, read_text
from storyscore.datasets.splits import stratified_split
from storyscore.lexicon.vocab import ALM_LABELS

AUTHORS: tuple[str, ...] = ("Grimms", "HCAndersen", "Potter")
TEST_AUTHOR = "Potter"

# Alm's codes (primary-emotion and mood spellings) -> merged class; "disgusted" handled by policy.
CODES: dict[str, str] = {
    "A": "angry",
    "D": "disgusted",
    "F": "fearful",
    "H": "happy",
    "N": "neutral",
    "Sa": "sad",
    "S": "sad",
    "Su+": "surprised",
    "Su-": "surprised",
    "+": "surprised",
    "-": "surprised",
}
AGREE_CODES: dict[str, str] = {"2": "angry", "3": "fearful", "4": "happy", "6": "sad", "7": "surprised"}

_EMMOOD = re.compile(r"^(\d+):(\d+)[\t ]+(\S+?):(\S+)[\t ]+(\S+?):(\S+)[\t ]+(.*\S)\s*$")


def _find_root(root: Path) -> Path:
    if any((root / a).is_dir() for a in AUTHORS):
        return root
    inner = [d for d in root.iterdir() if d.is_dir() and any((d / a).is_dir() for a in AUTHORS)]
    if len(inner) == 1:
        return inner[0]
    raise DatasetError(f"{root}:0: no Alm author folders ({', '.join(AUTHORS)}) found")


def _merge(code: str, disgust: str) -> str | None:
    label = CODES.get(code)
    if label == "disgusted" and disgust == "merge":
        return "angry"
    return label


def _parse_emmood(path: Path, author: str, agreement: str, disgust: str, log: IssueLog) -> list[TextItem]:
    items: list[TextItem] = []
    story = path.name.removesuffix(".emmood")
    for lineno, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        m = _EMMOOD.match(line)
        if m is None:
            log.add(path, lineno, "expected 'id:id<TAB>emo:emo<TAB>mood:mood<TAB>sentence'")
            continue
        sid_a, sid_b, em_a, em_b, mood_a, mood_b, sentence = m.groups()
        if sid_a != sid_b:
            log.add(path, lineno, f"sentence ids differ ({sid_a} vs {sid_b})")
            continue
        codes = (em_a, em_b, mood_a, mood_b)
        unknown = [c for c in codes if c not in CODES]
        if unknown:
            log.add(path, lineno, f"unknown emotion code(s) {', '.join(map(repr, unknown))}")
            continue
        merged = [_merge(c, disgust) for c in codes]
        used = merged if agreement == "high" else merged[:2]
        label = used[0]
        if any(x != label for x in used) or label not in ALM_LABELS:
            continue  # disagreement, neutral or (dropped) disgust: not part of the 5-class task
        items.append(
            TextItem(
                id=f"{author}/{story}/{sid_a}",
                text=sentence,
                label=label,
                source_file=str(path),
                line=lineno,
            )
        )
    return items


def _parse_agree(path: Path, author: str, log: IssueLog) -> list[TextItem]:
    items: list[TextItem] = []
    story = path.name.removesuffix(".agree")
    for lineno, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("@", 2)
        if len(parts) != 3 or not parts[0].strip().isdigit() or not parts[2].strip():
            log.add(path, lineno, "expected 'SentID@Code@Sentence'")
            continue
        label = AGREE_CODES.get(parts[1].strip())
        if label is None:
            log.add(path, lineno, f"unknown affect code {parts[1].strip()!r} (expected 2, 3, 4, 6 or 7)")
            continue
        items.append(
            TextItem(
                id=f"{author}/{story}/{parts[0].strip()}",
                text=parts[2].strip(),
                label=label,
                source_file=str(path),
                line=lineno,
            )
        )
    return items


def load(
    root: str | Path,
    agreement: str = "high",
    disgust: str = "merge",
    source: str = "auto",
    valid_fraction: float = 0.1,
    seed: int = 0,
    strict: bool = False,
) -> TextDataset:
    """Load the 5-class Alm sentences; Potter → "test", the rest → stratified "train"/"valid".

    ``source``: "emmood", "agree" (the ``agree-sent`` files, HighAgree only) or "auto" (emmood when
    present, per author).
    """
    if agreement not in ("high", "primary"):
        raise ValueError(f"agreement must be 'high' or 'primary', got {agreement!r}")
    if disgust not in ("merge", "drop"):
        raise ValueError(f"disgust must be 'merge' or 'drop', got {disgust!r}")
    if source not in ("auto", "emmood", "agree"):
        raise ValueError(f"source must be 'auto', 'emmood' or 'agree', got {source!r}")
    base = Path(root)
    if not base.is_dir():
        raise DatasetError(f"{base}:0: Alm data folder not found")
    base = _find_root(base)
    log = IssueLog(strict)
    items: list[TextItem] = []
    for author in AUTHORS:
        emmood, agree = base / author / "emmood", base / author / "agree-sent"
        use_emmood = source == "emmood" or (source == "auto" and emmood.is_dir())
        folder = emmood if use_emmood else agree
        if not folder.is_dir():
            log.add(folder, 0, f"missing folder for author {author}")
            continue
        if use_emmood:
            for f in sorted(folder.glob("*.emmood")):
                items.extend(_parse_emmood(f, author, agreement, disgust, log))
        else:
            if agreement != "high" or disgust != "merge":
                raise ValueError("agree-sent files only hold the HighAgree subset with disgust merged")
            for f in sorted(folder.glob("*.agree")):
                items.extend(_parse_agree(f, author, log))
    if not items:
        raise DatasetError(f"{base}:0: no usable Alm sentences found")

    seen: set[str] = set()
    unique: list[TextItem] = []
    for it in items:
        if it.id in seen:
            log.add(it.source_file, it.line, f"duplicate sentence id {it.id}")
            continue
        seen.add(it.id)
        unique.append(it)
    items = unique

    dev = [it for it in items if not it.id.startswith(TEST_AUTHOR + "/")]
    fractions = {"train": 1.0 - valid_fraction, "valid": valid_fraction}
    dev_split = stratified_split([it.id for it in dev], [it.label for it in dev], fractions, seed)
    out = [replace(it, split=dev_split.get(it.id, "test")) for it in items]
    return TextDataset(name="alm", items=out, labels=ALM_LABELS, issues=log.issues)
