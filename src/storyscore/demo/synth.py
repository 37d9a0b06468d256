"""Music made on the spot: music21 corpus pieces, transformed and rendered with a General-MIDI soundfont.

Two uses share this machinery:

* ``render_demo_library`` writes the small library of ``storyscore demo``: 15 pieces of clearly different
  character (calm, sad, scary, angry, happy, exciting, triumphant, funny, mysterious), in a mix of formats
  (.ogg, .flac, .wav), one sub-folder and one file name with spaces; a manifest makes it idempotent.
* ``render_mood_set`` writes a labelled set in the generic layout ``<out>/audio/<label>/<name>.wav`` for the
  seven AudioSet mood classes (angry, exciting, funny, happy, sad, scary, tender). Each clip is a corpus
  piece (Bach chorale or a fiddle tune from Ryan's Mammoth Collection) rendered with mode, tempo, register,
  loudness, articulation, instrumentation and texture drawn at random *within its class's rule ranges*.

How a piece is made: parse a corpus score, find its key (Krumhansl), harmonise it if it is a single melody
(I/IV/V/vi/ii chosen per half bar by how much of the melody they cover), map its pitches onto a target mode
relative to the key (e.g. major → minor lowers scale degrees 3 and 6, aeolian also 7, phrygian also 2),
transpose to a target tonic, shift each voice's register, re-articulate (duration fraction, tremolo, octave
leaps), add optional drone, dissonant cluster notes and a drum track on GM channel 10, and write a Standard
MIDI File ourselves. ``midirenderer`` renders it in-process with the TimGM6mb soundfont shipped inside
``pretty_midi``. Length is bounded *before* rendering (no note may start or sound past the requested
duration, the MIDI file ends 1 s later) and again after (audio is cut, faded and peak-normalised). The
fluidsynth CLI is never used.

Mood rules (``MOOD_RULES``) — from cue summaries of music-psychology research:
Juslin & Laukka (2003, Psychological Bulletin 129:770, review of 41 performance studies), Gabrielsson &
Lindström (2010, "The role of structure in the musical expression of emotions", Handbook of Music and
Emotion), Eerola, Friberg & Bresin (2013, Frontiers in Psychology 4:487, factorial cue manipulation: mode,
tempo, register, dynamics, articulation, timbre) and Hevner's adjective studies (1935–37).

=========  ==================  =========  =========  ========  ==============  ===============================
class      mode                tempo bpm  register   velocity  articulation    instruments / texture
=========  ==================  =========  =========  ========  ==============  ===============================
happy      major / mixolydian  112–144    mid-high   70–95     light (.55–.8)  piano, flute, guitar, marimba;
                                                                               oom-pah/arpeggio; light drums
exciting   major / lydian      150–184    high       100–122   short (.45–.7)  synth lead, brass, e-guitar,
                                                                               driving bass, rock drums
funny      major               126–168    high       72–100    staccato        piccolo, clarinet, bassoon,
                                                     (.2–.4)                   pizzicato, xylophone; octave
                                                                               leaps, oom-pah, woodblocks
tender     major               54–76      mid        38–62     legato (.95+)   strings, flute, piano, nylon
                                                                               guitar; arpeggio/block; reverb
sad        minor / aeolian     40–62      low        35–60     legato (.95+)   cello, oboe, bassoon, horn,
                                                                               strings; block chords
scary      phrygian / locrian  84–132     low (+     45–115    mixed, tremolo  tremolo strings, choir, low
                                                     wide spread)              brass, timpani; drone, minor-2nd
                                                                               and tritone clusters, crescendo
angry      minor / phrygian    138–176    low-mid    105–127   accented        distortion/overdrive guitar,
                                                     (.5–.8)                   brass, synth bass; power chords,
                                                                               ostinato bass, heavy drums
=========  ==================  =========  =========  ========  ==============  ===============================

Reasoning per class (the cue profiles of the sources above):

* happy — major mode, fast tempo, high pitch, moderately loud, staccato/light articulation, consonance,
  bright timbre, small sound-level variability (J&L 2003 Table 11; G&L 2010).
* exciting — the high-arousal positive corner: fastest tempi, loudest levels, dense rhythm and percussion,
  bright/sharp timbres; mode major (arousal cues dominate valence cues, Eerola et al. 2013).
* funny — Hevner's "playful/humorous" cluster: fast, major, high register, staccato; large pitch leaps and
  "comic" timbres (bassoon, piccolo, pizzicato, xylophone, woodblock) as in cartoon scoring.
* tender — major, slow, soft, legato, soft timbre, consonant, medium-high pitch, little variability
  (J&L 2003: tenderness; G&L 2010: "serenity/tenderness").
* sad — minor mode, slow tempo, low pitch, soft, legato, dull/dark timbre, small pitch range
  (J&L 2003 sadness: the most consistent profile across studies).
* scary — dissonance (minor seconds, tritones), minor/phrygian/locrian mode, low register with wide
  spacing, tremolo, large sound-level variability and crescendo (J&L 2003 fear: tremolo, large
  sound-level variability; film-music horror conventions for drones and clusters).
* angry — minor, fast, loud, sharp/rough timbre (distortion = spectral noise), accented/staccato attacks,
  heavy percussion, low-mid register (J&L 2003 anger: high sound level, sharp timbre, fast, accents).

``mood_rules_table()`` returns the rules as data rows for reports.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

SYNTH_VERSION = "1"  # bump when rendering changes, so manifests re-render
PPQ = 480  # MIDI ticks per quarter note
DRUM_CHANNEL = 9  # GM channel 10
RENDER_RATE = 48000  # midirenderer's output rate
MAX_SECONDS = 120.0  # hard cap on any single render, whatever a caller asks

Progress = Callable[[str], None]

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
_PC_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


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
        return f"{_PC_NAMES[self.tonic_pc]} {self.mode}"


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
class _Note:
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


def _repeat(notes: list[_Note], per_quarter: int, articulation: float) -> list[_Note]:
    """Tremolo / ostinato: split each note into repeated short strikes."""
    if per_quarter <= 0:
        return notes
    step = 1.0 / per_quarter
    out: list[_Note] = []
    for n in notes:
        t = n.start
        while t < n.start + n.dur - 1e-6:
            d = min(step, n.start + n.dur - t)
            out.append(_Note(t, d * articulation, n.pitch, n.velocity, n.channel))
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


def _drum_notes(style: str, src: Source, begin: float, end: float, velocity: int, rng: np.random.Generator) -> list[_Note]:
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
    out: list[_Note] = []

    def hit(t: float, pitch: int, vel: float) -> None:
        if begin <= t < end:
            v = int(np.clip(vel + rng.integers(-5, 6), 1, 127))
            out.append(_Note(t, 0.25, pitch, v, DRUM_CHANNEL))

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


def arrange(arr: Arrangement) -> tuple[list[_Note], dict[int, int], float]:
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

    def place(items: Iterable[tuple[float, float, int]], channel: int, octave: int) -> list[_Note]:
        placed = []
        for k in range(repeats):
            for start, dur, pitch in items:
                t = start - begin + k * loop
                if t < 0 or t >= span:
                    continue
                p = _fold(apply_mode(pitch, src.tonic_pc, table) + shift + 12 * octave)
                placed.append(_Note(t, min(dur, span - t), p, arr.velocity, channel))
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

    notes: list[_Note] = []
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
                    extra.append(_Note(n.start, n.dur, _fold(n.pitch + int(rng.choice([1, 6, 13]))), n.velocity, channel))
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
        drone = [_Note(t, min(src.bar, span - t), tonic, arr.velocity - 12, channel) for t in np.arange(0.0, span, src.bar)]
        if arr.cluster_prob > 0:  # a minor second against the drone: the horror-film rub
            drone += [_Note(n.start, n.dur, n.pitch + 1, n.velocity - 10, channel) for n in drone[1::2]]
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


def _vlq(value: int) -> bytes:
    """MIDI variable-length quantity."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(out))


