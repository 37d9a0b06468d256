"""Retrieval metrics for text→music emotion matching, baselines and a Markdown report.

Conventions (they matter for comparing numbers with the paper):

* A score matrix has one row per query (text) and one column per item (music clip); higher is better.
* Relevance is binary. It is either given as a boolean matrix of the same shape, or derived from
  query labels, item labels and a label mapping (``"va"``, ``"w2v"``, ``"manual"`` from
  :mod:`storyscore.lexicon.vocab`, ``"identity"`` for same-vocabulary retrieval, or a dict).
* **Ties** are resolved by the *expected value over all orderings of the tied items* (the
  "average over tied positions" of McSherry & Najork, 2008), computed exactly, not sampled.
  A model that outputs a constant therefore scores exactly the random baseline, and a model cannot
  profit from how a sort happens to order equal scores. Results are deterministic.
* **Queries with no relevant item** (e.g. a text label the mapping sends nowhere) are excluded
  from every aggregate and counted (``n_excluded``); their per-query values are NaN. No metric ever
  divides by a zero relevant count.
* Aggregates: *micro* = mean over (non-excluded) queries, which is what the reference code reported;
  *macro* = mean over query labels of the per-label mean, so that rare text labels weigh as much
  as frequent ones.
* P@k divides by k even when fewer than k items exist (standard TREC behaviour).
* The per-query column named ``"MRR"`` holds that query's reciprocal rank; its mean is the MRR.

Within-modality tag→item retrieval (``tag_retrieval_auc``) uses ROC-AUC (ties count one half, the
Mann–Whitney statistic) and average precision with tied scores taken as one threshold step (the same
definition as scikit-learn's ``average_precision_score``); tags without both positives and negatives
are skipped and listed.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import rankdata

from storyscore.lexicon.vocab import MAPPINGS

PAPER_MAPPINGS = ("va", "w2v", "manual")  # the label mappings the paper reports, in its order

MappingLike = str | Mapping[str, Collection[str]] | None


@dataclass
class RetrievalScores:
    """Metrics of one system under one relevance definition."""

    per_query: dict[str, np.ndarray]  # metric -> (n_queries,), NaN where excluded
    micro: dict[str, float]
    macro: dict[str, float]  # empty when no query labels were given
    per_label: dict[str, dict[str, float]]  # query label -> metric -> mean
    n_queries: int
    n_excluded: int
    excluded: list[int] = field(default_factory=list)  # query indices with no relevant item
    labels_without_relevant: list[str] = field(default_factory=list)  # labels whose queries were all excluded

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (per-query arrays left out)."""
        return {
            "micro": dict(self.micro),
            "macro": dict(self.macro),
            "per_label": {k: dict(v) for k, v in self.per_label.items()},
            "n_queries": self.n_queries,
            "n_excluded": self.n_excluded,
            "labels_without_relevant": list(self.labels_without_relevant),
        }


def metric_names(ks: Sequence[int] = (5, 10)) -> list[str]:
    """Names of the metrics computed for the given cut-offs, in report order."""
    return [f"P@{k}" for k in ks] + ["MRR"] + [f"nDCG@{k}" for k in ks]


def _resolve_mapping(mapping: MappingLike) -> Mapping[str, Collection[str]] | None:
    if mapping is None or mapping == "identity":
        return None
    if isinstance(mapping, str):
        if mapping not in MAPPINGS:
            raise ValueError(f"unknown mapping {mapping!r} (use one of {sorted(MAPPINGS)} or 'identity')")
        return MAPPINGS[mapping]
    return mapping


def relevance_from_labels(
    query_labels: Sequence[str], item_labels: Sequence[str], mapping: MappingLike = "manual"
) -> np.ndarray:
    """Boolean (queries x items) matrix: item is relevant if its label is in the query label's image.

    ``mapping=None``/``"identity"`` means an item is relevant when it has the query's own label.
    A query label absent from the mapping has no relevant item (and is then excluded, not scored 0).
    """
    table = _resolve_mapping(mapping)
    items = np.asarray(item_labels, dtype=object)
    rel = np.zeros((len(query_labels), len(items)), dtype=bool)
    cache: dict[str, np.ndarray] = {}
    for i, q in enumerate(query_labels):
        if q not in cache:
            targets = {q} if table is None else set(table.get(q, ()))
            cache[q] = np.fromiter((lab in targets for lab in items), dtype=bool, count=len(items))
        rel[i] = cache[q]
    return rel


