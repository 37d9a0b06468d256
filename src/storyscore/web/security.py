"""The web server's defences, applied before any route runs (an ASGI middleware and an HTTP protocol).

A local tool is attacked through the user's own browser: any page they visit can send requests to
127.0.0.1, and a DNS-rebinding page can even read the answers. So, in this order:

1. **Host allow-list.** Only loopback names and the `--host` value are answered; a rebinding page's host
   name is refused (421), so it can read nothing.
2. **Origin and session token** on every state-changing request (POST, PUT, PATCH, DELETE): an Origin header,
   when present, must be this server; and the `X-Storyscore-Token` header must carry the token made at
   start-up. A cross-site page can send neither (a custom header needs a CORS preflight, which is never
   granted), so `no-cors` POSTs are refused (403) before their body is read.
3. **Body size.** A Content-Length that is not a plain number, or is over `max_body`, is refused before a
   byte is read (411/400/413); bodies without one are counted as they arrive and cut off at the limit.
   A body that stalls for `body_timeout` seconds ends the request (408).
4. **Headers on every answer:** a CSP that allows only this origin, nosniff, no framing, no referrer, and
   no `Server` header.

`QuietH11Protocol` answers malformed HTTP (uvicorn's plain-text 400) with the JSON error shape too, and
closes connections that have not finished sending their headers within `header_timeout` seconds, so idle
half-sent requests cannot pile up.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOKEN_HEADER = "x-storyscore-token"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CSP = ("default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def error_body(message: str) -> bytes:
    """The one error shape of the API: `{"error": "one line"}`."""
    return json.dumps({"error": " ".join(message.split())[:300]}).encode()


def host_name(value: str) -> str:
    """The host part of a Host header or an origin's authority, lower case, without the port."""
    value = value.strip().lower()
    if value.startswith("["):  # [::1]:8765
        return value[: value.find("]") + 1] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def allowed_hosts(bind_host: str) -> frozenset[str]:
    names = set(LOOPBACK_NAMES)
    if bind_host:
        names.add(bind_host.lower())
        if ":" in bind_host and not bind_host.startswith("["):
            names.add(f"[{bind_host.lower()}]")
    return frozenset(names)


class Guard:
    """The ASGI middleware described in the module docstring."""

    def __init__(self, app: ASGIApp, *, token: str, hosts: frozenset[str], max_body: int,
                 body_timeout: float = 30.0) -> None:
        self.app = app
        self.token = token
        self.hosts = hosts
        self.max_body = max_body
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}

        async def secured_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                message = {**message, "headers": kept + SECURITY_HEADERS}
            await send(message)

        async def refuse(status: int, text: str) -> None:
            body = error_body(text)
            await secured_send({"type": "http.response.start", "status": status,
                                "headers": [(b"content-type", b"application/json"),
                                            (b"content-length", str(len(body)).encode()),
                                            (b"connection", b"close")]})
            await secured_send({"type": "http.response.body", "body": body})

        host = host_name(headers.get("host", ""))
        if host not in self.hosts:
            await refuse(421, "this server answers only to its own address (Host header refused)")
            return
        method = scope.get("method", "GET").upper()
        if method in UNSAFE_METHODS:
            origin = headers.get("origin")
            if origin is not None and not _same_origin(origin, headers.get("host", "")):
                await refuse(403, "requests from other web pages are refused (Origin)")
                return
            if not hmac.compare_digest(headers.get(TOKEN_HEADER, "").encode(), self.token.encode()):
                await refuse(403, "missing or wrong X-Storyscore-Token header (GET /api/session gives it)")
                return
        length = headers.get("content-length")
        if length is not None:
            if not length.isascii() or not length.isdigit() or len(length) > 18:
                await refuse(400, "Content-Length must be a non-negative whole number")
                return
            if int(length) > self.max_body:
                await refuse(413, f"the upload is over the {self.max_body // 2**20} MB this server reads")
                return

        received = 0
        body_done = False

        async def limited_receive() -> Message:
            """The body, counted and with a stall limit; after it, waits for disconnect without a limit
            (a streaming response listens for that as long as it streams)."""
            nonlocal received, body_done
            if body_done:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.body_timeout)
            except TimeoutError:
                raise BodyTimeout() from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooBig()
                body_done = not message.get("more_body", False)
            else:
                body_done = True
            return message

        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await secured_send(message)

        try:
            await self.app(scope, limited_receive, tracked_send)
        except (BodyTooBig, BodyTimeout) as exc:  # the app's handlers usually answer these first
            if started:
                raise
            if isinstance(exc, BodyTooBig):
                await refuse(413, f"the upload is over the {self.max_body // 2**20} MB this server reads")
            else:
                await refuse(408, f"the request body stalled for {self.body_timeout:g} s")


class BodyTooBig(Exception):
    """A body without Content-Length grew past the limit (the app's handler answers 413)."""


class BodyTimeout(Exception):
    """A body stalled (the app's handler answers 408)."""


def _same_origin(origin: str, host: str) -> bool:
    """`origin` (scheme://authority) names the same authority the request was sent to."""
    if "://" not in origin:
        return False  # "null" (sandboxed frames, file:) and anything malformed
    scheme, authority = origin.split("://", 1)
    return scheme in ("http", "https") and authority.strip().lower() == host.strip().lower()


class QuietH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with two changes: malformed requests get the API's JSON error (not uvicorn's
    text), and a connection that does not finish its request headers within `header_timeout` is closed."""

    header_timeout = 10.0

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        if getattr(self, "_header_timer", None) is not None:
            self._header_timer.cancel()  # type: ignore[union-attr]
        self._header_timer = self.loop.call_later(self.header_timeout, self._header_timeout)

    def _header_timeout(self) -> None:
        self._header_timer = None
        cycle = self.cycle
        idle = cycle is None or cycle.response_complete
        if idle and not self.transport.is_closing():
            self.transport.close()  # half-sent headers (or nothing at all) for too long

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_timer()  # the next request on this keep-alive connection gets the same limit

    def connection_lost(self, exc: Exception | None) -> None:
        if getattr(self, "_header_timer", None) is not None:
            self._header_timer.cancel()  # type: ignore[union-attr]
            self._header_timer = None
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        import h11

        body = error_body(f"malformed HTTP request ({msg.rstrip('.')})")
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")] + SECURITY_HEADERS
        self.transport.write(self.conn.send(h11.Response(status_code=400, headers=headers, reason=b"Bad Request")))
        self.transport.write(self.conn.send(h11.Data(data=body)))
        self.transport.write(self.conn.send(h11.EndOfMessage()))
        self.transport.close()
