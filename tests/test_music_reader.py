"""The learned music reader: its shipped weights and card, library standardisation, and the fitting code."""

from __future__ import annotations

import json

import numpy as np
import pytest

from storyscore.errors import ModelError
from storyscore.spaces.music_reader import (
    AXES,
    CARD_FILE,
    READER_DIR,
    WEIGHTS_FILE,
    MusicReader,
    cue_label,
    input_names,
    save_reader,
    shrunk_standardiser,
)
from storyscore.training.music_reader import (
    PRIOR_CUES,
    SHIPPED_GRIDS,
    Recipe,
    choose_recipe,
    fit_reader,
    logo_auc,
    roc_auc,
    weights_version,
)


def _check_inputs(reader: MusicReader, rows: int, seed: int) -> np.ndarray:
    # as benchmarks/fit_music_reader.py derives them
    rng = np.random.default_rng(seed)
    mean, std = reader.corpus_mean, reader.corpus_std
    return mean + std * rng.standard_normal((rows, len(mean)))


def test_shipped_card_is_complete_and_matches_the_weights() -> None:
    card = json.loads((READER_DIR / CARD_FILE).read_text(encoding="utf-8"))
    for key in ("name", "version", "inputs", "io", "inference", "shrink_tracks", "analysis_version", "recipe",
                "selection", "training_data", "metrics", "command", "check"):
        assert key in card, key
    reader = MusicReader.load()
    assert set(reader.names) <= set(input_names())
    assert reader.weights.shape == (2, len(card["inputs"]))
    # the version is the weights' digest: stored readings never outlive the weights that made them
    from safetensors.numpy import load_file

    assert weights_version(load_file(str(READER_DIR / WEIGHTS_FILE))) == card["version"]
    from storyscore.audio.encoder import ANALYSIS_VERSION

    assert card["analysis_version"] == ANALYSIS_VERSION
    # arousal: nested leave-one-game-out on the games; valence: nested leave-one-series-out on VGMIDI
    figures = (card["metrics"]["arousal"]["pooled_within_games"], card["metrics"]["valence"]["nested"]["vgmidi"]["overall"])
    for m in figures:
        assert m["n_pos"] > 0 and m["n_neg"] > 0
        assert 0.0 <= m["ci95"][0] <= m["auc"] <= m["ci95"][1] <= 1.0
    assert set(card["metrics"]["arousal"]["per_game"]) == set(card["training_data"]["games"])


def test_shipped_weights_load_to_identical_outputs() -> None:
    card = json.loads((READER_DIR / CARD_FILE).read_text(encoding="utf-8"))
    reader = MusicReader.load()
    x = _check_inputs(reader, card["check"]["rows"], card["check"]["seed"])
    np.testing.assert_allclose(reader.read_inputs(x).va, np.asarray(card["check"]["va"]), rtol=1e-5, atol=1e-5)


def test_weights_round_trip_bit_identically(tmp_path) -> None:
    reader = MusicReader.load()
    tensors = {"weights": reader.weights, "bias": reader.bias, "corpus_mean": reader.corpus_mean,
               "corpus_std": reader.corpus_std, "output_scale": reader.output_scale}
    save_reader(tmp_path, tensors, dict(reader.card))
    again = MusicReader.load(tmp_path)
    x = _check_inputs(reader, 6, 3)
    assert np.array_equal(again.read_inputs(x).va, reader.read_inputs(x).va)


def test_missing_or_mismatched_weights_are_a_clear_error(tmp_path) -> None:
    with pytest.raises(ModelError, match="missing"):
        MusicReader.load(tmp_path)
    reader = MusicReader.load()
    card = dict(reader.card, inputs=list(reader.names[:3]))
    tensors = {"weights": reader.weights, "bias": reader.bias, "corpus_mean": reader.corpus_mean,
               "corpus_std": reader.corpus_std, "output_scale": reader.output_scale}
    save_reader(tmp_path / "bad", tensors, card)
    with pytest.raises(ModelError, match="do not match"):
        MusicReader.load(tmp_path / "bad")