def _check_scores(scores: np.ndarray, relevance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype=np.float64)
    r = np.asarray(relevance, dtype=bool)
    if s.ndim != 2:
        raise ValueError(f"scores must be 2-D (queries x items), got shape {s.shape}")
    if s.shape != r.shape:
        raise ValueError(f"scores {s.shape} and relevance {r.shape} differ in shape")
    if np.isnan(s).any():
        # NaN has no place in an order; silently sorting it would hide a broken model.
        raise ValueError("scores contain NaN")
    return s, r


def _query_metrics(scores: np.ndarray, rel: np.ndarray, ks: Sequence[int]) -> dict[str, float]:
    """Exact expected P@k, RR and nDCG@k of one query under uniformly random tie-breaking."""
    n = scores.shape[0]
    order = np.argsort(-scores, kind="stable")
    s_sorted = scores[order]
    r_sorted = rel[order].astype(np.int64)
    starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])
    sizes = np.diff(np.r_[starts, n])
    group_rel = np.add.reduceat(r_sorted, starts)
    n_rel = int(group_rel.sum())
    frac = group_rel / sizes  # probability that any one position of a tie group holds a relevant item

    out: dict[str, float] = {}
    for k in ks:
        slots = np.clip(k - starts, 0, sizes)  # positions of each group that fall within the top k
        out[f"P@{k}"] = float((slots * frac).sum() / k)

    # RR: everything before the first group holding a relevant item is irrelevant.
    g = int(np.flatnonzero(group_rel > 0)[0])
    before, m, r = int(starts[g]), int(sizes[g]), int(group_rel[g])
    j = np.arange(1, m - r + 2)  # possible within-group positions of the first relevant item
    # P(first relevant at j) = prod_{i<j-1} (m-r-i)/(m-i) * r/(m-j+1)
    survive = np.cumprod(np.r_[1.0, (m - r - np.arange(m - r)) / (m - np.arange(m - r))])[: len(j)]
    p_first = survive * r / (m - j + 1)
    out["MRR"] = float((p_first / (before + j)).sum())

    disc = 1.0 / np.log2(np.arange(n) + 2.0)
    pos_frac = np.repeat(frac, sizes)  # expected gain at each position
    for k in ks:
        kk = min(k, n)
        dcg = float((pos_frac[:kk] * disc[:kk]).sum())
        idcg = float(disc[: min(n_rel, kk)].sum())
        out[f"nDCG@{k}"] = dcg / idcg
    return out


def retrieval_metrics(
    scores: np.ndarray,
    relevance: np.ndarray,
    query_labels: Sequence[str] | None = None,
    ks: Sequence[int] = (5, 10),
) -> RetrievalScores:
    """P@k, MRR and nDCG@k per query, with micro and (given ``query_labels``) macro aggregates."""
    s, r = _check_scores(scores, relevance)
    n_q = s.shape[0]
    names = metric_names(ks)
    per_query = {name: np.full(n_q, np.nan) for name in names}
    has_rel = r.any(axis=1)
    excluded = [int(i) for i in np.flatnonzero(~has_rel)]
    for i in np.flatnonzero(has_rel):
        for name, value in _query_metrics(s[i], r[i], ks).items():
            per_query[name][i] = value

    n_kept = int(has_rel.sum())
    micro = {name: (float(np.nanmean(v)) if n_kept else math.nan) for name, v in per_query.items()}

    macro: dict[str, float] = {}
    per_label: dict[str, dict[str, float]] = {}
    labels_without: list[str] = []
    if query_labels is not None:
        if len(query_labels) != n_q:
            raise ValueError(f"{len(query_labels)} query labels for {n_q} queries")
        labels = np.asarray(query_labels, dtype=object)
        for lab in sorted(set(query_labels)):
            mask = (labels == lab) & has_rel
            if not mask.any():
                labels_without.append(lab)
                continue
            per_label[lab] = {name: float(v[mask].mean()) for name, v in per_query.items()}
        for name in names:
            vals = [per_label[lab][name] for lab in per_label]
            macro[name] = float(np.mean(vals)) if vals else math.nan
    return RetrievalScores(
        per_query=per_query,
        micro=micro,
        macro=macro,
        per_label=per_label,
        n_queries=n_q,
        n_excluded=len(excluded),
        excluded=excluded,
        labels_without_relevant=labels_without,
    )


