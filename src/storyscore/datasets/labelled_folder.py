"""A user's own labelled data in the simplest possible layout.

CITATION: none (your data).
LICENSE: yours.

EXPECTED LAYOUT::

    <root>/audio/<label>/<anything>.<audio ext>     one folder per mood label (nested folders allowed)
    <root>/text.csv                                 header "text,label" (column order free)

Labels are folder names / CSV values, lower-cased and stripped. Pass ``labels=`` to restrict them to
a vocabulary (e.g. :data:`storyscore.lexicon.vocab.AUDIOSET_MOODS`); anything else is reported. Files with
an unknown extension or hidden files under ``audio/`` are reported and skipped. The audio is not
decoded here (that is the audio module's job, which skips and reports undecodable files).
Item ids: ``<label>/<relative path>`` for audio, ``text-<line>`` for text (or an ``id`` column).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from storyscore.datasets.base import (
    AUDIO_EXTENSIONS,
    AudioItem,
    DatasetError,
    IssueLog,
    MusicDataset,
    TextDataset,
    TextItem,
    header_and_rows,
    read_text,
    require_dir,
    require_file,
)


def _norm(label: str) -> str:
    return label.strip().lower()


def load_music(root: str | Path, labels: Collection[str] | None = None, strict: bool = False) -> MusicDataset:
    """Audio files under ``<root>/audio/<label>/`` (``root`` may also be the ``audio`` folder itself)."""
    base = Path(root)
    audio = base / "audio" if (base / "audio").is_dir() else require_dir(base, "labelled audio folder")
    allowed = {_norm(x) for x in labels} if labels is not None else None
    log = IssueLog(strict)
    items: list[AudioItem] = []
    for label_dir in sorted(d for d in audio.iterdir() if d.is_dir() and not d.name.startswith(".")):
        label = _norm(label_dir.name)
        if allowed is not None and label not in allowed:
            log.add(label_dir, 0, f"label {label!r} not in the vocabulary {sorted(allowed)}")
            continue
        for f in sorted(label_dir.rglob("*")):
            if not f.is_file() or f.name.startswith("."):
                continue
            if f.suffix.lower() not in AUDIO_EXTENSIONS:
                log.add(f, 0, f"not an audio file extension ({f.suffix or 'none'})")
                continue
            rel = f.relative_to(label_dir).as_posix()
            items.append(AudioItem(id=f"{label}/{rel}", path=f, label=label, source_file=str(f)))
    if not items:
        raise DatasetError(f"{audio}:0: no labelled audio files (expected audio/<label>/<file>)")
    found = tuple(sorted({it.label for it in items}))
    return MusicDataset(name="folder", items=items, labels=found, issues=log.issues)


def load_text(root: str | Path, labels: Collection[str] | None = None, strict: bool = False) -> TextDataset:
    """``<root>/text.csv`` (or a CSV path) with columns ``text`` and ``label``."""
    base = Path(root)
    path = require_file(base / "text.csv" if base.is_dir() else base, "labelled text CSV")
    header_line, header, cols, body = header_and_rows(path, read_text(path), ",")
    if "text" not in cols or "label" not in cols:
        raise DatasetError(f"{path}:{header_line}: header must name 'text' and 'label' columns")
    allowed = {_norm(x) for x in labels} if labels is not None else None
    log = IssueLog(strict)
    items: list[TextItem] = []
    width = max(cols["text"], cols["label"]) + 1
    for lineno, row in body:
        if len(row) < width:
            log.add(path, lineno, f"expected {len(header)} fields, got {len(row)}")
            continue
        text, label = " ".join(row[cols["text"]].split()), _norm(row[cols["label"]])
        if not text or not label:
            log.add(path, lineno, "empty text or label")
            continue
        if allowed is not None and label not in allowed:
            log.add(path, lineno, f"label {label!r} not in the vocabulary {sorted(allowed)}")
            continue
        item_id = row[cols["id"]].strip() if "id" in cols and cols["id"] < len(row) else ""
        items.append(
            TextItem(
                id=item_id or f"text-{lineno}", text=text, label=label, source_file=str(path), line=lineno
            )
        )
    if not items:
        raise DatasetError(f"{path}:0: no usable rows")
    found = tuple(sorted({it.label for it in items if it.label}))
    return TextDataset(name="folder", items=items, labels=found, issues=log.issues)
