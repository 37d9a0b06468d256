"""Loaders for the paper's datasets and for a user's own labelled folders.

Text: ``alm``, ``isear``, ``emobank``, ``folder``. Music: ``audioset`` (AudioSet music mood),
``folder``. Each loader returns a :class:`TextDataset` / :class:`MusicDataset` whose ``issues`` list
every bad row as ``file:line: problem``; :class:`DatasetError` is raised for a missing or unusable
file (or on the first bad row with ``strict=True``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from storyscore.datasets.base import (
    AudioItem,
    DatasetError,
    Issue,
    MusicDataset,
    TextDataset,
    TextItem,
)
from storyscore.datasets.splits import assign_splits, stratified_split

TEXT_KINDS: tuple[str, ...] = ("alm", "isear", "emobank", "folder")
MUSIC_KINDS: tuple[str, ...] = ("audioset", "folder")

__all__ = [
    "MUSIC_KINDS",
    "TEXT_KINDS",
    "AudioItem",
    "DatasetError",
    "Issue",
    "MusicDataset",
    "TextDataset",
    "TextItem",
    "assign_splits",
    "load_music_dataset",
    "load_text_dataset",
    "stratified_split",
]


def load_text_dataset(kind: str, path: str | Path, **options: Any) -> TextDataset:
    """Load a text dataset by kind; ``options`` go to that loader (e.g. ``strict=True``)."""
    # imported here so that loading one dataset never imports the others
    if kind == "alm":
        from storyscore.datasets import alm

        return alm.load(path, **options)
    if kind == "isear":
        from storyscore.datasets import isear

        return isear.load(path, **options)
    if kind == "emobank":
        from storyscore.datasets import emobank

        return emobank.load(path, **options)
    if kind == "folder":
        from storyscore.datasets import labelled_folder

        return labelled_folder.load_text(path, **options)
    raise DatasetError(f"unknown text dataset kind {kind!r} (use one of {', '.join(TEXT_KINDS)})")


def load_music_dataset(kind: str, path: str | Path, **options: Any) -> MusicDataset:
    """Load a music dataset by kind. For ``audioset``, ``path`` is the segment CSV(s) (file or
    folder) and ``audio_dir=`` names where the clips are."""
    if kind == "audioset":
        from storyscore.datasets import audioset_mood

        return audioset_mood.load(path, **options)
    if kind == "folder":
        from storyscore.datasets import labelled_folder

        return labelled_folder.load_music(path, **options)
    raise DatasetError(f"unknown music dataset kind {kind!r} (use one of {', '.join(MUSIC_KINDS)})")
