"""Labels for the real game music fetched by ``benchmarks/fetch_music.sh``.

Every label comes from the Debian packages' own files, never from us:

* ``singularity-music``: the game plays ``win/`` on victory and ``lose/`` on
  defeat; the other 13 tracks are its general soundtrack (group ``None``).
* ``warzone2100-music``: ``albums/*/album.json`` gives title and ``bpm`` per
  track (``bpm`` is mostly 80 there, which looks like a default rather than a
  measurement). The top-level ``menu.opus`` is in no album: group ``menu``, no
  bpm. Album tracks have group ``None``; their ``default_music_modes`` are kept
  as ``tags``.
* ``hyperrogue-music``: ``hyperrogue-music.txt`` maps the game's lands to
  tracks; the land names are kept as ``tags`` (group ``None``).
* ``0ad``: ``simulation/data/civs/*.json`` tag tracks ``"Type": "peace"`` per
  civilisation, and ``gui/common/music.js`` lists the default
  ``menu``/``peace``/``battle``/``victory``/``defeat`` tracks. ``group`` is the
  most specific tag a track has (victory > defeat > battle > peace > menu);
  all of them are in ``tags``, the civilisations in ``civs``.

``load_labelled_music(cache_dir)`` returns one dict per extracted track with at
least ``path``, ``collection``, ``group`` and ``bpm``. Run this file to print a
summary (counts per collection/group and, with soundfile, durations).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

DEFAULT_CACHE = Path(__file__).resolve().parent / ".cache" / "music"

_0AD_PRIORITY = ["victory", "defeat", "battle", "peace", "menu"]


def _track(path: Path, collection: str, group: str | None = None, bpm: float | None = None, **extra) -> dict:
    d = {"path": str(path), "collection": collection, "group": group, "bpm": bpm}
    d.update(extra)
    return d


def _singularity(root: Path) -> list[dict]:
    out = []
    for p in sorted(root.rglob("*.ogg")):
        rel = p.relative_to(root).parts
        group = rel[0] if len(rel) > 1 and rel[0] in ("win", "lose") else None
        out.append(_track(p, "singularity-music", group, None, title=p.stem, tags=[group] if group else []))
    return out


def _warzone(root: Path) -> list[dict]:
    meta: dict[Path, dict] = {}
    for album in sorted(root.glob("albums/*/album.json")):
        data = json.loads(album.read_text(encoding="utf-8"))
        for t in data.get("tracks", []):
            meta[(album.parent / t["filename"]).resolve()] = {
                "title": t.get("title"),
                "bpm": float(t["bpm"]) if t.get("bpm") is not None else None,
                "tags": list(t.get("default_music_modes", [])),
                "album": data.get("title"),
            }
    out = []
    for p in sorted(root.rglob("*.opus")):
        m = meta.get(p.resolve())
        if m is None:
            group = "menu" if p.parent == root and p.stem == "menu" else None
            out.append(
                _track(p, "warzone2100-music", group, None, title=p.stem, tags=[group] if group else [])
            )
        else:
            out.append(
                _track(
                    p, "warzone2100-music", None, m["bpm"], title=m["title"], tags=m["tags"], album=m["album"]
                )
            )
    return out


def _hyperrogue(root: Path) -> list[dict]:
    lands: dict[str, list[str]] = defaultdict(list)
    txt = root / "hyperrogue-music.txt"
    if txt.exists():
        last_comment = None
        for line in txt.read_text(encoding="utf-8", errors="replace").splitlines():
            line = line.strip()
            if line.startswith("#"):
                # "# Desert [03]" -> "Desert"; "# Magnetic (unused)" -> "Magnetic"
                name = re.sub(r"\s*[\[(].*$", "", line[1:].strip())
                # "# old mirror is at 71, and 67-70 are Reflection lands" -> "Reflection"
                m = re.search(r"are (\w+) lands$", name)
                last_comment = m.group(1) if m else (name if name[:1].isupper() else None)
            elif line.startswith("[") and last_comment:
                m = re.match(r"\[\d+\]\s+\S*/music/(\S+)", line)
                if m and last_comment not in lands[m.group(1)]:
                    lands[m.group(1)].append(last_comment)
    out = []
    for p in sorted(root.glob("*.ogg")):
        out.append(_track(p, "hyperrogue-music", None, None, title=p.stem, tags=lands.get(p.name, [])))
    return out


def _0ad(root: Path) -> list[dict]:
    tags: dict[str, set[str]] = defaultdict(set)
    civs: dict[str, set[str]] = defaultdict(set)
    for civ in sorted((root / "simulation" / "data" / "civs").glob("*.json")):
        data = json.loads(civ.read_text(encoding="utf-8"))
        for m in data.get("Music", []) or []:
            tags[m["File"]].add(str(m["Type"]).lower())
            civs[m["File"]].add(civ.stem)
    js = root / "gui" / "common" / "music.js"
    if js.exists():
        src = js.read_text(encoding="utf-8")
        for m in re.finditer(r"DEFAULT_([A-Z]+)_TRACKS\s*=(.*?);", src, re.S):
            for f in re.findall(r'"([^"]+\.ogg)"', m.group(2)):
                tags[f].add(m.group(1).lower())
    out = []
    for p in sorted((root / "audio" / "music").glob("*.ogg")):
        t = tags.get(p.name, set())
        group = next((g for g in _0AD_PRIORITY if g in t), None)
        out.append(
            _track(
                p,
                "0ad",
                group,
                None,
                title=p.stem.replace("_", " "),
                tags=[g for g in _0AD_PRIORITY if g in t] + sorted(t - set(_0AD_PRIORITY)),
                civs=sorted(civs.get(p.name, set())),
            )
        )
    return out


def load_labelled_music(cache_dir: Path = DEFAULT_CACHE) -> list[dict]:
    """Every extracted track under ``cache_dir`` with its package-given labels.

    Keys: ``path`` (str), ``collection`` (singularity-music, warzone2100-music,
    hyperrogue-music, 0ad), ``group`` (peace/battle/victory/defeat/menu for 0ad,
    win/lose for singularity, menu for warzone's menu.opus, else None),
    ``bpm`` (float from warzone's album.json, else None), plus ``title`` and
    ``tags`` (every label the package gives) and, for 0ad, ``civs``.
    Collections that are missing are skipped.
    """
    cache_dir = Path(cache_dir)
    loaders = {
        "singularity-music": _singularity,
        "warzone2100-music": _warzone,
        "hyperrogue-music": _hyperrogue,
        "0ad": _0ad,
    }
    out: list[dict] = []
    for name, fn in loaders.items():
        root = cache_dir / name
        if root.is_dir():
            out.extend(fn(root))
    return out


def _main() -> None:
    import argparse
    from collections import Counter

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cache_dir", nargs="?", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--json", action="store_true", help="print the track list as JSON")
    args = ap.parse_args()
    tracks = load_labelled_music(args.cache_dir)
    if args.json:
        print(json.dumps(tracks, indent=1))
        return
    try:
        import soundfile as sf
    except ImportError:  # pragma: no cover
        sf = None
    counts: Counter = Counter()
    secs: Counter = Counter()
    bad = []
    for t in tracks:
        key = (t["collection"], t["group"])
        counts[key] += 1
        if sf is not None:
            try:
                secs[key] += sf.info(t["path"]).duration
            except Exception as e:  # noqa: BLE001 - report and go on
                bad.append((t["path"], f"{type(e).__name__}: {e}"))
    print(f"{'collection':20s} {'group':8s} {'n':>4s} {'minutes':>8s}")
    for (c, g), n in sorted(counts.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        print(f"{c:20s} {str(g):8s} {n:4d} {secs[(c, g)] / 60:8.1f}")
    print(f"{'total':29s} {sum(counts.values()):4d} {sum(secs.values()) / 60:8.1f}")
    for p, why in bad:
        print("undecodable:", p, why)


if __name__ == "__main__":
    _main()
