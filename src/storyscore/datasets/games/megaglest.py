"""MegaGlest: the music of the ``megaglest-data`` Debian package, labelled by where the game's XML plays it.

Credit: MegaGlest 3.13 (the MegaGlest Team, https://megaglest.org/; based on Glest by the Glest Team),
data CC-BY-SA-3.0 per the Debian copyright file. Cite as: the MegaGlest Team, *MegaGlest* 3.13.0, 2017.

How the labels are read:

- ``data/core/menu/menu.xml``: ``<menu-intro-music>`` plays during the intro (situation ``intro``) and
  ``<menu-music>`` in the main menu (``menu``); commented-out blocks are ignored.
- ``techs/<tech>/factions/<faction>/<faction>.xml``: ``<music value="true" path="music/..."/>`` is the
  faction's music, which the engine plays for the whole match of the local player's faction
  (``world.getThisFaction()->getType()->getMusic()`` in its ``game.cpp``): situation ``faction``; the
  factions are kept in ``extra["factions"]`` as ``tech/faction``.
- Story pairs: a scenario (``scenarios/<s>/<s>.xml``) names the human player's faction and its
  ``<startup>`` script shows a briefing with ``showMessage('<key>', '<header>')``; the briefing text is
  ``<key>=`` in ``<s>_english.lng``. The pair is that text and the human faction's music, which is what
  the game plays under it. Scenarios without a shown briefing give no pair (the tutorials are skipped:
  their messages are instructions, not story); a scenario variant repeating the same text with the same
  music (``amazones_light``, ``amazones_pro``) gives no second pair.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from storyscore.datasets.games import GameTrack, StoryPair, unique_pairs

NAME = "megaglest"
PACKAGE = "megaglest-data"
LICENSE = "CC-BY-SA-3.0"
HOMEPAGE = "https://megaglest.org/"
GAME_DIR = "usr/share/games/megaglest"
MENU_XML = f"{GAME_DIR}/data/core/menu/menu.xml"
KEEP: tuple[str, ...] = (
    MENU_XML,
    f"{GAME_DIR}/data/core/menu/music/*.ogg",
    f"{GAME_DIR}/techs/*/factions/*/*.xml",
    f"{GAME_DIR}/techs/*/factions/*/music/*.ogg",
    f"{GAME_DIR}/scenarios/*/*.xml",
    f"{GAME_DIR}/scenarios/*/*_english.lng",
)

_SHOW = re.compile(r"""showMessage\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]*)['"]\s*\)""")


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _menu_music(root: Path) -> dict[Path, tuple[str, str]]:
    """music path -> (situation, source) from menu.xml."""
    xml = root / MENU_XML
    if not xml.is_file():
        return {}
    intro = ET.parse(xml).getroot().find("intro")
    if intro is None:
        return {}
    folder_el = intro.find("menu-music-path")
    folder = (folder_el.get("value", "") if folder_el is not None else "/menu/music/").strip("/")
    base = root / GAME_DIR / "data" / "core" / folder
    out: dict[Path, tuple[str, str]] = {}
    for tag, situation in (("menu-intro-music", "intro"), ("menu-music", "menu")):
        el = intro.find(tag)
        if el is not None and el.get("value"):
            out[base / el.get("value", "")] = (situation, f"{MENU_XML} <{tag}>")
    return out


def _faction_xml(root: Path, tech: str, faction: str, seen: int = 0) -> Path | None:
    """The faction's XML, following ``<link><techtree name=.../></link>`` files (magitech -> megapack)."""
    xml = root / GAME_DIR / "techs" / tech / "factions" / faction / f"{faction}.xml"
    if not xml.is_file() or seen > 3:
        return None
    top = ET.parse(xml).getroot()
    if top.tag == "link":
        linked = top.find("techtree")
        if linked is None or not linked.get("name"):
            return None
        return _faction_xml(root, linked.get("name", ""), faction, seen + 1)
    return xml


def _faction_music(xml: Path) -> Path | None:
    el = ET.parse(xml).getroot().find("music")
    if el is None or el.get("value", "true").lower() != "true" or not el.get("path"):
        return None
    return xml.parent / el.get("path", "")


def _all_faction_music(root: Path) -> dict[Path, list[tuple[str, str]]]:
    """music path -> [(tech/faction, source)] for every faction XML with its own <music>."""
    out: dict[Path, list[tuple[str, str]]] = {}
    for xml in sorted((root / GAME_DIR / "techs").glob("*/factions/*/*.xml")):
        if xml.stem != xml.parent.name or xml.is_symlink():
            continue
        try:
            if ET.parse(xml).getroot().tag != "faction":
                continue
        except ET.ParseError:
            continue
        music = _faction_music(xml)
        if music is not None:
            tech = xml.parent.parent.parent.name
            out.setdefault(music, []).append((f"{tech}/{xml.stem}", _rel(root, xml)))
    return out


def tracks(root: Path) -> list[GameTrack]:
    root = Path(root)
    menu = _menu_music(root)
    factions = _all_faction_music(root)
    files = sorted({*(root / GAME_DIR).glob("data/core/menu/music/*.ogg"),
                    *(root / GAME_DIR).glob("techs/*/factions/*/music/*.ogg")})
    out: list[GameTrack] = []
    for path in files:
        situations: list[str] = []
        sources: list[str] = []
        if path in menu:
            situations.append(menu[path][0])
            sources.append(menu[path][1])
        names = [f for f, _ in factions.get(path, [])]
        if names:
            situations.append("faction")
            sources.extend(s for _, s in factions[path])
        out.append(GameTrack(game=NAME, path=path, situations=tuple(situations), title=path.stem,
                             source="; ".join(sources), extra={"factions": names}))
    return out


def read_lng(path: Path) -> dict[str, tuple[str, int]]:
    """``key=value`` lines of a MegaGlest .lng file -> {key: (text, line)} (``;`` comments skipped)."""
    out: dict[str, tuple[str, int]] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith(";") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        out[key.strip()] = (value.strip().replace("\\n", "\n"), n)
    return out


def _startup_keys(xml_text: str) -> list[str]:
    """Message keys shown by the <startup> script (Lua comment lines skipped)."""
    m = re.search(r"<startup>(.*?)</startup>", xml_text, re.S)
    if not m:
        return []
    keys = []
    for line in m.group(1).splitlines():
        code = line.split("--", 1)[0]
        keys.extend(k for k, _ in _SHOW.findall(code))
    return keys


def story_pairs(root: Path) -> list[StoryPair]:
    root = Path(root)
    out: list[StoryPair] = []
    for xml in sorted((root / GAME_DIR / "scenarios").glob("*/*.xml")):
        if xml.stem != xml.parent.name:
            continue
        lng = xml.parent / f"{xml.stem}_english.lng"
        if not lng.is_file():
            continue
        top = ET.parse(xml).getroot()
        tech_el = top.find("tech-tree")
        human = next((p for p in top.iter("player") if p.get("control") == "human"), None)
        if tech_el is None or human is None:
            continue
        faction_xml = _faction_xml(root, tech_el.get("value", ""), human.get("faction", ""))
        music = _faction_music(faction_xml) if faction_xml is not None else None
        if music is None or not music.is_file():
            continue
        texts = read_lng(lng)
        for key in _startup_keys(xml.read_text(encoding="utf-8", errors="replace")):
            if key in texts and texts[key][0]:
                text, line = texts[key]
                out.append(StoryPair(game=NAME, text=text, tracks=(music,), situation="faction",
                                     source=f"{_rel(root, lng)}:{line}"))
    return unique_pairs(out)
