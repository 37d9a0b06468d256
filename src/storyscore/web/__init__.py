"""`storyscore serve`: the library, `match` and `plan` in a browser, served from this machine only.

`server.py` holds the HTTP layer (standard library only) and `static/index.html` the page (no external
scripts, fonts or styles, so it works offline)."""
