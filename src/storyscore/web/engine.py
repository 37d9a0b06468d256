"""Where the web server's work runs, so that cheap requests never wait behind expensive ones.

* Model work (encoding text, scoring the library, planning) runs on one engine thread: the matcher's SQLite
  connection and the models stay on the thread that made them, and a 2-core machine is not asked to run
  two encoders at once. At most `MAX_PENDING` calls may wait for it; more get a 503 ("busy") instead of
  queueing without bound.
* Library listings, track look-ups for `/audio` and `/api/info` read the store on the request side
  (`Library`), each call with its own short-lived connection, so they answer while a novel is planned.
* Mixes read audio files, not the store: they run on their own small pool (`MIX_WORKERS`).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
MAX_PENDING = 8  # model calls queued or running; more are refused with 503
KEPT_PLANS = 8  # plans a later /api/mix, playlist or re-plan can use
MIX_WORKERS = 2


class Busy(Exception):
    """The engine's queue is full: the client should retry later (503)."""


@dataclass
class KeptPlan:
    """A plan with what re-planning it needs (the story and the options it was made with)."""

    plan: Any  # storyscore.types.Plan
    story: Any  # storyscore.types.Story
    options: Any  # storyscore.types.PlanOptions
    name: str = "story.txt"  # the upload's name (the story itself was read from a temporary file)
    title: str = ""


class Engine:
    """The library opened in one space; its matcher is used only on the engine thread."""

    def __init__(self, db: Path, space: Any, progress: Callable[[int, int, str], None] | None = None) -> None:
        self.db = Path(db)
        self.space = space  # a zero-shot space name or a loaded trained space
        self.progress = progress  # while a trained space that reads audio embeds the library
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="storyscore-engine")
        self.mix_pool = ThreadPoolExecutor(max_workers=MIX_WORKERS, thread_name_prefix="storyscore-mix")
        self._matcher: Any = None
        self._version: int | None = None
        self._pending = 0
        self._lock = threading.Lock()
        self._plans: OrderedDict[str, KeptPlan] = OrderedDict()
        self.space_name = ""
        self.space_version = ""
        self.ready = False  # the text encoder has run once (the first match is then fast)

    # --- plans kept for mix / playlist / re-plan ---
    def remember(self, kept: KeptPlan) -> str:
        plan_id = uuid.uuid4().hex[:12]
        with self._lock:
            self._plans[plan_id] = kept
            while len(self._plans) > KEPT_PLANS:
                self._plans.popitem(last=False)
        return plan_id

    def recall(self, plan_id: str) -> KeptPlan | None:
        with self._lock:
            return self._plans.get(plan_id)

    # --- the engine thread ---
    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Queue `fn(matcher, *args)` on the engine thread; `Busy` when `MAX_PENDING` calls already wait."""
        with self._lock:
            if self._pending >= MAX_PENDING:
                raise Busy("the server is busy with other stories; try again in a moment")
            self._pending += 1
        future = self._pool.submit(self._call, fn, *args)
        future.add_done_callback(self._done)
        return future

    def _done(self, _: Future[Any]) -> None:
        with self._lock:
            self._pending -= 1

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Blocking form of `submit` (start-up, tests)."""
        return self.submit(fn, *args).result()

    async def call(self, fn: Callable[..., T], *args: Any, timeout: float) -> T:
        """Await `fn(matcher, *args)` from the event loop; `TimeoutError` after `timeout` seconds (the call
        itself cannot be interrupted, but nobody waits for it any more)."""
        return await asyncio.wait_for(asyncio.wrap_future(self.submit(fn, *args)), timeout)

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return fn(self._current(), *args)

    def _current(self) -> Any:
        from storyscore.library.search import Matcher

        if self._matcher is not None:
            version = self._matcher.store.data_version()
            if version == self._version:
                return self._matcher
            self._matcher.close()  # another process indexed: reload tracks and vectors
            self._matcher = None
        matcher = Matcher(self.db, self.space, progress=self.progress)
        self._matcher = matcher
        self._version = matcher.store.data_version()
        self.space_name = matcher.space_name
        self.space_version = str(getattr(matcher.space, "version", ""))
        return matcher

    def close(self) -> None:
        def shut(_: Any = None) -> None:
            if self._matcher is not None:
                self._matcher.close()
                self._matcher = None

        self._pool.submit(shut).result()
        self._pool.shutdown()
        self.mix_pool.shutdown(wait=False, cancel_futures=True)


@dataclass(frozen=True)
class TrackFile:
    """What the store recorded about a track's file: `/audio` serves it only while it is still that file."""

    track_id: int
    path: str
    size: int
    mtime: float


class Library:
    """Read-only store access for the request side: one connection per call, opened and closed on the
    calling thread (SQLite connections must not cross threads), so it never waits for the engine."""

    def __init__(self, db: Path) -> None:
        self.db = Path(db)

    def _open(self) -> Any:
        from storyscore.library.store import Store

        return Store(self.db, create=False)

    def tracks(self) -> list[Any]:
        with self._open() as store:
            return store.tracks()

    def track_file(self, track_id: int) -> TrackFile | None:
        with self._open() as store:
            found = store.tracks([track_id])
        return TrackFile(found[0].track_id, found[0].path, found[0].size, found[0].mtime) if found else None

    def counts(self, space: str, version: str) -> tuple[int, int]:
        """(tracks with vectors in `space` at `version`, files skipped while indexing)."""
        with self._open() as store:
            sets = store.vector_sets()
            skipped = len(store.skipped())
        return sum(n for s, v, n in sets if s == space and (not version or v == version)), skipped
