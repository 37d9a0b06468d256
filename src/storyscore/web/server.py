"""Run the web app: an asyncio server (uvicorn) on a socket bound before anything is served.

Why asyncio: idle or slow connections cost a little memory, not a thread each, and audio, library and info
requests are answered while the engine thread plans a novel. Why the socket is bound here: a busy port is
reported as one line before the models load, and port 0 (tests) tells its number at once.
"""

from __future__ import annotations

import secrets
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from storyscore.errors import InputError
from storyscore.web.app import MAX_BODY_BYTES, create_app
from storyscore.web.engine import Engine
from storyscore.web.security import Guard, QuietH11Protocol, allowed_hosts

HEADER_TIMEOUT = 10.0  # seconds a connection may take to send its request headers
KEEP_ALIVE = 5.0
MAX_CONNECTIONS = 1000  # open connections and requests together; more get a 503


class Server:
    """A uvicorn server on a bound socket, with the interface tests and the CLI use
    (`serve_forever`, `shutdown`, `server_close`, `server_address`)."""

    def __init__(self, app: Any, sock: socket.socket, quiet: bool, header_timeout: float = HEADER_TIMEOUT) -> None:
        import uvicorn

        protocol = type("Protocol", (QuietH11Protocol,), {"header_timeout": header_timeout})
        config = uvicorn.Config(app, http=protocol, ws="none", lifespan="off", server_header=False,
                                date_header=True, timeout_keep_alive=int(KEEP_ALIVE),
                                limit_concurrency=MAX_CONNECTIONS, log_level="warning" if quiet else "info",
                                access_log=not quiet, timeout_graceful_shutdown=3)
        self._server = uvicorn.Server(config)
        self.socket = sock
        self.server_address: tuple[str, int] = sock.getsockname()[:2]
        self._stopped = threading.Event()

    def serve_forever(self) -> None:
        """Serve until `shutdown` (or Ctrl-C when run on the main thread)."""
        try:
            self._server.run(sockets=[self.socket])
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        self._server.should_exit = True
        self._stopped.wait(10)

    def server_close(self) -> None:
        self.socket.close()


def _bind(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); pick another with --port") from None
    return sock


def make_server(db: Path, space: Any, host: str = "127.0.0.1", port: int = 8765, quiet: bool = False,
                progress: Callable[[int, int, str], None] | None = None, *,
                header_timeout: float = HEADER_TIMEOUT, token: str | None = None) -> tuple[Server, Engine]:
    """A server bound to (host, port) (port 0: any free one) and its engine. The library is opened (and, for a
    trained space, embedded) before it returns; the text encoder warms up in the background."""
    sock = _bind(host, port)
    engine = Engine(Path(db), space, progress)
    try:
        engine.run(lambda matcher: None)  # open now: a missing or wrong-version library fails here
    except BaseException:
        sock.close()
        engine.close()
        raise
    engine.submit(_warm_up, engine)
    app = create_app(engine, token or secrets.token_urlsafe(24))
    guarded = Guard(app, token=app_token(app), hosts=allowed_hosts(host), max_body=MAX_BODY_BYTES)
    return Server(guarded, sock, quiet, header_timeout), engine


def app_token(app: Any) -> str:
    return app.state.token


def _warm_up(matcher: Any, engine: Engine) -> None:
    """Load the text encoder now, so the page's first match answers in a second, not after the model loads."""
    try:
        matcher.text_emotion(["The rain fell on the quiet town."])
    finally:
        engine.ready = True


__all__ = ["Engine", "Server", "make_server"]
