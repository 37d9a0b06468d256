"""`storyscore serve` under attack: one regression test per finding of issue #10, each of which the old
standard-library server failed (it answered foreign Host headers, took cross-site POSTs, read to EOF on
`Content-Length: -1`, inflated EPUB bombs, served symlinks swapped in, leaked exception text in 500s, and
queued audio behind model work)."""

from __future__ import annotations

import io
import json
import os
import socket
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow  # real models, servers or browsers: `pytest -m 'not slow'` skips these


def _request(url: str, method: str = "GET", body: bytes | None = None,
             headers: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, Any, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def _raw(web: Any, data: bytes, timeout: float = 10) -> bytes:
    """Send raw bytes (headers a client library would refuse to send) and read the whole answer."""
    host, port = web.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _one_line_error(status: int, body: bytes) -> str:
    """The error contract: a 4xx with {"error": "one line"}, no exception text, no paths."""
    assert 400 <= status < 500, (status, body[:300])
    error = json.loads(body)["error"]
    assert isinstance(error, str) and "\n" not in error and len(error) <= 300
    assert "/tmp" not in error and "Traceback" not in error and "Error:" not in error, error
    return error


def _post(web: Any, path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
    return _request(web.url + path, "POST", body, {"Content-Type": "application/json",
                                                   "X-Storyscore-Token": web.token, **(headers or {})})


# --- Host, Origin, token ---------------------------------------------------------------------------------


def test_foreign_host_header_is_refused(web_server: Any) -> None:
    """DNS rebinding: a page on evil.example that resolves to 127.0.0.1 must read nothing."""
    status, _, body = _request(web_server.url + "/api/library", headers={"Host": "evil.example"})
    assert status == 421 and "Host" in _one_line_error(status, body) and b"/" not in body.split(b'"error"')[0]
    assert str(web_server.library).encode() not in body
    for host in ("localhost", f"127.0.0.1:{web_server.url.rsplit(':', 1)[1]}"):
        assert _request(web_server.url + "/api/info", headers={"Host": host})[0] == 200


def test_cross_site_posts_are_refused_before_reading(web_server: Any) -> None:
    """A `no-cors` POST from another origin (it cannot add the token header) is refused."""
    story = b"The wolves howled. " * 50
    status, _, body = _request(web_server.url + "/api/plan?name=a.txt", "POST", story,
                               {"Origin": "http://evil.example", "Content-Type": "text/plain"})
    assert status == 403 and "Origin" in _one_line_error(status, body)
    status, _, body = _request(web_server.url + "/api/plan?name=a.txt", "POST", story, {"Content-Type": "text/plain"})
    assert status == 403 and "X-Storyscore-Token" in _one_line_error(status, body)
    status, _, body = _post(web_server, "/api/match", b'{"text": "A storm.", "top": 1}',
                            {"X-Storyscore-Token": "guess", "Origin": web_server.url})
    assert status == 403
    status, _, _ = _post(web_server, "/api/match", b'{"text": "A storm.", "top": 1}', {"Origin": web_server.url})
    assert status == 200  # the page itself: same origin, right token
    page = _request(web_server.url + "/")[2]
    assert web_server.token.encode() in page  # where the page gets it


# --- bodies ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("length", "status"), [("-1", 400), ("abc", 400), (str(10**12), 413), ("9" * 5000, 400)])
def test_bad_content_length_is_refused_before_reading(web_server: Any, length: str, status: int) -> None:
    head = (f"POST /api/plan?name=a.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Storyscore-Token: {web_server.token}\r\n"
            f"Content-Type: text/plain\r\nContent-Length: {length}\r\n\r\n").encode()
    started = time.monotonic()
    answer = _raw(web_server, head + b"x" * 1000)  # far less than announced: a server that reads would hang
    assert time.monotonic() - started < 5
    code = int(answer.split(b" ", 2)[1])
    assert code == status, answer[:200]
    _one_line_error(code, answer.split(b"\r\n\r\n", 1)[1])


def test_chunked_body_over_the_limit_is_cut_off(web_server: Any) -> None:
    """A body without Content-Length is counted as it arrives and refused past 64 MB."""
    head = (f"POST /api/match HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Storyscore-Token: {web_server.token}\r\n"
            "Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n").encode()
    chunk = b"a" * (1 << 20)
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(70)) + b"0\r\n\r\n"
    answer = _raw(web_server, head + body, timeout=30)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


# --- EPUB limits -----------------------------------------------------------------------------------------


def _epub(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                     for i in range(1, 10))
          + b']><container><rootfiles><rootfile full-path="&lol9;"/></rootfiles></container>')


