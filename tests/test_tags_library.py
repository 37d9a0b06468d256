"""File tags through the whole product on the real models: a library of every common format, tagged by the
test, indexed with its titles; `match --json`, the exports, `info`, the tag filters, `storyscore tag`, a
library made before tags were stored, and what happens without ffmpeg."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import tone, write_audio

from storyscore.cli import main

pytestmark = pytest.mark.slow  # real models, servers or browsers: `pytest -m 'not slow'` skips these
FFMPEG = shutil.which("ffmpeg")
SR = 22050
# file, artist, album, genre, title (None: left untagged), (notes, bpm, amp)
LIBRARY = [
    ("wav/sunrise.wav", "Meadow", "Morning", "Folk", "Sunrise", ((261.63, 329.63, 392.0), 100, 0.5)),
    ("flac/lament.flac", "Grey Choir", "Elegies", "Classical", "Lament", ((220.0, 261.63, 329.63), 58, 0.15)),
    ("ogg/march.ogg", "Iron Host", "Battles", "Metal", "March", ((110.0, 116.54), 170, 0.9)),
    ("opus/lullaby.opus", "Meadow", "Evening", "Folk", "Lullaby", ((293.66, 369.99, 440.0), 70, 0.2)),
    ("mp3/chase.mp3", "Iron Host", "Battles", "Metal", "Chase", ((196.0, 233.08), 160, 0.8)),
]
FFMPEG_LIBRARY = [  # made from a wav by ffmpeg, then tagged (except the raw AAC stream, which has no tags)
    ("m4a/harbour.m4a", ("-c:a", "aac", "-b:a", "64k"), "Tide", "Coast", "Ambient", "Harbour"),
    ("alac/glacier.m4a", ("-c:a", "alac"), "Tide", "Coast", "Ambient", "Glacier"),
    ("wma/festival.wma", ("-c:a", "wmav2", "-b:a", "64k"), "Brass Band", "Parade", "Brass", "Festival"),
    ("aac/07 - night_watch.aac", ("-c:a", "aac", "-b:a", "64k"), None, None, None, None),
]


def _tag(path: Path, artist: str, album: str, genre: str, title: str) -> None:
    import mutagen
    from mutagen.asf import ASFTags
    from mutagen.id3 import ID3, TALB, TCON, TIT2, TPE1
    from mutagen.mp4 import MP4Tags

    audio = mutagen.File(path)
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    if isinstance(tags, ID3):
        for frame in (TIT2(text=title), TPE1(text=artist), TALB(text=album), TCON(text=genre)):
            tags.add(frame)
    elif isinstance(tags, MP4Tags):
        tags.update({"\xa9nam": [title], "\xa9ART": [artist], "\xa9alb": [album], "\xa9gen": [genre]})
    elif isinstance(tags, ASFTags):
        for key, value in (("Title", title), ("Author", artist), ("WM/AlbumTitle", album), ("WM/Genre", genre)):
            tags[key] = value
    else:
        tags.update({"TITLE": title, "ARTIST": artist, "ALBUM": album, "GENRE": genre})
    audio.save()


def _make_library(root: Path) -> list[str]:
    """Writes the library; returns the names of the formats in it."""
    import soundfile as sf

    for name, artist, album, genre, title, (notes, bpm, amp) in LIBRARY:
        path = root / name
        if path.suffix == ".wav":  # a wav tagged the way audio editors do it: RIFF INFO, not ID3
            path.parent.mkdir(parents=True, exist_ok=True)
            with sf.SoundFile(str(path), "w", SR, 1, format="WAV", subtype="PCM_16") as f:
                f.title, f.artist, f.album, f.genre = title, artist, album, genre
                f.write(tone(5, SR, notes=notes, bpm=bpm, amp=amp))
        else:
            sr = 48000 if path.suffix == ".opus" else SR  # the rates Opus allows
            _tag(write_audio(path, tone(5, sr, notes=notes, bpm=bpm, amp=amp), sr), artist, album, genre, title)
    formats = [Path(n).parent.name for n, *_ in LIBRARY]
    if FFMPEG is None:
        return formats
    for k, (name, codec, artist, album, genre, title) in enumerate(FFMPEG_LIBRARY):
        path = root / name
        source = write_audio(root / f"source{k}.wav", tone(5, 44100, notes=(246.94, 311.13), bpm=90 + 10 * k), 44100)
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-y", "-i", str(source), *codec, "-map_metadata", "-1",
                        str(path)], check=True, timeout=60)
        source.unlink()
        if title is not None:
            _tag(path, artist, album, genre, title)
        formats.append(path.parent.name)
    return formats


@pytest.fixture(scope="module")
def tagged(tmp_path_factory: pytest.TempPathFactory):
    from storyscore.library.indexer import index_paths

    root = tmp_path_factory.mktemp("tagged")
    formats = _make_library(root / "music")
    report = index_paths([root / "music"], root / "lib.sqlite")
    return root, formats, report


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_every_format_is_indexed_with_its_titles(tagged) -> None:
    from storyscore.library.store import Store

    root, formats, report = tagged
    assert not report.skipped and report.added == len(formats)
    if FFMPEG is None:
        pytest.skip("ffmpeg is not installed: m4a, alac, wma and aac were not made (`make setup` installs it)")
    with Store(root / "lib.sqlite") as store:
        by_name = {Path(t.path).relative_to(root / "music").as_posix(): t.file_tags for t in store.tracks()}
    expected = {name: (title, artist, album, genre) for name, artist, album, genre, title, _ in LIBRARY}
    expected |= {name: (title, artist, album, genre) for name, _, artist, album, genre, title in FFMPEG_LIBRARY}
    expected["aac/07 - night_watch.aac"] = ("night watch", None, None, None)  # from its file name
    assert {n: (t.title, t.artist, t.album, t.genre) for n, t in by_name.items()} == expected
    assert by_name["aac/07 - night_watch.aac"].title_from_name and not by_name["m4a/harbour.m4a"].title_from_name
    assert not report.tag_problems


def test_match_json_and_text_carry_the_tags(tagged, capsys) -> None:
    root, _, _ = tagged
    db = str(root / "lib.sqlite")
    code, out, _ = _cli(capsys, "match", "--db", db, "--text", "Swords clashed as the army charged.", "--json",
                        "--top", "50")
    assert code == 0
    results = json.loads(out)["results"]
    by_file = {Path(r["path"]).name: r for r in results}
    assert (by_file["march.ogg"]["title"], by_file["march.ogg"]["artist"], by_file["march.ogg"]["album"]) == (
        "March", "Iron Host", "Battles")
    assert {"path", "score", "valence", "arousal", "moods", "why"} <= set(results[0])  # DESIGN.md §5 intact
    code, out, _ = _cli(capsys, "match", "--db", db, "--text", "Swords clashed as the army charged.")
    assert code == 0 and "Iron Host – March" in out and str(root / "music" / "ogg" / "march.ogg") in out


def test_filters_restrict_the_candidates(tagged, capsys) -> None:
    root, _, _ = tagged
    db = str(root / "lib.sqlite")
    text = "Swords clashed as the army charged."
    code, out, _ = _cli(capsys, "match", "--db", db, "--text", text, "--json", "--artist", "meadow")
    assert code == 0 and {r["artist"] for r in json.loads(out)["results"]} == {"Meadow"}
    code, out, _ = _cli(capsys, "match", "--db", db, "--text", text, "--json", "--where", "genre!=metal",
                        "--where", "album=o", "--top", "50")
    results = json.loads(out)["results"]
    assert code == 0 and results and all("o" in r["album"].lower() and r["artist"] != "Iron Host" for r in results)
    code, out, err = _cli(capsys, "match", "--db", db, "--text", text, "--genre", "polka")
    assert code == 2 and out == "" and err.strip() == f"storyscore: error: {db}: no track in the library matches genre=polka"
    code, _, err = _cli(capsys, "match", "--db", db, "--text", text, "--where", "mood=dark")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "FIELD=TEXT" in err
    code, out, _ = _cli(capsys, "info", "--db", db, "--tracks", "--album", "battles")
    names = [ln.split("  ")[-1] for ln in out.splitlines() if ln.startswith("  V ")]
    assert code == 0 and sorted(n.split(" (")[0].strip() for n in names) == ["Iron Host – Chase", "Iron Host – March"]


def test_plan_exports_carry_the_tags(tagged, tmp_path: Path, capsys) -> None:
    root, _, _ = tagged
    story = tmp_path / "story.txt"
    story.write_text("The soldiers marched to war, drums pounding, blood on the snow.\n\n" * 6
                     + "At dawn the village slept in peace, birds singing softly by the river.\n\n" * 6)
    code, out, _ = _cli(capsys, "plan", str(story), "--db", str(root / "lib.sqlite"), "-o", str(tmp_path / "out"),
                        "--json", "--scenes", "2", "--where", "genre!=ambient", "-q")
    assert code == 0
    scenes = json.loads(out)["scenes"]
    assert all({"title", "artist", "album"} <= set(s["track"]) for s in scenes)
    tracks = {s["track"]["path"]: s["track"] for s in scenes}
    # M3U, read as players read it: #EXTINF:seconds,Artist - Title, then the path; #EXTALB the album
    lines = (tmp_path / "out" / "playlist.m3u").read_text(encoding="utf-8").splitlines()
    entries = []
    for k, line in enumerate(lines):
        if line.startswith("#EXTINF:"):
            seconds, _, name = line[len("#EXTINF:"):].partition(",")
            album = lines[k - 1][len("#EXTALB:"):] if lines[k - 1].startswith("#EXTALB:") else None
            entries.append((int(seconds), name, album, (tmp_path / "out" / lines[k + 1]).resolve()))
    assert entries
    for seconds, name, album, path in entries:
        track = tracks[str(path)]
        assert name == (f"{track['artist']} - {track['title']}" if track["artist"] else track["title"])
        assert album == track["album"] and seconds > 0
    # XSPF, parsed as XML: title, creator, album per track
    ns = {"x": "http://xspf.org/ns/0/"}
    xspf = ET.parse(tmp_path / "out" / "playlist.xspf").getroot().findall(".//x:track", ns)
    assert len(xspf) == len(entries)
    for element in xspf:
        track = next(t for t in tracks.values() if Path(t["path"]).as_uri() == element.findtext("x:location", None, ns))
        assert element.findtext("x:title", None, ns) == track["title"]
        assert element.findtext("x:creator", None, ns) == track["artist"]
        assert element.findtext("x:album", None, ns) == track["album"]
    with (tmp_path / "out" / "cues.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["title"], r["artist"]) for r in rows] == [(s["track"]["title"], s["track"]["artist"] or "")
                                                          for s in scenes]
    report = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    assert all(f"{s['track']['artist']} – {s['track']['title']}" in report for s in scenes if s["track"]["artist"])


def _audio_md5(path: Path) -> str:
    assert FFMPEG is not None
    return subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a", "-c:a", "copy", "-f",
                           "md5", "-"], capture_output=True, text=True, check=True, timeout=60).stdout.strip()


def test_tag_command_dry_run_then_write_keeps_audio_and_analysis(tagged, tmp_path: Path, capsys) -> None:
    from storyscore.audio.tags import read_tags
    from storyscore.library.indexer import index_paths
    from storyscore.library.store import Store

    root, _, _ = tagged
    shutil.copytree(root / "music", tmp_path / "music")
    db = tmp_path / "lib.sqlite"
    with Store(root / "lib.sqlite") as source, sqlite3.connect(db) as copy:
        source.conn.backup(copy)
    with Store(db) as store:  # the copy's tracks point at the copied files
        for track in store.tracks():
            new = str(tmp_path / "music" / Path(track.path).relative_to(root / "music"))
            store.touch(track.track_id, new, track.size, Path(new).stat().st_mtime)
    before = {p: p.read_bytes() for p in (tmp_path / "music").rglob("*.*")}

    code, out, _ = _cli(capsys, "tag", "--db", str(db), "--json")
    dry = json.loads(out)
    assert code == 0 and dry["dry_run"] and dry["written"] == 0 and dry["changed"] == len(dry["files"]) > 0
    assert {p: p.read_bytes() for p in before} == before  # nothing written
    assert all(c["key"] for f in dry["files"] for c in f["changes"])
    raw_aac = [e for e in dry["errors"] if e["path"].endswith(".aac")]
    assert len(dry["errors"]) == len(raw_aac) <= 1  # a raw AAC stream has nowhere to keep tags

    music = tmp_path / "music"
    md5_before = {p: _audio_md5(p) for p in before if FFMPEG}
    code, out, err = _cli(capsys, "tag", str(music / "ogg"), str(music / "m4a"), str(music / "wav"), "--db",
                          str(db), "--write")
    assert code == 0 and "files written" in out
    with Store(db) as store:
        stored = {Path(t.path).name: t for t in store.tracks()}
    march = read_tags(music / "ogg" / "march.ogg")
    assert march.moods == stored["march.ogg"].moods and march.valence == round(stored["march.ogg"].valence, 3)
    assert stored["march.ogg"].file_tags.moods == march.moods and march.title == "March"
    assert (music / "flac" / "lament.flac").read_bytes() == before[music / "flac" / "lament.flac"]  # not asked
    for path, digest in md5_before.items():
        assert _audio_md5(path) == digest, path
    again = index_paths([music], db)  # the rewritten files keep their analysis: nothing to redo
    assert (again.added, again.updated, again.unchanged) == (0, 0, len(before))


def test_a_library_made_before_tags_gets_them_without_reanalysis(tagged, tmp_path: Path) -> None:
    from storyscore.library.indexer import index_paths
    from storyscore.library.store import Store

    root, formats, _ = tagged
    db = tmp_path / "old.sqlite"
    with sqlite3.connect(root / "lib.sqlite") as source, sqlite3.connect(db) as copy:
        source.backup(copy)
    with sqlite3.connect(db) as conn:
        for column in ("title", "artist", "album", "genre", "file_tags"):
            conn.execute(f"ALTER TABLE tracks DROP COLUMN {column}")
    with Store(db) as store:
        assert {t.file_tags for t in store.tracks()} == {None}
    report = index_paths([root / "music"], db)
    assert (report.added, report.updated, report.unchanged) == (0, 0, len(formats))
    with Store(db) as store:
        assert {t.file_tags.title for t in store.tracks()} >= {"March", "Lament", "Sunrise"}


def test_a_broken_tag_is_reported_and_the_file_still_indexed(tagged, tmp_path: Path, capsys) -> None:
    from mutagen.flac import FLAC

    root, _, _ = tagged
    music = tmp_path / "music"
    path = write_audio(music / "04_odd.flac", tone(4, SR), SR)
    audio = FLAC(path)
    audio.update({"TITLE": "Odd", "DATE": "soon", "TRACKNUMBER": "four"})
    audio.save()
    code, out, err = _cli(capsys, "index", str(music), "--db", str(tmp_path / "lib.sqlite"), "-q")
    assert code == 0 and out.startswith("1 added")
    assert err.splitlines() == [f"tags of {path}: track number: 'four' is not a track number",
                                f"tags of {path}: year: 'soon' is not a year"]
    code, out, _ = _cli(capsys, "info", "--db", str(tmp_path / "lib.sqlite"), "--tracks")
    assert "Odd" in out and "tag problems: track number: 'four' is not a track number" in out


def test_without_ffmpeg_each_file_is_one_line_and_one_summary(tmp_path: Path, capsys,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    if FFMPEG is None:
        pytest.skip("ffmpeg is not installed, so no m4a can be made to test its absence")
    music = tmp_path / "music"
    write_audio(music / "plain.wav", tone(4, SR), SR)
    for name in ("a.m4a", "b.wma"):
        subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-i", str(music / "plain.wav"), str(music / name)],
                       check=True, timeout=60)
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda cmd, *a, **k: None if cmd == "ffmpeg" else real_which(cmd, *a, **k))
    db = str(tmp_path / "lib.sqlite")
    code, out, err = _cli(capsys, "index", str(music), "--db", db, "-q")
    assert code == 0 and out.startswith("1 added") and "2 skipped" in out
    assert err.splitlines() == [f"skipped {music / 'a.m4a'}: .m4a files need ffmpeg, which is not installed",
                                f"skipped {music / 'b.wma'}: .wma files need ffmpeg, which is not installed",
                                "2 files need ffmpeg: install it (e.g. `apt-get install ffmpeg`) and index again"]
    monkeypatch.undo()  # ffmpeg "installed": the files skipped for want of it are tried again
    code, out, err = _cli(capsys, "index", str(music), "--db", db, "-q")
    assert code == 0 and out.startswith("2 added") and "0 skipped" in out and err == ""


def test_the_web_library_and_match_carry_the_tags(tagged) -> None:
    import threading
    import urllib.request

    from storyscore.web.server import make_server

    root, _, _ = tagged
    server, engine = make_server(root / "lib.sqlite", "fused", port=0, quiet=True, header_timeout=2.0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    url = f"http://{host}:{port}"
    try:
        with urllib.request.urlopen(url + "/api/library", timeout=60) as r:
            rows = {Path(t["path"]).name: t for t in json.loads(r.read())["tracks"]}
        assert (rows["march.ogg"]["name"], rows["march.ogg"]["album"], rows["march.ogg"]["genre"]) == (
            "Iron Host – March", "Battles", "Metal")
        with urllib.request.urlopen(url + "/api/session", timeout=60) as r:
            token = json.loads(r.read())["token"]
        request = urllib.request.Request(url + "/api/match", method="POST",
                                         data=json.dumps({"text": "The army charged.", "top": 3}).encode(),
                                         headers={"Content-Type": "application/json", "X-Storyscore-Token": token})
        with urllib.request.urlopen(request, timeout=120) as r:
            results = json.loads(r.read())["results"]
        assert all({"title", "artist", "album"} <= set(res) for res in results)
        _library_page_shows_the_tags(url)
    finally:
        server.shutdown()
        server.server_close()
        engine.close()


def _library_page_shows_the_tags(url: str) -> None:
    """The page in Chromium (as test_browser.py drives it): the library table's names and album column, and
    its filter finding tracks by album."""
    from test_browser import CHROMIUM

    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}: install it (as root: apt-get install -y chromium, "
                    "which `make setup` does) or set STORYSCORE_CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(url + "/")
            page.click("nav button[data-tab=library]")
            page.wait_for_selector("#lib-table tr.track")
            page.fill("#lib-filter", "battles")
            rows = page.locator("#lib-table tr.track")
            assert rows.count() == 2
            cells = sorted(tuple(rows.nth(k).locator("td").all_inner_texts()[:2]) for k in range(2))
            assert cells == [("Iron Host – Chase", "Battles"), ("Iron Host – March", "Battles")]
        finally:
            browser.close()
