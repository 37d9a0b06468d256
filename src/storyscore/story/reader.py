"""Read a story (.txt, .md, .epub or stdin) into text, paragraphs and chapters: `read_story`, over
`decode` (encodings), `paragraphs`, `chapters` and `epub`."""

from __future__ import annotations

import sys
from pathlib import Path

from storyscore.errors import InputError
from storyscore.story.chapters import find_chapters, heading_title
from storyscore.story.decode import decode_text
from storyscore.story.epub import EPUB_MAX_MEMBER_BYTES, EPUB_MAX_MEMBERS, EPUB_MAX_TOTAL_BYTES, read_epub
from storyscore.story.paragraphs import split_paragraphs
from storyscore.types import Story

__all__ = ["EPUB_MAX_MEMBERS", "EPUB_MAX_MEMBER_BYTES", "EPUB_MAX_TOTAL_BYTES", "decode_text", "find_chapters",
           "heading_title", "read_story", "split_paragraphs"]


def read_story(path: Path | str) -> Story:
    """Read a .txt/.md/.epub file (or '-' for stdin) into a `Story`; raise `TextInputError` if unusable."""
    if str(path) == "-":
        data = sys.stdin.buffer.read()
        return _story_from_bytes(data, "<stdin>", "-")
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if p.is_dir():
        raise InputError(f"{p}: is a directory, not a story file")
    try:
        data = p.read_bytes()
    except OSError as e:
        raise InputError(f"{p}: cannot read ({e.strerror or e})") from e
    if p.suffix.lower() == ".epub" or (
        data[:4] == b"PK\x03\x04" and b"mimetypeapplication/epub" in data[:100]
    ):
        return read_epub(p, data)
    return _story_from_bytes(data, str(p), str(p))


def _story_from_bytes(data: bytes, name: str, source: str) -> Story:
    text, enc = decode_text(data, name)
    paragraphs = split_paragraphs(text)
    chapters = find_chapters(text, paragraphs)
    title = Path(source).stem if source not in ("-", "") else ""
    return Story(
        text=text,
        paragraphs=tuple(paragraphs),
        chapters=tuple(chapters),
        source=source,
        encoding=enc,
        title=title,
    )
