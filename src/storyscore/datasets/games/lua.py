"""Reading Lua game scripts as text (no interpreter): the helpers the Lua-scripted games share (naev,
freedroidrpg).

The loaders only need strings, comments and call arguments, and must keep line numbers right (a
``StoryPair.source`` is ``file:line``), so comments are blanked out, never removed, and nothing is evaluated.
What each game does with the strings (its markup, its own cleaning) stays in its module.
"""

from __future__ import annotations

import re
from pathlib import Path

# A one-line quoted Lua string, "..." or '...', with backslash escapes (long strings [[...]] are not).
STRING = r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
# What strip_comments must tell apart: a long comment --[==[, a line comment --, or a string (quoted or
# long [==[...]==]), inside which a "--" is text, not a comment.
_COMMENT = re.compile(r"--\[(?P<eq>=*)\[|--|" + STRING + r"|\[(?P<leq>=*)\[.*?\](?P=leq)\]", re.S)


def read_text(path: Path) -> str:
    """The file's text, or "" when it is missing or unreadable: a game version without one of the files a
    loader looks at gives fewer labels rather than an error. Bad bytes are replaced, not fatal."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def strip_comments(text: str) -> str:
    """Lua comments blanked out, keeping every newline (so line numbers stay right) and every string as it
    is (a ``--`` inside a string is not a comment)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        m = _COMMENT.search(text, i)
        if m is None:
            out.append(text[i:])
            break
        out.append(text[i : m.start()])
        tok = m.group(0)
        if tok.startswith("--["):
            close = text.find("]" + m.group("eq") + "]", m.end())
            close = len(text) if close < 0 else close + len(m.group("eq")) + 2
            out.append("\n" * text.count("\n", m.start(), close))
            i = close
        elif tok == "--":
            eol = text.find("\n", m.end())
            i = len(text) if eol < 0 else eol
        else:
            out.append(tok)
            i = m.end()
    return "".join(out)


def unquote(tok: str) -> str:
    """The value of a quoted Lua string token (escapes resolved; ``\\t`` as a space, since the text is read
    as prose); any other token is returned as it is."""
    if len(tok) >= 2 and tok[0] == tok[-1] and tok[0] in ("'", '"'):
        return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": " "}.get(m.group(1), m.group(1)), tok[1:-1])
    return tok


def call_args(lines: list[str], k: int, start: int, max_lines: int = 20) -> str:
    """The argument text of a call whose ``(`` ends at ``lines[k][start - 1]``, across lines to its
    matching ``)`` (parentheses inside strings do not count). A call not closed within ``max_lines`` lines
    gives what was read so far, so one unbalanced line cannot swallow the rest of a script."""
    depth, buf = 1, []
    for j in range(k, min(k + max_lines, len(lines))):
        seg = lines[j][start:] if j == k else lines[j]
        for m in re.finditer(STRING + r"|[()]", seg):
            depth += {"(": 1, ")": -1}.get(m.group(0), 0)
            if depth == 0:
                buf.append(seg[: m.start()])
                return " ".join(buf)
        buf.append(seg)
    return " ".join(buf)


def split_args(args: str) -> list[str]:
    """``args`` split at its top-level commas: commas inside strings, ``(...)``, ``[...]`` or ``{...}`` do
    not separate arguments."""
    out, depth, cur = [], 0, []
    for tok in re.findall(STRING + r"|.", args, flags=re.S):
        if tok in ("(", "[", "{"):
            depth += 1
        elif tok in (")", "]", "}"):
            depth -= 1
        if tok == "," and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(tok)
    out.append("".join(cur))
    return out
