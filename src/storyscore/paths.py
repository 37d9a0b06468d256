"""Where storyscore keeps its files: the track store and the cache of models it derives at set-up."""

from __future__ import annotations

import os
from pathlib import Path


def default_db() -> Path:
    """The store: $STORYSCORE_DB, else a file in the per-user data directory."""
    env = os.environ.get("STORYSCORE_DB")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("storyscore", appauthor=False)) / "library.sqlite"


def cache_dir() -> Path:
    """Derived models (e.g. the text VA regressor): $STORYSCORE_CACHE, else the per-user cache directory."""
    env = os.environ.get("STORYSCORE_CACHE")
    if env:
        path = Path(env).expanduser()
    else:
        from platformdirs import user_cache_dir

        path = Path(user_cache_dir("storyscore", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path
