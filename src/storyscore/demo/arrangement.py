"""Arranging a corpus piece: mode, tempo, register, articulation, accompaniment, drone, clusters and drums,
into timed notes per MIDI channel (`arrange`)."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np

from storyscore.demo.theory import Source, apply_mode, harmonise, load_source, mode_map

SYNTH_VERSION = "1"  # bump when rendering changes, so manifests re-render
MAX_SECONDS = 120.0  # hard cap on any single render, whatever a caller asks
DRUM_CHANNEL = 9  # GM channel 10

@dataclass(frozen=True)
class Arrangement:
    """Everything that decides how a corpus piece sounds. Hashable: its hash keys the manifests."""

    source: str
    mode: str = "major"
    tonic: int | None = None  # target tonic pitch class; None keeps the source's
    tempo: float = 100.0
    velocity: int = 80
    velocity_spread: int = 6  # random ± per note: sound-level variability
    accent: int = 8  # added on downbeats
    crescendo: int = 0  # start this much softer and grow to `velocity`
    melody_program: int = 0
    inner_program: int | None = 48  # None drops the inner voices (thin texture)
    bass_program: int | None = 32
    melody_octave: int = 0
    inner_octave: int = 0
    bass_octave: int = 0
    articulation: float = 0.9  # sounding fraction of each note's notated length
    melody_repeat: int = 0  # tremolo: re-strike each note this many times per quarter (0 = no)
    inner_repeat: int = 0
    bass_repeat: int = 0
    accompaniment: str = "block"  # for melodies: block | arpeggio | oompah | power | none
    leap_prob: float = 0.0  # chance a melody note jumps an octave up (comic leaps)
    cluster_prob: float = 0.0  # chance a bass note gets a minor-2nd/tritone neighbour (dissonance)
    drone_program: int | None = None
    drone_repeat: int = 0  # a timpani roll is a drone with repeats
    drums: str = "none"  # none | light | rock | driving | march | heavy | toms | woodblock
    reverb: int = 40  # GM CC91 send
    start_bar: int = 0  # begin this many bars into the piece
    seconds: float = 30.0
    peak_dbfs: float = -1.0  # peak level after normalising: keeps loud/soft contrast between pieces
    sample_rate: int = 44100
    channels: int = 2
    seed: int = 0  # humanising randomness

    def key(self) -> str:
        """A stable hash of the parameters and the synth version (what the manifests compare)."""
        blob = json.dumps({"v": SYNTH_VERSION, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class Note:
    start: float  # quarters
    dur: float
    pitch: int
    velocity: int
    channel: int


def _fold(pitch: int, lo: int = 24, hi: int = 103) -> int:
    while pitch < lo:
        pitch += 12
    while pitch > hi:
        pitch -= 12
    return pitch


def _repeat(notes: list[Note], per_quarter: int, articulation: float) -> list[Note]:
    """Tremolo / ostinato: split each note into repeated short strikes."""
    if per_quarter <= 0:
        return notes
    step = 1.0 / per_quarter
    out: list[Note] = []
    for n in notes:
        t = n.start
        while t < n.start + n.dur - 1e-6:
            d = min(step, n.start + n.dur - t)
            out.append(Note(t, d * articulation, n.pitch, n.velocity, n.channel))
            t += step
    return out


def _accompaniment(
    src: Source, style: str, begin: float, end: float
) -> tuple[list[tuple[float, float, int]], list[tuple[float, float, int]]]:
    """Generated chord and bass notes (start, dur, midi pitch in the source key) for a single melody."""
    chords: list[tuple[float, float, int]] = []
    bass: list[tuple[float, float, int]] = []
    if style == "none":
        return chords, bass
    for w0, wl, triad in harmonise(src):
        if w0 + wl <= begin or w0 >= end:
            continue
        root = 40 + (src.tonic_pc + triad[0] - 40) % 12  # bass root in E2..D#3
        voicing = sorted(55 + (src.tonic_pc + pc - 55) % 12 for pc in triad)  # close triad in G3..F#4
        if style == "block":
            chords.extend((w0, wl, p) for p in voicing)
            bass.append((w0, wl, root))
        elif style == "arpeggio":
            cycle = [root, *voicing, voicing[1]]
            steps = max(1, int(round(wl / 0.5)))
            for k in range(steps):
                chords.append((w0 + k * 0.5, 0.5, cycle[k % len(cycle)] + (12 if k % len(cycle) else 0)))
            bass.append((w0, wl, root))
        elif style == "oompah":
            half = wl / 2
            bass.append((w0, half, root))
            bass.append((w0 + half, half, root + 7 if root + 7 < 55 else root - 5))
            for k in (1, 3):
                chords.extend((w0 + k * wl / 4, wl / 4, p) for p in voicing)
        elif style == "power":
            chords.extend((w0, wl, p) for p in (root + 12, root + 19, root + 24))
            bass.append((w0, wl, root))
        else:
            raise ValueError(f"unknown accompaniment {style!r}")
    return chords, bass


def _drum_notes(style: str, src: Source, begin: float, end: float, velocity: int, rng: np.random.Generator) -> list[Note]:
    """A drum track on GM channel 10, laid on the piece's bar grid."""
    if style == "none":
        return []
    bar, eighths = src.bar, int(round(src.bar * 2))
    if eighths == 8:
        kick, snare = {0, 4}, {2, 6}
    elif eighths == 6 and src.windows_per_bar == 2:  # 6/8
        kick, snare = {0}, {3}
    elif eighths == 6:  # 3/4
        kick, snare = {0}, {2, 4}
    else:
        kick, snare = {0}, {e for e in range(2, eighths, 2)}
    out: list[Note] = []

    def hit(t: float, pitch: int, vel: float) -> None:
        if begin <= t < end:
            v = int(np.clip(vel + rng.integers(-5, 6), 1, 127))
            out.append(Note(t, 0.25, pitch, v, DRUM_CHANNEL))

    first = src.downbeat - bar * math.ceil(src.downbeat / bar) if src.downbeat else 0.0
    t_bar, n_bar = first, 0
    while t_bar < end:
        for e in range(eighths):
            t = t_bar + e * 0.5
            v = velocity
            if style == "light":
                hit(t, 42, v * 0.55)
                if e in kick:
                    hit(t, 36, v * 0.8)
                if e in snare:
                    hit(t, 37, v * 0.7)
            elif style in ("rock", "driving"):
                hit(t, 42 if style == "rock" else 46 if e % 2 else 42, v * 0.7)
                if e in kick or (style == "driving" and e % 2 == 0):
                    hit(t, 36, v)
                if e in snare:
                    hit(t, 38, v * 0.95)
                if style == "driving":
                    hit(t + 0.25, 42, v * 0.5)
                if e == 0 and n_bar % 4 == 0:
                    hit(t, 49, v * 0.9)
            elif style == "march":
                hit(t, 38, v * (0.9 if e in kick or e in snare else 0.55))
                if e in kick:
                    hit(t, 36, v)
                if e == 0 and n_bar % 2 == 0:
                    hit(t, 49, v * 0.85)
            elif style in ("heavy", "toms"):
                if style == "heavy":
                    hit(t, 36, v)
                    hit(t + 0.25, 36, v * 0.8)
                    if e in snare:
                        hit(t, 40, v)
                    hit(t, 51 if e % 2 else 42, v * 0.6)
                else:
                    hit(t, (41, 43, 45, 47)[(e + n_bar) % 4], v * (1.0 if e in kick else 0.7))
                    hit(t + 0.25, 45, v * 0.5)
                if e == 0 and n_bar % 2 == 0:
                    hit(t, 49 if style == "heavy" else 57, v * 0.9)
            elif style == "woodblock":
                hit(t, 76 if e % 2 == 0 else 77, v * (0.8 if e in kick else 0.5))
                if e in snare:
                    hit(t, 39, v * 0.6)
            else:
                raise ValueError(f"unknown drum style {style!r}")
        t_bar += bar
        n_bar += 1
    return out


