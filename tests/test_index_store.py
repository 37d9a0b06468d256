"""The store and the indexer on real models: incremental updates, bad files, versions, crash safety."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import tone, write_audio

from storyscore.errors import InputError, StoreVersionError
from storyscore.library.indexer import index_paths
from storyscore.library.store import Store


@pytest.fixture()
def library(music_dir: Path, tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    shutil.copytree(music_dir, root)
    (root / "broken.ogg").write_bytes(b"OggS" + bytes(300))
    (root / "cover.jpg").write_bytes(b"\xff\xd8 not audio, not an audio extension")
    return root


def test_index_is_incremental(library: Path, tmp_path: Path) -> None:
    db = tmp_path / "lib.sqlite"
    first = index_paths([library], db)
    assert first.added == 5 and first.total_tracks == 5
    assert [Path(p).name for p, _ in first.skipped] == ["broken.ogg"]

    again = index_paths([library], db)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 5)
    assert len(again.skipped) == 1  # still reported, not retried

    # touched (same bytes, new mtime): no re-analysis
    target = library / "bright fast.wav"
    os.utime(target, (time.time() + 10, time.time() + 10))
    # changed content: re-analysed
    write_audio(library / "low drone.ogg", tone(8, 44100, bpm=170, amp=0.9), 44100)
    # moved: keeps its analysis under the new path
    (library / "moved").mkdir()
    shutil.move(library / "mp3 piece.mp3", library / "moved" / "mp3 piece.mp3")
    # deleted
    (library / "opus piece.opus").unlink()
    report = index_paths([library], db)
    assert (report.added, report.updated, report.moved, report.removed) == (0, 1, 1, 1)
    with Store(db) as store:
        paths = {Path(p).relative_to(library).as_posix() for p in store.iter_paths()}
    assert paths == {"bright fast.wav", "slow/dark minor.flac", "low drone.ogg", "moved/mp3 piece.mp3"}


def test_new_files_are_hashed_by_their_workers_not_up_front(library: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Hashing every new file before the first is analysed was a long, silent pass over the library: only
    files that could be a stored track (same size, here or gone) are hashed up front."""
    import storyscore.library.indexer as indexer
    from storyscore.library.store import file_hash

    up_front: list[str] = []
    monkeypatch.setattr(indexer, "file_hash", lambda p: up_front.append(Path(p).name) or file_hash(p))
    db = tmp_path / "lib.sqlite"
    assert index_paths([library], db).added == 5
    assert up_front == []
    with Store(db) as store:  # the workers' hashes are the files' hashes
        stored = store.file_state()
    assert {Path(p).name: v[2] for p, v in stored.items()} == {
        Path(p).name: file_hash(Path(p)) for p in stored}

    os.utime(library / "bright fast.wav", (time.time() + 10, time.time() + 10))  # touched: same size
    write_audio(library / "new.wav", tone(3, 22050, bpm=90), 22050)  # new, no stored track of its size
    (library / "moved").mkdir()
    shutil.move(library / "mp3 piece.mp3", library / "moved" / "mp3 piece.mp3")
    report = index_paths([library], db)
    assert (report.added, report.moved, report.unchanged) == (1, 1, 4)
    assert sorted(up_front) == ["bright fast.wav", "mp3 piece.mp3"]


def test_readings_refreshed_in_chunks_equal_one_pass(library: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """`index` re-reads the library a chunk at a time: the stored readings and vectors are those of reading
    every track against the whole library at once."""
    import storyscore.library.indexer as indexer
    from storyscore.spaces import ZERO_SHOT_SPACES, get_space
    from storyscore.spaces.zeroshot import read_music, reported_va

    monkeypatch.setattr(indexer, "READINGS_CHUNK", 2)
    db = tmp_path / "lib.sqlite"
    index_paths([library], db)
    with Store(db) as store:
        ids = store.track_ids()
        assert len(ids) == 5
        whole = read_music(store.analyses(ids))
        stored = {t.track_id: t for t in store.tracks(ids)}
        np.testing.assert_allclose([[stored[i].valence, stored[i].arousal] for i in ids], reported_va(whole.va),
                                   atol=1e-5)
        assert [list(stored[i].cues) for i in ids] == whole.cues
        for name in ZERO_SHOT_SPACES:
            space = get_space(name)
            got_ids, got = store.vectors(space.name, space.version)
            order = [ids.index(int(i)) for i in got_ids]
            np.testing.assert_allclose(got, space.music_vectors(whole)[order], atol=1e-5)


def test_store_refuses_another_pipeline_version(library: Path, tmp_path: Path) -> None:
    db = tmp_path / "lib.sqlite"
    index_paths([library / "bright fast.wav"], db)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value='storyscore-store0/old' WHERE key='pipeline_version'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreVersionError, match="--rebuild"):
        index_paths([library], db)
    with Store(db, rebuild=True) as store:
        assert store.count() == 0  # rebuilt empty, ready to index again


