"""Flare (Debian ``flare-game``): an action RPG (the "Empyrean" campaign); its music, labelled by its own maps.

Credit: Flare, https://flarerpg.org (Clint Bellanger and the Flare contributors); the fantasycore music is by
Brandon Morris and remaxim (the game's credits). All of Flare's art and data, music included, is CC-BY-SA-3.0
or later (``usr/share/doc/flare-game/copyright``).

How the labels are read (the game's ``key=value`` files, ``[section]`` headers, ``#`` comments):

- ``mods/*/engine/default_music.txt``: "Music that plays during major menus (Title, Config, Load Game, etc)"
  → ``menu``.
- ``mods/*/cutscenes/<name>.txt`` with ``music=`` → ``cutscene_<name>`` (the campaign's backstory and ending).
- ``mods/*/maps/**.txt``: the ``[header]``'s ``music=`` plays on that map. The map's own terrain, its
  ``tileset=tilesetdefs/tileset_<terrain>.txt`` (``grassland``, ``dungeon``, ``cave``, ``snowplains``,
  ``cave_and_dungeon``), is a situation; a map that places no ``[enemy]``/``[enemygroup]`` is ``no_enemies``
  instead (a hub or safe place, whatever its tiles). An ``[event]`` with its own ``music=`` switches the music; when the event
  only runs while a named enemy is undefeated (``requires_not_status=..._defeated``: the trap that starts
  the Lezaith fight) it is ``boss``, else ``map_event``.
- The track's own file name (``battle_theme``, ``town_theme``, ...) gives ``named_<word>``: a weaker label
  (the composer's title, not a use), kept apart from the uses by its prefix.

Story pairs: the ``[dialog]`` blocks (``him=``/``her=``/``you=`` lines) of each NPC a map places, with that
map's music; ``msg=`` texts and ``book=`` pages of a map's events, with the music playing there; and each
cutscene's captions with the cutscene's music. Texts under 15 words, and tutorial texts that name input
bindings (``${INPUT_ATTACK}``), are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from storyscore.datasets.games import GameTrack, StoryPair, unique_pairs

NAME = "flare"
PACKAGE = "flare-game"
LICENSE = "CC-BY-SA-3.0+"
HOMEPAGE = "https://flarerpg.org"
DATA = "usr/share/games/flare"  # the game's folder; sources are given relative to it
KEEP: tuple[str, ...] = (
    f"{DATA}/mods/*/music/*.ogg",
    f"{DATA}/mods/*/engine/default_music.txt",
    f"{DATA}/mods/*/cutscenes/*.txt",
    f"{DATA}/mods/*/maps/*.txt",
    f"{DATA}/mods/*/maps/**/*.txt",
    f"{DATA}/mods/*/npcs/*.txt",
    f"{DATA}/mods/*/books/*.txt",
    "usr/share/doc/flare-game/copyright",
)
MIN_WORDS = 15  # a story passage shorter than this is a UI line, not a story
# Track-name words that name a situation (``<word>_theme.ogg``); a label from the name only.
NAMED: frozenset[str] = frozenset({
    "battle", "boss", "cave", "dungeon", "forest", "magical", "overworld", "safe_room", "title", "town",
    "unrest", "wind_ambient",
})
_UI = re.compile(r"\$\{INPUT_")  # a text naming key bindings is a tutorial instruction, not a story
TERRAINS: frozenset[str] = frozenset({"grassland", "dungeon", "cave", "snowplains", "cave_and_dungeon"})


@dataclass
class _Section:
    """One ``[name]`` section of a Flare data file: its keys' values with their 1-based lines."""

    name: str
    line: int
    values: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def first(self, key: str) -> tuple[str, int] | None:
        got = self.values.get(key)
        return got[0] if got else None

    def all(self, key: str) -> list[str]:
        return [v for v, _ in self.values.get(key, [])]


