"""Naev (Debian ``naev-data``): a 2D space trading and combat game; its soundtrack, labelled by its own scripts.

Credit: Naev, https://naev.org (Edgar Simo Serra "bobbens" and the Naev contributors). Music by Nikola Whallon
(GPL-3 or CC-BY-3.0), Askyel (CC-BY-SA-3.0), Zeropage (CC-BY-3.0), Matthew Pablo, Alexandr Zhelanov, Muncheybobo
(CC-BY-3.0), iamoneabe (CC-BY-SA-4.0), Olivier Bérubé and Dizzy Crow (CC0), and tracks from Vega Strike (GPL-2+).
Each track's author and licence (from the game's ``dat/snd/SOUND_LICENSE.yaml``, else the Debian copyright file)
are in ``GameTrack.extra["author"]`` / ``["license"]``.

How the labels are read (no Lua interpreter; the files are parsed as text):

- ``dat/snd/music.lua`` is the game's music chooser. The engine calls ``choose(str)`` with the game's state
  ("load", "intro", "credits", "land", "takeoff", "ambient", "combat"); ``choose_table`` maps each state to a
  ``choose_<state>`` function. A track named inside such a function gets that state as a situation; a
  top-level table (``ambient_neutral``, ``factional``, ``factional_combat``) gets the state of every
  ``choose_*`` function that uses it, and the keys of the faction tables add ``faction_<name>`` (the
  strongest faction of the star system picks the list). A list chosen under an ``if nebu`` branch adds
  ``nebula`` (the system lies in the nebula).
- Missions and events (``dat/missions``, ``dat/events``) that ``music.load("x")`` a track in a scripted
  scene give it ``scripted_scene``; the scene's own text becomes a :class:`StoryPair`.
- ``dat/snd/soundtrack.yaml`` gives the titles.

Story pairs: in a mission or event function that loads a track, every message box shown after it
(``tk.msg`` / ``tk.yesno`` / ``tk.choice``, and those of a function the same function starts with
``hook.timer``) is paired with that track, one pair per message; and the opening crawl ``dat/intro``,
which the game shows while ``choose("intro")`` plays, is paired with the intro track.
"""

from __future__ import annotations

import re
from pathlib import Path

from storyscore.datasets.games import GameTrack, StoryPair
from storyscore.datasets.games.lua import STRING, call_args, read_text, split_args, strip_comments, unquote

NAME = "naev"
PACKAGE = "naev-data"
LICENSE = (
    "per track: GPL-2+, GPL-3 or CC-BY-3.0, CC-BY-3.0, CC-BY-SA-3.0, CC-BY-SA-4.0, CC0 "
    "(dat/snd/SOUND_LICENSE.yaml and usr/share/doc/naev-data/copyright; GameTrack.extra['license'])"
)
HOMEPAGE = "https://naev.org"
DATA = "usr/share/naev"  # the package's game folder; sources are given relative to it ("dat/snd/music.lua:42")
KEEP: tuple[str, ...] = (
    f"{DATA}/dat/snd/music/*.ogg",
    f"{DATA}/dat/snd/music.lua",
    f"{DATA}/dat/snd/soundtrack.yaml",
    f"{DATA}/dat/snd/SOUND_LICENSE.yaml",
    f"{DATA}/dat/intro",
    f"{DATA}/dat/missions/*.lua",
    f"{DATA}/dat/missions/**/*.lua",
    f"{DATA}/dat/events/*.lua",
    f"{DATA}/dat/events/**/*.lua",
    "usr/share/doc/naev-data/copyright",
)
MIN_WORDS = 15  # a story passage shorter than this is a UI line, not a story

