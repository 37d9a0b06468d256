"""Fine-tuning MiniLM's top layers with the heads (`TrainConfig.text_layers`): the split encoder equals
the frozen one before training, training moves its weights, save → load is exact, a seed fixes the run."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from storyscore.spaces.heads import MUSIC_DIM
from storyscore.spaces.trained import TrainedSpace
from storyscore.text.encoder import embed_passages, embed_sentences, pool_passages
from storyscore.text.finetune import TextTop, bottom_hidden
from storyscore.training.evaluation import evaluate_heads
from storyscore.training.trainer import TrainConfig, train

pytestmark = pytest.mark.slow  # real models, servers or browsers: `pytest -m 'not slow'` skips these

SHORT = [
    "The king wept.",
    "She laughed at the silly dog, then ran home through the warm rain to her mother.",
    "Fear.",
    "A cold hand closed on his shoulder in the dark, and he could not breathe.",
]
LABELS = ("happy", "sad", "anger", "fear")  # Alm labels, each with a relevant mood under "manual"
MOODS = ("happy", "sad", "angry", "scary")
WORDS = {
    "happy": ["laughed", "danced", "smiled", "cheered"],
    "sad": ["wept", "mourned", "grieved", "sighed"],
    "anger": ["shouted", "raged", "stormed", "snarled"],
    "fear": ["trembled", "hid", "froze", "screamed"],
}
CFG = TrainConfig(epochs=3, patience=3, batch_size=16, hidden=32, dim=8, seed=0, text_layers=1, text_lr=1e-4,
                  text_max_tokens=32)


def test_all_layers_unchanged_reproduce_embed_sentences() -> None:
    ref = embed_sentences(SHORT)
    top = TextTop(6)
    assert np.abs(top.embed_sentences(SHORT) - ref).max() < 1e-5
    # the training path: cached bottom states (here: only the embeddings) through the top layers
    with torch.no_grad():
        direct = top.eval().encode_states(bottom_hidden(SHORT, 0)).numpy()
    assert np.abs(direct - ref).max() < 1e-5
    # a split at another depth is the same network
    assert np.abs(TextTop(2).embed_sentences(SHORT) - ref).max() < 1e-5
    # and passages pooled through it match embed_passages (chunks, paragraphs, word weights)
    passage = "\n\n".join([" ".join(SHORT * 12), SHORT[1]])
    pooled = pool_passages([passage, SHORT[0]], top.embed_sentences, OrderedDict())
    assert np.abs(pooled - embed_passages([passage, SHORT[0]])).max() < 1e-5


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    rng = np.random.default_rng(0)
    texts, labels = [], []
    for lab in LABELS:
        for i in range(10):
            texts.append(f"Anna {WORDS[lab][i % 4]} by the {['door', 'sea', 'fire', 'road', 'gate'][i % 5]}.")
            labels.append(lab)
    splits = ["train" if i % 10 < 6 else "valid" if i % 10 < 8 else "test" for i in range(len(texts))]
    centres = {m: rng.normal(0, 1, MUSIC_DIM) for m in MOODS}
    music_labels = [m for m in MOODS for _ in range(8)]
    music_x = np.stack([centres[m] + rng.normal(0, 0.5, MUSIC_DIM) for m in music_labels]).astype(np.float32)
    music_splits = ["train" if i % 8 < 5 else "valid" if i % 8 < 6 else "test" for i in range(len(music_labels))]
    return {"texts": texts, "text_x": embed_passages(texts), "labels": labels, "splits": splits,
            "music_x": music_x, "music_labels": music_labels, "music_splits": music_splits}


def _train(data: dict[str, Any], space: str, cfg: TrainConfig = CFG, **kw: Any) -> TrainedSpace:
    return train(space, data["text_x"], data["labels"], data["splits"], data["music_x"], data["music_labels"],
                 data["music_splits"], config=cfg, **kw)


@pytest.mark.parametrize("space", ["two_branch", "classification"])
def test_fine_tuned_space_trains_saves_and_reloads(data: dict[str, Any], space: str, tmp_path: Path) -> None:
    sp = _train(data, space, texts=data["texts"])
    assert sp.fine_tuned and sp.card["config"]["text_layers"] == 1
    assert "top 1 of 6 layers fine-tuned" in sp.card["encoders"]["text"]
    # (a) training moved the encoder's weights
    before, after = TextTop(1).state_dict(), sp.model.encoder.state_dict()
    assert before.keys() == after.keys()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    # its text inputs are its own, not the frozen model's (yet still close to them)
    probe = [data["texts"][0], "The old dog slept by the fire.\n\nThen the storm came."]
    own, frozen = sp.text_inputs(probe), embed_passages(probe)
    assert not np.array_equal(own, frozen) and np.abs(own - frozen).max() < 0.1
    # the test split was scored through the fine-tuned encoder
    tt = [i for i, s in enumerate(data["splits"]) if s == "test"]
    mt = [i for i, s in enumerate(data["music_splits"]) if s == "test"]
    again = evaluate_heads(sp, sp.text_inputs([data["texts"][i] for i in tt]), [data["labels"][i] for i in tt],
                        data["music_x"][mt], [data["music_labels"][i] for i in mt],
                        prior_text_labels=[lab for lab, s in zip(data["labels"], data["splits"], strict=True) if s == "train"])
    assert again == sp.card["metrics"]["test"]
    # (b) save → load rebuilds the same layers on the installed MiniLM: identical outputs
    sp.save(tmp_path)
    loaded = TrainedSpace.load(tmp_path)
    assert loaded.fine_tuned and loaded.version == sp.version
    assert np.array_equal(loaded.embed_text(probe), sp.embed_text(probe))
    assert np.array_equal(loaded.embed_music_inputs(data["music_x"]), sp.embed_music_inputs(data["music_x"]))


def test_fine_tuning_is_deterministic_for_a_seed(data: dict[str, Any]) -> None:
    torch.manual_seed(7)
    state = torch.random.get_rng_state()
    a = _train(data, "two_branch", texts=data["texts"])
    b = _train(data, "two_branch", texts=data["texts"])
    assert torch.equal(state, torch.random.get_rng_state())  # the caller's RNG is left alone
    assert a.version == b.version and a.history == b.history
    probe = data["texts"][:3]
    assert np.array_equal(a.embed_text(probe), b.embed_text(probe))


def test_fine_tuning_needs_the_texts(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="texts="):
        _train(data, "two_branch")
    with pytest.raises(ValueError, match="text_encoder"):
        _train(data, "two_branch", texts=data["texts"], text_encoder=embed_passages)
    with pytest.raises(ValueError, match="text_layers"):
        _train(data, "two_branch", cfg=TrainConfig(text_layers=7), texts=data["texts"])
