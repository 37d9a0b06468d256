"""Indexing on Ray: the same work as local indexing, spread over a Ray cluster (or a local Ray).

`storyscore index --ray [ADDRESS] DIR`: this process (the driver) lists the files, decides which are new
exactly as local indexing does (size and mtime, then content hash: touched and moved files are not decoded
again), and is the one writer of the store, one transaction per track, in the files' order. Each new file
is decoded, and its tags read, by a Ray task (one CPU); the decoded audio goes through Ray's object store to
an actor pool, where each actor loads the taggers and the music reader once and analyses one file at a time
with one torch thread (as a local worker does, so the stored vectors are the same). At most about two files
per actor are in flight, so memory on the driver and in the object store does not grow with the library.

The workers must see the files at the same paths as the driver (a shared or identical mount) and run the
same storyscore and Ray versions. Ray is imported here only, and only when asked for: `import storyscore`
and the default install never need it (the `ray` extra installs it).
"""

from __future__ import annotations

import logging
import os
import socket
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from types import ModuleType
from typing import Any

from storyscore.errors import ClusterError, MissingDependencyError, StoryscoreError
from storyscore.library.filework import Analysed, Decoded, WorkItem, analyse_decoded, decode_for_index

RAY_MISSING = "--ray needs Ray, which is not installed: pip install 'storyscore[ray]' (the `ray` extra)"
CONNECT_TIMEOUT_S = 10.0
AHEAD_PER_ACTOR = 2  # files in flight per actor: one analysed, one decoded and waiting


def import_ray() -> ModuleType:
    """The `ray` module, or a one-line error naming the extra that installs it."""
    try:
        import ray
    except ImportError:
        raise MissingDependencyError(RAY_MISSING) from None
    return ray


def check_ray(address: str) -> None:
    """Before any work: Ray is installed, and something answers at `address` (when it names a host)."""
    import_ray()
    if address:
        _check_reachable(address)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def _check_reachable(address: str) -> None:
    """A one-line error now, for a HOST:PORT address where nothing answers (Ray itself retries for minutes)."""
    hostport = address.split("://", 1)[-1].rsplit("/", 1)[0]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        return  # "auto", or a form Ray resolves itself
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise ClusterError(f"{address}: cannot connect to Ray (nothing answers at {hostport}: "
                           f"{exc.strerror or type(exc).__name__}); start it with `ray start --head`") from None


def ray_token_available() -> bool:
    """Whether Ray would find a cluster token here (its own order: RAY_AUTH_TOKEN, RAY_AUTH_TOKEN_PATH, the
    default ~/.ray/auth_token that `ray get-auth-token --generate` writes). A RAY_AUTH_TOKEN_PATH that
    cannot be read is a one-line error here: Ray aborts the process on it."""
    if os.environ.get("RAY_AUTH_TOKEN"):
        return True
    named = os.environ.get("RAY_AUTH_TOKEN_PATH")
    if named:
        try:
            if Path(named).expanduser().read_text(encoding="utf-8").strip():
                return True
            problem = "it is empty"
        except (OSError, UnicodeDecodeError) as exc:
            problem = getattr(exc, "strerror", None) or type(exc).__name__
        raise ClusterError(f"{named}: cannot read the Ray token file that RAY_AUTH_TOKEN_PATH names ({problem})")
    return (Path.home() / ".ray" / "auth_token").is_file()


def _reread_ray_auth() -> None:
    """Ray caches its authentication mode and token per process (at import, and at a token's first use):
    make it read the environment again, as Ray's own token set-up does when it enables token mode."""
    with suppress(ImportError, AttributeError):  # private to Ray 2.60 (pinned); without it the mode stays
        from ray._raylet import AuthenticationTokenLoader, Config

        Config.initialize("")
        AuthenticationTokenLoader.instance().reset_cache()


@contextmanager
def token_sent(address: str) -> Iterator[None]:
    """Within the block, a driver connecting to `address` sends the cluster's token when one is available
    here. Since Ray 2.59 `ray start --head` asks for a token by default, but a driver sends one only under
    RAY_AUTH_MODE=token, so without it a cluster the user started answers "Unauthenticated" and ray.init
    retries for a minute. A cluster without token authentication accepts a driver that sends one (checked
    with Ray 2.60), and an explicit RAY_AUTH_MODE is left as the user set it."""
    if not address or "RAY_AUTH_MODE" in os.environ or not ray_token_available():
        yield
        return
    os.environ["RAY_AUTH_MODE"] = "token"
    _reread_ray_auth()
    try:
        yield
    finally:
        os.environ.pop("RAY_AUTH_MODE", None)
        _reread_ray_auth()


