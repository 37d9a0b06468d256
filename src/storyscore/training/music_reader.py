"""Fitting the music emotion reader on outside-labelled game music, chosen by leave-one-game-out.

Each game's soundtrack is treated as one library: its inputs are standardised over its own tracks (pulled
toward the training corpus's statistics, exactly as `MusicReader` does at query time), then an
L2-regularised linear model per axis learns which side of that axis a track's situations put it on (battle
vs peace, victory vs defeat: `storyscore.datasets.games.track_signs`). Tracks whose situations say nothing
about an axis do not train it but still count in their library's statistics. Two ways to fit:

* ``pointwise``: logistic regression on the tracks' signs;
* ``pairwise``: logistic regression on differences between a positive and a negative track *of the same
  game*, each game's pairs weighing the same. It learns only what orders tracks within a soundtrack, which
  is what a reader standardised over the library is used for, and is blind to what merely tells one
  game's production from another's (a soundtrack that is all racing music teaches it nothing);
* ``cues``: an improper linear model (Dawes 1979): the k named inputs (descriptors, tags) that best order
  the training games' tracks on their own, each with weight ±1/k by the side it reads. With a handful of
  labelled games, fewer free weights generalise better, and every weight is a cue a person can name.
* ``prior``: the same form with nothing learned from the games: every cue of `PRIOR_CUES` (the side
  music psychology and storyscore's earlier hand-set table expect each to read), weight ±1/k. Arousal
  uses it (`SHIPPED_GRIDS`): held out, it ordered every game's tracks at least as well as the cues the
  training games chose.

The measure is the within-game AUC pooled over games: the share of (positive, negative) pairs of tracks
from the same game that the reading orders correctly. Model choice (method × input groups × regularisation)
is made by leave-one-game-out cross-validation only, and the figures reported for the chosen recipe are
nested: for each held-out game the recipe is re-chosen on the other games alone, so no figure has seen its
own game during any choice.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from storyscore.spaces.music_reader import AXES, input_names, shrunk_standardiser

INPUT_GROUPS: dict[str, tuple[str, ...]] = {
    "descriptors": ("descriptor",),
    "tags": ("tag",),
    "descriptors+tags": ("descriptor", "tag"),
    "descriptors+tags+embedding": ("descriptor", "tag", "MTT_musicnn", "MSD_musicnn"),
    "embedding": ("MTT_musicnn", "MSD_musicnn"),
}
C_GRID: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0, 100.0)
SHRINK_TRACKS = 10.0
# Readings spread over the corpus with this standard deviation per axis: about the mood words' spread in
# the shared frame (spaces.zeroshot.mood_word_va: 1.7 valence, 1.5 arousal), so mood affinities stay graded.
MUSIC_SPREAD = 1.5


METHODS: tuple[str, ...] = ("pointwise", "pairwise", "cues", "prior")
K_GRID: tuple[int, ...] = (3, 5, 8, 12)  # cues: how many inputs
CUE_GROUPS: tuple[str, ...] = ("descriptors", "tags", "descriptors+tags")  # named inputs only


# The side each cue is expected to read (+1 raises the axis, -1 lowers it), written down before any
# fitting: for the descriptors from music-psychology summaries (Gabrielsson & Lindström 2010; Juslin &
# Laukka 2004), for the tags from the hand-set cue table the learned reader replaced (storyscore < 0.2,
# spaces/zeroshot.py). benchmarks/evaluate_corpus.py marks a cue that reads the other way on game music
# "backwards"; the "prior" recipe reads an axis as the equal-weight sum of its cues here.
PRIOR_CUES: dict[str, dict[str, int]] = {
    "valence": {"descriptor:mode_strength": 1, "descriptor:log_brightness": 1, "tag:MSD_musicnn:happy": 1,
                "tag:MSD_musicnn:sad": -1, "tag:MSD_musicnn:beautiful": 1, "tag:MTT_musicnn:metal": -1,
                "tag:MSD_musicnn:heavy metal": -1, "tag:MSD_musicnn:party": 1, "tag:MSD_musicnn:catchy": 1,
                "tag:MTT_musicnn:dance": 1, "tag:MTT_musicnn:pop": 1, "tag:MTT_musicnn:harp": 1,
                "tag:MTT_musicnn:cello": -1, "tag:MTT_musicnn:weird": -1},
    "arousal": {"descriptor:log_tempo": 1, "descriptor:onset_rate": 1, "descriptor:loudness": 1,
                "descriptor:log_brightness": 1, "descriptor:danceability": 1, "descriptor:percussive_ratio": 1,
                "descriptor:spectral_flux": 1, "tag:MTT_musicnn:slow": -1, "tag:MTT_musicnn:fast": 1,
                "tag:MTT_musicnn:loud": 1, "tag:MTT_musicnn:quiet": -1, "tag:MTT_musicnn:soft": -1,
                "tag:MTT_musicnn:ambient": -1, "tag:MTT_musicnn:techno": 1, "tag:MTT_musicnn:dance": 1,
                "tag:MTT_musicnn:metal": 1, "tag:MTT_musicnn:rock": 1, "tag:MTT_musicnn:classical": -1,
                "tag:MSD_musicnn:Mellow": -1, "tag:MSD_musicnn:chill": -1, "tag:MSD_musicnn:party": 1,
                "tag:MSD_musicnn:heavy metal": 1, "tag:MSD_musicnn:punk": 1},
}


@dataclass(frozen=True)
class Recipe:
    group: str
    c: float  # inverse regularisation strength; for "cues", the number of cues k; unused by "prior"
    method: str = "pairwise"
    axis: str = ""  # "prior": whose PRIOR_CUES

    def columns(self, names: Sequence[str]) -> np.ndarray:
        kinds = INPUT_GROUPS[self.group]
        prior = PRIOR_CUES.get(self.axis, {}) if self.method == "prior" else None
        return np.array([j for j, n in enumerate(names) if n.split(":", 1)[0] in kinds
                         and (prior is None or n in prior)], dtype=np.int64)


def roc_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """`storyscore.training.metrics.roc_auc`, but nan where one class is empty (a game may label one side only)."""
    from storyscore.training.metrics import roc_auc as mann_whitney_auc

    positive = np.asarray(positive, dtype=bool)
    if positive.all() or not positive.any():
        return float("nan")
    return mann_whitney_auc(scores, positive)


def _ordered_pairs(pos: np.ndarray, neg: np.ndarray) -> tuple[float, int]:
    """(pairs ordered right, ties counting half; all pairs) of positive and negative scores."""
    diff = pos[:, None] - neg[None, :]
    return float((diff > 0).sum() + 0.5 * (diff == 0).sum()), diff.size


def _game_sides(scores: np.ndarray, signs: np.ndarray, games: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each game's (positive, negative) scores, for the games that label both sides."""
    sides = [(scores[(games == g) & (signs > 0)], scores[(games == g) & (signs < 0)]) for g in np.unique(games)]
    return [(p, q) for p, q in sides if len(p) and len(q)]


