"""Scoring a trained space on labelled data: text→music retrieval (`metrics.evaluate_retrieval`) of the
space's own scores, made JSON-safe for model cards and reports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from storyscore.spaces.cnn import AudioTwoBranchSpace
from storyscore.spaces.trained import TrainedSpace, json_safe
from storyscore.training.metrics import PAPER_MAPPINGS, evaluate_retrieval


def evaluate_scores(scores: np.ndarray, text_labels: Sequence[str], music_labels: Sequence[str],
                    mappings: Sequence[str] = PAPER_MAPPINGS, prior_text_labels: Sequence[str] | None = None,
                    ks: Sequence[int] = (5, 10)) -> dict[str, Any]:
    """`evaluate_retrieval` of (texts × clips) scores, NaN/inf as None."""
    return json_safe(evaluate_retrieval(scores, list(text_labels), list(music_labels), mappings=tuple(mappings),
                                        ks=tuple(ks), prior_text_labels=prior_text_labels))


def evaluate_heads(space: TrainedSpace, text_embeddings: np.ndarray, text_labels: Sequence[str],
                   music_inputs: np.ndarray, music_labels: Sequence[str], mappings: Sequence[str] = PAPER_MAPPINGS,
                   prior_text_labels: Sequence[str] | None = None, ks: Sequence[int] = (5, 10)) -> dict[str, Any]:
    """A head space on `music_inputs` rows. `text_embeddings` are the heads' inputs, `space.text_inputs(...)`:
    for a fine-tuned model NOT the frozen `embed_passages`."""
    scores = space.similarity(space.embed_text_vectors(text_embeddings), space.embed_music_inputs(music_inputs))
    return evaluate_scores(scores, text_labels, music_labels, mappings, prior_text_labels, ks)


def evaluate_cnn(space: AudioTwoBranchSpace, text_embeddings: np.ndarray, text_labels: Sequence[str],
                 mels: Sequence[np.ndarray], music_labels: Sequence[str], mappings: Sequence[str] = PAPER_MAPPINGS,
                 prior_text_labels: Sequence[str] | None = None, ks: Sequence[int] = (5, 10)) -> dict[str, Any]:
    """The CNN space on log-mel clips (``test_crops`` crops averaged per clip)."""
    scores = space.similarity(space.embed_text_vectors(text_embeddings), space.embed_mels(mels))
    return evaluate_scores(scores, text_labels, music_labels, mappings, prior_text_labels, ks)