@pytest.mark.parametrize(("members", "message"), [
    ({"META-INF/container.xml": b" " * (80 * 2**20)}, "per file"),  # 80 MB of spaces in a 80 KB zip
    ({f"OEBPS/c{i}.xhtml": b" " * (60 * 2**20) for i in range(5)}, "at most 256 MB"),
    ({f"f{i}.txt": b"" for i in range(10_001)}, "files inside"),
    ({"META-INF/container.xml": LAUGHS}, "entities"),
])
def test_epub_bombs_are_refused_quickly(web_server: Any, members: dict[str, bytes], message: str) -> None:
    data = _epub(members)
    assert len(data) < 2 * 2**20
    started = time.monotonic()
    status, _, body = _request(web_server.url + "/api/plan?name=bomb.epub", "POST", data,
                               {"X-Storyscore-Token": web_server.token, "Content-Type": "application/epub+zip"})
    error = _one_line_error(status, body)
    assert message in error and "bomb.epub" in error and time.monotonic() - started < 5


def test_reader_limits_apply_to_the_cli_too(tmp_path: Path) -> None:
    from storyscore.errors import TextInputError
    from storyscore.story.reader import read_story

    path = tmp_path / "bomb.epub"
    path.write_bytes(_epub({"META-INF/container.xml": LAUGHS}))
    with pytest.raises(TextInputError, match="entities"):
        read_story(path)


# --- audio -----------------------------------------------------------------------------------------------


def _tracks(web: Any) -> list[dict]:
    return json.loads(_request(web.url + "/api/library")[2])["tracks"]


def test_audio_refuses_a_file_swapped_for_a_symlink(web_server: Any, tmp_path: Path) -> None:
    track = _tracks(web_server)[0]
    path = Path(track["path"])
    secret = tmp_path / "secret.txt"
    secret.write_text("not music\n")
    aside = tmp_path / "original"
    os.rename(path, aside)
    try:
        path.symlink_to(secret)
        status, _, body = _request(f"{web_server.url}/audio/{track['track_id']}")
        assert status == 409 and "index" in _one_line_error(status, body) and b"not music" not in body
        path.unlink()
        path.write_bytes(aside.read_bytes() + b"tail")  # same name, other content
        status, _, body = _request(f"{web_server.url}/audio/{track['track_id']}")
        assert status == 409
    finally:
        path.unlink(missing_ok=True)
        os.rename(aside, path)  # rename keeps the recorded mtime: the track is served again
    assert _request(f"{web_server.url}/audio/{track['track_id']}")[0] == 200


@pytest.mark.parametrize(("path", "headers"), [
    ("/audio/9223372036854775808", {}),
    ("/audio/" + "9" * 400, {}),
    ("/audio/-1", {}),
    ("/audio/{id}", {"Range": "bytes=" + "9" * 5000 + "-"}),
    ("/audio/{id}", {"Range": "bytes=" + "9" * 100 + "-"}),
    ("/api/jobs/..%2F..%2Fetc", {}),
])
def test_bad_audio_and_job_requests_get_one_line_4xx(web_server: Any, path: str, headers: dict[str, str]) -> None:
    track_id = _tracks(web_server)[0]["track_id"]
    status, _, body = _request(web_server.url + path.format(id=track_id), headers=headers)
    _one_line_error(status, body)


