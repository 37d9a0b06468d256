"""The fitted text reading: passage features → (valence, arousal), a kernel ridge head fitted on EmoBank train.

Inputs per passage: its MiniLM embedding (384, `text.encoder.embed_passages`: long passages are chunked and
pooled) and seven Warriner lexicon statistics of its words (`lexicon_features`). They are standardised with
the training means/spreads, and the head is kernel ridge regression with an RBF kernel over the training
sentences (support vectors and dual weights ship in ``data/text_va_head/head.safetensors``):

    z = (x - mean) / scale;  k_i = exp(-gamma * |z - Z_i|^2);  y_emobank = (k @ dual) * y_scale + y_mean

``y_emobank`` is on EmoBank's (SAM - 3) / 2 scale. It is mapped per axis onto the centred Warriner scale the
rest of the code uses by ``out = out_slope * y_emobank + out_offset`` (matching the old anchored reading's mean
and spread over EmoBank train sentences, so the shared frame keeps its spread), then squashed into (-1, 1) by
tanh: a hard clip tied the 7% most extreme dev sentences at ±1 (valence r .686 against .704 unclipped), and a
ranking of the saddest passages needs their order.

numpy only: no torch, no scikit-learn at inference. The research side that fits it is
`storyscore.training.text_va` (run by benchmarks/fit_text_va.py); the card beside the weights records the data,
the cross-validated choice, dev figures and check outputs (tests/test_text_va.py reloads and compares).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from storyscore.errors import ModelError
from storyscore.text.encoder import TEXT_DIM, TEXT_ENCODER_NAME

HEAD_DIR = "text_va_head"  # under storyscore/data
WEIGHTS_FILE = "head.safetensors"
CARD_FILE = "card.json"
FORMAT = 1
LEXICON_FEATURES: tuple[str, ...] = (
    "lex_v_mean", "lex_a_mean", "lex_v_min", "lex_v_max", "lex_a_max", "lex_coverage", "lex_log_count",
)
TENSORS: tuple[str, ...] = (
    "x_mean", "x_scale", "support", "dual", "y_mean", "y_scale", "out_slope", "out_offset", "gamma",
)


def lexicon_features(texts: list[str]) -> np.ndarray:
    """(n, 7) Warriner statistics of each text's words: mean V, mean A, min V, max V, max A (centred scale),
    the share of words the lexicon knows and log(1 + known words). A text with no known word gets zeros (the
    lexicon's neutral)."""
    from storyscore.lexicon.norms import tokens, warriner

    lex = warriner()
    out = np.zeros((len(texts), len(LEXICON_FEATURES)), dtype=np.float32)
    for i, text in enumerate(texts):
        words = tokens(text)
        rows = [lex.index[w] for w in words if w in lex.index]
        if not rows:
            continue
        va = lex.va[rows]
        out[i] = (va[:, 0].mean(), va[:, 1].mean(), va[:, 0].min(), va[:, 0].max(), va[:, 1].max(),
                  len(rows) / len(words), np.log1p(len(rows)))
    return out


def features(embeddings: np.ndarray, texts: list[str]) -> np.ndarray:
    """(n, 391) head inputs: the passage embeddings and their texts' lexicon statistics."""
    emb = np.asarray(embeddings, dtype=np.float32)
    if emb.ndim != 2 or emb.shape[1] != TEXT_DIM or emb.shape[0] != len(texts):
        raise ValueError(f"need ({len(texts)}, {TEXT_DIM}) embeddings, got {emb.shape}")
    return np.hstack([emb, lexicon_features(texts)]).astype(np.float32)


@dataclass(frozen=True)
class TextVAHead:
    """The shipped head's arrays (float32) and its card."""

    tensors: dict[str, np.ndarray]
    card: dict[str, Any]
    support_sq: np.ndarray = field(init=False, repr=False)  # |Z_i|^2, once per load rather than per call

    def __post_init__(self) -> None:
        s = self.tensors["support"]
        object.__setattr__(self, "support_sq", (s * s).sum(axis=1))

    def emobank(self, x: np.ndarray) -> np.ndarray:
        """(n, 2) prediction on EmoBank's (SAM - 3) / 2 scale from (n, 391) `features`."""
        t = self.tensors
        z = (np.asarray(x, dtype=np.float32) - t["x_mean"]) / t["x_scale"]
        support = t["support"]
        # |z - s|^2 = |z|^2 + |s|^2 - 2 z.s, as one matrix product (1,000 passages x 8,062 sentences: ~0.1 s)
        d2 = (z * z).sum(axis=1)[:, None] + self.support_sq[None, :] - 2.0 * (z @ support.T)
        np.maximum(d2, 0.0, out=d2)
        kernel = np.exp(-float(t["gamma"][0]) * d2)
        return (kernel @ t["dual"]) * t["y_scale"] + t["y_mean"]

    def read(self, embeddings: np.ndarray, texts: list[str]) -> np.ndarray:
        """(n, 2) (V, A) on the centred Warriner scale [-1, 1]."""
        t = self.tensors
        out = self.emobank(features(embeddings, texts)) * t["out_slope"] + t["out_offset"]
        return np.tanh(out).astype(np.float32)


def validate(tensors: dict[str, np.ndarray], card: dict[str, Any]) -> None:
    """Raise ModelError unless the arrays and card form a head of this format."""
    if card.get("format") != FORMAT:
        raise ModelError(f"text VA head card has format {card.get('format')!r}, expected {FORMAT}")
    if card.get("encoder") != TEXT_ENCODER_NAME:
        raise ModelError(f"text VA head was fitted on {card.get('encoder')!r}, not {TEXT_ENCODER_NAME}")
    missing = [k for k in TENSORS if k not in tensors]
    if missing:
        raise ModelError(f"text VA head lacks {', '.join(missing)}")
    d = TEXT_DIM + len(LEXICON_FEATURES)
    n = tensors["support"].shape[0]
    shapes = {"x_mean": (d,), "x_scale": (d,), "support": (n, d), "dual": (n, 2), "y_mean": (2,),
              "y_scale": (2,), "out_slope": (2,), "out_offset": (2,), "gamma": (1,)}
    for k, shape in shapes.items():
        if tensors[k].shape != shape:
            raise ModelError(f"text VA head {k} has shape {tensors[k].shape}, expected {shape}")
    if list(card.get("inputs", [])) != [f"minilm:{i}" for i in range(TEXT_DIM)] + list(LEXICON_FEATURES):
        raise ModelError("text VA head card lists other inputs than this code computes")


def head_dir() -> Path:
    return Path(str(resources.files("storyscore").joinpath("data", HEAD_DIR)))


def load_head(folder: str | Path | None = None) -> TextVAHead:
    from safetensors.numpy import load_file

    folder = Path(folder) if folder is not None else head_dir()
    try:
        tensors = {k: v.astype(np.float32) for k, v in load_file(str(folder / WEIGHTS_FILE)).items()}
        card = json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
    except Exception as exc:  # missing or corrupt files surface as OSError, ValueError or SafetensorError
        raise ModelError(f"cannot read the text VA head in {folder}: {exc}") from None
    validate(tensors, card)
    return TextVAHead(tensors, card)


@cache
def shipped_head() -> TextVAHead:
    return load_head()


def save_head(tensors: dict[str, np.ndarray], card: dict[str, Any], folder: str | Path | None = None) -> Path:
    """Write the arrays (float32 safetensors) and the card; validated first."""
    from safetensors.numpy import save_file

    folder = Path(folder) if folder is not None else head_dir()
    arrays = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}
    validate(arrays, card)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(arrays, str(folder / WEIGHTS_FILE), metadata={"format": str(FORMAT)})
    (folder / CARD_FILE).write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    return folder


__all__ = ["CARD_FILE", "FORMAT", "HEAD_DIR", "LEXICON_FEATURES", "WEIGHTS_FILE", "TextVAHead", "features",
           "lexicon_features", "load_head", "save_head", "shipped_head", "validate"]
