"""The game-music corpus (storyscore.datasets.games): the module contract for every game, the labels read
from tiny fixtures in each game's own file formats (tests/data/games/<NAME>/, laid out as the fetch script
leaves a package: paths relative to the package root), the situation tables, and the fetch script's
filtering (benchmarks/fetch_corpus.py) on fake packages -- no apt, no network."""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from storyscore.datasets import games as G
from storyscore.datasets.base import DatasetError
from storyscore.datasets.games import GAMES, GameTrack, StoryPair, game_module, situations, track_signs
from storyscore.lexicon.vocab import MOOD_WORDS

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "data" / "games"


@pytest.fixture(scope="module")
def fc() -> ModuleType:
    """benchmarks/fetch_corpus.py, imported from its file (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("fetch_corpus", REPO / "benchmarks" / "fetch_corpus.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["fetch_corpus"] = mod
    spec.loader.exec_module(mod)
    return mod


def _tracks(name: str) -> dict[str, GameTrack]:
    return {t.path.name: t for t in game_module(name).tracks(FIXTURES / name)}


# -- The contract, for every game ------------------------------------------------------------------------


@pytest.mark.parametrize("name", GAMES)
def test_module_contract(name: str) -> None:
    mod = game_module(name)
    assert name == mod.NAME
    for attr in ("PACKAGE", "LICENSE", "HOMEPAGE"):
        assert isinstance(getattr(mod, attr), str) and getattr(mod, attr).strip(), attr
    assert isinstance(mod.KEEP, tuple) and mod.KEEP and all(isinstance(k, str) and k for k in mod.KEEP)
    assert callable(mod.tracks) and callable(mod.story_pairs)
    assert (mod.__doc__ or "").strip(), "the module docstring credits the game and says how labels are read"


@pytest.mark.parametrize("name", GAMES)
def test_situation_table_loads(name: str) -> None:
    table = situations(name)
    assert table, f"situations/{name}.csv is empty"
    for s in table.values():
        assert s.game == name and s.name and s.comment
        assert s.valence in (-1, 0, 1) and s.arousal in (-1, 0, 1)
        assert set(s.moods) <= set(MOOD_WORDS), f"{name}/{s.name}: moods outside MOOD_WORDS: {s.moods}"


@pytest.mark.parametrize("name", GAMES)
def test_fixture_tracks_and_pairs(name: str) -> None:
    root = FIXTURES / name
    assert root.is_dir(), f"no fixture folder {root}"
    mod = game_module(name)
    table = situations(name)
    tracks = mod.tracks(root)
    assert tracks, f"{name}: no track in the fixture"
    for t in tracks:
        assert isinstance(t, GameTrack) and t.game == name
        assert t.path.is_file(), t.path
        unknown = set(t.situations) - set(table)
        assert not unknown, f"{name}: {t.path.name} has situations missing from situations/{name}.csv: {unknown}"
        assert track_signs(t) in {(v, a) for v in (-1, 0, 1) for a in (-1, 0, 1)}
    for p in mod.story_pairs(root):
        assert isinstance(p, StoryPair) and p.game == name and p.text.strip()
        assert p.tracks and all(Path(x).is_file() for x in p.tracks), p
        assert not p.situation or p.situation in table


def _fetched(fc: ModuleType, mod: ModuleType, rel: str) -> bool:
    """Whether the fetch script leaves ``rel`` in a game's folder: a KEEP match, the copyright file, or
    the .ogg it renders beside a RENDER_MIDI file."""
    if rel == f"usr/share/doc/{mod.PACKAGE}/copyright" or fc.keep_match(rel, mod.KEEP):
        return True
    render = getattr(mod, "RENDER_MIDI", ())
    return bool(render) and rel.endswith(".ogg") and fc.keep_match(rel[: -len(".ogg")] + ".mid", render)


@pytest.mark.parametrize("name", GAMES)
def test_fixture_music_is_what_the_fetch_keeps(name: str, fc: ModuleType) -> None:
    """Every track and story-pair file the module returns is one the fetch script keeps."""
    mod = game_module(name)
    root = FIXTURES / name
    paths = [t.path for t in mod.tracks(root)] + [Path(x) for p in mod.story_pairs(root) for x in p.tracks]
    for path in paths:
        rel = Path(path).relative_to(root).as_posix()
        assert _fetched(fc, mod, rel), f"{name}: {rel} matches no KEEP glob"


MINE = ("zero_ad", "singularity", "warzone2100", "hyperrogue", "widelands", "megaglest", "supertuxkart", "openttd")


@pytest.mark.parametrize("name", MINE)
def test_fixture_files_are_all_kept(name: str, fc: ModuleType) -> None:
    """These fixtures hold only files the fetch script keeps (so KEEP covers the label files too)."""
    mod = game_module(name)
    for path in (FIXTURES / name).rglob("*"):
        rel = path.relative_to(FIXTURES / name).as_posix()
        assert not path.is_file() or _fetched(fc, mod, rel), f"{name}: fixture file {rel} matches no KEEP glob"


# -- Per game: exact labels on the fixtures ---------------------------------------------------------------


def test_zero_ad_labels() -> None:
    t = _tracks("zero_ad")
    assert t["Honor_Bound.ogg"].situations == ("menu",)
    assert t["Juno_Protect_You.ogg"].situations == ("menu", "peace")
    assert t["Juno_Protect_You.ogg"].extra["civs"] == ["rome"]
    assert t["Harvest_Festival.ogg"].extra["civs"] == ["athen", "rome"]
    assert t["Tale_of_Warriors.ogg"].situations == ("peace",)
    assert t["Taiko_1.ogg"].situations == ("battle",)
    assert t["You_are_Victorious!.ogg"].situations == ("victory",)
    assert t["Dried_Tears.ogg"].situations == ("defeat",)
    assert t["0_8Bit_Bonus_Track.ogg"].situations == ()
    assert "gui/common/music.js:" in t["Taiko_1.ogg"].source
    signs = {k: track_signs(v) for k, v in t.items()}
    assert signs["Taiko_1.ogg"] == (0, 1)  # a fight is an arousal target only (issue #21)
    assert signs["Tale_of_Warriors.ogg"] == (1, -1)
    assert signs["Juno_Protect_You.ogg"] == (1, -1)  # menu says nothing, peace decides
    assert signs["You_are_Victorious!.ogg"] == (1, 1)
    assert signs["Dried_Tears.ogg"] == (-1, 0)
    assert signs["Honor_Bound.ogg"] == (0, 0)
    assert game_module("zero_ad").story_pairs(FIXTURES / "zero_ad") == []


def test_singularity_labels() -> None:
    t = _tracks("singularity")
    assert t["Apex Aleph.ogg"].situations == ("win",)
    assert t["Chimes They Fade.ogg"].situations == ("lose",)
    assert t["Awakening.ogg"].situations == ()
    assert track_signs(t["Apex Aleph.ogg"]) == (1, 1)
    assert track_signs(t["March Thee to Dis.ogg"]) == (-1, 0)


def test_warzone2100_labels() -> None:
    t = _tracks("warzone2100")
    assert t["menu.opus"].situations == ("menu",)
    assert t["track1.opus"].situations == ("campaign", "challenge", "skirmish", "multiplayer")
    assert t["track1.opus"].extra["bpm"] == 80.0 and t["track1.opus"].title == "Track 1"
    assert t["track25.opus"].situations == ("challenge", "skirmish", "multiplayer")
    assert t["track25.opus"].extra["bpm"] == 130.0 and t["track25.opus"].extra["album"] == "Aftermath Soundtrack"
    assert t["stray.opus"].situations == () and "bpm" not in t["stray.opus"].extra
    assert all(track_signs(x) == (0, 0) for x in t.values())


def test_hyperrogue_labels() -> None:
    t = _tracks("hyperrogue")
    assert t["hr3-desert.ogg"].situations == ("Desert", "Red Rock Valley")
    assert t["hr-domina-hunting.ogg"].situations == ("Terracotta", "Mercury River")
    assert t["hr3-mirror.ogg"].situations == ("Reflection",)
    assert t["hr3-caves.ogg"].situations == ("Living Caves",)  # "Magnetic (unused)" is not a land the game plays
    assert t["hr3-hell.ogg"].situations == ("Hell",)
    assert t["hr3-desert.ogg"].source == "usr/share/hyperrogue/hyperrogue-music.txt:2,8"
    assert track_signs(t["hr3-hell.ogg"]) == (0, 0)  # the package documents the land's name only


def test_widelands_labels() -> None:
    t = _tracks("widelands")
    assert {k: v.situations for k, v in t.items()} == {
        "intro.ogg": ("intro",), "menu.ogg": ("menu",), "ingame_00.ogg": ("ingame",), "ingame_12.ogg": ("ingame",),
    }
    assert game_module("widelands").song_set("ingame_07") == "ingame"


def test_megaglest_labels_and_story_pair() -> None:
    root = FIXTURES / "megaglest"
    t = _tracks("megaglest")
    assert t["intro_music.ogg"].situations == ("intro",)  # the commented-out block of menu.xml is ignored
    assert t["menu_music.ogg"].situations == ("menu",)
    assert t["music_magic.ogg"].situations == ("faction",)
    assert t["music_magic.ogg"].extra["factions"] == ["megapack/magic"]
    pairs = game_module("megaglest").story_pairs(root)
    assert len(pairs) == 1  # duel has no .lng; storming's commented-out and later messages are not briefings
    (p,) = pairs
    assert p.text == "Help your Summoner attack all the enemy villages, she must survive."
    assert [x.name for x in p.tracks] == ["music_magic.ogg"]  # human plays magic; magitech links to megapack
    assert p.situation == "faction"
    assert p.source == "usr/share/games/megaglest/scenarios/storming/storming_english.lng:6"


def test_supertuxkart_labels() -> None:
    t = _tracks("supertuxkart")
    assert t["menutheme.ogg"].situations == ("title",)
    assert t["kart_grand_prix.ogg"].situations == ("default",)
    assert t["race_win_theme.ogg"].situations == ("race-win",)
    assert t["race_summary.ogg"].situations == ("race-neutral",)
    assert t["lose_theme.ogg"].situations == ("race-lose", "gp-lose")
    assert t["win_theme.ogg"].situations == ("gp-win", "unlock", "gpwin")
    assert t["celtic.ogg"].situations == ("race",)
    assert t["celtic.ogg"].extra["tracks"] == ["Nessie's Pond"] and t["celtic.ogg"].title == "Scottish bagpipes"
    assert t["celtic_fast.ogg"].situations == ("last_lap",)
    assert t["Penguin_Party.ogg"].situations == ("arena", "ctf")
    assert t["Battle_Theme_1.ogg"].situations == ("arena",)  # read from a .music that is not well-formed XML
    assert t["Battle_Theme_1.ogg"].extra["composer"].startswith("Alexandr Zhelanov <")
    assert t["unused_jingle.ogg"].situations == ()
    assert "crowd.ogg" not in t  # a sound effect beside a track: no .music names it
    signs = {k: track_signs(v) for k, v in t.items()}
    assert signs["celtic.ogg"] == (0, 1) and signs["celtic_fast.ogg"] == (0, 1)
    assert signs["race_win_theme.ogg"] == (1, 1) and signs["win_theme.ogg"] == (1, 1)
    assert signs["lose_theme.ogg"] == (-1, 0)
    assert signs["race_summary.ogg"] == (0, 0) and signs["menutheme.ogg"] == (0, 0)


def test_openttd_labels() -> None:
    t = _tracks("openttd")
    assert set(t) == {"tttheme2.ogg", "keep_on_rolling.ogg"}  # ultimate_run.mid is not rendered: skipped
    assert t["tttheme2.ogg"].situations == ("theme",) and t["tttheme2.ogg"].title == "OpenTTD journey"
    assert t["keep_on_rolling.ogg"].situations == ()
    assert t["keep_on_rolling.ogg"].extra["playlist"] == "Old Style"
    assert t["keep_on_rolling.ogg"].extra["midi"].endswith("keep_on_rolling.mid")


# -- The situation tables' loader ---------------------------------------------------------------------------


@pytest.fixture
def table_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(G, "SITUATIONS_DIR", tmp_path)
    situations.cache_clear()
    yield tmp_path
    situations.cache_clear()


HEADER = "situation,valence,arousal,moods,comment\n"


def test_situations_reads_a_table(table_dir: Path) -> None:
    (table_dir / "fake.csv").write_text(HEADER + 'battle,-1,1,tense aggressive,"fights: A+ V-"\n', encoding="utf-8")
    s = situations("fake")["battle"]
    assert (s.valence, s.arousal, s.moods, s.comment) == (-1, 1, ("tense", "aggressive"), "fights: A+ V-")


@pytest.mark.parametrize(("row", "message"), [
    ("battle,2,1,,too big\n", "must be -1, 0 or 1"),
    ("battle,-1,x,,not a number\n", "must be -1, 0 or 1"),
    ("battle,-1,1,tense,\n", "needs a comment"),
    ("battle,-1,1,tense,   \n", "needs a comment"),
    ("battle,0,0,,one\nbattle,0,0,,two\n", "twice"),
])
def test_situations_errors(table_dir: Path, row: str, message: str) -> None:
    (table_dir / "fake.csv").write_text(HEADER + row, encoding="utf-8")
    with pytest.raises(DatasetError, match=message):
        situations("fake")


def test_situations_missing_table(table_dir: Path) -> None:
    with pytest.raises(DatasetError, match="missing situation table"):
        situations("nothing")


# -- The fetch script: KEEP filtering, extraction, rendering (no apt, no network) ----------------------------


def test_glob_semantics(fc: ModuleType) -> None:
    m = fc.keep_match
    assert m("a/music/x.ogg", ("a/music/*.ogg",))
    assert not m("a/music/sub/x.ogg", ("a/music/*.ogg",))  # '*' stays inside one folder
    assert not m("b/a/music/x.ogg", ("a/music/*.ogg",))  # anchored at the package root
    assert m("a/music/x.ogg", ("a/music/**/*.ogg",)) and m("a/music/s/t/x.ogg", ("a/music/**/*.ogg",))
    assert m("tracks/t1/track.xml", ("tracks/*/track.xml",))
    assert m("f/a1.mid", ("f/a?.mid",)) and not m("f/a12.mid", ("f/a?.mid",))
    assert m("f/b.txt", ("f/[!a]*.txt",)) and not m("f/a.txt", ("f/[!a]*.txt",))
    assert not m("x.ogg", ())
    assert fc.member_path("./usr/share/x") == "usr/share/x"
    assert fc.member_path("/usr/x") == "usr/x"
    assert fc.member_path("./") is None and fc.member_path("../etc/passwd") is None


def _fake_package(root: Path) -> None:
    for rel, text in {
        "usr/share/games/singularity/music/A.ogg": "a",
        "usr/share/games/singularity/music/win/W.ogg": "w",
        "usr/share/games/singularity/sounds/click.ogg": "sfx",
        "usr/share/doc/singularity-music/README": "readme",
        "usr/share/doc/singularity-music/copyright": "Files: *\nLicense: CC-BY-SA-3.0\n",
        "usr/share/doc/singularity-music/changelog.Debian.gz": "",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


SING_KEPT = {
    "usr/share/games/singularity/music/A.ogg", "usr/share/games/singularity/music/win/W.ogg",
    "usr/share/doc/singularity-music/README", "usr/share/doc/singularity-music/copyright",
}


def test_copy_tree_keeps_only_keep(fc: ModuleType, tmp_path: Path) -> None:
    src, dest = tmp_path / "pkg", tmp_path / "out"
    _fake_package(src)
    mod = game_module("singularity")
    kept = fc.copy_tree(src, dest, mod.KEEP, extra=("usr/share/doc/singularity-music/copyright",))
    assert set(kept) == SING_KEPT
    assert {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()} == SING_KEPT
    assert [t.situations for t in mod.tracks(dest)] == [(), ("win",)]


def _tar_bytes(members: list[tuple[str, str | bytes | None, str | None]]) -> bytes:
    """(name, file content or None, symlink target or None) -> an uncompressed tar, './'-prefixed like dpkg's."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, content, link in members:
            info = tarfile.TarInfo(name)
            if link is not None:
                info.type, info.linkname = tarfile.SYMTYPE, link
                tar.addfile(info)
            else:
                data = content if isinstance(content, bytes) else (content or "").encode()
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_extract_tar_filters_and_resolves_links(fc: ModuleType, tmp_path: Path) -> None:
    keep = ("g/factions/*/*.xml", "g/music/*.ogg")
    data = _tar_bytes([
        ("./", None, None),
        ("./g/factions/magic/magic.xml", "<faction/>", None),
        ("./g/factions/tech/tech.xml", None, "../magic/magic.xml"),  # a kept link to a kept file
        ("./g/music/a.ogg", "A", None),
        ("./g/music/b.ogg", None, "../../shared/b.ogg"),  # a kept link to a file KEEP does not take
        ("./shared/b.ogg", "B", None),
        ("./g/sounds/click.ogg", "no", None),
        ("../evil.ogg", "no", None),
        ("./usr/share/doc/pkg/copyright", "License: GPL-2+", None),
    ])
    dest = tmp_path / "out"
    res = fc.extract_tar(io.BytesIO(data), dest, keep, extra=("usr/share/doc/pkg/copyright",))
    assert set(res.kept) == {"g/factions/magic/magic.xml", "g/music/a.ogg", "usr/share/doc/pkg/copyright"}
    assert res.links == {"g/factions/tech/tech.xml": "g/factions/magic/magic.xml", "g/music/b.ogg": "shared/b.ogg"}

    asked: list[list[str]] = []

    def second_pass(targets: list[str]) -> dict[str, bytes]:
        asked.append(targets)
        out = tmp_path / "side"
        fc.extract_tar(io.BytesIO(data), out, (), extra=targets)
        return {t: (out / t).read_bytes() for t in targets if (out / t).is_file()}

    copied, unresolved = fc.resolve_links(dest, res.links, second_pass)
    assert asked == [["shared/b.ogg"]] and unresolved == []
    assert set(copied) == {"g/factions/tech/tech.xml", "g/music/b.ogg"}
    assert (dest / "g/factions/tech/tech.xml").read_text() == "<faction/>"
    assert (dest / "g/music/b.ogg").read_text() == "B" and not (dest / "g/music/b.ogg").is_symlink()
    assert not (dest / "shared").exists() and not (dest / "g/sounds").exists()
    assert not (tmp_path / "evil.ogg").exists()