def tracks(root: Path) -> list[GameTrack]:
    """Every ``.ogg`` under ``mods/*/music`` with the situations the menus, cutscenes and maps play it in."""
    game = Path(root) / DATA
    mods = game / "mods"
    uses: dict[Path, list[tuple[str, str]]] = {}

    def add(track: Path | None, situation: str, source: str) -> None:
        if track is not None and (situation, source) not in uses.setdefault(track, []):
            uses[track].append((situation, source))

    for path in sorted(mods.glob("*/engine/default_music.txt")):
        for sec in _sections(path):
            got = sec.first("music")
            if got:
                add(_music(mods, path, got[0]), "menu", f"{_rel(game, path)}:{got[1]}")
    for path in sorted(mods.glob("*/cutscenes/*.txt")):
        got = next((s.first("music") for s in _sections(path) if s.first("music")), None)
        if got:
            add(_music(mods, path, got[0]), f"cutscene_{path.stem}", f"{_rel(game, path)}:{got[1]}")
    maps: dict[Path, list[str]] = {}
    for path in _map_files(mods):
        src = _rel(game, path)
        header, events, enemies = _map_parts(path)
        got = header.first("music") if header else None
        if got:
            track = _music(mods, path, got[0])
            if track is not None:
                maps.setdefault(track, []).append(src)
            for situation in _map_situations(header, enemies):
                add(track, situation, f"{src}:{got[1]}")
        for ev in events:
            got = ev.first("music")
            if got:
                boss = any(s.endswith("_defeated") for v in ev.all("requires_not_status") for s in v.split(","))
                add(_music(mods, path, got[0]), "boss" if boss else "map_event", f"{src}:{got[1]}")
    out: list[GameTrack] = []
    for path in sorted(mods.glob("*/music/*.ogg")):
        found = list(uses.get(path, []))
        word = path.stem.removesuffix("_theme")
        named = [f"named_{word}"] if word in NAMED else []
        situations = tuple(sorted({s for s, _ in found} | set(named)))
        source = "; ".join(dict.fromkeys(src for _, src in found))
        extra = {"uses": found, "maps": maps.get(path, []), "name_only": named}
        out.append(GameTrack(NAME, path, situations, "", source, extra))  # the game gives no titles
    return out


def story_pairs(root: Path) -> list[StoryPair]:
    """NPC dialogue, event messages and book pages with the music of the map that shows them, and the
    cutscenes' captions with their music."""
    game = Path(root) / DATA
    mods = game / "mods"
    out: list[StoryPair] = []
    for path in sorted(mods.glob("*/cutscenes/*.txt")):
        secs = _sections(path)
        got = next((s.first("music") for s in secs if s.first("music")), None)
        track = _music(mods, path, got[0]) if got else None
        captions = [(v, ln) for s in secs if s.name == "scene" for v, ln in s.values.get("caption", [])]
        text = _clean(" ".join(v for v, _ in captions))
        if track is not None and captions and len(text.split()) >= MIN_WORDS:
            out.append(StoryPair(NAME, text, (track,), f"cutscene_{path.stem}", f"{_rel(game, path)}:{captions[0][1]}"))
    npc_tracks: dict[Path, list[Path]] = {}
    events: list[tuple[str, Path, str]] = []  # (text, track, source)
    for path in _map_files(mods):
        header, map_events, _ = _map_parts(path)
        got = header.first("music") if header else None
        track = _music(mods, path, got[0]) if got else None
        for sec in _sections(path):
            if sec.name == "npc" and track is not None:
                for name in sec.all("filename"):
                    npc = _data_file(mods, path, name)
                    if npc is not None and track not in npc_tracks.setdefault(npc, []):
                        npc_tracks[npc].append(track)
        for ev in map_events:
            own = ev.first("music")
            ev_track = _music(mods, path, own[0]) if own else track
            if ev_track is None:
                continue
            for msg, ln in ev.values.get("msg", []):
                if not _UI.search(msg):
                    events.append((_clean(msg), ev_track, f"{_rel(game, path)}:{ln}"))
            for name in ev.all("book"):
                book = _data_file(mods, path, name)
                if book is not None:
                    lines = [(v, ln) for s in _sections(book) if s.name == "text" for v, ln in s.values.get("text", [])]
                    if lines:
                        text = _clean(" ".join(v for v, _ in lines))
                        events.append((text, ev_track, f"{_rel(game, book)}:{lines[0][1]}"))
    for npc, tracks_ in sorted(npc_tracks.items()):
        for sec in _sections(npc):
            if sec.name != "dialog":
                continue
            said = [(v, ln) for key, vals in sec.values.items() if key in ("him", "her", "you") for v, ln in vals]
            said.sort(key=lambda x: x[1])
            if said and not any(_UI.search(v) for v, _ in said):
                out.append(StoryPair(NAME, _clean(" ".join(v for v, _ in said)), tuple(tracks_), "",
                                     f"{_rel(game, npc)}:{said[0][1]}"))
    out += [StoryPair(NAME, text, (track,), "", source) for text, track, source in events]
    return unique_pairs([p for p in out if len(p.text.split()) >= MIN_WORDS])


