"""File tags: the names people know their music by, and storyscore's reading written back on request.

`read_tags` reads title, artist, album, album artist, track number, year, genre, BPM and mood from every
container mutagen reads: ID3 (mp3, wav, aiff, and others), Vorbis comments (flac, ogg, opus), MP4 atoms
(m4a/aac/alac), ASF (wma) and APEv2 (ape, wv, mpc), plus the RIFF INFO list of a wav and the text chunks of
an aiff, which mutagen does not read. It never raises: a tag that cannot be read becomes one line in
`TrackTags.problems` and the field stays None; an untagged file gets a title made from its file name.

`write_reading` puts a reading (mood words, BPM, valence and arousal) into each container's own fields and
is a dry run unless told otherwise. mutagen rewrites only the tag blocks of a file, never its audio data.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, BinaryIO

from storyscore.errors import StoryscoreError

# Fields storyscore reads, in the order reports list them.
FIELDS = ("title", "artist", "album", "album_artist", "track_number", "year", "genre", "bpm", "moods",
          "valence", "arousal")
_LABELS = {"album_artist": "album artist", "track_number": "track number"}
# storyscore's own custom fields (TXXX / freeform / plain keys, by container)
VALENCE_KEY = "STORYSCORE_VALENCE"
AROUSAL_KEY = "STORYSCORE_AROUSAL"
_ITUNES = "----:com.apple.iTunes:"


class TagWriteError(StoryscoreError):
    """A file's tags cannot be written (unsupported container, unreadable or read-only file)."""


