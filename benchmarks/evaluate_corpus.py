"""Every figure of the outside-labelled game-music corpus, in one command.

    .venv/bin/python benchmarks/evaluate_corpus.py            # fetches what is missing, indexes, prints

1. Fetches the corpus (benchmarks/fetch_corpus.py) where it is missing, and analyses every track with
   storyscore's own encoder (the tagger and descriptor functions `index` runs; cached by content hash
   in benchmarks/.cache/corpus_analyses/). Each game's soundtrack is read as one library, as a user's would be.
2. The music reader, leave-one-game-out and nested (for each game the recipe is re-chosen and the model
   refitted on the other games alone): AUC per game and pooled, with bootstrap 95% intervals and n.
3. Every single cue's AUC on its own (each descriptor, each tag), pooled over games, each standardised over
   its own library: a cue that reads backwards on soundtrack music shows here.
4. Story→music retrieval on the pairs of narrative text and music the games' own scripts make: MRR and
   P@5 per space against random and a popularity prior (how often the game's other texts use each track),
   with the music read by the held-out reader (fitted without that game) and the text moods measured from
   the other games' narrative centre (with and without that centre, and the paired change); hubness (the
   largest share of queries any one track is in the top 5 of, against its fair share 5/n).
5. The text reading on those texts: arousal and valence AUC against the signs of the situation they
   are played in.

Writes benchmarks/results/corpus.json. Labels come from the games' own files
(`storyscore.datasets.games`); nothing here is tuned on the figures it prints except where it says
"in-sample".
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
from common import HERE, code_version

from storyscore.audio.encoder import DESCRIPTOR_VERSION, TAGGER_VERSION, TAGGERS, TrackAnalysis
from storyscore.datasets.games import GAMES, load_story_pairs, load_tracks, track_signs
from storyscore.spaces.music_reader import AXES, MusicReader, input_names, reader_inputs
from storyscore.training.music_reader import (
    PRIOR_CUES,
    SHIPPED_GRIDS,
    Recipe,
    bootstrap_auc,
    bootstrap_within_game_auc,
    fit_reader,
    nested_logo_scores,
    roc_auc,
    standardise_by_game,
    weights_version,
    within_game_auc,
)

CORPUS = HERE / ".cache" / "corpus"
ANALYSES = HERE / ".cache" / "corpus_analyses"
RESULTS = HERE / "results" / "corpus.json"
SPACES = ("fused", "va", "tagwords")
LABELLED = ("naev", "zero_ad", "flare", "freedroidrpg")  # the games that label both sides of an axis


def ensure_corpus(corpus: Path, fetch: bool) -> None:
    missing = [g for g in GAMES if not (corpus / g / ".done").exists()]
    if missing and fetch:
        print(f"fetching {', '.join(missing)}", file=sys.stderr)
        subprocess.run([sys.executable, str(HERE / "fetch_corpus.py"), "--dest", str(corpus),
                        "--games", ",".join(missing)], check=True)


def _analyse(path: str, need_tags: bool, need_descriptors: bool) -> dict | str:
    """The parts of a file's analysis that are not cached yet, by storyscore's own encoder functions
    (`analyse_audio` is exactly these two on the same decoded audio)."""
    from storyscore.audio.decode import load_audio
    from storyscore.audio.encoder import ENCODER_RATE, describe_track, tagger_outputs
    from storyscore.errors import AudioDecodeError

    try:
        audio = load_audio(path, ENCODER_RATE)
    except AudioDecodeError as exc:
        return str(exc)
    out: dict = {"duration": len(audio) / ENCODER_RATE}
    if need_tags:
        tags, features, windows = tagger_outputs(audio)
        out.update(features=features, windows=windows, **tags)
    if need_descriptors:
        out["descriptors"] = describe_track(audio).to_dict()
    return out


def _cache_files(cache: Path, digest: str) -> tuple[Path, Path]:
    """Tagger outputs and descriptors are cached apart, each under its own version, so a change to one
    recomputes only that one."""
    tagger_dir = cache / TAGGER_VERSION.replace("/", "_")
    descriptor_dir = cache / DESCRIPTOR_VERSION.replace("/", "_")
    tagger_dir.mkdir(parents=True, exist_ok=True)
    descriptor_dir.mkdir(parents=True, exist_ok=True)
    return tagger_dir / f"{digest}.npz", descriptor_dir / f"{digest}.json"


def _cached(cache: Path, digest: str) -> TrackAnalysis | None:
    from storyscore.audio.descriptors import Descriptors

    tag_file, desc_file = _cache_files(cache, digest)
    if not tag_file.exists() or not desc_file.exists():
        return None
    z = np.load(tag_file)
    d = json.loads(desc_file.read_text())
    return TrackAnalysis(float(d["duration"]), {n: z[n] for n in TAGGERS}, z["features"],
                         Descriptors(**d["descriptors"]), int(z["windows"]))


# The descriptor version before mode_contrast was added (essentia-2): its cached descriptors are upgraded by
# computing mode_contrast alone, on the same excerpt `describe_track` reads, instead of all of them again
# (every other descriptor's code is unchanged; tests/test_essentia_descriptors.py checks describe() adds it).
PREVIOUS_DESCRIPTOR_VERSION = "essentia-1/max90s"


def _upgrade(path: str) -> float | str:
    from storyscore.audio.decode import load_audio
    from storyscore.audio.descriptors import mode_contrast
    from storyscore.audio.encoder import ENCODER_RATE, descriptor_audio
    from storyscore.errors import AudioDecodeError

    try:
        audio = load_audio(path, ENCODER_RATE)
    except AudioDecodeError as exc:
        return str(exc)
    return mode_contrast(descriptor_audio(audio), ENCODER_RATE)


def upgrade_descriptors(paths: Sequence[Path], digests: Sequence[str], cache: Path, label: str) -> None:
    """Descriptors cached under PREVIOUS_DESCRIPTOR_VERSION and missing under DESCRIPTOR_VERSION: copied with
    mode_contrast added."""
    from storyscore.torch_threads import in_order_on_workers

    old_dir = cache / PREVIOUS_DESCRIPTOR_VERSION.replace("/", "_")
    todo = [(p, d) for p, d in zip(paths, digests, strict=True)
            if not _cache_files(cache, d)[1].exists() and (old_dir / f"{d}.json").exists()]
    if not todo:
        return
    print(f"[{label}] {len(todo)} cached descriptors to upgrade (mode_contrast)", file=sys.stderr)
    with in_order_on_workers(lambda w: _upgrade(str(w[0])), todo) as done:
        for (_, d), future in done:
            got = future.result()
            if isinstance(got, str):
                continue
            old = json.loads((old_dir / f"{d}.json").read_text())
            old["descriptors"]["mode_contrast"] = got
            _cache_files(cache, d)[1].write_text(json.dumps(old))


def analyse_files(paths: Sequence[Path], cache: Path = ANALYSES, label: str = "analyse",
                  ) -> list[TrackAnalysis | None]:
    """Each file's analysis by storyscore's own encoder, cached by content hash under `cache` (None where
    the file could not be decoded: reported, not fatal). Shared by the game corpus and VGMIDI's renders."""
    from storyscore.library.store import file_hash
    from storyscore.torch_threads import in_order_on_workers

    digests = [file_hash(Path(p)) for p in paths]
    upgrade_descriptors(paths, digests, cache, label)
    todo = []
    for path, d in zip(paths, digests, strict=True):
        tag_file, desc_file = _cache_files(cache, d)
        if not (tag_file.exists() and desc_file.exists()):
            todo.append((path, d, not tag_file.exists(), not desc_file.exists()))
    if todo:
        print(f"[{label}] {len(todo)} of {len(paths)} files to analyse", file=sys.stderr)
    started = time.perf_counter()
    with in_order_on_workers(lambda w: _analyse(str(w[0]), w[2], w[3]), todo) as done:
        for k, ((path, d, _, _), future) in enumerate(done):
            got = future.result()
            if isinstance(got, str):
                print(f"[{label}] skipped {got}", file=sys.stderr)
                continue
            tag_file, desc_file = _cache_files(cache, d)
            if "features" in got:
                np.savez(tag_file, features=got["features"], windows=got["windows"],
                         **{n: got[n] for n in TAGGERS})
            if "descriptors" in got:
                desc_file.write_text(json.dumps({"duration": got["duration"], "descriptors": got["descriptors"]}))
            if k % 10 == 0:
                print(f"[{label}] {k + 1}/{len(todo)} ({time.perf_counter() - started:.0f} s) {path}",
                      file=sys.stderr)
    return [_cached(cache, d) for d in digests]