# --- parsing -----------------------------------------------------------------------------------------


def _sections(path: Path) -> list[_Section]:
    """The ``[section]``s of a Flare data file (keys before the first header go in a section named "")."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    out = [_Section("", 0)]
    for k, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        head = re.fullmatch(r"\[([A-Za-z_]\w*)\]", line)
        if head:
            out.append(_Section(head.group(1), k))
            continue
        key, eq, value = line.partition("=")
        if eq and re.fullmatch(r"[A-Za-z_]\w*", key.strip()):
            out[-1].values.setdefault(key.strip(), []).append((value.strip(), k))
    return out


def _map_files(mods: Path) -> list[Path]:
    """Map files (those with a ``[header]`` section are maps; parallax and spawn lists are not)."""
    return sorted(p for p in mods.glob("*/maps/**/*.txt") if p.is_file())


def _map_parts(path: Path) -> tuple[_Section | None, list[_Section], int]:
    """A map's ``[header]``, its ``[event]`` sections and how many enemies it places."""
    secs = _sections(path)
    header = next((s for s in secs if s.name == "header"), None)
    events = [s for s in secs if s.name == "event"]
    enemies = sum(1 for s in secs if s.name in ("enemy", "enemygroup"))
    return header, events, enemies


def _map_situations(header: _Section, enemies: int) -> list[str]:
    """The map's terrain (from its tileset definition's name), or ``no_enemies`` for a map without foes (a
    hub or safe place: its dungeon tiles are scenery, not danger)."""
    if enemies == 0:
        return ["no_enemies"]
    out: list[str] = []
    for value in header.all("tileset"):
        m = re.search(r"tileset_(\w+)\.txt$", value)
        if m and m.group(1) in TERRAINS:
            out.append(m.group(1))
    return out


def _music(mods: Path, referrer: Path, value: str) -> Path | None:
    """The ``.ogg`` a ``music=`` value names: a path relative to a mod's folder, found in the referring
    file's own mod first, then in any mod."""
    return _data_file(mods, referrer, value.split(",")[0].strip()) if value.strip() else None


def _data_file(mods: Path, referrer: Path, rel: str) -> Path | None:
    rel = rel.split(",")[0].strip()
    if not rel or ".." in Path(rel).parts:
        return None
    try:
        own = referrer.relative_to(mods).parts[0]
    except (ValueError, IndexError):
        own = ""
    candidates = [mods / own / rel] if own else []
    candidates += sorted(mods.glob(f"*/{rel}")) if not any(ch in rel for ch in "*?[") else []
    return next((c for c in candidates if c.is_file()), None)


def _rel(game: Path, path: Path) -> str:
    try:
        return path.relative_to(game).as_posix()
    except ValueError:
        return path.as_posix()


def _clean(text: str) -> str:
    """Display text without ``${VARIABLE}`` placeholders or layout whitespace."""
    text = re.sub(r"\$\{[^}]*\}", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s+([,.;:!?])(?=\s|$)", r"\1", text)
