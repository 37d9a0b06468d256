"""One intra-op thread per torch call; parallelism comes from working on several files at once.

The encoders run small convolutions and short sequences, where OpenMP's thread hand-offs cost more than
they save: on the 2-core development machine a 208-s track took 5.6 s to analyse with 2 intra-op threads
and 1.35 s with one, and MiniLM read a 350-word passage in 1.0 s against 0.18 s. `STORYSCORE_TORCH_THREADS`
overrides the count for machines where more threads pay off.
"""

from __future__ import annotations

import os
from functools import cache


@cache
def configure_torch_threads() -> int:
    """Set torch's intra-op thread count once per process; returns it."""
    import torch

    try:
        count = max(1, int(os.environ.get("STORYSCORE_TORCH_THREADS", "1")))
    except ValueError:
        count = 1
    torch.set_num_threads(count)
    return count


def worker_count() -> int:
    """How many files to analyse at once: one per core, at most 4 (memory stays bounded)."""
    return max(1, min(4, os.cpu_count() or 1))
