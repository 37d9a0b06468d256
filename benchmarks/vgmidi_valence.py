"""Valence (and arousal) of the music reader on VGMIDI's human ratings, with the game corpus (issue #21).

    .venv/bin/python benchmarks/vgmidi_valence.py        # needs vgmidi_corpus.py's and the corpus's analyses

1. Single cues on VGMIDI: each descriptor, tag and candidate extra cue (benchmarks/extra_cues.py) alone, AUC
   of valence overall and within each arousal half (V+ vs V− among arousal+ pieces, and among arousal−),
   each series standardised as its own library; bootstrap 95% intervals and n.
2. The valence candidates (`training.music_reader.valence_recipes`), leave-one-series-out on VGMIDI and
   leave-one-game-out on the games' valence-at-similar-arousal labels, and the nested figure (the recipe
   re-chosen without the held-out series or game). Two framings of the held-out VGMIDI pieces: each series
   read as its own library, and all VGMIDI pieces read as one library.
3. Arousal: the shipped recipe ("prior") on VGMIDI.

Writes benchmarks/results/vgmidi.json. No VGMIDI file or rendering is copied anywhere.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from common import HERE, code_version

from storyscore.spaces.music_reader import AXES, input_names, reader_inputs
from storyscore.training.music_reader import (
    PRIOR_CUES,
    Recipe,
    Rows,
    bootstrap_auc,
    bootstrap_within_game_auc,
    roc_auc,
    standardise_by_game,
    valence_recipes,
    valence_scores,
    within_game_auc,
)

RESULTS = HERE / "results" / "vgmidi.json"
VGMIDI_FOLD = "vgmidi:"  # fold/library prefix of VGMIDI rows ("vgmidi:<series>")
# What a candidate is chosen by (inner cross-validation): the mean of VGMIDI's pooled valence AUC, its two
# arousal halves, and the games' within-game valence AUC, each held out.
CRITERION = "mean of VGMIDI LOSO AUC overall, arousal+ half, arousal- half, and games LOGO within-game AUC"
# The training rows and framing of the shipped valence (`valence_rows`): its nested figures are that row.
SHIPPED_VALENCE_ROWS = "VGMIDI piano + games · own library"


def auc_ci(scores: np.ndarray, signs: np.ndarray) -> dict:
    keep = signs != 0
    s, pos = scores[keep], signs[keep] > 0
    if pos.all() or not pos.any():
        return {"auc": float("nan"), "ci95": (float("nan"), float("nan")), "n_pos": int(pos.sum()),
                "n_neg": int((~pos).sum())}
    return {"auc": roc_auc(s, pos), "ci95": bootstrap_auc(s, pos, n_boot=1000), "n_pos": int(pos.sum()),
            "n_neg": int((~pos).sum())}


def halves(scores: np.ndarray, valence: np.ndarray, arousal: np.ndarray) -> dict:
    """Valence AUC overall and within each arousal half."""
    return {"overall": auc_ci(scores, valence),
            "arousal+": auc_ci(scores[arousal > 0], valence[arousal > 0]),
            "arousal-": auc_ci(scores[arousal < 0], valence[arousal < 0])}


def fmt(r: dict) -> str:
    if np.isnan(r["auc"]):
        return "–"
    return f"{r['auc']:.2f} [{r['ci95'][0]:.2f}, {r['ci95'][1]:.2f}] ({r['n_pos']}/{r['n_neg']})"


def build_rows(pieces: list[dict], games_items: list[dict], timbres: tuple[str, ...], use_games: bool,
               extra: dict[str, dict[str, dict[str, float]]] | None = None) -> tuple[Rows, list[str]]:
    """VGMIDI rows (each series × timbre one library; only the first timbre scored) and the games' rows."""
    names = input_names()
    xs, signs, folds, libs, arousal, scored = [], [], [], [], [], []
    for t_i, timbre in enumerate(timbres):
        x = reader_inputs([p["analysis"][timbre] for p in pieces])
        if extra is not None:
            x = np.hstack([x, np.array([[extra[timbre][p["id"]][k] for k in EXTRA] for p in pieces])])
        xs.append(x)
        signs += [p["signs"][0] for p in pieces]
        arousal += [p["signs"][1] for p in pieces]
        folds += [VGMIDI_FOLD + p["series"] for p in pieces]
        libs += [f"{VGMIDI_FOLD}{p['series']}|{timbre}" for p in pieces]
        scored += [t_i == 0] * len(pieces)
    if use_games and games_items:
        x = reader_inputs([it["analysis"] for it in games_items])
        if extra is not None:
            x = np.hstack([x, np.zeros((len(x), len(EXTRA)))])  # not measured on the games: 0 after z
        xs.append(x)
        signs += [it["signs"][0] for it in games_items]
        arousal += [it["signs"][1] for it in games_items]
        folds += [it["game"] for it in games_items]
        libs += [it["game"] for it in games_items]
        scored += [True] * len(games_items)
    if extra is not None:
        names = names + [f"descriptor:{k}" for k in EXTRA]
    return Rows(np.vstack(xs), np.array(signs), np.array(folds), np.array(libs), np.array(arousal),
                np.array(scored)), names