def test_standardiser_leans_on_the_corpus_for_small_libraries() -> None:
    corpus_mean, corpus_std = np.zeros(3), np.ones(3)
    lib = np.array([[10.0, 10.0, 10.0], [12.0, 12.0, 12.0]])
    mean, std = shrunk_standardiser(lib[:0], corpus_mean, corpus_std, 10.0)
    assert np.array_equal(mean, corpus_mean) and np.array_equal(std, corpus_std)
    small, _ = shrunk_standardiser(lib, corpus_mean, corpus_std, 10.0)
    big_lib = np.repeat(lib, 500, axis=0)
    big, big_std = shrunk_standardiser(big_lib, corpus_mean, corpus_std, 10.0)
    assert np.all(small < 3.0)  # 2 tracks against 10 pseudo-tracks: mostly the corpus
    np.testing.assert_allclose(big, 11.0 * 1000 / 1010, rtol=1e-9)  # 1000 tracks against 10: mostly their own
    assert np.all(big_std > 1.0)


def test_a_library_read_in_chunks_reads_as_one() -> None:
    """The moments gathered chunk by chunk (how `index` re-reads a large library) give the standardiser and
    the readings of the whole library at once."""
    from storyscore.spaces.music_reader import InputMoments

    reader = MusicReader.load()
    rng = np.random.default_rng(3)
    x = rng.normal(2.0, 3.0, (1001, len(reader.names))) + rng.normal(0, 50, len(reader.names))
    moments = InputMoments()
    for start in range(0, len(x), 97):
        moments.add(x[start:start + 97])
    mean, std = reader.standardiser(moments)
    want_mean, want_std = shrunk_standardiser(x, reader.corpus_mean, reader.corpus_std, reader.shrink_tracks)
    np.testing.assert_allclose(mean, want_mean, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(std, want_std, rtol=1e-10)
    whole = reader.read_inputs(x)
    parts = np.concatenate([reader.read_inputs(x[s:s + 97], standardiser=(mean, std)).va
                            for s in range(0, len(x), 97)])
    np.testing.assert_allclose(parts, whole.va, rtol=1e-5, atol=1e-5)
    assert np.array_equal(reader.standardiser(InputMoments())[0], reader.corpus_mean)


def test_reading_is_relative_to_the_library() -> None:
    reader = MusicReader.load()
    x = _check_inputs(reader, 20, 7)
    alone = reader.read_inputs(x[:1], x[:1]).va[0]
    among = reader.read_inputs(x[:1], x).va[0]
    assert not np.allclose(alone, among)
    reading = reader.read_inputs(x)
    # contributions add up to the reading
    np.testing.assert_allclose(reading.contributions.sum(axis=-1) + reader.bias * reader.output_scale,
                               reading.va, rtol=1e-4, atol=1e-4)
    cues = reading.top_cues(0)
    assert len(cues) == 3 and all(c.endswith(("valence)", "arousal)")) for c in cues)
    assert all(" high (" in c or " low (" in c or "embedding" in c for c in cues)
    assert reading.all_top_cues()[0] == cues
    # checked by hand on every track: for each axis, the input that pushed the reading most toward the side
    # it reads on is named (with its level on the library), whatever the other axis's cues weigh
    for i, named in enumerate(reading.all_top_cues()):
        for axis in range(2):
            toward = reading.contributions[i, axis] * (1.0 if reading.va[i, axis] >= 0 else -1.0)
            j = int(np.argmax(toward))
            level = " high (" if reading.z[i, j] >= 0 else " low ("
            assert any(c.startswith(cue_label(reading.names[j]) + level) for c in named), (i, axis, named)


def _planted(seed: int = 0, games: int = 4, per_game: int = 30) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs in the reader's layout where one descriptor carries arousal and every game has an offset."""
    rng = np.random.default_rng(seed)
    names = input_names()
    x = rng.standard_normal((games * per_game, len(names)))
    g = np.repeat([f"g{k}" for k in range(games)], per_game)
    signs = rng.choice([-1, 1], size=(len(x), 2))
    j = names.index("descriptor:loudness")
    x[:, j] = 1.5 * signs[:, 1] + rng.standard_normal(len(x)) + np.repeat(rng.normal(0, 5, games), per_game)
    return x, g, signs


def test_leave_one_game_out_finds_a_planted_cue_despite_game_offsets() -> None:
    x, g, signs = _planted()
    names = input_names()
    auc = logo_auc(x, signs[:, 1], g, Recipe("descriptors", 1.0), names, sorted(set(g)))
    assert auc > 0.8
    recipe, results = choose_recipe(x, signs[:, 1], g, names, sorted(set(g)))
    assert recipe.method == "cues" and recipe.group != "tags"  # the planted cue is a descriptor
    full, full_results = choose_recipe(x, signs[:, 1], g, names, sorted(set(g)), grid="full")
    assert full_results[full] >= full_results[Recipe("embedding", 0.01, "pairwise")]
    tensors, used = fit_reader(x, signs, g, [Recipe("tags", 0.1, "pointwise"), recipe])
    cues_only = fit_reader(x, signs, g, [recipe, recipe])[0]
    assert np.count_nonzero(cues_only["weights"][1]) == int(recipe.c)
    assert tensors["weights"].shape == (2, len(used))
    reader = MusicReader(tensors, {"inputs": used, "shrink_tracks": 10.0, "version": weights_version(tensors)})
    va = reader.read_inputs(reader.select(x[g == "g0"])).va
    assert roc_auc(va[:, 1], signs[g == "g0", 1] > 0) > 0.8


def test_prior_recipe_reads_every_prior_cue_with_its_sign_whatever_the_labels() -> None:
    names = input_names()
    for axis in AXES:
        assert set(PRIOR_CUES[axis]) <= set(names), "a prior cue no longer exists among the reader's inputs"
        recipe = Recipe("descriptors+tags", 0.0, "prior", axis)
        assert [names[j] for j in recipe.columns(names)] == [n for n in names if n in PRIOR_CUES[axis]]
    x, g, signs = _planted()
    prior = Recipe("descriptors+tags", 0.0, "prior", "arousal")
    fitted = [fit_reader(x, s, g, [prior, prior]) for s in (signs, -signs)]
    (tensors, used), (flipped, _) = fitted
    k = len(PRIOR_CUES["arousal"])
    want = np.array([PRIOR_CUES["arousal"].get(n, 0) / k for n in used])
    np.testing.assert_allclose(tensors["weights"][1], want, atol=1e-12)
    np.testing.assert_allclose(flipped["weights"], tensors["weights"], atol=1e-12)  # nothing learned from labels
    assert choose_recipe(x, signs[:, 1], g, names, sorted(set(g)), "prior", "arousal")[0] == prior


def test_shipped_reader_follows_the_shipped_grids() -> None:
    card = json.loads((READER_DIR / CARD_FILE).read_text(encoding="utf-8"))
    reader = MusicReader.load()
    for axis, name in enumerate(AXES):
        if name not in card["selection"]["grids"]:
            continue  # valence is chosen on VGMIDI by benchmarks/vgmidi_valence.py, not from SHIPPED_GRIDS
        assert card["selection"]["grids"][name] == SHIPPED_GRIDS[name]
        if SHIPPED_GRIDS[name] != "prior":
            continue
        assert card["recipe"][name]["method"] == "prior"
        k = len(PRIOR_CUES[name])
        got = {n: w for n, w in zip(reader.names, reader.weights[axis].tolist(), strict=True) if w}
        assert got == pytest.approx({n: sign / k for n, sign in PRIOR_CUES[name].items()}, abs=1e-6)


def test_roc_auc_counts_ties_half() -> None:
    assert roc_auc(np.array([1.0, 1.0]), np.array([True, False])) == 0.5
    assert roc_auc(np.array([2.0, 1.0]), np.array([True, False])) == 1.0
    assert np.isnan(roc_auc(np.array([2.0]), np.array([True])))
