"""A fake Matcher for the plan tests: VA from a keyword table, scores = −VA distance."""

from __future__ import annotations

import re

import numpy as np

from storyscore.types import TextEmotion, TrackInfo

KEYWORDS: dict[str, tuple[float, float]] = {
    "happy": (0.8, 0.5),
    "joy": (0.9, 0.6),
    "sad": (-0.7, -0.5),
    "grief": (-0.8, -0.4),
    "angry": (-0.6, 0.8),
    "fear": (-0.7, 0.7),
    "calm": (0.4, -0.6),
    "tender": (0.6, -0.3),
}
_WORD = re.compile(r"[a-z]+")


class FakeMatcher:
    space_name = "fake-va"

    def __init__(self, tracks: list[TrackInfo]) -> None:
        self.tracks = tracks
        self.calls = 0

    def text_emotion(self, texts: list[str]) -> list[TextEmotion]:
        self.calls += 1
        out = []
        for t in texts:
            hits = [w for w in _WORD.findall(t.lower()) if w in KEYWORDS]
            v, a = np.mean([KEYWORDS[w] for w in hits], axis=0) if hits else (0.0, 0.0)
            moods = tuple(sorted(set(hits), key=hits.count, reverse=True))[:3]
            out.append(TextEmotion(float(v), float(a), moods))
        return out

    def score_tracks(self, texts: list[str]) -> tuple[np.ndarray, list[TrackInfo]]:
        q = np.array([[e.valence, e.arousal] for e in self.text_emotion(texts)]).reshape(-1, 2)
        t = np.array([[x.valence, x.arousal] for x in self.tracks]).reshape(-1, 2)
        return -np.linalg.norm(q[:, None, :] - t[None, :, :], axis=2), self.tracks

    def explain(self, text: TextEmotion, track: TrackInfo, score: float) -> str:
        shared = sorted(set(text.moods) & set(track.moods))
        return f"VA distance {-score:.2f}" + (f", shared moods {', '.join(shared)}" if shared else "")


def track(i: int, v: float, a: float, duration: float = 300.0, path: str | None = None, moods=("x",)) -> TrackInfo:
    return TrackInfo(i, path or f"/music/track{i}.ogg", duration, v, a, tuple(moods))


def paragraph(word: str, n: int = 30) -> str:
    """n words: the emotion keyword every third word, neutral filler between."""
    filler = ["the", "room", "was", "and", "then", "she", "went", "on"]
    return " ".join(word if k % 3 == 0 else filler[k % len(filler)] for k in range(n)) + "."
