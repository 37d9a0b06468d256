"""Threads for indexing: several files at once, each analysed with one torch thread.

The taggers run small convolutions per 3-s window, which gain nothing from a second intra-op thread (a 208-s
track: 1.0 s with one or two threads on the idle 2-core development machine), while analysing one file per
core doubles throughput. Two intra-op threads also collapse when another process holds a core (the same
track took 5.6 s), which one thread per worker avoids. The text encoder is left at torch's default: its
batched matrix products do gain from every core (64 chunks: 1.4 s with two threads, 2.5 s with one).
`STORYSCORE_WORKERS` overrides the number of files analysed at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


def worker_count() -> int:
    """How many files to analyse at once: one per core, at most 4 (memory stays bounded)."""
    try:
        return max(1, int(os.environ["STORYSCORE_WORKERS"]))
    except (KeyError, ValueError):
        return max(1, min(4, os.cpu_count() or 1))


@contextmanager
def one_torch_thread_per_worker() -> Iterator[None]:
    """Run the block with torch limited to one intra-op thread, restoring the previous count after."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
