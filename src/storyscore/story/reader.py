"""Read a story (.txt, .md, .epub or stdin) into text, paragraphs and chapters.

Encoding decision (documented because it is a guess by nature):
1. A BOM wins (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE).
2. Otherwise strict UTF-8 (and UTF-16 without BOM when the NUL-byte pattern says so).
3. Otherwise cp1252 — the legacy encoding of nearly all Western e-texts. charset-normalizer guesses
   cp1250 for short cp1252 English with curly quotes, so it is only trusted when its guess decodes to a
   mostly non-Latin script (Cyrillic, Greek, CJK, ...), where a cp1252 reading would be mojibake.
4. Bytes undefined in cp1252 (0x81, 0x8D, 0x8F, 0x90, 0x9D) fall back to latin-1, which never fails.
Binary input (NUL bytes outside UTF-16/32, or >2% control characters) is rejected.
"""

from __future__ import annotations

import codecs
import posixpath
import re
import sys
import unicodedata
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote
from xml.etree import ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as _safe_fromstring

from storyscore.errors import InputError, TextInputError
from storyscore.types import Chapter, Story

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: its BOM starts with FF FE
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


# EPUB limits: a zip can inflate a thousandfold, so sizes are checked from the archive's directory before
# anything is decompressed (Python's zipfile stops at the declared size, so the directory cannot lie), and
# XML is parsed without entity expansion (defusedxml: no billion laughs, no external entities).
EPUB_MAX_MEMBERS = 10_000
EPUB_MAX_MEMBER_BYTES = 64 * 1024 * 1024  # one chapter, stylesheet or image, uncompressed
EPUB_MAX_TOTAL_BYTES = 256 * 1024 * 1024  # the whole book, uncompressed


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
        return _read_epub(p, data)
    return _story_from_bytes(data, str(p), str(p))


# --------------------------------------------------------------------------- plain text


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """Decode bytes to text; return (text, encoding). Raises TextInputError for binary/empty input."""
    if not data.strip():
        raise TextInputError(f"{name}: empty story (no text)")
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(enc)
            except UnicodeDecodeError as e:
                raise TextInputError(
                    f"{name}: invalid {enc} text after its byte-order mark (byte {e.start})"
                ) from e
            return _check_text(text, name), enc
    if b"\x00" in data:
        enc = _guess_utf16_without_bom(data)
        if enc is None:
            raise TextInputError(f"{name}: looks like a binary file (contains NUL bytes), not text")
        try:
            return _check_text(data.decode(enc), name), enc
        except UnicodeDecodeError as e:
            raise TextInputError(f"{name}: looks like a binary file, not text") from e
    try:
        return _check_text(data.decode("utf-8"), name), "utf-8"
    except UnicodeDecodeError:
        pass
    guess = _charset_normalizer_guess(data)
    if guess is not None:
        return _check_text(guess[0], name), guess[1]
    try:
        return _check_text(data.decode("cp1252"), name), "cp1252"
    except UnicodeDecodeError:
        return _check_text(data.decode("latin-1"), name), "latin-1"


def _guess_utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without BOM has NULs in every other byte (for Latin text); binary does not."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even = sample[0::2].count(0) / len(sample[0::2])
    odd = sample[1::2].count(0) / len(sample[1::2])
    if odd > 0.3 and even < 0.05:
        return "utf-16-le"
    if even > 0.3 and odd < 0.05:
        return "utf-16-be"
    return None


def _charset_normalizer_guess(data: bytes) -> tuple[str, str] | None:
    """Use charset-normalizer only for non-Latin scripts (see module docstring); None = use cp1252."""
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # optional: the cp1252/latin-1 fallback still works
        return None
    best = from_bytes(data[:200_000]).best()
    if best is None or best.encoding in ("utf_8", "ascii"):
        return None
    try:
        text = data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    letters = [c for c in text if ord(c) > 127 and c.isalpha()]
    if not letters:
        return None
    non_latin = sum(1 for c in letters if "LATIN" not in unicodedata.name(c, "LATIN"))
    if non_latin / len(letters) > 0.5:
        return text, best.encoding
    return None


