"""`storyscore index --workers N`: the same store whatever the number of workers; progress with an ETA."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import tone, write_audio

from storyscore.cli import main
from storyscore.cli._common import Progress
from storyscore.cli.index import ray_address
from storyscore.library.indexer import index_paths

SR = 22050


def small_library(root: Path) -> Path:
    """Three short pieces (one with tags in its file), a sub-folder, and a file that is not audio."""
    import soundfile as sf

    root.mkdir(parents=True, exist_ok=True)
    with sf.SoundFile(str(root / "tagged.wav"), "w", SR, 1, format="WAV", subtype="PCM_16") as f:
        f.title, f.artist, f.album, f.genre = "Dawn", "Someone", "LP", "Folk"
        f.write(tone(5, SR, bpm=140, amp=0.7))
    write_audio(root / "sub" / "dark.flac", tone(5, SR, notes=(220.0, 261.63, 329.63), bpm=60, amp=0.2, seed=1), SR)
    write_audio(root / "drone.ogg", tone(4, SR, notes=(110.0, 130.81), bpm=90, seed=2), SR)
    (root / "broken.ogg").write_bytes(b"OggS" + bytes(300))
    return root


def store_contents(db: Path) -> dict[str, Any]:
    """Everything a store holds per path (ids left out: they are an order of insertion), numbers as arrays."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    tracks: dict[str, dict[str, Any]] = {}
    for row in conn.execute("SELECT * FROM tracks"):
        track = dict(row)
        tid = track.pop("id")
        for volatile in ("indexed_at",):
            track.pop(volatile)
        track["tags"] = np.frombuffer(track["tags"], dtype=np.float32)
        track["features"] = np.frombuffer(track["features"], dtype=np.float32)
        track["descriptors"] = json.loads(track["descriptors"])
        track["vectors"] = {(space, version): np.frombuffer(vec, dtype=np.float32) for space, version, vec in
                            conn.execute("SELECT space, version, vec FROM vectors WHERE track_id=?", (tid,))}
        tracks[track.pop("path")] = track
    skipped = {p: (size, mtime, reason) for p, size, mtime, reason in
               conn.execute("SELECT path, size, mtime, reason FROM skipped")}
    conn.close()
    return {"tracks": tracks, "skipped": skipped}


def assert_same_store(a: dict[str, Any], b: dict[str, Any], tol: float = 1e-5) -> None:
    assert a["skipped"] == b["skipped"]
    assert sorted(a["tracks"]) == sorted(b["tracks"])
    for path, ta in a["tracks"].items():
        tb = b["tracks"][path]
        assert set(ta) == set(tb)
        for key, va in ta.items():
            vb = tb[key]
            if key == "vectors":
                assert set(va) == set(vb), path
                for space in va:
                    np.testing.assert_allclose(va[space], vb[space], atol=tol, rtol=0, err_msg=f"{path} {space}")
            elif key == "descriptors":
                assert set(va) == set(vb)
                for name in va:
                    if isinstance(va[name], str):
                        assert va[name] == vb[name], (path, name)
                    else:
                        np.testing.assert_allclose(va[name], vb[name], atol=tol, rtol=1e-5, err_msg=f"{path} {name}")
            elif key in ("tags", "features"):
                np.testing.assert_allclose(va, vb, atol=tol, rtol=0, err_msg=f"{path} {key}")
            elif key in ("valence", "arousal", "duration"):
                assert va == pytest.approx(vb, abs=tol), (path, key)
            else:  # hash, size, mtime, pipeline version, moods, cues, windows, file tags
                assert va == vb, (path, key)


def test_one_and_two_workers_give_the_same_store(tmp_path: Path) -> None:
    library = small_library(tmp_path / "music")
    one = index_paths([library], tmp_path / "one.sqlite", workers=1)
    two = index_paths([library], tmp_path / "two.sqlite", workers=2)
    assert (one.added, len(one.skipped)) == (two.added, len(two.skipped)) == (3, 1)
    contents = store_contents(tmp_path / "one.sqlite")
    assert contents["tracks"][str(library / "tagged.wav")]["title"] == "Dawn"
    assert_same_store(contents, store_contents(tmp_path / "two.sqlite"))
    again = index_paths([library], tmp_path / "two.sqlite", workers=1)
    assert (again.added, again.unchanged) == (0, 3)


