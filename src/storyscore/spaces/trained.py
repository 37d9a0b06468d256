"""A trained emotion space (see `storyscore.spaces.heads`; trained by `storyscore.training.trainer`) behind the `EmotionSpace` interface.

On disk a model is a folder with two files:

* ``model.safetensors``: the heads' weights and the training-set standardisation statistics (and, for
  a model trained with ``text_layers > 0``, its fine-tuned top MiniLM layers: the bottom layers and the
  word-piece embeddings come from the installed model);
* ``model.json``: the model card — space, encoders, input dims and music input layout, vocabularies,
  mapping (and its table as frozen into the model), data description, split sizes, test metrics, seed,
  training configuration and the storyscore pipeline version the music inputs come from.

`TrainedSpace.load(path)` (the folder or either file) rebuilds the same network in eval mode, so a
reloaded model gives bit-identical outputs.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from storyscore.audio.encoder import ANALYSIS_VERSION, TrackAnalysis
from storyscore.errors import InputError

WEIGHTS = "model.safetensors"
CARD = "model.json"
CARD_FORMAT = 1


def weights_digest(model: torch.nn.Module) -> str:
    """Short hash of a model's weights: the space version, so stored vectors never outlive their model."""
    h = hashlib.sha256()
    for k, v in sorted(model.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:12]


