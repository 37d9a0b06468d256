from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import pytest

from storyscore.errors import InputError, TextInputError
from storyscore.story.reader import read_story


def _para_texts(story):
    return [story.text[a:b] for a, b in story.paragraphs]


def test_txt_paragraphs_and_chapters(tmp_path: Path) -> None:
    text = "CHAPTER I\n\nIt was a dark night.\nStill dark.\n\nShe wept.\n\nCHAPTER II\n\nMorning came.\n"
    p = tmp_path / "s.txt"
    p.write_text(text, encoding="utf-8")
    s = read_story(p)
    assert s.text == text  # offsets index the input
    assert _para_texts(s) == ["CHAPTER I", "It was a dark night.\nStill dark.", "She wept.", "CHAPTER II", "Morning came."]
    assert [c.title for c in s.chapters] == ["CHAPTER I", "CHAPTER II"]
    assert s.chapters[1].start == text.index("CHAPTER II")
    assert s.chapters[-1].end == len(text)


def test_markdown_and_roman_headings(tmp_path: Path) -> None:
    text = "# The Book\n\nIntro words here.\n\n## Chapter 1: Storm\n\nRain.\n\nIV. The Calm\n\nQuiet.\n\nI went home.\n"
    p = tmp_path / "s.md"
    p.write_text(text)
    titles = [c.title for c in read_story(p).chapters]
    assert titles == ["The Book", "Chapter 1: Storm", "IV. The Calm"]  # "I went home." is prose


def test_table_of_contents_is_not_chapters(tmp_path: Path) -> None:
    text = "Contents\n\nChapter 1\n\nChapter 2\n\nChapter 1\n\nText one.\n\nChapter 2\n\nText two.\n"
    p = tmp_path / "s.txt"
    p.write_text(text)
    ch = read_story(p).chapters
    assert [c.title for c in ch] == ["", "Chapter 1", "Chapter 2"]
    assert ch[1].start == text.index("Chapter 1\n\nText one")


def test_single_newline_text_falls_back_to_lines(tmp_path: Path) -> None:
    p = tmp_path / "s.txt"
    p.write_text("Hello there.\nHow are you?\nFine.\n")
    assert _para_texts(read_story(p)) == ["Hello there.", "How are you?", "Fine."]


def test_one_sentence(tmp_path: Path) -> None:
    p = tmp_path / "s.txt"
    p.write_text("She smiled.")
    s = read_story(p)
    assert s.paragraphs == ((0, 11),) and len(s.chapters) == 1


def test_utf16_and_utf8_sig(tmp_path: Path) -> None:
    text = "Café — “naïve”.\n\nSecond."
    for enc in ("utf-16", "utf-8-sig", "utf-16-be"):
        p = tmp_path / f"s-{enc}.txt"
        data = text.encode(enc)
        if enc == "utf-16-be":
            data = b"\xfe\xff" + data
        p.write_bytes(data)
        assert read_story(p).text == text


def test_cp1252(tmp_path: Path) -> None:
    text = "He said: “I’ll go.” She smiled — and left… Señor Núñez waited."
    p = tmp_path / "s.txt"
    p.write_bytes(text.encode("cp1252"))
    s = read_story(p)
    assert s.text == text and s.encoding == "cp1252"


def test_binary_rejected(tmp_path: Path) -> None:
    p = tmp_path / "x.txt"
    p.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(TextInputError, match="x.txt: .*binary"):
        read_story(p)


def test_empty_rejected(tmp_path: Path) -> None:
    for content in (b"", b"  \n\n\t "):
        p = tmp_path / "e.txt"
        p.write_bytes(content)
        with pytest.raises(TextInputError, match="empty"):
            read_story(p)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_story(tmp_path / "nope.txt")


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"One.\n\nTwo.")))
    s = read_story("-")
    assert len(s.paragraphs) == 2 and s.source == "-"


def _epub(path: Path, chapters: list[tuple[str, str]], nav: bool = True) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        z.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
            '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>",
        )
        items = "".join(
            f'<item id="c{i}" href="text/ch{i}.xhtml" media-type="application/xhtml+xml"/>' for i in range(len(chapters))
        )
        spine = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
        navitem = '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>' if nav else ""
        z.writestr(
            "OEBPS/content.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Test Book</dc:title></metadata>'
            f"<manifest>{navitem}{items}</manifest><spine>{spine}</spine></package>",
        )
        links = "".join(f'<li><a href="text/ch{i}.xhtml">{t}</a></li>' for i, (t, _) in enumerate(chapters))
        z.writestr(
            "OEBPS/nav.xhtml",
            '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"><body>'
            f'<nav epub:type="toc"><ol>{links}</ol></nav></body></html>',
        )
        for i, (title, body) in enumerate(chapters):
            paras = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
            z.writestr(
                f"OEBPS/text/ch{i}.xhtml",
                f'<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>x</title>'
                f"<style>p {{}}</style></head><body><h1>{title}</h1>{paras}</body></html>",
            )


def test_epub_chapters_from_toc(tmp_path: Path) -> None:
    p = tmp_path / "b.epub"
    _epub(p, [("The Start", "Once upon a time.\n\nShe was happy &amp; free."), ("The End", "They all cried.")])
    s = read_story(p)
    assert s.title == "Test Book"
    assert [c.title for c in s.chapters] == ["The Start", "The End"]
    assert "She was happy & free." in _para_texts(s)
    assert s.text[s.chapters[1].start :].startswith("The End")
    assert "p {}" not in s.text  # styles are not text


def test_epub_without_nav_uses_headings(tmp_path: Path) -> None:
    p = tmp_path / "b.epub"
    _epub(p, [("One", "Alpha."), ("Two", "Beta.")], nav=False)
    assert [c.title for c in read_story(p).chapters] == ["One", "Two"]


def test_broken_epub(tmp_path: Path) -> None:
    p = tmp_path / "bad.epub"
    p.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(TextInputError, match=r"bad.epub: broken EPUB") as e:
        read_story(p)
    assert "\n" not in str(e.value)
    q = tmp_path / "nocontainer.epub"
    with zipfile.ZipFile(q, "w") as z:
        z.writestr("mimetype", "application/epub+zip")
    with pytest.raises(TextInputError, match="missing META-INF/container.xml"):
        read_story(q)


def test_large_text(tmp_path: Path) -> None:
    p = tmp_path / "big.txt"
    para = "The wind rose over the hills and the riders went on. " * 4
    p.write_text("\n\n".join([para] * 5000))  # ~1 MB
    s = read_story(p)
    assert len(s.paragraphs) == 5000
