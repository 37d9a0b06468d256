"""The paper's text→music protocol with people's labels on both sides: EmoBank sentences against VGMIDI pieces.

A query (an EmoBank sentence, or a few consecutive sentences of one document) is relevant to a piece when
both fall in the same valence–arousal quadrant: the text by its raters' mean (V − 3, A − the split's median
arousal), the piece by its raters' signs. Texts near either cut are dropped (`QuadrantRule.margins`): their
quadrant is a coin toss, and keeping them would blur what the readings can be asked to get right.

Besides each space's own ranking, two ceilings replace one side by its human ratings:
- ``text: people`` ranks the pieces for each text's *rated* (V, A) by the music side's reading (how good the
  music side could be made to look by a perfect text reading);
- ``music: people`` ranks the pieces' rated signs for each text's *reading* (the same for the text side).

Every figure is P@5 and MRR (ties resolved by their exact expectation, `training.metrics`), beside the
random ranking's, with a 95% interval that resamples the texts' source documents (sentences of one
document are not independent queries).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from storyscore.training.metrics import random_baseline, retrieval_metrics

METRICS: tuple[str, ...] = ("P@5", "MRR")


@dataclass(frozen=True)
class QuadrantRule:
    """Where a text's quadrant is cut, and how far from a cut it must lie to count (same units as V, A)."""

    valence_cut: float
    arousal_cut: float
    valence_margin: float
    arousal_margin: float

    @classmethod
    def from_train(cls, valence: np.ndarray, arousal: np.ndarray, arousal_cut: float) -> QuadrantRule:
        """The scale's middle for valence, the given split's median for arousal (it leans high), and margins
        of half the training split's standard deviation per axis, fixed before any result was seen."""
        return cls(3.0, float(arousal_cut), 0.5 * float(np.std(valence)), 0.5 * float(np.std(arousal)))

    def quadrants(self, valence: np.ndarray, arousal: np.ndarray) -> np.ndarray:
        """(n, 2) signs (+1 / −1) of each text's quadrant; 0 where the text lies within a margin of a cut."""
        dv = np.asarray(valence, np.float64) - self.valence_cut
        da = np.asarray(arousal, np.float64) - self.arousal_cut
        keep = (np.abs(dv) >= self.valence_margin) & (np.abs(da) >= self.arousal_margin)
        return np.where(keep[:, None], np.sign(np.stack([dv, da], axis=1)), 0).astype(np.int64)


def same_quadrant(text_signs: np.ndarray, music_signs: np.ndarray) -> np.ndarray:
    """(texts, pieces) relevance: the two share both signs."""
    t, m = np.asarray(text_signs), np.asarray(music_signs)
    return (t[:, None, :] == m[None, :, :]).all(axis=-1)


_OFFSETS = re.compile(r"_(\d+)_(\d+)$")


def consecutive_windows(ids: Sequence[str], documents: Sequence[str], size: int = 3,
                        ) -> list[list[int]]:
    """Non-overlapping runs of `size` consecutive sentences of one document (EmoBank ids end in the
    sentence's character offsets, which give the order); a document's last, shorter run is dropped."""
    by_doc: dict[str, list[tuple[int, int]]] = {}
    for i, (item_id, doc) in enumerate(zip(ids, documents, strict=True)):
        m = _OFFSETS.search(item_id)
        by_doc.setdefault(doc, []).append((int(m.group(1)) if m else i, i))
    out: list[list[int]] = []
    for doc in sorted(by_doc):
        order = [i for _, i in sorted(by_doc[doc])]
        out.extend(order[k:k + size] for k in range(0, len(order) - size + 1, size))
    return out


def cluster_bootstrap_mean(values: np.ndarray, groups: Sequence[str], *, n_boot: int = 2000, seed: int = 0,
                           ) -> tuple[float, float]:
    """95% percentile interval of the mean of per-query `values`, resampling whole groups (documents)."""
    v = np.asarray(values, np.float64)
    g = np.asarray(groups)
    keep = ~np.isnan(v)
    v, g = v[keep], g[keep]
    names = np.unique(g)
    if len(names) == 0:
        return float("nan"), float("nan")
    sums = np.array([v[g == n].sum() for n in names])
    counts = np.array([(g == n).sum() for n in names], dtype=np.float64)
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(names), (n_boot, len(names)))
    means = sums[pick].sum(axis=1) / counts[pick].sum(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(lo), float(hi)


def protocol_row(scores: np.ndarray, relevance: np.ndarray, groups: Sequence[str], *, n_boot: int = 2000,
                 ) -> dict[str, float | int | list[float]]:
    """P@5 and MRR of one ranking, each with its document-resampled interval, and the random ranking's."""
    got = retrieval_metrics(scores, relevance, ks=(5,))
    rand = random_baseline(relevance, ks=(5,))
    row: dict[str, float | int | list[float]] = {"queries": int(got.n_queries - got.n_excluded),
                                                 "pieces": int(relevance.shape[1])}
    for name in METRICS:
        row[name] = got.micro[name]
        row[f"{name}_ci"] = list(cluster_bootstrap_mean(got.per_query[name], groups, n_boot=n_boot))
        row[f"{name}_random"] = rand.micro[name]
        # paired with the same queries, so the interval is of the gain over random itself
        gain = got.per_query[name] - rand.per_query[name]
        row[f"{name}_over_random_ci"] = list(cluster_bootstrap_mean(gain, groups, n_boot=n_boot))
    return row


def va_distance_scores(text_va: np.ndarray, music_va: np.ndarray) -> np.ndarray:
    """Scores of the `va` space's form (closer in the plane is better), for the human-rating ceilings: the
    music side standardised over the library as `VASpace` does, the text side as given."""
    from storyscore.spaces.zeroshot_spaces import va_distance

    return va_distance(np.asarray(text_va, np.float64), np.asarray(music_va, np.float64))


__all__ = ["METRICS", "QuadrantRule", "cluster_bootstrap_mean", "consecutive_windows", "protocol_row",
           "same_quadrant", "va_distance_scores"]
