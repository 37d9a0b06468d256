"""The text side of the zero-shot spaces, on the real MiniLM model."""

from __future__ import annotations

import numpy as np
import pytest

from storyscore.spaces.zeroshot import read_text
from storyscore.text import va
from storyscore.text.encoder import embed_passages
from storyscore.text.split import chunks, sentences


def test_neutral_point_constant_matches_the_reference_narration() -> None:
    raw = va.anchored_va(embed_passages(list(va.REFERENCE_NARRATION)))
    calibrated = raw * np.asarray(va.CALIBRATION_SLOPE) + np.asarray(va.CALIBRATION_INTERCEPT)
    assert calibrated.mean(axis=0) == pytest.approx(va.NEUTRAL_VA, abs=2e-3)


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
