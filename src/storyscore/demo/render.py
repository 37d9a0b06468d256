"""Rendering MIDI in-process with midirenderer and the TimGM6mb soundfont inside pretty_midi, bounded in
length before and after; writing audio files; a manifest so that re-runs render only what changed."""

from __future__ import annotations

import io
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from storyscore.demo.arrangement import MAX_SECONDS, SYNTH_VERSION, Arrangement, arrange
from storyscore.demo.midi import midi_bytes

RENDER_RATE = 48000  # midirenderer's output rate
Progress = Callable[[str], None]

@lru_cache(maxsize=1)
def soundfont_bytes() -> bytes:
    """The General-MIDI soundfont shipped inside pretty_midi (TimGM6mb, GPL-2 per its package)."""
    import pretty_midi

    path = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    if not path.is_file():
        raise FileNotFoundError(f"soundfont not found at {path}")
    return path.read_bytes()


def render_midi(midi: bytes, seconds: float) -> np.ndarray:
    """Render MIDI bytes to float32 (frames, 2) at 48 kHz, cut to at most `seconds` (+ 1 s release)."""
    import midirenderer
    import soundfile as sf

    wav = midirenderer.render_wave_from(soundfont_bytes(), midi)
    audio, rate = sf.read(io.BytesIO(wav), dtype="float32", always_2d=True)
    limit = int((min(seconds, MAX_SECONDS) + 1.0) * rate)
    audio = audio[:limit]
    if rate != RENDER_RATE:
        audio = _resample(audio, rate, RENDER_RATE)
    return audio


def _resample(audio: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    if rate_in == rate_out:
        return audio
    from scipy.signal import resample_poly

    g = math.gcd(rate_in, rate_out)
    return resample_poly(audio, rate_out // g, rate_in // g, axis=0).astype(np.float32)


def finish_audio(audio: np.ndarray, arr: Arrangement, rate_in: int = RENDER_RATE) -> np.ndarray:
    """Cut to length, fade out, mix/keep channels, resample, and normalise the peak to `peak_dbfs`."""
    n = min(len(audio), int(min(arr.seconds, MAX_SECONDS) * rate_in))
    audio = np.array(audio[:n], dtype=np.float32)
    fade = min(n, int(1.5 * rate_in))
    if fade:
        audio[n - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
    if arr.channels == 1:
        audio = audio.mean(axis=1, keepdims=True)
    audio = _resample(audio, rate_in, arr.sample_rate)
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak > 1e-6:
        audio *= (10 ** (arr.peak_dbfs / 20.0)) / peak
    return audio.squeeze(1) if arr.channels == 1 else audio


def render_arrangement(arr: Arrangement) -> np.ndarray:
    """Arrangement → finished audio at `arr.sample_rate` (1-D for mono, (frames, 2) for stereo)."""
    notes, programs, span = arrange(arr)
    midi = midi_bytes(notes, programs, arr.tempo, span, arr.reverb)
    return finish_audio(render_midi(midi, arr.seconds), arr)


def write_audio(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    """Write by extension: .ogg (Vorbis), .flac, .wav (16-bit PCM). Written to a temp name, then moved."""
    import soundfile as sf

    fmt = {".ogg": ("OGG", "VORBIS"), ".flac": ("FLAC", "PCM_16"), ".wav": ("WAV", "PCM_16")}.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"unsupported audio extension {path.suffix!r} (use .ogg, .flac or .wav)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    sf.write(tmp, audio, sample_rate, format=fmt[0], subtype=fmt[1])
    tmp.replace(path)


# -- Manifests (idempotent rendering) -------------------------------------------------------------------------

MANIFEST = "manifest.json"


def read_manifest(out_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((out_dir / MANIFEST).read_text())
        return data if isinstance(data, dict) and data.get("version") == SYNTH_VERSION else {"version": SYNTH_VERSION}
    except (OSError, ValueError):
        return {"version": SYNTH_VERSION}


def write_manifest(out_dir: Path, data: dict[str, Any]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / (MANIFEST + ".part")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    tmp.replace(out_dir / MANIFEST)


def render_all(
    out_dir: Path,
    jobs: Sequence[tuple[str, Arrangement, dict[str, Any]]],
    manifest_key: str,
    progress: Progress | None,
) -> list[tuple[str, Arrangement, dict[str, Any], bool]]:
    """Render each (relative path, arrangement, metadata) unless the manifest says it is already there."""
    manifest = read_manifest(out_dir)
    entries: dict[str, Any] = manifest.setdefault(manifest_key, {})
    done = []
    for i, (rel, arr, meta) in enumerate(jobs):
        path = out_dir / rel
        fresh = entries.get(rel, {}).get("key") == arr.key() and path.is_file()
        if not fresh:
            t0 = time.perf_counter()
            write_audio(path, render_arrangement(arr), arr.sample_rate)
            entries[rel] = {"key": arr.key(), "arrangement": asdict(arr), **meta}
            write_manifest(out_dir, manifest)  # after each piece, so an interrupted run resumes
            if progress:
                progress(f"[{i + 1}/{len(jobs)}] {rel} ({time.perf_counter() - t0:.2f} s)")
        elif progress:
            progress(f"[{i + 1}/{len(jobs)}] {rel} (up to date)")
        done.append((rel, arr, meta, not fresh))
    return done


# -- A) the demo library -----------------------------------------------------------------------------------------