def test_extract_archive_member_wise(fc: ModuleType, tmp_path: Path) -> None:
    """0 A.D.: KEEP applies inside public.zip, which sits inside the package."""
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("audio/music/Taiko_1.ogg", "t")
        z.writestr("audio/ambient/wind.ogg", "no")
        z.writestr("gui/common/music.js", 'Music.prototype.DEFAULT_BATTLE_TRACKS = [\n\t"Taiko_1.ogg"\n];\n')
        z.writestr("gui/common/other.js", "no")
        z.writestr("simulation/data/civs/athen.json", json.dumps({"Code": "athen", "Music": []}))
        z.writestr("art/textures/x.png", "no")
    mod = game_module("zero_ad")
    data = _tar_bytes([
        (f"./{mod.ARCHIVE}", zbuf.getvalue(), None),
        ("./usr/share/games/0ad/mods/mod/mod.zip", "no", None),
        ("./usr/share/doc/0ad-data/copyright", "License: CC-BY-SA-3.0", None),
    ])
    dest, inner = tmp_path / "out", tmp_path / "work" / "public.zip"
    res = fc.extract_tar(io.BytesIO(data), dest, (), extra=("usr/share/doc/0ad-data/copyright",),
                         archive=mod.ARCHIVE, archive_to=inner)
    assert res.archive == inner and res.kept == ["usr/share/doc/0ad-data/copyright"]
    kept = fc.extract_zip(inner, dest, mod.KEEP)
    assert set(kept) == {"audio/music/Taiko_1.ogg", "gui/common/music.js", "simulation/data/civs/athen.json"}
    t = {x.path.name: x for x in mod.tracks(dest)}
    assert t["Taiko_1.ogg"].situations == ("battle",)