EXTRA: tuple[str, ...] = ()
# The candidates the nested figure re-chooses among (a subset of `valence_recipes()`, for time: the strongest
# of each family in the non-nested table).
NESTED_CANDIDATES: list[Recipe] = [Recipe("descriptors", 1.0, "cues"), Recipe("descriptors", 2.0, "cues"),
                                   Recipe("descriptors", 3.0, "cues"), Recipe("descriptors+tags", 8.0, "cues"),
                                   Recipe("descriptors+tags", 8.0, "cuesfit"),
                                   Recipe("descriptors", 0.1, "pairwise_arousal"),
                                   Recipe("descriptors", 1.0, "pairwise_arousal")]


def held_out(rows: Rows, recipe: Recipe, names: list[str], fold: str, one_library: bool,
             restrict: np.ndarray | None = None) -> np.ndarray:
    """Scores of `fold`'s rows from a model fitted on the other folds (within `restrict` rows)."""
    use = np.ones(len(rows.x), bool) if restrict is None else restrict
    sub = rows.subset(use)
    train = sub.folds != fold
    test_libs = None
    if one_library and fold.startswith(VGMIDI_FOLD):
        # all VGMIDI pieces of the first timbre read as one library, as a user's VGMIDI folder would be
        test_libs = np.where(np.char.startswith(sub.libraries.astype(str), VGMIDI_FOLD) & sub.scored,
                             "vgmidi-all", sub.libraries)
    s = valence_scores(sub, recipe, names, train, test_libs)
    out = np.full(len(rows.x), np.nan)
    out[np.flatnonzero(use)[~train]] = s[~train]
    return out


def cv_scores(rows: Rows, recipe: Recipe, names: list[str], folds: list[str], one_library: bool,
              restrict: np.ndarray | None = None) -> np.ndarray:
    out = np.full(len(rows.x), np.nan)
    for f in folds:
        s = held_out(rows, recipe, names, f, one_library, restrict)
        m = ~np.isnan(s)
        out[m] = s[m]
    return out


def criterion(rows: Rows, scores: np.ndarray, mask: np.ndarray) -> float:
    """CRITERION over the rows in `mask` that have held-out scores."""
    m = mask & rows.scored & ~np.isnan(scores) & (rows.signs != 0)
    vg = m & np.char.startswith(rows.folds.astype(str), VGMIDI_FOLD)
    parts = []
    for sel in (vg, vg & (rows.arousal > 0), vg & (rows.arousal < 0)):
        pos = rows.signs[sel] > 0
        if pos.any() and not pos.all():
            parts.append(roc_auc(scores[sel], pos))
    gm = m & ~np.char.startswith(rows.folds.astype(str), VGMIDI_FOLD)
    if gm.any():
        g = within_game_auc(scores[gm], rows.signs[gm], rows.folds[gm])
        if not np.isnan(g):
            parts.append(g)
    return float(np.mean(parts)) if parts else float("nan")


def labelled_folds(rows: Rows) -> list[str]:
    """Folds with both sides of valence among scored rows (only they can be scored held out)."""
    out = []
    for f in sorted(set(rows.folds.tolist())):
        s = rows.signs[(rows.folds == f) & rows.scored]
        # a VGMIDI series with one side only still counts in the pooled AUC across series
        if ((s > 0).any() and (s < 0).any()) or (f.startswith(VGMIDI_FOLD) and (s != 0).any()):
            out.append(f)
    return out