def test_library_of_the_previous_schema_is_refused_then_rebuilt(library: Path, tmp_path: Path) -> None:
    """A library made before the learned music reader (schema 1: no cues column) gets the one-line message
    naming `index --rebuild`, and --rebuild makes a working library of it."""
    db = tmp_path / "old.sqlite"
    conn = sqlite3.connect(db)
    conn.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE tracks (id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, content_hash TEXT NOT NULL,
            size INTEGER NOT NULL, mtime REAL NOT NULL, duration REAL NOT NULL, pipeline_version TEXT NOT NULL,
            valence REAL NOT NULL, arousal REAL NOT NULL, moods TEXT NOT NULL, descriptors TEXT NOT NULL,
            tags BLOB NOT NULL, features BLOB NOT NULL, windows INTEGER NOT NULL, indexed_at REAL NOT NULL);
        INSERT INTO meta VALUES ('pipeline_version',
            'storyscore-store1/musicnn-mtt+msd/windows2-10per15s/descriptors-1/zeroshot-1');
    """)
    conn.commit()
    conn.close()
    with pytest.raises(StoreVersionError, match=r"index --rebuild"):
        index_paths([library], db)
    report = index_paths([library / "bright fast.wav"], db, rebuild=True)
    assert report.added == 1
    with Store(db) as store:
        (track,) = store.tracks()
        assert track.cues and track.moods


def test_missing_root_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        index_paths([tmp_path / "nowhere"], tmp_path / "x.sqlite")


def test_interrupted_index_keeps_what_it_stored(library: Path, tmp_path: Path) -> None:
    db = tmp_path / "lib.sqlite"

    def stop_after_three(done: int, total: int, current: str) -> None:
        if done == 3:  # the work list is sorted: two good files and broken.ogg come first
            raise KeyboardInterrupt

    report = index_paths([library], db, progress=stop_after_three)
    assert report.interrupted and report.total_tracks == 2
    resumed = index_paths([library], db)
    assert resumed.unchanged == 2 and resumed.added == 3 and resumed.total_tracks == 5


def test_killed_index_loses_and_corrupts_nothing(library: Path, tmp_path: Path) -> None:
    """SIGKILL `storyscore index` once two tracks are stored; the store stays valid and a re-run finishes."""
    for k in range(6):  # more work, so the kill lands mid-run
        write_audio(library / "extra" / f"piece {k}.wav", tone(10, 22050, bpm=80 + 15 * k, seed=k), 22050)
    db = tmp_path / "lib.sqlite"
    env = dict(os.environ)
    proc = subprocess.Popen([sys.executable, "-m", "storyscore.cli", "index", str(library), "--db", str(db), "-q"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    stored = 0
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=1) as conn:
                    stored = conn.execute("SELECT COUNT(*) FROM tracks").fetchone()[0]
            except sqlite3.OperationalError:
                continue
            if stored >= 2:
                break
    assert proc.poll() is None, "index finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        survived = conn.execute("SELECT COUNT(*) FROM tracks").fetchone()[0]
        orphans = conn.execute("SELECT COUNT(*) FROM vectors WHERE track_id NOT IN (SELECT id FROM tracks)").fetchone()
    assert survived >= 2 and orphans[0] == 0
    report = index_paths([library], db)
    assert report.unchanged == survived
    assert report.total_tracks == 11


def test_vectors_round_trip(library: Path, tmp_path: Path) -> None:
    db = tmp_path / "lib.sqlite"
    index_paths([library / "slow"], db)
    with Store(db) as store:
        ids, mat = store.vectors("va", __import__("storyscore.spaces", fromlist=["get_space"]).get_space("va").version)
        assert mat.shape == (1, 2) and np.all(np.isfinite(mat))
        analysis = store.analyses([int(ids[0])])[0]
        assert analysis.features.shape == (400,) and set(analysis.tags) == {"MTT_musicnn", "MSD_musicnn"}


def test_track_infos_equal_what_the_full_rows_give(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The planner's light read of the library (`track_infos`) gives what the full rows give, by id and in a
    pass over the table alike, in the order asked."""
    from test_index_workers import small_library

    import storyscore.library.store as store_module
    from storyscore.types import TrackInfo

    db = tmp_path / "lib.sqlite"
    index_paths([small_library(tmp_path / "music")], db, workers=1)
    with Store(db, create=False) as store:
        full = store.tracks()
        ids = [t.track_id for t in full][::-1]
        want = [TrackInfo(t.track_id, t.path, t.duration, t.valence, t.arousal, t.moods,
                          *((t.file_tags.title, t.file_tags.artist, t.file_tags.album) if t.file_tags else ()))
                for t in full][::-1]
        assert any(w.title == "Dawn" for w in want)  # a tagged file is among them
        assert store.track_infos(ids) == want
        monkeypatch.setattr(store_module, "TRACK_INFOS_BY_ID", 1)
        assert store.track_infos(ids) == want
