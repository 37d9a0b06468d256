"""The music emotion reader: a track's analysis → (valence, arousal), learned from outside-labelled music.

A linear model per axis over three kinds of input, each standardised over the library being read:
the musicnn taggers' tag probabilities (as logits), their pooled penultimate features, and the Essentia
descriptors (tempo, loudness, dynamics, onset rate, brightness, key mode, ...). Arousal was checked on
soundtracks from Debian game packages whose labels come from the games' own files (battle, peace, ...;
`storyscore.datasets.games`), leave-one-game-out; valence was fitted on people's ratings of VGMIDI's game
pieces, rendered and analysed by this pipeline, chosen leave-one-series-out (`storyscore.training.music_reader`
and benchmarks/vgmidi_valence.py; the weights' card says on what, with which figures).

Why standardise over the library: a general tagger hears all orchestral music as "quiet, classical", and
what counts as fast or loud differs between a film score and a metal album. Read against its own library,
a battle theme stands out from the calm ones of the same soundtrack. Small libraries lean on the training
corpus's statistics (`shrink_tracks` pseudo-tracks), so a single track still reads sensibly.

Inference is numpy only (no torch, no scikit-learn): the weights are a (2, d) matrix.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from storyscore.audio.encoder import TAGGERS, TrackAnalysis
from storyscore.errors import ModelError

READER_DIR = Path(__file__).resolve().parent.parent / "data" / "music_reader"
WEIGHTS_FILE = "reader.safetensors"
CARD_FILE = "reader.json"
AXES = ("valence", "arousal")
FEATURES_PER_TAGGER = 200

# Descriptor inputs: name → (how it is read from the stored descriptors, how a person would say it).
# Transforms keep the inputs roughly symmetric: tempo and brightness on a log scale, tags as logits.
DESCRIPTOR_INPUTS: dict[str, tuple[Callable[[dict[str, Any]], float], str]] = {
    "log_tempo": (lambda d: math.log2(max(float(d.get("tempo_bpm", 0.0)), 30.0)), "tempo"),
    "tempo_confidence": (lambda d: float(d.get("tempo_confidence", 0.0)), "steady beat"),
    "onset_rate": (lambda d: float(d.get("onset_rate", 0.0)), "note density"),
    "loudness": (lambda d: float(d.get("loudness_db", -30.0)), "loudness"),
    "loudness_range": (lambda d: float(d.get("loudness_range_db", 0.0)), "loudness range"),
    "dynamic_complexity": (lambda d: float(d.get("dynamic_complexity", 0.0)), "dynamic swells"),
    "danceability": (lambda d: float(d.get("danceability", 0.0)), "danceability"),
    "log_brightness": (lambda d: math.log2(max(float(d.get("brightness_hz", 1.0)), 1.0)), "brightness"),
    "spectral_flux": (lambda d: float(d.get("spectral_flux", 0.0)), "spectral change"),
    "percussive_ratio": (lambda d: float(d.get("percussive_ratio", 0.0)), "percussion"),
    "mode_strength": (lambda d: float(d.get("mode_strength", 0.0)), "major mode"),
    "key_strength": (lambda d: float(d.get("key_strength", 0.0)), "tonal clarity"),
    "mode_contrast": (lambda d: float(d.get("mode_contrast", 0.0)), "major harmony (vs minor)"),
}


def tag_names() -> list[str]:
    from storyscore.audio.musicnn_labels import tag_labels

    return [f"{name}:{tag}" for name in TAGGERS for tag in tag_labels(name)]


def input_names() -> list[str]:
    """Every input the reader can use, in the order `reader_inputs` returns them."""
    feats = [f"{name}:feature{k}" for name in TAGGERS for k in range(FEATURES_PER_TAGGER)]
    return [f"descriptor:{n}" for n in DESCRIPTOR_INPUTS] + [f"tag:{t}" for t in tag_names()] + feats


def reader_inputs(analyses: Sequence[TrackAnalysis]) -> np.ndarray:
    """(n, len(input_names())) raw inputs of analysed tracks (before standardisation)."""
    rows = []
    for a in analyses:
        desc = a.descriptors.to_dict()
        d = [fn(desc) for fn, _ in DESCRIPTOR_INPUTS.values()]
        probs = np.concatenate([a.tags[name] for name in TAGGERS]).astype(np.float64)
        p = np.clip(probs, 1e-4, 1 - 1e-4)
        rows.append(np.concatenate([np.asarray(d, np.float64), np.log(p / (1 - p)),
                                    np.asarray(a.features, np.float64)]))
    if not rows:
        return np.zeros((0, len(input_names())), np.float64)
    x = np.stack(rows)
    return np.where(np.isfinite(x), x, 0.0)


def shrunk_standardiser(x: np.ndarray, corpus_mean: np.ndarray, corpus_std: np.ndarray,
                        shrink_tracks: float) -> tuple[np.ndarray, np.ndarray]:
    """(mean, std) of a library's inputs, pulled toward the training corpus's by `shrink_tracks`
    pseudo-tracks: a library of 3 tracks reads mostly on the corpus's scale, one of 300 on its own."""
    if len(x) == 0:
        return corpus_mean, corpus_std
    return shrunk_moments(len(x), x.mean(axis=0), x.var(axis=0), corpus_mean, corpus_std, shrink_tracks)


