"""Reading emotion from text and music with no labelled training data: the cues behind the default spaces.

Everything here lives in one frame: (valence, arousal) measured from neutral (plain narration for text, no
affective cue for music), in units of the Warriner lexicon's standard deviation so both axes have the same
spread. Mood words sit in the same frame, measured from the same neutral point.

Music. The learned music reader (spaces/music_reader.py): musicnn tags and features and Essentia descriptors,
standardised over the library, weighted as leave-one-game-out cross-validation on outside-labelled game music
chose (it replaced hand-set cue weights, which read orchestral battle music as calm). Mood words by nearness
in (V, A); each track also keeps the cues that moved its reading most, for explanations.
Text. The passage's similarity to descriptions of emotion words, whose lexicon (V, A) it averages (text/va.py);
mood words by that similarity and by nearness in (V, A). Matching compares a passage's mood profile measured
from the narrative centre (`narrative_mood_centre`: what story text reads as on average), as it compares
a track's measured from the rest of the library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

from storyscore.audio.encoder import TrackAnalysis
from storyscore.errors import ModelError
from storyscore.lexicon.norms import lexicon_std, words_va
from storyscore.lexicon.vocab import MOOD_WORDS

if TYPE_CHECKING:
    from storyscore.spaces.music_reader import MusicReader


@dataclass(frozen=True)
class Reading:
    """Emotion read from n items: z-scored (V, A) and a score per mood word (higher = fits better)."""

    va: np.ndarray  # (n, 2)
    moods: np.ndarray  # (n, len(MOOD_WORDS))
    cues: list[list[str]] = field(default_factory=list)  # music: what moved each track's reading most

    def top_moods(self, i: int, k: int = 3) -> list[str]:
        return [MOOD_WORDS[j] for j in np.argsort(-self.moods[i])[:k]]


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


MOOD_CENTRE_FILE = "text_mood_centre.json"  # under storyscore/data; benchmarks/fit_mood_centre.py writes it


@cache
def narrative_mood_centre() -> np.ndarray:
    """(len(MOOD_WORDS),) mean mood profile of story text (the games' narrative texts, each game weighted
    equally). Without it every passage's profile leans the same way, toward the tracks whose profile leans
    that way too: one track would top most passages (on flare's 25 texts, one was in the top 5 of 84%)."""
    import json

    path = resources.files("storyscore").joinpath("data", MOOD_CENTRE_FILE)
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
        words, centre = card["mood_words"], np.asarray(card["centre"], dtype=np.float32)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"cannot read the narrative mood centre {MOOD_CENTRE_FILE}: {exc}") from None
    if list(words) != list(MOOD_WORDS) or centre.shape != (len(MOOD_WORDS),) or not np.isfinite(centre).all():
        raise ModelError(f"{MOOD_CENTRE_FILE} does not match this version's mood words; regenerate it with "
                         "benchmarks/fit_mood_centre.py")
    return centre


def _va_affinity(va: np.ndarray) -> np.ndarray:
    """(n, n_moods) closeness of each item to each mood word in the (V, A) plane."""
    d2 = ((va[:, None, :] - mood_word_va()[None, :, :]) ** 2).sum(axis=-1)
    return np.exp(-d2 / 2.0)


def read_music(analyses: Sequence[TrackAnalysis], library: Sequence[TrackAnalysis] | None = None,
               reader: MusicReader | None = None, *, cues: bool = True,
               standardiser: tuple[np.ndarray, np.ndarray] | None = None) -> Reading:
    """(V, A), mood-word profile and (with `cues`) the leading cues of tracks, read against `library`
    (default: the tracks themselves), or by a `standardiser` the reader made from a library's moments
    (`MusicReader.standardiser`), by the learned music reader (spaces/music_reader.py)."""
    from storyscore.spaces.music_reader import MusicReader

    reading = (reader or MusicReader.load()).read(analyses, library, standardiser=standardiser)
    return Reading(reading.va, _va_affinity(reading.va).astype(np.float32),
                   reading.all_top_cues() if cues else [])


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
