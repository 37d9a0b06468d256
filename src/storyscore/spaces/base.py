"""The emotion-space interface: every space (zero-shot or trained) embeds text and audio into vectors
that `similarity` compares. Search and the store only ever talk to this interface."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from storyscore.audio.encoder import TrackAnalysis


@runtime_checkable
class EmotionSpace(Protocol):
    name: str
    version: str  # changes whenever vectors from an older version would no longer compare correctly

    def embed_text(self, passages: list[str]) -> np.ndarray:
        """(n, d) vectors of passages."""
        ...

    def embed_audio(self, analyses: list[TrackAnalysis]) -> np.ndarray:
        """(n, d) vectors of analysed tracks."""
        ...

    def similarity(self, text: np.ndarray, music: np.ndarray) -> np.ndarray:
        """(n_text, n_music) scores, higher = better fit. `music` is the whole library being searched,
        so a space may normalise against it (e.g. what counts as 'slow' in this library)."""
        ...


def row_zscore(scores: np.ndarray) -> np.ndarray:
    """Standardise each query's scores over the library, so spaces with different scales can be mixed."""
    mean = scores.mean(axis=1, keepdims=True)
    std = scores.std(axis=1, keepdims=True)
    return (scores - mean) / np.where(std > 1e-9, std, 1.0)


def unit_rows(x: np.ndarray) -> np.ndarray:
    return x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-9)
