"""The three spaces that need no labelled training data: valence–arousal, mood words, and their fusion
(the default). See spaces/zeroshot.py for how emotion is read from each modality."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from storyscore.audio.encoder import ANALYSIS_VERSION, TrackAnalysis
from storyscore.spaces.base import row_zscore, unit_rows
from storyscore.spaces.music_reader import MusicReader
from storyscore.spaces.zeroshot import Reading, narrative_mood_centre, read_music, read_text

MIN_LIBRARY_FOR_NORMALISING = 5


def library_relative(music_va: np.ndarray) -> np.ndarray:
    """Re-centre and re-scale music (V, A) on the library, so 'the saddest tracks you own' match a sad
    passage even when the whole library leans bright."""
    if len(music_va) < MIN_LIBRARY_FOR_NORMALISING:
        return music_va
    std = music_va.std(axis=0)
    return (music_va - music_va.mean(axis=0)) / np.where(std > 1e-6, std, 1.0)


class _ReaderSpace:
    """A space whose music side is the music reader (the shipped one unless another is given)."""

    name = ""
    space_version = ""

    def __init__(self, reader: MusicReader | None = None) -> None:
        self.reader = reader or MusicReader.load()
        # stored vectors must not outlive the reader that made them
        self.version = f"{self.space_version}/{ANALYSIS_VERSION}/{self.reader.version}"

    def embed_audio(self, analyses: Sequence[TrackAnalysis]) -> np.ndarray:
        return self.music_vectors(read_music(analyses, reader=self.reader, cues=False))

    def music_vectors(self, reading: Reading) -> np.ndarray:
        """This space's music vectors from a reading (one reading serves every space when indexing)."""
        raise NotImplementedError


def va_distance(text: np.ndarray, music: np.ndarray) -> np.ndarray:
    """(texts, tracks) minus the distance in the (V, A) plane, the tracks read relative to their library."""
    rel = library_relative(music[:, :2])
    return -np.linalg.norm(text[:, None, :2] - rel[None, :, :], axis=-1)


class VASpace(_ReaderSpace):
    """Valence–arousal regression without training: rank by distance in the (V, A) plane."""

    name = "va"
    space_version = "va-2"
    dim = 2

    def embed_text(self, passages: list[str]) -> np.ndarray:
        return read_text(passages)[1].va

    def music_vectors(self, reading: Reading) -> np.ndarray:
        return reading.va

    def similarity(self, text: np.ndarray, music: np.ndarray) -> np.ndarray:
        return va_distance(text, music)


class MoodWordsSpace(_ReaderSpace):
    """Text and music placed among mood words (a profile over vocab.MOOD_WORDS), compared by cosine: the
    passage's profile measured from the narrative centre, the track's from the library's mean."""

    name = "tagwords"
    space_version = "tagwords-2"

    def __init__(self, reader: MusicReader | None = None, mood_centre: np.ndarray | None = None) -> None:
        super().__init__(reader)
        # the shipped centre unless another is given (evaluation leaves out the game it scores)
        self.mood_centre = narrative_mood_centre() if mood_centre is None else np.asarray(mood_centre, np.float32)

    def embed_text(self, passages: list[str]) -> np.ndarray:
        return read_text(passages)[1].moods - self.mood_centre

    def music_vectors(self, reading: Reading) -> np.ndarray:
        return reading.moods

    def similarity(self, text: np.ndarray, music: np.ndarray) -> np.ndarray:
        t = unit_rows(text - text.mean(axis=1, keepdims=True))
        centred = music - music.mean(axis=0) if len(music) >= MIN_LIBRARY_FOR_NORMALISING else music
        m = unit_rows(centred - centred.mean(axis=1, keepdims=True))
        return t @ m.T


class FusedSpace(_ReaderSpace):
    """The default: valence–arousal distance and mood-word cosine, each standardised over the library,
    averaged. Vectors are [V, A, mood profile]."""

    name = "fused"
    space_version = "fused-2"
    va_weight = 0.5

    def __init__(self, reader: MusicReader | None = None, mood_centre: np.ndarray | None = None) -> None:
        super().__init__(reader)
        self._va = VASpace(self.reader)
        self._moods = MoodWordsSpace(self.reader, mood_centre)

    def embed_text(self, passages: list[str]) -> np.ndarray:
        # read_text caches the reading, so the mood part's own embedding reads nothing twice
        return np.concatenate([read_text(passages)[1].va, self._moods.embed_text(passages)], axis=1)

    def music_vectors(self, reading: Reading) -> np.ndarray:
        return np.concatenate([reading.va, reading.moods], axis=1)

    def similarity(self, text: np.ndarray, music: np.ndarray) -> np.ndarray:
        va = self._va.similarity(text[:, :2], music[:, :2])
        moods = self._moods.similarity(text[:, 2:], music[:, 2:])
        if music.shape[0] < 2:
            return self.va_weight * va + (1 - self.va_weight) * moods
        return self.va_weight * row_zscore(va) + (1 - self.va_weight) * row_zscore(moods)
