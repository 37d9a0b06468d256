"""FreedroidRPG (Debian ``freedroidrpg-data``): an isometric RPG (Tux against the bots); its music, labelled by
its own level and title files.

Credit: FreedroidRPG, https://www.freedroid.org (Johannes Prix, Reinhard Prix, Arthur Huillet, Samuel Degrande
and the FreedroidRPG team; music by girix8 and pekpek among others, per the game's credits). Everything in the
package, the music included, is GPL-2+ (``usr/share/doc/freedroidrpg-data/copyright``, ``Files: *``).

How the labels are read (text parsing only):

- The acts are those ``data/base/game_config.lua`` declares (``subdir = "act1"``; the level editor's
  ``empty_map`` template is not one). Each act's ``levels.dat`` gives every level a ``BgSong=`` (the music
  played while Tux walks there) and its fields: every level use gives ``level``; a level where the game
  lets Tux run without tiring (``infinite_running_on_this_level: 1``, its safe hubs: the Town, the RR
  Resorts) adds ``infinite_running``; one that spawns random bots (``number of random droids`` > 0 with
  ``random droid types``) adds ``random_bots``; a generated dungeon (``random dungeon`` ≠ 0) adds
  ``random_dungeon``; a level the game names an arena adds ``arena``. The debug levels ("NOT meant to be
  accessible without cheating") are skipped.
- The title screens (``data/base/titles/*.lua``, ``data/storyline/<act>/titles/*.lua``: ``song = "X.ogg"``)
  give the screen's name in snake case: ``start_of_game``, ``game_lost``, ``end_of_act``, ``end_of_game``,
  ``credits``, ``controls``, ...
- The track's own file name gives ``named_<word>`` (``AmbientBattle`` → ``named_battle``, ``menu`` →
  ``named_menu``): a weaker label (a title, not a use), kept apart by its prefix; ``menu.ogg`` is named by
  no data file (the engine plays it), so this is its only label.

Story pairs: the story title screens (start of game, end of act, end of game, game lost: their ``text``)
with their ``song``; and the dialogue of every NPC an act's ``ReturnOfTux.droids`` places on a level
(``UseDialog="Name"`` → ``dialogs/Name.lua``), one pair per dialogue node (the option Tux picks and the
``Npc:says`` / ``Tux:says`` lines, each ``if`` branch apart), with the music of the level(s) it stands on.
Nodes under 15 words, terminal output (``cli_says``) and the generic base dialogues (taken-over bots) are
left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from storyscore.datasets.games import GameTrack, StoryPair, unique_pairs
from storyscore.datasets.games.lua import STRING, call_args, read_text, split_args, strip_comments, unquote

NAME = "freedroidrpg"
PACKAGE = "freedroidrpg-data"
LICENSE = "GPL-2+"
HOMEPAGE = "https://www.freedroid.org"
DATA = "usr/share/freedroidrpg/data"  # sources are given relative to usr/share/freedroidrpg ("data/...")
KEEP: tuple[str, ...] = (
    f"{DATA}/sound/music/*.ogg",
    f"{DATA}/base/game_config.lua",
    f"{DATA}/base/titles/*.lua",
    f"{DATA}/storyline/*/titles/*.lua",
    f"{DATA}/storyline/*/levels.dat",
    f"{DATA}/storyline/*/ReturnOfTux.droids",
    f"{DATA}/storyline/*/dialogs/*.lua",
    "usr/share/doc/freedroidrpg-data/copyright",
)
MIN_WORDS = 15  # a story passage shorter than this is a UI line, not a story
STORY_TITLES: frozenset[str] = frozenset({"start_of_game", "end_of_act", "end_of_game", "game_lost"})
# Words in a track's file name that name a situation (a label from the name only).
NAMED: tuple[str, ...] = ("battle", "town", "menu", "tutorial", "underground")

_SAYS = re.compile(r"\b(?:Npc|Tux|\w+):says(?:_random)?\s*\(")
_NODE = re.compile(r"^\s*(?:id\s*=\s*\"|(?:FirstTime|EveryTime)\s*=\s*function\b)")


@dataclass(frozen=True)
class _Level:
    act: str
    number: int
    name: str
    song: str
    line: int  # of its BgSong= line
    infinite_running: bool
    random_bots: bool
    random_dungeon: bool


def tracks(root: Path) -> list[GameTrack]:
    """Every ``.ogg`` under ``data/sound/music`` with the situations of the levels and title screens that
    play it."""
    game = Path(root) / DATA
    music = game / "sound" / "music"
    uses: dict[str, list[tuple[str, str]]] = {}

    def add(song: str, situation: str, source: str) -> None:
        found = uses.setdefault(song, [])
        if (situation, source) not in found:
            found.append((situation, source))

    levels: dict[str, list[str]] = {}
    for act in _acts(game):
        src = _rel(game, game / "storyline" / act / "levels.dat")
        for lv in _levels(game, act):
            where = f"{src}:{lv.line}"
            levels.setdefault(lv.song, []).append(f"{act}/{lv.number}: {lv.name}")
            for situation in _level_situations(lv):
                add(lv.song, situation, where)
    for path, song, line, _text in _titles(game):
        add(song, _snake(path.stem), f"{_rel(game, path)}:{line}")
    out: list[GameTrack] = []
    for path in sorted(music.glob("*.ogg")) if music.is_dir() else []:
        found = uses.get(path.name, [])
        named = [f"named_{w}" for w in NAMED if w in path.stem.lower()]
        situations = tuple(sorted({s for s, _ in found} | set(named)))
        source = "; ".join(dict.fromkeys(src for _, src in found))
        extra = {"uses": found, "levels": levels.get(path.name, []), "name_only": named}
        out.append(GameTrack(NAME, path, situations, "", source, extra))  # the game gives no titles
    return out


def story_pairs(root: Path) -> list[StoryPair]:
    """Story title screens with their song, and NPC dialogue nodes with the music of the NPC's level."""
    game = Path(root) / DATA
    music = game / "sound" / "music"
    out: list[StoryPair] = []
    for path, song, line, text in _titles(game):
        situation = _snake(path.stem)
        if situation in STORY_TITLES and (music / song).is_file() and len(text.split()) >= MIN_WORDS:
            out.append(StoryPair(NAME, text, (music / song,), situation, f"{_rel(game, path)}:{line}"))
    for act in _acts(game):
        songs = {lv.number: lv.song for lv in _levels(game, act)}
        placed: dict[str, list[Path]] = {}
        for level, dialog in _placements(game / "storyline" / act / "ReturnOfTux.droids"):
            track = music / songs.get(level, "")
            if level in songs and track.is_file() and track not in placed.setdefault(dialog, []):
                placed[dialog].append(track)
        for dialog, tracks_ in sorted(placed.items()):
            path = game / "storyline" / act / "dialogs" / f"{dialog}.lua"
            if not tracks_ or not path.is_file():
                continue  # a generic base dialogue (taken-over bots, terminals) or none
            for text, line in _dialog_nodes(read_text(path)):
                if len(text.split()) >= MIN_WORDS:
                    out.append(StoryPair(NAME, text, tuple(tracks_), "", f"{_rel(game, path)}:{line}"))
    return unique_pairs(out)


