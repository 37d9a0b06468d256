"""Where the musicnn weights are and the tag names of each model, without importing torch or musicnn: the
music reader names its inputs by tag at query time, when no tagger runs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from storyscore.errors import ModelError


def musicnn_dir() -> Path:
    """Folder of the installed ``musicnn`` package (found without importing it: it would import TF)."""
    spec = importlib.util.find_spec("musicnn")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the musicnn weights are missing: pip install --no-deps musicnn==0.1.0")
    return Path(next(iter(spec.submodule_search_locations)))


def tag_labels(name: str) -> list[str]:
    """The 50 tags of a musicnn model (MTT_* or MSD_*), in its output order."""
    # configuration.py is plain constants; read it as data so nothing else of musicnn runs
    path = musicnn_dir() / "configuration.py"
    scope: dict[str, object] = {}
    try:
        exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), scope)
    except (OSError, SyntaxError) as exc:
        raise ModelError(f"cannot read musicnn tag list {path}: {exc}") from exc
    labels = scope.get("MTT_LABELS" if name.startswith("MTT") else "MSD_LABELS")
    if not isinstance(labels, list) or not all(isinstance(t, str) for t in labels):
        raise ModelError(f"musicnn tag list for {name} is malformed in {path}")
    return list(labels)
