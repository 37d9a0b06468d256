"""Bytes of a story to text: the encoding decision and the binary / empty checks.

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
import unicodedata

from storyscore.errors import TextInputError

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: its BOM starts with FF FE
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


# EPUB limits: a zip can inflate a thousandfold, so sizes are checked from the archive's directory before
# anything is decompressed (Python's zipfile stops at the declared size, so the directory cannot lie), and
# XML is parsed without entity expansion (defusedxml: no billion laughs, no external entities).


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """Decode bytes to text; return (text, encoding). Raises TextInputError for binary/empty input."""
    if not data.strip():
        raise TextInputError(f"{name}: empty story (no text)")
    for bom, enc in BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(enc)
            except UnicodeDecodeError as e:
                raise TextInputError(
                    f"{name}: invalid {enc} text after its byte-order mark (byte {e.start})"
                ) from e
            return check_text(text, name), enc
    if b"\x00" in data:
        enc = _guess_utf16_without_bom(data)
        if enc is None:
            raise TextInputError(f"{name}: looks like a binary file (contains NUL bytes), not text")
        try:
            return check_text(data.decode(enc), name), enc
        except UnicodeDecodeError as e:
            raise TextInputError(f"{name}: looks like a binary file, not text") from e
    try:
        return check_text(data.decode("utf-8"), name), "utf-8"
    except UnicodeDecodeError:
        pass
    guess = _charset_normalizer_guess(data)
    if guess is not None:
        return check_text(guess[0], name), guess[1]
    try:
        return check_text(data.decode("cp1252"), name), "cp1252"
    except UnicodeDecodeError:
        return check_text(data.decode("latin-1"), name), "latin-1"


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


def check_text(text: str, name: str) -> str:
    sample = text[:100_000]
    controls = sum(1 for c in sample if (ord(c) < 32 and c not in "\t\n\r\f\v") or 0x7F <= ord(c) < 0xA0)
    if sample and controls / len(sample) > 0.02:
        raise TextInputError(f"{name}: looks like a binary file (mostly non-text bytes), not a story")
    if not text.strip():
        raise TextInputError(f"{name}: empty story (only whitespace)")
    return text
