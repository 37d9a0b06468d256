"""The ASGI app of `storyscore serve` (FastAPI): the page, the JSON API, audio and mixes.

Routes (all documented, with their errors, in `/openapi.json`):

* ``GET /`` the page (its token inlined), ``GET /static/app.js|app.css``;
* ``GET /api/session`` the token state-changing requests carry in ``X-Storyscore-Token``;
* ``GET /api/info``, ``GET /api/library`` read the store on the request side: they answer while a plan runs;
* ``POST /api/match`` ``{"text", "top"}`` → the `match --json` object, each result with its ``track_id``;
* ``POST /api/plan?name=FILE&scenes=N&wpm=W`` (body: the story file) → the `plan --json` object plus a
  ``plan_id``; ``POST /api/jobs/plan`` is the same as a background job with progress
  (``GET /api/jobs/ID``, ``DELETE /api/jobs/ID``), cancelled when nobody polls it;
* ``POST /api/jobs/replan?plan=ID`` ``{"fixed": {"3": TRACK_ID}}`` re-plans with some scenes' tracks fixed;
* ``GET /api/plans/ID/playlist.m3u`` the playlist with paths relative to the music folder;
* ``POST /api/mix?plan=ID&crossfade=S`` the plan's soundtrack as Ogg Vorbis, streamed while it renders
  (its job id in ``X-Storyscore-Job`` for progress and warnings); a client that leaves cancels it;
* ``GET /audio/TRACK_ID`` a library file by id, with byte ranges, only while it is still the file indexed.

Every error is ``{"error": "one line"}``: no exception text, no temporary paths.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Header, Query, Request, Security
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from storyscore.errors import InputError, StoryscoreError
from storyscore.web.engine import MIX_WORKERS, Busy, Engine, KeptPlan, Library
from storyscore.web.jobs import Cancelled, Job, Jobs
from storyscore.web.security import BodyTimeout, BodyTooBig

log = logging.getLogger("storyscore.web")

MAX_BODY_BYTES = 64 * 1024 * 1024  # a long EPUB with images; more is refused before it is read
MAX_JSON_BYTES = 4 * 1024 * 1024  # a match passage (200,000 characters) with room for escapes
MAX_TOP = 100
MAX_ID = 2**63 - 1  # SQLite's integer range: larger ids are refused as input, not overflowed
MATCH_TIMEOUT = 120.0  # seconds a match may take (queue included) before the request gives up
PLAN_TIMEOUT = 1800.0  # a 1 MB novel plans in about a minute on 2 cores
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
_PLAN_ID = r"^[0-9a-f]{1,32}$"
_AUDIO_TYPES = {".wav": "audio/wav", ".flac": "audio/flac", ".ogg": "audio/ogg", ".oga": "audio/ogg",
                ".opus": "audio/ogg", ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".aac": "audio/aac"}
_STATIC = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}


# Parameter types (module level: FastAPI resolves the annotations through this module's globals).
Name = Annotated[str, Query(max_length=255, description="the file's name: its extension picks the reader")]
Scenes = Annotated[int | None, Query(ge=1, le=10_000, description="exactly this many scenes")]
Wpm = Annotated[float, Query(ge=20, le=1000, allow_inf_nan=False, description="reading pace, words per minute")]
JobId = Annotated[str, PathParam(pattern=_PLAN_ID, description="a job or plan id")]
PlanId = Annotated[str, Query(pattern=_PLAN_ID, description="the plan_id a plan answered with")]
Crossfade = Annotated[float, Query(ge=0, le=30, allow_inf_nan=False, description="seconds between tracks")]
TrackId = Annotated[int, PathParam(ge=0, le=MAX_ID, description="a track_id from the library or a match")]
RangeHeader = Annotated[str | None, Header(alias="range", max_length=200, description="bytes=START-END")]
Token = Annotated[str | None, Security(APIKeyHeader(
    name="X-Storyscore-Token", auto_error=False,
    description="the token from GET /api/session (required on POST and DELETE)"))]


class ApiError(Exception):
    """A failure the client caused or can act on: answered as `{"error": message}` with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class ErrorBody(BaseModel):
    """Every error: one line, no exception text, no paths of the server's temporary files."""

    error: str


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    text = {400: "bad input", 403: "wrong Origin or missing session token", 404: "no such thing here",
            408: "the body stalled", 409: "the library or file changed: re-index", 411: "length required",
            413: "body over the limit", 416: "range not satisfiable", 421: "Host not allowed",
            503: "busy: try again", 504: "took too long"}
    return {c: {"model": ErrorBody, "description": text.get(c, "error")} for c in codes}


