"""VGMIDI: piano arrangements of video-game music (MIDI), each with the sign of its valence and arousal.

CITATION:
    Lucas N. Ferreira and Jim Whitehead. "Learning to Generate Music with Sentiment." ISMIR 2019.

LICENSE:
    None stated by the VGMIDI repository: use it for fitting and evaluation only. Never bundled here, never
    shipped; a model fitted on it says so in its card.

EXPECTED FILES: a folder holding ``labels.csv`` (header ``id,series,console,game,piece,midi,valence,arousal``;
column order free, extra columns ignored) and the MIDI files it names (``midi`` is relative to the folder).
``valence`` and ``arousal`` are the raters' signs, -1 or +1. Bad rows (a sign that is not ±1, an empty id,
a MIDI file that is not there) are reported as ``file:line: problem`` issues, as every loader in
``storyscore.datasets`` does. VGMIDI labels some pieces more than once (the same id and MIDI file on 2-3
rows, annotated part by part): such rows are one item whose sign per axis is the rows' majority, and 0
(no label on that axis) where they split evenly. A repeated id naming another MIDI file is an issue.

Cross-validation unit: the ``series`` (a franchise's pieces share composers and style, so a piece must
never be scored by a model that heard its series). Everything in the "Other" series is one grab-bag
series here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from storyscore.datasets.base import (
    DatasetError,
    Issue,
    IssueLog,
    header_and_rows,
    read_text,
    require_dir,
    require_file,
)

NAME = "vgmidi"
LABELS_FILE = "labels.csv"
REQUIRED: tuple[str, ...] = ("id", "series", "game", "piece", "midi", "valence", "arousal")


@dataclass(frozen=True)
class VGMidiItem:
    id: str
    series: str
    game: str
    piece: str
    midi: Path  # absolute path of the MIDI file
    valence: int  # -1 or +1 (the raters' sign); 0 where the piece's rows disagree evenly
    arousal: int  # likewise
    console: str = ""
    line: int = 0  # line of labels.csv (the first, for a piece on several rows)
    rows: int = 1  # how many rows of labels.csv label it


@dataclass
class VGMidiDataset:
    root: Path
    items: list[VGMidiItem]
    issues: list[Issue] = field(default_factory=list)

    def series(self) -> list[str]:
        return sorted({it.series for it in self.items})


def _sign(raw: str) -> int | None:
    try:
        value = int(float(raw))
    except ValueError:
        return None
    return value if value in (-1, 1) else None


def load(root: str | Path, strict: bool = False, require_midi: bool = True) -> VGMidiDataset:
    """Read ``root/labels.csv``; with ``require_midi``, rows whose MIDI file is missing are issues."""
    folder = require_dir(root, "VGMIDI folder")
    p = require_file(folder / LABELS_FILE, "VGMIDI labels.csv")
    header_line, header, cols, body = header_and_rows(p, read_text(p), ",")
    missing = [c for c in REQUIRED if c not in cols]
    if missing:
        raise DatasetError(f"{p}:{header_line}: missing column(s) {', '.join(missing)} "
                           "(expected id,series,console,game,piece,midi,valence,arousal)")
    log = IssueLog(strict)
    items: list[VGMidiItem] = []
    votes: dict[str, list[tuple[int, int]]] = {}
    width = max(cols[c] for c in REQUIRED) + 1
    for lineno, row in body:
        if len(row) < width:
            log.add(p, lineno, f"expected {len(header)} fields, got {len(row)}")
            continue
        item_id = row[cols["id"]].strip()
        v, a = _sign(row[cols["valence"]].strip()), _sign(row[cols["arousal"]].strip())
        if v is None or a is None:
            log.add(p, lineno, f"valence/arousal must be -1 or 1 ({row[cols['valence']]!r}, {row[cols['arousal']]!r})")
            continue
        if not item_id or not row[cols["midi"]].strip() or not row[cols["series"]].strip():
            log.add(p, lineno, "empty id, series or midi")
            continue
        midi = (folder / row[cols["midi"]].strip()).resolve()
        if item_id in votes:
            first = next(it for it in items if it.id == item_id)
            if first.midi != midi:
                log.add(p, lineno, f"id {item_id!r} repeated for another MIDI file ({midi.name})")
            else:
                votes[item_id].append((v, a))
            continue
        if require_midi and not midi.is_file():
            log.add(p, lineno, f"MIDI file not found: {midi}")
            continue
        votes[item_id] = [(v, a)]
        console = row[cols["console"]].strip() if "console" in cols and cols["console"] < len(row) else ""
        items.append(VGMidiItem(item_id, row[cols["series"]].strip(), row[cols["game"]].strip(),
                                row[cols["piece"]].strip(), midi, v, a, console, lineno))
    if not items:
        first = f" (first problem: {log.issues[0]})" if log.issues else ""
        raise DatasetError(f"{p}:0: no usable VGMIDI rows{first}")
    merged = []
    for it in items:
        rows_of = votes[it.id]
        v_sum, a_sum = sum(r[0] for r in rows_of), sum(r[1] for r in rows_of)
        merged.append(replace(it, valence=(v_sum > 0) - (v_sum < 0), arousal=(a_sum > 0) - (a_sum < 0),
                              rows=len(rows_of)))
    return VGMidiDataset(folder, merged, log.issues)


__all__ = ["LABELS_FILE", "NAME", "VGMidiDataset", "VGMidiItem", "load"]
