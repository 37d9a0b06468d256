"""The music encoder: decoded audio → tagger outputs, pooled over windows spread across the whole track,
plus DSP descriptors.

Two levels, as in openl3: `analyse_audio(audio, sr)` on arrays and `analyse_file(path)` on files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from storyscore.audio.decode import load_audio
from storyscore.audio.descriptors import Descriptors, describe, power_spectrogram

ENCODER_RATE = 16000
TAGGERS = ("MTT_musicnn", "MSD_musicnn")
# 3-s tagger windows spread evenly over the whole track: one per SECONDS_PER_WINDOW of audio, at least
# MIN_WINDOWS and at most MAX_WINDOWS. The taggers cost ~50 ms a window on one core, so this keeps indexing
# above 100x real time while still hearing the start, middle and end (the paper averages 16 crops).
SECONDS_PER_WINDOW = 15.0
MIN_WINDOWS = 2
MAX_WINDOWS = 10
ANALYSIS_VERSION = f"musicnn-mtt+msd/windows{MIN_WINDOWS}-{MAX_WINDOWS}per{SECONDS_PER_WINDOW:g}s/descriptors-1"


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


def analyse_audio(audio: np.ndarray, sample_rate: int = ENCODER_RATE) -> TrackAnalysis:
    """Analyse mono float32 audio (resampled here if `sample_rate` differs from 16 kHz)."""
    from storyscore.audio.musicnn import MusicnnTagger
    if sample_rate != ENCODER_RATE:
        import soxr

        audio = soxr.resample(audio, sample_rate, ENCODER_RATE).astype(np.float32)
    power = power_spectrogram(audio)
    tags: dict[str, np.ndarray] = {}
    features: list[np.ndarray] = []
    windows = 0
    mel = MusicnnTagger.melspectrogram(audio)  # both taggers share musicnn's front end
    frames = MusicnnTagger.patch_frames
    if len(mel) < frames:  # shorter than one window: pad with silence
        mel = np.pad(mel, ((0, frames - len(mel)), (0, 0)))
    starts = window_starts(len(mel), frames, window_count(len(audio) / ENCODER_RATE))
    patches = np.stack([mel[s:s + frames] for s in starts])
    for name in TAGGERS:
        tagger = MusicnnTagger.load(name)
        probs, feats = tagger.forward_patches(patches)
        tags[name] = probs.mean(axis=0).astype(np.float32)
        features.append(feats.mean(axis=0).astype(np.float32))
        windows = len(starts)
    return TrackAnalysis(
        duration=len(audio) / ENCODER_RATE,
        tags=tags,
        features=np.concatenate(features),
        descriptors=describe(audio, ENCODER_RATE, power=power),
        windows=windows,
    )


def analyse_file(path: str | Path) -> TrackAnalysis:
    """Decode and analyse one file; raises AudioDecodeError (naming the file) when it is unusable."""
    return analyse_audio(load_audio(path, ENCODER_RATE), ENCODER_RATE)