def _check_text(text: str, name: str) -> str:
    sample = text[:100_000]
    controls = sum(1 for c in sample if (ord(c) < 32 and c not in "\t\n\r\f\v") or 0x7F <= ord(c) < 0xA0)
    if sample and controls / len(sample) > 0.02:
        raise TextInputError(f"{name}: looks like a binary file (mostly non-text bytes), not a story")
    if not text.strip():
        raise TextInputError(f"{name}: empty story (only whitespace)")
    return text


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


# --------------------------------------------------------------------------- paragraphs

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


# --------------------------------------------------------------------------- chapters

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
    return _tile_chapters([(off, title) for _, off, title in kept], paragraphs, len(text))


def _tile_chapters(starts: list[tuple[int, str]], paragraphs: list[tuple[int, int]], n: int) -> list[Chapter]:
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


# --------------------------------------------------------------------------- EPUB

_BLOCK_TAGS = {
    "p",
    "div",
    "section",
    "article",
    "blockquote",
    "li",
    "ul",
    "ol",
    "table",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "hr",
    "figure",
    "figcaption",
    "header",
    "footer",
    "aside",
    "dd",
    "dt",
    "body",
}
_SKIP_TAGS = {"script", "style", "head", "title", "svg", "math", "nav"}


class _HTMLText(HTMLParser):
    """XHTML → text: block elements become blank-line separated paragraphs; records id anchors."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.anchors: dict[str, int] = {}  # id → offset into the joined text (approximate within a block)
        self.headings: list[tuple[int, str]] = []
        self._skip = 0
        self._len = 0
        self._heading: list[str] | None = None
        self._heading_start = 0

    def _emit(self, s: str) -> None:
        self.parts.append(s)
        self._len += len(s)

    def _block(self) -> None:
        self._emit("\n\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
            return
        if tag in _BLOCK_TAGS:
            self._block()
        elif tag == "br":
            self._emit("\n")
        for k, v in attrs:
            if k in ("id", "name") and v:
                self.anchors.setdefault(v, self._len)
        if tag in ("h1", "h2", "h3") and not self._skip:
            self._heading = []
            self._heading_start = self._len

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            return
        self.handle_starttag(tag, attrs)
        if tag in _BLOCK_TAGS:
            self._block()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
            return
        if tag in ("h1", "h2", "h3") and self._heading is not None:
            title = " ".join("".join(self._heading).split())
            if title:
                self.headings.append((self._heading_start, title))
            self._heading = None
        if tag in _BLOCK_TAGS:
            self._block()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        data = re.sub(r"\s+", " ", data)
        if data:
            self._emit(data)
            if self._heading is not None:
                self._heading.append(data)


def _xml(zf: zipfile.ZipFile, name: str, epub: str) -> ET.Element:
    try:
        return _safe_fromstring(zf.read(name))
    except KeyError as e:
        raise TextInputError(f"{epub}: broken EPUB (missing {name})") from e
    except ET.ParseError as e:
        raise TextInputError(f"{epub}: broken EPUB ({name} is not valid XML: {e})") from e
    except DefusedXmlException as e:
        raise TextInputError(f"{epub}: refused EPUB ({name} declares XML entities or a DTD)") from e


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _check_epub_limits(zf: zipfile.ZipFile, name: str) -> None:
    """Refuse zip bombs before decompressing anything (see EPUB_MAX_*)."""
    members = zf.infolist()
    if len(members) > EPUB_MAX_MEMBERS:
        raise TextInputError(f"{name}: refused EPUB ({len(members)} files inside; at most {EPUB_MAX_MEMBERS})")
    big = next((m for m in members if m.file_size > EPUB_MAX_MEMBER_BYTES), None)
    if big is not None:
        raise TextInputError(f"{name}: refused EPUB ({big.filename[:80]} inflates to {big.file_size / 2**20:.0f} MB; "
                             f"at most {EPUB_MAX_MEMBER_BYTES // 2**20} MB per file)")
    total = sum(m.file_size for m in members)
    if total > EPUB_MAX_TOTAL_BYTES:
        raise TextInputError(f"{name}: refused EPUB (inflates to {total / 2**20:.0f} MB; at most "
                             f"{EPUB_MAX_TOTAL_BYTES // 2**20} MB)")


def _read_epub(path: Path, data: bytes) -> Story:
    name = str(path)
    try:
        import io

        zf = zipfile.ZipFile(io.BytesIO(data))
        _check_epub_limits(zf, name)
        bad = zf.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise TextInputError(f"{name}: broken EPUB (not a valid zip archive)") from e
    if bad is not None:
        raise TextInputError(f"{name}: broken EPUB (corrupt member {bad})")
    names = set(zf.namelist())
    if "META-INF/encryption.xml" in names:
        enc = _xml(zf, "META-INF/encryption.xml", name)
        if any(_local(e.tag) == "EncryptedData" for e in enc.iter()):
            raise TextInputError(f"{name}: EPUB is encrypted (DRM); cannot read its text")
    container = _xml(zf, "META-INF/container.xml", name)
    opf_path = next((e.get("full-path") for e in container.iter() if _local(e.tag) == "rootfile"), None)
    if not opf_path:
        raise TextInputError(f"{name}: broken EPUB (container.xml names no package file)")
    opf = _xml(zf, opf_path, name)
    base = posixpath.dirname(opf_path)
    manifest: dict[str, tuple[str, str, str]] = {}  # id → (zip path, media type, properties)
    spine: list[str] = []
    toc_id = None
    book_title = ""
    for e in opf.iter():
        tag = _local(e.tag)
        if tag == "item" and e.get("id") and e.get("href"):
            href = posixpath.normpath(posixpath.join(base, unquote(e.get("href", ""))))
            manifest[e.get("id", "")] = (href, e.get("media-type", ""), e.get("properties", ""))
        elif tag == "spine":
            toc_id = e.get("toc")
        elif tag == "itemref" and e.get("idref") and e.get("linear", "yes") != "no":
            spine.append(e.get("idref", ""))
        elif tag == "title" and not book_title and e.text:
            book_title = e.text.strip()
    if not spine:
        raise TextInputError(f"{name}: broken EPUB (empty spine: no content documents)")

    parts: list[str] = []
    doc_start: dict[str, int] = {}
    anchors: dict[tuple[str, str], int] = {}
    headings: list[tuple[int, str]] = []
    offset = 0
    for idref in spine:
        if idref not in manifest:
            raise TextInputError(f"{name}: broken EPUB (spine item {idref!r} not in manifest)")
        href, media, _ = manifest[idref]
        if "html" not in media and not href.endswith((".html", ".xhtml", ".htm")):
            continue
        try:
            raw = zf.read(href)
        except KeyError as e:
            raise TextInputError(f"{name}: broken EPUB (missing content document {href})") from e
        parser = _HTMLText()
        parser.feed(_decode_html(raw))
        parser.close()
        doc = "".join(parser.parts)
        # Normalise whitespace runs so paragraphs are separated by exactly one blank line; the anchors
        # were recorded on the raw joined text, so map them through the same normalisation.
        norm, mapping = _normalise_blocks(doc)
        sep = "\n\n" if parts else ""
        offset += len(sep)
        parts.append(sep + norm)
        doc_start[href] = offset
        for aid, pos in parser.anchors.items():
            anchors[(href, aid)] = offset + mapping(pos)
        headings.extend((offset + mapping(pos), t) for pos, t in parser.headings)
        offset += len(norm)
    text = "".join(parts)
    if not text.strip():
        raise TextInputError(f"{name}: EPUB contains no readable text")
    _check_text(text, name)

    toc = _epub_toc(zf, opf_path, manifest, toc_id, name)
    starts: list[tuple[int, str]] = []
    for href, frag, title in toc:
        if frag and (href, frag) in anchors:
            starts.append((anchors[(href, frag)], title))
        elif href in doc_start:
            starts.append((doc_start[href], title))
    if not starts:
        starts = headings
    paragraphs = split_paragraphs(text)
    if starts:
        chapters = _tile_chapters(_snap(starts, paragraphs), paragraphs, len(text))
    else:
        chapters = find_chapters(text, paragraphs)
    return Story(
        text, tuple(paragraphs), tuple(chapters), source=name, encoding="utf-8", title=book_title or path.stem
    )


def _snap(starts: list[tuple[int, str]], paragraphs: list[tuple[int, int]]) -> list[tuple[int, str]]:
    """Move each chapter start to the first paragraph starting at or after it (offsets stay on text)."""
    import bisect

    pstarts = [a for a, _ in paragraphs]
    out: dict[int, str] = {}
    for off, title in starts:
        k = bisect.bisect_left(pstarts, off)
        if k < len(pstarts):
            out.setdefault(pstarts[k], title)
    return sorted(out.items())


def _decode_html(raw: bytes) -> str:
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            return raw[len(bom) :].decode(enc, errors="replace")
    m = re.search(rb"""encoding=["']([A-Za-z0-9_.:-]+)["']""", raw[:200])
    enc = m.group(1).decode("ascii") if m else "utf-8"
    try:
        return raw.decode(enc, errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def _normalise_blocks(doc: str):  # -> tuple[str, Callable[[int], int]]
    """Collapse blank runs to one blank line and spaces at line edges; return the text and an offset map."""
    import bisect

    out: list[str] = []
    src_pos: list[int] = []  # for each output char, its source position
    lines_text = re.split(r"(\n)", doc)
    pos = 0
    pending_breaks = 0
    for piece in lines_text:
        if piece == "\n":
            pending_breaks += 1
            pos += 1
            continue
        stripped = piece.strip()
        if stripped:
            if out:
                sep = "\n\n" if pending_breaks >= 2 else ("\n" if pending_breaks == 1 else " ")
                out.append(sep)
                src_pos.extend([pos] * len(sep))
            lead = len(piece) - len(piece.lstrip())
            out.append(stripped)
            src_pos.extend(range(pos + lead, pos + lead + len(stripped)))
            pending_breaks = 0
        pos += len(piece)
    text = "".join(out)

    def mapping(p: int) -> int:
        k = bisect.bisect_left(src_pos, p)
        return min(k, len(text))

    return text, mapping


def _epub_toc(
    zf: zipfile.ZipFile,
    opf_path: str,
    manifest: dict[str, tuple[str, str, str]],
    toc_id: str | None,
    name: str,
) -> list[tuple[str, str, str]]:
    """(document path, fragment, title) entries from the EPUB 3 nav document or the EPUB 2 NCX."""
    entries: list[tuple[str, str, str]] = []
    nav = next((v for v in manifest.values() if "nav" in v[2].split()), None)
    ncx = manifest.get(toc_id or "") or next(
        (v for v in manifest.values() if v[1] == "application/x-dtbncx+xml"), None
    )
    try:
        if nav is not None:
            entries = _nav_entries(
                zf.read(nav[0]).decode("utf-8", errors="replace"), posixpath.dirname(nav[0])
            )
        if not entries and ncx is not None:
            root = _safe_fromstring(zf.read(ncx[0]))
            ncx_base = posixpath.dirname(ncx[0])
            for point in root.iter():
                if _local(point.tag) != "navPoint":
                    continue
                label = next((e.text or "" for e in point.iter() if _local(e.tag) == "text"), "")
                content = next((e.get("src", "") for e in point if _local(e.tag) == "content"), "")
                if content:
                    entries.append((*_split_href(ncx_base, content), " ".join(label.split())))
    except (KeyError, ET.ParseError, DefusedXmlException):
        return []  # a broken TOC is not fatal: headings are found from the text instead
    return entries


def _split_href(base: str, href: str) -> tuple[str, str]:
    doc, _, frag = href.partition("#")
    return posixpath.normpath(posixpath.join(base, unquote(doc))), unquote(frag)


class _NavParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self._in_toc = 0
        self._nav_depth = 0
        self._href: str | None = None
        self._label: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "nav":
            self._nav_depth += 1
            kind = (a.get("epub:type") or a.get("type") or "") + " " + (a.get("role") or "")
            if "toc" in kind or self._nav_depth == 1 and not self.links:
                self._in_toc = self._nav_depth
        elif tag == "a" and self._in_toc and a.get("href"):
            self._href = a.get("href")
            self._label = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            if self._in_toc == self._nav_depth:
                self._in_toc = 0
            self._nav_depth -= 1
        elif tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join("".join(self._label).split())))
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._label.append(data)


def _nav_entries(html: str, base: str) -> list[tuple[str, str, str]]:
    p = _NavParser()
    p.feed(html)
    p.close()
    return [(*_split_href(base, href), label) for href, label in p.links]
