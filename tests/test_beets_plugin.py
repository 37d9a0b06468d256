"""The beets plugin, against a beets library the test creates (beets' own Library API, a config folder of
its own via BEETSDIR): `beet storyscore-index [QUERY]` indexes a query's items into a storyscore library and
`beet storyscore-match "text" [QUERY]` lists beets items for a passage."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import tone, write_audio

pytest.importorskip("beets", reason="the beets plugin needs the `beets` extra (pip install storyscore[beets])")

pytestmark = pytest.mark.slow  # real models, servers or browsers: `pytest -m 'not slow'` skips these
BEET = Path(sys.executable).with_name("beet")
TRACKS = [  # file, artist, album, title, genre, audio
    ("calm/dawn.flac", "Calm Ensemble", "Quiet Hours", "Dawn", "Ambient", dict(bpm=60, amp=0.15)),
    ("calm/dusk.ogg", "Calm Ensemble", "Quiet Hours", "Dusk", "Ambient",
     dict(notes=(220.0, 261.63, 329.63), bpm=56, amp=0.12)),
    ("loud/storm.flac", "Storm Band", "Thunder", "Storm", "Metal", dict(notes=(110.0, 116.54), bpm=170, amp=0.9)),
]


def _beet(beetsdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BEETSDIR": str(beetsdir), "HOME": str(beetsdir.parent)}  # nothing of the user's
    return subprocess.run([str(BEET), *args], env=env, capture_output=True, text=True, timeout=300, check=False)


def test_beet_storyscore_index_and_match(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mutagen

    music, beetsdir, db = tmp_path / "music", tmp_path / "beets", tmp_path / "storyscore.sqlite"
    beetsdir.mkdir()
    monkeypatch.setenv("BEETSDIR", str(beetsdir))  # beets, in this process too, keeps out of the user's config
    monkeypatch.setenv("HOME", str(tmp_path))
    from beets.library import Item, Library

    (beetsdir / "config.yaml").write_text(
        f"directory: {music}\nlibrary: {beetsdir / 'library.db'}\nplugins: storyscore\n"
        f"storyscore:\n  db: {db}\n  top: 5\n", encoding="utf-8")
    lib = Library(str(beetsdir / "library.db"), str(music))
    for name, artist, album, title, genre, audio in TRACKS:
        path = write_audio(music / name, tone(6, 22050, **audio), 22050)
        tags = mutagen.File(path)
        tags.update({"ARTIST": artist, "ALBUM": album, "TITLE": title, "GENRE": genre})
        tags.save()
        lib.add(Item.from_path(str(path)))
    lib._close()

    first = _beet(beetsdir, "storyscore-index", "artist:Calm Ensemble")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("2 added") and "2 tracks in the library" in first.stdout
    everything = _beet(beetsdir, "storyscore-index")
    assert everything.returncode == 0, everything.stderr
    assert everything.stdout.startswith("1 added") and "2 unchanged" in everything.stdout

    matched = _beet(beetsdir, "storyscore-match", "Thunder split the sky and the army charged, screaming.", "-w")
    assert matched.returncode == 0, matched.stderr
    lines = matched.stdout.splitlines()
    assert lines[0].startswith("passage: ")
    items = [ln for ln in lines[1:] if not ln.startswith(" ")]
    # beets' own item format ($artist - $album - $title), best first, every item once
    assert sorted(ln.split("  ", 1)[1] for ln in items) == [
        "Calm Ensemble - Quiet Hours - Dawn", "Calm Ensemble - Quiet Hours - Dusk", "Storm Band - Thunder - Storm"]
    assert len([ln for ln in lines[1:] if ln.startswith("        ")]) == 3  # --why: one reason per item

    only_calm = _beet(beetsdir, "storyscore-match", "The storm raged all night.", "genre:Ambient", "-n", "1")
    assert only_calm.returncode == 0, only_calm.stderr
    (best,) = only_calm.stdout.splitlines()[1:]  # the query restricts the candidates: no Storm Band
    assert best.split("  ", 1)[1] in ("Calm Ensemble - Quiet Hours - Dawn", "Calm Ensemble - Quiet Hours - Dusk")

    nothing = _beet(beetsdir, "storyscore-match", "Some text.", "artist:Nobody")
    assert nothing.returncode != 0 and nothing.stderr.strip() == "error: no beets items match 'artist:Nobody'"
    no_text = _beet(beetsdir, "storyscore-match")
    assert no_text.returncode != 0 and len(no_text.stderr.strip().splitlines()) == 1
    assert "give a passage" in no_text.stderr
