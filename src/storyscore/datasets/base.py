"""Record types shared by every dataset loader, and the error/issue conventions.

Loaders never stop at the first bad row: each problem becomes an :class:`Issue` (``file:line:
problem``) in the returned dataset, so a user can see all of them at once. With ``strict=True`` the
first issue raises :class:`DatasetError` instead. A missing file, or a file with no usable row at all,
always raises.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from storyscore.errors import InputError

AUDIO_EXTENSIONS: frozenset[str] = frozenset(
    {".wav", ".flac", ".ogg", ".opus", ".mp3", ".m4a", ".aac", ".wma", ".aif", ".aiff", ".npy"}
)


class DatasetError(InputError):
    """A dataset file is missing, unreadable or malformed (message: 'file:line: problem')."""


@dataclass(frozen=True)
class Issue:
    """One problem found while loading, located by file and 1-based line (0: the file as a whole)."""

    path: str
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.problem}"


@dataclass(frozen=True)
class TextItem:
    """One labelled (or VA-annotated) text: a sentence, a situation report, a passage."""

    id: str
    text: str
    label: str | None = None
    valence: float | None = None  # on [-1, 1]
    arousal: float | None = None  # on [-1, 1]
    split: str | None = None  # "train" | "valid" | "test" | None (not assigned)
    source_file: str = ""
    line: int = 0
    genre: str = ""  # the corpus's register (EmoBank: fiction, letters, blog, ...), where it has one
    document: str = ""  # the text it was taken from, where known: its sentences are not independent


@dataclass(frozen=True)
class AudioItem:
    """One labelled audio clip; ``path`` is None when the clip is not on disk."""

    id: str
    path: Path | None
    label: str
    split: str | None = None
    # labelled segment in the source recording (AudioSet: seconds into the YouTube video; a local
    # file named by the video id alone is taken to hold just that segment)
    start: float | None = None
    end: float | None = None
    source_file: str = ""
    line: int = 0


@dataclass
class TextDataset:
    name: str
    items: list[TextItem]
    labels: tuple[str, ...]
    issues: list[Issue] = field(default_factory=list)

    def split(self, name: str) -> list[TextItem]:
        return [it for it in self.items if it.split == name]

    def label_counts(self) -> Counter[str]:
        return Counter(it.label for it in self.items if it.label is not None)


@dataclass
class MusicDataset:
    name: str
    items: list[AudioItem]
    labels: tuple[str, ...]
    issues: list[Issue] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # ids of labelled clips with no local file
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count of rows left out on purpose

    def split(self, name: str) -> list[AudioItem]:
        return [it for it in self.items if it.split == name]

    def available(self) -> list[AudioItem]:
        return [it for it in self.items if it.path is not None]

    def label_counts(self) -> Counter[str]:
        return Counter(it.label for it in self.items)


class IssueLog:
    """Collects issues; raises on the first one when strict."""

    def __init__(self, strict: bool = False) -> None:
        self.strict = strict
        self.issues: list[Issue] = []

    def add(self, path: Path | str, line: int, problem: str) -> None:
        issue = Issue(str(path), line, problem)
        if self.strict:
            raise DatasetError(str(issue))
        self.issues.append(issue)


def require_file(path: Path | str, what: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise DatasetError(f"{p}:0: {what} not found")
    return p


def require_dir(path: Path | str, what: str) -> Path:
    p = Path(path)
    if not p.is_dir():
        raise DatasetError(f"{p}:0: {what} not found (expected a directory)")
    return p


def read_text(path: Path) -> str:
    """Decode a data file: UTF-8 (with or without BOM), else Windows-1252 (old ISEAR/Alm dumps)."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def header_and_rows(path: Path, text: str, delimiter: str = ",",
                    ) -> tuple[int, list[str], dict[str, int], list[tuple[int, list[str]]]]:
    """A CSV with a header: (header line, header, lower-cased column → index, the non-blank rows after it),
    or a DatasetError naming the file when it is not a CSV or has no rows at all."""
    try:
        rows = csv_rows(text, delimiter)
    except csv.Error as exc:
        raise DatasetError(f"{path}:0: not a readable CSV ({exc})") from exc
    rows = [(ln, r) for ln, r in rows if any(c.strip() for c in r)]
    if not rows:
        raise DatasetError(f"{path}:0: empty file")
    header_line, header = rows[0]
    return header_line, header, {h.strip().lower(): i for i, h in enumerate(header)}, rows[1:]


def csv_rows(text: str, delimiter: str = ",") -> list[tuple[int, list[str]]]:
    """Rows of a CSV text with the 1-based line on which each row starts (quoted fields may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    for row in reader:
        rows.append((start, row))
        start = reader.line_num + 1
    return rows
