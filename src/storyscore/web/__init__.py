"""`storyscore serve`: the library, `match`, `plan` and a read-along view in a browser, from this machine only.

`app.py` the FastAPI routes (documented in /openapi.json), `security.py` the checks every request passes
first (Host, Origin and token, body size, headers), `engine.py` where work runs (model work on one thread,
store reads on the request side), `jobs.py` background plans and mixes with progress and cancellation,
`server.py` uvicorn on a bound socket, `static/` the page (no external scripts, fonts or styles: it works
offline, under a CSP of default-src 'self')."""
