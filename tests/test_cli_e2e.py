"""End to end through the command line with the real models: index, match --json, plan with exports,
and the one-line errors users see."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from storyscore.cli import main

pytestmark = pytest.mark.slow  # real models, servers or browsers: `pytest -m 'not slow'` skips these

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo library rendered and indexed once for this module."""
    from storyscore.demo.library import render_demo_library
    from storyscore.library.indexer import index_paths

    root = tmp_path_factory.mktemp("demo")
    render_demo_library(root / "library")
    db = root / "library.sqlite"
    report = index_paths([root / "library"], db)
    assert report.total_tracks == 15 and not report.skipped
    return db


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_help_is_instant_and_imports_nothing_heavy() -> None:
    code = ("import sys; from storyscore.cli import build_parser; build_parser().format_help(); "
            "print(sorted(m for m in ('torch', 'librosa', 'numpy', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_python_api_functions_survive_submodule_imports() -> None:
    """`storyscore.plan` and `storyscore.index` stay the functions after every submodule is imported (the
    planning package was once called `plan` and the indexer `index`: importing them, as the functions
    themselves do, replaced the functions on the `storyscore` module)."""
    import pkgutil

    import storyscore

    for module in pkgutil.walk_packages(storyscore.__path__, "storyscore."):
        __import__(module.name)

    assert callable(storyscore.plan) and callable(storyscore.match) and callable(storyscore.index)


def test_index_and_match_json_contract(music_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "lib.sqlite"
    code, out, _ = run_cli(["index", str(music_dir), "--db", str(db), "-q"], capsys)
    assert code == 0 and "5 added" in out
    code, out, _ = run_cli(["match", "--db", str(db), "--json", "--top", "3", "--text",
                            "The wolf burst through the door and the children screamed in terror."], capsys)
    assert code == 0
    result = json.loads(out)
    assert result["space"] == "fused"
    assert len(result["results"]) == 3
    for item in result["results"]:
        assert set(item) >= {"path", "score", "valence", "arousal", "moods", "why"}
        assert Path(item["path"]).exists()
        assert isinstance(item["score"], float)
        assert -1.0 <= item["valence"] <= 1.0 and -1.0 <= item["arousal"] <= 1.0
        assert item["moods"] and all(isinstance(m, str) for m in item["moods"])
        assert "passage" in item["why"] and "VA distance" in item["why"]
        # the music reader's leading cues, e.g. "read from tempo (+arousal), 'loud' tag (+arousal)"
        assert "read from " in item["why"] and ("arousal)" in item["why"] or "valence)" in item["why"])
    scores = [r["score"] for r in result["results"]]
    assert scores == sorted(scores, reverse=True)


def test_storyscore_db_env_is_the_default(music_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "env.sqlite"
    monkeypatch.setenv("STORYSCORE_DB", str(db))
    code, _, _ = run_cli(["index", str(music_dir / "slow"), "-q"], capsys)
    assert code == 0 and db.exists()


@pytest.mark.parametrize("space", ["fused", "va", "tagwords"])
def test_each_space_ranks_the_demo_library_sensibly(demo_db: Path, space: str) -> None:
    """A frightening passage should rank the demo's scary/angry pieces above its calm ones, and a
    peaceful one the reverse (the pieces' intended characters come from the synth rules)."""
    from storyscore.library.search import Matcher

    with Matcher(demo_db, space) as matcher:
        _, scary = matcher.match("Something moved in the dark cellar. She froze, heart pounding, as the "
                                 "growling came closer and the candle went out.", top=15)
        _, calm = matcher.match("The morning was still and warm. She sat in the garden with her tea, "
                                "listening to the bees, content and at peace.", top=15)
    rank_scary = [Path(r.path).stem for r in scary]
    rank_calm = [Path(r.path).stem for r in calm]
    dark = {"The Thing in the Cellar", "night_chase", "Iron Fury", "war_council"}
    gentle = {"Morning Chorale", "lullaby_piano", "homecoming_hymn"}

    def mean_rank(ranking: list[str], names: set[str]) -> float:
        return sum(ranking.index(n) for n in names) / len(names)

    assert mean_rank(rank_scary, dark) < mean_rank(rank_scary, gentle)
    assert mean_rank(rank_calm, gentle) < mean_rank(rank_calm, dark)


def test_plan_follows_the_turns_of_a_story(demo_db: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """calm → danger → grief → triumph: scene cuts within one paragraph of each turn, and the chosen
    music's (V, A) follows the turns."""
    from storyscore.story.reader import read_story

    meta = json.loads((DATA / "turns_story.json").read_text())
    story = read_story(DATA / "turns_story.md")
    body = [(a, b) for a, b in story.paragraphs if not story.text[a:b].lstrip().startswith("#")]
    out_dir = tmp_path / "plan"
    code, out, _ = run_cli(["plan", str(DATA / "turns_story.md"), "--db", str(demo_db), "--json", "-q",
                            "--min-words", "40", "-o", str(out_dir)], capsys)
    assert code == 0
    plan = json.loads(out)
    scenes = plan["scenes"]
    starts = [next(i for i, (a, b) in enumerate(body) if a <= s["start"] < b or s["start"] <= a)
              for s in scenes]
    for turn in meta["turns"]:
        assert min(abs(turn - s) for s in starts) <= 1, (turn, starts)

    def section_of(scene: dict) -> int:
        middle = (scene["start"] + scene["end"]) // 2
        para = next(i for i, (a, b) in enumerate(body) if middle < b)
        return next(k for k, sec in enumerate(meta["sections"]) if sec["start"] <= para < sec["end"])

    by_section: dict[int, list[dict]] = {}
    for scene in scenes:
        by_section.setdefault(section_of(scene), []).append(scene)
    assert set(by_section) == {0, 1, 2, 3}

    def mean(k: int, key: str, track: bool) -> float:
        values = [(s["track"] if track else s)[key] for s in by_section[k]]
        return sum(values) / len(values)

    calm, danger, grief, triumph = 0, 1, 2, 3
    for track in (False, True):  # the passages' reading, then the chosen music's
        assert mean(danger, "arousal", track) > mean(calm, "arousal", track)
        assert mean(grief, "valence", track) < mean(triumph, "valence", track)
        assert mean(grief, "arousal", track) < mean(danger, "arousal", track)
        assert mean(triumph, "valence", track) > mean(danger, "valence", track)

    # every export opens in a standard parser
    assert json.loads((out_dir / "plan.json").read_text())["scenes"]
    ET.parse(out_dir / "playlist.xspf")
    with (out_dir / "cues.csv").open(newline="") as f:
        assert len(list(csv.DictReader(f))) >= 1
    m3u = [line for line in (out_dir / "playlist.m3u").read_text().splitlines() if line and not line.startswith("#")]
    assert m3u and all((out_dir / line).resolve().exists() for line in m3u)
    assert (out_dir / "arc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args,expected", [
    (["match", "--db", "{tmp}/none.sqlite", "--text", "hello"], "no library here yet"),
    (["match", "--db", "{db}", "--text", "   "], "the text is empty"),
    (["match", "--db", "{db}", "{tmp}/missing.txt"], "missing.txt"),
    (["match", "--db", "{db}", "{tmp}/binary.txt"], "binary"),
    (["plan", "--db", "{db}", "{tmp}/empty.txt"], "empty"),
    (["index", "{tmp}/nowhere", "--db", "{tmp}/x.sqlite"], "no such file or folder"),
    (["match", "--db", "{db}", "--space", "nope", "--text", "hi"], "unknown space"),
    (["match", "--db", "{tmp}", "--text", "hi"], "is a folder"),
])
def test_cli_errors_are_one_line(demo_db: Path, tmp_path: Path, args: list[str], expected: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "empty.txt").write_text("\n\n  \n")
    argv = [a.format(tmp=tmp_path, db=demo_db) for a in args]
    code, out, err = run_cli(argv, capsys)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("storyscore: error: "), err
    assert expected in lines[0]
    assert "Traceback" not in err


def test_library_with_no_tracks_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "junk.wav").write_bytes(b"RIFF0000WAVEjunk")
    db = tmp_path / "lib.sqlite"
    code, out, err = run_cli(["index", str(tmp_path), "--db", str(db), "-q"], capsys)
    assert code == 1 and "junk.wav" in err  # nothing usable: non-zero, with the reason
    story = tmp_path / "s.txt"
    story.write_text("It was a dark and stormy night.")
    code, _, err = run_cli(["plan", str(story), "--db", str(db)], capsys)
    assert code != 0 and "no tracks" in err


def test_cli_python_and_web_give_the_same_plan(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One API layer: `storyscore plan`, `storyscore.plan()` and the web page's /api/plan give the same scenes
    and tracks for the demo story (the shortest scene scales with the story in all three)."""
    import threading
    import urllib.request
    from importlib import resources

    import storyscore
    from storyscore.web.server import make_server

    story = resources.files("storyscore").joinpath("data", "demo_story.md")
    with resources.as_file(story) as story_path:
        code, out, _ = run_cli(["plan", str(story_path), "--db", str(demo_db), "--json", "-q"], capsys)
        assert code == 0
        from_cli = json.loads(out)["scenes"]
        from_python = storyscore.plan(story_path, db=demo_db).to_json()["scenes"]
        data = story_path.read_bytes()
    server, engine = make_server(demo_db, "fused", port=0, quiet=True, token="parity")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        request = urllib.request.Request(
            f"http://{host}:{port}/api/plan?name=demo_story.md", data=data, method="POST",
            headers={"Content-Type": "text/markdown", "X-Storyscore-Token": "parity"})
        with urllib.request.urlopen(request, timeout=300) as r:
            from_web = json.loads(r.read())["scenes"]
    finally:
        server.shutdown()
        server.server_close()
        engine.close()
    assert len(from_cli) > 1
    for other in (from_python, from_web):
        assert [(s["start"], s["end"], s["track"]["path"]) for s in other] == \
               [(s["start"], s["end"], s["track"]["path"]) for s in from_cli]
        for a, b in zip(other, from_cli, strict=True):
            assert (a["valence"], a["arousal"]) == pytest.approx((b["valence"], b["arousal"]), abs=1e-6)
