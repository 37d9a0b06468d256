"""Derive everything storyscore.text.va fits, from the even-numbered dev passages only, and print every figure.

The text reading is, per axis, a blend of three parts measured in their own spread (z-scores on the even half):

1. the anchored reading: the emotion words' lexicon (V, A) weighted by the passage's softmax similarity to
   them (`va.anchored_va`; it also yields the mood words for explanations);
2. a contrastive direction in MiniLM space: mean embedding of the written high-arousal (positive) scenes
   minus the low-arousal (negative) ones (`storyscore.text.scenes`: written for the project, no labels);
3. a ridge regression from the 384-d embedding onto the labels' lexicon (V, A), fitted on the even half.

Blend weights (a 0.1 grid on the simplex) and the ridge's alpha are chosen per axis by cross-validation
*inside* the even half (stratified 5-fold, 5 shuffles; the ridge's share is scored on its out-of-fold
predictions). The blend is then mapped onto the lexicon's centred scale by matching the mean and spread of
the labels' (V, A) on the even half, using out-of-fold ridge predictions so the ridge's in-sample overfit does
not set the scale. Parts 2 and 3 are linear in the embedding, so they fold into one (384, 2) direction:

    passage_va = clip(ANCHOR_SCALE * anchored_va(emb) + emb @ DIRECTION + OFFSET, -1, 1)

The odd-numbered half chooses nothing; it and benchmarks/data/story_arousal.csv (a sanity check of arousal on
story prose, never tuned on) are only reported. Writes src/storyscore/data/text_va_direction.npy and its card
text_va_direction.json, and prints the constants for va.py (ANCHOR_SCALE, OFFSET, NEUTRAL_VA).

Run: .venv/bin/python benchmarks/calibrate_text_va.py
"""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.model_selection import StratifiedKFold

from storyscore.lexicon.vocab import label_va
from storyscore.text import scenes, va
from storyscore.text.encoder import TEXT_ENCODER_NAME, embed_passages

DATA = Path(__file__).parent / "data"
DEV = DATA / "dev_passages.csv"
STORY = DATA / "story_arousal.csv"
DIRECTION_OUT = Path(__file__).parents[1] / "src" / "storyscore" / "data" / "text_va_direction.npy"
ALPHAS = (0.3, 1.0, 3.0, 10.0)
WEIGHT_GRID = [(float(round(a, 1)), float(round(c, 1)), float(round(1 - a - c, 1)) + 0.0)
               for a, c in itertools.product(np.arange(0, 1.01, 0.1), repeat=2) if a + c <= 1.0001]
FOLDS, SHUFFLES, BOOTSTRAPS = 5, 5, 2000
AXES = ("valence", "arousal")
COMMAND = ".venv/bin/python benchmarks/calibrate_text_va.py"


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.corrcoef(x, y)[0, 1])


def boot_ci(pred: np.ndarray, target: np.ndarray, base: np.ndarray | None = None,
            seed: int = 0) -> tuple[float, float]:
    """Percentile 95 % interval of r (or, given `base`, of r(pred) - r(base)) over resampled passages."""
    rng = np.random.default_rng(seed)
    stats = []
    for _ in range(BOOTSTRAPS):
        i = rng.integers(0, len(pred), len(pred))
        stat = pearson(pred[i], target[i])
        stats.append(stat - pearson(base[i], target[i]) if base is not None else stat)
    lo, hi = np.percentile(stats, [2.5, 97.5])
    return float(lo), float(hi)


def auc(score: np.ndarray, positive: np.ndarray) -> float:
    """Probability that a random high-arousal passage scores above a random low one (ties count half)."""
    pos, neg = score[positive][:, None], score[~positive][None, :]
    return float(((pos > neg).sum() + 0.5 * (pos == neg).sum()) / (pos.size * neg.size))


