"""The 15-piece library of `storyscore demo`: clearly different characters, several formats, one
sub-folder and one name with spaces; idempotent through its manifest."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path

from storyscore.demo.arrangement import Arrangement
from storyscore.demo.render import Progress, render_all
from storyscore.demo.theory import PC_NAMES, load_source, program_name


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
    for rel, arr, meta, rendered in render_all(out_dir, jobs, "demo", progress):
        # Parse the source only when the key is not fixed by the spec (a re-run then stays instant).
        tonic = load_source(arr.source).tonic_pc if arr.tonic is None else arr.tonic
        pieces.append(
            DemoPiece(
                path=out_dir / rel,
                title=meta["title"],
                character=meta["character"],
                moods=tuple(meta["moods"]),
                source=arr.source,
                key=f"{PC_NAMES[tonic]} {arr.mode}",
                mode=arr.mode,
                tempo=arr.tempo,
                program=arr.melody_program,
                program_name=program_name(arr.melody_program),
                rendered=rendered,
            )
        )
    return pieces


# -- B) the labelled mood set -------------------------------------------------------------------------------------
