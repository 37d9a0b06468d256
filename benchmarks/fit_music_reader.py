"""Fit the shipped music reader on the outside-labelled game-music corpus, and write its weights and card.

    .venv/bin/python benchmarks/fit_music_reader.py      # fetches and analyses what is missing first

The recipe per axis is the one with the best pooled leave-one-game-out AUC over every game among that axis's
candidates (`training.music_reader.SHIPPED_GRIDS`: arousal reads the a-priori cues, valence the cues the
games choose); the card's figures are the nested ones (recipe re-chosen without each held-out game), the
same as benchmarks/evaluate_corpus.py prints. Writes src/storyscore/data/music_reader/reader.safetensors
and reader.json. Bump store.PIPELINE_VERSION only if the analysis changed; a new reader alone is picked up
by the next `storyscore index` (its version is part of the stored readings' version).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from common import code_version, shared_data
from evaluate_corpus import CORPUS, ensure_corpus, item_arrays, load_items, reader_section
from vgmidi_corpus import load_vgmidi
from vgmidi_valence import CRITERION, NESTED_CANDIDATES, SHIPPED_VALENCE_ROWS, choose_valence, valence_rows
from vgmidi_valence import RESULTS as VGMIDI_RESULTS

from storyscore.audio.encoder import ANALYSIS_VERSION
from storyscore.datasets.games import game_module
from storyscore.spaces.music_reader import (
    AXES,
    READER_DIR,
    MusicReader,
    input_names,
    save_reader,
)
from storyscore.training.music_reader import (
    CUE_GROUPS,
    K_GRID,
    MUSIC_SPREAD,
    PRIOR_CUES,
    SHIPPED_GRIDS,
    SHRINK_TRACKS,
    choose_recipe,
    fit_joint_reader,
    weights_version,
)

CHECK_ROWS = 4
RECIPE_MODELS = {
    "pointwise": "L2-regularised logistic regression (scikit-learn lbfgs) on the tracks' signs",
    "pairwise": "L2-regularised logistic regression (scikit-learn lbfgs) on same-game (positive - negative) "
                "differences",
    "cues": "improper linear model: the C named inputs that best order the training rows (games' tracks, VGMIDI "
            "pieces), weights ±1/C",
    "prior": "improper linear model on the a-priori cues (selection.prior_cues), weights ±1/k, not fitted",
    "cuesfit": "the C named inputs that best order the training rows' valence pairs, weights fitted by pairwise "
               "logistic regression (C=1)",
    "pairwise_arousal": "L2-regularised logistic regression on (positive - negative) pairs of the same library "
                        "and the same arousal sign",
}


def check_inputs(tensors: dict[str, np.ndarray]) -> np.ndarray:
    """A fixed input matrix, derived from the weights' own statistics, whose reading the card records so a
    test can check that the shipped weights load to identical outputs."""
    rng = np.random.default_rng(0)
    mean, std = tensors["corpus_mean"].astype(np.float64), tensors["corpus_std"].astype(np.float64)
    return mean + std * rng.standard_normal((CHECK_ROWS, len(mean)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--out", type=Path, default=READER_DIR)
    ap.add_argument("--no-fetch", action="store_true")
    args = ap.parse_args()
    ensure_corpus(args.corpus, not args.no_fetch)
    items = load_items(args.corpus)
    names = input_names()
    x, games, signs = item_arrays(items)
    all_games = sorted(set(games.tolist()))

    # Figures first (nested: nothing below has seen a game while choosing for it), then the final choice.
    figures, _ = reader_section(items, x, games, signs)
    arousal, results = choose_recipe(x, signs[:, 1], games, names, all_games, SHIPPED_GRIDS["arousal"], "arousal")
    grid = {"arousal": [{"method": r.method, "inputs": r.group, "C": r.c, "logo_within_game_auc": v}
                        for r, v in results.items()]}
    # Valence: VGMIDI's human ratings with the games' valence-at-similar-arousal labels (issue #21)
    pieces = load_vgmidi(shared_data("vgmidi") / "vgmidi", timbres=("piano",))
    assert pieces is not None
    rows, row_names = valence_rows(pieces, items)
    valence, criterion_value = choose_valence(rows, row_names)
    recipes = [valence, arousal]
    for name, recipe in zip(AXES, recipes, strict=True):
        print(f"{name}: recipe {recipe.method} on {recipe.group}, C={recipe.c}")
    print(f"valence chosen by {CRITERION}: {criterion_value:.3f} (the choosing figure, not held out)")
    nested_valence = json.loads(VGMIDI_RESULTS.read_text()).get("nested", {}) if VGMIDI_RESULTS.exists() else {}
    metrics = {"arousal": {"per_game": {g: figures["per_game"][g]["arousal"] for g in all_games},
                           "pooled_within_games": figures["per_game"]["pooled, pairs within a game"]["arousal"],
                           "pooled_across_games": figures["per_game"]["pooled, across games"]["arousal"]},
               "valence": {"nested": nested_valence.get(SHIPPED_VALENCE_ROWS),
                           "from": f"benchmarks/vgmidi_valence.py ({VGMIDI_RESULTS.name}, rows "
                                   f"'{SHIPPED_VALENCE_ROWS}')"}}

    tensors, used = fit_joint_reader(x, signs, games, rows, recipes)
    version = weights_version(tensors)
    card = {
        "name": "storyscore music emotion reader",
        "format": 1,
        "version": version,
        "task": "track analysis → (valence, arousal) in storyscore's shared emotion frame",
        "inputs": used,
        "io": {
            "input": "storyscore.audio.encoder.TrackAnalysis of each track (musicnn MTT+MSD tag probabilities "
                     "and pooled penultimate features over windows spread across the track, Essentia "
                     "descriptors), turned into a vector by storyscore.spaces.music_reader.reader_inputs "
                     "(tags as logits, tempo and brightness as log2) and reduced to `inputs`",
            "output": "(n, 2) float32: valence, arousal; spread about "
                      f"{MUSIC_SPREAD} per axis over a library; positive = the side of battle/victory "
                      "(arousal) and of pieces people rated pleasant (valence)",
        },
        "inference": ("z = (x - mean) / std, where (mean, std) are the library's statistics pulled toward "
                      "corpus_mean/corpus_std by shrink_tracks pseudo-tracks; va = (z @ weights.T + bias) * "
                      "output_scale; contributions weights * z explain each reading"),
        "shrink_tracks": SHRINK_TRACKS,
        "analysis_version": ANALYSIS_VERSION,
        "recipe": {name: {"method": r.method, "inputs": r.group, "C": r.c,
                          "model": RECIPE_MODELS[r.method]}
                   for name, r in zip(AXES, recipes, strict=True)},
        "selection": {"arousal": "the grid of training.music_reader.SHIPPED_GRIDS['arousal'] ('prior': every cue "
                                 "of prior_cues with its expected sign, weights ±1/k, nothing learned); figures "
                                 "nested leave-one-game-out",
                      "valence": f"among {[f'{r.method} {r.group} {r.c:g}' for r in NESTED_CANDIDATES]} "
                                 f"(benchmarks/vgmidi_valence.py), the best {CRITERION}, leave-one-series-out on "
                                 "VGMIDI and leave-one-game-out on the games; figures nested (the recipe re-chosen "
                                 "without each held-out series or game)",
                      "prior_cues": {"arousal": PRIOR_CUES["arousal"]}, "cue_groups": list(CUE_GROUPS),
                      "k_grid": list(K_GRID), "grids": {"arousal": SHIPPED_GRIDS["arousal"]}, "grid": grid},
        "training_data": {
            "valence": "VGMIDI (Ferreira & Whitehead, ISMIR 2019): piano game pieces rated by 30 people, sign of "
                       "valence and arousal per piece, rendered offline (midirenderer + TimGM6mb, piano), each "
                       f"series read as its own library: {len(pieces)} pieces used for fitting only (no licence "
                       "stated: the data are not shipped, one series is reserved and was never read); and the "
                       "games' valence-at-similar-arousal situations (victory vs defeat, safe places vs "
                       "dungeons; calm vs combat is arousal only)",
            "description": "Arousal: soundtracks of Debian game packages, labelled by the situations the games' "
                           "own files play each track in (storyscore.datasets.games; situation → sign tables in "
                           "datasets/games/situations/)",
            "games": {g: {"package": game_module(g).PACKAGE, "tracks": int((games == g).sum()),
                          "valence_pos": int(((games == g) & (signs[:, 0] > 0)).sum()),
                          "valence_neg": int(((games == g) & (signs[:, 0] < 0)).sum()),
                          "arousal_pos": int(((games == g) & (signs[:, 1] > 0)).sum()),
                          "arousal_neg": int(((games == g) & (signs[:, 1] < 0)).sum())} for g in all_games},
        },
        "metrics": {"description": "nested (recipe re-chosen and model refitted without each held-out game or "
                                   "VGMIDI series), each game or series read as its own library; AUC with "
                                   "bootstrap 95% interval and n", **metrics},
        "command": ".venv/bin/python benchmarks/fit_music_reader.py",
        "code": code_version(),
        "created": time.strftime("%Y-%m-%d"),
        "licence": "weights: MIT, as storyscore; derived from the games' music under their licences (see "
                   "each package's copyright file) and from VGMIDI's ratings (no licence stated by its authors: "
                   "fitted on, not shipped)",
    }
    checks = check_inputs(tensors)
    reader = MusicReader({k: v.astype(np.float32) for k, v in tensors.items()}, card)
    card["check"] = {"rows": CHECK_ROWS, "seed": 0, "va": reader.read_inputs(checks).va.tolist()}
    save_reader(args.out, tensors, card)
    print(f"wrote {args.out} ({version}, {len(used)} inputs)")


if __name__ == "__main__":
    main()
