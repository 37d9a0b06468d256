"""The trained head spaces' model, without the trainer: the music input layout, the branch MLPs (`Heads`)
and the similarity each space scores with. `storyscore.training.trainer` fits these; loading and
searching a saved model (`spaces.trained.TrainedSpace`) needs only this module."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from storyscore.audio.encoder import TrackAnalysis
from storyscore.lexicon.vocab import MAPPINGS

SPACES: tuple[str, ...] = (
    "classification", "va", "wordvec", "two_branch", "three_branch", "supcon", "va_regularised",
)
METRIC_SPACES = ("two_branch", "three_branch", "supcon", "va_regularised")
TEXT_DIM = 384
MUSIC_TAGGERS = ("MTT_musicnn", "MSD_musicnn")
DESCRIPTOR_FIELDS = ("tempo_bpm", "onset_rate", "loudness_db", "loudness_range_db", "log_brightness", "mode_strength")
MUSIC_LAYOUT = ["musicnn_features:400", "MTT_musicnn_tags:50", "MSD_musicnn_tags:50"] + [
    f"descriptor:{d}" for d in DESCRIPTOR_FIELDS
]
MUSIC_DIM = 400 + 100 + len(DESCRIPTOR_FIELDS)



# --- inputs ----------------------------------------------------------------------------------


def music_inputs(analyses: Sequence[TrackAnalysis]) -> np.ndarray:
    """(n, 506) raw (unstandardised) music inputs of analysed tracks, laid out as `MUSIC_LAYOUT`."""
    rows = []
    for a in analyses:
        feats = np.asarray(a.features, dtype=np.float32).reshape(-1)
        if feats.shape[0] != 400:
            raise ValueError(f"expected 400 musicnn features, got {feats.shape[0]}")
        tags = [np.asarray(a.tags.get(t, np.zeros(50)), dtype=np.float32).reshape(50) for t in MUSIC_TAGGERS]
        d = a.descriptors
        desc = np.array(
            [d.tempo_bpm, d.onset_rate, d.loudness_db, d.loudness_range_db,
             math.log(max(float(d.brightness_hz), 1.0)), d.mode_strength],
            dtype=np.float32,
        )
        rows.append(np.concatenate([feats, *tags, desc]))
    if not rows:
        return np.zeros((0, MUSIC_DIM), dtype=np.float32)
    return np.nan_to_num(np.stack(rows).astype(np.float32))


def relevance_matrix(text_vocab: Sequence[str], music_vocab: Sequence[str], mapping: str) -> np.ndarray:
    """(T, M) boolean: music mood m is relevant to text label t under the mapping."""
    table = MAPPINGS[mapping]
    return np.array([[m in table.get(t, ()) for m in music_vocab] for t in text_vocab], dtype=bool)


# --- model -----------------------------------------------------------------------------------


def mlp(n_in: int, hidden: int, n_out: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, n_out))


def output_dim(space: str, n_text_labels: int, n_music_labels: int, dim: int) -> tuple[int, int]:
    if space == "classification":
        return n_text_labels, n_music_labels
    if space == "va":
        return 2, 2
    if space == "wordvec":
        return 50, 50
    return dim, dim


class Heads(nn.Module):
    """Standardisation buffers + one MLP per branch (text, music, and tag for ``three_branch``), and with
    ``text_layers > 0`` the fine-tuned top MiniLM layers as ``encoder`` (a `text.finetune.TextTop`), so
    they are saved, snapshotted and hashed with the heads."""

    def __init__(self, space: str, n_text_labels: int, n_music_labels: int, hidden: int, dim: int,
                 dropout: float, text_dim: int = TEXT_DIM, music_dim: int = MUSIC_DIM, text_layers: int = 0) -> None:
        super().__init__()
        self.space = space
        t_out, m_out = output_dim(space, n_text_labels, n_music_labels, dim)
        self.text = mlp(text_dim, hidden, t_out, dropout)
        self.music = mlp(music_dim, hidden, m_out, dropout)
        if space == "three_branch":
            self.tag = mlp(50, hidden, dim, dropout)
        for name, n in (("text", text_dim), ("music", music_dim)):
            self.register_buffer(f"{name}_mean", torch.zeros(n))
            self.register_buffer(f"{name}_std", torch.ones(n))
        # created last: the heads' initialisation draws the same random numbers with or without it
        self.encoder: nn.Module | None = None
        if text_layers > 0:
            from storyscore.text.finetune import TextTop

            self.encoder = TextTop(text_layers)

    def _out(self, y: torch.Tensor) -> torch.Tensor:
        if self.space == "classification":
            return y  # logits
        if self.space == "va":
            return torch.tanh(y)
        return F.normalize(y, dim=-1)

    def embed_text(self, x: torch.Tensor) -> torch.Tensor:
        return self._out(self.text((x - self.text_mean) / self.text_std))

    def encode_text(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, 384) unit text inputs from MiniLM's frozen-bottom states through the fine-tuned layers."""
        if self.encoder is None:
            raise ValueError("this model's text encoder is frozen: its inputs are embed_passages vectors")
        return self.encoder(hidden, mask)

    def embed_music(self, x: torch.Tensor) -> torch.Tensor:
        return self._out(self.music((x - self.music_mean) / self.music_std))

    def embed_tag(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.tag(x), dim=-1)


def similarity_from_embeddings(space: str, text: np.ndarray, music: np.ndarray,
                               relevance: np.ndarray | None = None) -> np.ndarray:
    """(q, n) scores from the outputs of `Heads` (logits are turned into probabilities here)."""
    t = np.asarray(text, dtype=np.float64)
    m = np.asarray(music, dtype=np.float64)
    if space == "classification":
        if relevance is None:
            raise ValueError("the classification space needs a text→music relevance matrix")
        return t @ relevance.astype(np.float64) @ m.T
    if space == "va":
        d2 = (t**2).sum(1)[:, None] + (m**2).sum(1)[None, :] - 2.0 * t @ m.T
        return -np.sqrt(np.maximum(d2, 0.0))
    return t @ m.T
