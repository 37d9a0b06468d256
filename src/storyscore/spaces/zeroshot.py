"""Reading emotion from text and music with no labelled training data: the cues behind the default spaces.

Everything here lives in one frame: (valence, arousal) measured from neutral (plain narration for text, no
affective cue for music), in units of the Warriner lexicon's standard deviation so both axes have the same
spread. Mood words sit in the same frame, measured from the same neutral point.

Music. Two kinds of evidence, each documented so a user can see why a track reads as it does:
- the musicnn taggers' probabilities of tags that carry affect (MUSIC_TAG_CUES: "slow" lowers arousal,
  "happy" raises valence, "heavy metal" raises arousal and lowers valence, ...);
- DSP cues from music-psychology summaries (Gabrielsson & Lindström 2010; Juslin & Laukka 2004): fast tempo,
  dense onsets, loudness and a bright timbre raise arousal; major mode raises valence, minor lowers it.
Text. The passage's similarity to descriptions of emotion words, whose lexicon (V, A) it averages (text/va.py);
mood words by that similarity and by nearness in (V, A).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

from storyscore.audio.encoder import TrackAnalysis
from storyscore.lexicon import lexicon_std, words_va
from storyscore.vocab import MOOD_WORDS

# tag → (valence push, arousal push), on a -1..1 scale of how strongly the tag implies each.
MUSIC_TAG_CUES: dict[str, tuple[float, float]] = {
    "MTT_musicnn:slow": (0.0, -1.0),
    "MTT_musicnn:fast": (0.0, 1.0),
    "MTT_musicnn:loud": (-0.2, 1.0),
    "MTT_musicnn:quiet": (0.1, -1.0),
    "MTT_musicnn:soft": (0.3, -1.0),
    "MTT_musicnn:ambient": (0.1, -0.8),
    "MTT_musicnn:new age": (0.4, -0.8),
    "MTT_musicnn:techno": (0.0, 0.8),
    "MTT_musicnn:dance": (0.5, 0.8),
    "MTT_musicnn:beats": (0.0, 0.5),
    "MTT_musicnn:drums": (0.0, 0.5),
    "MTT_musicnn:metal": (-0.7, 1.0),
    "MTT_musicnn:rock": (-0.2, 0.6),
    "MTT_musicnn:weird": (-0.5, 0.2),
    "MTT_musicnn:harp": (0.5, -0.5),
    "MTT_musicnn:cello": (-0.4, -0.4),
    "MTT_musicnn:classical": (0.1, -0.4),
    "MTT_musicnn:pop": (0.5, 0.3),
    "MSD_musicnn:happy": (1.0, 0.4),
    "MSD_musicnn:sad": (-1.0, -0.5),
    "MSD_musicnn:beautiful": (0.7, -0.4),
    "MSD_musicnn:Mellow": (0.3, -0.9),
    "MSD_musicnn:chill": (0.3, -0.8),
    "MSD_musicnn:chillout": (0.3, -0.8),
    "MSD_musicnn:easy listening": (0.4, -0.6),
    "MSD_musicnn:ambient": (0.0, -0.8),
    "MSD_musicnn:party": (0.8, 0.9),
    "MSD_musicnn:catchy": (0.6, 0.3),
    "MSD_musicnn:dance": (0.5, 0.8),
    "MSD_musicnn:funk": (0.6, 0.6),
    "MSD_musicnn:House": (0.3, 0.8),
    "MSD_musicnn:electro": (0.2, 0.8),
    "MSD_musicnn:heavy metal": (-0.8, 1.0),
    "MSD_musicnn:metal": (-0.8, 1.0),
    "MSD_musicnn:hard rock": (-0.4, 0.9),
    "MSD_musicnn:punk": (-0.4, 1.0),
    "MSD_musicnn:blues": (-0.4, -0.2),
    "MSD_musicnn:acoustic": (0.2, -0.4),
    "MSD_musicnn:experimental": (-0.3, 0.0),
}

@dataclass(frozen=True)
class Reading:
    """Emotion read from n items: z-scored (V, A) and a score per mood word (higher = fits better)."""

    va: np.ndarray  # (n, 2)
    moods: np.ndarray  # (n, len(MOOD_WORDS))

    def top_moods(self, i: int, k: int = 3) -> list[str]:
        return [MOOD_WORDS[j] for j in np.argsort(-self.moods[i])[:k]]


def _clip(x: float, bound: float = 1.5) -> float:
    return float(np.clip(x, -bound, bound))


def descriptor_cues(analysis: TrackAnalysis) -> dict[str, tuple[float, float]]:
    """Each DSP cue's (valence, arousal) push, for the reading and for explanations."""
    d = analysis.descriptors
    bright = _clip(float(np.log2(max(d.brightness_hz, 1.0) / 1200.0)))
    return {
        "tempo": (0.0, _clip((d.tempo_bpm - 105.0) / 35.0) if d.tempo_bpm > 0 else 0.0),
        "onsets": (0.0, _clip((d.onset_rate - 2.5) / 1.5)),
        "loudness": (0.0, _clip((d.loudness_db + 20.0) / 6.0)),
        "brightness": (0.3 * bright, bright),  # a bright timbre lifts arousal, and valence a little
        "mode": (_clip(d.mode_strength / 0.12), 0.0),
    }