def nested(rows: Rows, names: list[str], candidates: list[Recipe], one_library: bool,
           ) -> tuple[np.ndarray, dict[str, Recipe]]:
    """Every labelled fold's held-out scores, the recipe re-chosen by CRITERION on the other folds alone."""
    folds = labelled_folds(rows)
    out = np.full(len(rows.x), np.nan)
    chosen: dict[str, Recipe] = {}
    for f in folds:
        inner = rows.folds != f
        inner_folds = [g for g in folds if g != f]
        best, best_v = candidates[0], -1.0
        for r in candidates:
            v = criterion(rows, cv_scores(rows, r, names, inner_folds, one_library, inner), inner)
            if v > best_v:
                best, best_v = r, v
        chosen[f] = best
        s = held_out(rows, best, names, f, one_library)
        out[~np.isnan(s)] = s[~np.isnan(s)]
        print(f"  [nested] {f}: {best.method} {best.group} {best.c:g} (inner {best_v:.3f})", file=sys.stderr)
    return out, chosen


def report(rows: Rows, scores: np.ndarray) -> dict:
    vg = rows.scored & np.char.startswith(rows.folds.astype(str), VGMIDI_FOLD) & ~np.isnan(scores)
    out = {"vgmidi": halves(scores[vg], rows.signs[vg], rows.arousal[vg])}
    gm = rows.scored & ~np.char.startswith(rows.folds.astype(str), VGMIDI_FOLD) & ~np.isnan(scores) & (rows.signs != 0)
    if gm.any():
        s, lab, g = scores[gm], rows.signs[gm], rows.folds[gm]
        out["games"] = {"auc": within_game_auc(s, lab, g), "ci95": bootstrap_within_game_auc(s, lab, g, n_boot=1000),
                        "n_pos": int((lab > 0).sum()), "n_neg": int((lab < 0).sum())}
    return out


def row_text(label: str, r: dict) -> str:
    v = r["vgmidi"]
    g = fmt(r["games"]) if "games" in r else "–"
    return f"| {label} | {fmt(v['overall'])} | {fmt(v['arousal+'])} | {fmt(v['arousal-'])} | {g} |"


def single_cues(pieces: list[dict], names: list[str], x: np.ndarray) -> list[dict]:
    series = np.array([p["series"] for p in pieces])
    v = np.array([p["signs"][0] for p in pieces])
    a = np.array([p["signs"][1] for p in pieces])
    z, _, _ = standardise_by_game(x, series, np.ones(len(x), bool))
    out = []
    for j, n in enumerate(names):
        if not n.startswith(("descriptor:", "tag:")):
            continue
        out.append({"cue": n, **halves(z[:, j], v, a)})
    return out


