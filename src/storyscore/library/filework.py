"""What indexing does with one file, wherever it runs: decode it and read its tags (`decode_for_index`), then
analyse it and read it against the training corpus (`analyse_decoded`). Local indexing runs both on its
threads (indexer.py), Ray indexing runs the first as a task and the second in an actor (ray_index.py)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from storyscore.audio.decode import load_audio
from storyscore.audio.tags import TrackTags, read_tags
from storyscore.errors import AudioDecodeError, StoryscoreError

if TYPE_CHECKING:
    from storyscore.audio.descriptors import Descriptors
    from storyscore.audio.encoder import DescribeLater, TrackAnalysis


@dataclass(frozen=True)
class Analysed:
    """One file's outcome from a worker: its analysis and readings, or why it was skipped."""

    analysis: TrackAnalysis | None
    reason: str | None
    valence: float = 0.0
    arousal: float = 0.0
    moods: list[str] = field(default_factory=list)
    vectors: dict[str, tuple[str, np.ndarray]] = field(default_factory=dict)
    cues: list[str] = field(default_factory=list)
    file_tags: TrackTags | None = None
    digest: str | None = None  # the file's content hash, when the worker computed it (see WorkItem)


@dataclass(frozen=True)
class Decoded:
    """One file decoded for analysis (16 kHz mono) with its tags, or why it cannot be."""

    audio: np.ndarray | None
    reason: str | None
    file_tags: TrackTags | None = None
    digest: str | None = None


@dataclass(frozen=True)
class WorkItem:
    """A file whose content is new to the library: decoded, analysed and stored in this run."""

    path: Path
    size: int
    mtime: float
    # Content hash, or None: hashed by the worker as it decodes the file. The indexer hashes up front only
    # the few files that could be a touched or moved track already stored; the rest would make a long,
    # silent pass over every new byte before the first file is analysed.
    digest: str | None


def decode_for_index(path: Path, with_digest: bool = False) -> Decoded:
    """Decode one file as indexing does and read its tags (the I/O half of a file's work); with
    `with_digest`, also its content hash (library.store.file_hash)."""
    from storyscore.audio.encoder import ENCODER_RATE
    from storyscore.library.store import file_hash

    try:
        digest = file_hash(path) if with_digest else None
        audio = load_audio(path, ENCODER_RATE)
    except OSError as exc:
        return Decoded(None, f"cannot read ({exc.strerror or exc})")
    except AudioDecodeError as exc:
        return Decoded(None, str(exc).removeprefix(f"{path}: "))
    except StoryscoreError:
        raise
    except Exception as exc:  # a decoder failure on one odd file must not stop the run
        return Decoded(None, f"analysis failed ({type(exc).__name__}: {exc})"[:200])
    return Decoded(audio, None, read_tags(path), digest)


def analyse_decoded(decoded: Decoded, spaces: Sequence[Any],
                    describe_later: DescribeLater | None = None) -> Analysed:
    """Analyse one decoded file and read it against the training corpus (the model half of a file's work);
    `describe_later`: where its descriptors are computed meanwhile (`DescriptorProcesses.later`)."""
    from storyscore.audio.encoder import ENCODER_RATE, analyse_audio
    from storyscore.spaces.zeroshot import read_music, reported_va

    if decoded.audio is None:
        return Analysed(None, decoded.reason or "unusable")
    try:
        analysis = analyse_audio(decoded.audio, ENCODER_RATE, describe_later=describe_later)
        reading = read_music([analysis])
        va = reported_va(reading.va[0])
        vectors = {s.name: (s.version, s.music_vectors(reading)[0]) for s in spaces}
    except StoryscoreError:
        raise
    except Exception as exc:  # an analysis failure on one odd file must not stop the run
        return Analysed(None, f"analysis failed ({type(exc).__name__}: {exc})"[:200])
    return Analysed(analysis, None, float(va[0]), float(va[1]), reading.top_moods(0), vectors,
                     reading.cues[0], decoded.file_tags, decoded.digest)


def _start_descriptor_process(parent: int) -> None:
    # Ctrl-C reaches the whole process group: only the indexer decides what an interrupt stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def leave_with_the_indexer() -> None:  # a killed indexer (SIGKILL, out of memory) must not leave us idle
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=leave_with_the_indexer, daemon=True).start()


def _warm() -> None:
    """Every descriptor once on 5 s of a tone: Essentia and scipy imported, caches filled (the
    spectrogram comes with each excerpt, so the process never loads torch; any one serves here)."""
    from storyscore.audio.descriptors import describe

    t = np.arange(5 * 16000, dtype=np.float32) / 16000
    tone = (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 2 * t))).astype(np.float32)
    describe(tone, 16000, power=np.ones((257, len(tone) // 256 + 1), dtype=np.float32))


@contextmanager
def _main_script_hidden() -> Iterator[None]:
    """Processes started meanwhile do not run the parent's main script. Spawned processes otherwise re-run
    it first, and a user's script that calls `storyscore.index` without an ``if __name__ == "__main__"``
    guard would index again in each of them; they need nothing from it."""
    main = sys.modules.get("__main__")
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if main is not None and k in main.__dict__}
    try:
        if main is not None:
            main.__dict__.pop("__file__", None)
            if "__spec__" in saved:
                main.__spec__ = None
        yield
    finally:
        if main is not None:
            main.__dict__.update(saved)


class DescriptorProcesses:
    """Essentia's descriptors in worker processes, while the taggers run on the indexer's threads.

    Essentia's Python binding holds the GIL throughout, so on threads the descriptors of two files run one
    at a time (two threads reached 1.45x one); in processes they run beside the taggers, which release it
    (1.85x, benchmarks/index_scale.py). Each process holds Essentia and scipy (about 180 MiB), not torch or
    the models. If the pool breaks (a process killed), the descriptors are computed on the calling thread.
    """

    def __init__(self, processes: int) -> None:
        import multiprocessing

        # spawn: a fork of a process already running torch threads can deadlock in the child
        self._pool: ProcessPoolExecutor | None = ProcessPoolExecutor(
            max_workers=processes, mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_descriptor_process, initargs=(os.getpid(),))
        with _main_script_hidden():  # each submit starts one process, until there are `processes`
            for _ in range(processes):  # start them and load Essentia now, not on the first file
                self._pool.submit(_warm)

    def later(self, excerpt: np.ndarray) -> Callable[[], Descriptors]:
        from storyscore.audio.descriptors import describe, power_spectrogram
        from storyscore.audio.encoder import ENCODER_RATE

        # the spectrogram here (torch, which releases the GIL), so the processes need not load torch
        power = power_spectrogram(excerpt)
        pool = self._pool
        future = None
        if pool is not None:
            try:
                future = pool.submit(describe, excerpt, ENCODER_RATE, power)
            except (BrokenProcessPool, RuntimeError):  # broken, or shut down by an interrupt
                future = None

        def result() -> Descriptors:
            if future is not None:
                try:
                    return future.result()
                except BrokenProcessPool:
                    self._pool = None
            return describe(excerpt, ENCODER_RATE, power)

        return result

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> DescriptorProcesses:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def zero_shot_spaces() -> list[Any]:
    """The spaces every indexed track gets a vector in (zero-shot spaces: vectors from one reading)."""
    from storyscore.spaces import ZERO_SHOT_SPACES, get_space

    return [get_space(name) for name in ZERO_SHOT_SPACES]