_LOAD = re.compile(r"music\.load\s*\(\s*(" + STRING + r")\s*\)")
_TRACK_CALL = re.compile(r"(?:playIfNotPlaying|music\.load)\s*\(\s*(" + STRING + r")\s*\)")
_FUNC = re.compile(r"^function\s+([\w.:]+)\s*\(")
_END = re.compile(r"^end\b")
_TK = re.compile(r"\btk\.(?:msg|yesno|choice)\s*\(")
_TIMER = re.compile(r"hook\.timer\s*\([^,]*,\s*(" + STRING + r")")
_TABLE_TOKEN = re.compile(
    r"\[\s*(?P<qkey>" + STRING + r")\s*\]\s*=\s*\{|(?P<key>[A-Za-z_]\w*)\s*=\s*\{|(?P<open>\{)|(?P<close>\})"
    r"|(?P<str>" + STRING + r")"
)
_ASSIGN = re.compile(
    r"^[ \t]*(?:local[ \t]+)?(?P<name>[A-Za-z_]\w*)(?:[ \t]*\[[ \t]*(?P<key>[^\]\n]+?)[ \t]*\])?[ \t]*=[ \t]*"
    r"(?:_[ \t]*\([ \t]*)?(?:\[(?P<eq>=*)\[(?P<long>.*?)\](?P=eq)\]|(?P<str>" + STRING + "))",
    re.M | re.S,
)


def tracks(root: Path) -> list[GameTrack]:
    """Every ``.ogg`` under ``dat/snd/music`` with the situations the game's scripts play it in."""
    game = Path(root) / DATA
    music = game / "dat" / "snd" / "music"
    uses: dict[str, list[tuple[str, str]]] = {}
    for stem, situation, source in [*_music_lua_uses(game), *_script_uses(game)]:
        found = uses.setdefault(stem, [])
        if (situation, source) not in found:
            found.append((situation, source))
    titles = _titles(game / "dat" / "snd" / "soundtrack.yaml")
    licenses = _licenses(game, Path(root) / "usr" / "share" / "doc" / PACKAGE / "copyright")
    out: list[GameTrack] = []
    for path in sorted(music.glob("*.ogg")) if music.is_dir() else []:
        found = uses.get(path.stem, [])
        situations = tuple(sorted({s for s, _ in found}))
        source = "; ".join(dict.fromkeys(src for _, src in found))
        author, license_ = licenses.get(path.name, ("", ""))
        extra = {"uses": found, "author": author, "license": license_}
        out.append(GameTrack(NAME, path, situations, titles.get(path.name, ""), source, extra))
    return out


def story_pairs(root: Path) -> list[StoryPair]:
    """Message boxes of missions and events with the track the script loaded before showing them, and the
    opening crawl with the intro track."""
    game = Path(root) / DATA
    music = game / "dat" / "snd" / "music"
    out: list[StoryPair] = []
    intro = _intro_pair(game, music)
    if intro is not None:
        out.append(intro)
    for path in _script_files(game):
        rel = path.relative_to(game).as_posix()
        for stem, text, line in _scene_texts(read_text(path)):
            track = music / f"{stem}.ogg"
            if track.is_file() and len(text.split()) >= MIN_WORDS:
                out.append(StoryPair(NAME, text, (track,), "", f"{rel}:{line}"))
    return out


# --- music.lua ---------------------------------------------------------------------------------------


def _music_lua_uses(game: Path) -> list[tuple[str, str, str]]:
    """(track stem, situation, "dat/snd/music.lua:line") for every track music.lua names."""
    path = game / "dat" / "snd" / "music.lua"
    text = read_text(path)
    if not text:
        return []
    rel = path.relative_to(game).as_posix()
    lines = strip_comments(text).split("\n")
    tables = _top_tables(lines)
    states = _choose_table(lines)
    out: list[tuple[str, str, str]] = []
    for name, start, end in _functions(lines):
        if not name.startswith("choose_"):
            continue
        state = states.get(name, name.removeprefix("choose_"))
        body = lines[start + 1 : end]
        for stem, k, nebula in _function_tracks(body):
            where = f"{rel}:{start + 2 + k}"
            out.append((stem, state, where))
            if nebula:
                out.append((stem, "nebula", where))
        used = "\n".join(body)
        for table, entries in tables.items():
            if not re.search(rf"(?<![\w.:]){re.escape(table)}\b", used):
                continue
            for stem, k, faction in entries:
                out.append((stem, state, f"{rel}:{k + 1}"))
                if faction:
                    out.append((stem, f"faction_{faction}", f"{rel}:{k + 1}"))
    return out