@dataclass(frozen=True)
class TrackTags:
    """What a file's tags say about it. Every field is None (or empty) when the tags do not say it."""

    title: str | None = None
    artist: str | None = None
    album: str | None = None
    album_artist: str | None = None
    track_number: int | None = None
    year: int | None = None
    genre: str | None = None
    bpm: float | None = None
    moods: tuple[str, ...] = ()
    valence: float | None = None  # storyscore's own reading, present once `storyscore tag --write` ran
    arousal: float | None = None
    title_from_name: bool = False  # the title was made from the file name (the tags have none)
    problems: tuple[str, ...] = ()  # one line per field that could not be read, e.g. "year: 'soon' is not a year"

    @property
    def display_name(self) -> str:
        """"Artist – Title", or the title alone when the artist is unknown."""
        from storyscore.types import track_name

        return track_name("", self.title, self.artist)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["moods"] = list(self.moods)
        data["problems"] = list(self.problems)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrackTags:
        """The inverse of `as_dict` (unknown keys, from a later version, are ignored)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["moods"] = tuple(values.get("moods") or ())
        values["problems"] = tuple(values.get("problems") or ())
        return cls(**values)


# --- file names ------------------------------------------------------------------------------------------

_DISC_TRACK_PREFIX = re.compile(r"^\d{1,2}[-.]\d{1,3}\s*(?:[-–._)]\s*)?(?=\S)")
_TRACK_PREFIX = re.compile(r"^(?:\d{1,3}\s*[-–._)]\s*|\d{2,3}\s+)(?=\S)")


def title_from_filename(path: str | Path) -> str:
    """A readable title from a file name: "03 - dark_minor-theme.flac" → "dark minor theme"."""
    stem = Path(path).stem
    title = stem.replace("_", " ")
    for pattern in (_DISC_TRACK_PREFIX, _TRACK_PREFIX):
        stripped = pattern.sub("", title, count=1)
        if stripped != title and any(ch.isalnum() for ch in stripped):
            title = stripped
            break
    title = re.sub(r"(?<=\S)-(?=\S)", " ", title)  # hyphen-joined words; a spaced " - " stays
    title = re.sub(r"\s+", " ", title).strip(" -–.")
    return title or stem.strip() or stem


# --- raw values per container ----------------------------------------------------------------------------
# Each reader gives, per field, the list of strings the tags hold (first key that has a value wins), and
# the problems it met (broken frames, undecodable atoms).

_ID3_KEYS: dict[str, tuple[str, ...]] = {
    "title": ("TIT2",), "artist": ("TPE1",), "album": ("TALB",), "album_artist": ("TPE2",),
    "track_number": ("TRCK",), "year": ("TDRC", "TYER", "TDOR", "TORY"), "genre": ("TCON",),
    "bpm": ("TBPM",), "moods": ("TMOO", "TXXX:MOOD"),
    "valence": (f"TXXX:{VALENCE_KEY}",), "arousal": (f"TXXX:{AROUSAL_KEY}",),
}
_VORBIS_KEYS: dict[str, tuple[str, ...]] = {
    "title": ("TITLE",), "artist": ("ARTIST",), "album": ("ALBUM",),
    "album_artist": ("ALBUMARTIST", "ALBUM ARTIST", "ALBUM_ARTIST"), "track_number": ("TRACKNUMBER", "TRACK"),
    "year": ("DATE", "YEAR", "ORIGINALDATE"), "genre": ("GENRE",), "bpm": ("BPM", "TEMPO"),
    "moods": ("MOOD",), "valence": (VALENCE_KEY,), "arousal": (AROUSAL_KEY,),
}
_MP4_KEYS: dict[str, tuple[str, ...]] = {
    "title": ("\xa9nam",), "artist": ("\xa9ART",), "album": ("\xa9alb",), "album_artist": ("aART",),
    "track_number": ("trkn",), "year": ("\xa9day",), "genre": ("\xa9gen", "gnre"), "bpm": ("tmpo",),
    "moods": (_ITUNES + "MOOD",), "valence": (_ITUNES + VALENCE_KEY,), "arousal": (_ITUNES + AROUSAL_KEY,),
}
_ASF_KEYS: dict[str, tuple[str, ...]] = {
    "title": ("Title",), "artist": ("Author",), "album": ("WM/AlbumTitle",),
    "album_artist": ("WM/AlbumArtist",), "track_number": ("WM/TrackNumber",), "year": ("WM/Year",),
    "genre": ("WM/Genre",), "bpm": ("WM/BeatsPerMinute",), "moods": ("WM/Mood",),
    "valence": (VALENCE_KEY,), "arousal": (AROUSAL_KEY,),
}
_APE_KEYS: dict[str, tuple[str, ...]] = {
    "title": ("Title",), "artist": ("Artist",), "album": ("Album",),
    "album_artist": ("Album Artist", "AlbumArtist"), "track_number": ("Track",), "year": ("Year",),
    "genre": ("Genre",), "bpm": ("BPM",), "moods": ("Mood",), "valence": (VALENCE_KEY,),
    "arousal": (AROUSAL_KEY,),
}
# RIFF INFO of a wav (written by most audio editors and by libsndfile) and the text chunks of an aiff
_RIFF_INFO_KEYS: dict[str, tuple[str, ...]] = {
    "title": ("INAM",), "artist": ("IART",), "album": ("IPRD",), "track_number": ("ITRK", "IPRT"),
    "year": ("ICRD",), "genre": ("IGNR",),
}
_AIFF_TEXT_KEYS: dict[str, tuple[str, ...]] = {"title": ("NAME",), "artist": ("AUTH",)}


def _text(value: Any) -> str:
    """A tag value as text: bytes as UTF-8 (else Latin-1), numbers and timestamps as written."""
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            value = value.decode("latin-1")
    elif isinstance(value, tuple):  # MP4 trkn/disk: (number, total)
        value = value[0] if value else ""
    text = str(value).replace("\x00", " ")
    return "".join(ch for ch in text if ch.isprintable() or ch == " ").strip()


def _collect(keys: dict[str, tuple[str, ...]], get: Callable[[str], list[Any]]) -> dict[str, list[str]]:
    raw: dict[str, list[str]] = {}
    for field, candidates in keys.items():
        for key in candidates:
            values = [t for t in (_text(v) for v in get(key)) if t]
            if values:
                raw[field] = values
                break
    return raw


def _id3_values(tags: Any, key: str) -> list[Any]:
    values: list[Any] = []
    if key.startswith("TXXX:"):  # descriptions are matched without case: writers differ ("MOOD", "mood")
        frames = [f for f in tags.getall("TXXX") if f.desc.casefold() == key[5:].casefold()]
    else:
        frames = tags.getall(key)
    for frame in frames:
        values.extend(frame.genres if key == "TCON" else frame.text)
    return values


def _mp4_values(tags: Any, key: str) -> list[Any]:
    values = list(tags.get(key, []))
    if key == "gnre":  # ID3v1 genre numbers, 1-based
        from mutagen.id3 import TCON

        values = [TCON.GENRES[n - 1] for n in values if isinstance(n, int) and 0 < n <= len(TCON.GENRES)]
    elif key == "tmpo":
        values = [v for v in values if v]  # 0 means "not set"
    elif key == "trkn":
        values = [v for v in values if v and v[0]]
    return values


def _asf_values(tags: Any, key: str) -> list[Any]:
    return [getattr(v, "value", v) for v in tags.get(key, [])] if key in tags else []


def _ape_values(tags: Any, key: str) -> list[Any]:
    from mutagen.apev2 import TEXT

    if key not in tags or tags[key].kind != TEXT:
        return []
    return list(tags[key])


def _vorbis_values(tags: Any, key: str) -> list[Any]:
    return list(tags.get(key, []))


def _family(tags: Any) -> tuple[str, dict[str, tuple[str, ...]], Callable[[Any, str], list[Any]]] | None:
    from mutagen._vorbis import VComment
    from mutagen.apev2 import APEv2
    from mutagen.asf import ASFTags
    from mutagen.id3 import ID3
    from mutagen.mp4 import MP4Tags

    if isinstance(tags, ID3):
        return "ID3", _ID3_KEYS, _id3_values
    if isinstance(tags, VComment):
        return "Vorbis comments", _VORBIS_KEYS, _vorbis_values
    if isinstance(tags, MP4Tags):
        return "MP4", _MP4_KEYS, _mp4_values
    if isinstance(tags, ASFTags):
        return "ASF", _ASF_KEYS, _asf_values
    if isinstance(tags, APEv2):
        return "APEv2", _APE_KEYS, _ape_values
    return None


# --- low-level checks mutagen does not report ------------------------------------------------------------


def _iff_chunks(f: BinaryIO, *, big_endian: bool, limit: int) -> Iterator[tuple[bytes, int, int]]:
    """(id, data offset, data size) of each top-level chunk of a RIFF (wav) or FORM (aiff) file."""
    fmt = ">4sI" if big_endian else "<4sI"
    offset = 12
    while offset + 8 <= limit:
        f.seek(offset)
        header = f.read(8)
        if len(header) < 8:
            return
        chunk_id, size = struct.unpack(fmt, header)
        yield chunk_id, offset + 8, min(size, limit - offset - 8)
        offset += 8 + size + (size & 1)


def _info_chunks(path: Path) -> tuple[dict[str, list[str]], int | None]:
    """Text from a wav's LIST/INFO chunk or an aiff's NAME/AUTH chunks, and the offset of its ID3 chunk."""
    raw: dict[bytes, str] = {}
    id3_offset = None
    with open(path, "rb") as f:
        head = f.read(12)
        limit = path.stat().st_size
        if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
            keys, big_endian = _RIFF_INFO_KEYS, False
        elif head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
            keys, big_endian = _AIFF_TEXT_KEYS, True
        else:
            return {}, None
        for chunk_id, start, size in _iff_chunks(f, big_endian=big_endian, limit=limit):
            if chunk_id.lower() == b"id3 ":
                id3_offset = start
            elif chunk_id == b"LIST" and size >= 4:
                f.seek(start)
                body = f.read(min(size, 1 << 20))
                if body[:4] != b"INFO":
                    continue
                pos = 4
                while pos + 8 <= len(body):
                    sub_id, sub_size = struct.unpack("<4sI", body[pos:pos + 8])
                    raw[sub_id] = _text(body[pos + 8:pos + 8 + sub_size])
                    pos += 8 + sub_size + (sub_size & 1)
            elif chunk_id in (b"NAME", b"AUTH") and size <= 1 << 16:
                f.seek(start)
                raw[chunk_id] = _text(f.read(size))
    values = {k.decode("latin-1"): [v] for k, v in raw.items() if v}
    return _collect(keys, lambda key: values.get(key, [])), id3_offset


_ID3_TEXT_ENCODINGS = {0: "latin-1", 1: "utf-16", 2: "utf-16-be", 3: "utf-8"}


def _id3_frame_check(path: Path, tags: Any, offset: int) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
    """Frames of the fields storyscore reads that mutagen dropped, emptied or cut short.

    mutagen silently skips a frame it cannot parse, turns a date it cannot parse into "", and hands back
    a frame whose size runs past the end of the tag with whatever bytes follow it. Walking the frame headers
    finds all three. Returns (field, problem) pairs, and the raw text of frames mutagen emptied, so that
    the caller can say what the text was ("year: 'someday' is not a year")."""
    wanted = {key: field for field, keys in _ID3_KEYS.items() for key in keys if ":" not in key}
    problems: list[tuple[str, str]] = []
    recovered: dict[str, list[str]] = {}
    with open(path, "rb") as f:
        f.seek(offset)
        header = f.read(10)
        if len(header) < 10 or header[:3] != b"ID3" or header[3] not in (3, 4) or header[5] & 0xC0:
            return [], {}  # ID3v2.2, unsynchronised or with an extended header: leave it to mutagen
        size = _syncsafe(header[6:10])
        body = f.read(size)
    if len(body) < size:
        problems.append(("", f"tags: the ID3 tag is cut short ({len(body)} of {size} bytes)"))
    pos = 0
    while pos + 10 <= len(body):
        frame_id, frame_size = body[pos:pos + 4], body[pos + 4:pos + 8]
        if not frame_id.strip(b"\x00") or not frame_id.isalnum():
            break
        n = _syncsafe(frame_size) if header[3] == 4 else struct.unpack(">I", frame_size)[0]
        name = frame_id.decode("ascii")
        field = wanted.get(name)
        data, format_flags = body[pos + 10:pos + 10 + n], body[pos + 9]
        pos += 10 + n
        if field is None or not n or field in recovered:
            continue
        label = _LABELS.get(field, field)
        if pos > len(body):
            problems.append((field, f"{label}: the ID3 frame {name} is truncated"))
            continue
        parsed = _id3_values(tags, name) or (tags.getall("TDRC") if name == "TYER" else [])
        if any(_text(v) for v in parsed):
            continue
        # mutagen dropped the frame, or emptied it: what do its bytes say? (Compressed, encrypted or
        # unsynchronised frames are mutagen's to read: only a dropped one is reported.)
        encoding = _ID3_TEXT_ENCODINGS.get(data[0]) if not format_flags else None
        try:
            text = _text(data[1:].decode(encoding)) if encoding else None
        except UnicodeDecodeError:
            text = None
        if text:
            recovered[field] = [text]
        elif text is None and not (format_flags and parsed):
            problems.append((field, f"{label}: the ID3 frame {name} is unreadable"))
    return problems, recovered


def _syncsafe(data: bytes) -> int:
    return (data[0] & 0x7F) << 21 | (data[1] & 0x7F) << 14 | (data[2] & 0x7F) << 7 | (data[3] & 0x7F)


def _short(exc: BaseException, path: Path | None = None) -> str:
    text = str(exc).strip().splitlines()
    message = text[0] if text else ""
    if path is not None:  # the caller's line names the file already
        message = message.replace(f"{str(path)!r} is ", "").replace(f"{str(path)!r} ", "").replace(f"{path}: ", "")
    message = message[:160]
    # mutagen re-raises a short read as a bare error(OSError()): say what it means
    return message if " " in message else "corrupt or cut short"


# --- reading ---------------------------------------------------------------------------------------------


def _open(path: Path) -> tuple[Any, list[str]]:
    """mutagen's view of a file (None when it reads no tags there) and what went wrong opening it."""
    import mutagen

    try:
        # mutagen's parsers raise more than MutagenError on corrupt data (struct.error, ValueError, ...)
        audio = mutagen.File(path)
    except Exception as exc:
        problem = f"tags: cannot read ({_short(exc, path)})"
    else:
        if audio is None or audio.tags is not None:
            return audio, []
        with open(path, "rb") as f:
            if f.read(3) != b"ID3":
                return audio, []
        problem = ""  # a raw AAC (ADTS) stream mutagen reads without its leading ID3 tag
    try:  # an mp3 whose audio mutagen rejects can still carry a good ID3 tag
        from mutagen.id3 import ID3

        return _TagsOnly(ID3(path)), [problem] if problem else []
    except Exception as exc:
        return None, [problem or f"tags: cannot read the ID3 tag ({_short(exc, path)})"]


