"""EPUB books: the spine's documents as text, chapters from the table of contents, with limits on members
and sizes and XML read without entity expansion (defusedxml)."""

from __future__ import annotations

import posixpath
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote
from xml.etree import ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as _safe_fromstring

from storyscore.errors import TextInputError
from storyscore.story.chapters import find_chapters, tile_chapters
from storyscore.story.decode import BOMS, check_text
from storyscore.story.paragraphs import split_paragraphs
from storyscore.types import Story

EPUB_MAX_MEMBERS = 10_000
EPUB_MAX_MEMBER_BYTES = 64 * 1024 * 1024  # one chapter, stylesheet or image, uncompressed
EPUB_MAX_TOTAL_BYTES = 256 * 1024 * 1024  # the whole book, uncompressed


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


def read_epub(path: Path, data: bytes) -> Story:
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
    check_text(text, name)

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
        chapters = tile_chapters(_snap(starts, paragraphs), paragraphs, len(text))
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
    for bom, enc in BOMS:
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
