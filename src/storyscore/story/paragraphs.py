"""Paragraph spans of a story's text: blank lines, or single lines where a text has no blank lines."""

from __future__ import annotations

import re

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_SENTENCE_END = re.compile(r"[.!?…:\"'”’)\]]\s*$")


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    seg = text[start:end]
    stripped = seg.strip()
    if not stripped:
        return None
    lead = len(seg) - len(seg.lstrip())
    return start + lead, start + lead + len(stripped)


def split_paragraphs(text: str) -> list[tuple[int, int]]:
    """Blank-line separated paragraphs as (start, end) offsets, trimmed of whitespace.

    Texts without blank lines fall back to line structure: hard-wrapped prose (most lines of similar
    width) breaks where a line is short and ends a sentence or the next line is indented; otherwise
    every line is a paragraph (one-paragraph-per-line files, dialogue).
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _BLANK_LINE.finditer(text):
        t = _trimmed(text, pos, m.start())
        if t:
            spans.append(t)
        pos = m.end()
    t = _trimmed(text, pos, len(text))
    if t:
        spans.append(t)
    if len(spans) == 1 and text.count("\n") >= 2:
        spans = _split_lines(text, spans[0])
    return spans


def _split_lines(text: str, span: tuple[int, int]) -> list[tuple[int, int]]:
    lines: list[tuple[int, int]] = []
    pos = span[0]
    for line in text[span[0] : span[1]].split("\n"):
        lines.append((pos, pos + len(line)))
        pos += len(line) + 1
    widths = sorted(len(text[a:b].rstrip()) for a, b in lines if text[a:b].strip())
    if not widths:
        return [span]
    typical = widths[int(len(widths) * 0.8)]
    hard_wrapped = typical >= 40 and sum(1 for w in widths if w >= 0.6 * typical) >= 0.6 * len(widths)
    out: list[tuple[int, int]] = []
    cur: tuple[int, int] | None = None
    for i, (a, b) in enumerate(lines):
        line = text[a:b]
        if not line.strip():
            if cur:
                out.append(cur)
            cur = None
            continue
        indented = line[:1] in (" ", "\t") and hard_wrapped
        if cur is not None and (not hard_wrapped or indented):
            out.append(cur)
            cur = None
        cur = (a, b) if cur is None else (cur[0], b)
        short_end = len(line.rstrip()) < 0.75 * typical and _SENTENCE_END.search(line)
        if hard_wrapped and short_end and i + 1 < len(lines):
            out.append(cur)
            cur = None
    if cur:
        out.append(cur)
    return [t for t in (_trimmed(text, a, b) for a, b in out) if t]