# --- acts, levels, placements, titles ----------------------------------------------------------------


def _acts(game: Path) -> list[str]:
    """The acts ``base/game_config.lua`` declares (``subdir = "act1"``), else every ``storyline/act*``."""
    config = strip_comments(read_text(game / "base" / "game_config.lua"))
    acts = list(dict.fromkeys(re.findall(r"subdir\s*=\s*\"([\w-]+)\"", config)))
    if not acts:
        acts = sorted(p.name for p in (game / "storyline").glob("act*") if p.is_dir())
    return [a for a in acts if (game / "storyline" / a).is_dir()]


def _levels(game: Path, act: str) -> list[_Level]:
    """The levels of one act's ``levels.dat`` that have a ``BgSong`` (debug levels left out)."""
    out: list[_Level] = []
    fields: dict[str, tuple[str, int]] = {}

    def flush() -> None:
        if "Levelnumber" not in fields or "BgSong" not in fields:
            return
        try:
            number = int(fields["Levelnumber"][0])
        except ValueError:
            return
        name = _lua_text(fields.get("Name of this level", ("", 0))[0])
        if name.upper().startswith("DEBUG"):
            return
        song, line = fields["BgSong"]
        types = fields.get("random droid types", ("", 0))[0].strip()
        count = _int(fields.get("number of random droids", ("0", 0))[0])
        out.append(_Level(act, number, name, song.strip(), line,
                          _int(fields.get("infinite_running_on_this_level", ("0", 0))[0]) != 0,
                          count > 0 and bool(types), _int(fields.get("random dungeon", ("0", 0))[0]) != 0))

    for k, line in enumerate(read_text(game / "storyline" / act / "levels.dat").split("\n"), start=1):
        m = re.match(r"^(Levelnumber|Name of this level|BgSong|[a-z_ ]+?)\s*[:=]\s*(.*?)\s*$", line)
        if not m or len(line) > 300:
            continue
        if m.group(1) == "Levelnumber":
            flush()
            fields = {}
        fields[m.group(1)] = (m.group(2), k)
    flush()
    return out