def main(argv: list[str] | None = None) -> None:
    global EXTRA
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--stage", default="cues,candidates,nested")
    ap.add_argument("--timbres", default="piano,strings", help="renders to load (the first is scored)")
    ap.add_argument("--configs", default="", help="';'-separated training-row configurations to run")
    ap.add_argument("--extra", action="store_true", help="add benchmarks/extra_cues.py's cues (VGMIDI only)")
    args = ap.parse_args(argv)
    from vgmidi_corpus import RENDERS, TIMBRES, load_vgmidi

    timbres_loaded = tuple(args.timbres.split(","))
    pieces = load_vgmidi(timbres=timbres_loaded)
    if pieces is None:
        return
    results: dict = json.loads(args.out.read_text()) if args.out.exists() else {}
    results["code"] = code_version()
    names = input_names()
    extra = None
    if args.extra:
        from extra_cues import NAMES, cached_extra_cues

        EXTRA = NAMES
        extra = {t: {p["id"]: cached_extra_cues(Path(p["render"][t]), RENDERS.parent / "vgmidi_extra")
                     for p in pieces} for t in timbres_loaded}
    stages = args.stage.split(",")
    if "cues" in stages:
        x = reader_inputs([p["analysis"]["piano"] for p in pieces])
        cue_names = names
        if extra is not None:
            x = np.hstack([x, np.array([[extra["piano"][p["id"]][k] for k in EXTRA] for p in pieces])])
            cue_names = names + [f"descriptor:{k}" for k in EXTRA]
        cues = single_cues(pieces, cue_names, x)
        results["single_cues"] = cues
        ranked = sorted(cues, key=lambda r: -abs(r["overall"]["auc"] - 0.5))
        print("\n## Single cues on VGMIDI valence (each series its own library): AUC [95% CI] (n+/n−)\n")
        print("| cue | overall | arousal+ half | arousal− half |")
        print("|---|---|---|---|")
        shown = ranked[:15] + [r for r in cues if r["cue"].startswith("descriptor:") and r not in ranked[:15]]
        for r in shown:
            print(f"| {r['cue']} | {fmt(r['overall'])} | {fmt(r['arousal+'])} | {fmt(r['arousal-'])} |")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1, default=float) + "\n")

    from evaluate_corpus import CORPUS, load_items

    games_items = load_items(CORPUS) if (CORPUS / "zero_ad" / ".done").exists() else []
    configs = {"VGMIDI piano + games": (("piano",), True), "VGMIDI piano": (("piano",), False)}
    if timbres_loaded == TIMBRES:
        configs["VGMIDI piano+strings + games"] = (TIMBRES, True)
    if args.configs:
        configs = {k: v for k, v in configs.items() if k in args.configs.split(";")}
    if "candidates" in stages:
        results["candidates"] = {}
        print("\n## Valence candidates, LOSO (VGMIDI series) / LOGO (games), not nested: AUC [95% CI] (n+/n−)\n")
        print("| training rows · framing · recipe | VGMIDI overall | arousal+ half | arousal− half | games within-game |")
        print("|---|---|---|---|---|")
        for cname, (timbres, use_games) in configs.items():
            rows, rnames = build_rows(pieces, games_items, timbres, use_games, extra)
            folds = labelled_folds(rows)
            for one_library in (False, True):
                framing = "one library" if one_library else "own library"
                for r in valence_recipes() + [Recipe("descriptors+tags", 0.0, "prior", "valence")]:
                    s = cv_scores(rows, r, rnames, folds, one_library)
                    rep = report(rows, s)
                    label = f"{cname} · {framing} · {r.method} {r.group} {r.c:g}"
                    results["candidates"][label] = rep
                    print(row_text(label, rep))
                    sys.stdout.flush()
            args.out.write_text(json.dumps(results, indent=1, default=float) + "\n")
    if "nested" in stages:
        results.setdefault("nested", {})
        print("\n## Valence, nested (recipe re-chosen without each held-out series or game)\n")
        print("| training rows · framing | VGMIDI overall | arousal+ half | arousal− half | games within-game |")
        print("|---|---|---|---|---|")
        for cname, (timbres, use_games) in configs.items():
            rows, rnames = build_rows(pieces, games_items, timbres, use_games, extra)
            for one_library in (False, True):
                started = time.perf_counter()
                s, chosen = nested(rows, rnames, NESTED_CANDIDATES, one_library)
                rep = report(rows, s)
                label = f"{cname} · {'one library' if one_library else 'own library'}"
                rep["chosen"] = {f: f"{r.method} {r.group} {r.c:g}" for f, r in chosen.items()}
                results["nested"][label] = rep
                print(row_text(label, rep) + f"  ({time.perf_counter() - started:.0f} s)")
                sys.stdout.flush()
                args.out.write_text(json.dumps(results, indent=1, default=float) + "\n")
    if "arousal" in stages:
        prior = PRIOR_CUES["arousal"]
        x = reader_inputs([p["analysis"]["piano"] for p in pieces])
        cols = [j for j, n in enumerate(names) if n in prior]
        w = np.array([prior[names[j]] for j in cols], float)
        a = np.array([p["signs"][1] for p in pieces])
        series = np.array([p["series"] for p in pieces])
        results["arousal"] = {}
        for framing, libs in (("own library", series), ("one library", np.zeros(len(x)))):
            z, _, _ = standardise_by_game(x[:, cols], libs, np.ones(len(x), bool))
            results["arousal"][framing] = auc_ci(z @ w, a)
            print(f"arousal prior on VGMIDI, {framing}: {fmt(results['arousal'][framing])}")
        # the reader shipped now (or before this change, when run first), read per series and as one library
        from storyscore.spaces.music_reader import MusicReader

        reader = MusicReader.load()
        v = np.array([p["signs"][0] for p in pieces])
        results["shipped_reader"] = {"version": reader.version}
        xs = reader.select(x)
        for framing in ("own library", "one library"):
            va = np.zeros((len(x), 2))
            groups = [series == s_ for s_ in sorted(set(series))] if framing == "own library" else [np.ones(len(x), bool)]
            for m in groups:
                va[m] = reader.read_inputs(xs[m]).va
            results["shipped_reader"][framing] = {"valence": halves(va[:, 0], v, a), "arousal": auc_ci(va[:, 1], a)}
            r = results["shipped_reader"][framing]
            print(f"shipped reader {reader.version}, {framing}: valence {fmt(r['valence']['overall'])}, A+ half "
                  f"{fmt(r['valence']['arousal+'])}, A- half {fmt(r['valence']['arousal-'])}; arousal {fmt(r['arousal'])}")
        args.out.write_text(json.dumps(results, indent=1, default=float) + "\n")
    print(f"wrote {args.out} ({', '.join(AXES)})", file=sys.stderr)