@contextmanager
def connected(address: str) -> Iterator[ModuleType]:
    """Ray, connected: to `address`, or a local Ray started in this process when it is "" (a Ray this
    process already started, a test's for example, is used as it is). What is started here is shut down."""
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    if address:
        _check_reachable(address)
    with token_sent(address):
        try:
            if address:
                ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
            else:
                ray.init(include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
        except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError... for a bad address
            hint = ("" if not address or ray_token_available() else "; a cluster started with token "
                    "authentication (Ray's default) needs its token here: `ray get-auth-token` on the head, "
                    "into ~/.ray/auth_token or RAY_AUTH_TOKEN")
            raise ClusterError(f"{address or 'a local Ray'}: cannot connect to Ray ({_one_line(exc)}){hint}") from None
        try:
            yield ray
        finally:
            ray.shutdown()


class Analyser:
    """One actor of the pool: the models loaded once, then one decoded file analysed per call."""

    def __init__(self) -> None:
        import torch

        from storyscore.audio.encoder import TAGGERS
        from storyscore.audio.musicnn import MusicnnTagger
        from storyscore.library.filework import zero_shot_spaces

        torch.set_num_threads(1)  # as a local worker (torch_threads.py): the same arithmetic, the same vectors
        for name in TAGGERS:
            MusicnnTagger.load(name)
        self.spaces = zero_shot_spaces()  # the music reader, loaded once

    def analyse(self, decoded: Decoded) -> Analysed:
        return analyse_decoded(decoded, self.spaces)


def actor_count(cpus: float, workers: int | None) -> int:
    """Actors for a cluster of `cpus` CPUs: `workers`, or all CPUs but one in eight (decoding costs about an
    eighth of analysing), always leaving at least one CPU for the decode tasks (else they could never run)."""
    room = int(cpus) - 1
    if room < 1:
        raise ClusterError(f"Ray offers {cpus:g} CPU: --ray needs at least 2 (one decodes, one analyses)")
    wanted = workers if workers is not None else int(cpus) - max(1, int(cpus) // 8)
    return max(1, min(wanted, room))


@contextmanager
def analysed_on_ray(work: Sequence[WorkItem], address: str,
                    workers: int | None = None) -> Iterator[Iterator[tuple[WorkItem, Analysed]]]:
    """Each file decoded by a Ray task and analysed by the actor pool, yielded in the work's order (the
    contract of indexer.analysed_locally). Leaving the block cancels what is in flight and ends the pool."""
    if not work:
        yield iter(())
        return
    with connected(address) as ray:
        from ray.exceptions import RayTaskError

        cpus = float(ray.cluster_resources().get("CPU", 0))
        n = actor_count(cpus, workers)
        decode = ray.remote(num_cpus=1)(decode_for_index)
        actors = [ray.remote(num_cpus=1)(Analyser).remote() for _ in range(n)]
        in_flight: deque[tuple[WorkItem, Any, int]] = deque()  # (item, result ref, actor index)
        load = [0] * n

        def submit(item: WorkItem) -> None:
            k = min(range(n), key=load.__getitem__)  # the actor with the fewest files queued
            load[k] += 1
            in_flight.append((item, actors[k].analyse.remote(decode.remote(item.path, item.digest is None)), k))

        def ordered() -> Iterator[tuple[WorkItem, Analysed]]:
            todo = iter(work)
            for item in todo:
                submit(item)
                if len(in_flight) >= n * AHEAD_PER_ACTOR + 1:
                    break
            while in_flight:
                item, ref, k = in_flight.popleft()
                try:
                    result = ray.get(ref)
                except RayTaskError as exc:  # raised inside storyscore's own code on a worker
                    cause = exc.cause if isinstance(exc.cause, BaseException) else exc
                    if isinstance(cause, StoryscoreError):
                        raise cause from None
                    raise ClusterError(f"{item.path}: failed on Ray ({_one_line(cause)})") from None
                except Exception as exc:  # an actor that could not start, a lost worker, node or object
                    raise ClusterError(f"{item.path}: Ray could not analyse it ({_one_line(exc)}); what was "
                                       "indexed is stored: run the same command again to continue") from None
                load[k] -= 1
                following = next(todo, None)
                if following is not None:
                    submit(following)
                yield item, result

        try:
            yield ordered()
        finally:
            for _, ref, _ in in_flight:
                with suppress(Exception):  # already finished, or its worker is gone: nothing left to stop
                    ray.cancel(ref)
            for actor in actors:
                ray.kill(actor)
