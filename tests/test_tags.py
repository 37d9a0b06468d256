"""File tags: read-back of every field from every container, broken tags, file-name titles, and writing a
reading back without touching a byte of audio. Files are made on the spot (soundfile, or ffmpeg for the
formats libsndfile does not write)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import tone, write_audio

from storyscore.audio.tags import TagWriteError, TrackTags, read_tags, title_from_filename, write_reading

FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="ffmpeg is not installed (`make setup` installs it as root)")
SR = 44100

# --- making files ----------------------------------------------------------------------------------------


def _soundfile(path: Path) -> Path:
    import soundfile as sf

    if path.suffix == ".aiff":
        sf.write(str(path), tone(1, SR), SR, format="AIFF", subtype="PCM_16")
        return path
    return write_audio(path, tone(1, SR), SR)


def _ffmpeg(*codec: str) -> Callable[[Path], Path]:
    def make(path: Path) -> Path:
        assert FFMPEG is not None
        source = write_audio(path.with_suffix(".src.wav"), tone(1, SR), SR)
        subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-y", "-i", str(source), *codec,
                        "-map_metadata", "-1", str(path)], check=True, timeout=60)
        source.unlink()
        return path

    return make


# (id, file name, maker); the ffmpeg ones are skipped, with the reason, where ffmpeg is missing
FORMATS = [
    pytest.param("wav.wav", _soundfile, id="wav"),
    pytest.param("aiff.aiff", _soundfile, id="aiff"),
    pytest.param("flac.flac", _soundfile, id="flac"),
    pytest.param("vorbis.ogg", _soundfile, id="ogg"),
    pytest.param("mp3.mp3", _ffmpeg("-c:a", "libmp3lame", "-b:a", "64k"), id="mp3", marks=needs_ffmpeg),
    pytest.param("aac.m4a", _ffmpeg("-c:a", "aac", "-b:a", "64k"), id="m4a-aac", marks=needs_ffmpeg),
    pytest.param("alac.m4a", _ffmpeg("-c:a", "alac"), id="m4a-alac", marks=needs_ffmpeg),
    pytest.param("wma.wma", _ffmpeg("-c:a", "wmav2", "-b:a", "64k"), id="wma", marks=needs_ffmpeg),
    pytest.param("opus.opus", _ffmpeg("-c:a", "libopus", "-b:a", "48k"), id="opus", marks=needs_ffmpeg),
]

EXPECTED = TrackTags(title="Ünder the Hill", artist="The Artist", album="The Album", album_artist="Various",
                     track_number=3, year=1999, genre="Soundtrack", bpm=96.0, moods=("calm", "dark"))


def _tag_with_mutagen(path: Path) -> None:
    """The fields of EXPECTED, written the way each container's own tools write them."""
    import mutagen
    from mutagen._vorbis import VComment
    from mutagen.asf import ASFTags
    from mutagen.id3 import ID3, TALB, TBPM, TCON, TDRC, TIT2, TMOO, TPE1, TPE2, TRCK
    from mutagen.mp4 import MP4FreeForm, MP4Tags

    audio = mutagen.File(path)
    if audio.tags is None:
        audio.add_tags()
    tags = audio.tags
    if isinstance(tags, ID3):
        for frame in (TIT2(text="Ünder the Hill"), TPE1(text="The Artist"), TALB(text="The Album"),
                      TPE2(text="Various"), TRCK(text="3/12"), TDRC(text="1999-04-01"), TCON(text="Soundtrack"),
                      TBPM(text="96"), TMOO(text=["calm", "dark"])):
            frame.encoding = 3
            tags.add(frame)
    elif isinstance(tags, VComment):
        tags.update({"TITLE": "Ünder the Hill", "ARTIST": "The Artist", "ALBUM": "The Album",
                     "ALBUMARTIST": "Various", "TRACKNUMBER": "3", "DATE": "1999", "GENRE": "Soundtrack",
                     "BPM": "96", "MOOD": ["calm", "dark"]})
    elif isinstance(tags, MP4Tags):
        tags.update({"\xa9nam": ["Ünder the Hill"], "\xa9ART": ["The Artist"], "\xa9alb": ["The Album"],
                     "aART": ["Various"], "trkn": [(3, 12)], "\xa9day": ["1999"], "\xa9gen": ["Soundtrack"],
                     "tmpo": [96], "----:com.apple.iTunes:MOOD": [MP4FreeForm(b"calm"), MP4FreeForm(b"dark")]})
    elif isinstance(tags, ASFTags):
        for key, value in {"Title": "Ünder the Hill", "Author": "The Artist", "WM/AlbumTitle": "The Album",
                           "WM/AlbumArtist": "Various", "WM/TrackNumber": "3", "WM/Year": "1999",
                           "WM/Genre": "Soundtrack", "WM/BeatsPerMinute": 96, "WM/Mood": ["calm", "dark"]}.items():
            tags[key] = value
    else:
        raise AssertionError(f"no tagger for {type(tags).__name__}")
    audio.save()


