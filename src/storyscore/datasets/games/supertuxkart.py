"""SuperTuxKart: the music of the ``supertuxkart-data`` Debian package, labelled by where the game plays it.

Credit: SuperTuxKart 1.4, the SuperTuxKart Team (https://supertuxkart.net/); composers per ``.music``
file (Claude Werner, 0zone0ne, Krobonil, Weirwood, Kalsan, Dundersylt, ...). Licences per file in the
Debian copyright file: mostly CC-BY-SA-3.0; ``Boom_boom_boom.ogg`` and ``alien_signal.ogg`` CC-BY-SA-4.0,
``klabauter_dance.ogg`` GPL, ``beneath_the_rabbit_hole.ogg`` GPL-2+ or CC-BY-SA; files the copyright file
does not list fall under its ``Files: *`` entry, GPL-3+. Cite as: the
SuperTuxKart Team, *SuperTuxKart* 1.4, 2022.

How the labels are read (under ``usr/share/games/supertuxkart/data``):

- ``stk_config.xml`` ``<music title=... default=... race-win=... race-neutral=... race-lose=...
  gp-win=... gp-lose=... unlock=...>``: the attribute names are the situations, explained in the file's
  own comment (``title``: the main menu; ``default``: a race whose track music is missing;
  ``race-win``: finishing 1st; ``race-neutral``: finishing in the top half but not 1st; ``race-lose``:
  finishing in the bottom half; ``gp-win``: a grand prix finished in the top three; ``gp-lose``: a grand
  prix failed; ``unlock``: a kart or track unlocked).
- ``tracks/<track>/track.xml`` ``music="<x>.music ..."``: the music of a track. The situation is what the
  track is, from its attributes: ``arena="Y"`` -> ``arena`` (battle mode), ``soccer="Y"`` -> ``soccer``,
  ``ctf="Y"`` on an arena -> ``ctf`` (capture the flag), ``cutscene="Y"`` -> the cutscene's folder name (``gpwin``,
  ``gplose``, ``featunlocked``, ``introcutscene2``), other ``internal="Y"`` tracks -> their folder name
  (``overworld``, ``tutorial``), and every other track -> ``race``. Track names are in
  ``extra["tracks"]``.
- ``<x>.music`` (in ``music/`` or the track's folder): ``title``, ``composer``, ``file``, ``gain`` and,
  with ``fast="true"``, ``fast-filename``: the faster version the game switches to on the last lap of a
  race (situation ``last_lap`` for that file, when a race track uses the music). Without
  ``fast-filename`` the game speeds the normal file up instead, so there is no extra file.

There is no narrative text in this package, so no story pairs.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from storyscore.datasets.games import GameTrack, StoryPair

NAME = "supertuxkart"
PACKAGE = "supertuxkart-data"
LICENSE = "per file (Debian copyright): mostly CC-BY-SA-3.0; some CC-BY-SA-4.0, GPL; unlisted GPL-3+"
HOMEPAGE = "https://supertuxkart.net/"
DATA = "usr/share/games/supertuxkart/data"
KEEP: tuple[str, ...] = (
    f"{DATA}/stk_config.xml",
    f"{DATA}/music/*.music",
    f"{DATA}/music/*.ogg",
    f"{DATA}/tracks/*/track.xml",
    f"{DATA}/tracks/*/*.music",
    f"{DATA}/tracks/*/*.ogg",  # the few tracks that bring their own music (sound effects come along: small)
)
CONFIG_SITUATIONS = ("title", "default", "race-win", "race-neutral", "race-lose", "gp-win", "gp-lose", "unlock")


@dataclass
class _Info:
    music: Path  # the .music file
    title: str
    composer: str
    file: Path
    fast_file: Path | None
    gain: float | None
    situations: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    tracks: list[str] = field(default_factory=list)
    race: bool = False


_ATTR = re.compile(r"""([A-Za-z][\w-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def music_attributes(text: str) -> dict[str, str]:
    """The attributes of the ``<music .../>`` element, read leniently: the game's own XML reader accepts
    files that are not well-formed XML (``tracks/ancient_colosseum_labyrinth/BattleTheme1.music`` has a
    raw ``<`` inside an attribute), so a strict parser would drop them."""
    start = text.find("<music")
    if start < 0:
        return {}
    body = text[start + len("<music"):]
    end = re.search(r"/?>\s*(?:<!--|$|<)", body)
    body = body[: end.start()] if end else body
    return {m.group(1): html.unescape(m.group(2) if m.group(2) is not None else m.group(3))
            for m in _ATTR.finditer(body)}


def read_music(path: Path) -> _Info:
    """One ``.music`` file (paths resolved beside it)."""
    a = music_attributes(path.read_text(encoding="utf-8", errors="replace"))
    fast = a.get("fast", "false").strip().lower() in ("true", "y", "yes", "1")
    fast_name = a.get("fast-filename", "").strip()
    gain = a.get("gain")
    return _Info(
        music=path, title=a.get("title", path.stem).strip(), composer=a.get("composer", "").strip(),
        file=path.parent / a.get("file", "").strip(), fast_file=path.parent / fast_name if fast and fast_name else None,
        gain=float(gain) if gain not in (None, "") else None,
    )


def _track_situation(folder: str, a: dict[str, str]) -> list[str]:
    yes = {k for k, v in a.items() if v.strip().upper() in ("Y", "YES", "TRUE", "1")}
    if "cutscene" in yes or "internal" in yes:
        return [folder]
    out = [s for s in ("arena", "soccer") if s in yes]
    if "ctf" in yes and "arena" in yes:  # the game lists capture-the-flag maps among its arenas only
        out.append("ctf")
    if "arena" not in yes and "soccer" not in yes:
        out.insert(0, "race")
    return out


def _labels(root: Path) -> dict[Path, _Info]:
    data = Path(root) / DATA
    infos: dict[Path, _Info] = {}

    def info(name: str, track_dir: Path | None) -> _Info | None:
        for where in ([track_dir] if track_dir else []) + [data / "music"]:
            path = where / name
            if path.is_file():
                if path not in infos:
                    infos[path] = read_music(path)
                return infos[path]
        return None

    for path in sorted(data.glob("music/*.music")) + sorted(data.glob("tracks/*/*.music")):
        info(path.name, path.parent)
    config = data / "stk_config.xml"
    if config.is_file():
        el = ET.parse(config).getroot().find("music")
        for situation in CONFIG_SITUATIONS if el is not None else ():
            value = el.get(situation) if el is not None else None
            found = info(value, None) if value else None
            if found is not None:
                found.situations.append(situation)
                found.sources.append(f"{DATA}/stk_config.xml <music {situation}=>")
    for track_xml in sorted(data.glob("tracks/*/track.xml")):
        a = ET.parse(track_xml).getroot().attrib
        situations = _track_situation(track_xml.parent.name, a)
        for name in a.get("music", "").split():
            found = info(name, track_xml.parent)
            if found is None:
                continue
            found.situations.extend(situations)
            found.sources.append(f"{DATA}/tracks/{track_xml.parent.name}/track.xml")
            found.tracks.append(a.get("name", track_xml.parent.name))
            found.race = found.race or "race" in situations
    return infos


def tracks(root: Path) -> list[GameTrack]:
    root = Path(root)
    out: dict[Path, GameTrack] = {}
    for music, i in sorted(_labels(root).items()):
        rel = music.relative_to(root).as_posix()
        extra = {"composer": i.composer, "gain": i.gain, "tracks": sorted(set(i.tracks)), "music": rel}
        if i.file.is_file() and i.file not in out:
            out[i.file] = GameTrack(game=NAME, path=i.file, situations=tuple(dict.fromkeys(i.situations)),
                                    title=i.title, source="; ".join(dict.fromkeys([rel, *i.sources])), extra=extra)
        if i.fast_file is not None and i.fast_file.is_file() and i.fast_file not in out:
            out[i.fast_file] = GameTrack(
                game=NAME, path=i.fast_file, situations=("last_lap",) if i.race else (), title=f"{i.title} (fast)",
                source=f"{rel} fast-filename", extra={**extra, "fast_of": i.file.name},
            )
    for path in sorted((root / DATA / "music").glob("*.ogg")):  # music files no .music names
        out.setdefault(path, GameTrack(game=NAME, path=path, title=path.stem))
    return [out[p] for p in sorted(out)]


def story_pairs(root: Path) -> list[StoryPair]:
    return []