def _track(events: list[tuple[int, int, bytes]]) -> bytes:
    """One MTrk chunk from (tick, order, message) events; order puts note-offs before note-ons."""
    data, last = bytearray(), 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        data += _vlq(tick - last) + msg
        last = tick
    data += b"\x00\xff\x2f\x00"
    return b"MTrk" + len(data).to_bytes(4, "big") + bytes(data)


def midi_bytes(notes: Sequence[_Note], programs: dict[int, int], tempo: float, end: float, reverb: int = 40) -> bytes:
    """A format-1 Standard MIDI File: a tempo track, then one track per channel."""
    us_per_quarter = int(round(60_000_000 / tempo))
    end_tick = int(round(end * PPQ)) + PPQ * int(math.ceil(tempo / 60.0))  # ~1 s of release after the end
    tracks = [_track([(0, 0, b"\xff\x51\x03" + us_per_quarter.to_bytes(3, "big")), (end_tick, 9, b"\xff\x01\x00")])]
    channels = sorted({n.channel for n in notes} | set(programs))
    pans = np.linspace(40, 88, num=max(len(channels), 1)).astype(int)  # spread voices across the stereo field
    for i, ch in enumerate(channels):
        ev: list[tuple[int, int, bytes]] = []
        if ch != DRUM_CHANNEL:
            ev.append((0, 0, bytes([0xC0 | ch, programs.get(ch, 0) & 0x7F])))
        pan = 64 if ch == DRUM_CHANNEL else int(pans[i])
        ev += [
            (0, 0, bytes([0xB0 | ch, 7, 100])),
            (0, 0, bytes([0xB0 | ch, 10, pan])),
            (0, 0, bytes([0xB0 | ch, 91, int(np.clip(reverb, 0, 127))])),
        ]
        for n in notes:
            if n.channel != ch:
                continue
            on = int(round(n.start * PPQ))
            off = max(on + 1, min(int(round((n.start + n.dur) * PPQ)), end_tick))
            ev.append((on, 2, bytes([0x90 | ch, n.pitch & 0x7F, max(1, n.velocity) & 0x7F])))
            ev.append((off, 1, bytes([0x80 | ch, n.pitch & 0x7F, 0])))
        ev.append((end_tick, 9, bytes([0xB0 | ch, 123, 0])))  # all notes off at the end
        tracks.append(_track(ev))
    header = b"MThd" + (6).to_bytes(4, "big") + (1).to_bytes(2, "big") + len(tracks).to_bytes(2, "big") + PPQ.to_bytes(2, "big")
    return header + b"".join(tracks)