def save_model_files(directory: str | Path, model: torch.nn.Module, card: dict[str, Any], space: str,
                     version: str) -> Path:
    """Write a model's weights (safetensors) and card (JSON) into `directory`, created; returns the folder."""
    from safetensors.torch import save_file

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, str(out / WEIGHTS), metadata={"space": space, "version": version})
    (out / CARD).write_text(json.dumps(json_safe(card), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return out


def json_safe(x: Any) -> Any:
    """JSON-safe copy: NaN/inf → None, numpy scalars → Python."""
    if isinstance(x, dict):
        return {str(k): json_safe(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [json_safe(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _text_encoder_description(model: Any) -> str:
    from storyscore.text.encoder import TEXT_ENCODER_NAME

    top = getattr(model, "encoder", None)
    if top is None:
        return f"sentence-transformers/{TEXT_ENCODER_NAME} (frozen, storyscore.text.encoder.embed_passages)"
    total = top.frozen_layers + top.n_layers
    return (f"sentence-transformers/{TEXT_ENCODER_NAME}, top {top.n_layers} of {total} layers fine-tuned "
            f"(word-piece embeddings and bottom {top.frozen_layers} layers frozen; storyscore.text.finetune, "
            "passages pooled as embed_passages)")


class TrainedSpace:
    """EmotionSpace from trained heads over MiniLM (text; frozen, or its top layers fine-tuned) and frozen
    musicnn+descriptor (music) inputs."""

    def __init__(self, model: Any, card: dict[str, Any], text_encoder: Callable[[list[str]], np.ndarray] | None = None) -> None:
        from storyscore.library.store import PIPELINE_VERSION
        from storyscore.spaces.heads import MUSIC_LAYOUT, relevance_matrix
        from storyscore.version import __version__

        self.model = model.eval()
        self.card = dict(card)
        self.card.setdefault("format", CARD_FORMAT)
        self.card.setdefault("encoders", {
            "text": _text_encoder_description(model),
            "music": f"{ANALYSIS_VERSION} (frozen; storyscore.spaces.heads.music_inputs)",
        })
        self.card.setdefault("input_dims", {"text": int(model.text_mean.shape[0]), "music": int(model.music_mean.shape[0])})
        self.card.setdefault("music_layout", list(MUSIC_LAYOUT))
        self.card.setdefault("pipeline_version", PIPELINE_VERSION)
        self.card.setdefault("storyscore_version", __version__)
        self.card.setdefault("architecture", {
            "hidden": int(model.text[0].out_features), "dim": int(model.text[-1].out_features),
            "dropout": float(model.text[2].p),
        })
        self.space = self.card["space"]
        self.name = f"trained-{self.space}"
        self.version = self.card.get("version") or f"{self.space}-{weights_digest(self.model)}"
        self.card["version"] = self.version
        voc = self.card["vocabularies"]
        # the mapping is frozen into the card (so a later change to vocab.MAPPINGS does not change the model)
        table = self.card.get("mapping_table")
        if table is not None:
            self.relevance = np.array([[m in table.get(t, ()) for m in voc["music"]] for t in voc["text"]], dtype=bool)
        else:
            self.relevance = relevance_matrix(voc["text"], voc["music"], self.card["mapping"])
        if text_encoder is not None and self.fine_tuned:
            raise ValueError(f"{self.name} embeds passages with its own fine-tuned encoder: leave text_encoder out")
        self._text_encoder = text_encoder
        # paragraph → weighted chunk sum of THIS model's encoder (the frozen model's cache would be wrong)
        self._paragraph_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self.history: list[dict[str, float]] = []

    @property
    def fine_tuned(self) -> bool:
        """Whether the model carries fine-tuned MiniLM layers (its text inputs are then its own)."""
        return getattr(self.model, "encoder", None) is not None

    # --- EmotionSpace ---------------------------------------------------------------------

    def text_inputs(self, passages: list[str]) -> np.ndarray:
        """The (n, 384) unit text inputs the heads take: `embed_passages` vectors (or the `text_encoder`
        given) for a frozen encoder; for a fine-tuned one, the same paragraph/sentence-chunk pooling over
        its own layers, with its own paragraph cache."""
        if self._text_encoder is not None:
            return self._text_encoder(list(passages))
        if not self.fine_tuned:
            from storyscore.text.encoder import embed_passages

            return embed_passages(list(passages))
        from storyscore.text.encoder import pool_passages

        return pool_passages(list(passages), self.model.encoder.embed_sentences, self._paragraph_cache)

    def _branch(self, head: Callable[[torch.Tensor], torch.Tensor], x: np.ndarray) -> np.ndarray:
        """One branch's space vectors (the classifier's as probabilities)."""
        with torch.no_grad():
            y = head(torch.as_tensor(np.asarray(x, dtype=np.float32)))
            if self.space == "classification":
                y = y.softmax(-1)
        return y.numpy().astype(np.float32)

    def embed_text_vectors(self, embeddings: np.ndarray) -> np.ndarray:
        """Space vectors of precomputed text inputs (n, 384), as `text_inputs` gives them."""
        return self._branch(self.model.embed_text, embeddings)

    def embed_music_inputs(self, inputs: np.ndarray) -> np.ndarray:
        """Space vectors of `storyscore.spaces.heads.music_inputs` rows (n, 506)."""
        return self._branch(self.model.embed_music, inputs)

    def embed_text(self, passages: list[str]) -> np.ndarray:
        return self.embed_text_vectors(self.text_inputs(passages))

    def embed_audio(self, analyses: list[TrackAnalysis]) -> np.ndarray:
        from storyscore.spaces.heads import music_inputs

        return self.embed_music_inputs(music_inputs(analyses))

    def similarity(self, text: np.ndarray, music: np.ndarray) -> np.ndarray:
        """Higher = better: classification P(relevant mood), va −distance, the others cosine."""
        from storyscore.spaces.heads import similarity_from_embeddings

        return similarity_from_embeddings(self.space, text, music, self.relevance)

    # --- persistence ----------------------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        """Write model.safetensors + model.json into `directory` (created); returns the folder."""
        return save_model_files(directory, self.model, self.card, self.space, self.version)

    @classmethod
    def load(cls, path: str | Path, text_encoder: Callable[[list[str]], np.ndarray] | None = None) -> TrainedSpace:
        """Load a saved model from its folder (or the path of either of its files)."""
        from safetensors.torch import load_file

        from storyscore.spaces.heads import SPACES, Heads

        p = Path(path)
        folder = p.parent if p.is_file() else p
        card_path, weights_path = folder / CARD, folder / WEIGHTS
        if not card_path.is_file() or not weights_path.is_file():
            raise InputError(f"{folder}: not a trained model (expected {CARD} and {WEIGHTS})")
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"{card_path}:{exc.lineno}: not valid JSON ({exc.msg})") from exc
        if card.get("format") != CARD_FORMAT:
            raise InputError(f"{card_path}: model card format {card.get('format')!r}, this storyscore reads {CARD_FORMAT}")
        if card.get("space") not in SPACES:
            raise InputError(f"{card_path}: unknown space {card.get('space')!r}")
        arch, dims, voc = card["architecture"], card["input_dims"], card["vocabularies"]
        # a fine-tuned model's top layers are rebuilt on the installed MiniLM, then get the saved weights
        text_layers = (card.get("config") or {}).get("text_layers") or 0
        try:
            model = Heads(card["space"], len(voc["text"]), len(voc["music"]), arch["hidden"], arch["dim"],
                          arch["dropout"], dims["text"], dims["music"], text_layers=int(text_layers))
        except ValueError as exc:  # e.g. a text_layers this MiniLM does not have
            raise InputError(f"{card_path}: {exc}") from None
        state = load_file(str(weights_path))
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise InputError(f"{weights_path}: weights do not fit the card (missing {missing}, unexpected {unexpected})")
        return cls(model, card, text_encoder=text_encoder)


__all__ = ["CARD", "WEIGHTS", "TrainedSpace", "json_safe"]
