from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import tone, write_audio

from storyscore.audio.decode import load_audio
from storyscore.errors import AudioDecodeError


@pytest.mark.parametrize("ext,sr", [(".wav", 22050), (".flac", 44100), (".ogg", 44100), (".opus", 48000),
                                    (".mp3", 44100)])
def test_each_format_decodes_to_mono_16k(tmp_path: Path, ext: str, sr: int) -> None:
    stereo = np.stack([tone(3, sr), tone(3, sr, notes=(440.0,))], axis=1)
    path = write_audio(tmp_path / f"x{ext}", stereo, sr)
    audio = load_audio(path, 16000)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) / 16000 - 3.0) < 0.1  # codec padding is small
    assert 0.05 < np.abs(audio).max() <= 1.5


def test_resampling_keeps_pitch(tmp_path: Path) -> None:
    sr = 44100
    t = np.arange(sr * 2) / sr
    path = write_audio(tmp_path / "a440.wav", (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), sr)
    audio = load_audio(path, 16000)
    spectrum = np.abs(np.fft.rfft(audio))
    peak_hz = np.argmax(spectrum) * 16000 / len(audio)
    assert abs(peak_hz - 440) < 2


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    good = write_audio(tmp_path / "good.flac", tone(4, 44100), 44100)
    truncated = tmp_path / "truncated.flac"
    truncated.write_bytes(good.read_bytes()[:200])
    corrupt = tmp_path / "corrupt.ogg"
    corrupt.write_bytes(b"OggS" + bytes(range(256)) * 20)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp3"
    text.write_text("this is not audio\n" * 50)
    silent = write_audio(tmp_path / "silent.wav", np.zeros(44100 * 2, np.float32), 44100)
    short = write_audio(tmp_path / "blip.wav", tone(0.1, 44100), 44100)
    return {
        "missing": (tmp_path / "nope.wav", "no such file"),
        "truncated": (truncated, "cannot decode"),
        "corrupt": (corrupt, "cannot decode"),
        "empty": (empty, "empty file"),
        "not audio": (text, "not a recognised audio file"),
        "silent": (silent, "silent"),
        "too short": (short, "too short"),
        "folder": (tmp_path, "not a regular file"),
    }


def test_bad_files_raise_one_line_naming_the_file(tmp_path: Path) -> None:
    for family, (path, expected) in _bad_files(tmp_path).items():
        with pytest.raises(AudioDecodeError) as info:
            load_audio(path, 16000)
        message = str(info.value)
        assert message.startswith(str(path)), family
        assert expected in message, (family, message)
        assert "\n" not in message


def test_too_long_is_refused_before_decoding(tmp_path: Path) -> None:
    # A 61-minute file at a low rate keeps the fixture small (7 MB) while exceeding the one-hour limit.
    import soundfile as sf

    path = tmp_path / "long.wav"
    with sf.SoundFile(str(path), "w", samplerate=1000, channels=1, subtype="PCM_16") as f:
        block = (0.1 * np.sin(np.arange(60_000) / 3)).astype(np.float32)
        for _ in range(61):
            f.write(block)
    with pytest.raises(AudioDecodeError, match="too long"):
        load_audio(path, 16000)
    assert len(load_audio(path, 1000, max_seconds=4000)) == 61 * 60_000
