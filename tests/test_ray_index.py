"""`storyscore index --ray`: on a local Ray started by the test, and on a Ray cluster started apart with
`ray start --head` (reached by its address and through Ray Client), the same store as local indexing;
without Ray, or without a cluster at the address, a one-line error."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_index_workers import assert_same_store, small_library, store_contents

from storyscore.cli import main
from storyscore.errors import ClusterError
from storyscore.library.indexer import index_paths
from storyscore.library.ray_index import RAY_MISSING, actor_count, token_sent


def test_ray_index_gives_the_store_local_indexing_gives(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    library = small_library(tmp_path / "music")
    local = index_paths([library], tmp_path / "local.sqlite", workers=2)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        on_ray = index_paths([library], tmp_path / "ray.sqlite", ray="")
        assert (on_ray.added, on_ray.skipped) == (local.added, local.skipped)
        assert_same_store(store_contents(tmp_path / "local.sqlite"), store_contents(tmp_path / "ray.sqlite"))

        # already-indexed files are skipped as local indexing skips them; a moved file is not decoded again
        again = index_paths([library], tmp_path / "ray.sqlite", ray="")
        assert (again.added, again.updated, again.unchanged, again.audio_seconds) == (0, 0, 3, 0.0)
        shutil.move(library / "drone.ogg", library / "sub" / "drone.ogg")
        moved = index_paths([library], tmp_path / "ray.sqlite", ray="")
        assert (moved.added, moved.moved, moved.unchanged, moved.audio_seconds) == (0, 1, 2, 0.0)
        assert ray.is_initialized()  # a Ray the caller started is left running
    finally:
        ray.shutdown()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


@contextlib.contextmanager
def ray_cluster(token_file: Path) -> Iterator[tuple[int, int]]:
    """A one-node Ray cluster started by Ray's own command, as a user starts a head node, in its own process
    group, with token authentication (Ray's default) on the token in `token_file`: (GCS port, Ray Client
    port). `--block` keeps it in the foreground; ending it ends the cluster."""
    ray_cli = Path(sys.executable).parent / "ray"
    if not ray_cli.exists():
        pytest.skip("the ray command is not installed beside this Python")
    gcs, client = _free_port(), _free_port()
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths must fit in 107 bytes
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "token",
           "RAY_AUTH_TOKEN_PATH": str(token_file)}
    head = subprocess.Popen([str(ray_cli), "start", "--head", "--block", f"--port={gcs}",
                             f"--ray-client-server-port={client}", "--num-cpus=2", "--include-dashboard=false",
                             "--disable-usage-stats", f"--temp-dir={temp}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not (_answers(gcs) and _answers(client)):
            assert head.poll() is None, "ray start --head exited"
            assert time.monotonic() < deadline, "the Ray head did not come up in 120 s"
            time.sleep(0.5)
        yield gcs, client
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(head.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):  # Ray drains for half a minute; nothing needs it
            head.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(head.pid, signal.SIGKILL)
        head.wait()
        shutil.rmtree(temp, ignore_errors=True)


def test_ray_index_on_a_cluster_started_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray")
    library = small_library(tmp_path / "music")
    local = index_paths([library], tmp_path / "local.sqlite", workers=2)
    # the cluster's token, as `ray get-auth-token --generate` makes one, here in a file of the test's own;
    # the driver is given only where the token is: storyscore sends it (ray_index.token_sent)
    token = tmp_path / "auth_token"
    token.write_text(os.urandom(32).hex())
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    monkeypatch.delenv("RAY_AUTH_TOKEN", raising=False)
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(token))
    with ray_cluster(token) as (gcs, client):
        for name, address in (("gcs", f"127.0.0.1:{gcs}"), ("client", f"ray://127.0.0.1:{client}")):
            db = tmp_path / f"{name}.sqlite"
            assert main(["index", "--ray", address, str(library), "--db", str(db), "-q"]) == 0
            assert not ray.is_initialized()  # the connection made for the run is closed after it
            assert "RAY_AUTH_MODE" not in os.environ  # set only while connected
            assert_same_store(store_contents(tmp_path / "local.sqlite"), store_contents(db))
    assert local.added == 3


def test_the_token_is_sent_only_to_an_address_and_only_when_one_is_here(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("ray")
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
        monkeypatch.delenv(name, raising=False)

    def mode_within(address: str) -> str | None:
        with token_sent(address):
            return os.environ.get("RAY_AUTH_MODE")

    assert mode_within("HEAD:6379") is None  # no token here: nothing to send
    (tmp_path / ".ray").mkdir()
    (tmp_path / ".ray" / "auth_token").write_text("x" * 64)
    assert mode_within("HEAD:6379") == "token" and mode_within("ray://HEAD:10001") == "token"
    assert "RAY_AUTH_MODE" not in os.environ  # restored after the block
    assert mode_within("") is None  # a local Ray sets up its own
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    assert mode_within("HEAD:6379") == "disabled"  # the user's choice stands
    monkeypatch.delenv("RAY_AUTH_MODE")
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(tmp_path / "missing"))
    with pytest.raises(ClusterError, match="missing: cannot read the Ray token file"):
        mode_within("HEAD:6379")  # Ray itself would abort the process


def test_missing_ray_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as on the default install
    library = small_library(tmp_path / "music")
    assert main(["index", "--ray", str(library), "--db", str(tmp_path / "x.sqlite"), "-q"]) == 1
    err = capsys.readouterr().err
    assert err == f"storyscore: error: {RAY_MISSING}\n" and "storyscore[ray]" in err
    assert not (tmp_path / "x.sqlite").exists()


def test_no_cluster_at_the_address_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("ray")
    port = _free_port()  # nothing listens there
    library = small_library(tmp_path / "music")
    assert main(["index", "--ray", f"ray://127.0.0.1:{port}", str(library), "--db", str(tmp_path / "x.sqlite"),
                 "-q"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"storyscore: error: ray://127.0.0.1:{port}: cannot connect to Ray")


def test_ray_is_imported_only_when_asked_for() -> None:
    code = ("import sys, storyscore; from storyscore.cli import build_parser; build_parser().parse_args(['index', "
            "'--ray', 'x']); import storyscore.library.indexer, storyscore.library.ray_index; "
            "print('ray' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_actor_pool_leaves_a_cpu_for_decoding() -> None:
    assert [actor_count(cpus, None) for cpus in (2, 4, 16, 64)] == [1, 3, 14, 56]
    assert actor_count(16, 4) == 4 and actor_count(4, 8) == 3
    with pytest.raises(ClusterError, match="at least 2"):
        actor_count(1, None)
