"""`storyscore serve` end to end: the real models behind the HTTP API, byte-range audio, bad requests answered
with one-line JSON errors, and a library indexed while the server runs picked up without a restart."""

from __future__ import annotations

import json
import shutil
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from storyscore.indexer import index_paths
from storyscore.web.server import make_server


@pytest.fixture(scope="module")
def served(music_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    root = tmp_path_factory.mktemp("web")
    library = root / "music"
    shutil.copytree(music_dir, library)
    extra = library / "low drone.ogg"
    held_back = root / "low drone.ogg"
    extra.rename(held_back)  # indexed later, while the server runs
    db = root / "lib.sqlite"
    index_paths([library], db)
    server, engine = make_server(db, "fused", port=0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield f"http://{host}:{port}", library, held_back
    server.shutdown()
    server.server_close()
    engine.close()


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=120) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def _post(url: str, body: bytes, content_type: str = "application/json") -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=300) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_page_info_and_library(served: tuple[str, Path, Path]) -> None:
    url, _, _ = served
    status, headers, body = _get(url + "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"<title>storyscore</title>" in body and b"/api/match" in body
    assert b"http://" not in body and b"https://" not in body  # nothing fetched from outside: works offline
    status, _, body = _get(url + "/api/info")
    info = json.loads(body)
    assert status == 200 and info["space"] == "fused" and info["tracks"] == 4
    tracks = json.loads(_get(url + "/api/library")[2])["tracks"]
    assert len(tracks) == 4 and all(-1 <= t["valence"] <= 1 and t["moods"] for t in tracks)


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
    ("/api/nothing", b"{}", 404, "no such endpoint"),
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

    request = urllib.request.Request(f"{url}/api/mix?plan={plan['plan_id']}&crossfade=1", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=300) as r:
        assert r.status == 200 and r.headers["Content-Type"] == "audio/ogg"
        assert isinstance(json.loads(r.headers["X-Storyscore-Warnings"]), list)
        mix = r.read()
    assert mix[:4] == b"OggS" and len(mix) == int(r.headers["Content-Length"])
    import io

    import soundfile as sf

    audio, sr = sf.read(io.BytesIO(mix))
    reading = sum(s["reading_seconds"] for s in plan["scenes"])
    assert abs(len(audio) / sr - reading) < 0.5  # as long as the story takes to read
    status, out = _post(f"{url}/api/mix?plan=nope", b"")
    assert status == 404 and "plan the story again" in out["error"]

    shutil.move(held_back, library / held_back.name)
    index_paths([library], Path(json.loads(_get(url + "/api/info")[2])["library"]))
    assert json.loads(_get(url + "/api/info")[2])["tracks"] == 5  # another process indexed: reloaded
