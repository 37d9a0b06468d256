"""Background jobs (plans, mixes): progress the page can show, and cancellation when nobody is waiting.

A job runs on the engine thread (plans) or the mix pool (mixes). Its work calls `Job.step(...)` as it goes;
`step` records progress and raises `Cancelled` when the job was cancelled, or when its client has not
asked about it for `lease` seconds (closed tab, dropped connection), so abandoned work stops instead of
running for minutes.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

KEPT_JOBS = 32
LEASE_SECONDS = 20.0  # a job nobody polled for this long is cancelled


class Cancelled(Exception):
    """Raised inside a job's work when it should stop."""


@dataclass
class Job:
    kind: str  # "plan", "replan" or "mix"
    lease: float = LEASE_SECONDS
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    state: str = "queued"  # queued → running → done | failed | cancelled
    stage: str = ""
    done: float = 0.0
    total: float = 0.0
    result: Any = None
    error: str = ""
    status: int = 200  # the HTTP status the result or error maps to
    future: Future[Any] | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    seen: float = field(default_factory=time.monotonic)

    def touch(self) -> None:
        """The client is still interested (a poll, or a waiting request)."""
        self.seen = time.monotonic()

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def abandoned(self) -> bool:
        return time.monotonic() - self.seen > self.lease

    def step(self, stage: str, done: float, total: float) -> None:
        """Record progress; raise `Cancelled` when the job should stop (called from the worker thread)."""
        if self.state == "queued":
            self.state = "running"
        self.stage, self.done, self.total = stage, float(done), float(total)
        if self.cancel_event.is_set() or self.abandoned:
            self.cancel_event.set()
            raise Cancelled()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"job_id": self.id, "kind": self.kind, "state": self.state, "stage": self.stage,
                               "done": round(self.done, 3), "total": round(self.total, 3)}
        if self.state == "done" and self.kind != "mix":
            out["result"] = self.result
        if self.state == "done" and self.kind == "mix":
            out["result"] = {"warnings": list(self.result or [])}
        if self.state in ("failed", "cancelled"):
            out["error"] = self.error or "cancelled"
        return out


class Jobs:
    """The jobs of one server, newest `KEPT_JOBS` kept."""

    def __init__(self) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, job: Job) -> Job:
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > KEPT_JOBS:
                _, old = self._jobs.popitem(last=False)
                old.cancel()
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def running(self, kind: str) -> int:
        with self._lock:
            return sum(1 for j in self._jobs.values() if j.kind == kind and j.state in ("queued", "running"))

    def cancel_all(self) -> None:
        with self._lock:
            for job in self._jobs.values():
                job.cancel()