def ridge_oof(x: np.ndarray, y: np.ndarray, strata: np.ndarray, alpha: float, seed: int) -> np.ndarray:
    """Out-of-fold ridge predictions of y (one axis) within the fitting half."""
    out = np.zeros(len(y))
    for train, test in StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(x, strata):
        out[test] = Ridge(alpha=alpha).fit(x[train], y[train]).predict(x[test])
    return out


def main() -> None:
    rows = list(csv.DictReader(DEV.open(encoding="utf-8")))
    story = list(csv.DictReader(STORY.open(encoding="utf-8")))
    even = np.array([int(r["id"].rsplit("-", 1)[1]) % 2 == 0 for r in rows])
    odd = ~even
    labels = np.array([r["label"] for r in rows])
    target = np.array([label_va(r["label"]) for r in rows])
    high = np.array([r["arousal_sign"] == "high" for r in story])
    emb = embed_passages([r["text"] for r in rows])
    story_emb = embed_passages([r["text"] for r in story])
    poles = {name: embed_passages(list(getattr(scenes, name)))
             for name in ("POSITIVE_VALENCE", "NEGATIVE_VALENCE", "HIGH_AROUSAL", "LOW_AROUSAL")}
    contrast = np.stack([poles["POSITIVE_VALENCE"].mean(0) - poles["NEGATIVE_VALENCE"].mean(0),
                         poles["HIGH_AROUSAL"].mean(0) - poles["LOW_AROUSAL"].mean(0)], axis=1)
    print(f"dev passages: {even.sum()} even (fitting), {odd.sum()} odd (held out); story check: "
          f"{high.sum()} high, {(~high).sum()} low arousal; scenes: " +
          ", ".join(f"{k} {len(v)}" for k, v in poles.items()))

    anchored, story_anchored = va.anchored_va(emb), va.anchored_va(story_emb)
    projected, story_projected = emb @ contrast, story_emb @ contrast
    x_even, y_even = emb[even], target[even]

    def zstat(x: np.ndarray) -> tuple[float, float]:
        return float(x[even].mean()), float(x[even].std())

    scale = np.zeros(2)
    offset = np.zeros(2)
    direction = np.zeros((emb.shape[1], 2))
    card_axes: dict[str, dict] = {}
    new_dev, new_story = np.zeros_like(target), np.zeros((len(story), 2))
    old_dev, old_story = np.zeros_like(target), np.zeros((len(story), 2))
    for k, axis in enumerate(AXES):
        y = y_even[:, k]
        oofs = {a: [ridge_oof(x_even, y, labels[even], a, s) for s in range(SHUFFLES)] for a in ALPHAS}
        ma, sa = zstat(anchored[:, k])
        mc, sc = zstat(projected[:, k])
        za, zc = (anchored[even, k] - ma) / sa, (projected[even, k] - mc) / sc
        scores: dict[tuple[float, tuple[float, float, float]], float] = {}
        for alpha, w in itertools.product(ALPHAS, WEIGHT_GRID):
            rs = [pearson(w[0] * za + w[1] * zc + w[2] * (o - o.mean()) / o.std(), y) for o in oofs[alpha]]
            scores[alpha, w] = float(np.mean(rs))
        (alpha, w), cv_r = max(scores.items(), key=lambda kv: kv[1])
        print(f"\n[{axis}] cross-validated r inside the even half (mean of {SHUFFLES} x {FOLDS}-fold):")
        for name, key in (("anchors only", (ALPHAS[0], (1.0, 0.0, 0.0))),
                          ("scene contrast only", (ALPHAS[0], (0.0, 1.0, 0.0))),
                          *((f"ridge only, alpha {a:g}", (a, (0.0, 0.0, 1.0))) for a in ALPHAS),
                          ("anchors + contrast, best", max(((k2, v) for k2, v in scores.items() if k2[1][2] == 0),
                                                           key=lambda kv: kv[1])[0]),
                          ("chosen", (alpha, w))):
            print(f"  {name:28s} weights (anchor, contrast, ridge) {key[1]} alpha {key[0]:g}: r {scores[key]:.3f}")

        # Scale of the ridge part and of the whole blend from out-of-fold predictions (the honest spread).
        oof = np.mean(oofs[alpha], axis=0)
        mr, sr = float(oof.mean()), float(np.mean([o.std() for o in oofs[alpha]]))
        blend_oof = w[0] * za + w[1] * zc + w[2] * (oof - mr) / sr
        slope = y.std() / blend_oof.std()
        intercept = y.mean() - slope * blend_oof.mean()
        ridge = Ridge(alpha=alpha).fit(x_even, y)
        # Fold: slope * (w_a (A - ma)/sa + w_c (emb@c - mc)/sc + w_r (emb@b + b0 - mr)/sr) + intercept
        scale[k] = slope * w[0] / sa
        direction[:, k] = slope * (w[1] * contrast[:, k] / sc + w[2] * ridge.coef_ / sr)
        offset[k] = intercept - slope * (w[0] * ma / sa + w[1] * mc / sc + w[2] * (mr - ridge.intercept_) / sr)
        new_dev[:, k] = np.clip(scale[k] * anchored[:, k] + emb @ direction[:, k] + offset[k], -1, 1)
        new_story[:, k] = np.clip(scale[k] * story_anchored[:, k] + story_emb @ direction[:, k] + offset[k], -1, 1)
        # The previous reading: anchors alone, mean and spread matched on the even half.
        old_slope = y.std() / anchored[even, k].std()
        old_icpt = y.mean() - old_slope * anchored[even, k].mean()
        old_dev[:, k] = np.clip(anchored[:, k] * old_slope + old_icpt, -1, 1)
        old_story[:, k] = np.clip(story_anchored[:, k] * old_slope + old_icpt, -1, 1)
        card_axes[axis] = {"weights_anchor_contrast_ridge": list(w), "ridge_alpha": alpha,
                           "cv_r_even": round(cv_r, 4), "anchor_scale": round(float(scale[k]), 6),
                           "offset": round(float(offset[k]), 6)}

    print("\nAll single-figure comparisons on the dev passages (r with the label's lexicon value; 95 % bootstrap"
          f" interval over the {odd.sum()} odd passages, {BOOTSTRAPS} resamples):")
    for k, axis in enumerate(AXES):
        t = target[:, k]
        parts = {"old: anchors only": old_dev[:, k],
                 "scene contrast only": projected[:, k],
                 "ridge only (even fit)": Ridge(alpha=card_axes[axis]["ridge_alpha"]).fit(
                     x_even, y_even[:, k]).predict(emb),
                 "new: chosen blend": new_dev[:, k]}
        intervals = {}
        for name, pred in parts.items():
            lo, hi = intervals[name] = boot_ci(pred[odd], t[odd])
            print(f"  {axis:8s} {name:24s} even r {pearson(pred[even], t[even]):.3f}  "
                  f"odd r {pearson(pred[odd], t[odd]):.3f} [{lo:.3f}, {hi:.3f}]")
        dlo, dhi = boot_ci(new_dev[odd, k], t[odd], base=old_dev[odd, k])
        card_axes[axis].update({
            "r_even_fitted": round(pearson(new_dev[even, k], t[even]), 4),
            "r_odd_held_out": round(pearson(new_dev[odd, k], t[odd]), 4),
            "r_odd_95ci": [round(v, 4) for v in intervals["new: chosen blend"]],
            "old_r_even": round(pearson(old_dev[even, k], t[even]), 4),
            "old_r_odd": round(pearson(old_dev[odd, k], t[odd]), 4),
            "new_minus_old_r_odd_95ci": [round(dlo, 4), round(dhi, 4)]})
        gain = pearson(new_dev[odd, k], t[odd]) - pearson(old_dev[odd, k], t[odd])
        print(f"  {axis:8s} new - old on the odd half: {gain:+.3f} [{dlo:+.3f}, {dhi:+.3f}]")
        mae_old = np.abs(old_dev[odd, k] - t[odd]).mean()
        mae_new = np.abs(new_dev[odd, k] - t[odd]).mean()
        print(f"  {axis:8s} mean abs error on the odd half: old {mae_old:.3f}, new {mae_new:.3f}")

    print(f"\nStory arousal check ({STORY.name}, n = {len(story)}; not used for any choice):")
    story_figures = {}
    for name, reading in (("old", old_story[:, 1]), ("new", new_story[:, 1])):
        signs = float(np.mean((reading > 0) == high))
        story_figures[name] = {"auc": round(auc(reading, high), 4), "sign_accuracy": round(signs, 4)}
        print(f"  {name}: AUC {auc(reading, high):.3f}; reads on the right side of 0 for {signs:.0%}; "
              f"mean high {reading[high].mean():+.2f}, mean low {reading[~high].mean():+.2f}")
    ridge_story = Ridge(alpha=card_axes["arousal"]["ridge_alpha"]).fit(x_even, y_even[:, 1]).predict(story_emb)
    print(f"  parts alone: scene contrast AUC {auc(story_projected[:, 1], high):.3f}, "
          f"ridge AUC {auc(ridge_story, high):.3f}")
    for r, a_old, a_new in zip(story, old_story[:, 1], new_story[:, 1], strict=True):
        print(f"    {r['arousal_sign']:4s} old {a_old:+.2f} new {a_new:+.2f}  {r['text'][:80]}")

    reference = embed_passages(list(va.REFERENCE_NARRATION))
    neutral = np.clip(va.anchored_va(reference) * scale + reference @ direction + offset, -1, 1).mean(axis=0)
    out = DIRECTION_OUT
    np.save(out, direction.astype(np.float32))
    card = {
        "what": "Per-axis (valence, arousal) direction in all-MiniLM-L6-v2 space used by storyscore.text.va: "
                "passage_va = clip(ANCHOR_SCALE * anchored_va(emb) + emb @ DIRECTION + OFFSET, -1, 1). It folds a "
                "contrastive axis (mean of written high- minus low-arousal / positive minus negative scenes, "
                "storyscore.text.scenes) and a ridge regression from the embedding onto the label's lexicon "
                "(V, A), blended with the anchored reading by weights chosen by cross-validation.",
        "shape": list(direction.shape), "dtype": "float32", "encoder": TEXT_ENCODER_NAME,
        "data": "benchmarks/data/dev_passages.csv, even-numbered ids only (156 passages, Alm and ISEAR labels; "
                "target = storyscore.lexicon.vocab.label_va); scene lists in storyscore.text.scenes (written, unlabelled)",
        "constants_in_va_py": {"ANCHOR_SCALE": [round(float(s), 6) for s in scale],
                               "OFFSET": [round(float(o), 6) for o in offset],
                               "NEUTRAL_VA": [round(float(n), 4) for n in neutral]},
        "axes": card_axes,
        "story_arousal_check": {"n": len(story), **story_figures},
        "regenerate": COMMAND,
    }
    out.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    anchors_out = va.write_anchor_cache()  # the anchors' embeddings, shipped so a cold start skips them
    print(f"\nwrote {anchors_out}")
    print(f"wrote {out} and {out.with_suffix('.json').name}; constants for src/storyscore/text/va.py:")
    print(f"ANCHOR_SCALE = ({scale[0]:.6f}, {scale[1]:.6f})")
    print(f"OFFSET = ({offset[0]:.6f}, {offset[1]:.6f})")
    print(f"NEUTRAL_VA = ({neutral[0]:.4f}, {neutral[1]:.4f})")
    if (not np.allclose(scale, va.ANCHOR_SCALE, atol=1e-6) or not np.allclose(offset, va.OFFSET, atol=1e-6)
            or not np.allclose(neutral, va.NEUTRAL_VA, atol=1e-4)):
        print("NOTE: va.py's constants differ from these; paste the lines above into it.")


if __name__ == "__main__":
    main()