def arrange(arr: Arrangement) -> tuple[list[Note], dict[int, int], float]:
    """Turn an arrangement into timed notes (quarters from 0), channel programs and the end in quarters."""
    src = load_source(arr.source)
    rng = np.random.default_rng(arr.seed)
    table = mode_map(src.mode, arr.mode)
    shift = 0 if arr.tonic is None else ((arr.tonic - src.tonic_pc + 6) % 12) - 6
    seconds = min(arr.seconds, MAX_SECONDS)
    span = seconds * arr.tempo / 60.0  # quarters that fit the requested length
    begin = src.downbeat + arr.start_bar * src.bar if arr.start_bar else 0.0
    if begin >= src.length - src.bar:
        begin = 0.0
    loop = src.length - begin  # shorter pieces loop (rounded to whole bars, so the metre carries on)
    loop = math.ceil(loop / src.bar - 1e-6) * src.bar if loop > src.bar else loop
    repeats = max(1, math.ceil(span / max(loop, 1e-6)))

    def place(items: Iterable[tuple[float, float, int]], channel: int, octave: int) -> list[Note]:
        placed = []
        for k in range(repeats):
            for start, dur, pitch in items:
                t = start - begin + k * loop
                if t < 0 or t >= span:
                    continue
                p = _fold(apply_mode(pitch, src.tonic_pc, table) + shift + 12 * octave)
                placed.append(Note(t, min(dur, span - t), p, arr.velocity, channel))
        return placed

    voices = [[(n.start, n.dur, n.pitch) for n in part] for part in src.parts]
    melody_items, bass_items, inner_items = voices[0], [], []
    if len(voices) == 1:
        chord_items, bass_items = _accompaniment(src, arr.accompaniment, begin, src.length)
        inner_items = [chord_items]
    else:
        bass_items = voices[-1] if len(voices) > 1 else []
        inner_items = voices[1:-1]
        if arr.accompaniment == "power":  # rock texture over a chorale: fifths + octaves above the bass
            inner_items = [[(s, d, p + i) for s, d, p in bass_items] for i in (12, 19)]

    notes: list[Note] = []
    programs: dict[int, int] = {0: arr.melody_program}
    mel = place(melody_items, 0, arr.melody_octave)
    if arr.leap_prob > 0:
        for n in mel:
            if rng.random() < arr.leap_prob:
                n.pitch = _fold(n.pitch + 12)
    notes += _repeat(mel, arr.melody_repeat, arr.articulation)
    if not arr.melody_repeat:
        for n in mel:
            n.dur = max(0.06, n.dur * arr.articulation)
    channel = 1
    if arr.inner_program is not None:
        for items in inner_items:
            inner = place(items, channel, arr.inner_octave)
            if arr.inner_repeat:
                inner = _repeat(inner, arr.inner_repeat, arr.articulation)
            else:
                for n in inner:
                    n.dur = max(0.06, n.dur * arr.articulation)
            for n in inner:
                n.velocity -= 10  # accompaniment sits under the tune
            notes += inner
            programs[channel] = arr.inner_program
            channel += 1
    if arr.bass_program is not None and bass_items:
        bass = place(bass_items, channel, arr.bass_octave)
        if arr.cluster_prob > 0:
            extra = []
            for n in bass:
                if rng.random() < arr.cluster_prob:
                    extra.append(Note(n.start, n.dur, _fold(n.pitch + int(rng.choice([1, 6, 13]))), n.velocity, channel))
            bass += extra
        bass = _repeat(bass, arr.bass_repeat, arr.articulation) if arr.bass_repeat else bass
        if not arr.bass_repeat:
            for n in bass:
                n.dur = max(0.06, n.dur * min(1.0, arr.articulation + 0.1))
        notes += bass
        programs[channel] = arr.bass_program
        channel += 1
    if arr.drone_program is not None:
        tonic = _fold(36 + ((src.tonic_pc + shift) - 36) % 12 + 12 * min(arr.bass_octave, 0), lo=28)
        drone = [Note(t, min(src.bar, span - t), tonic, arr.velocity - 12, channel) for t in np.arange(0.0, span, src.bar)]
        if arr.cluster_prob > 0:  # a minor second against the drone: the horror-film rub
            drone += [Note(n.start, n.dur, n.pitch + 1, n.velocity - 10, channel) for n in drone[1::2]]
        notes += _repeat(drone, arr.drone_repeat, 1.0) if arr.drone_repeat else drone
        programs[channel] = arr.drone_program
        channel += 1
    # Loudness shaping: downbeat accents, random spread (sound-level variability), crescendo.
    first = src.downbeat - begin
    for n in notes:
        v = n.velocity + rng.integers(-arr.velocity_spread, arr.velocity_spread + 1)
        if abs(((n.start - first) / src.bar) - round((n.start - first) / src.bar)) < 1e-3:
            v += arr.accent
        if arr.crescendo:
            v -= arr.crescendo * (1.0 - n.start / span)
        n.velocity = int(np.clip(v, 1, 127))
    if arr.drums != "none":
        notes += _drum_notes(arr.drums, src, 0.0, span, min(127, arr.velocity + 5), rng)
    return notes, programs, span


# -- MIDI writing --------------------------------------------------------------------------------------------
