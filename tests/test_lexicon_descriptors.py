"""Lexicons read from installed packages and label mappings (the DSP descriptors: test_essentia_descriptors.py)."""

from __future__ import annotations

import pytest

from storyscore.lexicon.norms import glove, warriner
from storyscore.lexicon.vocab import (
    ALM_LABELS,
    AUDIOSET_MOODS,
    ISEAR_LABELS,
    MAPPINGS,
    label_va,
    relevant_moods,
)


def test_every_label_has_coordinates_a_word_vector_and_a_mapping() -> None:
    vectors = glove()
    for label in (*ALM_LABELS, *ISEAR_LABELS, *AUDIOSET_MOODS):
        v, a = label_va(label)
        assert -1 <= v <= 1 and -1 <= a <= 1
        assert vectors.vector(label) is not None
    for mapping in MAPPINGS:
        for label in (*ALM_LABELS, *ISEAR_LABELS):
            assert relevant_moods(label, mapping) <= set(AUDIOSET_MOODS)
            assert relevant_moods(label, mapping), (mapping, label)
    assert relevant_moods("fearful", "va") == {"sad"} and relevant_moods("fearful", "w2v") == {"scary"}
    assert relevant_moods("disgust", "manual") == {"angry", "scary"}


def test_lexicon_values_are_the_published_ones() -> None:
    lex = warriner()
    assert len(lex.words) == 13915
    v, a = lex.lookup("happy")  # Warriner: 8.47 / 6.05 on 1-9
    assert v == pytest.approx((8.47 - 5) / 4, abs=1e-3) and a == pytest.approx((6.05 - 5) / 4, abs=1e-3)
    assert label_va("scary", "nrc") == pytest.approx((2 * 0.062 - 1, 2 * 0.952 - 1))
    g = glove()
    assert float(g.vector("happy") @ g.vector("joy")) > float(g.vector("happy") @ g.vector("fear"))

