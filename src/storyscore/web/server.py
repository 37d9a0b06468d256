"""A small local web server over the same operations as the command line.

* ``GET /`` the page; ``GET /api/info``, ``GET /api/library`` the library;
* ``POST /api/match`` ``{"text", "top"}`` → the `match --json` object, each result with its ``track_id``;
* ``POST /api/plan?name=FILE&scenes=N&wpm=W`` with the story as the body (text, Markdown or EPUB bytes in
  any encoding) → the `plan --json` object plus a ``plan_id``;
* ``POST /api/mix?plan=ID&crossfade=S`` → that plan's soundtrack rendered as Ogg Vorbis (`plan.mix`); the
  server keeps the last `KEPT_PLANS` plans;
* ``GET /audio/<track_id>`` the track's file, with byte ranges so the browser can seek. Only files the
  library holds are served, by id, never a path from the request.

All model and store work runs on one worker thread (SQLite connections and the models stay on the thread
that made them; requests queue), while audio streams on the request threads. The matcher is reopened when
another process changes the library (``PRAGMA data_version``), so `storyscore index` can run beside it.
"""

from __future__ import annotations

import json
import mimetypes
import re
import shutil
import tempfile
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from storyscore.errors import InputError, StoryscoreError

T = TypeVar("T")
MAX_BODY_BYTES = 64 * 1024 * 1024  # a long EPUB with images; more is refused before it is read
MAX_TOP = 100
KEPT_PLANS = 8  # plans a later /api/mix can render
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


