"""Candidate valence cues the product does not compute (issue #21): measured here on renders before any of
them is let into `audio/descriptors.py`. All from one pass of Essentia's HPCP/spectral-peak chain over the
same (at most 90 s) audio the descriptors read.

* ``major_minus_minor[_<profile>]``: best major-key correlation of the track's mean HPCP minus the best
  minor-key one (Krumhansl-Kessler, Temperley, edma profiles): a graded mode cue where Essentia's Key only
  names the winner;
* ``key_clarity_<profile>``: the best correlation of any key;
* ``first_to_second``: Essentia Key's firstToSecondRelativeStrength (edma);
* ``dissonance``: mean Essentia Dissonance of the frames' spectral peaks (sensory roughness);
* ``log_register``: log2 of the magnitude-weighted mean frequency of the spectral peaks under 2 kHz (where the
  harmonic part's pitch sits: low register reads darker);
* ``chroma_entropy``: entropy of the mean HPCP (chromatic, spread pitch content vs diatonic).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

# Key profiles, major then minor, C first (Krumhansl & Kessler 1982; Temperley 1999).
PROFILES: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "kk": ((6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88),
           (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)),
    "temperley": ((5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0),
                  (5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0)),
}
NAMES = ("major_minus_minor_kk", "major_minus_minor_temperley", "key_clarity_kk", "first_to_second",
         "edma_mode_strength", "dissonance", "log_register", "chroma_entropy")


def _corr(h: np.ndarray, profile: np.ndarray) -> float:
    return max(float(np.corrcoef(h, np.roll(profile, k))[0, 1]) for k in range(12))


def extra_cues(audio: np.ndarray, sample_rate: int = 16000) -> dict[str, float]:
    import essentia.standard as es

    x = np.asarray(audio, dtype=np.float32)
    window, spectrum = es.Windowing(type="blackmanharris62"), es.Spectrum()
    peaks = es.SpectralPeaks(orderBy="magnitude", magnitudeThreshold=1e-5, minFrequency=40,
                             maxFrequency=5000, maxPeaks=60, sampleRate=sample_rate)
    hpcp = es.HPCP(size=12, referenceFrequency=440, harmonics=8, bandPreset=True, minFrequency=40,
                   maxFrequency=5000, weightType="cosine", nonLinear=False, windowSize=1.0,
                   sampleRate=sample_rate)
    dissonance = es.Dissonance()
    chroma, diss, regs, weights = [], [], [], []
    for frame in es.FrameGenerator(x, frameSize=4096, hopSize=2048, startFromZero=True):
        spec = spectrum(window(frame))
        if float(np.sum(spec)) < 1e-6:
            continue
        f, m = peaks(spec)
        if len(f) < 2:
            continue
        chroma.append(hpcp(f, m))
        order = np.argsort(f)
        diss.append(dissonance(f[order], m[order]))
        low = f < 2000
        if low.any():
            regs.append(float((f[low] * m[low]).sum() / m[low].sum()))
            weights.append(float(m[low].sum()))
    if not chroma:
        return dict.fromkeys(NAMES, 0.0)
    h = np.mean(chroma, axis=0).astype(np.float64)
    # Essentia's HPCP starts at A (referenceFrequency 440): rotate so index 0 is C
    h_c = np.roll(h, -3)
    out: dict[str, float] = {}
    for name, (major, minor) in PROFILES.items():
        ma, mi = _corr(h_c, np.array(major)), _corr(h_c, np.array(minor))
        out[f"major_minus_minor_{name}"] = ma - mi
        if name == "kk":
            out["key_clarity_kk"] = max(ma, mi)
    key, scale, strength, first_to_second = es.Key(profileType="edma")(h.astype(np.float32))
    out["first_to_second"] = float(first_to_second)
    out["edma_mode_strength"] = float(strength) * (1 if scale == "major" else -1)
    out["dissonance"] = float(np.mean(diss))
    out["log_register"] = float(np.log2(np.average(regs, weights=weights))) if regs else 0.0
    p = h / h.sum() if h.sum() > 0 else np.full(12, 1 / 12)
    out["chroma_entropy"] = float(-(p * np.log2(np.maximum(p, 1e-12))).sum())
    return {k: float(np.nan_to_num(v)) for k, v in out.items()}


def cached_extra_cues(path: Path, cache: Path) -> dict[str, float]:
    """`extra_cues` of an audio file's descriptor excerpt (what the descriptors read), cached by file name."""
    from storyscore.audio.decode import load_audio
    from storyscore.audio.encoder import ENCODER_RATE, descriptor_audio

    out = cache / f"{path.parent.name}_{path.stem}.json"
    if out.exists():
        return json.loads(out.read_text())
    got = extra_cues(descriptor_audio(load_audio(path, ENCODER_RATE)), ENCODER_RATE)
    cache.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(got))
    return got