_COMMON = (400, 421)
_UNSAFE = (400, 403, 408, 413, 421)


def one_line(message: str, limit: int = 300) -> str:
    return " ".join(str(message).split())[:limit]


def create_app(engine: Engine, token: str) -> FastAPI:
    """The app for one engine; `token` is the session token the page and API clients must send back."""
    from storyscore.version import __version__

    library = Library(engine.db)
    jobs = Jobs()
    app = FastAPI(title="storyscore", version=__version__, docs_url=None, redoc_url=None,
                  description="Music whose emotion fits a story, from your own library, offline. State-changing "
                              "requests need the X-Storyscore-Token header (GET /api/session).")
    app.state.engine, app.state.jobs, app.state.token = engine, jobs, token

    # --- errors: always {"error": "one line"} ---
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": one_line(exc.message)}, exc.status)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 404:
            message = f"{one_line(request.url.path, 80)}: no such page or endpoint"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed here"
        else:
            message = str(exc.detail)
        return JSONResponse({"error": one_line(message)}, exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        return JSONResponse({"error": one_line(_validation_message(first))}, 400)

    @app.exception_handler(BodyTooBig)
    async def _too_big(_: Request, __: BodyTooBig) -> JSONResponse:
        return JSONResponse({"error": f"the upload is over the {MAX_BODY_BYTES // 2**20} MB this server reads"}, 413)

    @app.exception_handler(BodyTimeout)
    async def _stalled(_: Request, __: BodyTimeout) -> JSONResponse:
        return JSONResponse({"error": "the request body stalled"}, 408)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error on %s", request.url.path, exc_info=exc)
        return JSONResponse({"error": "internal error (the server's log has the details)"}, 500)

    def storyscore_error(exc: StoryscoreError) -> ApiError:
        return ApiError(400 if isinstance(exc, InputError) else 409, str(exc))

    # --- the page ---
    def static_text(name: str) -> str:
        return resources.files("storyscore.web").joinpath(f"static/{name}").read_text("utf-8")

    @app.get("/", include_in_schema=False)
    async def page() -> Response:
        html = static_text("index.html").replace("__STORYSCORE_TOKEN__", token)
        return Response(html, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"})

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        if name not in _STATIC:
            raise ApiError(404, "no such file")
        return Response(static_text(name), media_type=_STATIC[name], headers={"Cache-Control": "no-cache"})

    # --- read-only: never waits for the engine ---
    @app.get("/api/session", responses=_errors(*_COMMON), summary="the session token")
    async def session() -> dict[str, str]:
        """The token to send as `X-Storyscore-Token` on POST and DELETE. Pages on other sites cannot read it
        (no CORS), and DNS-rebinding pages are refused by the Host check."""
        return {"token": token}

    @app.get("/api/info", responses=_errors(*_COMMON, 409), summary="the library and space served")
    async def info() -> dict[str, Any]:
        from storyscore.library.store import PIPELINE_VERSION

        try:
            tracks, skipped = await run_in_threadpool(library.counts, engine.space_name, engine.space_version)
        except StoryscoreError as exc:
            raise storyscore_error(exc) from None
        return {"storyscore": __version__, "pipeline": PIPELINE_VERSION, "library": str(library.db),
                "space": engine.space_name, "tracks": tracks, "skipped": skipped, "ready": engine.ready}

    @app.get("/api/library", responses=_errors(*_COMMON, 409), summary="every track, with its reading")
    async def library_list() -> dict[str, Any]:
        """Tracks sorted by `name`: "Artist – Title" from the file's tags, or the path under the music folder
        for a file whose tags name neither; `title`, `artist`, `album` and `genre` as tagged (or null)."""
        try:
            tracks = await run_in_threadpool(library.tracks)
        except StoryscoreError as exc:
            raise storyscore_error(exc) from None
        root = _common_root([t.path for t in tracks])
        rows = [{"track_id": t.track_id, "path": t.path, "name": _track_name(t, root),
                 "duration": round(t.duration, 3), "valence": round(t.valence, 4), "arousal": round(t.arousal, 4),
                 "moods": list(t.moods), **_tag_fields(t)} for t in tracks]
        rows.sort(key=lambda r: r["name"].lower())
        return {"tracks": rows}

    @app.get("/audio/{track_id}", responses=_errors(*_COMMON, 404, 409, 416),
             response_class=StreamingResponse, summary="a library track's file, with byte ranges")
    async def audio(track_id: TrackId, range_: RangeHeader = None) -> Response:
        """Served only while the file is still the regular file the store recorded (size and modification
        time); otherwise 409: run `storyscore index` again."""
        opened = await run_in_threadpool(_open_audio, library, track_id, range_)
        if isinstance(opened, Response):
            return opened
        handle, start, end, size, content_type = opened
        headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start + 1), "Cache-Control": "no-cache"}
        status = 206 if range_ is not None and _is_range(range_) else 200
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        return StreamingResponse(_file_chunks(handle, start, end - start + 1), status, headers=headers,
                                 media_type=content_type)

    # --- model work: on the engine thread ---
    match_body = {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["text"], "additionalProperties": True,
        "properties": {"text": {"type": "string", "maxLength": 200_000, "description": "the passage"},
                       "top": {"type": "integer", "minimum": 1, "maximum": MAX_TOP, "default": 10}}}}}}

    @app.post("/api/match", responses=_errors(*_UNSAFE, 409, 503, 504), openapi_extra={"requestBody": match_body},
              summary="tracks that fit a passage, best first")
    async def match(request: Request, _: Token = None) -> dict[str, Any]:
        raw = await request.body()
        if len(raw) > MAX_JSON_BYTES:
            raise ApiError(413, f"a passage is at most {MAX_JSON_BYTES // 2**20} MB of JSON; plan whole books")
        body = _parse_json(raw)
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            raise ApiError(400, 'send {"text": "the passage", "top": 10}')
        text = _clean_text(body["text"], "text")
        top = _whole(body.get("top", 10), "top", 1, MAX_TOP)
        try:
            result = await engine.call(_match, text, top, timeout=MATCH_TIMEOUT)
        except Busy as exc:
            raise ApiError(503, str(exc)) from None
        except TimeoutError:
            raise ApiError(504, f"the match took over {MATCH_TIMEOUT:.0f} s") from None
        except StoryscoreError as exc:
            raise storyscore_error(exc) from None
        engine.ready = True
        return result

    story_body = {"required": True, "description": "the story file: text or Markdown in any encoding, or EPUB",
                  "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                              "text/plain": {"schema": {"type": "string"}}}}

    def start_plan(data: bytes, name: str, scenes: int | None, wpm: float) -> Job:
        if not data.strip():
            raise ApiError(400, "the story is empty")
        _check_name(name)
        return start_job(Job("plan"), _plan_work, data, name, scenes, wpm)

    def start_job(job: Job, fn: Any, *args: Any) -> Job:
        jobs.add(job)
        try:
            job.future = engine.submit(_job_runner(engine, job, fn), *args)
        except Busy as exc:
            job.state, job.error = "failed", str(exc)
            raise ApiError(503, str(exc)) from None
        return job

    @app.post("/api/plan", responses=_errors(*_UNSAFE, 409, 503, 504), openapi_extra={"requestBody": story_body},
              summary="a soundtrack for a whole story (waits for it)")
    async def plan(request: Request, name: Name = "story.txt", scenes: Scenes = None, wpm: Wpm = 150.0,
                   _: Token = None) -> dict[str, Any]:
        """The `plan --json` object plus `plan_id`. Runs as a job: if the client disconnects, it is cancelled."""
        job = start_plan(await request.body(), name, scenes, wpm)
        started = time.monotonic()
        assert job.future is not None
        waiting = asyncio.wrap_future(job.future)
        while not waiting.done():
            job.touch()
            if await request.is_disconnected():
                job.cancel()
                raise ApiError(400, "the client left; the plan was cancelled")
            if time.monotonic() - started > PLAN_TIMEOUT:
                job.cancel()
                raise ApiError(504, f"the plan took over {PLAN_TIMEOUT:.0f} s; use POST /api/jobs/plan")
            await asyncio.wait([waiting], timeout=0.25)
        return _job_outcome(job)

    @app.post("/api/jobs/plan", status_code=202, responses=_errors(*_UNSAFE, 503),
              openapi_extra={"requestBody": story_body}, summary="start planning a story in the background")
    async def plan_job(request: Request, name: Name = "story.txt", scenes: Scenes = None, wpm: Wpm = 150.0,
                       _: Token = None) -> dict[str, Any]:
        """Poll `GET /api/jobs/{job_id}` at least every 20 s, or the job is cancelled."""
        return start_plan(await request.body(), name, scenes, wpm).to_json()

    replan_body = {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["fixed"],
        "properties": {"fixed": {"type": "object", "description": "scene index (from 0) → track_id",
                                 "additionalProperties": {"type": "integer", "minimum": 0}}}}}}}

    @app.post("/api/jobs/replan", status_code=202, responses=_errors(*_UNSAFE, 404, 503),
              openapi_extra={"requestBody": replan_body},
              summary="re-plan a story with some scenes' tracks fixed (swapped or locked)")
    async def replan_job(request: Request, plan: PlanId,
                         _: Token = None) -> dict[str, Any]:
        kept = engine.recall(plan)
        if kept is None:
            raise ApiError(404, f"no plan {plan} here (plan the story again)")
        body = _parse_json(await request.body())
        fixed_in = body.get("fixed") if isinstance(body, dict) else None
        if not isinstance(fixed_in, dict):
            raise ApiError(400, 'send {"fixed": {"SCENE": TRACK_ID, ...}}')
        fixed: dict[int, int] = {}
        n = len(kept.plan.scenes)
        for key, value in fixed_in.items():
            scene = _whole(key, "scene", 0, max(0, n - 1))
            fixed[scene] = _whole(value, "track_id", 0, MAX_ID)
        return start_job(Job("replan"), _replan_work, kept, fixed).to_json()

    @app.get("/api/jobs/{job_id}", responses=_errors(*_COMMON, 404), summary="a job's progress and result")
    async def job_status(job_id: JobId) -> dict[str, Any]:
        """`state` is queued, running, done, failed or cancelled; `result` holds the plan when done."""
        job = jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"no job {job_id} here")
        job.touch()
        return job.to_json()

    @app.delete("/api/jobs/{job_id}", responses=_errors(*_UNSAFE, 404), summary="cancel a job")
    async def job_cancel(job_id: JobId, _: Token = None) -> dict[str, Any]:
        job = jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"no job {job_id} here")
        job.cancel()
        return job.to_json()

    @app.get("/api/plans/{plan_id}/playlist.m3u", responses=_errors(*_COMMON, 404),
             response_class=PlainTextResponse, summary="the plan's playlist, paths relative to the music folder")
    async def playlist(plan_id: JobId) -> Response:
        kept = engine.recall(plan_id)
        if kept is None:
            raise ApiError(404, f"no plan {plan_id} here (plan the story again)")
        return Response(_m3u(kept.plan), media_type="audio/x-mpegurl",
                        headers={"Content-Disposition": 'attachment; filename="playlist.m3u"'})

    @app.post("/api/mix", responses=_errors(*_UNSAFE, 404, 503), response_class=StreamingResponse,
              summary="the plan's soundtrack as Ogg Vorbis, streamed as it renders")
    async def mix(plan: PlanId, crossfade: Crossfade = 3.0, _: Token = None) -> Response:
        """No Content-Length (it is not known until the end). `X-Storyscore-Job` names the job:
        `GET /api/jobs/{id}` gives seconds rendered and, at the end, the warnings."""
        kept = engine.recall(plan)
        if kept is None:
            raise ApiError(404, f"no plan {plan} here (plan the story again)")
        if jobs.running("mix") >= MIX_WORKERS:
            raise ApiError(503, "other mixes are rendering; try again when they finish")
        job = jobs.add(Job("mix"))
        tmp = Path(tempfile.mkdtemp(prefix="storyscore-mix-"))
        out = tmp / "soundtrack.ogg"
        future = engine.mix_pool.submit(_mix_work, job, kept.plan, out, crossfade)
        future.add_done_callback(lambda _: shutil.rmtree(tmp, ignore_errors=True))
        waiting = asyncio.wrap_future(future)
        while not waiting.done() and not (out.exists() and out.stat().st_size > 0):
            job.touch()
            await asyncio.wait([waiting], timeout=0.05)
        if waiting.done() and job.state != "done":
            raise ApiError(job.status if job.status >= 400 else 500, job.error or "the mix failed")
        return StreamingResponse(_tail(job, out, waiting), media_type="audio/ogg", headers={
            "X-Storyscore-Job": job.id, "Content-Disposition": 'attachment; filename="soundtrack.ogg"',
            "Cache-Control": "no-store"})

    # FastAPI documents its own 422 shape; this server answers validation errors with 400 {"error"}.
    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = default_openapi()
            for item in schema.get("paths", {}).values():
                for op in item.values():
                    op.get("responses", {}).pop("422", None)
            for name in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(name, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


# --- work on the engine thread / mix pool ----------------------------------------------------------------


def _match(matcher: Any, text: str, top: int) -> dict[str, Any]:
    from storyscore.library.search import match_json

    emotion, results = matcher.match(text, top)
    out = match_json(matcher.space_name, emotion, results)
    for entry, r in zip(out["results"], results, strict=True):
        entry["track_id"] = r.track_id
    return out


def _job_runner(engine: Engine, job: Job, fn: Any) -> Any:
    """`fn(matcher, engine, job, *args)` with the job's state kept: errors become one line for the client."""

    def run(matcher: Any, *args: Any) -> None:
        try:
            job.step("starting", 0, 1)
            result = fn(matcher, engine, job, *args)
        except Cancelled:
            job.error, job.status, job.state = "cancelled (nobody was waiting for it)", 499, "cancelled"
        except StoryscoreError as exc:
            job.error, job.status = one_line(str(exc)), 400 if isinstance(exc, InputError) else 409
            job.state = "failed"
        except Exception:
            log.exception("job %s failed", job.id)
            job.error, job.status, job.state = "internal error (the server's log has the details)", 500, "failed"
        else:
            job.result, job.state = result, "done"

    return run


def _job_outcome(job: Job) -> dict[str, Any]:
    if job.state == "done":
        return job.result
    raise ApiError(job.status if 400 <= job.status < 600 and job.status != 499 else 400, job.error or job.state)


def _read_upload(data: bytes, name: str) -> Any:  # -> Story
    """Read the uploaded story under a fixed temporary name; messages name the upload, never the temp file."""
    from storyscore.story.reader import read_story

    suffix = Path(name).suffix.lower()
    suffix = suffix if suffix in (".txt", ".md", ".epub") else ".txt"
    with tempfile.TemporaryDirectory(prefix="storyscore-web-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            return read_story(path)
        except StoryscoreError as exc:
            raise type(exc)(str(exc).replace(str(path), name).replace(tmp, "")) from None


def _plan_work(matcher: Any, engine: Engine, job: Job, data: bytes, name: str, scenes: int | None,
               wpm: float) -> dict[str, Any]:
    from storyscore.api import plan_options
    from storyscore.soundtrack.planner import make_plan

    job.step("reading", 0, 1)
    story = _read_upload(data, name)
    options = plan_options(story.n_words, n_scenes=scenes, words_per_minute=wpm)
    made = make_plan(story, matcher, options=options, progress=job.step)
    made.source = name  # not the temporary file it was read from
    title = Path(name).stem if story.title == "upload" else story.title
    plan_id = engine.remember(KeptPlan(made, story, options, name, title))
    return {**made.to_json(), "plan_id": plan_id, "title": title}


def _replan_work(matcher: Any, engine: Engine, job: Job, kept: KeptPlan, fixed: dict[int, int]) -> dict[str, Any]:
    from storyscore.soundtrack.planner import make_plan

    found = {t.track_id: t.path for t in matcher.stored(sorted(set(fixed.values())))}
    missing = sorted(set(fixed.values()) - set(found))
    if missing:
        raise InputError(f"no track {missing[0]} in the library")
    options = replace(kept.options, n_scenes=len(kept.plan.scenes),
                      fixed={s: glob_escape(found[t]) for s, t in fixed.items()})
    made = make_plan(kept.story, matcher, options=options, progress=job.step)
    made.source = kept.name
    plan_id = engine.remember(KeptPlan(made, kept.story, options, kept.name, kept.title))
    return {**made.to_json(), "plan_id": plan_id, "title": kept.title, "locked": sorted(fixed)}


def glob_escape(path: str) -> str:
    """`PlanOptions.fixed` takes globs: a literal path with [ * ? must not match other files."""
    import glob

    return glob.escape(path)


def _mix_work(job: Job, plan: Any, out: Path, crossfade: float) -> None:
    from storyscore.soundtrack.mix import render_mix

    try:
        job.step("mixing", 0, plan.total_seconds)
        result = render_mix(plan, out, crossfade=crossfade, progress=lambda d, t: job.step("mixing", d, t))
    except Cancelled:
        job.error, job.status, job.state = "cancelled (the client left)", 499, "cancelled"
    except StoryscoreError as exc:
        job.error, job.status, job.state = one_line(str(exc).replace(str(out), "the mix")), 400, "failed"
    except Exception:
        log.exception("mix %s failed", job.id)
        job.error, job.status, job.state = "internal error (the server's log has the details)", 500, "failed"
    else:
        job.result, job.state = [one_line(w) for w in result.warnings], "done"


async def _tail(job: Job, out: Path, rendering: asyncio.Future[Any]) -> AsyncIterator[bytes]:
    """The mix file's bytes as the renderer appends them; closing this (the client left) cancels it."""
    pos = 0
    try:
        with out.open("rb") as f:
            while True:
                job.touch()
                chunk = f.read(1 << 16)
                if chunk:
                    pos += len(chunk)
                    yield chunk
                    continue
                if rendering.done():
                    rest = f.read()
                    if rest:
                        yield rest
                    return
                await asyncio.wait([rendering], timeout=0.1)
    finally:
        if not rendering.done():
            job.cancel()


# --- audio --------------------------------------------------------------------------------------------


def _is_range(value: str) -> bool:
    m = _RANGE.fullmatch(value.strip())
    return bool(m and (m.group(1) or m.group(2)))


def _open_audio(library: Library, track_id: int, range_header: str | None) -> Any:
    """(open file, first byte, last byte, size, type), or a ready error Response (runs in a thread)."""
    try:
        rec = library.track_file(track_id)
    except StoryscoreError as exc:
        return JSONResponse({"error": one_line(str(exc))}, 409)
    if rec is None:
        return JSONResponse({"error": f"no track {track_id} in the library"}, 404)
    changed = JSONResponse({"error": f"track {track_id} changed on disk since it was indexed; "
                                     "run `storyscore index` again"}, 409)
    try:
        handle = open(rec.path, "rb")  # noqa: SIM115 (closed by the streaming response)
    except OSError:
        return changed
    st = os.fstat(handle.fileno())  # the file actually opened, not whatever the path names a moment later
    if not stat.S_ISREG(st.st_mode) or st.st_size != rec.size or abs(st.st_mtime - rec.mtime) > 1e-3:
        handle.close()
        return changed
    size = st.st_size
    content_type = _AUDIO_TYPES.get(Path(rec.path).suffix.lower(), "application/octet-stream")
    start, end = 0, size - 1
    if range_header is not None and (m := _RANGE.fullmatch(range_header.strip())) and (m.group(1) or m.group(2)):
        first, last = m.group(1), m.group(2)
        unsatisfiable = JSONResponse({"error": f"range outside the file's {size} bytes"}, 416,
                                     headers={"Content-Range": f"bytes */{size}"})
        if len(first) > 18 or len(last) > 18:
            handle.close()
            return unsatisfiable
        if first:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
        else:  # the last N bytes
            start = max(0, size - int(last))
        if start > end or start >= size:
            handle.close()
            return unsatisfiable
    return handle, start, end, size, content_type


def _file_chunks(handle: Any, start: int, length: int) -> Iterator[bytes]:
    with handle:
        handle.seek(start)
        while length > 0:
            chunk = handle.read(min(1 << 16, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk


# --- input checks -------------------------------------------------------------------------------------


def _validation_message(error: dict[str, Any]) -> str:
    """One plain line for a parameter FastAPI refused (its own messages name pydantic internals)."""
    where = str((error.get("loc") or ("", "request"))[-1])
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind.startswith("int_"):
        return f"{where} must be a whole number"
    if kind.startswith("float_") or kind == "finite_number":
        return f"{where} must be a number"
    if kind == "greater_than_equal":
        return f"{where} must be at least {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"{where} must be at most {ctx.get('le')}"
    if kind == "string_too_long":
        return f"{where} is too long (at most {ctx.get('max_length')} characters)"
    if kind == "string_pattern_mismatch":
        return f"{where} is not a valid id"
    if kind == "missing":
        return f"{where} is required"
    return f"{where}: {error.get('msg', 'invalid')}"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is out of range")
    return value


def _parse_json(raw: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity, no numbers that overflow, no nesting deep enough to recurse out."""
    try:
        text = raw.decode("utf-8") if raw.strip() else "{}"
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite)
    except UnicodeDecodeError:
        raise ApiError(400, "the request is not UTF-8 JSON") from None
    except RecursionError:
        raise ApiError(400, "the request is not JSON (nested too deeply)") from None
    except ValueError as exc:  # JSONDecodeError, NaN/Infinity, 1e400
        raise ApiError(400, f"the request is not JSON ({one_line(str(exc), 120)})") from None


def _whole(value: Any, name: str, low: int, high: int) -> int:
    """`value` as a whole number in [low, high] (JSON numbers or numeric strings), else a 400 naming it."""
    if isinstance(value, bool):
        raise ApiError(400, f"{name} must be a whole number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)
    if not isinstance(value, int):
        raise ApiError(400, f"{name} must be a whole number")
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be between {low} and {high}")
    return value


def _clean_text(text: str, name: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(400, f"{name} holds invalid characters (unpaired surrogates)") from None
    return text


def _check_name(name: str) -> None:
    if any(ord(c) < 32 or ord(c) == 127 for c in name) or not name.strip():
        raise ApiError(400, "name must be a file name without control characters")
    _clean_text(name, "name")


# --- paths shown to the user ------------------------------------------------------------------------------


def _common_root(paths: list[str]) -> str:
    dirs = [os.path.dirname(p) for p in paths]
    try:
        return os.path.commonpath(dirs) if dirs else ""
    except ValueError:  # different drives
        return ""


def _display_name(path: str, root: str) -> str:
    return os.path.relpath(path, root) if root else os.path.basename(path)


def _track_name(track: Any, root: str) -> str:  # track: StoredTrack
    """"Artist – Title" when the tags name the track, else the path under the music folder."""
    tags = track.file_tags
    if tags is not None and (tags.artist or not tags.title_from_name):
        return tags.display_name
    return _display_name(track.path, root)


def _tag_fields(track: Any) -> dict[str, str | None]:
    tags = track.file_tags
    return {field: getattr(tags, field) if tags else None for field in ("title", "artist", "album", "genre")}


def _m3u(plan: Any) -> str:
    """Like `plan -o`'s playlist.m3u: paths relative to the folder the tracks share, so the file works once
    saved there (and reveals nothing of the rest of the disk)."""
    chosen = [s for s in plan.scenes if s.track]
    root = _common_root([s.track.info.path for s in chosen])
    lines = ["#EXTM3U", "# paths are relative to your music folder: save this playlist there"]
    for s in chosen:
        name = _display_name(s.track.info.path, root)
        lines.append(f"#EXTINF:{round(s.track.info.duration)},Scene {s.index + 1}: {s.track.info.name}")
        lines.append(name.replace(os.sep, "/"))
    return "\n".join(lines) + "\n"
