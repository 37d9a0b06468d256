"""The narrative mood centre: the mean mood profile of story text, which matching measures a passage's
profile from (spaces.zeroshot.narrative_mood_centre loads it; benchmarks/fit_mood_centre.py writes it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from storyscore.spaces.zeroshot import read_text


def mood_centre(texts_by_source: Mapping[str, Sequence[str]]) -> np.ndarray:
    """(len(MOOD_WORDS),) the mean of each source's mean text mood profile: every source (a game) weighs
    the same, however many texts it has (one game's 976 dialogue lines would otherwise be the centre)."""
    means = [read_text(list(texts))[1].moods.astype(np.float64).mean(axis=0)
             for texts in texts_by_source.values() if len(texts)]
    if not means:
        raise ValueError("no texts to centre on")
    return np.mean(means, axis=0).astype(np.float32)


__all__ = ["mood_centre"]
