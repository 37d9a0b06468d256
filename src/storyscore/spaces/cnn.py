"""The paper's 2-branch space with a music branch that reads audio: a text MLP over frozen 384-d MiniLM
passage embeddings and a short-chunk ResNet CNN (`storyscore.audio.shortchunk`) on 128-bin log-mel, both
into a unit ``dim``-d space scored by cosine. Trained by `storyscore.training.audio_trainer`; this module
only loads and runs a saved model (``model.safetensors`` + ``model.json``, space ``"two_branch_cnn"``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from storyscore.audio.shortchunk import (
    CHUNK_FRAMES,
    HOP,
    N_FFT,
    N_MELS,
    SAMPLE_RATE,
    TEST_CROPS,
    ShortChunkResNet,
    even_crops,
    log_mel_128,
)
from storyscore.spaces.heads import TEXT_DIM, mlp
from storyscore.spaces.trained import CARD, CARD_FORMAT, WEIGHTS, weights_digest

SPACE = "two_branch_cnn"


@dataclass
class AudioTrainConfig:
    epochs: int = 100
    patience: int = 10  # epochs without a better validation MRR before stopping
    batch_size: int = 32  # text anchors per step (the CNN sees 2 crops per anchor)
    lr: float = 1e-4  # the paper's Adam settings
    weight_decay: float = 1e-4
    hidden: int = 256  # text MLP
    dim: int = 64
    dropout: float = 0.2  # text MLP
    cnn_width: int = 32  # block channels 1,1,2,2,2,2,4 × width
    cnn_blocks: int = 7
    cnn_dropout: float = 0.5
    margin: float = 0.2
    crop_frames: int = CHUNK_FRAMES  # 5 s at 62.5 frames/s
    test_crops: int = TEST_CROPS
    steps_per_epoch: int = 0  # 0: one pass over the usable training texts
    seed: int = 0


class AudioTwoBranch(nn.Module):
    """Text MLP (with standardisation buffers) + short-chunk CNN, both into a unit ``dim``-d space."""

    def __init__(self, cfg: AudioTrainConfig, text_dim: int = TEXT_DIM) -> None:
        super().__init__()
        self.text = mlp(text_dim, cfg.hidden, cfg.dim, cfg.dropout)
        self.cnn = ShortChunkResNet(dim=cfg.dim, width=cfg.cnn_width, n_blocks=cfg.cnn_blocks,
                                    dropout=cfg.cnn_dropout)
        self.register_buffer("text_mean", torch.zeros(text_dim))
        self.register_buffer("text_std", torch.ones(text_dim))

    def embed_text(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.text((x - self.text_mean) / self.text_std), dim=-1)

    def embed_crops(self, crops: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.cnn(crops), dim=-1)


def embed_mels(model: AudioTwoBranch, mels: Sequence[np.ndarray], n_crops: int, frames: int,
                chunk: int = 64) -> np.ndarray:
    """(n, dim) unit embeddings: the mean of each clip's `even_crops` embeddings, re-normalised (eval mode)."""
    if not len(mels):
        return np.zeros((0, model.text[-1].out_features), dtype=np.float32)
    crops = np.concatenate([even_crops(m, n_crops, frames) for m in mels])
    out = []
    with torch.no_grad():
        for s in range(0, len(crops), chunk):
            out.append(model.embed_crops(torch.from_numpy(crops[s: s + chunk])))
    e = torch.cat(out).reshape(len(mels), n_crops, -1).mean(1)
    return F.normalize(e, dim=-1).numpy().astype(np.float32)


