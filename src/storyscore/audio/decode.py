"""Audio decoding: any common format → mono float32 at the rate an encoder wants.

soundfile (libsndfile) handles wav, flac, ogg/vorbis, opus and mp3; other formats go through ffmpeg where it
is installed. Decoding streams in blocks so an hour-long stereo file never sits in memory at its native rate.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from storyscore.errors import AudioDecodeError

SOUNDFILE_EXTENSIONS = frozenset({".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff"})
FFMPEG_EXTENSIONS = frozenset({".m4a", ".aac", ".wma", ".webm", ".mka", ".mp4", ".alac", ".ape", ".wv"})
AUDIO_EXTENSIONS = SOUNDFILE_EXTENSIONS | FFMPEG_EXTENSIONS
MAX_SECONDS = 3600.0  # longer files are DJ mixes or audiobooks, not tracks: skipped with a reason
SILENCE_PEAK = 1e-4  # about -80 dBFS
_BLOCK_FRAMES = 1 << 18
FFMPEG_MISSING = "need ffmpeg, which is not installed"  # in the skip reason of such files: retried once it is


def ffmpeg_available() -> bool:
    return shutil.which("ffmpeg") is not None


def is_audio_path(path: Path) -> bool:
    """Whether a file's extension is one storyscore tries to decode. The ffmpeg-only ones count even
    without ffmpeg, so that they are reported as skipped (with the reason) rather than silently ignored."""
    return path.suffix.lower() in AUDIO_EXTENSIONS


def _to_mono(block: np.ndarray) -> np.ndarray:
    return block.mean(axis=1, dtype=np.float32) if block.ndim == 2 else block.astype(np.float32, copy=False)


def _decode_soundfile(path: Path, sample_rate: int, max_seconds: float) -> np.ndarray:
    import soundfile as sf
    import soxr

    try:
        with sf.SoundFile(str(path)) as f:
            native_rate = f.samplerate
            if f.frames > 0 and f.frames / native_rate > max_seconds:
                raise AudioDecodeError(
                    f"{path}: too long ({f.frames / native_rate / 60:.0f} min > {max_seconds / 60:.0f} min limit)"
                )
            resampler = None if native_rate == sample_rate else soxr.ResampleStream(native_rate, sample_rate, 1)
            parts: list[np.ndarray] = []
            total = 0
            while True:
                block = f.read(_BLOCK_FRAMES, dtype="float32", always_2d=True)
                last = len(block) < _BLOCK_FRAMES
                mono = _to_mono(block)
                total += len(mono)
                if total / native_rate > max_seconds:  # frame count can be missing (e.g. streamed mp3)
                    raise AudioDecodeError(f"{path}: too long (over the {max_seconds / 60:.0f} min limit)")
                parts.append(mono if resampler is None else resampler.resample_chunk(mono, last=last))
                if last:
                    break
    except AudioDecodeError:
        raise
    except (RuntimeError, sf.LibsndfileError, ValueError) as exc:
        message = _short(exc)
        if "not a regular file" in message or "Format not recognised" in message or "unknown format" in message:
            message = "not a recognised audio file"  # libsndfile's wording blames the path, not the content
        elif "Error opening" in message and ": " in message:
            message = message.rsplit(": ", 1)[-1].rstrip(".")
        raise AudioDecodeError(f"{path}: cannot decode ({message})") from None
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def _decode_ffmpeg(path: Path, sample_rate: int, max_seconds: float) -> np.ndarray:
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise AudioDecodeError(f"{path}: {path.suffix} files {FFMPEG_MISSING}")
    cmd = [exe, "-nostdin", "-v", "error", "-i", str(path), "-t", str(max_seconds + 1), "-f", "f32le",
           "-ac", "1", "-ar", str(sample_rate), "-"]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        raise AudioDecodeError(f"{path}: ffmpeg took over 300 s") from None
    if proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip().splitlines()
        raise AudioDecodeError(f"{path}: cannot decode ({message[-1] if message else 'ffmpeg failed'})")
    audio = np.frombuffer(proc.stdout, dtype="<f4").copy()
    if len(audio) / sample_rate > max_seconds:
        raise AudioDecodeError(f"{path}: too long (over the {max_seconds / 60:.0f} min limit)")
    return audio


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def load_audio(path: str | Path, sample_rate: int = 16000, *, max_seconds: float = MAX_SECONDS,
               min_seconds: float = 0.5) -> np.ndarray:
    """Decode a file to mono float32 at `sample_rate`.

    Raises AudioDecodeError, naming the file, for anything that is not usable music: missing, unreadable,
    not audio, empty, shorter than `min_seconds`, longer than `max_seconds`, or silent.
    """
    path = Path(path)
    if not path.exists():
        raise AudioDecodeError(f"{path}: no such file")
    if not path.is_file():
        raise AudioDecodeError(f"{path}: not a regular file")
    if path.stat().st_size == 0:
        raise AudioDecodeError(f"{path}: empty file")
    ext = path.suffix.lower()
    if ext in FFMPEG_EXTENSIONS:
        audio = _decode_ffmpeg(path, sample_rate, max_seconds)
    else:
        try:
            audio = _decode_soundfile(path, sample_rate, max_seconds)
        except AudioDecodeError:
            if ext in SOUNDFILE_EXTENSIONS or not ffmpeg_available():
                raise
            audio = _decode_ffmpeg(path, sample_rate, max_seconds)
    if len(audio) == 0:
        raise AudioDecodeError(f"{path}: no audio frames")
    if len(audio) < min_seconds * sample_rate:
        raise AudioDecodeError(f"{path}: too short ({len(audio) / sample_rate:.2f} s)")
    if not np.all(np.isfinite(audio)):
        raise AudioDecodeError(f"{path}: decoded samples are not finite (corrupt file)")
    if float(np.max(np.abs(audio))) < SILENCE_PEAK:
        raise AudioDecodeError(f"{path}: silent")
    return audio
