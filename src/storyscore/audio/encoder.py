"""The music encoder: decoded audio → tagger outputs, pooled over windows spread across the whole track,
plus DSP descriptors.

Two levels, as in openl3: `analyse_audio(audio, sr)` on arrays and `analyse_file(path)` on files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from storyscore.audio.decode import load_audio
from storyscore.audio.descriptors import Descriptors, describe

ENCODER_RATE = 16000
TAGGERS = ("MTT_musicnn", "MSD_musicnn")
# 3-s tagger windows spread evenly over the whole track: one per SECONDS_PER_WINDOW of audio, at least
# MIN_WINDOWS and at most MAX_WINDOWS. The taggers cost ~50 ms a window on one core, so this keeps indexing
# above 100x real time while still hearing the start, middle and end (the paper averages 16 crops).
SECONDS_PER_WINDOW = 15.0
MIN_WINDOWS = 2
MAX_WINDOWS = 10
TAGGER_VERSION = f"musicnn-mtt+msd/windows{MIN_WINDOWS}-{MAX_WINDOWS}per{SECONDS_PER_WINDOW:g}s"
# Descriptors read at most DESCRIPTOR_SECONDS of a track: longer tracks give DESCRIPTOR_EXCERPTS excerpts
# spread from start to end, joined. Essentia's descriptors cost about 1 s per minute of audio on one core,
# more than the taggers (which stop at MAX_WINDOWS 3-s windows); at 240 s they were two thirds of indexing
# time. Three 30-s excerpts still hear a track's start, middle and end (benchmarks/descriptor_excerpts.py
# compares them with the 240-s reading on the game-music corpus).
DESCRIPTOR_SECONDS = 90.0
DESCRIPTOR_EXCERPTS = 3
# essentia-2: adds mode_contrast (issue #21)
DESCRIPTOR_VERSION = f"essentia-2/max{DESCRIPTOR_SECONDS:g}s"
ANALYSIS_VERSION = f"{TAGGER_VERSION}/{DESCRIPTOR_VERSION}"


@dataclass(frozen=True)
class TrackAnalysis:
    duration: float  # seconds
    tags: dict[str, np.ndarray]  # tagger name → (50,) mean tag probability over windows
    features: np.ndarray  # (400,) mean penultimate features, MTT then MSD
    descriptors: Descriptors
    windows: int

    def tag_probabilities(self) -> dict[str, float]:
        """'tagger:tag' → probability for every tag of every tagger."""
        from storyscore.audio.musicnn import MusicnnTagger

        out: dict[str, float] = {}
        for name, probs in self.tags.items():
            for tag, p in zip(MusicnnTagger.load(name).tags, probs, strict=True):
                out[f"{name}:{tag}"] = float(p)
        return out


def window_count(seconds: float) -> int:
    return int(np.clip(round(seconds / SECONDS_PER_WINDOW), MIN_WINDOWS, MAX_WINDOWS))


def window_starts(n_frames: int, patch_frames: int, count: int) -> list[int]:
    """Start frames of up to `count` non-overlapping windows spread evenly from start to end."""
    if n_frames <= patch_frames:
        return [0]
    count = max(1, min(count, n_frames // patch_frames))
    return [int(round(x)) for x in np.linspace(0, n_frames - patch_frames, count)]


def _at_encoder_rate(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    if sample_rate == ENCODER_RATE:
        return audio
    import soxr

    return soxr.resample(audio, sample_rate, ENCODER_RATE).astype(np.float32)


def descriptor_audio(audio: np.ndarray, seconds: float = DESCRIPTOR_SECONDS,
                     excerpts: int = DESCRIPTOR_EXCERPTS) -> np.ndarray:
    """What the descriptors read of 16 kHz audio: all of it, or evenly spread excerpts of a long track."""
    limit = int(seconds * ENCODER_RATE)
    if len(audio) <= limit:
        return audio
    size = limit // excerpts
    starts = np.linspace(0, len(audio) - size, excerpts).astype(int)
    return np.concatenate([audio[s:s + size] for s in starts])


def describe_track(audio: np.ndarray) -> Descriptors:
    """Descriptors of a whole 16 kHz track (see `descriptor_audio`)."""
    return describe(descriptor_audio(audio), ENCODER_RATE)


def tagger_outputs(audio: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray, int]:
    """Both taggers over windows spread across 16 kHz mono audio: mean tag probabilities per tagger, mean
    penultimate features (MTT then MSD), and the number of windows."""
    from storyscore.audio.musicnn import MusicnnTagger

    tags: dict[str, np.ndarray] = {}
    features: list[np.ndarray] = []
    mel = MusicnnTagger.melspectrogram(audio)  # both taggers share musicnn's front end
    frames = MusicnnTagger.patch_frames
    if len(mel) < frames:  # shorter than one window: pad with silence
        mel = np.pad(mel, ((0, frames - len(mel)), (0, 0)))
    starts = window_starts(len(mel), frames, window_count(len(audio) / ENCODER_RATE))
    patches = np.stack([mel[s:s + frames] for s in starts])
    for name in TAGGERS:
        probs, feats = MusicnnTagger.load(name).forward_patches(patches)
        tags[name] = probs.mean(axis=0).astype(np.float32)
        features.append(feats.mean(axis=0).astype(np.float32))
    return tags, np.concatenate(features), len(starts)


# Starts the descriptors of an excerpt (`descriptor_audio`'s) elsewhere and returns how to wait for them.
DescribeLater = Callable[[np.ndarray], Callable[[], Descriptors]]


def analyse_audio(audio: np.ndarray, sample_rate: int = ENCODER_RATE, *,
                  describe_later: DescribeLater | None = None) -> TrackAnalysis:
    """Analyse mono float32 audio (resampled here if `sample_rate` differs from 16 kHz). With
    `describe_later`, the descriptors are computed there (another process) while the taggers run here."""
    audio = _at_encoder_rate(audio, sample_rate)
    descriptors_done = describe_later(descriptor_audio(audio)) if describe_later is not None else None
    tags, features, windows = tagger_outputs(audio)
    return TrackAnalysis(
        duration=len(audio) / ENCODER_RATE,
        tags=tags,
        features=features,
        descriptors=descriptors_done() if descriptors_done is not None else describe_track(audio),
        windows=windows,
    )


def analyse_file(path: str | Path) -> TrackAnalysis:
    """Decode and analyse one file; raises AudioDecodeError (naming the file) when it is unusable."""
    return analyse_audio(load_audio(path, ENCODER_RATE), ENCODER_RATE)