class AudioTwoBranchSpace:
    """A trained ``two_branch_cnn`` space: cosine between unit text and audio embeddings."""

    def __init__(self, model: AudioTwoBranch, card: dict[str, Any]) -> None:
        self.model = model.eval()
        self.card = dict(card)
        self.space = SPACE
        self.name = f"trained-{SPACE}"
        self.cfg = AudioTrainConfig(**{f.name: self.card["config"][f.name] for f in fields(AudioTrainConfig)
                                       if f.name in self.card.get("config", {})})
        self.card.setdefault("format", CARD_FORMAT)
        self.card.setdefault("space", SPACE)
        self.card.setdefault("encoders", {
            "text": "sentence-transformers/all-MiniLM-L6-v2 passage embeddings (frozen; 384-d input)",
            "music": (f"short-chunk ResNet CNN (trained) on 128-bin log(1+10000·mel) of 16 kHz audio "
                      f"(n_fft {N_FFT}, hop {HOP}); {self.cfg.crop_frames}-frame crops, "
                      f"{self.cfg.test_crops} averaged at test"),
        })
        self.card.setdefault("audio_frontend", {"sample_rate": SAMPLE_RATE, "n_fft": N_FFT, "hop": HOP,
                                                "n_mels": N_MELS, "log": "log(1 + 10000 * mel power)"})
        self.card.setdefault("input_dims", {"text": int(model.text_mean.shape[0])})
        self.version = self.card.get("version") or f"{SPACE}-{weights_digest(self.model)}"
        self.card["version"] = self.version
        self.history: list[dict[str, float]] = []

    def embed_text_vectors(self, embeddings: np.ndarray) -> np.ndarray:
        """Space vectors of precomputed (n, 384) MiniLM embeddings."""
        with torch.no_grad():
            y = self.model.embed_text(torch.as_tensor(np.asarray(embeddings, dtype=np.float32)))
        return y.numpy().astype(np.float32)

    def embed_mels(self, mels: Sequence[np.ndarray]) -> np.ndarray:
        return embed_mels(self.model, mels, self.cfg.test_crops, self.cfg.crop_frames)

    # --- EmotionSpace ---------------------------------------------------------------------
    # The music branch reads audio, not the store's analyses: `reads_audio` tells the search to decode
    # each library file once (`embed_file`) and keep the vectors under this model's version.
    reads_audio = True

    def text_inputs(self, passages: list[str]) -> np.ndarray:
        """The (n, 384) MiniLM passage embeddings the text branch takes."""
        from storyscore.text.encoder import embed_passages

        return embed_passages(list(passages))

    def embed_text(self, passages: list[str]) -> np.ndarray:
        return self.embed_text_vectors(self.text_inputs(passages))

    def embed_file(self, path: str | Path) -> np.ndarray:
        """(dim,) space vector of an audio file (decoded at 16 kHz; ``test_crops`` crops averaged over the
        whole track). Unusable files raise AudioDecodeError naming the file."""
        from storyscore.audio.shortchunk import log_mel_file

        return self.embed_mels([log_mel_file(path)])[0]

    def embed_audio(self, analyses: Sequence[Any]) -> np.ndarray:
        from storyscore.errors import InputError

        raise InputError(f"{self.name} reads audio, not stored analyses: embed files with embed_file")

    def embed_audio_arrays(self, audio: Sequence[np.ndarray]) -> np.ndarray:
        """Space vectors of 16 kHz mono clips (``test_crops`` crops averaged)."""
        return self.embed_mels([log_mel_128(a) for a in audio])

    def similarity(self, text: np.ndarray, music: np.ndarray) -> np.ndarray:
        return np.asarray(text, dtype=np.float64) @ np.asarray(music, dtype=np.float64).T

    def save(self, directory: str | Path) -> Path:
        """Write model.safetensors + model.json into `directory` (created); returns the folder."""
        from storyscore.spaces.trained import save_model_files

        return save_model_files(directory, self.model, self.card, SPACE, self.version)

    @classmethod
    def load(cls, path: str | Path) -> AudioTwoBranchSpace:
        from safetensors.torch import load_file

        from storyscore.errors import InputError

        p = Path(path)
        folder = p.parent if p.is_file() else p
        card_path, weights_path = folder / CARD, folder / WEIGHTS
        if not card_path.is_file() or not weights_path.is_file():
            raise InputError(f"{folder}: not a trained model (expected {CARD} and {WEIGHTS})")
        card = json.loads(card_path.read_text(encoding="utf-8"))
        if card.get("space") != SPACE or card.get("format") != CARD_FORMAT:
            raise InputError(f"{card_path}: not a {SPACE} model card (format {CARD_FORMAT})")
        cfg = AudioTrainConfig(**{k: v for k, v in card["config"].items()
                                  if k in {f.name for f in fields(AudioTrainConfig)}})
        model = AudioTwoBranch(cfg, int(card["input_dims"]["text"]))
        missing, unexpected = model.load_state_dict(load_file(str(weights_path)), strict=False)
        if missing or unexpected:
            raise InputError(f"{weights_path}: weights do not fit the card (missing {missing}, unexpected {unexpected})")
        return cls(model, card)


__all__ = ["SPACE", "AudioTrainConfig", "AudioTwoBranch", "AudioTwoBranchSpace"]