def bootstrap_auc(scores: np.ndarray, positive: np.ndarray, *, n_boot: int = 2000, seed: int = 0,
                  ) -> tuple[float, float]:
    """95% percentile interval of the AUC, resampling positives and negatives separately."""
    signs = np.where(np.asarray(positive, dtype=bool), 1, -1)
    return bootstrap_within_game_auc(scores, signs, np.zeros(len(signs)), n_boot=n_boot, seed=seed)


def bootstrap_within_game_auc(scores: np.ndarray, signs: np.ndarray, games: np.ndarray, *, n_boot: int = 2000,
                              seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of `within_game_auc`, resampling each game's positives and negatives."""
    rng = np.random.default_rng(seed)
    groups = _game_sides(scores, signs, games)
    if not groups:
        return float("nan"), float("nan")
    out = np.empty(n_boot)
    for b in range(n_boot):
        right, total = 0.0, 0
        for p, q in groups:
            r, t = _ordered_pairs(p[rng.integers(0, len(p), len(p))], q[rng.integers(0, len(q), len(q))])
            right += r
            total += t
        out[b] = right / total
    lo, hi = np.percentile(out, [2.5, 97.5])
    return float(lo), float(hi)


def standardise_by_game(x: np.ndarray, games: np.ndarray, train_mask: np.ndarray,
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each game's rows standardised over that game (shrunk toward the training rows' statistics), and
    those statistics (mean, std)."""
    corpus_mean = x[train_mask].mean(axis=0)
    corpus_std = np.maximum(x[train_mask].std(axis=0), 1e-9)
    z = np.empty_like(x)
    for g in np.unique(games):
        rows = games == g
        mean, std = shrunk_standardiser(x[rows], corpus_mean, corpus_std, SHRINK_TRACKS)
        z[rows] = (x[rows] - mean) / std
    return z, corpus_mean, corpus_std


def _fit(z: np.ndarray, signs: np.ndarray, games: np.ndarray, recipe: Recipe, names: Sequence[str],
         ) -> tuple[np.ndarray, float]:
    """(weights, bias) of one axis from standardised inputs named `names`; rows with sign 0 are ignored."""
    from sklearn.linear_model import LogisticRegression

    if recipe.method == "prior":
        w = np.array([PRIOR_CUES[recipe.axis].get(n, 0) for n in names], dtype=np.float64)
        return w / max(float(np.abs(w).sum()), 1.0), 0.0
    if recipe.method == "cues":
        aucs = np.nan_to_num([within_game_auc(z[:, j], signs, games) for j in range(z.shape[1])], nan=0.5)
        k = int(recipe.c)
        top = np.argsort(-np.abs(aucs - 0.5), kind="stable")[:k]
        w = np.zeros(z.shape[1])
        w[top] = np.sign(aucs[top] - 0.5) / k
        return w, 0.0
    if recipe.method == "pointwise":
        rows = signs != 0
        model = LogisticRegression(C=recipe.c, class_weight="balanced", max_iter=2000)
        model.fit(z[rows], signs[rows] > 0)
        return model.coef_[0].astype(np.float64), float(model.intercept_[0])
    diffs, weights = [], []
    for g in np.unique(games):
        pos, neg = z[(games == g) & (signs > 0)], z[(games == g) & (signs < 0)]
        if len(pos) and len(neg):
            d = (pos[:, None, :] - neg[None, :, :]).reshape(-1, z.shape[1])
            diffs.append(d)
            weights.append(np.full(len(d), 1.0 / len(d)))
    if not diffs:
        return np.zeros(z.shape[1]), 0.0
    d, w = np.concatenate(diffs), np.concatenate(weights)
    model = LogisticRegression(C=recipe.c, fit_intercept=False, max_iter=3000)
    model.fit(np.concatenate([d, -d]), np.r_[np.ones(len(d)), np.zeros(len(d))], sample_weight=np.r_[w, w])
    return model.coef_[0].astype(np.float64), 0.0


def within_game_auc(scores: np.ndarray, signs: np.ndarray, games: np.ndarray) -> float:
    """Share of same-game (positive, negative) pairs ordered correctly (ties count half), pooled over
    games; nan when no game has both."""
    counts = [_ordered_pairs(p, q) for p, q in _game_sides(scores, signs, games)]
    total = sum(t for _, t in counts)
    return sum(r for r, _ in counts) / total if total else float("nan")


def held_out_scores(x: np.ndarray, signs: np.ndarray, games: np.ndarray, recipe: Recipe,
                    names: Sequence[str], held_out: str) -> np.ndarray:
    """Scores of the held-out game's tracks on one axis from a model fitted on every other game."""
    cols = recipe.columns(names)
    xs = x[:, cols]
    train = games != held_out
    z, _, _ = standardise_by_game(xs, games, train)
    w, b = _fit(z[train], signs[train], games[train], recipe, [names[j] for j in cols])
    return z[games == held_out] @ w + b


def logo_auc(x: np.ndarray, signs: np.ndarray, games: np.ndarray, recipe: Recipe, names: Sequence[str],
             among: Sequence[str]) -> float:
    """Leave-one-game-out within-game AUC over the games in `among`: each game's scores come from a model
    fitted on every other game whose rows are in `x`."""
    scores = np.full(len(x), np.nan)
    for g in among:
        rows = games == g
        if len(set(signs[rows].tolist()) - {0}) < 2:
            continue  # a game with one side of the axis orders no pair
        scores[rows] = held_out_scores(x, signs, games, recipe, names, g)
    keep = ~np.isnan(scores)
    return within_game_auc(scores[keep], signs[keep], games[keep])


GRIDS: tuple[str, ...] = ("prior", "cues", "full")
# The shipped reader's candidates per axis. Arousal: "prior". Chosen among the cues chosen by the training
# games (nested leave-one-game-out within-game AUC .85), the prior (.90) and Essentia's four reference
# descriptors (.86), it ordered each labelled game's tracks at least as well as the chosen cues (naev .86
# against .79); choosing between the two by leave-one-game-out could not tell them apart, since the other
# games' tracks are ordered well by both. Valence: "cues": the games' valence labels are calm against combat,
# and the prior's cues (mode, happy, sad, ...) read them backwards (.38). benchmarks/evaluate_corpus.py
# prints every one of these figures.
SHIPPED_GRIDS: dict[str, str] = {"valence": "cues", "arousal": "prior"}


def recipes(grid: str = "cues", axis: str = "") -> list[Recipe]:
    """The candidates model choice picks from. "prior": the equal-weight sum of the axis's PRIOR_CUES
    (nothing to choose). "cues": improper linear models on named inputs. "full" adds the fitted pointwise
    and pairwise models over every input group; with four or five games that label both sides of an axis,
    choosing among those 75 more candidates overfits the choice (nested leave-one-game-out within-game AUC
    .61 valence / .75 arousal on the corpus, against .83 / .85 for "cues", benchmarks/results/corpus.json)."""
    if grid == "prior":
        return [Recipe("descriptors+tags", 0.0, "prior", axis)]
    cues = [Recipe(g, float(k), "cues") for g, k in itertools.product(CUE_GROUPS, K_GRID)]
    if grid == "cues":
        return cues
    fitted = [Recipe(g, c, m) for m, g, c in itertools.product(("pointwise", "pairwise"), INPUT_GROUPS, C_GRID)]
    return fitted + cues


def choose_recipe(x: np.ndarray, signs: np.ndarray, games: np.ndarray, names: Sequence[str],
                  among: Sequence[str], grid: str = "cues", axis: str = "") -> tuple[Recipe, dict[Recipe, float]]:
    """The recipe with the best leave-one-game-out within-game AUC over `among` (only those games' rows
    are used at all); ties go to the stronger regularisation."""
    mask = np.isin(games, list(among))
    xs, ss, gs = x[mask], signs[mask], games[mask]
    results = {r: logo_auc(xs, ss, gs, r, names, among) for r in recipes(grid, axis)}
    best = max(results, key=lambda r: (np.nan_to_num(results[r], nan=-1.0), -r.c))
    return best, results


def nested_logo_scores(x: np.ndarray, signs: np.ndarray, games: np.ndarray, names: Sequence[str],
                       grid: str = "cues", axis: str = "") -> tuple[np.ndarray, dict[str, Recipe]]:
    """Every track's held-out score on one axis, the recipe re-chosen without its game each time."""
    out = np.full(len(x), np.nan)
    chosen: dict[str, Recipe] = {}
    all_games = sorted(set(games.tolist()))
    for g in all_games:
        others = [h for h in all_games if h != g]
        recipe, _ = choose_recipe(x, signs, games, names, others, grid, axis)
        chosen[g] = recipe
        out[games == g] = held_out_scores(x, signs, games, recipe, names, g)
    return out, chosen


def fit_reader(x: np.ndarray, signs: np.ndarray, games: np.ndarray, recipes_by_axis: Sequence[Recipe],
               ) -> tuple[dict[str, np.ndarray], list[str]]:
    """Final weights on every game, for the recipes chosen per axis. The reader uses the union of both
    recipes' inputs (an axis's weights are zero on inputs its recipe does not use)."""
    names = input_names()
    cols = sorted(set(np.concatenate([r.columns(names) for r in recipes_by_axis]).tolist()))
    used = [names[j] for j in cols]
    xs = x[:, cols]
    everything = np.ones(len(x), dtype=bool)
    z, corpus_mean, corpus_std = standardise_by_game(xs, games, everything)
    weights = np.zeros((2, len(cols)))
    bias = np.zeros(2)
    scale = np.ones(2)
    for axis, recipe in enumerate(recipes_by_axis):
        own = np.isin(cols, recipe.columns(names))
        w, b = _fit(z[:, own], signs[:, axis], games, recipe, [u for u, o in zip(used, own, strict=True) if o])
        weights[axis, own] = w
        bias[axis] = b
        spread = float((z @ weights[axis] + b).std())
        scale[axis] = MUSIC_SPREAD / spread if spread > 1e-9 else 1.0
    tensors = {"weights": weights, "bias": bias, "corpus_mean": corpus_mean, "corpus_std": corpus_std,
               "output_scale": scale}
    return tensors, used


def weights_version(tensors: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for k in sorted(tensors):
        h.update(k.encode())
        h.update(np.ascontiguousarray(tensors[k], dtype=np.float32).tobytes())
    return f"music-reader-{h.hexdigest()[:12]}"


# --- valence on human ratings and games together (issue #21) ------------------------------------------
#
# The game corpus's old valence labels were calm against combat, so a valence learned from them became an
# inverted arousal axis (sad music read serene). Valence is now fitted on VGMIDI (pieces rated by people,
# each series one library) together with the games' valence-at-similar-arousal labels (victory vs defeat,
# safe places vs dungeons; datasets/games/situations). Rows come in "folds" (a VGMIDI series, a game: what
# cross-validation holds out together) and "libraries" (what is standardised together: a series in one
# timbre, a game). The recipes here are improper or small fitted linear models on named inputs.


@dataclass(frozen=True)
class Rows:
    """Labelled rows of several libraries: raw inputs, one axis's signs (0 = unlabelled), the fold and
    library of each row, its arousal sign (pairs are formed at a similar arousal), and whether it counts
    in evaluation (augmented renders train but are not scored)."""

    x: np.ndarray
    signs: np.ndarray
    folds: np.ndarray
    libraries: np.ndarray
    arousal: np.ndarray
    scored: np.ndarray

    def subset(self, mask: np.ndarray) -> Rows:
        return Rows(self.x[mask], self.signs[mask], self.folds[mask], self.libraries[mask], self.arousal[mask],
                    self.scored[mask])


VALENCE_K: tuple[int, ...] = (1, 2, 3, 5, 8, 12)
VALENCE_C: tuple[float, ...] = (0.01, 0.1, 1.0)


def valence_recipes() -> list[Recipe]:
    """The valence candidates: equal-weight cues (k of them), the k best cues with fitted weights (cuesfit,
    C=1), and pairwise logistic regressions on (positive − negative) pairs of the same library and the same
    arousal sign over the named inputs (descriptors+tags)."""
    out = [Recipe(g, float(k), "cues") for g in CUE_GROUPS for k in VALENCE_K]
    out += [Recipe(g, float(k), "cuesfit") for g in ("descriptors+tags",) for k in VALENCE_K]
    out += [Recipe("descriptors+tags", c, "pairwise_arousal") for c in VALENCE_C]
    out += [Recipe("descriptors", c, "pairwise_arousal") for c in VALENCE_C]
    return out


def _strata(rows: Rows) -> np.ndarray:
    """Library and arousal sign together: valence pairs are ordered within a library at a similar arousal."""
    return np.array([f"{lib}|{a}" for lib, a in zip(rows.libraries, rows.arousal, strict=True)])


def fit_valence(z: np.ndarray, rows: Rows, recipe: Recipe, names: Sequence[str]) -> tuple[np.ndarray, float]:
    """(weights, bias) of valence from standardised inputs of training rows."""

    strata = _strata(rows)
    if recipe.method in ("cues", "cuesfit"):
        aucs = np.nan_to_num([within_game_auc(z[:, j], rows.signs, strata) for j in range(z.shape[1])], nan=0.5)
        k = int(recipe.c)
        top = np.argsort(-np.abs(aucs - 0.5), kind="stable")[:k]
        w = np.zeros(z.shape[1])
        if recipe.method == "cues":
            w[top] = np.sign(aucs[top] - 0.5) / k
            return w, 0.0
        sub = Recipe(recipe.group, 1.0, "pairwise")
        w_top, _ = _fit(z[:, top], rows.signs, strata, sub, [names[j] for j in top])
        w[top] = w_top
        return w, 0.0
    if recipe.method == "pairwise_arousal":
        return _fit(z, rows.signs, strata, Recipe(recipe.group, recipe.c, "pairwise"), names)
    return _fit(z, rows.signs, rows.libraries, recipe, names)


def valence_scores(rows: Rows, recipe: Recipe, names: Sequence[str], train: np.ndarray,
                   test_libraries: np.ndarray | None = None) -> np.ndarray:
    """Every row's score from a model fitted on the `train` rows (each library standardised over itself,
    pulled toward the training rows' statistics). `test_libraries` regroups the rows for standardisation
    at test time (e.g. all VGMIDI pieces as one library); training rows keep their own libraries."""
    cols = recipe.columns(names)
    xs = rows.x[:, cols]
    z, mean, std = standardise_by_game(xs, rows.libraries, train)
    w, b = fit_valence(z[train], rows.subset(train), recipe, [names[j] for j in cols])
    if test_libraries is not None:
        for lib in np.unique(test_libraries[~train]):
            m = test_libraries == lib
            lm, ls = shrunk_standardiser(xs[m], mean, std, SHRINK_TRACKS)
            z[m & ~train] = ((xs[m] - lm) / ls)[~train[m]]
    return z @ w + b


def fit_joint_reader(x: np.ndarray, signs: np.ndarray, games: np.ndarray, valence_rows: Rows,
                     recipes_by_axis: Sequence[Recipe], exclude: str | None = None,
                     ) -> tuple[dict[str, np.ndarray], list[str]]:
    """Final weights: arousal by its recipe on the games (`x`, `signs`, `games`: the game corpus, as
    `fit_reader`), valence by its recipe on `valence_rows` (VGMIDI series and games: `fit_valence`). Rows of
    fold `exclude` (a game or a VGMIDI series) are left out of both, for a held-out reader. The corpus
    statistics small libraries lean on are those of every training row of both."""
    names = input_names()
    v_recipe, a_recipe = recipes_by_axis
    cols = sorted(set(np.concatenate([r.columns(names) for r in recipes_by_axis]).tolist()))
    used = [names[j] for j in cols]
    keep_g = games != exclude
    vr = valence_rows.subset(valence_rows.folds != exclude)
    both = np.vstack([x[keep_g][:, cols], vr.x[:, cols]])
    corpus_mean, corpus_std = both.mean(axis=0), np.maximum(both.std(axis=0), 1e-9)
    weights, bias, scale = np.zeros((2, len(cols))), np.zeros(2), np.ones(2)
    # valence
    own = np.isin(cols, v_recipe.columns(names))
    zv, _, _ = standardise_by_game(vr.x[:, cols], vr.libraries, np.ones(len(vr.x), bool))
    w, b = fit_valence(zv[:, own], vr, v_recipe, [u for u, o in zip(used, own, strict=True) if o])
    weights[0, own], bias[0] = w, b
    # arousal
    own = np.isin(cols, a_recipe.columns(names))
    zg, _, _ = standardise_by_game(x[keep_g][:, cols], games[keep_g], np.ones(int(keep_g.sum()), bool))
    w, b = _fit(zg[:, own], signs[keep_g, 1], games[keep_g], a_recipe,
                [u for u, o in zip(used, own, strict=True) if o])
    weights[1, own], bias[1] = w, b
    # each axis spread MUSIC_SPREAD over the libraries it was fitted on
    for axis, z in ((0, zv[vr.scored]), (1, zg)):
        spread = float((z @ weights[axis] + bias[axis]).std())
        scale[axis] = MUSIC_SPREAD / spread if spread > 1e-9 else 1.0
    tensors = {"weights": weights, "bias": bias, "corpus_mean": corpus_mean, "corpus_std": corpus_std,
               "output_scale": scale}
    return tensors, used


__all__ = ["AXES", "CUE_GROUPS", "C_GRID", "GRIDS", "INPUT_GROUPS", "K_GRID", "METHODS", "SHRINK_TRACKS", "Recipe", "bootstrap_auc",
           "bootstrap_within_game_auc",
           "choose_recipe", "fit_reader", "held_out_scores", "logo_auc", "nested_logo_scores", "roc_auc",
           "weights_version", "within_game_auc",
           "Rows", "VALENCE_C", "VALENCE_K", "fit_joint_reader", "fit_valence", "valence_recipes",
           "valence_scores"]