# -- Rendering ------------------------------------------------------------------------------------------------


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


def _read_manifest(out_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((out_dir / MANIFEST).read_text())
        return data if isinstance(data, dict) and data.get("version") == SYNTH_VERSION else {"version": SYNTH_VERSION}
    except (OSError, ValueError):
        return {"version": SYNTH_VERSION}


def _write_manifest(out_dir: Path, data: dict[str, Any]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / (MANIFEST + ".part")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    tmp.replace(out_dir / MANIFEST)


def _render_all(
    out_dir: Path,
    jobs: Sequence[tuple[str, Arrangement, dict[str, Any]]],
    manifest_key: str,
    progress: Progress | None,
) -> list[tuple[str, Arrangement, dict[str, Any], bool]]:
    """Render each (relative path, arrangement, metadata) unless the manifest says it is already there."""
    manifest = _read_manifest(out_dir)
    entries: dict[str, Any] = manifest.setdefault(manifest_key, {})
    done = []
    for i, (rel, arr, meta) in enumerate(jobs):
        path = out_dir / rel
        fresh = entries.get(rel, {}).get("key") == arr.key() and path.is_file()
        if not fresh:
            t0 = time.perf_counter()
            write_audio(path, render_arrangement(arr), arr.sample_rate)
            entries[rel] = {"key": arr.key(), "arrangement": asdict(arr), **meta}
            _write_manifest(out_dir, manifest)  # after each piece, so an interrupted run resumes
            if progress:
                progress(f"[{i + 1}/{len(jobs)}] {rel} ({time.perf_counter() - t0:.2f} s)")
        elif progress:
            progress(f"[{i + 1}/{len(jobs)}] {rel} (up to date)")
        done.append((rel, arr, meta, not fresh))
    return done


# -- A) the demo library -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoPiece:
    path: Path
    title: str
    character: str  # in words, e.g. "tense, scary"
    moods: tuple[str, ...]  # the AudioSet mood classes it is meant to fit
    source: str  # corpus work it was made from
    key: str  # e.g. "D minor"
    mode: str
    tempo: float
    program: int  # melody's GM program
    program_name: str
    rendered: bool = False  # False when an existing file was reused


def _demo_specs() -> list[tuple[str, str, str, tuple[str, ...], Arrangement]]:
    """(relative path, title, character, moods, arrangement) of each demo piece."""
    A = Arrangement
    return [
        ("Morning Chorale.ogg", "Morning Chorale", "calm, tender, warm", ("tender",),
         A("bach/bwv66.6.mxl", mode="major", tonic=2, tempo=62, velocity=55, velocity_spread=3, accent=3,
           melody_program=48, inner_program=48, bass_program=42, articulation=1.0, reverb=80, seconds=30,
           peak_dbfs=-7, sample_rate=44100, channels=2)),
        ("lullaby_piano.flac", "Lullaby for Piano", "gentle, tender, lulling", ("tender", "happy"),
         A("ryansMammoth/FlowingTideThe.abc", mode="major", tonic=5, tempo=66, velocity=50, velocity_spread=4,
           accent=4, melody_program=0, inner_program=0, bass_program=0, melody_octave=1, accompaniment="arpeggio",
           articulation=1.0, reverb=70, seconds=28, peak_dbfs=-8, sample_rate=22050, channels=1)),
        ("Lament.wav", "Lament", "sad, grieving, dark", ("sad",),
         A("bach/bwv10.7.mxl", mode="minor", tonic=2, tempo=48, velocity=52, velocity_spread=3, accent=3,
           melody_program=42, inner_program=48, bass_program=43, melody_octave=-1, inner_octave=-1, bass_octave=-1,
           articulation=1.0, reverb=60, seconds=32, peak_dbfs=-6, sample_rate=44100, channels=2)),
        ("orchestral/oboe_elegy.ogg", "Oboe Elegy", "sad, lonely, wistful", ("sad", "tender"),
         A("ryansMammoth/ExilesLamentJig.abc", mode="aeolian", tonic=9, tempo=50, velocity=55, velocity_spread=3,
           melody_program=68, inner_program=48, bass_program=42, accompaniment="block", articulation=1.0,
           reverb=60, seconds=30, peak_dbfs=-7, sample_rate=44100, channels=2)),
        ("The Thing in the Cellar.flac", "The Thing in the Cellar", "tense, scary, creeping dread", ("scary",),
         A("bach/bwv101.7.mxl", mode="phrygian", tonic=4, tempo=92, velocity=80, velocity_spread=25, accent=14,
           crescendo=40, melody_program=44, inner_program=44, bass_program=58, melody_octave=-1, inner_octave=-1,
           bass_octave=-1, melody_repeat=4, inner_repeat=4, cluster_prob=0.7, drone_program=47, drone_repeat=6,
           articulation=0.9, reverb=90, seconds=30, peak_dbfs=-1, sample_rate=44100, channels=2)),
        ("orchestral/night_chase.wav", "Night Chase", "frantic, scary, pursuit", ("scary", "exciting"),
         A("ryansMammoth/FlyByNightLancashireClog.abc", mode="locrian", tonic=11, tempo=168, velocity=100,
           velocity_spread=15, accent=12, melody_program=44, inner_program=61, bass_program=58, melody_octave=0,
           bass_octave=-1, bass_repeat=4, accompaniment="block", cluster_prob=0.5, drums="toms", articulation=0.7,
           reverb=50, seconds=26, peak_dbfs=-1, sample_rate=22050, channels=1)),
        ("Iron Fury.ogg", "Iron Fury", "angry, aggressive, violent", ("angry",),
         A("ryansMammoth/BattleTheCashJig.abc", mode="phrygian", tonic=4, tempo=160, velocity=118, velocity_spread=6,
           accent=8, melody_program=30, inner_program=29, bass_program=34, melody_octave=-1, bass_octave=-1,
           bass_repeat=2, inner_repeat=2, accompaniment="power", drums="heavy", articulation=0.75, reverb=25,
           seconds=26, peak_dbfs=-0.5, sample_rate=44100, channels=2)),
        ("war_council.flac", "War Council", "angry, stern, menacing", ("angry", "scary"),
         A("bach/bwv104.6.mxl", mode="minor", tonic=0, tempo=126, velocity=112, velocity_spread=6, accent=12,
           melody_program=61, inner_program=57, bass_program=58, melody_octave=-1, bass_octave=-1, bass_repeat=2,
           cluster_prob=0.25, drums="toms", articulation=0.55, reverb=35, seconds=28, peak_dbfs=-0.5,
           sample_rate=44100, channels=2)),
        ("sunny_reel.wav", "Sunny Reel", "happy, cheerful, sunny", ("happy",),
         A("ryansMammoth/AcaciaReel.abc", mode="major", tonic=7, tempo=124, velocity=88, velocity_spread=6, accent=8,
           melody_program=73, inner_program=25, bass_program=32, melody_octave=1, accompaniment="oompah",
           drums="light", articulation=0.7, reverb=40, seconds=26, peak_dbfs=-2, sample_rate=44100, channels=2)),
        ("Festival Drive.ogg", "Festival Drive", "exciting, energetic, driving", ("exciting", "happy"),
         A("ryansMammoth/AlhambraReel.abc", mode="major", tonic=9, tempo=176, velocity=112, velocity_spread=6,
           accent=10, melody_program=81, inner_program=27, bass_program=38, melody_octave=1, bass_repeat=2,
           accompaniment="power", drums="driving", articulation=0.6, reverb=35, seconds=26, peak_dbfs=-0.5,
           sample_rate=44100, channels=2)),
        ("orchestral/Triumphal Procession.flac", "Triumphal Procession", "triumphant, heroic, victorious",
         ("exciting", "happy"),
         A("bach/bwv108.6.mxl", mode="major", tonic=10, tempo=108, velocity=112, velocity_spread=5, accent=14,
           melody_program=56, inner_program=60, bass_program=57, bass_octave=-1, drone_program=47, drone_repeat=8,
           drums="march", articulation=0.85, reverb=60, seconds=32, peak_dbfs=-0.5, sample_rate=44100, channels=2)),
        ("clockwork_jest.ogg", "Clockwork Jest", "funny, playful, mischievous", ("funny",),
         A("ryansMammoth/BarneysGoatJig.abc", mode="major", tonic=5, tempo=150, velocity=84, velocity_spread=10,
           accent=12, melody_program=72, inner_program=45, bass_program=70, melody_octave=1, leap_prob=0.2,
           accompaniment="oompah", drums="woodblock", articulation=0.28, reverb=25, seconds=24, peak_dbfs=-3,
           sample_rate=44100, channels=2)),
        ("bassoon_caper.wav", "Bassoon Caper", "funny, clumsy, comic", ("funny", "happy"),
         A("ryansMammoth/BlueStockingClog.abc", mode="major", tonic=10, tempo=138, velocity=90, velocity_spread=10,
           accent=14, melody_program=70, inner_program=13, bass_program=58, melody_octave=-1, leap_prob=0.3,
           accompaniment="oompah", articulation=0.3, reverb=20, seconds=24, peak_dbfs=-3, sample_rate=22050,
           channels=1)),
        ("Fog over the Moor.ogg", "Fog over the Moor", "mysterious, ambient, eerie", ("scary", "tender"),
         A("bach/bwv11.6.mxl", mode="dorian", tonic=2, tempo=40, velocity=58, velocity_spread=8, accent=2,
           melody_program=91, inner_program=89, bass_program=95, melody_octave=1, inner_octave=0, bass_octave=-1,
           drone_program=92, articulation=1.0, reverb=127, seconds=34, peak_dbfs=-8, sample_rate=44100,
           channels=2)),
        ("homecoming_hymn.flac", "Homecoming Hymn", "hopeful, warm, uplifting", ("happy", "tender"),
         A("bach/bwv110.7.mxl", mode="major", tonic=7, tempo=80, velocity=78, velocity_spread=4, accent=6,
           crescendo=20, melody_program=19, inner_program=19, bass_program=19, articulation=0.95, reverb=80,
           seconds=30, peak_dbfs=-3, sample_rate=44100, channels=2)),
    ]


def render_demo_library(
    out_dir: Path,
    *,
    seed: int = 0,
    progress: Progress | None = None,
    only: Collection[str] | None = None,
) -> list[DemoPiece]:
    """Render the demo library into `out_dir` (skipping pieces already there with the same parameters).

    `seed` varies the humanising randomness (velocities, leaps, clusters); the same seed gives the same audio.
    `only` restricts it to pieces with these titles or relative paths (tests render a few).
    """
    out_dir = Path(out_dir)
    jobs = []
    for rel, title, character, moods, arr in _demo_specs():
        if only is not None and title not in only and rel not in only:
            continue
        arr = replace(arr, seed=seed)
        meta = {"title": title, "character": character, "moods": list(moods)}
        jobs.append((rel, arr, meta))
    pieces = []
    for rel, arr, meta, rendered in _render_all(out_dir, jobs, "demo", progress):
        # Parse the source only when the key is not fixed by the spec (a re-run then stays instant).
        tonic = load_source(arr.source).tonic_pc if arr.tonic is None else arr.tonic
        pieces.append(
            DemoPiece(
                path=out_dir / rel,
                title=meta["title"],
                character=meta["character"],
                moods=tuple(meta["moods"]),
                source=arr.source,
                key=f"{_PC_NAMES[tonic]} {arr.mode}",
                mode=arr.mode,
                tempo=arr.tempo,
                program=arr.melody_program,
                program_name=program_name(arr.melody_program),
                rendered=rendered,
            )
        )
    return pieces


# -- B) the labelled mood set -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MoodRule:
    """The cue ranges one AudioSet mood class is rendered with (random draws stay inside them)."""

    label: str
    modes: tuple[str, ...]
    tempo: tuple[float, float]  # bpm
    velocity: tuple[int, int]
    velocity_spread: tuple[int, int]  # sound-level variability
    octave: tuple[int, int]  # melody register shift, octaves
    bass_octave: tuple[int, int]
    articulation: tuple[float, float]  # sounding fraction of notated length (legato ≈ 1, staccato < 0.45)
    melody_programs: tuple[int, ...]
    inner_programs: tuple[int, ...]
    bass_programs: tuple[int, ...]
    accompaniments: tuple[str, ...]
    drums: tuple[str, ...]
    sources: tuple[str, ...]  # pools from corpus_pools()
    peak_dbfs: tuple[float, float]  # final level: loud classes near full scale, soft ones well below
    tremolo: tuple[int, ...] = (0,)  # re-strikes per quarter for melody/inner voices
    bass_repeat: tuple[int, ...] = (0,)
    leap_prob: tuple[float, float] = (0.0, 0.0)
    cluster_prob: tuple[float, float] = (0.0, 0.0)
    drone_programs: tuple[int | None, ...] = (None,)
    crescendo: tuple[int, int] = (0, 0)
    reverb: tuple[int, int] = (30, 60)
    why: str = ""


MOOD_RULES: dict[str, MoodRule] = {
    r.label: r
    for r in (
        MoodRule(
            "happy", modes=("major", "major", "mixolydian"), tempo=(112, 144), velocity=(70, 95),
            velocity_spread=(4, 8), octave=(0, 1), bass_octave=(0, 0), articulation=(0.55, 0.8),
            melody_programs=(0, 73, 12, 24, 40, 22), inner_programs=(0, 25, 24, 48), bass_programs=(32, 33, 0),
            accompaniments=("oompah", "arpeggio"), drums=("light", "light", "none"), sources=("reel", "jig", "chorale"),
            peak_dbfs=(-3.0, -1.5),
            why="major mode, fast tempo, high pitch, moderately loud, light/staccato articulation, consonant, "
            "bright timbre (Juslin & Laukka 2003; Gabrielsson & Lindström 2010)",
        ),
        MoodRule(
            "exciting", modes=("major", "major", "lydian"), tempo=(150, 184), velocity=(100, 122),
            velocity_spread=(4, 8), octave=(0, 1), bass_octave=(-1, 0), articulation=(0.45, 0.7),
            melody_programs=(81, 80, 56, 61, 27, 62), inner_programs=(27, 61, 62, 48), bass_programs=(38, 33, 34),
            accompaniments=("power", "oompah"), drums=("driving", "rock"), sources=("reel", "chorale"),
            peak_dbfs=(-1.0, -0.3), bass_repeat=(2, 4),
            why="high arousal and positive valence: fastest tempo, loud, dense rhythm with drums, bright/sharp "
            "timbre; arousal cues dominate (Eerola, Friberg & Bresin 2013)",
        ),
        MoodRule(
            "funny", modes=("major",), tempo=(126, 168), velocity=(72, 100), velocity_spread=(8, 14),
            octave=(0, 1), bass_octave=(-1, 0), articulation=(0.2, 0.4),
            melody_programs=(72, 71, 70, 13, 45, 105), inner_programs=(45, 13, 12), bass_programs=(70, 58, 45),
            accompaniments=("oompah",), drums=("woodblock", "none"), sources=("jig", "reel"),
            peak_dbfs=(-4.0, -2.0), leap_prob=(0.15, 0.35),
            why="Hevner's playful/humorous cluster: fast, major, high pitch, staccato; large leaps and comic "
            "timbres (bassoon, piccolo, pizzicato, xylophone, woodblock)",
        ),
        MoodRule(
            "tender", modes=("major",), tempo=(54, 76), velocity=(38, 62), velocity_spread=(2, 5),
            octave=(0, 1), bass_octave=(0, 0), articulation=(0.95, 1.0),
            melody_programs=(48, 73, 0, 24, 46, 11), inner_programs=(48, 49, 0, 24), bass_programs=(42, 48, 0),
            accompaniments=("arpeggio", "block"), drums=("none",), sources=("chorale", "tune"),
            peak_dbfs=(-10.0, -7.0), reverb=(60, 100),
            why="major, slow, soft, legato, soft timbre, consonant, little variability (Juslin & Laukka 2003 "
            "tenderness; Gabrielsson & Lindström 2010 serenity)",
        ),
        MoodRule(
            "sad", modes=("minor", "aeolian"), tempo=(40, 62), velocity=(35, 60), velocity_spread=(2, 5),
            octave=(-1, 0), bass_octave=(-1, 0), articulation=(0.95, 1.0),
            melody_programs=(42, 68, 70, 60, 69, 0), inner_programs=(48, 49, 19), bass_programs=(43, 42),
            accompaniments=("block",), drums=("none",), sources=("chorale", "tune"),
            peak_dbfs=(-9.0, -6.0), reverb=(50, 90),
            why="minor mode, slow tempo, low pitch, soft, legato, dark timbre, narrow range (Juslin & Laukka 2003 "
            "sadness, the most consistent profile)",
        ),
        MoodRule(
            "scary", modes=("phrygian", "locrian", "minor"), tempo=(84, 132), velocity=(45, 115),
            velocity_spread=(15, 28), octave=(-1, 0), bass_octave=(-1, -1), articulation=(0.6, 1.0),
            melody_programs=(44, 52, 53, 101, 48), inner_programs=(44, 52, 89, 95), bass_programs=(58, 43, 47),
            accompaniments=("block",), drums=("none", "toms"), sources=("chorale", "tune"),
            peak_dbfs=(-4.0, -0.5), tremolo=(0, 4, 6), cluster_prob=(0.4, 0.8), drone_programs=(47, 95, 43),
            crescendo=(15, 45), reverb=(70, 120),
            why="dissonance (minor 2nds, tritones), phrygian/locrian/minor, low register, tremolo, large "
            "sound-level variability and crescendo (Juslin & Laukka 2003 fear; horror-film drones and clusters)",
        ),
        MoodRule(
            "angry", modes=("minor", "phrygian"), tempo=(138, 176), velocity=(105, 127), velocity_spread=(4, 8),
            octave=(-1, 0), bass_octave=(-1, -1), articulation=(0.5, 0.8),
            melody_programs=(30, 29, 61, 62, 57), inner_programs=(29, 30, 61), bass_programs=(34, 38, 58),
            accompaniments=("power",), drums=("heavy", "toms"), sources=("reel", "jig", "chorale"),
            peak_dbfs=(-0.8, -0.2), bass_repeat=(2, 4), cluster_prob=(0.0, 0.3),
            why="minor, fast, loud, sharp/rough timbre (distortion = spectral noise), accented attacks, heavy "
            "percussion (Juslin & Laukka 2003 anger)",
        ),
    )
}


def mood_rules_table() -> list[dict[str, Any]]:
    """`MOOD_RULES` as plain rows (for reports, JSON, a model card)."""
    rows = []
    for r in MOOD_RULES.values():
        row = asdict(r)
        row["melody_programs"] = [program_name(p) for p in r.melody_programs]
        row["inner_programs"] = [program_name(p) for p in r.inner_programs]
        row["bass_programs"] = [program_name(p) for p in r.bass_programs]
        row["drone_programs"] = [None if p is None else program_name(p) for p in r.drone_programs]
        rows.append(row)
    return rows


@dataclass(frozen=True)
class LabelledPiece:
    path: Path
    label: str
    source: str
    mode: str
    tempo: float
    velocity: int
    program: int
    program_name: str
    arrangement: Arrangement
    rendered: bool = False  # False when an existing file was reused
    extra: dict[str, Any] = field(default_factory=dict)


def mood_arrangement(label: str, index: int, *, seed: int = 0, seconds: float = 15.0, sample_rate: int = 22050) -> Arrangement:
    """The `index`-th random draw of class `label`'s rules. Independent of how many pieces are asked for."""
    rule = MOOD_RULES[label]
    rng = np.random.default_rng([seed, sorted(MOOD_RULES).index(label), index])
    pools = corpus_pools()
    pool = pools[str(rng.choice(rule.sources))]
    source = str(pool[int(rng.integers(len(pool)))])

    def pick(options: Sequence[Any]) -> Any:
        value = options[int(rng.integers(len(options)))]
        return value.item() if hasattr(value, "item") else value

    def uni(lo: float, hi: float) -> float:
        return float(rng.uniform(lo, hi))

    def ints(lo: int, hi: int) -> int:
        return int(rng.integers(lo, hi + 1))

    tremolo = pick(rule.tremolo)
    drone = pick(rule.drone_programs)
    return Arrangement(
        source=source,
        mode=pick(rule.modes),
        tonic=ints(0, 11),
        tempo=round(uni(*rule.tempo), 1),
        velocity=ints(*rule.velocity),
        velocity_spread=ints(*rule.velocity_spread),
        accent=ints(4, 14),
        crescendo=ints(*rule.crescendo),
        melody_program=pick(rule.melody_programs),
        inner_program=pick(rule.inner_programs),
        bass_program=pick(rule.bass_programs),
        melody_octave=ints(*rule.octave),
        inner_octave=min(0, ints(*rule.octave)),
        bass_octave=ints(*rule.bass_octave),
        articulation=round(uni(*rule.articulation), 3),
        melody_repeat=tremolo,
        inner_repeat=tremolo,
        bass_repeat=pick(rule.bass_repeat),
        accompaniment=pick(rule.accompaniments),
        leap_prob=round(uni(*rule.leap_prob), 3),
        cluster_prob=round(uni(*rule.cluster_prob), 3),
        drone_program=drone,
        drone_repeat=6 if drone == 47 else 0,  # timpani drone = a roll
        drums=pick(rule.drums),
        reverb=ints(*rule.reverb),
        start_bar=ints(0, 4),
        seconds=seconds,
        peak_dbfs=round(uni(*rule.peak_dbfs), 2),
        sample_rate=sample_rate,
        channels=1,
        seed=int(rng.integers(2**31)),
    )


def render_mood_set(
    out_dir: Path,
    per_class: int,
    *,
    seed: int = 0,
    seconds: float = 15.0,
    progress: Progress | None = None,
    labels: Sequence[str] | None = None,
    sample_rate: int = 22050,
) -> list[LabelledPiece]:
    """Render `per_class` clips for each mood class into `<out_dir>/audio/<label>/<name>.wav`.

    Deterministic for a given seed; piece i of a class is the same whatever `per_class` is, so a larger set
    extends a smaller one. Re-running skips clips already rendered with the same parameters (see the
    manifest in `out_dir`). Clips are mono 16-bit WAV at `sample_rate`.
    """
    if per_class < 0:
        raise ValueError("per_class must be >= 0")
    out_dir = Path(out_dir)
    labels = list(labels) if labels is not None else sorted(MOOD_RULES)
    jobs = []
    for label in labels:
        if label not in MOOD_RULES:
            raise ValueError(f"unknown mood {label!r} (use one of {sorted(MOOD_RULES)})")
        for i in range(per_class):
            arr = mood_arrangement(label, i, seed=seed, seconds=seconds, sample_rate=sample_rate)
            stem = Path(arr.source).stem.replace(".", "_")
            rel = f"audio/{label}/{label}_{i:03d}_{stem}.wav"
            jobs.append((rel, arr, {"label": label}))
    pieces = []
    for rel, arr, meta, rendered in _render_all(out_dir, jobs, "moods", progress):
        pieces.append(
            LabelledPiece(
                path=out_dir / rel,
                label=meta["label"],
                source=arr.source,
                mode=arr.mode,
                tempo=arr.tempo,
                velocity=arr.velocity,
                program=arr.melody_program,
                program_name=program_name(arr.melody_program),
                arrangement=arr,
                rendered=rendered,
            )
        )
    manifest = _read_manifest(out_dir)
    manifest["rules"] = mood_rules_table()
    _write_manifest(out_dir, manifest)
    return pieces