# --- reading ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,make", FORMATS)
def test_every_field_reads_back_from_every_container(tmp_path: Path, name: str, make) -> None:
    path = make(tmp_path / name)
    _tag_with_mutagen(path)
    tags = read_tags(path)
    assert tags == EXPECTED, tags.problems
    assert tags.display_name == "The Artist – Ünder the Hill"
    assert tags.as_dict()["moods"] == ["calm", "dark"]


def test_wav_info_list_and_aiff_text_chunks_are_read(tmp_path: Path) -> None:
    """libsndfile (and most audio editors) write RIFF INFO into a wav; mutagen reads only ID3 there."""
    import soundfile as sf

    for ext, fmt in ((".wav", "WAV"), (".aiff", "AIFF")):
        with sf.SoundFile(str(tmp_path / f"x{ext}"), "w", SR, 1, format=fmt, subtype="PCM_16") as f:
            f.title, f.artist, f.album, f.genre, f.tracknumber, f.date = "Dawn", "Someone", "LP", "Folk", "7", "2003"
            f.write(tone(0.5, SR))
    wav = read_tags(tmp_path / "x.wav")
    assert (wav.title, wav.artist, wav.album, wav.genre, wav.track_number, wav.year) == (
        "Dawn", "Someone", "LP", "Folk", 7, 2003)
    aiff = read_tags(tmp_path / "x.aiff")  # NAME and AUTH are the only text chunks libsndfile writes there
    assert (aiff.title, aiff.artist, aiff.problems) == ("Dawn", "Someone", ())


def test_id3_wins_over_info_and_fills_gaps(tmp_path: Path) -> None:
    import soundfile as sf
    from mutagen.id3 import TIT2
    from mutagen.wave import WAVE

    path = tmp_path / "both.wav"
    with sf.SoundFile(str(path), "w", SR, 1, format="WAV", subtype="PCM_16") as f:
        f.title, f.artist = "Info title", "Info artist"
        f.write(tone(0.5, SR))
    audio = WAVE(path)
    audio.add_tags()
    audio.tags.add(TIT2(encoding=3, text="ID3 title"))
    audio.save()
    tags = read_tags(path)
    assert (tags.title, tags.artist) == ("ID3 title", "Info artist")


def test_untagged_file_takes_its_title_from_the_file_name(tmp_path: Path) -> None:
    path = _soundfile(tmp_path / "03 - dark_minor-theme.flac")
    tags = read_tags(path)
    assert tags.title == "dark minor theme" and tags.title_from_name
    assert (tags.artist, tags.album, tags.track_number, tags.year, tags.genre, tags.bpm, tags.moods) == (
        None, None, None, None, None, None, ())
    assert tags.display_name == "dark minor theme" and tags.problems == ()


@pytest.mark.parametrize("name,title", [
    ("03 - dark_minor-theme.flac", "dark minor theme"), ("07. Finale.ogg", "Finale"), ("12 Battle.mp3", "Battle"),
    ("1-02 Overture.flac", "Overture"), ("2 Become 1.mp3", "2 Become 1"), ("1979.ogg", "1979"),
    ("Artist - Title.mp3", "Artist - Title"), ("__.wav", "__"), ("01 - .wav", "01"),
])
def test_title_from_filename(name: str, title: str) -> None:
    assert title_from_filename(name) == title


def test_tags_without_a_title_keep_the_rest(tmp_path: Path) -> None:
    from mutagen.flac import FLAC

    path = _soundfile(tmp_path / "04_night_walk.flac")
    audio = FLAC(path)
    audio["ARTIST"] = "Nobody"
    audio.save()
    tags = read_tags(path)
    assert (tags.title, tags.artist, tags.title_from_name) == ("night walk", "Nobody", True)
    assert tags.display_name == "Nobody – night walk"


def _mp3_with_frames(tmp_path: Path, name: str, **text: str) -> Path:
    from mutagen.id3 import Frames
    from mutagen.mp3 import MP3

    path = _ffmpeg("-c:a", "libmp3lame", "-b:a", "32k")(tmp_path / name)
    audio = MP3(path)
    if audio.tags is None:
        audio.add_tags()
    for frame_id, value in text.items():
        audio.tags.add(Frames[frame_id](encoding=3, text=value))
    audio.save(v2_version=4, padding=lambda info: 0)
    return path