def _level_situations(lv: _Level) -> list[str]:
    out = ["level"]
    if lv.infinite_running:
        out.append("infinite_running")
    if lv.random_bots:
        out.append("random_bots")
    if lv.random_dungeon:
        out.append("random_dungeon")
    if re.search(r"\barena\b", lv.name, re.I):
        out.append("arena")
    return out


def _placements(path: Path) -> list[tuple[int, str]]:
    """(level number, dialogue name) for each ``UseDialog="X"`` of a ``.droids`` file."""
    out: list[tuple[int, str]] = []
    level = -1
    for line in read_text(path).split("\n"):
        m = re.match(r"^\s*Level\s*=\s*(\d+)", line)
        if m:
            level = int(m.group(1))
            continue
        m = re.search(r'UseDialog="([\w.-]+)"', line)
        if m and level >= 0:
            out.append((level, m.group(1)))
    return out


def _titles(game: Path) -> list[tuple[Path, str, int, str]]:
    """(file, song, line of ``song =``, clean text) for each title screen in English (the top folders)."""
    files = sorted((game / "base" / "titles").glob("*.lua"))
    for act in _acts(game):
        files += sorted((game / "storyline" / act / "titles").glob("*.lua"))
    out: list[tuple[Path, str, int, str]] = []
    for path in files:
        raw = read_text(path)
        text = strip_comments(raw)
        song = re.search(r"\bsong\s*=\s*(" + STRING + ")", text)
        if song is None:
            continue
        body = re.search(r"\btext\s*=\s*(?:_\s*)?\[(=*)\[(.*?)\]\1\]", text, re.S)
        body_text = "" if body is None else _clean(body.group(2))
        out.append((path, unquote(song.group(1)), text.count("\n", 0, song.start()) + 1, body_text))
    return out


# --- dialogue ----------------------------------------------------------------------------------------


def _dialog_nodes(text: str) -> list[tuple[str, int]]:
    """(clean text, 1-based line of its first line) per dialogue node or ``if`` branch of one: the option
    Tux picks (``text = _"..."``) and the ``says`` lines that follow."""
    lines = strip_comments(text).split("\n")
    chunks: list[list[tuple[str, int]]] = []
    cur: list[tuple[str, int]] | None = None
    for k, line in enumerate(lines):
        if _NODE.match(line) or (cur is not None and re.match(r"^\s*(?:else|elseif)\b", line)):
            cur = []  # a new node, or another branch of the same node
            chunks.append(cur)
        if cur is None:
            continue
        option = re.match(r"^\s*text\s*=\s*_?\s*(" + STRING + r")\s*,?\s*$", line)
        if option:
            cur.append((unquote(option.group(1)), k + 1))
            continue
        for m in _SAYS.finditer(line):
            args = call_args(lines, k, m.end(), max_lines=10)
            first = split_args(args)[0]
            said = " ".join(unquote(s) for s in re.findall(STRING, first))
            if said.strip():
                cur.append((said, k + 1))
    out: list[tuple[str, int]] = []
    for chunk in chunks:
        if chunk:
            out.append((_clean(" ".join(t for t, _ in chunk)), chunk[0][1]))
    return out


# --- text helpers ------------------------------------------------------------------------------------


def _lua_text(value: str) -> str:
    """``_"Town"`` → ``Town``."""
    m = re.search(STRING, value)
    return unquote(m.group(0)) if m else value.strip()


def _clean(text: str) -> str:
    """Display text without markup (``[b]``), format codes (``%s``), rule lines (``===``) or layout
    whitespace."""
    text = re.sub(r"\[/?[a-z]+\]", "", text)
    text = re.sub(r"%(?:\d+\$)?[-+#0]*\d*(?:\.\d+)?[sdifgx]", "", text)
    text = re.sub(r"={2,}|-={1,}|={1,}-", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([,.;:!?])(?=\s|$)", r"\1", text)
    return text


def _snake(stem: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", stem).lower()


def _int(value: str) -> int:
    try:
        return int(value.strip().split()[0])
    except (ValueError, IndexError):
        return 0


def _rel(game: Path, path: Path) -> str:
    try:
        return path.relative_to(game.parent).as_posix()
    except ValueError:
        return path.as_posix()
