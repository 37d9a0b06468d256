"""Data types shared by the planning stages, and the protocol the planner needs from the emotion side.

The planner never imports an encoder or the store: it talks to a `Matcher` (text → emotion, text →
track scores, one-line reasons), so the lead's real encoders and a test's keyword table are
interchangeable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np


def track_name(path: str, title: str | None, artist: str | None) -> str:
    """What a listener calls a track: "Artist – Title", the title alone, or the file's name."""
    title = title or path.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return f"{artist} – {title}" if artist and title else title or artist or ""


@dataclass(frozen=True)
class TrackInfo:
    """One stored track as the planner sees it."""

    track_id: int
    path: str
    duration: float  # seconds
    valence: float  # [-1, 1]
    arousal: float  # [-1, 1]
    moods: tuple[str, ...]
    title: str | None = None  # from the file's tags (or its name when untagged)
    artist: str | None = None
    album: str | None = None

    @property
    def name(self) -> str:
        return track_name(self.path, self.title, self.artist)

    def tags_json(self) -> dict[str, str | None]:
        """The tag fields every JSON result carries (`match --json`, `plan --json`)."""
        return {"title": self.title, "artist": self.artist, "album": self.album}


@dataclass(frozen=True)
class TextEmotion:
    """The emotion of one passage: valence and arousal on [-1, 1] plus its top mood words."""

    valence: float
    arousal: float
    moods: tuple[str, ...]


class Matcher(Protocol):
    """What the planner needs from an emotion space plus a track store."""

    space_name: str

    def text_emotion(self, texts: list[str]) -> list[TextEmotion]:
        """Emotion of each text (batched)."""
        ...

    def score_tracks(self, texts: list[str]) -> tuple[np.ndarray, list[TrackInfo]]:
        """(n_texts, n_tracks) similarity, higher = better fit; tracks in column order."""
        ...

    def explain(self, text: TextEmotion, track: TrackInfo, score: float) -> str:
        """A one-line reason why `track` fits `text`."""
        ...


@dataclass(frozen=True)
class Chapter:
    """A chapter: its heading (may be empty for untitled front matter) and its character span."""

    title: str
    start: int
    end: int


@dataclass(frozen=True)
class Story:
    """A decoded story. All offsets are character offsets into `text`.

    For .txt/.md `text` is the file's decoded content (BOM removed, nothing else changed), so offsets
    index the input as the user sees it; for .epub it is the text extracted from the spine.
    """

    text: str
    paragraphs: tuple[tuple[int, int], ...]
    chapters: tuple[Chapter, ...]
    source: str = ""  # path or "-" (stdin)
    encoding: str = "utf-8"
    title: str = ""

    @property
    def n_words(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True)
class Alternative:
    """A candidate track that lost for a scene, and why."""

    path: str
    score: float
    reason: str
    name: str = ""  # "Artist – Title" (TrackInfo.name)

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "score": round(self.score, 4), "reason": self.reason, "name": self.name}


@dataclass(frozen=True)
class ChosenTrack:
    """The track picked for one scene."""

    info: TrackInfo
    score: float  # the matcher's raw score for this scene
    why: str
    looped: bool = False  # the track ends before the scene (or its run) does and repeats
    offset: float = 0.0  # seconds into the track where this scene starts (continuing runs)
    alternatives: tuple[Alternative, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.info.path,
            "score": round(float(self.score), 4),
            "valence": round(float(self.info.valence), 4),
            "arousal": round(float(self.info.arousal), 4),
            "moods": list(self.info.moods),
            "why": self.why,
            "track_id": self.info.track_id,
            "duration": round(float(self.info.duration), 3),
            "looped": self.looped,
            "offset": round(float(self.offset), 3),
            **self.info.tags_json(),
        }


@dataclass(frozen=True)
class Scene:
    """One scene: a span of whole paragraphs with a roughly constant emotion."""

    index: int
    start: int
    end: int
    text: str
    valence: float
    arousal: float
    moods: tuple[str, ...]
    words: int
    reading_seconds: float
    start_seconds: float
    chapter: int
    chapter_title: str
    track: ChosenTrack | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "start": int(self.start),
            "end": int(self.end),
            "text": self.text,
            "valence": round(float(self.valence), 4),
            "arousal": round(float(self.arousal), 4),
            "track": self.track.to_json() if self.track else None,
            "index": self.index,
            "chapter": self.chapter,
            "chapter_title": self.chapter_title,
            "moods": list(self.moods),
            "words": self.words,
            "reading_seconds": round(self.reading_seconds, 3),
            "start_seconds": round(self.start_seconds, 3),
            "alternatives": [a.to_json() for a in self.track.alternatives] if self.track else [],
        }
        return out


@dataclass(frozen=True)
class Passage:
    """One point of the emotional trajectory (a paragraph or a piece of a long one)."""

    start: int
    end: int
    words: int
    valence: float
    arousal: float


def auto_min_words(story_words: int) -> int:
    """Shortest scene when the user gives none: short stories get short scenes; books keep scenes of at
    least a few minutes' reading."""
    return int(min(300, max(40, story_words // 12)))


@dataclass
class PlanOptions:
    """Every knob of `make_plan`; the defaults suit novels read aloud."""

    # scenes
    min_words: int = 300
    max_words: int = 3000
    n_scenes: int | None = None  # exactly this many scenes (overrides the penalty)
    penalty: float | None = None  # change-point penalty; None = estimated from the noise level
    sensitivity: float = 1.0  # >1 fewer scenes, <1 more scenes (multiplies the estimated penalty)
    # Smoothing radius (in passages) before change-point detection. Off by default: the segment cost already
    # averages noise, and smoothing turns a clean step into a ramp that the DP then cuts into a short
    # "transition" scene. Useful only with very noisy encoders and small penalties.
    smooth: int = 0
    words_per_minute: float = 150.0  # narration pace; 250 for silent reading
    chunk_words: int = 200  # long paragraphs are scored in chunks of about this size
    merge_words: int = 25  # very short paragraphs are scored together with neighbours
    # track choice
    top_k: int = 20
    window: int = 5  # a track may not come back within this many scenes
    switch_cost: float = 0.6  # cost of changing track when the emotion did not change (fit units)
    change_ref: float = 0.35  # VA distance at which a switch becomes free
    duration_weight: float = 0.3  # cost of a scene that has to loop its track (fit units)
    prefer_bonus: float = 0.5
    beam: int = 64
    exclude: tuple[str, ...] = ()  # path globs
    prefer: tuple[str, ...] = ()  # path globs
    fixed: dict[int, str] = field(default_factory=dict)  # scene index → track path (or glob)
    batch_size: int = 256  # texts per matcher call


@dataclass
class Plan:
    """A soundtrack plan: scenes with their tracks, plus what the planner had to relax."""

    scenes: list[Scene]
    space: str = ""
    source: str = ""
    words_per_minute: float = 150.0
    notes: list[str] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)  # the emotional trajectory, for the arc plot
    chapters: list[Chapter] = field(default_factory=list)
    text_length: int = 0

    @property
    def total_seconds(self) -> float:
        return float(sum(s.reading_seconds for s in self.scenes))

    def to_json(self) -> dict[str, Any]:
        """The DESIGN.md §5 object (`{"scenes": [...]}`) plus extra keys; JSON-serialisable."""
        return {
            "scenes": [s.to_json() for s in self.scenes],
            "space": self.space,
            "source": self.source,
            "words_per_minute": self.words_per_minute,
            "total_seconds": round(self.total_seconds, 3),
            "notes": list(self.notes),
        }
