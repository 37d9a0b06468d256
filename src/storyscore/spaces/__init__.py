"""Emotion spaces: one object per space with embed_text, embed_audio, similarity, name and version."""

from __future__ import annotations

from storyscore.errors import InputError
from storyscore.spaces.base import EmotionSpace

DEFAULT_SPACE = "fused"
ZERO_SHOT_SPACES = ("fused", "va", "tagwords")


def get_space(name: str = DEFAULT_SPACE) -> EmotionSpace:
    """A zero-shot space by name."""
    from storyscore.spaces.zeroshot_spaces import FusedSpace, MoodWordsSpace, VASpace

    spaces: dict[str, type] = {"fused": FusedSpace, "va": VASpace, "tagwords": MoodWordsSpace}
    if name not in spaces:
        raise InputError(f"unknown space {name!r}; choose one of {', '.join(ZERO_SHOT_SPACES)} or pass --model")
    return spaces[name]()


__all__ = ["DEFAULT_SPACE", "ZERO_SHOT_SPACES", "EmotionSpace", "get_space"]
