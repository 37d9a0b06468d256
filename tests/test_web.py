"""`storyscore serve` end to end: the real models behind the HTTP API, byte-range audio, bad requests answered
with one-line JSON errors, plan jobs with progress, the streamed mix, and a library indexed while the server
runs picked up without a restart. (Attacks: test_web_security.py; fuzzing: test_web_fuzz.py; the page in
Chromium: test_browser.py.)"""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from storyscore.library.indexer import index_paths

pytestmark = pytest.mark.slow  # real models, servers or browsers: `pytest -m 'not slow'` skips these


@pytest.fixture(scope="module")
def served(web_server: Any) -> tuple[str, Path, Path]:
    """The shared server (tests/conftest.py): its URL, its music folder and the track held back from it."""
    return web_server.url, web_server.library, web_server.held_back


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=120) as r:
            return r.status, r.headers, r.read()  # type: ignore[return-value] (case-insensitive)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()  # type: ignore[return-value]


_TOKENS: dict[str, str] = {}


def _token(url: str) -> str:
    """The session token state-changing requests need (what the page reads from its HTML)."""
    base = url.split("/api/")[0].split("/audio/")[0]
    if base not in _TOKENS:
        _TOKENS[base] = json.loads(_get(base + "/api/session")[2])["token"]
    return _TOKENS[base]


