"""Chapters of a story: headings ("Chapter 3", "III.", "# Part One") found among the paragraphs."""

from __future__ import annotations

import re

from storyscore.types import Chapter

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    "seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|first|second|third|fourth|fifth|sixth|seventh|"
    "eighth|ninth|tenth|last"
)
_HEADING_RES = (
    re.compile(r"^#{1,6}\s+(?P<t>\S.*?)\s*#*\s*$"),  # Markdown ATX heading
    re.compile(
        rf"^(?P<t>(?:chapter|book|part|canto|letter)\s+(?:\d+|[ivxlcdm]+|(?:{_NUMBER_WORDS})(?:[- ](?:{_NUMBER_WORDS}))?)\b.*)$",
        re.IGNORECASE,
    ),
    re.compile(r"^(?P<t>[IVXLCDM]{1,8}\.?(?:\s+\S.*)?)$"),  # "IV", "IV. The Storm"
    re.compile(r"^(?P<t>\d{1,3}\.?)$"),  # a bare chapter number
    re.compile(r"^(?P<t>(?:prologue|epilogue|interlude|afterword|foreword)\b.*)$", re.IGNORECASE),
)


def heading_title(line: str) -> str | None:
    """The chapter title if `line` looks like a chapter heading, else None."""
    line = line.strip()
    if not line or len(line) > 80:
        return None
    for rx in _HEADING_RES:
        m = rx.match(line)
        if m:
            title = m.group("t").strip().strip("*_ ").strip()
            # "I went home." is a sentence, not chapter I: roman headings must not read as prose.
            if rx is _HEADING_RES[2] and len(line.split()) > 1 and not re.match(r"^[IVXLCDM]+\.\s", line):
                return None
            return title or line
    return None


def find_chapters(text: str, paragraphs: list[tuple[int, int]]) -> list[Chapter]:
    """Chapters from headings at paragraph starts; they tile the text (front matter gets title '')."""
    heads: list[tuple[int, int, str]] = []  # (paragraph index, offset, title)
    for i, (a, b) in enumerate(paragraphs):
        first = text[a:b].split("\n", 1)[0]
        title = heading_title(first)
        if title is not None:
            heads.append((i, a, title))
    # A table of contents is a run of headings with no prose between them: keep only the last of a run.
    kept: list[tuple[int, int, str]] = []
    for k, h in enumerate(heads):
        nxt = heads[k + 1] if k + 1 < len(heads) else None
        a, b = paragraphs[h[0]]
        has_body = "\n" in text[a:b].strip()  # "Chapter 1\nIt was..." carries its own prose
        if nxt is not None and nxt[0] == h[0] + 1 and not has_body:
            continue
        kept.append(h)
    return tile_chapters([(off, title) for _, off, title in kept], paragraphs, len(text))


def tile_chapters(starts: list[tuple[int, str]], paragraphs: list[tuple[int, int]], n: int) -> list[Chapter]:
    if not paragraphs:
        return [Chapter("", 0, n)]
    starts = sorted(set(starts))
    out: list[Chapter] = []
    first_para = paragraphs[0][0]
    if not starts or starts[0][0] > first_para:
        out.append(Chapter("", 0, starts[0][0] if starts else n))
    for k, (off, title) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else n
        if end > off:
            out.append(Chapter(title, off if out else 0, end))
    return out
