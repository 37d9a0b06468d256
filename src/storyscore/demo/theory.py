"""Music theory for the demo: General-MIDI program names, modes and how to map a piece onto another, the
music21 corpus sources (melody, key) and a simple harmonisation (I/IV/V/vi/ii per half bar)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

# -- General MIDI program names (0-based numbers) -----------------------------------------------------

_GM_NAMES = (
    "Acoustic Grand Piano|Bright Acoustic Piano|Electric Grand Piano|Honky-tonk Piano|Electric Piano 1|"
    "Electric Piano 2|Harpsichord|Clavinet|Celesta|Glockenspiel|Music Box|Vibraphone|Marimba|Xylophone|"
    "Tubular Bells|Dulcimer|Drawbar Organ|Percussive Organ|Rock Organ|Church Organ|Reed Organ|Accordion|"
    "Harmonica|Tango Accordion|Nylon Guitar|Steel Guitar|Jazz Guitar|Clean Guitar|Muted Guitar|"
    "Overdriven Guitar|Distortion Guitar|Guitar Harmonics|Acoustic Bass|Finger Bass|Pick Bass|"
    "Fretless Bass|Slap Bass 1|Slap Bass 2|Synth Bass 1|Synth Bass 2|Violin|Viola|Cello|Contrabass|"
    "Tremolo Strings|Pizzicato Strings|Orchestral Harp|Timpani|String Ensemble 1|String Ensemble 2|"
    "Synth Strings 1|Synth Strings 2|Choir Aahs|Voice Oohs|Synth Voice|Orchestra Hit|Trumpet|Trombone|Tuba|"
    "Muted Trumpet|French Horn|Brass Section|Synth Brass 1|Synth Brass 2|Soprano Sax|Alto Sax|Tenor Sax|"
    "Baritone Sax|Oboe|English Horn|Bassoon|Clarinet|Piccolo|Flute|Recorder|Pan Flute|Blown Bottle|"
    "Shakuhachi|Whistle|Ocarina|Square Lead|Sawtooth Lead|Calliope Lead|Chiff Lead|Charang Lead|Voice Lead|"
    "Fifths Lead|Bass+Lead|New Age Pad|Warm Pad|Polysynth Pad|Choir Pad|Bowed Pad|Metallic Pad|Halo Pad|"
    "Sweep Pad|Rain FX|Soundtrack FX|Crystal FX|Atmosphere FX|Brightness FX|Goblins FX|Echoes FX|Sci-fi FX|"
    "Sitar|Banjo|Shamisen|Koto|Kalimba|Bagpipe|Fiddle|Shanai|Tinkle Bell|Agogo|Steel Drums|Woodblock|"
    "Taiko Drum|Melodic Tom|Synth Drum|Reverse Cymbal|Guitar Fret Noise|Breath Noise|Seashore|Bird Tweet|"
    "Telephone Ring|Helicopter|Applause|Gunshot"
)
GM_PROGRAMS: tuple[str, ...] = tuple(_GM_NAMES.split("|"))


def program_name(program: int) -> str:
    """The General-MIDI name of a 0-based program number."""
    return GM_PROGRAMS[program] if 0 <= program < len(GM_PROGRAMS) else f"program {program}"


# -- Modes ------------------------------------------------------------------------------------------------

# Each target mode as a map of pitch classes relative to the tonic of a *major* key; unlisted classes stay.
# "minor" is harmonic minor (keeps the leading tone, so dominant chords still resolve).
_FROM_MAJOR: dict[str, dict[int, int]] = {
    "major": {},
    "minor": {4: 3, 9: 8},
    "aeolian": {4: 3, 9: 8, 11: 10},
    "dorian": {4: 3, 11: 10},
    "phrygian": {2: 1, 4: 3, 9: 8, 11: 10},
    "locrian": {2: 1, 4: 3, 7: 6, 9: 8, 11: 10},
    "lydian": {5: 6},
    "mixolydian": {11: 10},
}
MODES: tuple[str, ...] = tuple(_FROM_MAJOR)
# A minor-key source is first read as its parallel major (raise 3, 6 and the subtonic).
_MINOR_TO_MAJOR = {3: 4, 8: 9, 10: 11}
PC_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def mode_map(source_mode: str, target_mode: str) -> list[int]:
    """A 12-entry table: relative pitch class in the source key → relative pitch class in the target mode."""
    if target_mode not in _FROM_MAJOR:
        raise ValueError(f"unknown mode {target_mode!r} (use one of {MODES})")
    if source_mode == "minor" and target_mode == "minor":
        return list(range(12))  # keep a minor source's own melodic/harmonic inflections
    table = list(range(12))
    if source_mode == "minor":
        table = [_MINOR_TO_MAJOR.get(pc, pc) for pc in table]
    target = _FROM_MAJOR[target_mode]
    return [target.get(pc, pc) for pc in table]


def apply_mode(pitch: int, tonic_pc: int, table: Sequence[int]) -> int:
    """Move one MIDI pitch onto the target mode, keeping its octave relative to the tonic."""
    rel = (pitch - tonic_pc) % 12
    return pitch - rel + table[rel]


# -- Sources ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceNote:
    start: float  # quarter notes from the score's beginning
    dur: float
    pitch: int


@dataclass(frozen=True)
class Source:
    """A parsed corpus piece reduced to what the arranger needs."""

    name: str  # corpus path, e.g. "bach/bwv66.6.mxl"
    parts: tuple[tuple[SourceNote, ...], ...]  # top voice first
    tonic_pc: int
    mode: str  # "major" or "minor"
    bar: float  # bar length in quarters
    windows_per_bar: int  # harmonic rhythm for generated accompaniment
    downbeat: float  # offset of the first full bar's downbeat (0 unless there is a pickup)
    length: float  # quarters

    @property
    def key_name(self) -> str:
        return f"{PC_NAMES[self.tonic_pc]} {self.mode}"


def _corpus_root() -> Path:
    import music21

    return Path(music21.__file__).parent / "corpus"


@lru_cache(maxsize=1)
def corpus_pools() -> dict[str, tuple[str, ...]]:
    """Candidate sources by kind, as corpus-relative paths, sorted so seeded choices are reproducible."""
    root = _corpus_root()
    chorales = sorted(
        p.relative_to(root).as_posix() for p in (root / "bach").glob("bwv*.mxl") if re.match(r"bwv\d+\.\d+\.mxl$", p.name)
    )
    tunes = sorted(p.relative_to(root).as_posix() for p in (root / "ryansMammoth").glob("*.abc"))
    jigs = tuple(t for t in tunes if t.endswith("Jig.abc"))
    reels = tuple(t for t in tunes if t.endswith(("Reel.abc", "Hornpipe.abc", "Clog.abc")))
    return {"chorale": tuple(chorales), "jig": jigs, "reel": reels, "tune": tuple(tunes)}


@lru_cache(maxsize=256)
def load_source(name: str) -> Source:
    """Parse a corpus piece (cached: the mood set reuses pieces) into voices, key, metre and pickup."""
    from music21 import chord, converter, meter
    from music21 import note as m21note

    path = _corpus_root() / name
    if not path.is_file():
        raise FileNotFoundError(f"no corpus piece {name!r}")
    score = converter.parse(path)
    if hasattr(score, "scores"):  # an Opus: take its first score
        score = score.scores[0]
    score = score.stripTies(inPlace=False)
    parts: list[tuple[SourceNote, ...]] = []
    for part in score.parts:
        notes: list[SourceNote] = []
        for el in part.flatten().notes:
            dur = float(el.quarterLength)
            if dur <= 0:  # grace notes: no time of their own
                continue
            start = float(el.getOffsetInHierarchy(score))
            if isinstance(el, chord.Chord):
                pitches = [p.midi for p in el.pitches]
            elif isinstance(el, m21note.Note):
                pitches = [el.pitch.midi]
            else:
                continue
            notes.extend(SourceNote(start, dur, int(p)) for p in pitches)
        if notes:
            parts.append(tuple(sorted(notes, key=lambda n: (n.start, -n.pitch))))
    if not parts:
        raise ValueError(f"corpus piece {name!r} has no notes")
    # Order voices top to bottom by mean pitch (scores usually are, ABC has one part).
    parts.sort(key=lambda ns: -sum(n.pitch for n in ns) / len(ns))
    key = score.analyze("key")
    mode = "minor" if key.mode == "minor" else "major"
    ts = score.recurse().getElementsByClass(meter.TimeSignature).first()
    bar = float(ts.barDuration.quarterLength) if ts is not None else 4.0
    numerator = ts.numerator if ts is not None else 4
    windows = 2 if (bar >= 3.0 and numerator in (2, 4, 6, 12)) else 1
    measures = list(score.parts[0].getElementsByClass("Measure"))
    downbeat = 0.0
    if len(measures) > 1 and measures[0].paddingLeft > 0:
        downbeat = float(measures[1].offset) % bar
    length = max(n.start + n.dur for ns in parts for n in ns)
    return Source(name, tuple(parts), key.tonic.pitchClass, mode, bar, windows, downbeat, length)


# -- Harmonising single melodies ---------------------------------------------------------------------------

# Diatonic triads relative to the tonic (root first) for each source mode, and a small prior for each.
_TRIADS = {
    "major": [((0, 4, 7), 0.3), ((5, 9, 0), 0.15), ((7, 11, 2), 0.2), ((9, 0, 4), 0.0), ((2, 5, 9), -0.05)],
    "minor": [((0, 3, 7), 0.3), ((5, 8, 0), 0.15), ((7, 11, 2), 0.2), ((8, 0, 3), 0.0), ((3, 7, 10), -0.05)],
}


def harmonise(src: Source) -> list[tuple[float, float, tuple[int, ...]]]:
    """Pick one triad per harmonic window of a melody: (start, length, relative pitch classes, root first)."""
    melody = src.parts[0]
    win = src.bar / src.windows_per_bar
    first = src.downbeat - win * math.ceil(src.downbeat / win) if src.downbeat else 0.0
    out: list[tuple[float, float, tuple[int, ...]]] = []
    n_win = int(math.ceil((src.length - first) / win))
    prev: tuple[int, ...] | None = None
    for i in range(n_win):
        w0, w1 = first + i * win, first + (i + 1) * win
        weights = np.zeros(12)
        for n in melody:
            overlap = min(n.start + n.dur, w1) - max(n.start, w0)
            if overlap > 0:
                accent = 1.5 if abs(n.start - w0) < 1e-6 else 1.0  # notes on the window's beat count more
                weights[(n.pitch - src.tonic_pc) % 12] += overlap * accent
        best, best_score = None, -1e9
        for triad, prior in _TRIADS[src.mode]:
            score = sum(weights[pc] for pc in triad) / max(weights.sum(), 1e-9) + prior
            if triad == prev:
                score += 0.1  # harmonic inertia: do not change chord without a reason
            if i == 0 or i == n_win - 1:
                score += 0.5 if triad == _TRIADS[src.mode][0][0] else 0.0  # start and end on the tonic
            if score > best_score:
                best, best_score = triad, score
        assert best is not None
        out.append((max(w0, 0.0), w1 - max(w0, 0.0), best))
        prev = best
    return out


# -- Arrangement -------------------------------------------------------------------------------------------