class Engine:
    """The library opened in one space, used from a single worker thread."""

    def __init__(self, db: Path, space: Any, progress: Callable[[int, int, str], None] | None = None) -> None:
        self.db = db
        self.space = space  # a zero-shot space name or a loaded trained space
        self.progress = progress  # while a trained space that reads audio embeds the library
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="storyscore-engine")
        self._matcher: Any = None
        self._version: int | None = None
        self._plans: OrderedDict[str, Any] = OrderedDict()
        self._plans_lock = threading.Lock()

    def remember(self, plan: Any) -> str:
        """Keep a plan for `/api/mix`; returns its id (the oldest of more than `KEPT_PLANS` is dropped)."""
        plan_id = uuid.uuid4().hex[:12]
        with self._plans_lock:
            self._plans[plan_id] = plan
            while len(self._plans) > KEPT_PLANS:
                self._plans.popitem(last=False)
        return plan_id

    def recall(self, plan_id: str) -> Any:
        with self._plans_lock:
            return self._plans.get(plan_id)

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(matcher, *args)` on the worker thread with an up-to-date matcher."""
        return self._pool.submit(self._call, fn, *args).result()

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return fn(self._current(), *args)

    def _current(self) -> Any:
        from storyscore.search import Matcher

        if self._matcher is not None:
            version = self._matcher.store.conn.execute("PRAGMA data_version").fetchone()[0]
            if version == self._version:
                return self._matcher
            self._matcher.close()  # another process indexed: reload tracks and vectors
            self._matcher = None
        matcher = Matcher(self.db, self.space, progress=self.progress)
        self._matcher = matcher
        self._version = matcher.store.conn.execute("PRAGMA data_version").fetchone()[0]
        return matcher

    def close(self) -> None:
        def shut(_: Any = None) -> None:
            if self._matcher is not None:
                self._matcher.close()
                self._matcher = None

        self._pool.submit(shut).result()
        self._pool.shutdown()


# --- operations (run on the engine's thread) ----------------------------------------------------------


def info(matcher: Any) -> dict[str, Any]:
    from storyscore import __version__
    from storyscore.store import PIPELINE_VERSION

    return {"storyscore": __version__, "pipeline": PIPELINE_VERSION, "library": str(matcher.store.path),
            "space": matcher.space_name, "tracks": len(matcher.ids), "skipped": len(matcher.skipped)}


def library(matcher: Any) -> dict[str, Any]:
    tracks = matcher.stored(list(matcher.ids))
    return {"tracks": [{"track_id": t.track_id, "path": t.path, "duration": round(t.duration, 3),
                        "valence": round(t.valence, 4), "arousal": round(t.arousal, 4), "moods": list(t.moods)}
                       for t in sorted(tracks, key=lambda t: t.path)]}


def match(matcher: Any, text: str, top: int) -> dict[str, Any]:
    from storyscore.search import match_json

    emotion, results = matcher.match(text, top)
    out = match_json(matcher.space_name, emotion, results)
    for entry, r in zip(out["results"], results, strict=True):
        entry["track_id"] = r.track_id
    return out


def plan(matcher: Any, data: bytes, name: str, scenes: int | None, wpm: float) -> Any:  # -> Plan
    from storyscore.soundtrack.model import PlanOptions, auto_min_words
    from storyscore.soundtrack.planner import make_plan
    from storyscore.soundtrack.reader import read_story

    suffix = Path(name).suffix.lower() if Path(name).suffix.lower() in (".txt", ".md", ".epub") else ".txt"
    with tempfile.TemporaryDirectory(prefix="storyscore-web-") as tmp:
        path = Path(tmp) / f"{Path(name).stem or 'story'}{suffix}"
        path.write_bytes(data)
        try:
            story = read_story(path)
        except StoryscoreError as exc:  # name the upload, not the temporary file
            raise type(exc)(str(exc).replace(str(path), name)) from None
    min_words = auto_min_words(story.n_words)
    options = PlanOptions(min_words=min_words, max_words=max(3000, min_words * 2), n_scenes=scenes,
                          words_per_minute=wpm)
    return make_plan(story, matcher, options=options)


def track_path(matcher: Any, track_id: int) -> str | None:
    found = matcher.store.tracks([track_id])
    return found[0].path if found else None


# --- HTTP ----------------------------------------------------------------------------------------------


def _page() -> bytes:
    return resources.files("storyscore.web").joinpath("static/index.html").read_bytes()


class Handler(BaseHTTPRequestHandler):
    server_version = "storyscore"
    engine: Engine  # set on the subclass made by `make_server`
    quiet = False

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        if not self.quiet:
            super().log_message(format, *args)

    # --- responses ---
    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, obj: Any, status: int = 200) -> None:
        self._send(status, json.dumps(obj).encode("utf-8"), "application/json; charset=utf-8")

    def _error(self, status: int, message: str) -> None:
        self._json({"error": message}, status)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise _HTTPError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                             f"the upload is {length / 2**20:.0f} MB; the most this server reads is "
                             f"{MAX_BODY_BYTES // 2**20} MB")
        return self.rfile.read(length) if length else b""

    def _guarded(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except _HTTPError as exc:
            self._error(exc.status, exc.message)
        except StoryscoreError as exc:  # bad input or an unusable library: the one-line message
            self._error(HTTPStatus.BAD_REQUEST if isinstance(exc, InputError) else HTTPStatus.CONFLICT, str(exc))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the browser went away (a skipped track, a closed tab)
        except Exception as exc:  # a bug: answer in one line and keep serving
            self.log_error("internal error on %s: %r", self.path, exc)
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"internal error: {type(exc).__name__}: {exc}")

    # --- routes ---
    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        self._guarded(self._get)

    def do_POST(self) -> None:
        self._guarded(self._post)

    def _get(self) -> None:
        path = urlsplit(self.path).path
        if path in ("/", "/index.html"):
            self._send(200, _page(), "text/html; charset=utf-8")
        elif path == "/api/info":
            self._json(self.engine.run(info))
        elif path == "/api/library":
            self._json(self.engine.run(library))
        elif m := re.fullmatch(r"/audio/(\d+)", path):
            self._audio(int(m.group(1)))
        else:
            raise _HTTPError(HTTPStatus.NOT_FOUND, f"{path}: no such page")

    def _post(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if url.path == "/api/match":
            try:
                request = json.loads(self._body() or b"{}")
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise _HTTPError(HTTPStatus.BAD_REQUEST, f"the request is not JSON ({exc})") from None
            if not isinstance(request, dict) or not isinstance(request.get("text"), str):
                raise _HTTPError(HTTPStatus.BAD_REQUEST, 'send {"text": "the passage", "top": 10}')
            top = _number(request.get("top", 10), "top", 1, MAX_TOP)
            self._json(self.engine.run(match, request["text"], top))
        elif url.path == "/api/plan":
            data = self._body()
            if not data.strip():
                raise _HTTPError(HTTPStatus.BAD_REQUEST, "the story is empty")
            scenes = _number(query["scenes"], "scenes", 1, 10_000) if query.get("scenes") else None
            wpm = _number(query.get("wpm", "150"), "wpm", 20, 1000, float)
            made = self.engine.run(plan, data, query.get("name", "story.txt"), scenes, wpm)
            self._json({**made.to_json(), "plan_id": self.engine.remember(made)})
        elif url.path == "/api/mix":
            self._mix(query.get("plan", ""), _number(query.get("crossfade", "3"), "crossfade", 0, 30, float))
        else:
            raise _HTTPError(HTTPStatus.NOT_FOUND, f"{url.path}: no such endpoint")

    def _mix(self, plan_id: str, crossfade: float) -> None:
        """Render on this request's thread (it reads audio files, not the store), so matching stays free."""
        from storyscore.soundtrack.mix import render_mix

        made = self.engine.recall(plan_id)
        if made is None:
            raise _HTTPError(HTTPStatus.NOT_FOUND, f"no plan {plan_id!r} here (plan the story again)")
        with tempfile.TemporaryDirectory(prefix="storyscore-mix-") as tmp:
            result = render_mix(made, Path(tmp) / "soundtrack.ogg", crossfade=crossfade)
            self.send_response(200)  # streamed from the file: a book's soundtrack can be hundreds of MB
            self.send_header("Content-Type", "audio/ogg")
            self.send_header("Content-Length", str(result.path.stat().st_size))
            self.send_header("Content-Disposition", 'attachment; filename="soundtrack.ogg"')
            self.send_header("X-Storyscore-Warnings", json.dumps(result.warnings, ensure_ascii=True)[:2000])
            self.end_headers()
            with result.path.open("rb") as f:
                shutil.copyfileobj(f, self.wfile, 1 << 16)

    def _audio(self, track_id: int) -> None:
        found = self.engine.run(track_path, track_id)
        if found is None:
            raise _HTTPError(HTTPStatus.NOT_FOUND, f"no track {track_id} in the library")
        path = Path(found)
        try:
            size = path.stat().st_size
            handle = path.open("rb")
        except OSError as exc:
            raise _HTTPError(HTTPStatus.NOT_FOUND, f"{path}: cannot read ({exc.strerror or exc})") from None
        with handle:
            start, end, status = 0, size - 1, HTTPStatus.OK
            if m := _RANGE.match(self.headers.get("Range", "").strip()):
                if m.group(1):
                    start, end = int(m.group(1)), int(m.group(2)) if m.group(2) else size - 1
                elif m.group(2):  # the last N bytes
                    start = max(0, size - int(m.group(2)))
                end = min(end, size - 1)
                if start > end:
                    self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = HTTPStatus.PARTIAL_CONTENT
            self.send_response(status)
            self.send_header("Content-Type", mimetypes.guess_type(path.name)[0] or "application/octet-stream")
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(end - start + 1))
            if status == HTTPStatus.PARTIAL_CONTENT:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            if self.command == "HEAD":
                return
            handle.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = handle.read(min(1 << 16, left))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)


class _HTTPError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = int(status), message


def _number(value: Any, name: str, low: float, high: float, kind: type = int) -> Any:
    """`value` as `kind` (int or float) within [low, high], else a 400 naming the parameter."""
    try:
        x = kind(value)
    except (TypeError, ValueError):
        raise _HTTPError(HTTPStatus.BAD_REQUEST,
                         f"{name} must be a {'whole number' if kind is int else 'number'}") from None
    if not low <= x <= high:
        raise _HTTPError(HTTPStatus.BAD_REQUEST, f"{name} must be between {low:g} and {high:g}")
    return x


def make_server(db: Path, space: Any, host: str = "127.0.0.1", port: int = 8765, quiet: bool = False,
                progress: Callable[[int, int, str], None] | None = None) -> tuple[ThreadingHTTPServer, Engine]:
    """A server bound to (host, port) (port 0: any free one) and its engine; the library is opened (and,
    for a trained space, embedded) before it returns, so the first request is fast."""
    engine = Engine(db, space, progress)
    engine.run(info)  # open now: a missing or wrong-version library fails here, with its message
    handler = type("BoundHandler", (Handler,), {"engine": engine, "quiet": quiet})
    try:
        server = ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        engine.close()
        raise InputError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); pick another with --port") from None
    server.daemon_threads = True
    return server, engine


__all__ = ["Engine", "Handler", "make_server"]
