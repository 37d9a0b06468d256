"""The labelled-data options and loading that `train` and `evaluate` share (the research side)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from storyscore.cli._common import Progress, add_quiet


def add_labelled_data(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--text", required=True, help="labelled passages: a CSV with text,label columns, or a "
                   "dataset in its publisher's format (see --text-kind)")
    p.add_argument("--text-kind", default="folder", help="folder (CSV text,label; default), alm, isear, emobank")
    p.add_argument("--music", required=True, help="labelled audio: a folder audio/<label>/*.* (or AudioSet "
                   "segment CSVs with --music-kind audioset --audio-dir DIR)")
    p.add_argument("--music-kind", default="folder", help="folder (default) or audioset")
    p.add_argument("--audio-dir", help="where the AudioSet clips are (named by YouTube id)")
    add_quiet(p)
    return p


def labelled_data(args: argparse.Namespace, space: str) -> Any:  # -> training.experiment.LabelledData
    from storyscore.training.experiment import features_for, load_labelled

    with Progress("reading labelled audio", args.quiet) as progress:
        data = load_labelled(args.text, args.music, text_kind=args.text_kind, music_kind=args.music_kind,
                             audio_dir=args.audio_dir, progress=progress, features=features_for(space))
    for issue in data.issues:
        print(f"skipped row {issue}", file=sys.stderr)
    for path, reason in data.skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    print(f"{len(data.texts)} labelled passages, {data.n_clips} labelled clips", file=sys.stderr)
    return data
