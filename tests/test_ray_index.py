"""`storyscore index --ray`: on a local Ray started by the test, the same store as local indexing; without
Ray, or without a cluster at the address, a one-line error."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from test_index_workers import assert_same_store, small_library, store_contents

from storyscore.cli import main
from storyscore.errors import ClusterError
from storyscore.library.indexer import index_paths
from storyscore.library.ray_index import RAY_MISSING, actor_count


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
    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
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
