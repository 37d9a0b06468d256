"""Fit the narrative mood centre on the game corpus's story texts, and write it with its card.

    .venv/bin/python benchmarks/fit_mood_centre.py      # fetches and analyses what is missing first

The `tagwords` and `fused` spaces measure a passage's mood profile from this centre, as they measure a
track's from its library's mean. The centre is the mean text mood profile of the narrative texts the games'
scripts pair with music (naev, flare, freedroidrpg, megaglest), each game weighted equally. The card's
figures are leave-one-game-out (each game scored with the centre of the other games' texts), from the same
story section benchmarks/evaluate_corpus.py prints. Writes src/storyscore/data/text_mood_centre.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from common import code_version
from evaluate_corpus import (
    CORPUS,
    ensure_corpus,
    item_arrays,
    load_items,
    reader_section,
    story_queries,
    story_section,
)

from storyscore.lexicon.vocab import MOOD_WORDS
from storyscore.spaces.zeroshot import MOOD_CENTRE_FILE
from storyscore.training.mood_centre import mood_centre

OUT = Path(__file__).resolve().parents[1] / "src" / "storyscore" / "data" / MOOD_CENTRE_FILE


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--no-fetch", action="store_true")
    args = ap.parse_args()
    ensure_corpus(args.corpus, not args.no_fetch)
    items = load_items(args.corpus)
    x, games, signs = item_arrays(items)
    _, recipes = reader_section(items, x, games, signs)
    queries = story_queries(items, args.corpus)
    from vgmidi_valence import game_readers

    stories = story_section(items, x, games, signs, queries, recipes, game_readers(items))["retrieval"]
    texts = {game: q.texts for game, q in queries.items()}
    centre = mood_centre(texts)
    figures = {game: {space: {k: entry[space][k] for k in ("mrr", "p5", "max_top5_share", "fair_share")}
                      for space in ("fused", "tagwords", "fused, no centre", "tagwords, no centre")}
               | {"random": {"mrr": entry["random"]["mrr"], "p5": entry["random"]["p5"]}}
               for game, entry in stories.items()}
    card = {
        "name": "storyscore narrative mood centre",
        "format": 1,
        "task": "the mean mood profile of story text; `tagwords` and `fused` subtract it from a passage's "
                "mood profile before comparing it with tracks' (storyscore.spaces.zeroshot.narrative_mood_centre)",
        "io": {"centre": f"({len(MOOD_WORDS)},) float, one per mood word, in `mood_words` order, on the scale "
                         "of storyscore.spaces.zeroshot.read_text(...).moods"},
        "mood_words": list(MOOD_WORDS),
        "centre": [round(float(v), 6) for v in centre],
        "data": {"texts_per_game": {g: len(t) for g, t in texts.items()},
                 "source": "the narrative texts the games' own scripts pair with music "
                           "(storyscore.datasets.games story pairs whose music is in the corpus)",
                 "weighting": "the mean of each game's mean profile (games weighted equally)"},
        "metrics": {"what": "story→music MRR and P@5 per game, leave one game out (the centre from the other "
                            "games' texts, the music read by the reader fitted without the game), with the "
                            "centre and without it ('no centre': profiles measured from zero); "
                            "max_top5_share: the largest share of texts one track is in the top 5 of",
                    "per_game": figures},
        "command": ".venv/bin/python benchmarks/fit_mood_centre.py",
        "code": code_version(),
        "created": time.strftime("%Y-%m-%d"),
    }
    args.out.write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
