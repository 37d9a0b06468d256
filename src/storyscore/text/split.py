"""Splitting story text into sentences and encoder-sized chunks, keeping character offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A sentence ends at . ! ? … (optionally followed by closing quotes/brackets) and whitespace.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_ABBREVIATIONS = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|St|Prof|Sr|Jr|vs|etc|e\.g|i\.e|Mt|No)\.$")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


def sentences(text: str, offset: int = 0) -> list[Span]:
    """Sentence spans of `text` (offsets relative to the whole story when `offset` is given)."""
    spans: list[Span] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        piece = text[start:m.start()]
        if _ABBREVIATIONS.search(piece.rstrip()):
            continue  # "Mr. Fox" is not a sentence break
        _append(spans, text, start, m.start(), offset)
        start = m.end()
    _append(spans, text, start, len(text), offset)
    return spans


def _append(spans: list[Span], text: str, start: int, end: int, offset: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if stripped:
        lead = len(piece) - len(piece.lstrip())
        s = start + lead
        spans.append(Span(offset + s, offset + s + len(stripped), stripped))


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def chunks(text: str, max_words: int = 120) -> list[str]:
    """Groups of whole sentences of at most `max_words` words (a longer sentence is cut by words).

    MiniLM reads at most 256 word pieces; 120 words stays inside it for ordinary prose.
    """
    out: list[str] = []
    current: list[str] = []
    count = 0
    for sent in sentences(text):
        words = sent.text.split()
        while len(words) > max_words:  # one run-on sentence longer than the window
            if current:
                out.append(" ".join(current))
                current, count = [], 0
            out.append(" ".join(words[:max_words]))
            words = words[max_words:]
        if count + len(words) > max_words and current:
            out.append(" ".join(current))
            current, count = [], 0
        current.extend(words)
        count += len(words)
    if current:
        out.append(" ".join(current))
    return out
