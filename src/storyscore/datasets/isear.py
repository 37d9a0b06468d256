"""ISEAR: International Survey on Emotion Antecedents and Reactions (situation reports, 7 emotions).

CITATION:
    Klaus R. Scherer and Harald G. Wallbott. "Evidence for universality and cultural variation of
    differential emotion response patterning." Journal of Personality and Social Psychology 66(2),
    310–328, 1994.

LICENSE:
    Distributed by the Swiss Center for Affective Sciences (University of Geneva) for research use;
    the CSV conversions people pass around carry no other licence. Not bundled here.

ACCEPTED FILES (one CSV; encoding UTF-8 or Windows-1252):

* the ``|``-separated full conversion (e.g. ``isear.csv`` of the py_isear_dataset project): a header
  row ``ID|CITY|COUN|...|EMOT|...|Field1|Field3|Field2|MYKEY|SIT|STATE|``; the label is ``Field1``
  (an emotion name) or, failing that, the numeric ``EMOT`` code (1 joy, 2 fear, 3 anger, 4 sadness,
  5 disgust, 6 shame, 7 guilt); the text is ``SIT``; ``MYKEY``/``ID`` give the item id;
* a two-column ``label,text`` file with a header (``emotion,text``, ``label,text``, ``Emotion,Text``,
  ``sentiment,content`` … in either order);
* the same without a header (first column a label, second the text), as in the Kaggle copy.

Labels: anger, disgust, fear, guilt, joy, sadness, shame (case-insensitive; ``angry``→anger etc. are
not guessed). Texts are cleaned of the stray ``á`` line-break marks of the original export and of
surrounding whitespace; empty texts and non-answers ("[No response.]") are reported, not kept.
There is no official split: use :mod:`storyscore.datasets.splits` (the paper's test set has 1,150).
"""

from __future__ import annotations

import re
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
from storyscore.lexicon.vocab import ISEAR_LABELS

EMOT_CODES: dict[str, str] = {
    "1": "joy",
    "2": "fear",
    "3": "anger",
    "4": "sadness",
    "5": "disgust",
    "6": "shame",
    "7": "guilt",
}
LABEL_COLUMNS: tuple[str, ...] = ("field1", "emotion", "label", "sentiment", "class", "emot")
TEXT_COLUMNS: tuple[str, ...] = ("sit", "text", "content", "sentence", "situation")
ID_COLUMNS: tuple[str, ...] = ("mykey", "id")

_NO_RESPONSE = re.compile(r"^[\[(]?\s*(no response|blank|none|nothing)\.?\s*[\])]?\.?$", re.IGNORECASE)
_STRAY_A = re.compile(r"(?<!\S)á(?!\S)")  # a lone "á" token, never one inside a word


def clean_text(text: str) -> str:
    """Drop the original export's stray 'á' line-break marks and normalise whitespace."""
    return " ".join(_STRAY_A.sub(" ", text).split())


def _delimiter(text: str) -> str:
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    return "|" if first.count("|") > first.count(",") else ","


def _pick(header: list[str], names: tuple[str, ...]) -> int | None:
    low = [h.strip().lower() for h in header]
    for name in names:
        if name in low:
            return low.index(name)
    return None


def _label(raw: str, numeric_ok: bool) -> str | None:
    value = raw.strip().lower()
    if value in ISEAR_LABELS:
        return value
    if numeric_ok and value.removesuffix(".0") in EMOT_CODES:
        return EMOT_CODES[value.removesuffix(".0")]
    return None


def load(path: str | Path, strict: bool = False) -> TextDataset:
    """Read an ISEAR CSV in any of the accepted variants."""
    p = require_file(path, "ISEAR CSV")
    text = read_text(p)
    delim = _delimiter(text)
    header_line, header, _, body = header_and_rows(p, text, delim)
    lab_col, txt_col, id_col = (
        _pick(header, LABEL_COLUMNS),
        _pick(header, TEXT_COLUMNS),
        _pick(header, ID_COLUMNS),
    )
    if lab_col is not None and txt_col is not None:
        # "Field1" holds names; "EMOT" holds codes: accept codes only when the column is a code column
        if header[lab_col].strip().lower() == "field1" and (emot := _pick(header, ("emot",))) is not None:
            fallback: int | None = emot
        else:
            fallback = lab_col if header[lab_col].strip().lower() == "emot" else None
    elif len(header) >= 2 and _label(header[0], False) is not None:
        body = [(header_line, header), *body]  # headerless label,text: the first row is data
        lab_col, txt_col, id_col, fallback = 0, 1, None, None
    else:
        raise DatasetError(
            f"{p}:{header_line}: cannot find the label and text columns "
            f"(expected a header naming e.g. Field1/SIT or emotion,text, or label,text rows)"
        )

    log = IssueLog(strict)
    items: list[TextItem] = []
    seen: set[str] = set()
    for lineno, row in body:
        if max(lab_col, txt_col) >= len(row):
            log.add(p, lineno, f"expected at least {max(lab_col, txt_col) + 1} fields, got {len(row)}")
            continue
        label = _label(row[lab_col], numeric_ok=fallback == lab_col)
        if fallback is not None and fallback != lab_col and fallback < len(row):
            coded = _label(row[fallback], numeric_ok=True)
            if not row[lab_col].strip():
                label = coded  # the name is blank: trust the EMOT code
            elif label is not None and coded is not None and coded != label:
                log.add(p, lineno, f"Field1 {label!r} contradicts EMOT code {row[fallback].strip()!r}")
                continue
        if label is None:
            log.add(p, lineno, f"unknown emotion label {row[lab_col].strip()!r}")
            continue
        sentence = clean_text(row[txt_col])
        if not sentence or _NO_RESPONSE.match(sentence):
            log.add(p, lineno, f"no usable text ({row[txt_col].strip()!r})")
            continue
        item_id = row[id_col].strip() if id_col is not None and id_col < len(row) else ""
        if not item_id or item_id in seen:
            item_id = f"isear-{lineno}"
        seen.add(item_id)
        items.append(TextItem(id=item_id, text=sentence, label=label, source_file=str(p), line=lineno))
    if not items:
        raise DatasetError(f"{p}:0: no usable ISEAR rows")
    return TextDataset(name="isear", items=items, labels=ISEAR_LABELS, issues=log.issues)
