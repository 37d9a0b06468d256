"""Every reading against people's ratings, in one command: text, music, and text→music.

    .venv/bin/python benchmarks/evaluate_human.py        # renders and analyses what is missing first

1. Text: the shipped reading of EmoBank's dev sentences (1,000, rated by people for V and A) against their
   ratings: Pearson r with bootstrap 95% intervals, overall and per genre. EmoBank's test split is
   reserved and never read.
2. Music: VGMIDI (piano game pieces, valence and arousal signs from 30 raters), rendered offline and read
   by the product's pipeline: the shipped reader's valence and arousal AUC, and the reader refitted without
   each series (leave-one-series-out), overall and per arousal half.
3. Text → music, the paper's protocol with outside labels on both sides: EmoBank dev sentences (and runs of
   three consecutive sentences of one document) query the rendered VGMIDI pieces, relevant = same
   valence–arousal quadrant (`storyscore.training.crossmodal`), per space, against random, and with either
   side replaced by its human ratings (the other side's ceiling); spaces saved by `storyscore train` join the
   table with `--model DIR` (repeatable).

Reads ``../shared/data/{emobank,vgmidi}`` (or ``STORYSCORE_SHARED_DATA``); writes benchmarks/results/human.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from common import HERE, code_version, shared_data

RESULTS = HERE / "results" / "human.json"
SPACES = ("fused", "va", "tagwords")


def fmt_r(r: tuple[float, float, float]) -> str:
    return f"{r[0]:.3f} [{r[1]:.3f}, {r[2]:.3f}]"


def load_emobank(root: Path) -> tuple[list, list]:
    """(train, dev) items of EmoBank; the file holds no test rows, and any it held would be skipped."""
    from storyscore.datasets import emobank

    items = emobank.load(root / "emobank" / "emobank_train_dev.csv").items
    return [it for it in items if it.split == "train"], [it for it in items if it.split == "valid"]


def text_section(dev: list) -> tuple[dict, np.ndarray]:
    """The shipped text reading of each dev sentence against its ratings; also returns the readings."""
    from storyscore.spaces.zeroshot import read_text
    from storyscore.training.text_va import bootstrap_r

    texts = [it.text for it in dev]
    reading = read_text(texts)[1].va  # the frame every space compares in
    human = np.array([[it.valence, it.arousal] for it in dev])
    genres = np.array([it.genre for it in dev])
    out: dict = {"n": len(dev)}
    print("\n## Text: EmoBank dev, the shipped reading against people's ratings (Pearson r [95% CI])\n")
    print("| sentences | n | valence | arousal |")
    print("|---|---|---|---|")
    for genre in ["all", *sorted(set(genres.tolist()))]:
        m = np.ones(len(dev), bool) if genre == "all" else genres == genre
        rv, ra = bootstrap_r(reading[m, 0], human[m, 0]), bootstrap_r(reading[m, 1], human[m, 1])
        out[genre] = {"n": int(m.sum()), "valence": list(rv), "arousal": list(ra)}
        print(f"| {genre} | {int(m.sum())} | {fmt_r(rv)} | {fmt_r(ra)} |")
    return out, reading


def crossmodal_section(train: list, dev: list, text_reading: np.ndarray, pieces: Sequence[dict],
                       reader_without: Callable[[str], object], models: Sequence[Path] = ()) -> dict:
    """The paper's protocol on EmoBank dev → VGMIDI (module docstring, item 3)."""
    from storyscore.spaces import get_space
    from storyscore.spaces.zeroshot import read_music
    from storyscore.training.crossmodal import QuadrantRule, consecutive_windows, protocol_row, same_quadrant
    from storyscore.training.crossmodal import va_distance_scores as va_scores

    # quadrants on the 1–5 scale: the loader's centred (x − 3) / 2 back to it
    def scale(items: Sequence, axis: str) -> np.ndarray:
        return np.array([3.0 + 2.0 * getattr(it, axis) for it in items])

    rule = QuadrantRule.from_train(scale(train, "valence"), scale(train, "arousal"),
                                   arousal_cut=float(np.median(scale(dev, "arousal"))))
    analyses = [p["analysis"] for p in pieces]
    from storyscore.spaces.registry import load_model

    trained = {Path(m).name: load_model(m) for m in models}
    trained_music = {name: model.embed_audio(analyses) for name, model in trained.items()}
    series = np.array([p["series"] for p in pieces])
    music_signs = np.array([[p["valence"], p["arousal"]] for p in pieces], dtype=np.int64)
    # each piece read by the reader fitted without its series, standardised over the whole VGMIDI library
    readings = {s: read_music(analyses, reader=reader_without(s), cues=False) for s in sorted(set(series))}

    def music_vectors(space_name: str) -> np.ndarray:
        rows = None
        for s, reading in readings.items():
            vecs = get_space(space_name, reader=reader_without(s)).music_vectors(reading)
            rows = np.zeros_like(vecs) if rows is None else rows
            rows[series == s] = vecs[series == s]
        assert rows is not None
        return rows

    music_va = music_vectors("va")
    dev_v, dev_a = scale(dev, "valence"), scale(dev, "arousal")
    human_frame = np.stack([(dev_v - rule.valence_cut) / (2 * rule.valence_margin),
                            (dev_a - rule.arousal_cut) / (2 * rule.arousal_margin)], axis=1)
    genres = np.array([it.genre for it in dev])
    documents = [it.document for it in dev]

    queries: dict[str, tuple[list[list[int]], str]] = {
        "sentences": ([[i] for i in range(len(dev))], "one EmoBank dev sentence each"),
        "fiction, 3 consecutive sentences": (
            consecutive_windows([it.id for i, it in enumerate(dev) if genres[i] == "fiction"],
                                [documents[i] for i in range(len(dev)) if genres[i] == "fiction"]),
            "Alm-style: consecutive fiction sentences of one document"),
        "all genres, 3 consecutive sentences": (consecutive_windows([it.id for it in dev], documents),
                                                "consecutive sentences of one document, any genre"),
    }
    fiction_rows = np.flatnonzero(genres == "fiction")
    out: dict = {"rule": rule.__dict__, "pieces": len(pieces), "music_quadrants": {
        f"{v:+d}/{a:+d}": int(((music_signs[:, 0] == v) & (music_signs[:, 1] == a)).sum())
        for v in (1, -1) for a in (1, -1)}, "queries": {}}
    print("\n## Text → music: EmoBank dev queries, VGMIDI pieces, relevant = same quadrant\n")
    print(f"Quadrant cuts: V {rule.valence_cut:g} ± {rule.valence_margin:.3f}, A {rule.arousal_cut:g} ± "
          f"{rule.arousal_margin:.3f} (texts within a margin dropped). {len(pieces)} pieces, read by the "
          "reader fitted without their series. P@5 / MRR [95% CI over documents]; random in brackets.\n")
    print("| queries | n | ranking | P@5 | MRR | P@5 − random [CI] |")
    print("|---|---|---|---|---|---|")
    for qname, (windows, what) in queries.items():
        if qname.startswith("fiction"):
            windows = [[int(fiction_rows[j]) for j in w] for w in windows]
        mean_of = np.array([[dev_v[w].mean(), dev_a[w].mean()] for w in windows])
        signs = rule.quadrants(mean_of[:, 0], mean_of[:, 1])
        keep = (signs != 0).all(axis=1)
        win = [w for w, k in zip(windows, keep, strict=True) if k]
        rel = same_quadrant(signs[keep], music_signs)
        groups = [documents[w[0]] for w in win]
        texts = [" ".join(dev[i].text for i in w) for w in win]
        own_va = np.array([text_reading[w].mean(axis=0) for w in win]) if qname == "sentences" else None
        rows: dict[str, dict] = {}
        for space_name in SPACES:
            space = get_space(space_name)
            text_vecs = space.embed_text(texts)
            rows[space_name] = protocol_row(space.similarity(text_vecs, music_vectors(space_name)), rel, groups)
        for name, model in trained.items():  # never fitted on VGMIDI or EmoBank: nothing to hold out
            rows[f"trained: {name}"] = protocol_row(model.similarity(model.embed_text(texts), trained_music[name]),
                                                    rel, groups)
        text_va = own_va if own_va is not None else get_space("va").embed_text(texts)
        rows["text: people (music side's ceiling, va form)"] = protocol_row(
            va_scores(human_frame[[w[0] for w in win]] if qname == "sentences" else
                      np.array([human_frame[w].mean(axis=0) for w in win]), music_va), rel, groups)
        rows["music: people (text side's ceiling, va form)"] = protocol_row(
            va_scores(text_va, music_signs.astype(np.float64)), rel, groups)
        out["queries"][qname] = {"what": what, "n": len(win), "rows": rows}
        for rname, row in rows.items():
            gain = row["P@5_over_random_ci"]
            print(f"| {qname} | {len(win)} | {rname} | {row['P@5']:.3f} ({row['P@5_random']:.3f}) | "
                  f"{row['MRR']:.3f} ({row['MRR_random']:.3f}) | {row['P@5'] - row['P@5_random']:+.3f} "
                  f"[{gain[0]:+.3f}, {gain[1]:+.3f}] |")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-fetch", action="store_true", help="use only the corpus and renders already there")
    ap.add_argument("--skip-studies", action="store_true",
                    help="skip the VGMIDI valence study and the game-corpus tables (their own scripts print them)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--model", type=Path, action="append", default=[],
                    help="a space saved by `storyscore train` to add to the text → music table (repeatable)")
    args = ap.parse_args(argv)
    root = shared_data("emobank", "vgmidi")
    train, dev = load_emobank(root)
    results: dict = {"code": code_version()}
    results["text"], reading = text_section(dev)

    import evaluate_corpus
    import vgmidi_valence
    from vgmidi_corpus import load_vgmidi
    from vgmidi_valence import VGMIDI_FOLD, readers_without

    if not args.skip_studies:
        print("\n# Music: VGMIDI (benchmarks/vgmidi_valence.py)")
        vgmidi_valence.main(["--timbres", "piano", "--stage", "cues,candidates,nested,arousal"])
        print("\n# Music: the game corpus (benchmarks/evaluate_corpus.py)")
        evaluate_corpus.main(["--no-fetch"] if args.no_fetch else [])
    evaluate_corpus.ensure_corpus(evaluate_corpus.CORPUS, not args.no_fetch)
    items = evaluate_corpus.load_items(evaluate_corpus.CORPUS)
    pieces = load_vgmidi(root / "vgmidi", timbres=("piano",))
    assert pieces is not None
    without = readers_without(items, pieces)  # before the analyses below are narrowed to the piano renders

    def readers(series: str) -> object:
        return without(VGMIDI_FOLD + series)

    for p in pieces:  # the protocol reads the piano renders, as the shipped reader was fitted on them
        p["analysis"], (p["valence"], p["arousal"]) = p["analysis"]["piano"], p["signs"]
    results["crossmodal"] = crossmodal_section(train, dev, reading, pieces, readers, args.model)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
