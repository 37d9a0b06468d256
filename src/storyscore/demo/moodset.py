"""Labelled mood sets for the research side: the seven AudioSet moods, each clip a corpus piece rendered
with cues drawn within its mood's rule ranges (`MOOD_RULES`, from music-psychology research)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from storyscore.demo.arrangement import Arrangement
from storyscore.demo.render import Progress, read_manifest, render_all, write_manifest
from storyscore.demo.theory import corpus_pools, program_name


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
    for rel, arr, meta, rendered in render_all(out_dir, jobs, "moods", progress):
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
    manifest = read_manifest(out_dir)
    manifest["rules"] = mood_rules_table()
    write_manifest(out_dir, manifest)
    return pieces