def test_descriptors_in_processes_give_the_same_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past DESCRIPTOR_PROCESSES_FROM files, two workers compute the descriptors in processes (Essentia holds
    the GIL): the store is the one a single worker makes."""
    import storyscore.library.filework as filework
    import storyscore.library.indexer as indexer

    started: list[int] = []

    class Counted(filework.DescriptorProcesses):
        def __init__(self, processes: int) -> None:
            started.append(processes)
            super().__init__(processes)

    monkeypatch.setattr(indexer, "DESCRIPTOR_PROCESSES_FROM", 2)
    monkeypatch.setattr(indexer, "DescriptorProcesses", Counted)
    library = small_library(tmp_path / "music")
    index_paths([library], tmp_path / "one.sqlite", workers=1)
    two = index_paths([library], tmp_path / "two.sqlite", workers=2)
    assert started == [2] and (two.added, len(two.skipped)) == (3, 1)
    assert_same_store(store_contents(tmp_path / "one.sqlite"), store_contents(tmp_path / "two.sqlite"))


def test_a_script_without_a_main_guard_runs_once(tmp_path: Path) -> None:
    """Spawned descriptor processes must not re-run the user's script (no ``__main__`` guard here): it would
    index the same library again from each of them."""
    import subprocess
    import sys

    library = small_library(tmp_path / "music")
    runs = tmp_path / "runs.txt"
    script = tmp_path / "my_script.py"
    script.write_text(
        "import storyscore.library.filework as filework\n"
        "import storyscore.library.indexer as indexer\n"
        "from storyscore.library.indexer import index_paths\n"
        "started = []\n"
        "start = filework.DescriptorProcesses.__init__\n"
        "filework.DescriptorProcesses.__init__ = lambda self, n: (started.append(n), start(self, n))[1]\n"
        f"open({str(runs)!r}, 'a').write('ran\\n')\n"
        "indexer.DESCRIPTOR_PROCESSES_FROM = 2\n"
        f"report = index_paths([{str(library)!r}], {str(tmp_path / 'lib.sqlite')!r}, workers=2)\n"
        "print(report.added, len(report.skipped), started)\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "3 1 [2]"  # the descriptor processes did run
    assert runs.read_text() == "ran\n"


def test_a_broken_descriptor_process_falls_back_to_the_thread() -> None:
    import os
    import signal

    from storyscore.audio.descriptors import describe
    from storyscore.library.filework import DescriptorProcesses

    t = np.arange(16000 * 6, dtype=np.float32) / 16000
    excerpt = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    with DescriptorProcesses(1) as processes:
        assert processes.later(excerpt)() == describe(excerpt, 16000)
        pool = processes._pool
        assert pool is not None
        for pid in list(pool._processes):  # a process dies (killed, or crashed on an odd file)
            os.kill(pid, signal.SIGKILL)
        assert processes.later(excerpt)() == describe(excerpt, 16000)
        assert processes.later(excerpt)() == describe(excerpt, 16000)


def test_workers_below_one_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", str(tmp_path), "--db", str(tmp_path / "x.sqlite"), "--workers", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "storyscore: error: --workers 0: must be at least 1"
    assert not (tmp_path / "x.sqlite").exists()


def test_plain_progress_shows_time_left(capsys: pytest.CaptureFixture[str]) -> None:
    with Progress("indexing") as progress:  # stderr is not a terminal under pytest: plain lines
        for done in range(0, 21):
            progress(done, 20, f"file {done}")
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "indexing: 0/20" and lines[-1] == "indexing: 20/20"
    assert all(line.endswith(" left") and ", about " in line for line in lines[1:-1]) and len(lines) == 11


@pytest.mark.parametrize(("value", "is_address"), [
    ("auto", True), ("ray://head:10001", True), ("10.0.0.5:6379", True), ("head-node:6379", True),
    ("music", False), ("~/Music", False), ("/srv/music", False)])
def test_ray_address_or_first_folder(value: str, is_address: bool) -> None:
    assert ray_address(value) is is_address
