"""An inverted-file (IVF) index over memory-mapped numpy arrays: the candidate generator behind
`library/ann.py`, chosen because it opens in constant time.

The stored vectors are grouped into lists around k-means centroids (about √n lists of about √n vectors). A
query ranks the centroids, then scans the nearest lists' vectors exactly until it has looked at `scan`
vectors, and proposes the best `count` of them. On disk a part is four ``.npy`` files (centroids, list
offsets, and the ids and vectors sorted by list); opening maps them (`np.load(mmap_mode="r")` reads a
header each), so opening costs the same at 10k tracks as at a million, and a query reads only the
centroids and the lists it scans.

Metrics: ``l2sq`` (smallest squared distance), ``ip`` (largest inner product) and ``cos`` (largest cosine:
vectors and centroids are stored unit-length). k-means runs on a fixed random sample with a fixed seed and
float32 BLAS products, so one store always gives the same index on one machine.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

METRICS = ("l2sq", "ip", "cos")
KMEANS_ITERATIONS = 10
KMEANS_SAMPLE_PER_LIST = 64  # training points per centroid (a fixed random sample of the library)
_ROWS = 8192  # rows per distance block: bounds the (rows, lists) matrix a step holds


def list_count(n: int) -> int:
    """How many lists for n vectors: about √n, so that ranking the centroids and scanning a list cost alike."""
    return max(1, min(n, round(math.sqrt(n))))


def prepared(mat: np.ndarray, metric: str) -> np.ndarray:
    """Vectors as the index stores them: float32, unit rows for ``cos``."""
    x = np.ascontiguousarray(mat, dtype=np.float32)
    if metric == "cos":
        norm = np.linalg.norm(x, axis=1, keepdims=True)
        x = x / np.where(norm > 0, norm, 1.0)
    return x


def _nearest(x: np.ndarray, centroids: np.ndarray, metric: str) -> np.ndarray:
    """The list of each row: nearest centroid (largest cosine for ``cos``), a block of rows at a time."""
    out = np.empty(len(x), dtype=np.int64)
    c_norm2 = (centroids.astype(np.float32) ** 2).sum(1)
    for start in range(0, len(x), _ROWS):
        block = x[start:start + _ROWS] @ centroids.T
        if metric == "cos":
            out[start:start + _ROWS] = block.argmax(1)
        else:  # |x - c|² = |x|² - 2 x·c + |c|²; |x|² is the same for every centroid
            out[start:start + _ROWS] = (c_norm2 - 2 * block).argmin(1)
    return out


def kmeans(x: np.ndarray, k: int, metric: str, seed: int = 0) -> np.ndarray:
    """(k, d) centroids of Lloyd's k-means on a fixed random sample of x (spherical for ``cos``)."""
    rng = np.random.default_rng(seed)
    n = len(x)
    sample = x if n <= k * KMEANS_SAMPLE_PER_LIST else x[np.sort(rng.choice(n, k * KMEANS_SAMPLE_PER_LIST,
                                                                          replace=False))]
    centroids = sample[np.sort(rng.choice(len(sample), k, replace=False))].astype(np.float32)
    for _ in range(KMEANS_ITERATIONS):
        lists = _nearest(sample, centroids, metric)
        counts = np.bincount(lists, minlength=k)
        sums = np.stack([np.bincount(lists, weights=sample[:, j], minlength=k) for j in range(x.shape[1])], axis=1)
        empty = counts == 0
        centroids = (sums / np.maximum(counts, 1)[:, None]).astype(np.float32)
        if empty.any():  # an empty list restarts at a random training point
            centroids[empty] = sample[rng.choice(len(sample), int(empty.sum()), replace=False)]
        if metric == "cos":
            centroids = prepared(centroids, "cos")
    return centroids


