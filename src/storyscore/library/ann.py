"""Approximate nearest-neighbour search, so that a query against a library of a million tracks neither loads
every stored vector nor scores every track.

**Engine: an inverted file over memory-mapped numpy arrays** (`library/ivf.py`: k-means lists, the nearest
lists scanned exactly). Until format 1 this was usearch's HNSW graph, chosen over faiss-cpu and hnswlib
(HNSW in all three, measured alike for build and query time; usearch for its small wheel, in-place removal
and memory-mapped `restore(view=True)`). That choice failed one target: opening a graph walks every node
once (30–60 ms at 1M tracks, holding the GIL), so opening the library for a query grew with its size, and
a graph of 1M tracks took 2–3 minutes to build on one thread. An inverted file opens by mapping four arrays
per part (a header read each: the same time at any size), builds in seconds (k-means on a sample, then one
matrix product per block of tracks), updates by moving only the tracks that changed, and needs no
dependency beyond numpy; its lists are as good as the data is clustered, which `benchmarks/search_scale.py`
measures (recall@10 against exact search). faiss-cpu's IVF with on-disk lists could map its lists too (not
measured here; an 18.8 MB wheel).

**Search form.** Every space's scoring is written as a metric search over transformed stored vectors and a
transformed query (`SearchForm`), whose library statistics (the `va` standardisation, the `tagwords`
centring, the moments `fused` needs) are computed from all stored vectors when the index is built or
updated, and saved with it. The index only proposes candidates: the best `pool` per part by the metric,
re-scored exactly by the space's own formula, on the stored vectors of just those tracks (the copy saved
with the index while the store is unchanged, else the store's: a track it no longer holds drops out), with
the current library statistics. So
the `va` and `tagwords` spaces' top-10 through the index equal exact search's whenever the true top-10 lie
in the pool. `fused` averages row-z-scored `va` and `tagwords` scores, whose per-query mean and standard
deviation run over the whole library: the `tagwords` part's come exactly from the mean and covariance of
its transformed vectors (a score is linear in them); the `va` part's (a distance, not linear) from a fixed
random sample of `SAMPLE_SIZE` tracks saved with the index. Candidates come from the `va` part's index
and from a joint index that ranks by both parts at once (`FusedForm`).
Trained spaces have no library statistics: inner product (classification: with the query mapped through
the model's relevance matrix) or L2 on the raw vectors.

**On disk**, beside the store: ``<db>.ann/<space>-<version hash>.json`` (the manifest: space, version,
form, count, a fingerprint of the store's vectors, the store's change token, the statistics, file names)
and four ``.npy`` files per part (the inverted file), plus ``.ids.npy`` and ``.vectors.npy``: the store's vectors as they were
(re-scoring reads its candidates' rows there, memory-mapped, while the store's change token is unchanged,
and from the store otherwise), and for `fused` ``.sample.npy``.
Files are written under new names and the manifest is replaced atomically last, so a reader or a crash
never sees half an index. A missing, damaged or stale index is rebuilt (with progress) or updated in
place: removed tracks are taken out, added ones put in their nearest list, and ones whose transformed
vector moved are moved to theirs; when more than `REBUILD_FRACTION` of the library changed, it is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from storyscore.errors import StoreVersionError
from storyscore.library.ivf import IVF, prepared
from storyscore.spaces.base import unit_rows

Progress = Callable[[int, int, str], None]
Stats = dict[str, np.ndarray]

ANN_THRESHOLD = 20_000  # tracks; below it exact search over every stored vector is fast enough (and exact)
FORMAT = 2  # 1: usearch HNSW graphs (read as no index: rebuilt)
POOL = 256  # candidates per part re-scored exactly
SAMPLE_SIZE = 8192  # tracks whose scores estimate a fused query's per-part mean and spread
REBUILD_FRACTION = 0.25  # update in place while fewer tracks than this changed; else rebuild
MOVED_TOLERANCE = 0.02  # a vector moved when it shifted by more than this × the rms norm of its part
SCAN_FACTOR = 16  # a part scans the nearest lists until it has looked at this many × its pool ...
PROBE_LISTS = 32  # ... and at least this many lists (√n tracks each: at 1M, 3% of the library)


class VectorSource(Protocol):
    """Where the stored vectors live (the store): all of a space's, some by id, and a cheap change token."""

    def vectors(self, space: str, version: str) -> tuple[np.ndarray, np.ndarray]:
        """(ids ascending, (n, d) float32) of every track holding a vector of this space and version."""
        ...

    def vectors_of(self, space: str, version: str, ids: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The same for the listed ids that still hold one (ascending; missing ids are left out)."""
        ...

    def vectors_state(self, space: str, version: str) -> str:
        """A token, cheap to read, that changes whenever this space's stored vectors may have changed."""
        ...


def _min_library() -> int:
    from storyscore.spaces.zeroshot_spaces import MIN_LIBRARY_FOR_NORMALISING

    return MIN_LIBRARY_FOR_NORMALISING


# --- search forms ------------------------------------------------------------------------------------


class SearchForm:
    """How one space's similarity becomes metric searches: per part, a metric over transformed stored
    vectors and a transformed query; and the exact score given the library statistics."""

    kind = ""
    metrics: dict[str, str] = {"main": "ip"}  # part → metric ("ip", "l2sq" or "cos": library/ivf.py)
    pool_scale: dict[str, int] = {}  # part → how many times the pool it proposes (default once)
    sample_size = 0

    def library_stats(self, raw: np.ndarray) -> Stats:
        """Statistics of the whole library that the transforms and the exact score need."""
        return {}

    def index_vectors(self, raw: np.ndarray, stats: Stats) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def query_vectors(self, text: np.ndarray, stats: Stats, sample: np.ndarray) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def score(self, text: np.ndarray, raw: np.ndarray, stats: Stats, sample: np.ndarray) -> np.ndarray:
        """(q, k) scores of the tracks `raw` as the space scores them within the whole library."""
        raise NotImplementedError


class VAForm(SearchForm):
    """zero-shot `va`: −L2 distance to the library-standardised (V, A), i.e. L2 search on standardised
    vectors with the raw query."""

    kind = "va"
    metrics = {"main": "l2sq"}

    def library_stats(self, raw: np.ndarray) -> Stats:
        # as spaces.zeroshot_spaces.library_relative computes them (same operations, same dtype)
        va = raw[:, :2]
        if len(va) < _min_library():
            return {"mean": np.zeros(2, dtype=raw.dtype), "scale": np.ones(2, dtype=raw.dtype)}
        std = va.std(axis=0)
        return {"mean": va.mean(axis=0), "scale": np.where(std > 1e-6, std, 1.0).astype(std.dtype)}

    @staticmethod
    def relative(raw: np.ndarray, stats: Stats) -> np.ndarray:
        return (raw[:, :2] - stats["mean"]) / stats["scale"]

    def index_vectors(self, raw: np.ndarray, stats: Stats) -> dict[str, np.ndarray]:
        return {"main": self.relative(raw, stats)}

    def query_vectors(self, text: np.ndarray, stats: Stats, sample: np.ndarray) -> dict[str, np.ndarray]:
        return {"main": text[:, :2]}

    def score(self, text: np.ndarray, raw: np.ndarray, stats: Stats, sample: np.ndarray) -> np.ndarray:
        return -np.linalg.norm(text[:, None, :2] - self.relative(raw, stats)[None, :, :], axis=-1)


class TagwordsForm(SearchForm):
    """zero-shot `tagwords`: cosine of row-centred profiles after centring the music over the library, i.e.
    inner product of unit vectors."""

    kind = "tagwords"
    metrics = {"main": "ip"}

    def library_stats(self, raw: np.ndarray) -> Stats:
        if len(raw) < _min_library():
            return {"mean": np.zeros(raw.shape[1], dtype=raw.dtype)}
        return {"mean": raw.mean(axis=0)}

    @staticmethod
    def units(raw: np.ndarray, stats: Stats) -> np.ndarray:
        centred = raw - stats["mean"]
        return unit_rows(centred - centred.mean(axis=1, keepdims=True))

    @staticmethod
    def query_units(text: np.ndarray) -> np.ndarray:
        return unit_rows(text - text.mean(axis=1, keepdims=True))

    def index_vectors(self, raw: np.ndarray, stats: Stats) -> dict[str, np.ndarray]:
        return {"main": self.units(raw, stats)}

    def query_vectors(self, text: np.ndarray, stats: Stats, sample: np.ndarray) -> dict[str, np.ndarray]:
        return {"main": self.query_units(text)}

    def score(self, text: np.ndarray, raw: np.ndarray, stats: Stats, sample: np.ndarray) -> np.ndarray:
        return self.query_units(text) @ self.units(raw, stats).T


class FusedForm(SearchForm):
    """zero-shot `fused` ([V, A, mood profile]): the average of the row-z-scored `va` and `tagwords` scores.

    The z-score moments: `tagwords`' exactly from the mean and covariance of the unit profiles (its score
    is linear in them), `va`'s from the sample. Candidates come from the `va` part's index and from a joint
    one that ranks by both parts at once, per query: with standardised (V, A) `m` and unit profile `u`
    stored as x = [m, -|m|²/2, u] and the query as y = [c1·t, c1, c2·q], x·y = c1·(-|t - m|²/2) + c2·cos
    + const; c2 = (1 - w)/σ_tagwords and c1 = w/(σ_va·d0) weigh the squared distance as the fused score
    weighs the distance near d0, a distance the best tracks lie at. x gets one more coordinate,
    sqrt(R² - |x|²) with R the largest |x|, which makes every stored vector as long and the largest inner
    product the smallest angle, so the lists can be cosine ones (spherical k-means: lists of directions).
    (Without it, format 1's HNSW graph over raw inner products had recall@10 .05 at 100k.)"""

    kind = "fused"
    metrics = {"va": "l2sq", "joint": "cos"}
    pool_scale = {"joint": 2}  # at 1M tracks: recall@10 .984 with 512 joint candidates, .969 with 256
    sample_size = SAMPLE_SIZE
    near_quantile = 0.01  # d0: this quantile of the sampled (V, A) distances to the query

    def __init__(self, va_weight: float = 0.5) -> None:
        self.va_weight = va_weight
        self._va, self._tw = VAForm(), TagwordsForm()

    def library_stats(self, raw: np.ndarray) -> Stats:
        va = self._va.library_stats(raw[:, :2])
        tw = self._tw.library_stats(raw[:, 2:])
        units = self._tw.units(raw[:, 2:], tw).astype(np.float64)
        return {"va_mean": va["mean"], "va_scale": va["scale"], "tw_mean": tw["mean"],
                "tw_unit_mean": units.mean(axis=0), "tw_unit_cov": np.cov(units, rowvar=False, ddof=0).reshape(
                    units.shape[1], units.shape[1]), "count": np.array([len(raw)], dtype=np.int64),
                "joint_radius": np.array([self._joint(self._va.relative(raw[:, :2], va), units, None)[1]])}

    @staticmethod
    def _joint(va: np.ndarray, units: np.ndarray, radius: float | None) -> tuple[np.ndarray, float]:
        """Stored joint vectors [m, -|m|²/2, u, sqrt(R² - |x|²)] and R (the largest |x| when not given)."""
        x = np.concatenate([va, -0.5 * (va.astype(np.float64) ** 2).sum(1, keepdims=True), units], axis=1)
        norm2 = (x**2).sum(1)
        r = float(np.sqrt(norm2.max())) if radius is None and len(x) else float(radius or 0.0)
        return np.concatenate([x, np.sqrt(np.maximum(r * r - norm2, 0.0))[:, None]], axis=1), r

    @staticmethod
    def _split(stats: Stats) -> tuple[Stats, Stats]:
        return {"mean": stats["va_mean"], "scale": stats["va_scale"]}, {"mean": stats["tw_mean"]}

    def index_vectors(self, raw: np.ndarray, stats: Stats) -> dict[str, np.ndarray]:
        va_stats, tw_stats = self._split(stats)
        va = self._va.relative(raw[:, :2], va_stats)
        joint, _ = self._joint(va, self._tw.units(raw[:, 2:], tw_stats), float(stats["joint_radius"][0]))
        return {"va": va, "joint": joint.astype(np.float32)}

    def moments(self, text: np.ndarray, stats: Stats, sample: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per query (column vectors): the library mean and standard deviation of the `va` and the
        `tagwords` scores, and the sampled `va` scores."""
        va_stats, tw_stats = self._split(stats)
        va_sample = self._va.score(text[:, :2], sample[:, :2], va_stats, sample)
        va_mean, va_std = va_sample.mean(axis=1, keepdims=True), va_sample.std(axis=1, keepdims=True)
        if len(sample) >= int(stats["count"][0]):  # the sample is the library: its moments are the exact ones
            tw_sample = self._tw.score(text[:, 2:], sample[:, 2:], tw_stats, sample)
            tw_mean, tw_std = tw_sample.mean(axis=1, keepdims=True), tw_sample.std(axis=1, keepdims=True)
        else:
            q = self._tw.query_units(text[:, 2:]).astype(np.float64)
            tw_mean = (q @ stats["tw_unit_mean"])[:, None]
            tw_std = np.sqrt(np.maximum(np.einsum("qi,ij,qj->q", q, stats["tw_unit_cov"], q), 0.0))[:, None]
        return va_mean, va_std, tw_mean, tw_std, va_sample

    def query_vectors(self, text: np.ndarray, stats: Stats, sample: np.ndarray) -> dict[str, np.ndarray]:
        q_tw = self._tw.query_units(text[:, 2:])
        _, va_std, _, tw_std, va_sample = self.moments(text, stats, sample)
        d0 = np.maximum(np.quantile(-va_sample, self.near_quantile, axis=1, keepdims=True), 1e-3 * (va_std + 1e-9))
        c1 = self.va_weight / (np.maximum(va_std, 1e-9) * d0)
        c2 = (1 - self.va_weight) / np.maximum(tw_std, 1e-9)
        joint = np.concatenate([c1 * text[:, :2], c1, c2 * q_tw, np.zeros_like(c1)], axis=1)
        return {"va": text[:, :2], "joint": joint}

    def score(self, text: np.ndarray, raw: np.ndarray, stats: Stats, sample: np.ndarray) -> np.ndarray:
        va_stats, tw_stats = self._split(stats)
        va = self._va.score(text[:, :2], raw[:, :2], va_stats, sample)
        tw = self._tw.score(text[:, 2:], raw[:, 2:], tw_stats, sample)
        if int(stats["count"][0]) < 2:
            return self.va_weight * va + (1 - self.va_weight) * tw
        va_mean, va_std, tw_mean, tw_std, _ = self.moments(text, stats, sample)

        def z(s: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:  # as spaces.base.row_zscore
            return (s - mean) / np.where(std > 1e-9, std, 1.0)

        return self.va_weight * z(va, va_mean, va_std) + (1 - self.va_weight) * z(tw, tw_mean, tw_std)


class RawForm(SearchForm):
    """A trained space: inner product (classification: query mapped through the relevance matrix) or L2
    on the stored vectors as they are; the exact score is the space's own `similarity`."""

    def __init__(self, metric: str, query_map: np.ndarray | None = None,
                 similarity: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None) -> None:
        self.kind = f"raw-{metric}"
        self.metrics = {"main": metric}
        self.query_map = query_map
        self.similarity = similarity

    def index_vectors(self, raw: np.ndarray, stats: Stats) -> dict[str, np.ndarray]:
        return {"main": raw}

    def query_vectors(self, text: np.ndarray, stats: Stats, sample: np.ndarray) -> dict[str, np.ndarray]:
        q = np.asarray(text, dtype=np.float64)
        return {"main": q @ self.query_map if self.query_map is not None else q}

    def score(self, text: np.ndarray, raw: np.ndarray, stats: Stats, sample: np.ndarray) -> np.ndarray:
        if self.similarity is None:
            raise ValueError("this form was rebuilt from a manifest: it can maintain the index, not score")
        return self.similarity(text, raw)


def search_form(space: object) -> SearchForm | None:
    """The search form of a space object, or None for a space that has none (searched exactly)."""
    from storyscore.spaces.zeroshot_spaces import FusedSpace, MoodWordsSpace, VASpace

    if isinstance(space, FusedSpace):
        return FusedForm(space.va_weight)
    if isinstance(space, VASpace):
        return VAForm()
    if isinstance(space, MoodWordsSpace):
        return TagwordsForm()
    cnn = sys.modules.get("storyscore.spaces.cnn")  # loaded whenever such a space exists
    if cnn is not None and isinstance(space, cnn.AudioTwoBranchSpace):
        return RawForm("ip", None, space.similarity)  # cosine of unit vectors
    trained = sys.modules.get("storyscore.spaces.trained")
    if trained is not None and isinstance(space, trained.TrainedSpace):
        if space.space == "classification":
            return RawForm("ip", space.relevance.astype(np.float64), space.similarity)
        return RawForm("l2sq" if space.space == "va" else "ip", None, space.similarity)
    return None


def form_from_kind(kind: str) -> SearchForm:
    """A form rebuilt from a manifest, enough to keep its index up to date (not to score: `RawForm`)."""
    if kind == "va":
        return VAForm()
    if kind == "tagwords":
        return TagwordsForm()
    if kind == "fused":
        return FusedForm()
    if kind in ("raw-ip", "raw-l2sq"):
        return RawForm(kind.removeprefix("raw-"))
    raise ValueError(f"unknown search form {kind!r}")


# --- helpers ------------------------------------------------------------------------------------------


def index_folder(db: str | Path) -> Path:
    """Where a store's indexes live: `<db>.ann/` beside it."""
    return Path(str(Path(db).expanduser()) + ".ann")


def _stem(space: str, version: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in space)
    return f"{safe}-{hashlib.blake2b(version.encode(), digest_size=6).hexdigest()}"


def fingerprint(version: str, ids: np.ndarray, raw: np.ndarray) -> str:
    """Hash of a space's stored vectors (ids and bytes)."""
    h = hashlib.blake2b(digest_size=16)
    h.update(version.encode())
    h.update(np.ascontiguousarray(ids, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(raw, dtype=np.float32).tobytes())
    return h.hexdigest()


def _stats_to_json(stats: Stats) -> dict[str, Any]:
    return {k: {"dtype": str(v.dtype), "shape": list(v.shape), "data": v.ravel().tolist()} for k, v in stats.items()}


def _stats_from_json(obj: dict[str, Any]) -> Stats:
    return {k: np.asarray(v["data"], dtype=v["dtype"]).reshape(v["shape"]) for k, v in obj.items()}


def sorted_member(haystack: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """Which needles are in an ascending array (a binary search each: cheap against a large haystack)."""
    rows = np.minimum(np.searchsorted(haystack, needles), max(len(haystack) - 1, 0))
    return haystack[rows] == needles if len(haystack) else np.zeros(len(needles), dtype=bool)


def _top(ids: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Best k, best first; ties by ascending id (as exact search over an id-ordered matrix breaks them)."""
    order = np.lexsort((ids, -scores))[:k]
    return ids[order], scores[order]


def exact_top(form: SearchForm, text: np.ndarray, ids: np.ndarray, raw: np.ndarray, stats: Stats,
              sample: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k among the given tracks, scored within the whole library (its statistics)."""
    if len(ids) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return _top(np.asarray(ids, dtype=np.int64), form.score(text, raw, stats, sample)[0], k)


def _write_json_atomic(path: Path, obj: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + f".{secrets.token_hex(4)}.tmp")
    tmp.write_text(json.dumps(obj, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _save_npy(path: Path, arr: np.ndarray) -> None:
    with path.open("wb") as f:
        np.save(f, arr)


# --- the index of one space -----------------------------------------------------------------------------


@dataclass
class SyncReport:
    action: str  # "fresh", "updated", "rebuilt" or "removed" (the store holds no vectors of the space)
    count: int = 0
    added: int = 0
    removed: int = 0
    moved: int = 0
    seconds: float = 0.0


class SpaceIndex:
    """The index of one space and version beside a store: kept in step with the store (`sync`) and
    searched (`search`) through memory-mapped views, so opening it reads no vectors."""

    def __init__(self, folder: str | Path, space: str, version: str, form: SearchForm) -> None:
        self.folder = Path(folder)
        self.space, self.version, self.form = space, version, form
        self.stem = _stem(space, version)
        self.manifest_path = self.folder / f"{self.stem}.json"
        self._manifest: dict[str, Any] | None = None
        self._views: dict[str, Any] = {}
        self._stats: Stats = {}
        self._frame: Stats = {}
        self._sample = np.zeros((0, 0), dtype=np.float32)
        self._saved: tuple[np.ndarray, np.ndarray] = (np.zeros(0, dtype=np.int64), np.zeros((0, 0), np.float32))

    # --- state on disk ---------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any] | None:
        """The saved manifest if it belongs to this space, version and form and its files are there."""
        try:
            m = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if (not isinstance(m, dict) or m.get("format") != FORMAT or m.get("space") != self.space
                or m.get("version") != self.version or m.get("form") != self.form.kind):
            return None
        try:
            files = [f for p in m.get("parts", {}).values() for f in p["files"].values()]
        except (AttributeError, KeyError, TypeError):
            return None
        files += [m.get(f, "") for f in ("ids_file", "vectors_file", "sample_file")]
        if not m.get("ids_file") or not m.get("vectors_file"):
            return None
        if set(m.get("parts", {})) != set(self.form.metrics) or not all((self.folder / f).is_file() for f in files if f):
            return None
        return m

    def fresh(self, source: VectorSource) -> bool:
        """Whether the saved index matches the store now (one cheap token read, not the vectors)."""
        m = self.manifest()
        return m is not None and m["state"] == source.vectors_state(self.space, self.version)

    @property
    def count(self) -> int:
        m = self._manifest or self.manifest()
        return int(m["count"]) if m else 0

    # --- building and updating -------------------------------------------------------------------
    def sync(self, source: VectorSource, progress: Progress | None = None, *, rebuild: bool = False) -> SyncReport:
        """Bring the index in step with the store: nothing when fresh, else update in place or rebuild."""
        started = time.perf_counter()
        state = source.vectors_state(self.space, self.version)
        m = self.manifest()
        if m is not None and m["state"] == state and not rebuild:
            return SyncReport("fresh", int(m["count"]))
        ids, raw = source.vectors(self.space, self.version)
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            self.delete()
            return SyncReport("removed", seconds=time.perf_counter() - started)
        fp = fingerprint(self.version, ids, raw)
        if m is not None and m["fingerprint"] == fp and not rebuild:
            m["state"] = state
            _write_json_atomic(self.manifest_path, m)
            self._close_views()
            return SyncReport("fresh", len(ids), seconds=time.perf_counter() - started)
        stats = self.form.library_stats(raw)
        try:
            report = None if m is None or rebuild else self._update(m, ids, raw, stats, state, fp, progress)
        except (OSError, ValueError):  # a saved file is damaged: rebuilt below
            report = None
        if report is None:
            self._build(ids, raw, stats, state, fp, progress)
            report = SyncReport("rebuilt", len(ids), added=len(ids))
        report.seconds = time.perf_counter() - started
        self._close_views()
        return report

    def _build(self, ids: np.ndarray, raw: np.ndarray, stats: Stats, state: str, fp: str,
               progress: Progress | None) -> None:
        vectors = self.form.index_vectors(raw, stats)
        total = len(ids) * len(vectors)
        indexes = {}
        for i, (part, mat) in enumerate(vectors.items()):
            def step(done: int, _n: int, i: int = i, part: str = part) -> None:
                if progress:
                    progress(i * len(ids) + done, total, f"ANN index {self.space}: {part}")

            indexes[part] = IVF.build(ids, mat, self.form.metrics[part], progress=step)
        if progress:
            progress(total, total, "")
        self._commit(indexes, ids, raw, stats, stats, state, fp, built_count=len(ids))

    def _update(self, m: dict[str, Any], ids: np.ndarray, raw: np.ndarray, stats: Stats, state: str, fp: str,
                progress: Progress | None) -> SyncReport | None:
        """Update (None when too much changed: the caller rebuilds): the lists keep their centroids; new and
        moved tracks go to their nearest list, removed ones leave."""
        frame = _stats_from_json(m["frame"])
        old_ids = np.load(self.folder / m["ids_file"])
        added = np.setdiff1d(ids, old_ids, assume_unique=True)
        removed = np.setdiff1d(old_ids, ids, assume_unique=True)
        if len(added) + len(removed) > REBUILD_FRACTION * len(ids):
            return None
        vectors = self.form.index_vectors(raw, frame)  # in the frame the lists were built in
        kept = np.isin(ids, old_ids, assume_unique=True)
        indexes = {p: IVF.open(self.folder, m["parts"][p]["files"], self.form.metrics[p]) for p in vectors}
        moved_mask = np.zeros(len(ids), dtype=bool)
        for part, mat in vectors.items():
            index = indexes[part]
            old = index.stored(ids[kept])  # as held, in the frame
            new = prepared(mat[kept], index.metric)
            rms = math.sqrt(float(np.mean(np.sum(new.astype(np.float64) ** 2, axis=1)))) or 1.0
            moved_mask[np.flatnonzero(kept)[np.linalg.norm(new - old, axis=1) > MOVED_TOLERANCE * rms]] = True
        moved = ids[moved_mask]
        if len(added) + len(removed) + len(moved) > REBUILD_FRACTION * len(ids):
            return None
        reassign = moved_mask | ~kept
        for i, (part, mat) in enumerate(vectors.items()):
            if progress:
                progress(i, len(vectors), f"ANN index {self.space}: {part}")
            indexes[part] = indexes[part].updated(ids, mat, reassign)
        if progress:
            progress(len(vectors), len(vectors), "")
        self._commit(indexes, ids, raw, stats, frame, state, fp, built_count=int(m["built_count"]))
        return SyncReport("updated", len(ids), added=len(added), removed=len(removed), moved=len(moved))

    def _commit(self, indexes: dict[str, IVF], ids: np.ndarray, raw: np.ndarray, stats: Stats, frame: Stats,
                state: str, fp: str, built_count: int) -> None:
        """Write the new files under fresh names, then the manifest (atomically), then drop the old files."""
        self.folder.mkdir(parents=True, exist_ok=True)
        token = secrets.token_hex(4)
        parts = {}
        for part, index in indexes.items():
            files = index.save(self.folder, f"{self.stem}.{part}.{token}")
            parts[part] = {"files": files, "metric": index.metric, "ndim": index.ndim,
                           "lists": len(index.centroids)}
        ids_file, vectors_file = f"{self.stem}.{token}.ids.npy", f"{self.stem}.{token}.vectors.npy"
        _save_npy(self.folder / ids_file, ids)
        _save_npy(self.folder / vectors_file, np.ascontiguousarray(raw, dtype=np.float32))
        sample_file = ""
        if self.form.sample_size:
            pick = np.sort(np.random.default_rng(0).permutation(len(ids))[:self.form.sample_size])
            sample_file = f"{self.stem}.{token}.sample.npy"
            _save_npy(self.folder / sample_file, np.ascontiguousarray(raw[pick], dtype=np.float32))
        manifest = {
            "format": FORMAT, "space": self.space, "version": self.version, "form": self.form.kind,
            "count": len(ids), "built_count": built_count, "fingerprint": fp, "state": state,
            "stats": _stats_to_json(stats), "frame": _stats_to_json(frame), "parts": parts,
            "ids_file": ids_file, "vectors_file": vectors_file, "sample_file": sample_file,
            "engine": "storyscore IVF (library/ivf.py)", "written": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        _write_json_atomic(self.manifest_path, manifest)
        self._drop_files(keep={*(f for p in parts.values() for f in p["files"].values()), ids_file, vectors_file,
                               sample_file})

    def _drop_files(self, keep: set[str]) -> None:
        for path in self.folder.glob(f"{self.stem}.*"):
            if path.name not in keep and path != self.manifest_path and path.suffix != ".tmp":  # not a writer's
                path.unlink(missing_ok=True)

    def delete(self) -> None:
        self._close_views()
        self.manifest_path.unlink(missing_ok=True)
        if self.folder.is_dir():
            self._drop_files(keep=set())

    # --- searching -------------------------------------------------------------------------------
    def open(self) -> bool:
        """Map the saved index for queries (False when there is none that fits): reads the manifest and
        the fused sample, never the vectors."""
        m = self.manifest()
        if m is None:
            return False
        if self._manifest is not None and self._manifest["fingerprint"] == m["fingerprint"] and self._views:
            return True
        self._close_views()
        try:
            views = {p: IVF.open(self.folder, info["files"], info["metric"]) for p, info in m["parts"].items()}
            sample = (np.load(self.folder / m["sample_file"]) if m["sample_file"]
                      else np.zeros((0, 0), dtype=np.float32))
            saved = (np.load(self.folder / m["ids_file"], mmap_mode="r"),
                     np.load(self.folder / m["vectors_file"], mmap_mode="r"))
        except (OSError, ValueError):  # a file damaged, or replaced by a writer since the manifest was read
            return False
        self._views, self._sample, self._saved = views, sample, saved
        self._stats, self._frame = _stats_from_json(m["stats"]), _stats_from_json(m["frame"])
        self._manifest = m
        return True

    def _close_views(self) -> None:
        self._views, self._manifest = {}, None

    def candidates(self, text: np.ndarray, pool: int = POOL) -> np.ndarray:
        """Track ids (ascending, unique) the index proposes for one query: the best `pool` of each part (times
        the form's `pool_scale` for that part)."""
        if not self._views and not self.open():
            raise FileNotFoundError(f"{self.manifest_path}: no index")
        found = []
        for part, query in self.form.query_vectors(text, self._frame, self._sample).items():
            view, count = self._views[part], pool * self.form.pool_scale.get(part, 1)
            scan = max(SCAN_FACTOR * count, PROBE_LISTS * view.count // max(len(view.centroids), 1))
            found.append(view.search(query[0], count, scan))
        return np.unique(np.concatenate(found))

    def search(self, text: np.ndarray, k: int, source: VectorSource, *, pool: int = POOL,
               allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of the best k tracks for one query vector (1, d), best first: candidates from the
        index, re-scored exactly on their stored vectors (tracks the store no longer holds drop out). `allowed`
        (ids) restricts the answer: the index is over-fetched, and exact search over the allowed tracks
        takes over when it is selective or too few candidates survive."""
        if not self._views and not self.open():
            raise FileNotFoundError(f"{self.manifest_path}: no index")
        count = max(self.count, 1)
        if allowed is not None:
            allowed = np.unique(np.asarray(allowed, dtype=np.int64))
            if len(allowed) <= max(4 * pool, k):
                return self._exact(text, allowed, k, source)
            pool = min(pool * math.ceil(count / len(allowed)), 16 * pool)
        cand = self.candidates(text, pool)
        if allowed is not None:
            cand = cand[sorted_member(allowed, cand)]
        ids, raw = self._vectors_of(cand, source)
        if allowed is not None and len(ids) < k:
            return self._exact(text, allowed, k, source)
        return exact_top(self.form, text, ids, raw, self._stats, self._sample, k)

    def saved_vectors(self, source: VectorSource) -> tuple[np.ndarray, np.ndarray] | None:
        """(ids ascending, vectors) of every track, from the copy saved with the index (memory-mapped, no
        SQLite read), while the store has not changed since it was saved; None otherwise."""
        if not self._views and not self.open():
            return None
        return self._saved if self._saved_is_current(source) else None

    def _saved_is_current(self, source: VectorSource) -> bool:
        """Whether the store's vectors are still those saved with the opened index."""
        assert self._manifest is not None
        return source.vectors_state(self.space, self.version) == self._manifest["state"]

    def _exact(self, text: np.ndarray, ids: np.ndarray, k: int, source: VectorSource) -> tuple[np.ndarray, np.ndarray]:
        live, raw = self._vectors_of(ids, source)
        return exact_top(self.form, text, live, raw, self._stats, self._sample, k)

    def _vectors_of(self, ids: np.ndarray, source: VectorSource) -> tuple[np.ndarray, np.ndarray]:
        """The stored vectors of these tracks (those the store holds): from the copy saved with the index
        (memory-mapped; a few rows of a small file) while the store has not changed since, else from the
        store (so a track it has dropped since is never served)."""
        if not self._saved_is_current(source):
            live, raw = source.vectors_of(self.space, self.version, ids)
            return np.asarray(live, dtype=np.int64), raw
        saved_ids, saved = self._saved
        want = np.unique(np.asarray(ids, dtype=np.int64))
        want = want[sorted_member(saved_ids, want)]
        return want, np.asarray(saved[np.searchsorted(saved_ids, want)])


# --- a store's indexes ----------------------------------------------------------------------------------


def space_index(db: str | Path, space: object) -> SpaceIndex | None:
    """The index of `space` beside the store at `db` (not read yet), or None for a space without a form."""
    form = search_form(space)
    if form is None:
        return None
    return SpaceIndex(index_folder(db), str(getattr(space, "name")), str(getattr(space, "version")), form)  # noqa: B009


def index_is_fresh(db: str | Path, space: object, source: VectorSource) -> bool:
    """Whether `space` has an index beside the store that is current (one manifest and one token read)."""
    index = space_index(db, space)
    return index is not None and index.fresh(source)


def open_index(db: str | Path, space: object, source: VectorSource, *, threshold: int | None = None,
               count: int | Callable[[], int] | None = None, progress: Progress | None = None) -> SpaceIndex | None:
    """The index to search `space` with, in step with the store (built or updated first when missing or
    stale), or None when the library is small enough for exact search or the space has no search form.
    `count`: how many tracks the library holds, or a function that counts them, asked only when no index
    is saved (default: the number of stored vectors of the space). `threshold`: default ANN_THRESHOLD."""
    threshold = ANN_THRESHOLD if threshold is None else threshold
    index = space_index(db, space)
    if index is None:
        return None
    m = index.manifest()
    if m is not None:
        n = int(m["count"])
    elif count is None:
        n = len(source.vectors(index.space, index.version)[0])
    else:
        n = count() if callable(count) else int(count)
    if n < threshold:
        return None
    if not index.fresh(source) and index.sync(source, progress).count < threshold:
        return None  # the library shrank below the threshold
    if index.open():
        return index
    index.sync(source, progress, rebuild=True)  # a damaged file: rebuilt, not an error
    return index if index.open() else None


def refresh_indexes(db: str | Path, source: VectorSource, spaces: Sequence[object], *,
                    count: int | Callable[[], int] | None = None, progress: Progress | None = None) -> None:
    """After `index` changed the library: every saved index brought in step, and those of `spaces` (the
    zero-shot ones) built when the library is past the threshold, so the next `match` finds them ready."""
    update_indexes(db, source, progress)
    for space in spaces:
        open_index(db, space, source, count=count, progress=progress)


def _saved(db: str | Path) -> list[tuple[Path, SpaceIndex | None]]:
    """Each manifest beside a store, with its index (its form from the manifest), or None when unreadable."""
    folder = index_folder(db)
    out: list[tuple[Path, SpaceIndex | None]] = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            m = json.loads(path.read_text(encoding="utf-8"))
            out.append((path, SpaceIndex(folder, m["space"], m["version"], form_from_kind(m["form"]))))
        except (OSError, ValueError, KeyError, TypeError):
            out.append((path, None))
    return out


def update_indexes(db: str | Path, source: VectorSource, progress: Progress | None = None) -> dict[str, SyncReport]:
    """Bring every index saved beside a store in step with it (after `index` changed the library): the
    form comes from each manifest; an index whose space the store no longer holds is removed."""
    reports: dict[str, SyncReport] = {}
    for path, index in _saved(db):
        if index is None:
            path.unlink(missing_ok=True)
            continue
        try:
            reports[f"{index.space} {index.version}"] = index.sync(source, progress)
        except StoreVersionError:  # the store holds another version of the space now: this index is spent
            index.delete()
            reports[f"{index.space} {index.version}"] = SyncReport("removed")
    return reports


@dataclass
class IndexInfo:
    """What `storyscore info` reports of one saved index."""

    space: str
    version: str
    count: int
    lists: dict[str, int]  # part → number of lists
    current: bool  # in step with the store (else the next `index` or `match` brings it up to date)
    size_bytes: int


def saved_indexes(db: str | Path, source: VectorSource) -> list[IndexInfo]:
    """Every usable index saved beside a store, with whether it is current (manifests and one token read
    each; no array is opened)."""
    out = []
    for _, index in _saved(db):
        m = index.manifest() if index is not None else None
        if index is None or m is None:
            continue
        out.append(IndexInfo(index.space, index.version, int(m["count"]),
                             {p: int(info.get("lists", 0)) for p, info in m["parts"].items()},
                             m["state"] == source.vectors_state(index.space, index.version),
                             sum(f.stat().st_size for f in index.folder.glob(f"{index.stem}.*"))))
    return out


class ArraySource:
    """A `VectorSource` in memory: benchmarks and tests (the store is the real one)."""

    def __init__(self, vectors: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] | None = None) -> None:
        self._sets: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        self._changes = 0
        for key, (ids, mat) in (vectors or {}).items():
            self.put(*key, ids, mat)

    def put(self, space: str, version: str, ids: np.ndarray, mat: np.ndarray) -> None:
        """Add or replace vectors."""
        old_ids, old = self._sets.get((space, version), (np.zeros(0, dtype=np.int64), None))
        ids = np.asarray(ids, dtype=np.int64)
        mat = np.asarray(mat, dtype=np.float32)
        if old is not None:
            keep = ~np.isin(old_ids, ids)
            ids, mat = np.concatenate([old_ids[keep], ids]), np.concatenate([old[keep], mat])
        order = np.argsort(ids, kind="stable")
        self._sets[(space, version)] = (ids[order], np.ascontiguousarray(mat[order]))
        self._changes += 1

    def remove(self, ids: Sequence[int] | np.ndarray) -> None:
        """Drop tracks from every space (as removing them from the store does)."""
        for key, (have, mat) in self._sets.items():
            keep = ~np.isin(have, np.asarray(ids, dtype=np.int64))
            self._sets[key] = (have[keep], mat[keep])
        self._changes += 1

    def vectors(self, space: str, version: str) -> tuple[np.ndarray, np.ndarray]:
        ids, mat = self._sets.get((space, version), (np.zeros(0, dtype=np.int64), np.zeros((0, 0), np.float32)))
        return ids.copy(), mat.copy()

    def vectors_of(self, space: str, version: str, ids: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        have, mat = self._sets.get((space, version), (np.zeros(0, dtype=np.int64), np.zeros((0, 0), np.float32)))
        want = np.unique(np.asarray(ids, dtype=np.int64))
        rows = np.searchsorted(have, want[sorted_member(have, want)])
        return have[rows], mat[rows]

    def vectors_state(self, space: str, version: str) -> str:
        return str(self._changes)


__all__ = ["ANN_THRESHOLD", "ArraySource", "FusedForm", "IndexInfo", "RawForm", "SearchForm", "SpaceIndex", "SyncReport",
           "TagwordsForm", "VAForm", "VectorSource", "exact_top", "fingerprint", "form_from_kind", "index_folder",
           "index_is_fresh", "open_index", "refresh_indexes", "saved_indexes", "space_index", "search_form",
           "update_indexes"]
