"""Which space a name or a saved model folder means: the zero-shot spaces by name, a model written by
`storyscore train` by its card (the head spaces or the CNN space). Loading never imports the trainer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from storyscore.errors import InputError


def space_or_model(space: str, model: str | Path | None) -> Any:
    """A trained space loaded from `model` (a folder written by `storyscore train`) when given, else the
    zero-shot space's name `space`: what `--space`/`--model` and the Python API's space=/model= mean."""
    return load_model(model) if model else space


def load_model(path: str | Path) -> Any:
    """A space saved by `storyscore train`: the head spaces (`TrainedSpace`) or the CNN space."""
    import json

    from storyscore.spaces.trained import CARD, TrainedSpace

    p = Path(path)
    if not p.exists():
        raise InputError(f"{path}: no such model (train one with `storyscore train`)")
    card_path = (p.parent if p.is_file() else p) / CARD
    try:
        space = json.loads(card_path.read_text(encoding="utf-8")).get("space") if card_path.is_file() else None
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        space = None  # TrainedSpace.load reports the broken card
    from storyscore.spaces.cnn import SPACE as CNN_SPACE

    if space == CNN_SPACE:
        from storyscore.spaces.cnn import AudioTwoBranchSpace

        return AudioTwoBranchSpace.load(p)
    return TrainedSpace.load(path)
