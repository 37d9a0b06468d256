"""VGMIDI rendered and analysed by storyscore's own pipeline: the human-rated music of issue #21.

    .venv/bin/python benchmarks/vgmidi_corpus.py            # renders what is missing, analyses, prints counts

Every labelled piece of ``../shared/data/vgmidi`` (`storyscore.datasets.vgmidi`) is rendered offline twice,
each cut to RENDER_SECONDS (3 s fade): as written (piano, midirenderer + TimGM6mb, the demo's renderer) and
with every melodic program changed to STRINGS_PROGRAM (a second timbre, for training augmentation and a
robustness figure: a valence reading should not depend on the piano's sound). Renders are cached in
benchmarks/.cache/vgmidi/, analyses (by content hash) in benchmarks/.cache/vgmidi_analyses/ with the same
cache code as the game corpus (`evaluate_corpus.analyse_files`). The files stay in the cache: VGMIDI states
no licence, so nothing rendered from it is ever copied into the repository or shipped.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
from common import HERE, SHARED_DATA

from storyscore.audio.encoder import TrackAnalysis

VGMIDI = SHARED_DATA / "vgmidi"
RENDERS = HERE / ".cache" / "vgmidi"
ANALYSES = HERE / ".cache" / "vgmidi_analyses"
RENDER_SECONDS = 90.0  # the descriptors read at most 90 s anyway (audio.encoder.DESCRIPTOR_SECONDS)
STRINGS_PROGRAM = 48  # General MIDI "String Ensemble 1" (0-based)
TIMBRES: tuple[str, ...] = ("piano", "strings")
DRUM_CHANNEL = 9


def with_program(midi_bytes: bytes, program: int) -> bytes:
    """The MIDI file with every melodic channel playing `program`: existing program changes rewritten, and
    one added at the start of each track for channels that never set one (GM's default is the piano)."""
    import mido

    mid = mido.MidiFile(file=io.BytesIO(midi_bytes))
    for track in mid.tracks:
        channels: set[int] = set()
        for k, msg in enumerate(track):
            if msg.type == "program_change" and msg.channel != DRUM_CHANNEL:
                track[k] = msg.copy(program=program)
            elif hasattr(msg, "channel") and msg.channel != DRUM_CHANNEL:
                channels.add(msg.channel)
        for ch in sorted(channels):
            track.insert(0, mido.Message("program_change", channel=ch, program=program, time=0))
    out = io.BytesIO()
    mid.save(file=out)
    return out.getvalue()


def render(midi: Path, out: Path, timbre: str) -> None:
    """One piece rendered (fetch_corpus.render_midi_file: midirenderer + TimGM6mb, cut and normalised)."""
    from fetch_corpus import render_midi_file

    if timbre == "piano":
        render_midi_file(midi, out, RENDER_SECONDS)
        return
    tmp = out.with_suffix(".mid")
    tmp.write_bytes(with_program(midi.read_bytes(), STRINGS_PROGRAM))
    try:
        render_midi_file(tmp, out, RENDER_SECONDS)
    finally:
        tmp.unlink(missing_ok=True)


def render_path(item_id: str, timbre: str, renders: Path = RENDERS) -> Path:
    return renders / timbre / f"{item_id}.ogg"


def load_vgmidi(root: Path = VGMIDI, renders: Path = RENDERS, cache: Path = ANALYSES,
                timbres: tuple[str, ...] = TIMBRES) -> list[dict] | None:
    """Every piece with its labels and each timbre's analysis ({"analysis": {timbre: TrackAnalysis}});
    None (said in one line) when the VGMIDI folder is not there."""
    from evaluate_corpus import analyse_files

    from storyscore.datasets import vgmidi

    if not (root / vgmidi.LABELS_FILE).is_file():
        print(f"[vgmidi] {root} is missing: VGMIDI figures skipped", file=sys.stderr)
        return None
    data = vgmidi.load(root)
    for issue in data.issues:
        print(f"[vgmidi] {issue}", file=sys.stderr)
    by_timbre: dict[str, list[TrackAnalysis | None]] = {}
    for timbre in timbres:
        todo = [it for it in data.items if not render_path(it.id, timbre, renders).exists()]
        for k, it in enumerate(todo):
            out = render_path(it.id, timbre, renders)
            out.parent.mkdir(parents=True, exist_ok=True)
            try:
                render(it.midi, out, timbre)
            except Exception as exc:  # a broken MIDI file is skipped and reported, never fatal
                print(f"[vgmidi] cannot render {it.midi.name} ({timbre}): {exc}", file=sys.stderr)
            if k % 20 == 0:
                print(f"[vgmidi] rendered {k + 1}/{len(todo)} ({timbre})", file=sys.stderr)
        paths = [render_path(it.id, timbre, renders) for it in data.items]
        present = [p for p in paths if p.exists()]
        got = dict(zip(present, analyse_files(present, cache, f"vgmidi {timbre}"), strict=True))
        by_timbre[timbre] = [got.get(p) for p in paths]
    items = []
    for k, it in enumerate(data.items):
        analyses = {t: by_timbre[t][k] for t in timbres}
        if any(a is None for a in analyses.values()):
            continue
        items.append({"id": it.id, "series": it.series, "game": it.game, "piece": it.piece,
                      "signs": (it.valence, it.arousal), "analysis": analyses,
                      "render": {t: str(render_path(it.id, t, renders)) for t in timbres}})
    return items


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=VGMIDI)
    ap.add_argument("--timbres", default=",".join(TIMBRES))
    args = ap.parse_args()
    items = load_vgmidi(args.root, timbres=tuple(args.timbres.split(",")))
    if items is None:
        return
    signs = np.array([it["signs"] for it in items])
    print(f"items {len(items)}; series {len({it['series'] for it in items})}; V+ {(signs[:, 0] > 0).sum()} "
          f"V- {(signs[:, 0] < 0).sum()} A+ {(signs[:, 1] > 0).sum()} A- {(signs[:, 1] < 0).sum()}")


if __name__ == "__main__":
    main()
