"""Emotion spaces: one object per space with embed_text, embed_audio, similarity, name and version."""

from __future__ import annotations

from typing import TYPE_CHECKING

from storyscore.errors import InputError
from storyscore.spaces.base import EmotionSpace

if TYPE_CHECKING:
    import numpy as np

    from storyscore.spaces.music_reader import MusicReader

DEFAULT_SPACE = "fused"
ZERO_SHOT_SPACES = ("fused", "va", "tagwords")


def get_space(name: str = DEFAULT_SPACE, reader: MusicReader | None = None,
              mood_centre: np.ndarray | None = None) -> EmotionSpace:
    """A zero-shot space by name; `reader` replaces the shipped music reader and `mood_centre` the shipped
    narrative mood centre (for evaluation)."""
    from storyscore.spaces.zeroshot_spaces import FusedSpace, MoodWordsSpace, VASpace

    spaces: dict[str, type] = {"fused": FusedSpace, "va": VASpace, "tagwords": MoodWordsSpace}
    if name not in spaces:
        raise InputError(f"unknown space {name!r}; choose one of {', '.join(ZERO_SHOT_SPACES)} or pass --model")
    if name == "va":
        return VASpace(reader)
    return spaces[name](reader, mood_centre)


__all__ = ["DEFAULT_SPACE", "ZERO_SHOT_SPACES", "EmotionSpace", "get_space"]
