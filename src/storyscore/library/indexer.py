"""Indexing a music library: walk folders, analyse new or changed files, store them, drop deleted ones.

One bad file never stops a run: it is recorded with its reason (and not retried until it changes).
Several files are decoded and analysed at once, one per core by default or `workers` (libsndfile and torch
release the GIL, and torch runs one thread per call: see torch_threads.py); results are stored in order, one
transaction each. At most workers + 1 files are in flight, so memory does not grow with the library. With
`ray`, the same files are decoded and analysed on a Ray cluster instead (library/ray_index.py) and stored
here by the same loop.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storyscore.audio.decode import FFMPEG_MISSING, ffmpeg_available, is_audio_path
from storyscore.audio.tags import read_tags
from storyscore.errors import InputError
from storyscore.library.filework import (
    Analysed,
    DescriptorProcesses,
    WorkItem,
    analyse_decoded,
    decode_for_index,
    zero_shot_spaces,
)
from storyscore.library.store import Store, file_hash
from storyscore.torch_threads import in_order_on_workers, worker_count

ProgressFn = Callable[[int, int, str], None]  # (done, total, current path)


# The analysed files in the work's order, each with its outcome (a context manager: leaving it stops the work).
AnalysedStream = AbstractContextManager[Iterator[tuple[WorkItem, Analysed]]]


# Files from which local indexing with several workers computes the descriptors in processes: starting
# them (Python, Essentia and scipy in each) costs a few seconds of CPU, which fewer files do not repay.
DESCRIPTOR_PROCESSES_FROM = 32


@contextmanager
def analysed_locally(work: Sequence[WorkItem], spaces: Sequence[Any],
                     workers: int | None = None) -> Iterator[Iterator[tuple[WorkItem, Analysed]]]:
    """Each file decoded and analysed on this machine's threads, `workers` at once, yielded in order; with
    more than one worker and many files, the descriptors are computed in as many processes
    (filework.DescriptorProcesses)."""
    n = workers or worker_count()
    with ExitStack() as stack:
        later = (stack.enter_context(DescriptorProcesses(n)).later
                 if n > 1 and len(work) >= DESCRIPTOR_PROCESSES_FROM else None)
        with in_order_on_workers(lambda w: analyse_decoded(decode_for_index(w.path, w.digest is None), spaces,
                                                           later), work, workers) as analysed:
            yield ((item, future.result()) for item, future in analysed)


@dataclass
class IndexReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    moved: int = 0
    removed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason), this run or earlier
    tag_problems: list[tuple[str, str]] = field(default_factory=list)  # (path, problem) of tags read this run
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0
    interrupted: bool = False
    total_tracks: int = 0

    @property
    def usable(self) -> bool:
        return self.total_tracks > 0

    def summary(self) -> str:
        speed = f", {self.audio_seconds / self.wall_seconds:.0f}x real time" if self.audio_seconds else ""
        return (f"{self.added} added, {self.updated} updated, {self.moved} moved, {self.unchanged} unchanged, "
                f"{self.removed} removed, {len(self.skipped)} skipped; {self.total_tracks} tracks in the library "
                f"({self.wall_seconds:.1f} s{speed})")


def find_audio_files(roots: list[Path]) -> Iterator[Path]:
    """Audio files under each root (a root may itself be a file), hidden folders skipped, sorted."""
    for root in roots:
        if root.is_file():
            yield root
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                path = Path(dirpath) / name
                if not name.startswith(".") and is_audio_path(path):
                    yield path


def _under(path: str, roots: list[Path]) -> bool:
    return any(path == str(r) or path.startswith(str(r) + os.sep) for r in roots)


def index_paths(roots: list[str | Path], db: str | Path, *, rebuild: bool = False,
                progress: ProgressFn | None = None, workers: int | None = None,
                ray: str | None = None) -> IndexReport:
    """Bring the store at `db` up to date with the audio files under `roots`.

    `workers`: files analysed at once (default: one per core, at most 4; on Ray, the analysis actors).
    `ray`: decode and analyse on Ray: "" starts a local Ray in this process (or uses the one already
    started), anything else is the address of a cluster (``ray://HOST:10001``, ``HOST:6379``, ``auto``).
    Either way this process lists the files and is the only writer of the store."""
    if workers is not None and workers < 1:
        raise InputError(f"--workers {workers}: must be at least 1")
    started = time.perf_counter()
    resolved: list[Path] = []
    missing: list[str] = []
    for root in roots:
        path = Path(root).expanduser()
        if path.exists():
            resolved.append(path.resolve())
        else:
            missing.append(str(path))
    if not resolved:
        raise InputError(f"{missing[0] if missing else '(none)'}: no such file or folder")
    report = IndexReport(skipped=[(m, "no such file or folder") for m in missing])
    spaces = zero_shot_spaces()
    if ray is not None:  # Ray and the cluster are checked for before the library is touched
        from storyscore.library.ray_index import check_ray

        check_ray(ray)

    with Store(db, rebuild=rebuild) as store:
        stored = store.file_state()
        known_bad = store.skipped_state()
        if ffmpeg_available():  # files skipped for want of ffmpeg are tried again now that it is there
            known_bad = {p: v for p, v in known_bad.items() if FFMPEG_MISSING not in v[2]}
        files = list(find_audio_files(resolved))
        present = {str(p) for p in files}
        by_hash = {h: (path, tid) for path, (_, _, h, tid) in stored.items()}

        gone = [p for p in stored if _under(p, resolved) and p not in present]
        todo: list[tuple[Path, int, float]] = []
        for path in files:
            try:
                st = path.stat()
            except OSError as exc:
                report.skipped.append((str(path), f"cannot read ({exc.strerror})"))
                continue
            key = str(path)
            old = stored.get(key)
            if old and old[0] == st.st_size and old[1] == st.st_mtime:
                report.unchanged += 1
            elif key in known_bad and known_bad[key][:2] == (st.st_size, st.st_mtime):
                report.skipped.append((key, known_bad[key][2]))
            else:
                todo.append((path, st.st_size, st.st_mtime))

        try:
            # Moved or touched files keep their analysis; only new content is decoded. A file can be a stored
            # track only if it has the same size as that track: at its own path (touched), or as one that is
            # gone (moved). Only those are hashed here; every other file is hashed by its worker.
            gone_sizes = {stored[p][0] for p in gone}
            work: list[WorkItem] = []
            for path, size, mtime in todo:
                key = str(path)
                maybe_stored = (key in stored and stored[key][0] == size) or size in gone_sizes
                if not maybe_stored:
                    work.append(WorkItem(path, size, mtime, None))
                    continue
                try:
                    digest = file_hash(path)
                except OSError as exc:
                    report.skipped.append((key, f"cannot read ({exc.strerror})"))
                    continue
                if key in stored and stored[key][2] == digest:
                    store.touch(stored[key][3], key, size, mtime)
                    report.unchanged += 1
                elif digest in by_hash and by_hash[digest][0] in gone:
                    old_path, tid = by_hash[digest]
                    store.touch(tid, key, size, mtime)
                    gone.remove(old_path)
                    report.moved += 1
                else:
                    work.append(WorkItem(path, size, mtime, digest))
            if gone:
                store.remove(gone)
                report.removed = len(gone)

            # Files are analysed several at once but stored in order, one transaction each.
            stream: AnalysedStream
            if ray is None:
                stream = analysed_locally(work, spaces, workers)
            else:
                from storyscore.library.ray_index import analysed_on_ray

                stream = analysed_on_ray(work, ray, workers)
            if progress and work:
                progress(0, len(work), str(work[0].path))
            with stream as analysed:
                for k, (item, result) in enumerate(analysed):
                    key, size, mtime = str(item.path), item.size, item.mtime
                    if progress and k:  # k files stored; this one is next
                        progress(k, len(work), key)
                    if result.analysis is None:
                        reason = result.reason or "unusable"
                        store.put_skipped(key, size, mtime, reason)
                        report.skipped.append((key, reason))
                        continue
                    digest = item.digest or result.digest
                    if digest is None:  # the worker always hashes what was not hashed here
                        raise RuntimeError(f"{key}: no content hash")
                    store.put_track(key, content_hash=digest, size=size, mtime=mtime, analysis=result.analysis,
                                    valence=result.valence, arousal=result.arousal, moods=result.moods,
                                    vectors=result.vectors, cues=result.cues, file_tags=result.file_tags)
                    if result.file_tags is not None:
                        report.tag_problems += [(key, p) for p in result.file_tags.problems]
                    report.audio_seconds += result.analysis.duration
                    if key in stored:
                        report.updated += 1
                    else:
                        report.added += 1
            if progress:
                progress(len(work), len(work), "")
            # Tracks stored before tags were kept: their tags only (no audio decoded)
            for track_id, key in store.untagged():
                if _under(key, resolved):
                    file_tags = read_tags(key)
                    store.put_file_tags(track_id, file_tags)
                    report.tag_problems += [(key, p) for p in file_tags.problems]
        except KeyboardInterrupt:
            report.interrupted = True
        finally:
            report.total_tracks = store.count()
        if report.added or report.updated or report.removed or store.meta().get(READINGS_KEY) != readings_version():
            try:
                refresh_readings(store)
            except KeyboardInterrupt:  # the next `index` refreshes them
                report.interrupted = True
        if not report.interrupted:  # the approximate indexes beside a large library (library/ann.py)
            from storyscore.library.ann import refresh_indexes

            try:
                refresh_indexes(store.path, store, spaces, count=store.count, progress=progress)
            except KeyboardInterrupt:  # written whole or not at all; the next `index` or `match` redoes them
                report.interrupted = True
    report.wall_seconds = time.perf_counter() - started
    return report


READINGS_CHUNK = 2048  # tracks whose stored analyses are held at once while re-reading (about 12 KB each)


def refresh_readings(store: Store) -> None:
    """Re-read every track against the whole library, as it now stands.

    The music reader standardises its inputs over the library (what counts as fast or loud in this
    collection), so adding or removing tracks moves everyone's reading a little. Each track is first
    stored with a reading against the training corpus alone; this pass replaces all of them in one
    transaction, from the stored analyses (no audio is decoded). It reads the analyses twice, a chunk at
    a time: once for the library's statistics, once to read each track against them, so its memory does
    not grow with the library.
    """
    from storyscore.library.store import Readings
    from storyscore.spaces import ZERO_SHOT_SPACES, get_space
    from storyscore.spaces.music_reader import InputMoments, MusicReader, reader_inputs
    from storyscore.spaces.zeroshot import read_music, reported_va

    ids = store.track_ids()
    if not ids:
        store.set_meta(READINGS_KEY, readings_version())
        return
    reader = MusicReader.load()
    chunks = [ids[k:k + READINGS_CHUNK] for k in range(0, len(ids), READINGS_CHUNK)]
    moments = InputMoments()
    for chunk in chunks:
        moments.add(reader.select(reader_inputs(store.analyses(chunk))))
    standardiser = reader.standardiser(moments)
    spaces = [get_space(name) for name in ZERO_SHOT_SPACES]

    def readings() -> Iterator[Readings]:
        for chunk in chunks:
            reading = read_music(store.analyses(chunk), reader=reader, standardiser=standardiser)
            vectors = {s.name: (s.version, s.music_vectors(reading)) for s in spaces}
            yield Readings(chunk, reported_va(reading.va), [reading.top_moods(i) for i in range(len(chunk))],
                           reading.cues, vectors)

    store.put_readings_in_chunks(readings())
    store.set_meta(READINGS_KEY, readings_version())


READINGS_KEY = "readings_version"


def readings_version() -> str:
    """The versions of everything the stored readings depend on (the reader's weights among them)."""
    from storyscore.spaces import ZERO_SHOT_SPACES, get_space

    return " ".join(get_space(name).version for name in ZERO_SHOT_SPACES)
