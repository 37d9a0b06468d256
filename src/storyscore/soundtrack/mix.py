"""Render a plan's soundtrack as one audio file: tracks cut or looped to their scenes, crossfaded.

- Consecutive scenes with the same track form one run: the track keeps playing (no restart, no fade).
- Between runs: equal-power (sin/cos) crossfades of `crossfade` seconds centred on the scene boundary,
  shortened for runs shorter than the crossfade. Loop points inside a run are crossfaded too (1 s).
- Loudness: every track is normalised to `target_lufs` using an ITU-R BS.1770-style integrated loudness
  (K-weighting shelf + high-pass designed for the actual sample rate, 400 ms blocks, absolute −70 LUFS and
  relative −10 LU gates; no true-peak oversampling). The gain is capped so the track's sample peak stays
  below −0.2 dBFS, so very dynamic tracks may end up a little quieter than the target.
- Streaming: one decoded track (at most the part the run needs) plus one block is in memory; the output
  is written block by block with `soundfile.SoundFile`, so a 2-hour mix needs no 2 hours of audio in RAM.
- The file has exactly round(total_seconds · sample_rate) frames; a track that cannot be decoded becomes
  silence for its run and is reported in `MixResult.warnings` (one bad file never stops the mix).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from storyscore.errors import InputError
from storyscore.soundtrack.export import Run, runs
from storyscore.types import Plan

_FORMATS = {".wav": ("WAV", "PCM_16"), ".flac": ("FLAC", "PCM_16"), ".ogg": ("OGG", "VORBIS")}
_BLOCK = 1 << 16
_LOOP_XFADE = 1.0  # seconds


@dataclass
class MixResult:
    path: Path
    seconds: float
    frames: int
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- loudness


def _k_weighting(sr: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """BS.1770 pre-filter (high shelf) and RLB high-pass as biquads for any sample rate."""
    G, Q, fc = 3.999843853973347, 0.7071752369554196, 1681.974450955533
    A = 10 ** (G / 40)
    w0 = 2 * math.pi * fc / sr
    al = math.sin(w0) / (2 * Q)
    c = math.cos(w0)
    sa = 2 * math.sqrt(A) * al
    b1 = np.array(
        [A * ((A + 1) + (A - 1) * c + sa), -2 * A * ((A - 1) + (A + 1) * c), A * ((A + 1) + (A - 1) * c - sa)]
    )
    a1 = np.array([(A + 1) - (A - 1) * c + sa, 2 * ((A - 1) - (A + 1) * c), (A + 1) - (A - 1) * c - sa])
    Q2, fc2 = 0.5003270373238773, 38.13547087602444
    w0 = 2 * math.pi * fc2 / sr
    al = math.sin(w0) / (2 * Q2)
    a2 = np.array([1 + al, -2 * math.cos(w0), 1 - al])
    b2 = np.array([1.0, -2.0, 1.0]) * a2[0]  # BS.1770's RLB filter has an unnormalised [1, -2, 1] numerator
    return [(b1 / a1[0], a1 / a1[0]), (b2 / a2[0], a2 / a2[0])]


def integrated_loudness(x: np.ndarray, sr: int) -> float:
    """Gated integrated loudness (LUFS) of a (frames, channels) signal; −inf for silence."""
    from scipy.signal import lfilter

    if x.ndim == 1:
        x = x[:, None]
    z = x.astype(np.float64)
    for b, a in _k_weighting(sr):
        z = lfilter(b, a, z, axis=0)
    block, hop = int(0.4 * sr), int(0.1 * sr)
    if len(z) < block:
        ms = (z**2).mean(axis=0).sum() if len(z) else 0.0
        return -0.691 + 10 * math.log10(ms) if ms > 0 else -math.inf
    c2 = np.concatenate([np.zeros((1, z.shape[1])), np.cumsum(z**2, axis=0)])
    starts = np.arange(0, len(z) - block + 1, hop)
    ms = ((c2[starts + block] - c2[starts]) / block).sum(axis=1)
    with np.errstate(divide="ignore"):
        lk = -0.691 + 10 * np.log10(ms)
    keep = lk > -70
    if not keep.any():
        return -math.inf
    rel = -0.691 + 10 * math.log10(ms[keep].mean()) - 10
    keep &= lk > rel
    return -0.691 + 10 * math.log10(ms[keep].mean())


# --------------------------------------------------------------------------- decoding


def _load(path: str, seconds: float, sr: int, channels: int) -> np.ndarray:
    """Decode at most `seconds` (+ a margin) of a track as float32 (frames, channels) at `sr`."""
    import soundfile as sf
    from scipy.signal import resample_poly

    with sf.SoundFile(path) as f:
        native = f.samplerate
        need = f.frames if f.frames > 0 else None
        want = int(math.ceil((seconds + 2.0) * native))
        x = f.read(frames=min(need, want) if need else want, dtype="float32", always_2d=True)
    if x.shape[1] == 1 and channels > 1:
        x = np.repeat(x, channels, axis=1)
    elif x.shape[1] != channels:
        x = x.mean(axis=1, keepdims=True).repeat(channels, axis=1) if channels == 1 else x[:, :channels]
    if native != sr and len(x):
        g = math.gcd(native, sr)
        x = resample_poly(x, sr // g, native // g, axis=0).astype(np.float32)
    return np.ascontiguousarray(x)


class _Looper:
    """Index a track as an endless signal whose loop points are crossfaded (equal power)."""

    def __init__(self, x: np.ndarray, sr: int) -> None:
        n = len(x)
        self.n = n
        f = min(int(_LOOP_XFADE * sr), n // 4)
        self.head = n - f  # first pass plays x[:n-f]; then the loop body repeats
        if f > 0:
            t = (np.arange(f, dtype=np.float32) + 0.5) / f
            fin, fout = np.sin(0.5 * np.pi * t)[:, None], np.cos(0.5 * np.pi * t)[:, None]
            body = np.concatenate([x[n - f :] * fout + x[:f] * fin, x[f : n - f]])
        else:
            body = x.copy()
        self.period = len(body)
        self.src = np.concatenate([x[: self.head], body]) if self.period else x

    def get(self, i0: int, i1: int) -> np.ndarray:
        if self.n == 0 or self.period == 0:
            return np.zeros((i1 - i0, self.src.shape[1] if self.src.ndim == 2 else 1), np.float32)
        i = np.arange(i0, i1)
        idx = np.where(i < self.head, i, self.head + (i - self.head) % self.period)
        return self.src[idx]


# --------------------------------------------------------------------------- the mix


def render_mix(
    plan: Plan,
    out_path: Path | str,
    *,
    sample_rate: int = 44100,
    crossfade: float = 3.0,
    target_lufs: float = -20.0,
    channels: int = 2,
    progress: Callable[[float, float], None] | None = None,
) -> MixResult:
    """Write the plan's soundtrack to `out_path` (.wav, .flac or .ogg by extension)."""
    import soundfile as sf

    out = Path(out_path)
    fmt = _FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise InputError(f"{out}: unsupported mix format {out.suffix or '(none)'} (use .wav, .flac or .ogg)")
    if sample_rate < 8000 or crossfade < 0 or channels not in (1, 2):
        raise InputError(
            f"{out}: bad mix settings (rate {sample_rate}, crossfade {crossfade}, channels {channels})"
        )
    rs: list[Run] = runs(plan)
    sr = int(sample_rate)
    total = round(plan.total_seconds * sr)
    if not rs or total <= 0:
        raise InputError(f"{out}: the plan has no scenes with tracks to mix")
    warnings: list[str] = []
    # join k sits between run k and k+1: its crossfade covers [js[k], je[k])
    js, je = [], []
    for k in range(len(rs) - 1):
        t = rs[k + 1].start_seconds
        cf = min(crossfade, rs[k].seconds, rs[k + 1].seconds)
        js.append(max(0, round((t - cf / 2) * sr)))
        je.append(min(total, round((t + cf / 2) * sr)))
    fade_in_start = min(round(0.01 * sr), total)
    fade_out = min(round(0.5 * sr), total // 4)
    out.parent.mkdir(parents=True, exist_ok=True)
    pending = np.zeros((0, channels), np.float32)  # previous run's faded-out tail, starting at `pos`
    pos = 0
    gains: dict[str, float] = {}
    with sf.SoundFile(out, "w", samplerate=sr, channels=channels, format=fmt[0], subtype=fmt[1]) as f:
        for k, r in enumerate(rs):
            a = js[k - 1] if k > 0 else 0
            b = je[k] if k < len(rs) - 1 else total
            fi_end = je[k - 1] if k > 0 else fade_in_start  # fade-in region [a, fi_end)
            fo_start = js[k] if k < len(rs) - 1 else total - fade_out  # fade-out region [fo_start, b)
            try:
                x = _load(r.path, (b - a) / sr, sr, channels)
                if r.path not in gains:
                    lufs = integrated_loudness(x, sr)
                    peak = float(np.abs(x).max()) if len(x) else 0.0
                    g = 10 ** ((target_lufs - lufs) / 20) if math.isfinite(lufs) else 1.0
                    gains[r.path] = min(g, 0.977 / peak) if peak > 0 else 1.0
                if len(x) == 0:
                    raise ValueError("no audio frames")
            except Exception as e:  # noqa: BLE001 — one bad file must not stop the mix
                warnings.append(f"{r.path}: cannot decode ({type(e).__name__}: {e}); silence instead")
                x = np.zeros((0, channels), np.float32)
                gains[r.path] = 0.0
            loop = _Looper(x, sr)
            new_pending: list[np.ndarray] = []
            for i0 in range(a, b, _BLOCK):
                i1 = min(b, i0 + _BLOCK)
                blk = loop.get(i0 - a, i1 - a).astype(np.float32) * gains[r.path]
                idx = np.arange(i0, i1)
                env = np.ones(i1 - i0, np.float32)
                if fi_end > a:
                    m = idx < fi_end
                    env[m] = np.sin(0.5 * np.pi * (idx[m] - a + 0.5) / (fi_end - a))
                if b > fo_start:
                    m = idx >= fo_start
                    env[m] *= np.cos(0.5 * np.pi * (idx[m] - fo_start + 0.5) / (b - fo_start))
                blk *= env[:, None]
                # mix in the previous run's tail where it overlaps this block
                if len(pending) and pos < i1:
                    o0 = i0 - pos
                    n = min(len(pending) - o0, i1 - i0)
                    if n > 0:
                        blk[:n] += pending[o0 : o0 + n]
                # everything before this run's own fade-out is final; the fade-out waits for the next run
                cut = min(max(fo_start if k < len(rs) - 1 else b, i0), i1) - i0
                if cut > 0:
                    f.write(np.clip(blk[:cut], -1.0, 1.0))
                if cut < len(blk):
                    new_pending.append(blk[cut:])
                if progress:
                    progress(i1 / sr, total / sr)
            pending = np.concatenate(new_pending) if new_pending else np.zeros((0, channels), np.float32)
            pos = fo_start
        if len(pending):
            f.write(np.clip(pending, -1.0, 1.0))
    return MixResult(out, total / sr, total, warnings)
