"""Lexicons read from installed packages, label mappings, and the DSP descriptors on signals with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from storyscore.audio.descriptors import describe, global_tempo, key_and_mode
from storyscore.lexicon import glove, warriner
from storyscore.vocab import ALM_LABELS, AUDIOSET_MOODS, ISEAR_LABELS, MAPPINGS, label_va, relevant_moods


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


def _clicks(bpm: float, seconds: float, sr: int = 16000) -> np.ndarray:
    audio = np.zeros(int(seconds * sr), dtype=np.float32)
    burst = np.hanning(160).astype(np.float32) * np.random.default_rng(0).normal(0, 0.5, 160).astype(np.float32)
    for start in np.arange(0, seconds, 60.0 / bpm):
        i = int(start * sr)
        audio[i:i + 160] += burst[: len(audio) - i]
    return audio


@pytest.mark.parametrize("bpm", [90.0, 120.0, 150.0])
def test_tempo_of_a_click_track(bpm: float) -> None:
    d = describe(_clicks(bpm, 30.0))
    assert d.tempo_bpm == pytest.approx(bpm, rel=0.04)
    assert d.onset_rate == pytest.approx(bpm / 60.0, rel=0.15)


def test_global_tempo_needs_a_signal() -> None:
    assert global_tempo(np.zeros(1000), 62.5) == 0.0


def _scale_chords(tonic_hz: float, minor: bool, seconds: float = 12.0, sr: int = 16000) -> np.ndarray:
    """A cadence (I-IV-V-I) with bass, so the key is unambiguous."""
    third = 3 if minor else 4
    degrees = [(0, third, 7), (5, 5 + (3 if minor else 4), 12), (7, 11, 14), (0, third, 7)]
    t = np.arange(int(seconds / 4 * sr)) / sr
    out = []
    for chord in degrees:
        tone = sum(np.sin(2 * np.pi * tonic_hz * 2 ** (s / 12) * t) for s in chord)
        tone += 0.8 * np.sin(2 * np.pi * tonic_hz / 2 * 2 ** (chord[0] / 12) * t)
        out.append(tone * np.exp(-t))
    return (0.2 * np.concatenate(out)).astype(np.float32)


def test_key_and_mode_of_cadences() -> None:
    major = describe(_scale_chords(261.63, minor=False))
    minor = describe(_scale_chords(220.0, minor=True))
    assert major.key == "C major" and major.mode_strength > 0
    assert minor.key == "A minor" and minor.mode_strength < 0
    assert key_and_mode(np.zeros(12)) == ("unknown", 0.0)


def test_loudness_and_brightness_follow_the_signal() -> None:
    sr = 16000
    t = np.arange(sr * 5) / sr
    quiet_dark = (0.05 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    loud_bright = (0.5 * np.sin(2 * np.pi * 3000 * t)).astype(np.float32)
    a, b = describe(quiet_dark), describe(loud_bright)
    assert b.loudness_db - a.loudness_db == pytest.approx(20.0, abs=1.0)
    assert a.brightness_hz < 400 < 2500 < b.brightness_hz
