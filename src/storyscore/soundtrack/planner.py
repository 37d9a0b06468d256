"""`make_plan`: story → scenes → emotion arc → one track per scene, with reasons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from storyscore.soundtrack.choose import choose_tracks
from storyscore.soundtrack.scenes import segment_story
from storyscore.types import (
    Alternative,
    Chapter,
    ChosenTrack,
    Matcher,
    Passage,
    Plan,
    PlanOptions,
    Scene,
    Story,
    TextEmotion,
    TrackInfo,
)

__all__ = [
    "Alternative",
    "Chapter",
    "ChosenTrack",
    "Matcher",
    "Passage",
    "Plan",
    "PlanOptions",
    "Scene",
    "Story",
    "TextEmotion",
    "TrackInfo",
    "make_plan",
]

Progress = Callable[[str, int, int], None]


def make_plan(
    story: Story,
    matcher: Matcher,
    *,
    options: PlanOptions | None = None,
    progress: Progress | None = None,
) -> Plan:
    """Segment `story` into scenes, estimate their emotion and choose a track for each.

    `progress(stage, done, total)` is called while passages are scored ("emotion") and scenes are scored
    against the library ("tracks").
    """
    opts = options or PlanOptions()

    def emo_progress(done: int, total: int) -> None:
        if progress:
            progress("emotion", done, total)

    scenes, passages, notes = segment_story(story, matcher, opts, emo_progress)
    # Score scene texts against the library in batches (the matcher may have a batch limit).
    blocks: list[np.ndarray] = []
    tracks: list[TrackInfo] = []
    bs = max(1, opts.batch_size)
    for k in range(0, len(scenes), bs):
        sc, tr = matcher.score_tracks([s.text for s in scenes[k : k + bs]])
        if tracks and len(tr) != len(tracks):
            raise ValueError("matcher returned a different track list between batches")
        tracks = tracks or list(tr)
        blocks.append(np.asarray(sc, dtype=np.float64).reshape(len(scenes[k : k + bs]), len(tr)))
        if progress:
            progress("tracks", min(k + bs, len(scenes)), len(scenes))
    scores = np.vstack(blocks)
    choice = choose_tracks(scenes, scores, tracks, matcher, opts)
    final = [replace(s, track=c) for s, c in zip(scenes, choice.chosen, strict=True)]
    return Plan(
        scenes=final,
        space=getattr(matcher, "space_name", ""),
        source=story.source,
        words_per_minute=opts.words_per_minute,
        notes=notes + choice.notes,
        passages=passages,
        chapters=list(story.chapters),
        text_length=len(story.text),
    )
