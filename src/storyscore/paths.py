"""Where storyscore keeps its files."""

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

