"""AudioSet "music mood" subset: 10-s YouTube segments labelled with one of seven moods.

CITATION:
    Jort F. Gemmeke, Daniel P. W. Ellis, Dylan Freedman, Aren Jansen, Wade Lawrence, R. Channing
    Moore, Manoj Plakal, Marvin Ritter. "Audio Set: An ontology and human-labeled dataset for audio
    events." ICASSP 2017.

LICENSE:
    Labels and ontology: CC BY 4.0 (Google). The audio belongs to its YouTube uploaders and is not
    distributed; the user supplies clips they obtained themselves.

EXPECTED FILES:
    * one or more segment CSVs as published — ``balanced_train_segments.csv``,
      ``unbalanced_train_segments.csv``, ``eval_segments.csv`` — comment lines starting with ``#``,
      then ``YTID, start_seconds, end_seconds, "label_id,label_id,..."``;
    * optionally an audio folder (searched recursively) with clips named by YouTube id:
      ``<YTID>.<ext>``, ``<YTID>_<start>[_<end>].<ext>`` or ``Y<YTID>[_<start>_<end>].<ext>``
      (YouTube ids are 11 characters and may themselves contain ``_`` and ``-``).

Mood classes (ontology "Music mood", /t/dd00030): Happy music /t/dd00031, Funny music /t/dd00032,
Sad music /t/dd00033, Tender music /t/dd00034, Exciting music /t/dd00035, Angry music /t/dd00036,
Scary music /t/dd00037. A segment is kept when exactly one of these is among its labels (other,
non-mood labels such as "Music" are ignored); segments with none or several moods are counted in
``skipped``. Split: segments from ``eval_segments.csv`` → "test", the training CSVs → "train"
(re-split with :mod:`storyscore.datasets.splits` to get a validation set or the paper's sizes).
Clips with no local file stay in ``items`` with ``path=None`` and are listed in ``missing``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from storyscore.datasets.base import (
    AUDIO_EXTENSIONS,
    AudioItem,
    DatasetError,
    IssueLog,
    MusicDataset,
    csv_rows,
    read_text,
    require_dir,
    require_file,
)
from storyscore.lexicon.vocab import AUDIOSET_MOODS

MOOD_IDS: dict[str, str] = {
    "/t/dd00031": "happy",
    "/t/dd00032": "funny",
    "/t/dd00033": "sad",
    "/t/dd00034": "tender",
    "/t/dd00035": "exciting",
    "/t/dd00036": "angry",
    "/t/dd00037": "scary",
}
MOOD_NAMES: dict[str, str] = {
    "/t/dd00031": "Happy music",
    "/t/dd00032": "Funny music",
    "/t/dd00033": "Sad music",
    "/t/dd00034": "Tender music",
    "/t/dd00035": "Exciting music",
    "/t/dd00036": "Angry music",
    "/t/dd00037": "Scary music",
}
YTID_LEN = 11


def _split_for(csv_path: Path) -> str:
    return "test" if csv_path.name.startswith("eval") else "train"


def _ytid_candidates(stem: str) -> list[str]:
    """YouTube ids a file stem may name: the whole stem, its first 11 chars before '_', or after a 'Y'."""
    out = []
    if len(stem) == YTID_LEN:
        out.append(stem)
    if len(stem) > YTID_LEN and stem[YTID_LEN] == "_":
        out.append(stem[:YTID_LEN])
    if stem.startswith("Y") and (
        len(stem) == YTID_LEN + 1 or (len(stem) > YTID_LEN + 1 and stem[YTID_LEN + 1] == "_")
    ):
        out.append(stem[1 : YTID_LEN + 1])
    return out


def index_audio(audio_dir: str | Path) -> dict[str, list[Path]]:
    """YouTube id → audio files that may hold it (sorted, so the choice is deterministic)."""
    root = require_dir(audio_dir, "audio folder")
    index: dict[str, list[Path]] = {}
    for f in sorted(root.rglob("*")):
        if f.is_file() and f.suffix.lower() in AUDIO_EXTENSIONS and not f.name.startswith("."):
            for ytid in _ytid_candidates(f.stem):
                index.setdefault(ytid, []).append(f)
    return index


def _choose(paths: list[Path], start: float) -> Path:
    """Prefer a file whose name carries the segment start (several segments of one video)."""
    tags = {f"_{start:.3f}", f"_{start:.1f}", f"_{int(start)}", f"_{int(start * 1000)}"}
    for p in paths:
        for rest in (p.stem[YTID_LEN:], p.stem[YTID_LEN + 1 :]):
            # the tag must end the name or be followed by "_<end>": "_6" must not match "_60000"
            if any(rest == t or rest.startswith(t + "_") for t in tags):
                return p
    return paths[0]


def load(
    segment_csvs: str | Path | Iterable[str | Path],
    audio_dir: str | Path | None = None,
    strict: bool = False,
) -> MusicDataset:
    """Read AudioSet segment CSV(s) (a file, several files, or a folder holding them)."""
    if isinstance(segment_csvs, str | Path):
        p = Path(segment_csvs)
        paths = sorted(p.glob("*segments*.csv")) if p.is_dir() else [p]
        if p.is_dir() and not paths:
            raise DatasetError(f"{p}:0: no *segments*.csv files in this folder")
    else:
        paths = [Path(x) for x in segment_csvs]
    index = index_audio(audio_dir) if audio_dir is not None else None
    log = IssueLog(strict)
    items: list[AudioItem] = []
    skipped = {"no mood label": 0, "several mood labels": 0, "duplicate segment": 0}
    missing: list[str] = []
    seen: set[str] = set()
    for csv_path in paths:
        require_file(csv_path, "AudioSet segment CSV")
        try:
            rows = csv_rows(read_text(csv_path), ",")
        except csv.Error as exc:
            raise DatasetError(f"{csv_path}:0: not a readable CSV ({exc})") from exc
        for lineno, row in rows:
            if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                continue
            if len(row) != 4:
                log.add(
                    csv_path, lineno, f"expected 'YTID, start, end, \"labels\"' (4 fields), got {len(row)}"
                )
                continue
            ytid, start_s, end_s, label_field = (c.strip() for c in row)
            if len(ytid) != YTID_LEN:
                log.add(csv_path, lineno, f"not an 11-character YouTube id: {ytid!r}")
                continue
            try:
                start, end = float(start_s), float(end_s)
            except ValueError:
                log.add(csv_path, lineno, f"start/end not numbers ({start_s!r}, {end_s!r})")
                continue
            if not 0 <= start < end:
                log.add(csv_path, lineno, f"bad segment times {start}–{end}")
                continue
            moods = sorted({MOOD_IDS[x.strip()] for x in label_field.split(",") if x.strip() in MOOD_IDS})
            if len(moods) != 1:
                skipped["no mood label" if not moods else "several mood labels"] += 1
                continue
            seg_id = f"{ytid}_{start:.3f}"
            if seg_id in seen:
                skipped["duplicate segment"] += 1
                continue
            seen.add(seg_id)
            path = None
            if index is not None:
                if ytid in index:
                    path = _choose(index[ytid], start)
                else:
                    missing.append(ytid)
            items.append(
                AudioItem(
                    id=seg_id,
                    path=path,
                    label=moods[0],
                    split=_split_for(csv_path),
                    start=start,
                    end=end,
                    source_file=str(csv_path),
                    line=lineno,
                )
            )
    if not items:
        raise DatasetError(f"{paths[0] if paths else segment_csvs}:0: no segment with exactly one mood label")
    return MusicDataset(
        name="audioset_mood",
        items=items,
        labels=AUDIOSET_MOODS,
        issues=log.issues,
        missing=missing,
        skipped=skipped,
    )