class InputMoments:
    """Count, mean and variance of a library's inputs gathered chunk by chunk (Chan et al.'s merge), so a
    library of any size is standardised without holding all of it."""

    def __init__(self) -> None:
        self.n = 0
        self.mean: np.ndarray | None = None
        self.m2: np.ndarray | None = None  # sum of squared deviations from the mean

    def add(self, x: np.ndarray) -> None:
        if len(x) == 0:
            return
        mean = x.mean(axis=0)
        m2 = ((x - mean) ** 2).sum(axis=0)
        if self.mean is None or self.m2 is None:
            self.n, self.mean, self.m2 = len(x), mean, m2
            return
        n = self.n + len(x)
        delta = mean - self.mean
        self.mean = self.mean + delta * (len(x) / n)
        self.m2 = self.m2 + m2 + delta**2 * (self.n * len(x) / n)
        self.n = n


def shrunk_moments(n: int, lib_mean: np.ndarray, lib_var: np.ndarray, corpus_mean: np.ndarray,
                   corpus_std: np.ndarray, shrink_tracks: float) -> tuple[np.ndarray, np.ndarray]:
    """`shrunk_standardiser` from a library's count, mean and variance."""
    w = n / (n + shrink_tracks)
    mean = w * lib_mean + (1 - w) * corpus_mean
    # pooled second moment around the blended mean
    var = (w * (lib_var + (lib_mean - mean) ** 2) + (1 - w) * (corpus_std ** 2 + (corpus_mean - mean) ** 2))
    return mean, np.sqrt(np.maximum(var, 1e-12))


@dataclass(frozen=True)
class MusicReading:
    """(V, A) of n tracks in the shared frame, and each input's share in them (for explanations)."""

    va: np.ndarray  # (n, 2)
    contributions: np.ndarray  # (n, 2, d): weight × standardised input, per axis
    names: tuple[str, ...]  # the d inputs' names
    z: np.ndarray  # (n, d): each input standardised over the library (its sign says high or low there)

    def top_cues(self, i: int, k: int = 3) -> list[str]:
        """The k cues that moved track i's reading most, e.g. "'loud' tag high (+arousal)"."""
        return self.all_top_cues(k, rows=[i])[0]

    def all_top_cues(self, k: int = 3, rows: list[int] | None = None) -> list[list[str]]:
        """`top_cues` of every track (or of `rows`), computed for all of them at once: first, for each axis,
        the cue that pushed the track most toward the side it reads on (so a track reading intense names
        why, even where its arousal sums many small cues and its valence a few large ones), the stronger
        of the two first; then the strongest others."""
        labels, member, single = _cue_groups(self.names)
        pick = np.arange(len(self.va)) if rows is None else np.asarray(rows, dtype=np.int64)
        push = self.contributions[pick] @ member  # (n, 2, groups)
        strength = np.abs(push).sum(axis=1)  # (n, groups)
        out: list[list[str]] = []
        for r, i in enumerate(pick):
            chosen: list[tuple[int, int]] = []  # (group, axis)
            firsts = []
            for axis in range(len(AXES)):
                toward = push[r, axis] * (1.0 if self.va[i, axis] >= 0 else -1.0)
                g = int(np.argmax(toward))
                if toward[g] > 0:
                    firsts.append((float(toward[g]), g, axis))
            named: set[int] = set()
            for _, g, axis in sorted(firsts, reverse=True):
                if g not in named:
                    chosen.append((g, axis))
                    named.add(g)
            for g in np.argsort(-strength[r], kind="stable").tolist():
                if len(chosen) >= k or strength[r, g] <= 0:
                    break
                if g not in named:
                    chosen.append((g, int(np.argmax(np.abs(push[r, :, g])))))
                    named.add(g)
            cues = []
            for g, axis in chosen[:k]:
                sign = "+" if push[r, axis, g] >= 0 else "-"
                level = ""
                if g in single:
                    level = " high" if self.z[i, single[g]] >= 0 else " low"
                cues.append(f"{labels[g]}{level} ({sign}{AXES[axis]})")
            out.append(cues)
        return out


@cache
def _cue_groups(names: tuple[str, ...]) -> tuple[list[str], np.ndarray, dict[int, int]]:
    """Explanation groups of a reader's inputs: their labels, the (inputs, groups) membership matrix, and
    group → input for the groups of one input (whose level, high or low, can be named)."""
    labels_of = [cue_label(n) for n in names]
    labels = sorted(set(labels_of))
    index = {label: g for g, label in enumerate(labels)}
    member = np.zeros((len(names), len(labels)))
    member[np.arange(len(names)), [index[label] for label in labels_of]] = 1.0
    sizes = Counter(labels_of)
    single = {index[label]: j for j, label in enumerate(labels_of) if sizes[label] == 1}
    return labels, member, single