@needs_ffmpeg
def test_broken_id3_frames_are_problems_not_exceptions(tmp_path: Path) -> None:
    good = _mp3_with_frames(tmp_path, "good.mp3", TIT2="Hello", TPE1="Band", TALB="Record", TRCK="abc",
                            TDRC="2001", TBPM="fast")
    data = good.read_bytes().replace(b"2001", b"soon")  # mutagen would not write a bad date itself
    bad_encoding = bytearray(data)  # a text encoding byte that does not exist: mutagen drops the frame
    bad_encoding[data.index(b"TPE1") + 10] = 9
    (tmp_path / "bad_encoding.mp3").write_bytes(bad_encoding)
    tags = read_tags(tmp_path / "bad_encoding.mp3")
    assert (tags.title, tags.artist, tags.album) == ("Hello", None, "Record")
    assert set(tags.problems) == {"artist: the ID3 frame TPE1 is unreadable",
                                  "track number: 'abc' is not a track number", "year: 'soon' is not a year",
                                  "bpm: 'fast' is not a tempo in BPM"}
    assert (tags.track_number, tags.year, tags.bpm) == (None, None, None)

    truncated = bytearray(data)  # the last frame claims more bytes than the tag holds
    at = data.index(b"TBPM")
    truncated[at + 4:at + 8] = bytes([0, 0, 0x7F, 0x7F])
    (tmp_path / "truncated.mp3").write_bytes(truncated)
    tags = read_tags(tmp_path / "truncated.mp3")
    assert "bpm: the ID3 frame TBPM is truncated" in tags.problems
    assert (tags.title, tags.album, tags.bpm) == ("Hello", "Record", None)

    (tmp_path / "cut.mp3").write_bytes(data[:40])  # the file ends inside its tag
    tags = read_tags(tmp_path / "cut.mp3")
    assert tags.problems == ("tags: cannot read (corrupt or cut short)",)
    assert tags.title == "cut" and tags.title_from_name


@needs_ffmpeg
def test_a_broken_mp4_atom_is_a_problem(tmp_path: Path) -> None:
    path = _ffmpeg("-c:a", "aac", "-b:a", "32k")(tmp_path / "atoms.m4a")
    _tag_with_mutagen(path)
    data = bytearray(path.read_bytes())
    at = data.index(b"trkn")
    data[at + 8:at + 12] = b"dat\x00"  # the value atom inside trkn no longer says "data"
    path.write_bytes(data)
    tags = read_tags(path)
    assert tags.problems == ("track number: the MP4 atom 'trkn' is unreadable",)
    assert (tags.title, tags.track_number, tags.year) == (EXPECTED.title, None, 1999)


@needs_ffmpeg
def test_empty_frames_are_no_problem_and_other_writers_mood_frames_are_read(tmp_path: Path) -> None:
    from mutagen.id3 import TXXX
    from mutagen.mp3 import MP3

    path = _mp3_with_frames(tmp_path, "03 - sparse.mp3", TIT2="", TPE1="")
    audio = MP3(path)
    audio.tags.add(TXXX(encoding=3, desc="mood", text=["calm;dark"]))  # as ffmpeg writes it
    audio.save()
    tags = read_tags(path)
    assert (tags.title, tags.artist, tags.moods, tags.problems) == ("sparse", None, ("calm", "dark"), ())


def test_broken_vorbis_values_and_junk_files_never_raise(tmp_path: Path) -> None:
    from mutagen.flac import FLAC

    path = _soundfile(tmp_path / "values.flac")
    audio = FLAC(path)
    audio.update({"TITLE": "Fine", "TRACKNUMBER": "3 of 9", "DATE": "99", "BPM": "nan", "GENRE": ["Jazz", "Blues"],
                  "MOOD": "tense; Tense, eerie"})
    audio.save()
    tags = read_tags(path)
    assert tags.title == "Fine" and tags.genre == "Jazz; Blues" and tags.moods == ("tense", "eerie")
    assert tags.problems == ("track number: '3 of 9' is not a track number", "year: '99' is not a year",
                             "bpm: 'nan' is not a tempo in BPM")

    junk = tmp_path / "notes.mp3"
    junk.write_text("this is not audio\n" * 50)
    assert read_tags(junk).title == "notes"
    truncated = tmp_path / "truncated.flac"
    truncated.write_bytes(path.read_bytes()[:60])
    tags = read_tags(truncated)
    assert tags.title == "truncated" and len(tags.problems) == 1 and tags.problems[0].startswith("tags: cannot read")
    assert read_tags(tmp_path / "missing.ogg").problems == ("tags: cannot read (no such file)",)
    assert read_tags(tmp_path).problems == ("tags: not a regular file",)


