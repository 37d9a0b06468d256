"""The narrative mood centre: its shipped card, how the spaces use it, and how it is fitted."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from storyscore.errors import ModelError
from storyscore.lexicon.vocab import MOOD_WORDS
from storyscore.spaces import get_space, zeroshot
from storyscore.spaces.zeroshot import MOOD_CENTRE_FILE, narrative_mood_centre, read_text
from storyscore.training.mood_centre import mood_centre

PASSAGES = ["The swords clashed and the riders fell screaming.", "She sat by the quiet lake and smiled.",
            "He buried his brother under the rain."]


def test_shipped_card_is_complete() -> None:
    card = json.loads(resources.files("storyscore").joinpath("data", MOOD_CENTRE_FILE).read_text(encoding="utf-8"))
    for key in ("name", "format", "task", "io", "mood_words", "centre", "data", "metrics", "command", "code"):
        assert key in card, key
    assert card["mood_words"] == list(MOOD_WORDS)
    centre = narrative_mood_centre()
    assert centre.shape == (len(MOOD_WORDS),) and np.isfinite(centre).all()
    # a centre of mood scores (each in [0, 1]), not all equal: it leans somewhere
    assert (centre >= 0).all() and (centre <= 1).all() and np.ptp(centre) > 0.05
    assert sum(card["data"]["texts_per_game"].values()) > 0
    for game, figures in card["metrics"]["per_game"].items():
        assert {"fused", "tagwords", "fused, no centre", "tagwords, no centre", "random"} <= set(figures), game


def test_spaces_measure_passage_moods_from_the_centre() -> None:
    moods = read_text(PASSAGES)[1].moods
    centre = narrative_mood_centre()
    tagwords = get_space("tagwords").embed_text(PASSAGES)
    np.testing.assert_allclose(tagwords, moods - centre, atol=1e-6)
    fused = get_space("fused").embed_text(PASSAGES)
    np.testing.assert_allclose(fused[:, 2:], moods - centre, atol=1e-6)
    np.testing.assert_allclose(fused[:, :2], read_text(PASSAGES)[1].va, atol=1e-6)
    # another centre (evaluation's leave-one-game-out) replaces the shipped one
    zero = get_space("fused", mood_centre=np.zeros(len(MOOD_WORDS))).embed_text(PASSAGES)
    np.testing.assert_allclose(zero[:, 2:], moods, atol=1e-6)
    # and changes the ranking it gives: the centre is not a constant shift of the scores
    music = np.random.default_rng(0).random((12, 2 + len(MOOD_WORDS))).astype(np.float32)
    space = get_space("tagwords")
    assert not np.allclose(space.similarity(tagwords, music[:, 2:]), space.similarity(moods, music[:, 2:]))


def test_the_centre_weighs_every_source_equally() -> None:
    moods = read_text(PASSAGES)[1].moods.astype(np.float64)
    got = mood_centre({"a": PASSAGES[:1], "b": PASSAGES[1:], "empty": []})
    np.testing.assert_allclose(got, (moods[0] + moods[1:].mean(axis=0)) / 2, atol=1e-6)
    with pytest.raises(ValueError):
        mood_centre({"a": []})


def test_a_broken_centre_file_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zeroshot, "MOOD_CENTRE_FILE", "no_such_centre.json")
    zeroshot.narrative_mood_centre.cache_clear()
    try:
        with pytest.raises(ModelError, match="no_such_centre.json"):
            zeroshot.narrative_mood_centre()
    finally:
        zeroshot.narrative_mood_centre.cache_clear()


def test_paired_change_resamples_source_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """benchmarks/evaluate_corpus.paired_mrr_change: texts from one file move together, so two files give
    an interval from "neither file gained" to "both did", however many texts each holds."""
    import importlib
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    ev = importlib.import_module("evaluate_corpus")
    rel = np.zeros((200, 3), dtype=bool)
    rel[:, 0] = True
    old = np.tile([0.0, 1.0, 2.0], (200, 1))  # the relevant track last: reciprocal rank 1/3
    new = old.copy()
    new[:100, 0] = 3.0  # file a's texts now find it first (+2/3 each); file b's are unchanged
    change = ev.paired_mrr_change(new, old, rel, ["a"] * 100 + ["b"] * 100)
    assert change["change"] == pytest.approx(1 / 3) and change["texts"] == 200 and change["groups"] == 2
    assert change["ci95"] == pytest.approx((0.0, 2 / 3))
    # one file per text: the ordinary paired bootstrap, far narrower
    per_text = ev.paired_mrr_change(new, old, rel, [str(i) for i in range(200)])
    assert 0.2 < per_text["ci95"][0] < per_text["ci95"][1] < 0.45