@dataclass
class _TagsOnly:
    tags: Any


def _interpret(raw: dict[str, list[str]], problems: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in ("title", "artist", "album", "album_artist", "genre"):
        if raw.get(field):
            out[field] = "; ".join(dict.fromkeys(raw[field]))
    parsers: dict[str, Callable[[str], Any]] = {"track_number": _track_number, "year": _year, "bpm": _bpm,
                                                "valence": _unit_float, "arousal": _unit_float}
    for field, parse in parsers.items():
        if field not in raw:
            continue
        value = raw[field][0]
        try:
            out[field] = parse(value)
        except ValueError as exc:
            problems.append(f"{_LABELS.get(field, field)}: {value[:60]!r} {exc}")
    moods: dict[str, str] = {}
    for value in raw.get("moods", []):
        for word in re.split(r"[;,]", value):
            word = word.strip()
            if word:
                moods.setdefault(word.casefold(), word)
    out["moods"] = tuple(moods.values())
    return out


def _track_number(value: str) -> int | None:
    match = re.fullmatch(r"\s*(\d{1,4})\s*(?:/\s*\d*\s*)?", value)
    if match is None:
        raise ValueError("is not a track number")
    return int(match.group(1)) or None


def _year(value: str) -> int:
    match = re.match(r"\s*(\d{4})(?:\D|$)", value)
    if match is None or not 1000 <= int(match.group(1)) <= 2999:
        raise ValueError("is not a year")
    return int(match.group(1))


def _bpm(value: str) -> float | None:
    try:
        bpm = float(value.replace(",", "."))
    except ValueError:
        raise ValueError("is not a tempo in BPM") from None
    if not math.isfinite(bpm) or not 0 <= bpm < 1000:
        raise ValueError("is not a tempo in BPM")
    return bpm or None


def _unit_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError("is not a number") from None
    if not math.isfinite(number):
        raise ValueError("is not a number")
    return number


def read_tags(path: str | Path) -> TrackTags:
    """Every tag storyscore uses, from any container mutagen reads. Never raises: problems are listed."""
    path = Path(path)
    problems: list[str] = []
    raw: dict[str, list[str]] = {}
    if not path.is_file():
        problems.append("tags: cannot read (no such file)" if not path.exists() else "tags: not a regular file")
        audio = None
    else:
        audio, problems = _open(path)
    tags = getattr(audio, "tags", None)
    family = _family(tags) if tags is not None else None
    if family is not None:
        name, keys, get = family
        try:
            raw = _collect(keys, lambda key: get(tags, key))
        except Exception as exc:
            problems.append(f"tags: cannot read the {name} tag ({_short(exc)})")
        for key in getattr(tags, "_failed_atoms", {}):  # MP4 atoms mutagen could not parse
            field = next((f for f, ks in _MP4_KEYS.items() if key in ks), None)
            if field is not None:
                problems.append(f"{_LABELS.get(field, field)}: the MP4 atom {key!r} is unreadable")
    elif tags is not None:
        problems.append(f"tags: {type(tags).__name__} tags are not read by storyscore")
    if path.is_file():
        try:
            info, offset = _info_chunks(path)
            for field, values in info.items():
                raw.setdefault(field, values)
            if offset is None and family is not None and family[0] == "ID3":
                with open(path, "rb") as f:
                    offset = 0 if f.read(3) == b"ID3" else None
            if offset is not None and family is not None and family[0] == "ID3":
                broken, recovered = _id3_frame_check(path, tags, offset)
                for field, problem in broken:
                    raw.pop(field, None)  # what mutagen made of a broken frame is not to be trusted
                    problems.append(problem)
                for field, values in recovered.items():
                    raw.setdefault(field, values)
        except (OSError, struct.error) as exc:
            problems.append(f"tags: cannot read the file's chunks ({_short(exc)})")
    values = _interpret(raw, problems)
    title_from_name = not values.get("title")
    if title_from_name:
        values["title"] = title_from_filename(path)
    return TrackTags(**values, title_from_name=title_from_name, problems=tuple(dict.fromkeys(problems)))


# --- writing ---------------------------------------------------------------------------------------------


def _format_float(value: float) -> str:
    return f"{value:.3f}"


def _id3_setter(version: int) -> Callable[[Any, str, list[str]], None]:
    def set_frames(tags: Any, key: str, values: list[str]) -> None:
        from mutagen.id3 import TXXX, Frames

        if key.startswith("TXXX:"):
            frame = TXXX(encoding=3, desc=key[5:], text=values)
        else:
            frame = Frames[key](encoding=3 if version == 4 else 1, text=values)
        tags.setall(key, [frame])

    return set_frames


def _set_vorbis(tags: Any, key: str, values: list[str]) -> None:
    tags[key] = values


def _set_mp4(tags: Any, key: str, values: list[str]) -> None:
    from mutagen.mp4 import MP4FreeForm

    if key == "tmpo":
        tags[key] = [int(v) for v in values]
    else:
        tags[key] = [MP4FreeForm(v.encode("utf-8")) for v in values]


def _set_asf(tags: Any, key: str, values: list[str]) -> None:
    tags[key] = [int(v) for v in values] if key == "WM/BeatsPerMinute" else values


def _set_ape(tags: Any, key: str, values: list[str]) -> None:
    tags[key] = values


def _writer(name: str, tags: Any) -> tuple[dict[str, str], Callable[[Any, str, list[str]], None], dict[str, Any]]:
    """Which key each written field goes to, how to set it, and the save options, for one container."""
    if name == "ID3":
        version = 3 if tags.version[:2] == (2, 3) else 4
        mood_key = "TMOO" if version == 4 else "TXXX:MOOD"  # ID3v2.3 has no TMOO frame
        keys = {"moods": mood_key, "bpm": "TBPM", "valence": f"TXXX:{VALENCE_KEY}",
                "arousal": f"TXXX:{AROUSAL_KEY}"}
        return keys, _id3_setter(version), {"v2_version": version}
    table = {"Vorbis comments": (_VORBIS_KEYS, _set_vorbis), "MP4": (_MP4_KEYS, _set_mp4),
             "ASF": (_ASF_KEYS, _set_asf), "APEv2": (_APE_KEYS, _set_ape)}
    keys_by_field, setter = table[name]
    return {f: keys_by_field[f][0] for f in ("moods", "bpm", "valence", "arousal")}, setter, {}


def write_reading(path: str | Path, *, moods: Sequence[str] = (), valence: float | None = None,
                  arousal: float | None = None, bpm: float | None = None,
                  dry_run: bool = True) -> dict[str, Any]:
    """Put a reading into a file's tags, or (dry run, the default) say what would change.

    Mood words go to the container's standard mood field (ID3 TMOO, Vorbis MOOD, MP4 iTunes MOOD, ASF
    WM/Mood), the tempo to its BPM field (TBPM, BPM, tmpo, WM/BeatsPerMinute) and valence/arousal to
    custom fields (TXXX:STORYSCORE_VALENCE ...). Empty moods and None values are left alone. Returns
    {"path", "container", "dry_run", "written", "changes": [{"field", "key", "old", "new"}]}.
    Raises TagWriteError, naming the file, when its tags cannot be written.
    """
    import mutagen

    path = Path(path)
    if not path.is_file():
        raise TagWriteError(f"{path}: {'no such file' if not path.exists() else 'not a regular file'}")
    try:
        audio = mutagen.File(path)
    except Exception as exc:
        raise TagWriteError(f"{path}: cannot read its tags ({_short(exc, path)})") from None
    if audio is None:
        raise TagWriteError(f"{path}: no tag format storyscore can write for {path.suffix or 'this file'}")
    if audio.tags is None:
        try:
            audio.add_tags()
        except Exception as exc:
            raise TagWriteError(f"{path}: cannot add tags ({_short(exc, path)})") from None
    family = _family(audio.tags)
    if family is None:
        raise TagWriteError(f"{path}: {type(audio.tags).__name__} tags are not written by storyscore")
    name, _, get = family
    keys, setter, save_options = _writer(name, audio.tags)
    wanted: dict[str, list[str]] = {}
    if moods:
        wanted["moods"] = list(dict.fromkeys(m.strip() for m in moods if m.strip()))
    if bpm is not None and math.isfinite(bpm) and bpm > 0:
        wanted["bpm"] = [str(round(bpm))]
    for field, value in (("valence", valence), ("arousal", arousal)):
        if value is not None and math.isfinite(value):
            wanted[field] = [_format_float(value)]
    changes = []
    for field, new in wanted.items():
        key = keys[field]
        old = [t for t in (_text(v) for v in get(audio.tags, key)) if t]
        if old != new:
            changes.append({"field": field, "key": key, "old": old or None, "new": new})
    written = False
    if changes and not dry_run:
        for change in changes:
            setter(audio.tags, change["key"], change["new"])
        try:
            audio.save(**save_options)
        except Exception as exc:
            raise TagWriteError(f"{path}: cannot write tags ({_short(exc, path)})") from None
        written = True
    return {"path": str(path), "container": name, "dry_run": dry_run, "written": written, "changes": changes}
