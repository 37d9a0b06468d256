"""Text → (valence, arousal) without labelled sentences.

A ridge regressor maps MiniLM embeddings of the Warriner lexicon's 13,915 words onto their (V, A); applied
to a passage embedding it reads the passage's emotional colour in context. It is blended with the passage's
lexicon-word average, which is sharper on explicit emotion words. The regressor is fitted once at set-up
(about a minute on 2 cores), saved as safetensors with a JSON card in the cache directory, and reused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from storyscore.errors import ModelError
from storyscore.lexicon import WARRINER_CITATION, lexicon_va, warriner
from storyscore.paths import cache_dir
from storyscore.text.encoder import TEXT_ENCODER_NAME, embed_passages, embed_sentences

REGRESSOR_VERSION = "text-va-ridge-1"
RIDGE_ALPHA = 1.0
# Sentence embeddings sit nearer the centre of the word cloud than single words do, so predictions shrink;
# this stretch (measured once on the demo story's paragraphs, not on any evaluation set) restores the spread.
PASSAGE_STRETCH = 2.0
LEXICON_WEIGHT = 0.35  # share of the lexicon-word average in the blend, scaled by how many emotion words occur


@dataclass(frozen=True)
class TextVARegressor:
    weights: np.ndarray  # (384, 2)
    bias: np.ndarray  # (2,)
    card: dict

    def predict_embeddings(self, emb: np.ndarray) -> np.ndarray:
        return (emb @ self.weights + self.bias).astype(np.float32)


def _fit(card_path: Path, weights_path: Path) -> TextVARegressor:
    from safetensors.numpy import save_file

    lex = warriner()
    emb = embed_sentences(list(lex.words), batch_size=256)
    target = lex.va.astype(np.float64)
    rng = np.random.default_rng(0)
    held_out = rng.random(len(lex.words)) < 0.1

    def solve(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mx, my = x.mean(axis=0), y.mean(axis=0)
        xc = x - mx
        w = np.linalg.solve(xc.T @ xc + RIDGE_ALPHA * np.eye(x.shape[1]), xc.T @ (y - my))
        return w, my - mx @ w

    x = emb.astype(np.float64)
    w, b = solve(x[~held_out], target[~held_out])
    pred = x[held_out] @ w + b
    r = [float(np.corrcoef(pred[:, k], target[held_out, k])[0, 1]) for k in range(2)]
    w, b = solve(x, target)  # final fit on every word
    card = {
        "name": REGRESSOR_VERSION,
        "what": "ridge regression from text embeddings to valence/arousal on [-1, 1]",
        "encoder": TEXT_ENCODER_NAME,
        "training_data": f"Warriner et al. 2013 norms, {len(lex.words)} lemmas ({WARRINER_CITATION})",
        "alpha": RIDGE_ALPHA,
        "inputs": "unit-length 384-d MiniLM embedding",
        "outputs": ["valence", "arousal"],
        "metrics": {"held_out_words": int(held_out.sum()), "pearson_valence": r[0], "pearson_arousal": r[1]},
    }
    card_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = weights_path.with_suffix(".tmp")
    save_file({"weights": w.astype(np.float32), "bias": b.astype(np.float32)}, str(tmp))
    tmp.replace(weights_path)
    card_path.write_text(json.dumps(card, indent=2))
    return TextVARegressor(w.astype(np.float32), b.astype(np.float32), card)


@cache
def regressor() -> TextVARegressor:
    """The fitted regressor, fitting and caching it on first use."""
    from safetensors.numpy import load_file

    folder = cache_dir() / REGRESSOR_VERSION
    weights_path, card_path = folder / "model.safetensors", folder / "model.json"
    if weights_path.exists() and card_path.exists():
        try:
            tensors = load_file(str(weights_path))
            return TextVARegressor(tensors["weights"], tensors["bias"], json.loads(card_path.read_text()))
        except (OSError, KeyError, ValueError, json.JSONDecodeError) as exc:
            raise ModelError(f"{weights_path}: unreadable ({exc}); delete {folder} to refit it") from None
    return _fit(card_path, weights_path)


def passage_va(passages: list[str], embeddings: np.ndarray | None = None) -> np.ndarray:
    """(n, 2) valence/arousal on [-1, 1] for each passage."""
    if not passages:
        return np.zeros((0, 2), dtype=np.float32)
    emb = embed_passages(passages) if embeddings is None else embeddings
    model_va = regressor().predict_embeddings(emb) * PASSAGE_STRETCH
    out = np.empty((len(passages), 2), dtype=np.float32)
    for i, text in enumerate(passages):
        v, a, coverage = lexicon_va(text)
        share = LEXICON_WEIGHT * min(1.0, coverage / 2.0)
        out[i] = (1 - share) * model_va[i] + share * np.array([v, a])
    return np.clip(out, -1.0, 1.0)
