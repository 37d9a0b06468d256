"""The text side of the zero-shot spaces, on the real MiniLM model."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

from storyscore.errors import ModelError
from storyscore.spaces.zeroshot import read_text
from storyscore.text import va
from storyscore.text.encoder import embed_passages
from storyscore.text.split import chunks, sentences
from storyscore.text.va_head import FORMAT, HEAD_DIR, load_head, validate


def test_neutral_point_constant_matches_the_reference_narration() -> None:
    reading = va.passage_va(list(va.REFERENCE_NARRATION))
    assert reading.mean(axis=0) == pytest.approx(va.NEUTRAL_VA, abs=2e-3)


def test_shipped_anchor_cache_matches_the_model() -> None:
    """The anchors' embeddings ship precomputed (a cold start skips 60 sentences); they must be what the model
    gives now, and a cache made from other anchor texts must be ignored."""
    cached = va._cached_anchors()
    assert cached is not None, f"{va.ANCHORS_FILE} missing or stale: run benchmarks/fit_text_va.py"
    live = va.compute_anchors()
    np.testing.assert_allclose(cached[0], live[0], atol=1e-5)
    np.testing.assert_allclose(cached[1], live[1], atol=1e-5)


def test_stale_anchor_cache_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(va, "ANCHOR_PROMPT", "A {} scene.")
    assert va._cached_anchors() is None


def test_shipped_head_loads_to_the_outputs_its_card_recorded() -> None:
    """The card's check texts were read by the head right after fitting (benchmarks/fit_text_va.py): the
    shipped weights must give the same (V, A) through the product's path."""
    head = load_head()
    check = head.card["check"]
    got = va.passage_va(list(check["texts"]))
    np.testing.assert_allclose(got, np.asarray(check["va"], dtype=np.float32), atol=1e-4)


def test_head_card_says_what_it_was_fitted_on() -> None:
    card = load_head().card
    assert card["format"] == FORMAT and card["encoder"] == "all-MiniLM-L6-v2"
    assert "test_split" in card["data"] and "never read" in card["data"]["test_split"]
    assert card["dev"]["all"]["n"] == 1000 and set(card["dev"]["all"]) >= {"valence", "arousal"}
    assert card["command"].endswith("benchmarks/fit_text_va.py")
    weights = resources.files("storyscore").joinpath("data", HEAD_DIR, "head.safetensors")
    assert weights.stat().st_size < 20 * 1024 * 1024  # the bound on any one weights file


def test_a_head_whose_arrays_disagree_with_its_card_is_refused(tmp_path) -> None:
    head = load_head()
    bad = dict(head.tensors)
    bad["dual"] = bad["dual"][:, :1]
    with pytest.raises(ModelError, match="dual"):
        validate(bad, head.card)
    with pytest.raises(ModelError, match="format"):
        validate(head.tensors, {**head.card, "format": 99})
    (tmp_path / "card.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match=str(tmp_path)):
        load_head(tmp_path)


def test_action_reads_aroused_and_rest_reads_calm() -> None:
    """The failures users saw: a battle and a storm once read calm (arousal below plain narration)."""
    battle = "The battle raged; swords clashed and men fell on every side."
    storm = ("A storm was coming. The wind rose, the shutters banged, and rain began to lash the windows; "
             "out at sea the waves broke over the harbour wall.")
    rest = "The lake lay still under a soft evening light, and the old man dozed in his chair, content."
    (_, a_battle), (_, a_storm), (_, a_rest) = va.passage_va([battle, storm, rest])
    # on either side of plain narration, the zero of the shared frame. (A grief line is not asked for: the
    # head follows EmoBank's raters, who give sad sentences middling arousal; it reads "too tired even to
    # weep" at +0.10.)
    assert min(a_battle, a_storm) > va.NEUTRAL_VA[1] > a_rest
    assert a_battle > a_storm > a_rest


def test_reading_is_clipped_to_the_lexicon_scale() -> None:
    texts = ["They cheered and cheered.", "Nothing at all."]
    reading = va.passage_va(texts, embed_passages(texts))
    assert reading.shape == (2, 2) and reading.dtype == np.float32
    assert np.all(np.abs(reading) <= 1.0)
    assert va.passage_va([]).shape == (0, 2)


def test_passages_read_in_the_right_quadrants() -> None:
    texts = [
        "They laughed and danced in the square until dawn, shouting with joy at the victory.",
        "He screamed as the beast lunged from the dark, claws tearing at the door.",
        "She sat alone by the grave in the grey rain and wept for the son she had lost.",
        "The lake lay still under a soft evening light, and the old man dozed in his chair, content.",
    ]
    _, reading = read_text(texts)
    (v_joy, a_joy), (v_fear, a_fear), (v_grief, a_grief), (v_calm, a_calm) = reading.va
    assert v_joy > 0 and v_calm > 0 and v_fear < 0 and v_grief < 0
    assert a_fear > a_grief and a_fear > a_calm and a_joy > a_calm
    assert "sad" in reading.top_moods(2, 6) or "melancholy" in reading.top_moods(2, 6)


def test_long_passages_are_read_whole() -> None:
    calm = "The garden was quiet and warm, and she rested in the shade. " * 30
    storm = "Then the wolves attacked, howling, and the villagers fled screaming in terror. " * 30
    emb = embed_passages([calm + storm, storm])
    assert len(chunks(calm + storm)) > 2  # far beyond the model's window
    # the mixed passage differs from the storm alone: its first half was read too
    assert float(emb[0] @ emb[1]) < 0.99


def test_sentence_split_keeps_offsets_and_abbreviations() -> None:
    text = 'Mr. Fox came home. "Who is there?" she cried! Nobody answered.'
    spans = sentences(text)
    assert [s.text for s in spans] == ["Mr. Fox came home.", '"Who is there?" she cried!', "Nobody answered."]
    assert all(text[s.start:s.end] == s.text for s in spans)
