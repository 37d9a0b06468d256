"""One exception type per failure family; the CLI prints them as one line and exits non-zero."""

from __future__ import annotations


class StoryscoreError(Exception):
    """Base of every error storyscore reports to a user (never shown as a traceback)."""

    exit_code = 1


class InputError(StoryscoreError):
    """A path, argument or input text the user gave is missing or unusable."""

    exit_code = 2


class AudioDecodeError(StoryscoreError):
    """An audio file cannot be decoded or is unusable (silent, empty, too long)."""


class ModelError(StoryscoreError):
    """A model's weights or packaged data are missing or malformed."""


class MissingDependencyError(StoryscoreError):
    """An optional part of storyscore was asked for and its extra is not installed (e.g. Ray for `--ray`)."""


class ClusterError(StoryscoreError):
    """A Ray cluster cannot be reached, or a worker on it was lost."""


class StoreError(StoryscoreError):
    """The track store is unreadable, locked, or built by another pipeline version."""


class StoreVersionError(StoreError):
    """The store was built by a different pipeline version and must be rebuilt."""


class TextInputError(InputError):
    """A story text is empty, binary, undecodable or malformed (e.g. a broken EPUB)."""