def _top_tables(lines: list[str]) -> dict[str, list[tuple[str, int, str]]]:
    """Top-level ``name = { ... }`` tables: (string, 0-based line, faction key or "") per string entry;
    the faction key is the ``Key = { ... }`` entry (``factional.Pirate``) a string sits in."""
    out: dict[str, list[tuple[str, int, str]]] = {}
    k = 0
    while k < len(lines):
        m = re.match(r"^([A-Za-z_]\w*)\s*=\s*\{", lines[k])
        if not m:
            k += 1
            continue
        entries: list[tuple[str, int, str]] = []
        depth, key, j = 0, "", k
        for j in range(k, len(lines)):
            for t in _TABLE_TOKEN.finditer(lines[j]):
                if t.group("qkey") or t.group("key") or t.group("open"):
                    depth += 1
                    if depth == 2:
                        key = _faction(unquote(t.group("qkey")) if t.group("qkey") else t.group("key") or "")
                elif t.group("close"):
                    depth -= 1
                    key = key if depth >= 2 else ""
                elif depth >= 1 and not lines[j][t.end() :].lstrip().startswith("]"):
                    entries.append((unquote(t.group("str")), j, key))
            if depth <= 0:
                break
        out[m.group(1)] = entries
        k = j + 1
    return out


def _choose_table(lines: list[str]) -> dict[str, str]:
    """``["land"] = choose_land`` entries: function name → the state the engine passes."""
    out: dict[str, str] = {}
    for line in lines:
        for m in re.finditer(r'\[\s*"(\w+)"\s*\]\s*=\s*(choose_\w+)', line):
            out[m.group(2)] = m.group(1)
    return out


def _function_tracks(body: list[str]) -> list[tuple[str, int, bool]]:
    """Tracks a function names (in ``music.load``/``playIfNotPlaying`` or a table constructor): (stem,
    0-based line in ``body``, whether an enclosing ``if``/``elseif`` tests ``nebu``)."""
    out: list[tuple[str, int, bool]] = []
    conditions: list[str] = []
    depth = 0
    for k, line in enumerate(body):
        code = line.strip()
        branch = re.match(r"^(if|elseif)\b(.*)\bthen\b", code)
        closes_itself = re.match(r"^(if|for|while)\b", code) and re.search(r"\bend\b", code)
        if branch and branch.group(1) == "if" and not closes_itself:
            conditions.append(branch.group(2))
        elif branch and conditions:
            conditions[-1] = branch.group(2)
        elif re.match(r"^else\b", code) and conditions:
            conditions[-1] = ""
        elif re.match(r"^(for|while)\b.*\bdo$", code):
            conditions.append("")
        elif re.match(r"^end\b", code) and conditions:
            conditions.pop()
        nebula = any(re.search(r"(?<!not )\bnebu\b", c) for c in conditions)
        found = [unquote(m.group(1)) for m in _TRACK_CALL.finditer(line)]
        for t in _TABLE_TOKEN.finditer(line):
            if t.group("qkey") or t.group("key") or t.group("open"):
                depth += 1
            elif t.group("close"):
                depth = max(0, depth - 1)
            elif depth >= 1 and not line[t.end() :].lstrip().startswith("]"):
                found.append(unquote(t.group("str")))
        out.extend((stem, k, nebula) for stem in dict.fromkeys(found))
    return out