@pytest.mark.parametrize(("path", "body"), [
    ("/api/match", b'{"text": "A storm.", "top": Infinity}'),
    ("/api/match", b'{"text": "A storm.", "top": 1e400}'),
    ("/api/match", b'{"text": "A storm.", "top": NaN}'),
    ("/api/match", b'{"text": "A storm.", "top": 99999999999999999999999999999}'),
    ("/api/match", b'{"text": "A storm.", "top": true}'),
    ("/api/match", b'{"text": "\\ud800 lone"}'),
    ("/api/match", b"[" * 100_000),
    ("/api/match", b"\xff\xfe not utf-8"),
    ("/api/plan?name=a%00b.txt", b"A story."),
    ("/api/plan?name=" + "a" * 300 + ".txt", b"A story."),
    ("/api/plan?name=x.txt&scenes=99999999999999999999999", b"A story."),
    ("/api/plan?name=x.txt&wpm=inf", b"A story."),
    ("/api/plan?name=x.txt&wpm=nan", b"A story."),
    ("/api/mix?plan=0123456789ab&crossfade=1e400", b""),
    ("/api/jobs/replan?plan=0123456789ab", b'{"fixed": {"0": 1}}'),
])
def test_hostile_inputs_get_one_line_4xx(web_server: Any, path: str, body: bytes) -> None:
    status, _, answer = _post(web_server, path, body)
    _one_line_error(status, answer)


def test_security_headers_and_no_server_version(web_server: Any) -> None:
    for path in ("/", "/api/info", "/static/app.js", "/api/nothing"):
        _, headers, _ = _request(web_server.url + path)
        assert "default-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "Server" not in headers


# --- availability ----------------------------------------------------------------------------------------


def test_audio_library_and_info_do_not_wait_for_model_work(web_server: Any) -> None:
    """The engine thread busy for 4 s (as in a novel's plan): reads still answer at once."""
    busy = web_server.engine.submit(lambda matcher: time.sleep(4))
    try:
        time.sleep(0.1)
        track_id = _tracks(web_server)[0]["track_id"]
        for path, headers in [("/api/library", {}), ("/api/info", {}), (f"/audio/{track_id}", {"Range": "bytes=0-99"}),
                              ("/audio/999999", {}), ("/", {})]:
            started = time.monotonic()
            status, _, _ = _request(web_server.url + path, headers=headers)
            assert status in (200, 206, 404) and time.monotonic() - started < 1.0, path
        assert not busy.done()
    finally:
        busy.result()


def test_idle_half_sent_connections_are_closed(web_server: Any) -> None:
    """200 clients that never finish their headers: the server keeps answering, and drops them (the test
    server's header timeout is 2 s)."""
    host, port = web_server.url.removeprefix("http://").rsplit(":", 1)
    idle = []
    for _ in range(200):
        s = socket.create_connection((host, int(port)), timeout=10)
        s.sendall(b"GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ")
        idle.append(s)
    try:
        started = time.monotonic()
        assert _request(web_server.url + "/api/info", timeout=5)[0] == 200
        assert time.monotonic() - started < 1.0
        closed = 0
        for s in idle:
            try:
                closed += s.recv(1) == b""
            except (ConnectionResetError, TimeoutError):
                closed += 1
        assert closed == len(idle) and time.monotonic() - started < 15
    finally:
        for s in idle:
            s.close()


def test_an_abandoned_mix_stops_rendering(web_server: Any) -> None:
    """A client that reads a few bytes of a long mix and leaves: the render is cancelled, not finished."""
    story = "\n\n".join(["The storm broke over the hills and the riders fled."] * 4 +
                        ["Then came a long and quiet calm, the sun warm on the meadow."] * 4)
    status, _, body = _post(web_server, "/api/plan?name=long.txt&scenes=2&wpm=20", story.encode(),
                            {"Content-Type": "text/plain"})
    plan = json.loads(body)
    assert status == 200 and plan["total_seconds"] > 200  # several minutes of audio to render
    host, port = web_server.url.removeprefix("http://").rsplit(":", 1)
    conn = socket.create_connection((host, int(port)), timeout=60)
    conn.sendall((f"POST /api/mix?plan={plan['plan_id']}&crossfade=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  f"X-Storyscore-Token: {web_server.token}\r\nContent-Length: 0\r\n\r\n").encode())
    head = conn.recv(4096)
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    job_id = next(line.split(b":", 1)[1].strip().decode() for line in head.split(b"\r\n")
                  if line.lower().startswith(b"x-storyscore-job:"))
    conn.close()
    deadline = time.monotonic() + 15
    job = {}
    while time.monotonic() < deadline:
        job = json.loads(_request(f"{web_server.url}/api/jobs/{job_id}")[2])
        if job["state"] != "running":
            break
        time.sleep(0.2)
    assert job["state"] == "cancelled" and job["done"] < job["total"], job