# --- baselines -------------------------------------------------------------------------------


def random_baseline(
    relevance: np.ndarray, query_labels: Sequence[str] | None = None, ks: Sequence[int] = (5, 10)
) -> RetrievalScores:
    """Exact expected metrics of a uniformly random ranking.

    Because ties are scored by their expectation over all orderings, a constant score matrix *is*
    the random ranking: P@k = R/N, E[RR] = sum_j P(first relevant at j)/j, exactly.
    """
    r = np.asarray(relevance, dtype=bool)
    return retrieval_metrics(np.zeros(r.shape), r, query_labels, ks)


def label_prior_scores(
    item_labels: Sequence[str],
    n_queries: int,
    prior_query_labels: Sequence[str] | None = None,
    mapping: MappingLike = "manual",
) -> np.ndarray:
    """Query-independent scores: items whose label is relevant to the most (prior) queries come first.

    With ``prior_query_labels`` (e.g. the training texts' labels) each item scores the fraction of those
    queries for which its label is relevant: the best text-blind ranking in expectation; e.g. under a
    one-to-one mapping it returns the clips of the most frequent relevant class first.
    Without them, it falls back to the item-label frequency (the music prior). Items sharing a label tie.
    """
    items = list(item_labels)
    if prior_query_labels is not None and len(prior_query_labels) > 0:
        moods = sorted(set(items))
        rel = relevance_from_labels(list(prior_query_labels), moods, mapping)
        weight = dict(zip(moods, rel.mean(axis=0), strict=True))
    else:
        counts: dict[str, int] = {}
        for lab in items:
            counts[lab] = counts.get(lab, 0) + 1
        weight = {lab: c / len(items) for lab, c in counts.items()}
    row = np.array([weight[lab] for lab in items], dtype=np.float64)
    return np.tile(row, (n_queries, 1))


# --- within-modality tag retrieval ----------------------------------------------------------


def roc_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """ROC-AUC via the Mann–Whitney U statistic (ties count one half)."""
    y = np.asarray(positive, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("ROC-AUC needs at least one positive and one negative")
    ranks = rankdata(np.asarray(scores, dtype=np.float64))  # average ranks of tied scores
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def average_precision(scores: np.ndarray, positive: np.ndarray) -> float:
    """Average precision (PR-AUC, step-wise), tied scores forming one threshold step."""
    y = np.asarray(positive, dtype=bool)
    n_pos = int(y.sum())
    if n_pos == 0:
        raise ValueError("average precision needs at least one positive")
    s = np.asarray(scores, dtype=np.float64)
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order].astype(np.int64)
    # the last index of each tie group is where the threshold step takes effect
    ends = np.flatnonzero(np.r_[s_sorted[1:] != s_sorted[:-1], True])
    tp = np.cumsum(y_sorted)[ends]
    precision = tp / (ends + 1)
    recall_step = np.diff(np.r_[0, tp]) / n_pos
    return float((precision * recall_step).sum())