@dataclass
class IVF:
    """One inverted-file index: centroids (lists, d), offsets (lists + 1), and ids (n,) and vectors (n, d)
    sorted by list (by id within a list). The arrays are in memory after `build`/`updated`, memory-mapped
    after `open`."""

    metric: str
    centroids: np.ndarray
    offsets: np.ndarray
    ids: np.ndarray
    vectors: np.ndarray

    FILES = ("centroids", "offsets", "ids", "vectors")

    @property
    def count(self) -> int:
        return len(self.ids)

    @property
    def ndim(self) -> int:
        return int(self.centroids.shape[1])

    @classmethod
    def build(cls, ids: np.ndarray, mat: np.ndarray, metric: str, *, seed: int = 0,
              progress: Callable[[int, int], None] | None = None) -> IVF:
        """An index of these vectors (ids unique): k-means on a sample, then every vector to its list."""
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}")
        x = prepared(mat, metric)
        centroids = kmeans(x, list_count(len(x)), metric, seed)
        lists = np.empty(len(x), dtype=np.int64)
        step = 16 * _ROWS
        for start in range(0, len(x), step):
            if progress:
                progress(start, len(x))
            lists[start:start + step] = _nearest(x[start:start + step], centroids, metric)
        if progress:
            progress(len(x), len(x))
        return cls._grouped(metric, centroids, np.asarray(ids, dtype=np.int64), x, lists)

    @classmethod
    def _grouped(cls, metric: str, centroids: np.ndarray, ids: np.ndarray, x: np.ndarray, lists: np.ndarray) -> IVF:
        order = np.lexsort((ids, lists))
        offsets = np.zeros(len(centroids) + 1, dtype=np.int64)
        np.cumsum(np.bincount(lists, minlength=len(centroids)), out=offsets[1:])
        return cls(metric, centroids, offsets, ids[order], np.ascontiguousarray(x[order]))

    def lists_of_rows(self) -> np.ndarray:
        """The list of each stored row."""
        return np.repeat(np.arange(len(self.centroids)), np.diff(np.asarray(self.offsets)))

    def _rows_of(self, ids: np.ndarray) -> np.ndarray:
        """The stored row of each of these ids, which must all be held."""
        held = np.asarray(self.ids)
        order = np.argsort(held, kind="stable")
        return order[np.searchsorted(held, ids, sorter=order)]

    def stored(self, ids: np.ndarray) -> np.ndarray:
        """The stored (prepared) vectors of these ids, which must all be held."""
        return np.asarray(self.vectors)[self._rows_of(ids)]

    def updated(self, ids: np.ndarray, mat: np.ndarray, reassign: np.ndarray) -> IVF:
        """The index of a changed library, with these centroids: `ids` every track now (ascending), `mat` their
        vectors; a row flagged in `reassign` (new, or moved) goes to its nearest list, the others stay in
        the list they were in (they must be held)."""
        ids = np.asarray(ids, dtype=np.int64)
        x = prepared(mat, self.metric)
        lists = np.empty(len(ids), dtype=np.int64)
        stay = ~reassign
        lists[stay] = self.lists_of_rows()[self._rows_of(ids[stay])]
        lists[reassign] = _nearest(x[reassign], np.asarray(self.centroids), self.metric)
        return self._grouped(self.metric, np.asarray(self.centroids), ids, x, lists)

    # --- on disk ------------------------------------------------------------------------------------------
    def save(self, folder: Path, prefix: str) -> dict[str, str]:
        """Write the four arrays as ``<prefix>.<name>.npy``; returns name → file name."""
        files = {}
        for name in self.FILES:
            files[name] = f"{prefix}.{name}.npy"
            with (folder / files[name]).open("wb") as f:
                np.save(f, np.ascontiguousarray(getattr(self, name)))
        return files

    @classmethod
    def open(cls, folder: Path, files: dict[str, str], metric: str) -> IVF:
        """Map a saved index (reads four headers, no vectors)."""
        return cls(metric, *(np.load(folder / files[name], mmap_mode="r") for name in cls.FILES))

    # --- searching --------------------------------------------------------------------------------------------
    def search(self, query: np.ndarray, count: int, scan: int) -> np.ndarray:
        """Ids of the best `count` vectors for one query among the nearest lists holding at least `scan`
        vectors in all (best first)."""
        q = np.asarray(query, dtype=np.float32).ravel()
        centroids = np.asarray(self.centroids)
        closeness = centroids @ q
        if self.metric == "l2sq":
            closeness = 2 * closeness - (centroids**2).sum(1)
        offsets = np.asarray(self.offsets)
        sizes = np.diff(offsets)
        ranked = np.argsort(-closeness, kind="stable")
        probe = ranked[:int(np.searchsorted(np.cumsum(sizes[ranked]), max(scan, count))) + 1]
        probe = np.sort(probe)  # read the mapped file forwards (never empty: there is at least one list)
        spans = [slice(offsets[i], offsets[i + 1]) for i in probe]
        x = np.concatenate([self.vectors[s] for s in spans])
        scores = x @ q
        if self.metric == "l2sq":
            scores = 2 * scores - (x**2).sum(1)
        ids = np.concatenate([self.ids[s] for s in spans])
        if len(scores) > count:
            best = np.argpartition(-scores, count - 1)[:count]
            ids, scores = ids[best], scores[best]
        return ids[np.lexsort((ids, -scores))]


__all__ = ["IVF", "METRICS", "kmeans", "list_count", "prepared"]