# -- the shipped reader's recipe, and readers fitted without one series or game ------------------------------


def valence_rows(pieces: list[dict], games_items: list[dict]) -> tuple[Rows, list[str]]:
    """The rows the shipped valence is fitted on: VGMIDI's piano renders (each series its own library) and
    the games' valence-at-similar-arousal labels."""
    return build_rows(pieces, games_items, ("piano",), True)


def choose_valence(rows: Rows, names: list[str], exclude: str | None = None) -> tuple[Recipe, float]:
    """The valence recipe of NESTED_CANDIDATES with the best CRITERION, cross-validated over the labelled folds
    (without `exclude`, whose rows are then not used at all): the same choice the nested figure repeats
    without each held-out fold, so that figure is the shipped procedure's."""
    use = rows.folds != exclude
    folds = [f for f in labelled_folds(rows) if f != exclude]
    best, best_v = None, -1.0
    for r in NESTED_CANDIDATES:
        v = criterion(rows, cv_scores(rows, r, names, folds, False, use), use)
        if v > best_v:
            best, best_v = r, v
    assert best is not None
    return best, best_v


def joint_reader(items: list[dict], rows: Rows, valence_recipe: Recipe, arousal_recipe: Recipe,
                 exclude: str | None = None):  # -> MusicReader
    """The reader fitted as the shipped one is, without the rows of fold `exclude` (a game or a VGMIDI
    series, "vgmidi:<series>")."""
    from evaluate_corpus import item_arrays

    from storyscore.spaces.music_reader import MusicReader
    from storyscore.training.music_reader import SHRINK_TRACKS, fit_joint_reader, weights_version

    x, games, signs = item_arrays(items)
    tensors, used = fit_joint_reader(x, signs, games, rows, (valence_recipe, arousal_recipe), exclude)
    card = {"inputs": used, "shrink_tracks": SHRINK_TRACKS, "version": weights_version(tensors)}
    return MusicReader({k: np.asarray(v, np.float64) for k, v in tensors.items()}, card)


def readers_without(items: list[dict], pieces: list[dict]):  # -> Callable[[str], MusicReader]
    """fold → the reader fitted as the shipped one is without that fold (a game, or "vgmidi:<series>"): its
    valence recipe the one the nested run chose without it (RESULTS, row SHIPPED_VALENCE_ROWS), else re-chosen
    here on the other rows; arousal the shipped prior. Readers are built once per fold."""
    from storyscore.training.music_reader import recipes

    rows, names = valence_rows(pieces, items)
    arousal = recipes("prior", "arousal")[0]
    nested_rows = json.loads(RESULTS.read_text()).get("nested", {}) if RESULTS.exists() else {}
    chosen = nested_rows.get(SHIPPED_VALENCE_ROWS, {}).get("chosen", {})
    cache: dict[str, object] = {}

    def without(fold: str):  # -> MusicReader
        if fold not in cache:
            if fold in chosen:
                method, group, c = chosen[fold].split(" ")
                recipe = Recipe(group, float(c), method)
            else:
                recipe, _ = choose_valence(rows, names, exclude=fold)
            cache[fold] = joint_reader(items, rows, recipe, arousal, exclude=fold)
        return cache[fold]

    return without



def game_readers(items: list[dict]):  # -> Callable[[str], MusicReader] | None
    """`readers_without` for held-out games (evaluate_corpus's story section); None without VGMIDI."""
    from vgmidi_corpus import load_vgmidi

    pieces = load_vgmidi(timbres=("piano",))
    return None if pieces is None else readers_without(items, pieces)


if __name__ == "__main__":
    main()