def tag_retrieval_auc(
    scores: np.ndarray,
    item_labels: Sequence[str] | np.ndarray,
    tags: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Tag→item retrieval within one modality: per-tag ROC-AUC and PR-AUC, macro-averaged.

    ``scores`` is (items x tags). ``item_labels`` is either a sequence of one label per item (then
    ``tags`` names the score columns) or a boolean (items x tags) matrix. Tags with no positive or
    no negative item are skipped and listed under ``"skipped"``.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2:
        raise ValueError(f"scores must be 2-D (items x tags), got shape {s.shape}")
    lab = np.asarray(item_labels)
    if lab.ndim == 2:
        y = lab.astype(bool)
        tag_names = list(tags) if tags is not None else [str(i) for i in range(s.shape[1])]
    else:
        if tags is None:
            raise ValueError("tags must name the score columns when item labels are given")
        tag_names = list(tags)
        y = np.stack([lab == t for t in tag_names], axis=1)
    if y.shape != s.shape or len(tag_names) != s.shape[1]:
        raise ValueError(f"scores {s.shape}, labels {y.shape} and {len(tag_names)} tags do not agree")
    if np.isnan(s).any():
        raise ValueError("scores contain NaN")
    per_tag: dict[str, dict[str, float]] = {}
    skipped: list[str] = []
    for j, t in enumerate(tag_names):
        n_pos = int(y[:, j].sum())
        if n_pos == 0 or n_pos == y.shape[0]:
            skipped.append(t)
            continue
        per_tag[t] = {"roc_auc": roc_auc(s[:, j], y[:, j]), "pr_auc": average_precision(s[:, j], y[:, j])}
    macro = {
        m: (float(np.mean([v[m] for v in per_tag.values()])) if per_tag else math.nan)
        for m in ("roc_auc", "pr_auc")
    }
    return {"macro": macro, "per_tag": per_tag, "skipped": skipped, "n_items": int(s.shape[0])}


# --- the whole evaluation and its report ------------------------------------------------------


def evaluate_retrieval(
    text_scores: np.ndarray,
    text_labels: Sequence[str],
    music_labels: Sequence[str],
    mappings: Iterable[MappingLike] = PAPER_MAPPINGS,
    ks: Sequence[int] = (5, 10),
    prior_text_labels: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Text→music retrieval of a model against the random and label-prior baselines, per mapping.

    Returns ``{"n_queries", "n_items", "ks", "mappings": {name: {"model"|"random"|"label_prior":
    RetrievalScores.as_dict()}}}``. ``prior_text_labels`` (training labels) feed the label-prior
    baseline; without them it uses the music label frequencies.
    """
    s = np.asarray(text_scores, dtype=np.float64)
    if s.shape != (len(text_labels), len(music_labels)):
        raise ValueError(f"scores {s.shape} != ({len(text_labels)} texts, {len(music_labels)} clips)")
    result: dict[str, Any] = {
        "n_queries": len(text_labels),
        "n_items": len(music_labels),
        "ks": list(ks),
        "mappings": {},
    }
    for mapping in mappings:
        name = mapping if isinstance(mapping, str) else ("identity" if mapping is None else "custom")
        rel = relevance_from_labels(text_labels, music_labels, mapping)
        prior = label_prior_scores(music_labels, len(text_labels), prior_text_labels, mapping)
        result["mappings"][name] = {
            "model": retrieval_metrics(s, rel, text_labels, ks).as_dict(),
            "random": random_baseline(rel, text_labels, ks).as_dict(),
            "label_prior": retrieval_metrics(prior, rel, text_labels, ks).as_dict(),
        }
    return result


def _fmt(x: float) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def to_markdown(results: Mapping[str, Any]) -> str:
    """One Markdown table: a row per (mapping, system), each cell ``micro / macro``."""
    names = metric_names(results.get("ks", (5, 10)))
    head = "| mapping | system | " + " | ".join(names) + " | excluded |"
    sep = "|---|---|" + "---|" * len(names) + "---|"
    lines = [
        f"Text→music retrieval: {results.get('n_queries', '?')} queries, "
        f"{results.get('n_items', '?')} items; cells are micro / macro.",
        "",
        head,
        sep,
    ]
    for mapping, systems in results["mappings"].items():
        for system, res in systems.items():
            cells = [f"{_fmt(res['micro'].get(n))} / {_fmt(res['macro'].get(n, math.nan))}" for n in names]
            lines.append(f"| {mapping} | {system} | " + " | ".join(cells) + f" | {res['n_excluded']} |")
    return "\n".join(lines) + "\n"