def _tiny_midi(seconds: float = 2.0) -> bytes:
    """A one-track MIDI file: one note held for ``seconds`` at 120 bpm."""
    ppq = 480
    ticks = int(seconds * 2 * ppq)

    def vlq(v: int) -> bytes:
        out = [v & 0x7F]
        while v > 0x7F:
            v >>= 7
            out.insert(0, (v & 0x7F) | 0x80)
        return bytes(out)

    events = b"\x00\xc0\x00" + b"\x00\x90\x3c\x64" + vlq(ticks) + b"\x80\x3c\x40" + b"\x00\xff\x2f\x00"
    return (b"MThd" + (6).to_bytes(4, "big") + (0).to_bytes(2, "big") + (1).to_bytes(2, "big")
            + ppq.to_bytes(2, "big") + b"MTrk" + len(events).to_bytes(4, "big") + events)


def test_render_midi_file_is_bounded(fc: ModuleType, tmp_path: Path) -> None:
    pytest.importorskip("midirenderer")
    sf = pytest.importorskip("soundfile")
    mid, out = tmp_path / "song.mid", tmp_path / "song.ogg"
    mid.write_bytes(_tiny_midi(3.0))
    seconds = fc.render_midi_file(mid, out, max_seconds=1.0)
    info = sf.info(str(out))
    assert seconds == pytest.approx(1.0, abs=0.01)
    assert info.duration == pytest.approx(1.0, abs=0.05) and info.format == "OGG"


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")
def test_fetch_game_from_a_local_deb_is_idempotent(fc: ModuleType, tmp_path: Path) -> None:
    """The whole path for one game, with a small .deb built here (``--debs``): no apt, no network."""
    pkg = tmp_path / "build"
    _fake_package(pkg)
    (pkg / "DEBIAN").mkdir()
    (pkg / "DEBIAN" / "control").write_text(
        "Package: singularity-music\nVersion: 0.1-1\nArchitecture: all\nMaintainer: test <t@example.org>\n"
        "Description: fixture\n", encoding="utf-8")
    debs = tmp_path / "debs"
    debs.mkdir()
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(pkg),
                    str(debs / "singularity-music_0.1-1_all.deb")], check=True, capture_output=True)
    dest = tmp_path / "corpus"
    line = fc.fetch_game("singularity", dest, debs=debs)
    assert "kept 4 files" in line and "2 tracks" in line
    got = {p.relative_to(dest / "singularity").as_posix() for p in (dest / "singularity").rglob("*") if p.is_file()}
    assert got == SING_KEPT | {".done"}
    stamp = json.loads((dest / "singularity" / ".done").read_text())
    assert stamp["package"] == "singularity-music" and stamp["version"] == "0.1-1" and stamp["tracks"] == 2
    assert (debs / "singularity-music_0.1-1_all.deb").is_file()  # a --debs file is the user's: kept
    assert not (dest / ".work").exists()
    assert "already there" in fc.fetch_game("singularity", dest, debs=debs)
    assert "kept 4 files" in fc.fetch_game("singularity", dest, debs=debs, force=True)
