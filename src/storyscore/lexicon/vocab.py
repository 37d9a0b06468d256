"""Emotion vocabularies of the paper's datasets, their valence–arousal coordinates and label mappings.

Coordinates are facts from published lexicons (NRC-VAD on 0–1, Warriner et al. 2013 on 1–9); we keep both
and expose them on one centred scale, [-1, 1], where 0 is neutral.
"""

from __future__ import annotations

AUDIOSET_MOODS: tuple[str, ...] = ("angry", "exciting", "funny", "happy", "sad", "scary", "tender")
ALM_LABELS: tuple[str, ...] = ("angry", "fearful", "happy", "sad", "surprised")
ISEAR_LABELS: tuple[str, ...] = ("anger", "disgust", "fear", "guilt", "joy", "sadness", "shame")
TEXT_LABELS: tuple[str, ...] = tuple(sorted(set(ALM_LABELS) | set(ISEAR_LABELS)))

# NRC-VAD (Mohammad 2018), valence and arousal on 0–1.
NRC_VAD: dict[str, tuple[float, float]] = {
    "happy": (1.000, 0.735),
    "exciting": (0.950, 0.792),
    "funny": (0.918, 0.610),
    "tender": (0.630, 0.520),
    "sad": (0.225, 0.333),
    "angry": (0.122, 0.830),
    "scary": (0.062, 0.952),
    "anger": (0.167, 0.865),
    "fear": (0.073, 0.840),
    "fearful": (0.083, 0.482),
    "disgust": (0.052, 0.775),
    "surprised": (0.784, 0.855),
}

# Warriner, Kuperman & Brysbaert (2013), valence and arousal means on 1–9.
WARRINER: dict[str, tuple[float, float]] = {
    "joy": (8.21, 5.55),
    "fear": (2.93, 6.14),
    "anger": (2.50, 5.93),
    "sadness": (2.40, 2.81),
    "disgust": (3.32, 5.00),
    "shame": (2.62, 5.40),
    "guilt": (2.29, 4.48),
    "angry": (2.53, 6.20),
    "fearful": (2.66, 5.45),
    "happy": (8.47, 6.05),
    "sad": (2.10, 3.49),
    "surprised": (6.57, 5.95),
    "funny": (7.59, 5.38),
    "tender": (6.47, 3.22),
    "exciting": (7.95, 6.95),
    "scary": (3.00, 5.35),
}


def nrc_to_centred(value: float) -> float:
    """NRC-VAD 0–1 → [-1, 1]."""
    return 2.0 * value - 1.0


def warriner_to_centred(value: float) -> float:
    """Warriner 1–9 → [-1, 1]."""
    return (value - 5.0) / 4.0


def label_va(label: str, source: str = "warriner") -> tuple[float, float]:
    """A label's (valence, arousal) on [-1, 1] from the chosen lexicon ("warriner" or "nrc")."""
    if source == "warriner":
        v, a = WARRINER[label]
        return warriner_to_centred(v), warriner_to_centred(a)
    if source == "nrc":
        v, a = NRC_VAD[label]
        return nrc_to_centred(v), nrc_to_centred(a)
    raise ValueError(f"unknown VA source {source!r} (use 'warriner' or 'nrc')")


# Text label → AudioSet mood(s) counted as relevant, as defined in the paper.
VA_MAPPING: dict[str, frozenset[str]] = {
    k: frozenset({v})
    for k, v in {
        "anger": "angry",
        "angry": "angry",
        "disgust": "angry",
        "fear": "angry",
        "fearful": "sad",
        "guilt": "sad",
        "happy": "happy",
        "joy": "exciting",
        "sad": "sad",
        "sadness": "sad",
        "shame": "angry",
        "surprised": "exciting",
    }.items()
}
W2V_MAPPING: dict[str, frozenset[str]] = {
    k: frozenset({v})
    for k, v in {
        "anger": "angry",
        "angry": "angry",
        "disgust": "angry",
        "fear": "angry",
        "fearful": "scary",
        "guilt": "angry",
        "happy": "happy",
        "joy": "tender",
        "sad": "sad",
        "sadness": "tender",
        "shame": "sad",
        "surprised": "happy",
    }.items()
}
MANUAL_MAPPING: dict[str, frozenset[str]] = {
    "anger": frozenset({"angry"}),
    "angry": frozenset({"angry"}),
    "disgust": frozenset({"angry", "scary"}),
    "fear": frozenset({"scary"}),
    "fearful": frozenset({"scary"}),
    "guilt": frozenset({"sad", "angry"}),
    "happy": frozenset({"happy", "exciting", "funny"}),
    "joy": frozenset({"happy", "exciting", "funny"}),
    "sad": frozenset({"sad"}),
    "sadness": frozenset({"sad"}),
    "shame": frozenset({"angry", "sad"}),
    "surprised": frozenset({"exciting"}),
}
MAPPINGS: dict[str, dict[str, frozenset[str]]] = {
    "va": VA_MAPPING,
    "w2v": W2V_MAPPING,
    "manual": MANUAL_MAPPING,
}


def relevant_moods(text_label: str, mapping: str = "manual") -> frozenset[str]:
    """The AudioSet moods that count as relevant for a text label under a named mapping."""
    try:
        table = MAPPINGS[mapping]
    except KeyError as exc:
        raise ValueError(f"unknown mapping {mapping!r} (use one of {sorted(MAPPINGS)})") from exc
    return table.get(text_label, frozenset())


# Mood words used to explain a match and to place text and music among words (the "tag words" space).
# Chosen to cover the valence–arousal plane; includes every AudioSet mood. Coordinates come from the
# Warriner lexicon at run time (spaces.zeroshot.mood_word_va), not from this list.
MOOD_WORDS: tuple[str, ...] = (
    "happy", "cheerful", "exciting", "triumphant", "heroic", "playful", "funny",
    "tender", "romantic", "peaceful", "calm", "relaxed", "mysterious", "dramatic",
    "melancholy", "sad", "lonely", "gloomy", "tense", "anxious", "eerie", "scary", "angry", "aggressive",
)
