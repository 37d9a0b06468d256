"""Fitting the text reading's head (`storyscore.text.va_head`) on EmoBank train (research side only).

Every choice (features, model, hyper-parameters) is made by 5-fold GroupKFold cross-validation on EmoBank
train, grouped by `document` so sentences of one document never straddle folds; dev is read once, at the end,
for the chosen head. EmoBank's test split is never read. Targets are EmoBank's V and A on (SAM - 3) / 2,
standardised per axis on the fitting rows and predicted jointly (one kernel, two outputs).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from storyscore.text.va_head import LEXICON_FEATURES, lexicon_features

FOLDS = 5
N_BOOT = 2000


@dataclass(frozen=True)
class EmoBank:
    """EmoBank rows of one split: texts, (V, A) on (SAM - 3) / 2, genre and document."""

    texts: list[str]
    y: np.ndarray
    category: np.ndarray
    document: np.ndarray

    def __len__(self) -> int:
        return len(self.texts)


def read_emobank(path: str | Path) -> dict[str, EmoBank]:
    """The train and dev splits of the shared EmoBank CSV, read by `storyscore.datasets.emobank` (text with its
    whitespace normalised, V/A on (SAM - 3) / 2, genre and document). Rows of any other split are dropped
    (the test split is reserved)."""
    from storyscore.datasets import emobank

    items = emobank.load(path).items
    out = {}
    for split, loader_split in (("train", "train"), ("dev", "valid")):
        rows = [it for it in items if it.split == loader_split]
        out[split] = EmoBank([it.text for it in rows],
                             np.asarray([[it.valence, it.arousal] for it in rows], dtype=np.float32),
                             np.asarray([it.genre for it in rows]), np.asarray([it.document for it in rows]))
    return out


@dataclass(frozen=True)
class Candidate:
    """One head recipe: a model on a feature set with its hyper-parameters."""

    model: str  # "ridge" or "krr" (RBF kernel ridge)
    features: str  # "emb" or "emb+lex" (`feature_sets`)
    alpha: float
    gamma_factor: float = 0.0  # krr: gamma = gamma_factor / n_features (standardised inputs)

    @property
    def name(self) -> str:
        g = f", gamma {self.gamma_factor:g}/d" if self.model == "krr" else ""
        return f"{self.model} {self.features} alpha {self.alpha:g}{g}"


# Only kernel ridge ships (text.va_head reads support vectors). Before this grid, a wider study on the same
# folds measured linear ridge at pooled CV r .62-.64 V / .44-.46 A (MiniLM alone, or with the lexicon
# statistics and the anchor similarities), against .653 / .491 for kernel ridge on MiniLM alone and .666 / .500
# for kernel ridge on MiniLM, anchor similarities and lexicon statistics (the similarities are not in this
# head's inputs).
SHIPPABLE = ("krr", "emb+lex")  # what text.va_head computes
CANDIDATES: tuple[Candidate, ...] = (
    Candidate("krr", "emb", 1.0, 1.0),
    *(Candidate("krr", "emb+lex", a, g) for a, g in ((1.0, 1.0), (1.0, 2.0), (0.5, 1.0))),
)


def feature_sets(emb: np.ndarray, texts: list[str]) -> dict[str, np.ndarray]:
    """Every feature set the candidates use, as float64 arrays."""
    return {"emb": emb.astype(np.float64),
            "emb+lex": np.hstack([emb, lexicon_features(texts)]).astype(np.float64)}


def _rbf(a: np.ndarray, b: np.ndarray, gamma: float) -> np.ndarray:
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.exp(-gamma * np.maximum(d2, 0.0))


@dataclass(frozen=True)
class Fitted:
    """A fitted head: standardisation, model arrays and a predict function on raw features."""

    x_mean: np.ndarray
    x_scale: np.ndarray
    y_mean: np.ndarray
    y_scale: np.ndarray
    coef: np.ndarray  # ridge: (d, 2) weights; krr: (n, 2) dual weights
    intercept: np.ndarray  # ridge: (2,) on standardised targets; krr: zeros
    support: np.ndarray | None  # krr: standardised training inputs
    gamma: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        z = (x - self.x_mean) / self.x_scale
        raw = z @ self.coef + self.intercept if self.support is None else _rbf(z, self.support, self.gamma) @ self.coef
        return raw * self.y_scale + self.y_mean


def fit(cand: Candidate, x: np.ndarray, y: np.ndarray) -> Fitted:
    """Fit one candidate on raw features x (n, d) and targets y (n, 2)."""
    x_mean, x_scale = x.mean(0), x.std(0)
    x_scale = np.where(x_scale > 1e-12, x_scale, 1.0)
    y_mean, y_scale = y.mean(0), y.std(0)
    z, t = (x - x_mean) / x_scale, (y - y_mean) / y_scale
    if cand.model == "ridge":
        # standardised targets have mean 0 and so do z's columns: no intercept to fit
        coef = np.linalg.solve(z.T @ z + cand.alpha * np.eye(z.shape[1]), z.T @ t)
        return Fitted(x_mean, x_scale, y_mean, y_scale, coef, np.zeros(2), None, 0.0)
    gamma = cand.gamma_factor / z.shape[1]
    k = _rbf(z, z, gamma)
    k[np.diag_indices_from(k)] += cand.alpha
    dual = np.linalg.solve(k, t)
    return Fitted(x_mean, x_scale, y_mean, y_scale, dual, np.zeros(2), z, gamma)


def group_folds(groups: np.ndarray, n_folds: int = FOLDS) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import GroupKFold

    return list(GroupKFold(n_folds).split(np.zeros(len(groups)), groups=groups))


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def oof_predictions(cand: Candidate, x: np.ndarray, y: np.ndarray,
                    folds: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Out-of-fold predictions (n, 2): each fold predicted by a head fitted on the other folds."""
    oof = np.zeros_like(y, dtype=np.float64)
    for f_tr, f_te in folds:
        oof[f_te] = fit(cand, x[f_tr], y[f_tr]).predict(x[f_te])
    return oof