def _post(url: str, body: bytes, content_type: str = "application/json") -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": content_type, "X-Storyscore-Token": _token(url)})
    try:
        with urllib.request.urlopen(request, timeout=300) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_page_info_and_library(served: tuple[str, Path, Path]) -> None:
    url, _, _ = served
    status, headers, body = _get(url + "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"<title>storyscore</title>" in body and b"/static/app.js" in body
    script = _get(url + "/static/app.js")[2]
    assert b"/api/match" in script
    for part in (body, script, _get(url + "/static/app.css")[2]):  # nothing fetched from outside: works offline
        assert b"http://" not in part and b"https://" not in part
    status, _, body = _get(url + "/api/info")
    info = json.loads(body)
    assert status == 200 and info["space"] == "fused" and info["tracks"] == 4
    tracks = json.loads(_get(url + "/api/library")[2])["tracks"]
    assert len(tracks) == 4 and all(-1 <= t["valence"] <= 1 and t["moods"] for t in tracks)
    # sorted by what the page shows: the path under the music folder (sub-folders included)
    names = [t["name"] for t in tracks]
    assert names == sorted(names, key=str.lower) and "slow/dark minor.flac" in names


def test_match_and_audio_ranges(served: tuple[str, Path, Path]) -> None:
    url, _, _ = served
    status, out = _post(url + "/api/match", json.dumps({"text": "They danced and laughed in the bright sun.",
                                                        "top": 3}).encode())
    assert status == 200 and out["space"] == "fused" and len(out["results"]) == 3
    best = out["results"][0]
    assert {"path", "score", "valence", "arousal", "moods", "why", "track_id"} <= set(best)
    size = Path(best["path"]).stat().st_size

    status, headers, body = _get(f"{url}/audio/{best['track_id']}")
    assert status == 200 and len(body) == size and headers["Accept-Ranges"] == "bytes"
    assert body == Path(best["path"]).read_bytes()
    status, headers, body = _get(f"{url}/audio/{best['track_id']}", {"Range": "bytes=10-109"})
    assert status == 206 and body == Path(best["path"]).read_bytes()[10:110]
    assert headers["Content-Range"] == f"bytes 10-109/{size}"
    status, headers, body = _get(f"{url}/audio/{best['track_id']}", {"Range": "bytes=-50"})
    assert status == 206 and body == Path(best["path"]).read_bytes()[-50:]
    status, headers, _ = _get(f"{url}/audio/{best['track_id']}", {"Range": f"bytes={size + 10}-"})
    assert status == 416 and headers["Content-Range"] == f"bytes */{size}"


@pytest.mark.parametrize(("path", "body", "status", "message"), [
    ("/api/match", b'{"text": "   "}', 400, "empty"),
    ("/api/match", b"{not json", 400, "not JSON"),
    ("/api/match", b'{"text": "A storm.", "top": 0}', 400, "top must be between"),
    ("/api/match", b'["a list"]', 400, '"text"'),
    ("/api/plan", b"", 400, "empty"),
    ("/api/plan?scenes=x", b"Some story.", 400, "scenes must be a whole number"),
    ("/api/plan?name=book.epub", b"PK\x03\x04 this is no epub", 400, "book.epub: "),
    ("/api/nothing", b"{}", 404, "no such page or endpoint"),
])
def test_bad_requests_get_one_line_errors(served: tuple[str, Path, Path], path: str, body: bytes, status: int,
                                          message: str) -> None:
    url, _, _ = served
    got, out = _post(url + path, body)
    assert got == status and message in out["error"] and "\n" not in out["error"]


def test_unknown_track_and_page(served: tuple[str, Path, Path]) -> None:
    url, _, _ = served
    status, _, body = _get(url + "/audio/999999")
    assert status == 404 and "no track 999999" in json.loads(body)["error"]
    status, _, body = _get(url + "/etc/passwd")
    assert status == 404


def test_plan_a_story_and_pick_up_new_tracks(served: tuple[str, Path, Path]) -> None:
    url, library, held_back = served
    story = ("# The Storm\n\nThe children played in the meadow, laughing in the warm sun. Everyone was happy.\n\n"
             "Then the sky went black. Thunder roared and the wolves howled; the children ran in terror.\n\n"
             "At last they reached home, safe and warm by the fire, and their mother held them close.\n")
    status, plan = _post(url + "/api/plan?name=storm.md&scenes=2", story.encode("utf-16"), "text/plain")
    assert status == 200 and len(plan["scenes"]) == 2
    assert all(s["track"] and s["track"]["track_id"] for s in plan["scenes"])
    assert "The children played" in plan["scenes"][0]["text"]  # the UTF-16 upload decoded
    assert plan["source"] == "storm.md" and "storyscore-web-" not in json.dumps(plan)  # no temporary paths

    status, headers, body = _get(f"{url}/api/plans/{plan['plan_id']}/playlist.m3u")
    m3u = body.decode()
    assert status == 200 and m3u.startswith("#EXTM3U") and str(library) not in m3u  # relative, like the CLI's
    assert all(not line.startswith("/") for line in m3u.splitlines())

    request = urllib.request.Request(f"{url}/api/mix?plan={plan['plan_id']}&crossfade=1", data=b"", method="POST",
                                     headers={"X-Storyscore-Token": _token(url)})
    with urllib.request.urlopen(request, timeout=300) as r:  # streamed while it renders: no Content-Length
        assert r.status == 200 and r.headers["Content-Type"] == "audio/ogg"
        job_id = r.headers["X-Storyscore-Job"]
        mix = r.read()
    assert mix[:4] == b"OggS"
    job = json.loads(_get(f"{url}/api/jobs/{job_id}")[2])
    assert job["state"] == "done" and isinstance(job["result"]["warnings"], list)
    import io

    import soundfile as sf

    audio, sr = sf.read(io.BytesIO(mix))
    reading = sum(s["reading_seconds"] for s in plan["scenes"])
    assert abs(len(audio) / sr - reading) < 0.5  # as long as the story takes to read
    status, out = _post(f"{url}/api/mix?plan=0123456789ab", b"")
    assert status == 404 and "plan the story again" in out["error"]

    shutil.move(held_back, library / held_back.name)
    index_paths([library], Path(json.loads(_get(url + "/api/info")[2])["library"]))
    assert json.loads(_get(url + "/api/info")[2])["tracks"] == 5  # another process indexed: reloaded


def test_plan_job_reports_progress_and_replans_around_a_locked_scene(served: tuple[str, Path, Path]) -> None:
    """The page's path: a background job polled for progress, then a scene swapped and the rest re-planned."""
    import time

    url, _, _ = served
    story = ("A bright morning. The children sang and laughed in the sunny garden.\n\n"
             "Night fell. Wolves howled in the dark forest and the wind screamed.\n\n"
             "Morning again: warm bread, soft light, and everyone safe at home.\n")

    def follow(job: dict) -> dict:
        stages = set()
        deadline = time.monotonic() + 120
        while job["state"] in ("queued", "running") and time.monotonic() < deadline:
            stages.add(job["stage"])
            time.sleep(0.1)
            job = json.loads(_get(f"{url}/api/jobs/{job['job_id']}")[2])
        assert job["state"] == "done", job
        return job["result"]

    status, job = _post(url + "/api/jobs/plan?name=s.txt&scenes=3", story.encode(), "text/plain")
    assert status == 202 and job["state"] in ("queued", "running", "done")
    plan = follow(job)
    assert len(plan["scenes"]) == 3 and plan["plan_id"]
    other = next(t["track_id"] for t in json.loads(_get(url + "/api/library")[2])["tracks"]
                 if t["track_id"] != plan["scenes"][1]["track"]["track_id"])
    status, job = _post(f"{url}/api/jobs/replan?plan={plan['plan_id']}", json.dumps({"fixed": {"1": other}}).encode())
    assert status == 202
    again = follow(job)
    assert again["scenes"][1]["track"]["track_id"] == other and again["locked"] == [1]
    assert [s["start"] for s in again["scenes"]] == [s["start"] for s in plan["scenes"]]  # same scenes
