"""Helpers shared by the benchmark scripts (run as `python benchmarks/NAME.py`, so this folder is on sys.path)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# the human-rated data sets beside the checkout (never copied into it)
SHARED_DATA = Path(os.environ.get("STORYSCORE_SHARED_DATA") or HERE.parent.parent / "shared" / "data")


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def code_version() -> str:
    """HEAD commit of the checkout, with '+dirty' when tracked files differ (results depend on the code)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=HERE,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def shared_data(*names: str) -> Path:
    """The human-rated data sets beside the checkout (``../shared/data``, or ``STORYSCORE_SHARED_DATA``);
    exits with one line naming what is missing (they are never copied into the repository)."""
    root = SHARED_DATA
    missing = [n for n in names if not (root / n).is_dir()]
    if missing:
        print(f"{root}: no {', '.join(missing)} folder here (the human-rated data sets live in ../shared/data "
              "beside the checkout, or where STORYSCORE_SHARED_DATA points)", file=sys.stderr)
        raise SystemExit(2)
    return root
