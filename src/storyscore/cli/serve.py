"""`storyscore serve`: match and plan in a browser, on this machine."""

from __future__ import annotations

import argparse
import sys

from storyscore.cli._common import add_db, add_quiet, add_space, chosen_space, db_path, embedding_progress


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_db(sub.add_parser("serve", help="match and plan in a browser, on this machine"))
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only); the page answers only to "
                        "loopback names and this value in the Host header")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    add_space(p)
    p.add_argument("--open", action="store_true", help="open the page in the default browser")
    add_quiet(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from storyscore.web.server import make_server

    db = db_path(args)
    space = chosen_space(args)
    with embedding_progress(space, args.quiet) as progress:
        server, engine = make_server(db, space, args.host, args.port, quiet=args.quiet, progress=progress)
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"storyscore: serving {db} at http://{shown}:{port}/ (Ctrl-C to stop)", file=sys.stderr, flush=True)
    if host not in ("127.0.0.1", "::1", "localhost"):
        print(f"storyscore: warning: listening on {host}: anyone who can reach this port can use the page and "
              "hear your library", file=sys.stderr, flush=True)
    if args.open:
        import webbrowser

        webbrowser.open(f"http://{shown}:{port}/")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("storyscore: stopped", file=sys.stderr)
    finally:
        server.server_close()
        engine.close()
    return 0