def _faction(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", name.lower())


# --- missions and events -----------------------------------------------------------------------------


def _script_files(game: Path) -> list[Path]:
    out: list[Path] = []
    for folder in ("missions", "events"):
        base = game / "dat" / folder
        if base.is_dir():
            out.extend(sorted(base.rglob("*.lua")))
    return out


def _script_uses(game: Path) -> list[tuple[str, str, str]]:
    """(stem, "scripted_scene", "file:line") for every ``music.load("x")`` in a mission or event."""
    out: list[tuple[str, str, str]] = []
    for path in _script_files(game):
        rel = path.relative_to(game).as_posix()
        for k, line in enumerate(strip_comments(read_text(path)).split("\n"), start=1):
            out.extend((unquote(m.group(1)), "scripted_scene", f"{rel}:{k}") for m in _LOAD.finditer(line))
    return out


def _scene_texts(text: str) -> list[tuple[str, str, int]]:
    """(track stem, message text, 1-based line of the message's string): each message box a function shows
    after it loads a track (and before it stops it), following ``hook.timer(..., "fn")`` one level."""
    if not text:
        return []
    strings = _string_table(text)
    lines = strip_comments(text).split("\n")
    funcs = {name: (start, end) for name, start, end in _functions(lines)}
    out: list[tuple[str, str, int]] = []
    seen: set[tuple[str, int]] = set()
    for start, end in funcs.values():
        track = ""
        for k in range(start + 1, end):
            line = lines[k]
            load = _LOAD.search(line)
            if load:
                track = unquote(load.group(1))
                continue
            if re.search(r"music\.(?:load|stop)\s*\(", line):
                track = ""  # stopped, or a track chosen at run time: we cannot say which
                continue
            if not track:
                continue
            calls = [call_args(lines, k, m.end()) for m in _TK.finditer(line)]
            timer = _TIMER.search(line)
            if timer and unquote(timer.group(1)) in funcs:
                t0, t1 = funcs[unquote(timer.group(1))]
                calls += [call_args(lines, j, m.end()) for j in range(t0 + 1, t1) for m in _TK.finditer(lines[j])]
            for call in calls:
                for key in _message_refs(call, strings):
                    body, at = strings[key]
                    if (track, at) not in seen:
                        seen.add((track, at))
                        out.append((track, body, at))
    return out


def _message_refs(args: str, strings: dict[str, tuple[str, int]]) -> list[str]:
    """The string-table keys a message call shows as its text: the arguments after the title."""
    out: list[str] = []
    for arg in split_args(args)[1:]:
        code = re.sub(STRING, '""', arg)
        for m in re.finditer(r"(?<![\w.:])([A-Za-z_]\w*)(\s*\[\s*([^\]]+?)\s*\])?", code):
            key = m.group(1) + (f"[{_key(m.group(3))}]" if m.group(2) else "")
            if key in strings and key not in out:
                out.append(key)
    return out


def _string_table(text: str) -> dict[str, tuple[str, int]]:
    """``name = _("...")`` / ``name[k] = _([[...]])`` assignments: key → (display text, 1-based line)."""
    out: dict[str, tuple[str, int]] = {}
    for m in _ASSIGN.finditer(text):
        long = m.group("long")
        raw = long if long is not None else unquote(m.group("str"))
        key = m.group("name") + (f"[{_key(m.group('key'))}]" if m.group("key") else "")
        at = m.start("long") if long is not None else m.start("str")
        out[key] = (_clean(raw), text.count("\n", 0, at) + 1)
    return out


def _key(raw: str) -> str:
    raw = raw.strip()
    return unquote(raw) if raw[:1] in ("'", '"') else raw


# --- intro, titles and licences ----------------------------------------------------------------------


def _intro_pair(game: Path, music: Path) -> StoryPair | None:
    """The opening crawl (``dat/intro`` without its ``[fadein ...]`` directives) with the intro track."""
    path = game / "dat" / "intro"
    stems = [stem for stem, situation, _ in _music_lua_uses(game) if situation == "intro"]
    tracks_ = [music / f"{s}.ogg" for s in dict.fromkeys(stems) if (music / f"{s}.ogg").is_file()]
    lines = [(k, ln) for k, ln in enumerate(read_text(path).split("\n"), start=1) if ln.strip()]
    kept = [(k, ln) for k, ln in lines if not ln.strip().startswith("[")]
    body = _clean(" ".join(ln for _, ln in kept))
    if not tracks_ or len(body.split()) < MIN_WORDS:
        return None
    return StoryPair(NAME, body, tuple(tracks_), "intro", f"{path.relative_to(game).as_posix()}:{kept[0][0]}")


def _titles(path: Path) -> dict[str, str]:
    """Track file name → title, from soundtrack.yaml's ``- name: X`` / ``filename: y.ogg`` entries."""
    out: dict[str, str] = {}
    name = ""
    for line in read_text(path).split("\n"):
        m = re.match(r"^\s*-?\s*(name|filename):\s*(.+?)\s*$", line)
        if m and m.group(1) == "name":
            name = m.group(2).strip("\"'")
        elif m and name:
            out[m.group(2).strip("\"'")] = name
            name = ""
    return out


def _licenses(game: Path, copyright_file: Path) -> dict[str, tuple[str, str]]:
    """Music file name → (author, licence): from the game's ``dat/snd/SOUND_LICENSE.yaml`` (``- Author:`` /
    ``license:`` / ``music:`` lists), else the Debian copyright file's ``Files:`` / ``License:`` stanzas."""
    out: dict[str, tuple[str, str]] = {}
    author, license_, section = "", "", ""
    for line in read_text(game / "dat" / "snd" / "SOUND_LICENSE.yaml").split("\n"):
        top = re.match(r"^-\s*(.+?):\s*$", line)
        field = re.match(r"^\s+(\w+):\s*(.*?)\s*$", line)
        item = re.match(r"^\s+-\s*(\S+\.ogg)\s*$", line)
        if top:
            author, license_, section = top.group(1), "", ""
        elif field:
            section = field.group(1)
            license_ = field.group(2) if section == "license" else license_
        elif item and section == "music" and author:
            out[item.group(1)] = (author, license_)
    files: list[str] = []
    key = ""
    for line in read_text(copyright_file).split("\n"):
        m = re.match(r"^([A-Za-z-]+):\s*(.*)$", line)
        if m:
            key = m.group(1)
            files = m.group(2).split() if key == "Files" else files
            if key == "License" and files:
                for f in (f for f in files if "/music/" in f):
                    out.setdefault(f.rsplit("/", 1)[-1], ("", m.group(2).strip()))
                files = []
        elif line.startswith((" ", "\t")) and key == "Files":
            files += line.split()
        elif not line.strip():
            files, key = [], ""
    return out


# --- text helpers ------------------------------------------------------------------------------------


def _functions(lines: list[str]) -> list[tuple[str, int, int]]:
    """Top-level ``function name(...)`` … ``end`` spans (0-based first and last line)."""
    out: list[tuple[str, int, int]] = []
    k = 0
    while k < len(lines):
        m = _FUNC.match(lines[k])
        if not m:
            k += 1
            continue
        end = next((j for j in range(k + 1, len(lines)) if _END.match(lines[j])), len(lines))
        out.append((m.group(1), k, end))
        k = end + 1
    return out


def _clean(text: str) -> str:
    """Display text without format codes (``%s``), colour codes (``\\ar``) or layout whitespace."""
    text = re.sub(r"\\a.|\a.", "", text)
    text = re.sub(r"%(?:\d+\$)?[-+#0]*\d*(?:\.\d+)?[sdifgx]", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([,.;:!?])(?=\s|$)", r"\1", text)
    text = re.sub(r"([,;:])(?=[,.;:!?])", "", text)
    text = re.sub(r'(^|")[,;:]\s*', r"\1", text)
    return text.strip()
