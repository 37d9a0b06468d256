"""Trained emotion spaces on tiny synthetic features (no audio, no MiniLM): each space beats random
retrieval on held-out data, save → load is exact, the card is complete, negatives are never relevant."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from storyscore.audio.descriptors import Descriptors
from storyscore.audio.encoder import TrackAnalysis
from storyscore.datasets.splits import stratified_split
from storyscore.errors import InputError
from storyscore.lexicon.vocab import ALM_LABELS, AUDIOSET_MOODS
from storyscore.spaces.base import EmotionSpace
from storyscore.spaces.trained import TrainedSpace
from storyscore.training.trainer import (
    MUSIC_DIM,
    SPACES,
    TrainConfig,
    music_inputs,
    relevance_matrix,
    sample_negatives,
    train,
)

FAST = TrainConfig(epochs=25, patience=8, batch_size=32, hidden=64, dim=16, seed=0)
PER_TEXT_LABEL = 24
PER_MOOD = 20


def _fake_analysis(rng: np.random.Generator, centre: np.ndarray) -> TrackAnalysis:
    feats = centre[:400] + rng.normal(0, 1.0, 400)
    tags = {"MTT_musicnn": rng.uniform(0, 1, 50), "MSD_musicnn": rng.uniform(0, 1, 50)}
    # Only the six fields `music_inputs` reads are drawn (in their old order, so the random stream is as it
    # was); the rest are fixed.
    desc = Descriptors(tempo_bpm=float(rng.uniform(60, 180)), tempo_confidence=0.5, onset_rate=float(rng.uniform(0, 5)),
                       loudness_db=float(rng.uniform(-30, -5)), loudness_range_db=float(rng.uniform(3, 20)),
                       dynamic_complexity=3.0, danceability=1.0, brightness_hz=float(rng.uniform(500, 4000)),
                       spectral_flux=0.02, percussive_ratio=0.3, key="C major", key_strength=0.7,
                       mode_strength=float(rng.normal()))
    return TrackAnalysis(duration=15.0, tags=tags, features=feats.astype(np.float32), descriptors=desc, windows=2)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    t_centres = {lab: rng.normal(0, 1, 384) * 0.25 for lab in ALM_LABELS}
    m_centres = {lab: rng.normal(0, 1, 400) * 1.0 for lab in AUDIOSET_MOODS}
    text_labels = [lab for lab in ALM_LABELS for _ in range(PER_TEXT_LABEL)]
    text_x = np.stack([t_centres[lab] + rng.normal(0, 0.5, 384) for lab in text_labels]).astype(np.float32)
    text_x /= np.linalg.norm(text_x, axis=1, keepdims=True)
    music_labels = [lab for lab in AUDIOSET_MOODS for _ in range(PER_MOOD)]
    analyses = [_fake_analysis(rng, m_centres[lab]) for lab in music_labels]
    t_ids = [f"t{i}" for i in range(len(text_labels))]
    m_ids = [f"m{i}" for i in range(len(music_labels))]
    fr = {"train": 0.6, "valid": 0.2, "test": 0.2}
    ts = stratified_split(t_ids, text_labels, fr, seed=1)
    ms = stratified_split(m_ids, music_labels, fr, seed=1)
    return {
        "text_x": text_x, "text_labels": text_labels, "text_splits": [ts[i] for i in t_ids],
        "analyses": analyses, "music_x": music_inputs(analyses), "music_labels": music_labels,
        "music_splits": [ms[i] for i in m_ids],
    }


def _lookup_encoder(data):
    """A fake text encoder: the 'passage' is the index of a synthetic embedding."""
    return lambda passages: data["text_x"][[int(p) for p in passages]]


@pytest.fixture(scope="module")
def trained(data):
    out = {}
    for space in SPACES:
        out[space] = train(space, data["text_x"], data["text_labels"], data["text_splits"], data["analyses"],
                           data["music_labels"], data["music_splits"], mapping="manual", config=FAST,
                           data_description={"name": "synthetic"}, text_encoder=_lookup_encoder(data))
    return out


def test_music_inputs_layout(data):
    assert data["music_x"].shape == (len(data["analyses"]), MUSIC_DIM)
    assert np.isfinite(data["music_x"]).all()


@pytest.mark.parametrize("space", SPACES)
def test_space_beats_random_on_test_split(trained, space):
    res = trained[space].card["metrics"]["test"]["mappings"]["manual"]
    model, rand = res["model"]["micro"]["MRR"], res["random"]["micro"]["MRR"]
    assert model > rand + 0.2, (space, model, rand)
    assert res["model"]["micro"]["P@5"] > res["random"]["micro"]["P@5"] + 0.2


@pytest.mark.parametrize("space", SPACES)
def test_save_load_identical_and_card(trained, data, space, tmp_path):
    sp = trained[space]
    assert isinstance(sp, EmotionSpace)
    sp.save(tmp_path)
    again = TrainedSpace.load(tmp_path, text_encoder=_lookup_encoder(data))
    passages = [str(i) for i in range(0, len(data["text_labels"]), 7)]
    a, b = sp.embed_text(passages), again.embed_text(passages)
    ma, mb = sp.embed_audio(data["analyses"][:20]), again.embed_audio(data["analyses"][:20])
    assert np.array_equal(a, b) and np.array_equal(ma, mb)
    assert np.array_equal(sp.similarity(a, ma), again.similarity(b, mb))
    assert sp.similarity(a, ma).shape == (len(passages), 20)
    assert again.version == sp.version and again.name == f"trained-{space}"
    card = json.loads((tmp_path / "model.json").read_text())
    for key in ("space", "encoders", "input_dims", "vocabularies", "mapping", "data", "splits", "metrics",
                "seed", "pipeline_version", "config", "version"):
        assert key in card, key
    assert card["splits"]["text"]["test"] > 0 and card["metrics"]["test"]["mappings"]["manual"]["model"]


def test_deterministic_given_seed(data):
    cfg = TrainConfig(epochs=3, patience=3, batch_size=32, hidden=32, dim=8, seed=3)
    args = (data["text_x"], data["text_labels"], data["text_splits"], data["music_x"], data["music_labels"],
            data["music_splits"])
    torch.manual_seed(123)
    before = torch.rand(1)
    a = train("three_branch", *args, config=cfg)
    b = train("three_branch", *args, config=cfg)
    torch.manual_seed(123)
    assert torch.equal(before, torch.rand(1))  # the global RNG is left alone
    assert a.version == b.version
    assert np.array_equal(a.embed_music_inputs(data["music_x"]), b.embed_music_inputs(data["music_x"]))


def test_negatives_never_relevant_under_mapping():
    text_vocab = list(ALM_LABELS) + ["joy", "shame", "disgust"]
    music_vocab = list(AUDIOSET_MOODS)
    rel = torch.from_numpy(relevance_matrix(text_vocab, music_vocab, "manual"))
    gen = torch.Generator().manual_seed(0)
    for _ in range(200):
        ty = torch.randint(0, len(text_vocab), (16,), generator=gen)
        my = torch.randint(0, len(music_vocab), (16,), generator=gen)
        rel_batch = rel[ty][:, my]
        cos = torch.rand(16, 16, generator=gen) * 2 - 1
        idx, has = sample_negatives(cos, ~rel_batch, gen)
        rows = torch.arange(16)[has]
        assert not rel_batch[rows, idx[has]].any()
        # rows with no valid negative are flagged, never silently given a relevant one
        assert torch.equal(has, (~rel_batch).any(1))
    # a "negative" may share the anchor's TEXT label's nothing — but it must never share a relevant mood:
    # happy text: exciting/funny/happy clips are all excluded
    happy = text_vocab.index("happy")
    for m in ("happy", "exciting", "funny"):
        assert rel[happy, music_vocab.index(m)]


def test_classification_cannot_cross_vocabularies_without_mapping(trained, data):
    sp = trained["classification"]
    assert sp.embed_text(["0"]).shape == (1, len(sp.card["vocabularies"]["text"]))
    # a text label the mapping sends nowhere scores 0 against every clip
    sp2 = TrainedSpace(sp.model, {**sp.card, "mapping_table": {t: [] for t in sp.card["vocabularies"]["text"]},
                                  "version": None})
    scores = sp2.similarity(sp2.embed_text_vectors(data["text_x"][:5]), sp2.embed_music_inputs(data["music_x"][:9]))
    assert np.all(scores == 0.0)


def test_load_rejects_non_model(tmp_path):
    with pytest.raises(InputError):
        TrainedSpace.load(tmp_path)