def tag_cues(analysis: TrackAnalysis) -> dict[str, tuple[float, float]]:
    probs = analysis.tag_probabilities()
    return {tag: (probs[tag] * dv, probs[tag] * da) for tag, (dv, da) in MUSIC_TAG_CUES.items() if tag in probs}


def _weighted_tag_push(cues: dict[str, tuple[float, float]]) -> np.ndarray:
    total = np.sum([np.abs(c) for c in cues.values()], axis=0) if cues else np.ones(2)
    push = np.sum([c for c in cues.values()], axis=0) if cues else np.zeros(2)
    return push / np.maximum(total, 1e-6)  # -1..1: which way the affect tags lean, not how many there are


def music_va(analysis: TrackAnalysis) -> np.ndarray:
    """z-scored (V, A) of one track."""
    dsp = descriptor_cues(analysis)
    tags = _weighted_tag_push(tag_cues(analysis))
    arousal = (0.3 * tags[1] + 0.22 * dsp["tempo"][1] + 0.18 * dsp["onsets"][1] + 0.18 * dsp["loudness"][1]
               + 0.12 * dsp["brightness"][1])
    valence = 0.45 * tags[0] + 0.45 * dsp["mode"][0] + 0.1 * dsp["brightness"][0]
    return np.array([2.0 * valence, 2.0 * arousal], dtype=np.float32)  # × 2: about the mood words' spread


def neutral_va() -> np.ndarray:
    """Centred Warriner (V, A) that plain narration reads as: the zero of the shared frame."""
    from storyscore.text.va import NEUTRAL_VA

    return np.asarray(NEUTRAL_VA, dtype=np.float32)


def to_frame(centred_va: np.ndarray) -> np.ndarray:
    """Centred Warriner (V, A) → the shared frame (from neutral, in lexicon standard deviations)."""
    return ((np.asarray(centred_va, dtype=np.float32) - neutral_va()) / lexicon_std()).astype(np.float32)


@cache
def mood_word_va() -> np.ndarray:
    """(len(MOOD_WORDS), 2) (V, A) of the mood words in the shared frame."""
    return to_frame(words_va(MOOD_WORDS))


def _va_affinity(va: np.ndarray) -> np.ndarray:
    """(n, n_moods) closeness of each item to each mood word in the (V, A) plane."""
    d2 = ((va[:, None, :] - mood_word_va()[None, :, :]) ** 2).sum(axis=-1)
    return np.exp(-d2 / 2.0)


def read_music(analyses: list[TrackAnalysis]) -> Reading:
    va = np.stack([music_va(a) for a in analyses]) if analyses else np.zeros((0, 2), np.float32)
    moods = _va_affinity(va)
    # Direct tag evidence for a few mood words the taggers name outright.
    direct = {"happy": "MSD_musicnn:happy", "sad": "MSD_musicnn:sad", "relaxed": "MSD_musicnn:chill",
              "calm": "MSD_musicnn:Mellow", "exciting": "MSD_musicnn:party", "aggressive": "MSD_musicnn:heavy metal"}
    for i, analysis in enumerate(analyses):
        probs = analysis.tag_probabilities()
        for word, tag in direct.items():
            moods[i, MOOD_WORDS.index(word)] += 0.5 * probs.get(tag, 0.0)
    return Reading(va.astype(np.float32), moods.astype(np.float32))


@lru_cache(maxsize=16)
def _read_text_cached(passages: tuple[str, ...]) -> tuple[np.ndarray, Reading]:
    from storyscore.text.encoder import embed_passages
    from storyscore.text.va import ANCHOR_WORDS, anchor_weights, passage_va

    emb = embed_passages(list(passages))
    weights = anchor_weights(emb)
    va = to_frame(passage_va(list(passages), emb))
    # Mood words: how much of the passage's anchor weight each one holds, softened by nearness in (V, A)
    # so that a passage that reads 'furious' also counts as somewhat 'angry' and 'aggressive'.
    semantic = weights[:, [ANCHOR_WORDS.index(w) for w in MOOD_WORDS]]
    moods = 0.5 * _va_affinity(va) + 0.5 * semantic / (semantic.max(axis=1, keepdims=True) + 1e-9)
    return emb, Reading(va, moods.astype(np.float32))


def read_text(passages: list[str]) -> tuple[np.ndarray, Reading]:
    """MiniLM embeddings (n, 384) and the emotion reading of each passage."""
    return _read_text_cached(tuple(passages))


def reported_va(va_z: np.ndarray) -> np.ndarray:
    """z-scores → the [-1, 1] scale shown to users (±2.5 standard deviations fill the scale)."""
    return np.clip(np.asarray(va_z) / 2.5, -1.0, 1.0)