def cross_validate(cands: Sequence[Candidate], feats: dict[str, np.ndarray], y: np.ndarray, groups: np.ndarray,
                   log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Pooled out-of-fold r per axis of every candidate (and the mean of the fold-wise r)."""
    folds = group_folds(groups)
    table = []
    for cand in cands:
        t0 = time.perf_counter()
        oof = oof_predictions(cand, feats[cand.features], y, folds)
        fold_r = [[pearson(oof[te, k], y[te, k]) for k in (0, 1)] for _, te in folds]
        row = {"candidate": cand.name, "cv_r_valence": pearson(oof[:, 0], y[:, 0]),
               "cv_r_arousal": pearson(oof[:, 1], y[:, 1]),
               "cv_fold_r": np.round(fold_r, 4).tolist(), "seconds": time.perf_counter() - t0,
               "_oof": oof, "_cand": cand}
        table.append(row)
        log(f"  {cand.name:40s}  V {row['cv_r_valence']:.3f}  A {row['cv_r_arousal']:.3f}"
            f"  ({row['seconds']:.0f} s)")
    return table


def choose(table: list[dict[str, Any]]) -> dict[str, Any]:
    """The candidate with the best mean of the two pooled CV r (both axes matter equally downstream)."""
    shippable = [row for row in table if (row["_cand"].model, row["_cand"].features) == SHIPPABLE]
    return max(shippable, key=lambda row: row["cv_r_valence"] + row["cv_r_arousal"])


def bootstrap_r(pred: np.ndarray, y: np.ndarray, n_boot: int = N_BOOT, seed: int = 0) -> tuple[float, float, float]:
    """Pearson r and its 95 % percentile bootstrap interval, resampling items."""
    x, t = np.asarray(pred, np.float64), np.asarray(y, np.float64)
    idx = np.random.default_rng(seed).integers(0, len(x), (n_boot, len(x)))
    xs, ts = x[idx], t[idx]
    xs = xs - xs.mean(axis=1, keepdims=True)
    ts = ts - ts.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):  # a constant resample has no r: left out
        rs = (xs * ts).sum(axis=1) / np.sqrt((xs**2).sum(axis=1) * (ts**2).sum(axis=1))
    lo, hi = np.nanpercentile(rs, [2.5, 97.5])
    return pearson(x, t), float(lo), float(hi)


def evaluate(pred: np.ndarray, data: EmoBank) -> dict[str, Any]:
    """Dev figures: r per axis with bootstrap interval, overall and per genre, with n."""
    out: dict[str, Any] = {}
    groups = {"all": np.ones(len(data), dtype=bool)}
    groups.update({c: data.category == c for c in sorted(set(data.category.tolist()))})
    for name, mask in groups.items():
        entry: dict[str, Any] = {"n": int(mask.sum())}
        for k, axis in enumerate(("valence", "arousal")):
            r, lo, hi = bootstrap_r(pred[mask, k], data.y[mask, k])
            entry[axis] = {"r": round(r, 4), "ci95": [round(lo, 4), round(hi, 4)]}
        out[name] = entry
    return out


def scale_map(emobank_pred: np.ndarray, ref_mean: np.ndarray, ref_std: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-axis (slope, offset) that give `emobank_pred` (train) the mean `ref_mean` and spread `ref_std`: the
    old reading's Warriner-scale distribution on the same sentences, so the shared frame keeps its spread."""
    slope = ref_std / emobank_pred.std(0)
    return slope, ref_mean - slope * emobank_pred.mean(0)


def head_tensors(f: Fitted, slope: np.ndarray, offset: np.ndarray) -> dict[str, np.ndarray]:
    """The arrays `text.va_head.TextVAHead` reads, for a kernel ridge head."""
    if f.support is None:
        raise ValueError("only kernel ridge heads ship (text.va_head reads support vectors)")
    return {"x_mean": f.x_mean, "x_scale": f.x_scale, "support": f.support, "dual": f.coef,
            "y_mean": f.y_mean, "y_scale": f.y_scale, "out_slope": slope, "out_offset": offset,
            "gamma": np.asarray([f.gamma])}


__all__ = ["CANDIDATES", "LEXICON_FEATURES", "Candidate", "EmoBank", "Fitted", "bootstrap_r", "choose",
           "cross_validate", "evaluate", "feature_sets", "fit", "group_folds", "head_tensors", "oof_predictions",
           "pearson", "read_emobank", "scale_map"]