def load_items(corpus: Path, cache: Path = ANALYSES) -> list[dict]:
    """Every track of every fetched game with its labels and its analysis (cached by content hash)."""
    tracks = load_tracks(corpus)
    analyses = analyse_files([Path(t.path) for t in tracks], cache)
    items = []
    for t, a in zip(tracks, analyses, strict=True):
        if a is None:
            continue
        items.append({"game": t.game, "path": str(Path(t.path).resolve()), "title": t.title or Path(t.path).stem,
                      "situations": list(t.situations), "signs": track_signs(t), "analysis": a})
    return items


def item_arrays(items: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reader's input rows, each track's game and its (V, A) label signs, in `items` order."""
    x = reader_inputs([it["analysis"] for it in items])
    games = np.array([it["game"] for it in items])
    signs = np.array([it["signs"] for it in items], dtype=np.int64)
    return x, games, signs


def fmt_auc(auc: float, ci: tuple[float, float]) -> str:
    return "–" if np.isnan(auc) else f"{auc:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]"


def reader_section(items: list[dict], x: np.ndarray, games: np.ndarray, signs: np.ndarray,
                   grids: dict[str, str] | None = None) -> tuple[dict, dict[str, list[Recipe]]]:
    """Nested leave-one-game-out figures of the reader (`grids`: the candidates per axis, default the
    shipped reader's); also returns the recipes chosen per held-out game (per axis), which the story
    section reuses."""
    grids = dict(SHIPPED_GRIDS if grids is None else grids)
    names = input_names()
    out: dict = {"grid": grids, "axes": {}}
    held: dict[str, np.ndarray] = {}
    chosen_by_axis = []
    for axis, name in enumerate(AXES):
        scores, chosen = nested_logo_scores(x, signs[:, axis], games, names, grids[name], name)
        held[name] = scores
        chosen_by_axis.append(chosen)
        out["axes"][name] = {"recipes": {g: {"method": r.method, "inputs": r.group, "C": r.c}
                                         for g, r in chosen.items()}}
    print(f"\n## Music reader, leave-one-game-out (nested: recipe re-chosen from the grids {grids} and model "
          "refitted without the held-out game; each game read as its own library). Arousal is the shipped "
          "recipe; valence here is learned from the games' own labels alone, a study: the shipped valence is "
          "learned from VGMIDI's ratings (benchmarks/vgmidi_valence.py)\n")
    print("| game | tracks | " + " | ".join(f"{a} n+/n− | {a} AUC [95% CI]" for a in AXES) + " |")
    print("|---|---|" + "---|---|" * len(AXES))
    rows = {}
    for g in sorted(set(games.tolist())) + ["pooled, pairs within a game", "pooled, across games"]:
        mask = np.ones(len(games), bool) if g.startswith("pooled") else games == g
        cells = []
        entry: dict = {"tracks": int(mask.sum())}
        for axis, name in enumerate(AXES):
            s, lab = held[name][mask], signs[mask, axis]
            if g == "pooled, pairs within a game":
                auc = within_game_auc(s, lab, games[mask])
                ci = bootstrap_within_game_auc(s, lab, games[mask])
            else:
                keep = lab != 0
                auc = roc_auc(s[keep], lab[keep] > 0)
                ci = bootstrap_auc(s[keep], lab[keep] > 0)
            npos, nneg = int((lab > 0).sum()), int((lab < 0).sum())
            cells += [f"{npos}/{nneg}", fmt_auc(auc, ci)]
            entry[name] = {"auc": auc, "ci95": ci, "n_pos": npos, "n_neg": nneg}
        rows[g] = entry
        print(f"| {g} | {int(mask.sum())} | " + " | ".join(cells) + " |")
    out["per_game"] = rows
    out["held_out_scores"] = {name: held[name].tolist() for name in AXES}
    recipes = {g: [chosen_by_axis[0][g], chosen_by_axis[1][g]] for g in chosen_by_axis[0]}
    return out, recipes


# Essentia's standard descriptors that the 40-line reference reading (in the issue that asked for this
# corpus) sums, z-scored over the library, for arousal: tempo, loudness, onset rate, spectral centroid.
REFERENCE_AROUSAL = ("descriptor:log_tempo", "descriptor:loudness", "descriptor:onset_rate",
                     "descriptor:log_brightness")


def alternatives_section(x: np.ndarray, games: np.ndarray, signs: np.ndarray, shipped: dict[str, list[float]],
                         ) -> dict:
    """The readers the shipped one was chosen among, each nested leave-one-game-out on each axis: the
    'prior' and 'cues' grids, and (arousal) the reference's four Essentia descriptors, equally weighted.
    `shipped`: the shipped reader's held-out scores per axis (`reader_section`'s), not computed again."""
    names = input_names()
    out: dict = {}
    print("\n## Music reader: the candidates (nested leave-one-game-out, within-game AUC pooled; per game)\n")
    print("| axis | reader | pooled [95% CI] | across games | " + " | ".join(LABELLED) + " |")
    print("|---|---|---|---|" + "---|" * len(LABELLED))
    for axis, name in enumerate(AXES):
        readers: dict[str, np.ndarray] = {}
        for grid in ("prior", "cues"):
            readers[grid] = (np.asarray(shipped[name]) if grid == SHIPPED_GRIDS[name]
                             else nested_logo_scores(x, signs[:, axis], games, names, grid, name)[0])
        if name == "arousal":
            cols = [names.index(c) for c in REFERENCE_AROUSAL]
            z, _, _ = standardise_by_game(x[:, cols], games, np.ones(len(x), bool))
            readers["essentia reference"] = z.mean(axis=1)
        out[name] = {}
        for label, s in readers.items():
            lab = signs[:, axis]
            keep = lab != 0
            row = {"within": within_game_auc(s, lab, games), "ci95": bootstrap_within_game_auc(s, lab, games),
                   "across": roc_auc(s[keep], lab[keep] > 0),
                   "per_game": {g: within_game_auc(s[games == g], lab[games == g], games[games == g])
                                for g in LABELLED}}
            out[name][label] = row
            mark = " (shipped)" if label == SHIPPED_GRIDS[name] else ""
            print(f"| {name} | {label}{mark} | {fmt_auc(row['within'], row['ci95'])} | {row['across']:.2f} | "
                  + " | ".join("–" if np.isnan(v) else f"{v:.2f}" for v in row["per_game"].values()) + " |")
    return out


def single_cue_section(x: np.ndarray, games: np.ndarray, signs: np.ndarray) -> dict:
    """Each descriptor and tag alone, standardised over its own game: the within-game AUC pooled over games
    (no fitting, so no cross-validation is needed)."""
    names = input_names()
    cols = [j for j, n in enumerate(names) if n.split(":", 1)[0] in ("descriptor", "tag")]
    z, _, _ = standardise_by_game(x[:, cols], games, np.ones(len(x), bool))
    out = {}
    for axis, name in enumerate(AXES):
        res = []
        for k, j in enumerate(cols):
            auc = within_game_auc(z[:, k], signs[:, axis], games)
            ci = bootstrap_within_game_auc(z[:, k], signs[:, axis], games, n_boot=300)
            expected = PRIOR_CUES[name].get(names[j], 0)
            if ci[0] > 0.5:
                reads = "raises" + (" (as expected)" if expected > 0 else " (backwards)" if expected < 0 else "")
            elif ci[1] < 0.5:
                reads = "lowers" + (" (as expected)" if expected < 0 else " (backwards)" if expected > 0 else "")
            else:
                reads = "unclear"
            res.append({"cue": names[j], "auc": auc, "ci95": ci, "expected": expected, "reads": reads})
        out[name] = res
        print(f"\n## Single cues, {name}: within-game AUC pooled over games, each game standardised over itself\n")
        print("| cue | AUC [95% CI] | reads |")
        print("|---|---|---|")
        desc = [r for r in res if r["cue"].startswith("descriptor:")]
        tags = sorted((r for r in res if r["cue"].startswith("tag:")), key=lambda r: -r["auc"])
        backwards = [r for r in tags[6:-6] if "backwards" in r["reads"]]
        for r in desc + tags[:6] + backwards + tags[-6:]:
            print(f"| {r['cue']} | {fmt_auc(r['auc'], r['ci95'])} | {r['reads']} |")
    return out


def mrr_p5(scores: np.ndarray, relevance: np.ndarray) -> dict[str, float]:
    """Micro MRR and P@5 of a (texts, tracks) score matrix, ties scored by their exact expectation
    (storyscore.training.metrics: a constant matrix is the random ranking)."""
    from storyscore.training.metrics import retrieval_metrics

    micro = retrieval_metrics(scores, relevance, ks=(5,)).micro
    return {"mrr": micro["MRR"], "p5": micro["P@5"]}


def paired_mrr_change(new: np.ndarray, old: np.ndarray, rel: np.ndarray, groups: Sequence[str],
                      draws: int = 2000) -> dict:
    """MRR(new) − MRR(old) on the same texts, with a paired bootstrap 95% interval that resamples `groups`
    (the file each text comes from: a conversation's lines are not independent texts)."""
    from storyscore.training.crossmodal import cluster_bootstrap_mean
    from storyscore.training.metrics import retrieval_metrics

    rr_new = retrieval_metrics(new, rel, ks=(5,)).per_query["MRR"]
    rr_old = retrieval_metrics(old, rel, ks=(5,)).per_query["MRR"]
    diff = rr_new - rr_old
    return {"change": float(diff.mean()), "ci95": cluster_bootstrap_mean(diff, groups, n_boot=draws),
            "texts": len(diff), "groups": len(set(groups))}


class StoryQueries(NamedTuple):
    """One game's story→music test."""

    idx: list[int]  # its tracks, as indices into the corpus items
    texts: list[str]  # the texts whose music is among them
    rel: np.ndarray  # (texts, tracks) relevance
    sources: list[str]  # the file each text comes from


def story_queries(items: list[dict], corpus: Path) -> dict[str, StoryQueries]:
    """Per game with story pairs, its story→music test."""
    by_game: dict[str, list] = defaultdict(list)
    for p in load_story_pairs(corpus):
        by_game[p.game].append(p)
    out = {}
    for game in sorted(by_game):
        idx = [k for k, it in enumerate(items) if it["game"] == game]
        paths = [items[k]["path"] for k in idx]
        queries = []
        for p in by_game[game]:
            wanted = {str(Path(u).resolve()) for u in p.tracks}
            rel = np.array([t in wanted for t in paths])
            if rel.any():
                queries.append((p.text, rel, p.source.rsplit(":", 1)[0]))
        if idx and queries:
            out[game] = StoryQueries(idx, [q[0] for q in queries], np.stack([q[1] for q in queries]),
                                     [q[2] for q in queries])
    return out


def story_section(items: list[dict], x: np.ndarray, games: np.ndarray, signs: np.ndarray,
                  stories: dict[str, StoryQueries], recipes_by_game: dict[str, list[Recipe]],
                  reader_without: Callable[[str], MusicReader] | None = None) -> dict:
    """The games' text–music pairs per space against baselines. The music is read by `reader_without(game)`
    (the shipped procedure without that game: benchmarks/vgmidi_valence.readers_without) or, without it, by
    a reader fitted on the other games alone with `recipes_by_game`."""
    from storyscore.spaces import get_space
    from storyscore.spaces.zeroshot import read_music, read_text
    from storyscore.spaces.zeroshot_spaces import library_relative
    from storyscore.training.mood_centre import mood_centre

    out: dict = {}
    rng = np.random.default_rng(0)
    print("\n## Story → music: the games' own text–music pairs (music read by the reader fitted without "
          "that game, text moods measured from the other games' narrative centre)\n")
    print("| game | texts | tracks | space | MRR | P@5 | largest top-5 share / fair share |")
    print("|---|---|---|---|---|---|---|")
    from storyscore.training.music_reader import SHRINK_TRACKS

    text_rows = []
    for game, (idx, texts, rel, sources) in stories.items():
        paths = [items[k]["path"] for k in idx]
        # The reader for this game: nothing of it seen in choosing or fitting.
        if reader_without is not None:
            reader = reader_without(game)
        else:
            train = games != game
            tensors, used = fit_reader(x[train], signs[train], games[train], recipes_by_game[game])
            card = {"inputs": used, "shrink_tracks": SHRINK_TRACKS, "version": weights_version(tensors)}
            reader = MusicReader(tensors, card)
        analyses = [items[k]["analysis"] for k in idx]
        usage = rel.sum(axis=0).astype(float)
        entry: dict = {"texts": len(texts), "tracks": len(paths)}
        n = len(paths)
        # Baselines (ties scored by their exact expectation). Random. Popularity, leave one game out: the kind of music the other
        # games pair with their texts (the mean reading of their story tracks, each game weighted equally),
        # the same for every text. Popularity within the game, leave this text out: how often the game's
        # other texts use each track (a designer's favourites: a ceiling no emotion reading is expected to
        # reach where one track carries most texts).
        # The prior twice: in the reader's own frame, and relative to each library (the frame the va space
        # compares in: "calmer than the rest of this soundtrack"); the stronger of the two is the bar.
        centres, relative_centres = [], []
        for other, (o_idx, _, o_rel, _) in stories.items():
            if other == game:
                continue
            o_va = read_music([items[k]["analysis"] for k in o_idx], reader=reader).va
            o_use = o_rel.sum(axis=0).astype(float)
            centres.append(o_use @ o_va / o_use.sum())
            relative_centres.append(o_use @ library_relative(o_va) / o_use.sum())
        reading = read_music(analyses, reader=reader, cues=False)  # serves the prior and every space
        prior = -np.linalg.norm(reading.va - np.mean(centres, axis=0), axis=1) if centres else np.zeros(n)
        relative_prior = (-np.linalg.norm(library_relative(reading.va) - np.mean(relative_centres, axis=0), axis=1)
                          if relative_centres else np.zeros(n))
        entry["random"] = mrr_p5(np.zeros(rel.shape), rel)
        entry["popularity_logo"] = mrr_p5(np.tile(prior, (len(rel), 1)), rel)
        entry["popularity_logo_relative"] = mrr_p5(np.tile(relative_prior, (len(rel), 1)), rel)
        entry["popularity_in_game"] = mrr_p5(usage[None, :] - rel, rel)  # each text's own use left out
        fair = min(5, n) / n
        over = []  # what random rankings give: with few texts, some tracks exceed 2x by chance
        for _ in range(200):
            top = np.argsort(rng.random((len(texts), n)), axis=1)[:, :5]
            over.append(int((np.bincount(top.ravel(), minlength=n) / len(texts) > 2 * fair).sum()))
        entry["random"]["tracks_over_twice_fair"] = float(np.mean(over))
        print(f"| {game} | {len(texts)} | {n} | random | {entry['random']['mrr']:.3f} | {entry['random']['p5']:.3f} | "
              f"({np.mean(over):.1f} over 2× on average) |")
        print(f"| | | | popularity, other games | {entry['popularity_logo']['mrr']:.3f} | "
              f"{entry['popularity_logo']['p5']:.3f} | |")
        print(f"| | | | popularity, other games, library-relative | "
              f"{entry['popularity_logo_relative']['mrr']:.3f} | {entry['popularity_logo_relative']['p5']:.3f} | |")
        print(f"| | | | (popularity in the game, other texts) | {entry['popularity_in_game']['mrr']:.3f} | "
              f"{entry['popularity_in_game']['p5']:.3f} | |")
        # The narrative mood centre the text moods are measured from, from the other games' texts alone; the
        # rows marked "no centre" measure them from zero, as storyscore did before.
        centre = mood_centre({o: q.texts for o, q in stories.items() if o != game})
        variants = [(name, name, centre) for name in SPACES]
        variants += [(f"{name}, no centre", name, np.zeros_like(centre)) for name in SPACES if name != "va"]
        all_scores = {}
        for label, space_name, space_centre in variants:
            space = get_space(space_name, reader=reader, mood_centre=space_centre)
            scores = all_scores[label] = space.similarity(space.embed_text(texts), space.music_vectors(reading))
            top5 = np.argsort(-scores, axis=1)[:, :5]
            share = np.bincount(top5.ravel(), minlength=n) / len(texts)
            entry[label] = {**mrr_p5(scores, rel), "max_top5_share": float(share.max()), "fair_share": fair,
                            "tracks_over_twice_fair": int((share > 2 * fair).sum())}
            e = entry[label]
            print(f"| | | | {label} | {e['mrr']:.3f} | {e['p5']:.3f} | {e['max_top5_share']:.2f} / "
                  f"{fair:.2f} ({e['tracks_over_twice_fair']} over 2×) |")
        entry["centre_change"] = {name: paired_mrr_change(all_scores[name], all_scores[f"{name}, no centre"], rel,
                                                    sources)
                                  for name in SPACES if name != "va"}
        out[game] = entry
        # text reading against the situation of the music the game plays with each text
        va = read_text(texts)[1].va
        for q, r in enumerate(rel):
            s = np.array([items[idx[i]]["signs"] for i in np.flatnonzero(r)])
            text_rows.append((game, va[q], np.sign(s.sum(axis=0)) if len(s) else np.zeros(2)))
    print("\n## What the narrative mood centre changes: MRR with it minus without it, same texts (paired "
          "bootstrap 95% interval, resampling the files the texts come from)\n")
    print("| game | texts | files | " + " | ".join(name for name in SPACES if name != "va") + " |")
    print("|---|---|---|" + "---|" * (len(SPACES) - 1))
    for game, entry in out.items():
        cells = [f"{c['change']:+.3f} [{c['ci95'][0]:+.3f}, {c['ci95'][1]:+.3f}]"
                 for c in entry["centre_change"].values()]
        groups = next(iter(entry["centre_change"].values()))["groups"]
        print(f"| {game} | {entry['texts']} | {groups} | " + " | ".join(cells) + " |")
    text_out = {}
    if text_rows:
        print("\n## Text reading on the games' texts, against the signs of the music they are played with\n")
        print("| axis | n+ / n− | AUC [95% CI] |")
        print("|---|---|---|")
        for axis, name in enumerate(AXES):
            s = np.array([r[1][axis] for r in text_rows])
            lab = np.array([r[2][axis] for r in text_rows])
            keep = lab != 0
            auc = roc_auc(s[keep], lab[keep] > 0)
            ci = bootstrap_auc(s[keep], lab[keep] > 0)
            text_out[name] = {"auc": auc, "ci95": ci, "n_pos": int((lab > 0).sum()), "n_neg": int((lab < 0).sum())}
            print(f"| {name} | {int((lab > 0).sum())} / {int((lab < 0).sum())} | {fmt_auc(auc, ci)} |")
    return {"retrieval": out, "text": text_out}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--no-fetch", action="store_true", help="use only what is already fetched")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--full-grid", action="store_true", help="also report the reader chosen from the full grid "
                    "(fitted pointwise and pairwise models as well as cue models)")
    args = ap.parse_args(argv)
    ensure_corpus(args.corpus, not args.no_fetch)
    items = load_items(args.corpus)
    x, games, signs = item_arrays(items)

    print("\n## Corpus\n")
    print("| game | tracks | hours | V+ | V− | A+ | A− |")
    print("|---|---|---|---|---|---|---|")
    corpus_rows = {}
    for g in sorted(set(games.tolist())):
        m = games == g
        hours = sum(it["analysis"].duration for it, k in zip(items, m, strict=True) if k) / 3600
        row = [int((signs[m, 0] > 0).sum()), int((signs[m, 0] < 0).sum()), int((signs[m, 1] > 0).sum()),
               int((signs[m, 1] < 0).sum())]
        corpus_rows[g] = {"tracks": int(m.sum()), "hours": hours, "V+": row[0], "V-": row[1], "A+": row[2],
                          "A-": row[3]}
        print(f"| {g} | {int(m.sum())} | {hours:.2f} | " + " | ".join(map(str, row)) + " |")

    results = {"code": code_version(), "corpus": corpus_rows}
    results["reader"], recipes = reader_section(items, x, games, signs)
    if args.full_grid:
        results["reader_full_grid"], _ = reader_section(items, x, games, signs, {a: "full" for a in AXES})
    results["reader_alternatives"] = alternatives_section(x, games, signs, results["reader"]["held_out_scores"])
    results["single_cues"] = single_cue_section(x, games, signs)
    from vgmidi_valence import game_readers

    results["stories"] = story_section(items, x, games, signs, story_queries(items, args.corpus), recipes,
                                       game_readers(items))
    results["tracks"] = [{k: it[k] for k in ("game", "title", "situations", "signs")} for it in items]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, default=float) + "\n")
    print(f"\nwrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
