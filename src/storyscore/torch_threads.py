"""Threads for indexing: several files at once, each analysed with one torch thread.

The taggers run small convolutions per 3-s window, which gain nothing from a second intra-op thread (a 208-s
track: 1.0 s with one or two threads on the idle 2-core development machine), while analysing one file per
core doubles throughput. Two intra-op threads also collapse when another process holds a core (the same
track took 5.6 s), which one thread per worker avoids. The text encoder is left at torch's default: its
batched matrix products do gain from every core (64 chunks: 1.4 s with two threads, 2.5 s with one).
`STORYSCORE_WORKERS` overrides the number of files analysed at once. `in_order_on_workers` is that
scheme, shared by indexing and by a trained space that embeds library files.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


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


@contextmanager
def in_order_on_workers(fn: Callable[[T], R], items: Sequence[T],
                        workers: int | None = None) -> Iterator[Iterator[tuple[T, Future[R]]]]:
    """Run `fn` over `items` on `workers` threads (default `worker_count()`), each with one torch thread
    (torch releases the GIL). The block iterates ``(item, future)`` in the items' order with at most
    workers + 1 submitted ahead, so results are consumed, and stored, in order, and memory holds at most
    that many items' work whatever the number of items. Leaving the block (an interrupt included)
    cancels what has not started and waits for what has."""
    workers = workers or worker_count()
    pool = ThreadPoolExecutor(max_workers=workers)
    pending: deque[Future[R]] = deque()

    def ordered() -> Iterator[tuple[T, Future[R]]]:
        submitted = 0
        for k, item in enumerate(items):
            while submitted < len(items) and submitted < k + workers + 1:
                pending.append(pool.submit(fn, items[submitted]))
                submitted += 1
            yield item, pending.popleft()

    stack = ExitStack()
    try:
        if items:
            stack.enter_context(one_torch_thread_per_worker())
        yield ordered()
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        stack.close()