def cue_label(name: str) -> str:
    """An input's name as a listener would say it: descriptors and tags by name, embedding dims as one."""
    kind, _, rest = name.partition(":")
    if kind == "descriptor":
        return DESCRIPTOR_INPUTS[rest][1] if rest in DESCRIPTOR_INPUTS else rest
    if kind == "tag":
        tagger, tag = rest.split(":", 1)
        # both taggers name some tags alike ("rock", "dance"): the second one says which it is
        return f"'{tag}' tag" + (" (MSD)" if tagger != TAGGERS[0] and f"tag:{TAGGERS[0]}:{tag}" in _tag_set() else "")
    return "sound texture (musicnn embedding)"


@cache
def _tag_set() -> frozenset[str]:
    return frozenset(f"tag:{t}" for t in tag_names())


class MusicReader:
    """The fitted reader: which inputs, their weights, the corpus's statistics and the output scale."""

    def __init__(self, tensors: dict[str, np.ndarray], card: dict[str, Any]) -> None:
        self.card = card
        self.names: tuple[str, ...] = tuple(card["inputs"])
        self.weights = np.asarray(tensors["weights"], np.float64)  # (2, d)
        self.bias = np.asarray(tensors["bias"], np.float64)  # (2,)
        self.corpus_mean = np.asarray(tensors["corpus_mean"], np.float64)
        self.corpus_std = np.asarray(tensors["corpus_std"], np.float64)
        self.output_scale = np.asarray(tensors["output_scale"], np.float64)  # (2,)
        self.shrink_tracks = float(card["shrink_tracks"])
        self.version: str = str(card["version"])
        d = len(self.names)
        if self.weights.shape != (2, d) or self.corpus_mean.shape != (d,) or self.corpus_std.shape != (d,):
            raise ModelError(f"music reader: weights do not match the card's {d} inputs")
        all_names = input_names()
        missing = [n for n in self.names if n not in all_names]
        if missing:
            raise ModelError(f"music reader: unknown inputs {missing[:3]}")
        self._columns = np.array([all_names.index(n) for n in self.names], dtype=np.int64)

    @classmethod
    def load(cls, directory: str | Path = READER_DIR) -> MusicReader:
        return _load(str(Path(directory)))

    def select(self, inputs: np.ndarray) -> np.ndarray:
        """The reader's own columns of `reader_inputs`' output."""
        return inputs[:, self._columns]

    def standardiser(self, moments: InputMoments) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) for a library whose selected inputs' moments were gathered in chunks."""
        if moments.n == 0 or moments.mean is None or moments.m2 is None:
            return self.corpus_mean, self.corpus_std
        return shrunk_moments(moments.n, moments.mean, moments.m2 / moments.n, self.corpus_mean,
                              self.corpus_std, self.shrink_tracks)

    def read_inputs(self, x: np.ndarray, library: np.ndarray | None = None, *,
                    standardiser: tuple[np.ndarray, np.ndarray] | None = None) -> MusicReading:
        """Read selected inputs `x` (n, d), standardised over `library` (default: `x` itself), or by a
        `standardiser` (mean, std) computed beforehand (`standardiser()`)."""
        if standardiser is not None:
            mean, std = standardiser
        else:
            lib = x if library is None else library
            mean, std = shrunk_standardiser(lib, self.corpus_mean, self.corpus_std, self.shrink_tracks)
        z = (x - mean) / std
        contributions = z[:, None, :] * self.weights[None, :, :]
        va = (contributions.sum(axis=-1) + self.bias) * self.output_scale
        return MusicReading(va.astype(np.float32), (contributions * self.output_scale[None, :, None]),
                            self.names, z)

    def read(self, analyses: Sequence[TrackAnalysis], library: Sequence[TrackAnalysis] | None = None, *,
             standardiser: tuple[np.ndarray, np.ndarray] | None = None) -> MusicReading:
        """Read tracks against a library (default: the tracks themselves), or by a `standardiser`."""
        x = self.select(reader_inputs(analyses))
        lib = None if library is None else self.select(reader_inputs(library))
        return self.read_inputs(x, lib, standardiser=standardiser)


@cache
def _load(directory: str) -> MusicReader:
    from safetensors.numpy import load_file

    folder = Path(directory)
    weights, card_path = folder / WEIGHTS_FILE, folder / CARD_FILE
    if not weights.is_file() or not card_path.is_file():
        raise ModelError(f"{folder}: the music reader's {WEIGHTS_FILE} and {CARD_FILE} are missing "
                         "(regenerate them with `python benchmarks/fit_music_reader.py`)")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
        tensors = load_file(str(weights))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{folder}: cannot read the music reader ({exc})") from None
    return MusicReader(tensors, card)


def save_reader(directory: str | Path, tensors: dict[str, np.ndarray], card: dict[str, Any]) -> Path:
    """Write the reader's weights (safetensors) and card (JSON); used by the trainer."""
    from safetensors.numpy import save_file

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}, str(out / WEIGHTS_FILE),
              metadata={"version": str(card["version"])})
    (out / CARD_FILE).write_text(json.dumps(card, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    _load.cache_clear()
    return out
