"""Text → (valence, arousal), learned from people's ratings; emotion-word anchors for the mood words.

A passage's (V, A) is `text.va_head`: RBF kernel ridge regression from its MiniLM embedding (long passages
chunked and pooled, `text.encoder.embed_passages`) and Warriner lexicon statistics of its words, fitted on
EmoBank's train split (8,062 sentences rated by people) with every choice made by cross-validation grouped by
document, and read once on its dev split (`benchmarks/fit_text_va.py`; the figures are in the head's card
and the README). It replaced a reading fitted to passages written for the project, whose arousal correlated
with EmoBank's ratings at r = .12.

The anchors stay for what they do well, naming moods: a passage's MiniLM embedding is compared with
descriptions of emotion words ("A furious moment in a story."), relative to plain narration, and the softmax
over those similarities gives the mood words of explanations and of the `tagwords` space (`anchor_weights`).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from storyscore.lexicon.vocab import MOOD_WORDS
from storyscore.text.encoder import embed_passages, embed_sentences

ANCHOR_PROMPT = "A {} moment in a story."
TEMPERATURE = 0.1  # cosine similarities differ by a few hundredths between close emotion words
EXTRA_ANCHORS: tuple[str, ...] = (
    "furious", "terrified", "frightened", "grieving", "heartbroken", "joyful", "delighted", "excited",
    "ashamed", "guilty", "disgusted", "astonished", "desperate", "serene", "hopeful", "bored",
)
ANCHOR_WORDS: tuple[str, ...] = tuple(dict.fromkeys(MOOD_WORDS + EXTRA_ANCHORS))
# What REFERENCE_NARRATION reads as: the neutral point of the shared emotion frame. Kept as a constant
# (checked by tests/test_text_va.py) so indexing music never has to load the text model.
NEUTRAL_VA = (0.1829, -0.0876)
# Plain narration, written for the project: how similar ordinary story text is to each anchor. Subtracting
# it removes the anchors' bias toward prose in general ("mysterious" and "eerie" resemble any narrative),
# so a passage is read by what sets it apart from plain narration.
REFERENCE_NARRATION: tuple[str, ...] = (
    "He walked to the shop at the end of the street and bought a loaf of bread.",
    "The meeting had been moved to Tuesday, so she wrote it down in her diary.",
    "They took the train north and arrived in the town a little after noon.",
    "The house had three rooms upstairs and a small kitchen at the back.",
    "She opened the window, looked at the street for a while, and went back to her work.",
    "In the morning the farmer counted the sheep and mended a gap in the fence.",
    "The letter was short. It said that the parcel would arrive on Friday.",
    "He put on his coat, picked up his keys and locked the door behind him.",
    "The road ran along the river for two miles before it turned toward the hills.",
    "Once upon a time there was a miller who lived beside a stream with his three sons.",
    "The children sat at the long table while their mother poured the soup.",
    "The captain studied the map, marked their position and handed it back to the mate.",
    "At the market she sold eggs and cheese and bought wool for the winter.",
    "The old clock in the hall struck six, and the family gathered for supper.",
    "The teacher wrote the date on the board and asked the class to open their books.",
    "After lunch they walked through the village, past the church and the post office.",
    "He spent the afternoon repairing the cart and sorting the tools in the shed.",
    "The ship was loaded with timber and sailed on the evening tide.",
    "Her brother worked at the bakery and came home late most nights.",
    "The king had a garden with a tall wall around it and a gate of iron.",
)


# The anchors' embeddings and narration baseline, computed once and shipped (re-embedding 60 sentences was
# the largest part of a cold `storyscore match` after importing torch). Used only while its key matches the
# anchor texts and the encoder; `benchmarks/fit_text_va.py` rewrites it, and a test checks it against
# a live computation.
ANCHORS_FILE = "text_anchors.npz"


def anchor_key() -> str:
    """What the shipped anchor cache must have been computed from."""
    import hashlib

    from storyscore.text.encoder import TEXT_ENCODER_NAME

    texts = [ANCHOR_PROMPT.format(w) for w in ANCHOR_WORDS] + list(REFERENCE_NARRATION)
    return hashlib.sha256("\n".join([TEXT_ENCODER_NAME, *texts]).encode()).hexdigest()[:16]


def compute_anchors() -> tuple[np.ndarray, np.ndarray]:
    """Anchor prompt embeddings (n, 384) and plain narration's mean similarity to each (n,), from the model."""
    prompts = embed_sentences([ANCHOR_PROMPT.format(w) for w in ANCHOR_WORDS])
    baseline = (embed_sentences(list(REFERENCE_NARRATION)) @ prompts.T).mean(axis=0)
    return prompts.astype(np.float32), baseline.astype(np.float32)


def write_anchor_cache(path: str | Path | None = None) -> Path:
    out = Path(path) if path is not None else Path(str(resources.files("storyscore").joinpath("data", ANCHORS_FILE)))
    prompts, baseline = compute_anchors()
    np.savez(out, prompts=prompts, baseline=baseline, key=np.array(anchor_key()))
    return out


def _cached_anchors() -> tuple[np.ndarray, np.ndarray] | None:
    try:
        with resources.files("storyscore").joinpath("data", ANCHORS_FILE).open("rb") as f:
            z = np.load(f)
            if str(z["key"]) != anchor_key():
                return None
            return z["prompts"].astype(np.float32), z["baseline"].astype(np.float32)
    except (OSError, KeyError, ValueError):
        return None


@cache
def anchors() -> tuple[np.ndarray, np.ndarray]:
    """Anchor words' prompt embeddings (n, 384) and the similarity of plain narration to each (n,)."""
    return _cached_anchors() or compute_anchors()


def anchor_weights(embeddings: np.ndarray) -> np.ndarray:
    """(n, n_anchors) softmax weights of each passage over the anchor words."""
    prompts, baseline = anchors()
    sims = embeddings @ prompts.T - baseline
    weights = np.exp((sims - sims.max(axis=1, keepdims=True)) / TEMPERATURE)
    return weights / weights.sum(axis=1, keepdims=True)


def passage_va(passages: list[str], embeddings: np.ndarray | None = None) -> np.ndarray:
    """(n, 2) valence/arousal of each passage on the centred Warriner scale [-1, 1] (`text.va_head`)."""
    if not passages:
        return np.zeros((0, 2), dtype=np.float32)
    from storyscore.text.va_head import shipped_head

    return shipped_head().read(embed_passages(passages) if embeddings is None else embeddings, list(passages))