# --- writing ---------------------------------------------------------------------------------------------


def _decoded(path: Path) -> bytes:
    """The decoded samples: soundfile where it reads the format, ffmpeg otherwise."""
    if path.suffix in (".wav", ".aiff", ".flac", ".ogg"):
        import soundfile as sf

        return sf.read(str(path), dtype="float32")[0].tobytes()
    assert FFMPEG is not None
    return subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a", "-f", "f32le", "-"],
                          capture_output=True, check=True, timeout=60).stdout


def _stream_md5(path: Path) -> str:
    """MD5 of the encoded audio packets as stored (container framing and tags excluded)."""
    assert FFMPEG is not None
    return subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a", "-c:a", "copy",
                           "-f", "md5", "-"], capture_output=True, check=True, text=True, timeout=60).stdout.strip()


@pytest.mark.parametrize("name,make", FORMATS)
def test_writing_a_reading_round_trips_and_leaves_the_audio_alone(tmp_path: Path, name: str, make) -> None:
    path = make(tmp_path / name)
    _tag_with_mutagen(path)
    before_bytes, before_samples = path.read_bytes(), _decoded(path)
    before_md5 = _stream_md5(path) if FFMPEG else None

    plan = write_reading(path, moods=["tense", "Eerie"], valence=-0.42, arousal=0.815, bpm=131.6)
    assert plan["dry_run"] and not plan["written"]
    assert {c["field"] for c in plan["changes"]} == {"moods", "bpm", "valence", "arousal"}
    assert path.read_bytes() == before_bytes  # a dry run writes nothing

    report = write_reading(path, moods=["tense", "Eerie"], valence=-0.42, arousal=0.815, bpm=131.6, dry_run=False)
    assert report["written"] and report["changes"] == plan["changes"]
    tags = read_tags(path)
    assert (tags.moods, tags.bpm, tags.valence, tags.arousal) == (("tense", "Eerie"), 132.0, -0.42, 0.815)
    assert (tags.title, tags.artist, tags.album, tags.track_number) == (EXPECTED.title, "The Artist", "The Album", 3)
    assert tags.problems == ()
    assert _decoded(path) == before_samples
    if before_md5 is not None:
        assert _stream_md5(path) == before_md5

    again = write_reading(path, moods=["tense", "Eerie"], valence=-0.42, arousal=0.815, bpm=131.6, dry_run=False)
    assert again["changes"] == [] and not again["written"]


@needs_ffmpeg
def test_id3v23_stays_v23_with_its_mood_frame(tmp_path: Path) -> None:
    from mutagen.id3 import ID3

    path = _mp3_with_frames(tmp_path, "old.mp3", TIT2="Old")
    ID3(path).save(v2_version=3)
    report = write_reading(path, moods=["sad"], bpm=70, dry_run=False)
    assert {c["key"] for c in report["changes"]} == {"TXXX:MOOD", "TBPM"}
    assert ID3(path).version[:2] == (2, 3)
    tags = read_tags(path)
    assert (tags.title, tags.moods, tags.bpm) == ("Old", ("sad",), 70.0)


def test_untagged_wav_gets_an_id3_chunk(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "plain.wav", np.zeros(SR // 2, np.float32) + 0.1, SR)
    before = _decoded(path)
    report = write_reading(path, moods=["calm"], valence=0.5, dry_run=False)
    assert report["container"] == "ID3" and report["written"]
    assert read_tags(path).moods == ("calm",) and _decoded(path) == before


def test_unwritable_files_raise_one_line_naming_the_file(tmp_path: Path) -> None:
    junk = tmp_path / "notes.flac"
    junk.write_text("not audio")
    cases = {tmp_path / "missing.flac": "no such file", junk: "cannot read its tags (not a valid FLAC file)",
             tmp_path: "not a regular file"}
    if FFMPEG:
        adts = _ffmpeg("-c:a", "aac", "-b:a", "32k")(tmp_path / "raw.aac")
        cases[adts] = "cannot add tags"
    for path, expected in cases.items():
        with pytest.raises(TagWriteError) as info:
            write_reading(path, moods=["calm"], dry_run=False)
        message = str(info.value)
        assert message.startswith(f"{path}: ") and expected in message and "\n" not in message
