"""The packaged all-MiniLM-L6-v2's folder as data: its BERT config (checked for what storyscore supports), the
sentence-transformers pipeline it declares, its WordPiece tokenizer and its weights as numpy arrays. Shared
by the numpy forward (`text.minilm`) and the torch one (`text.bert_torch`)."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np


class Config:
    """The packaged BERT's config.json, checked for what this implementation supports."""


    def __init__(self, raw: dict[str, Any]) -> None:
        self.vocab_size = int(raw["vocab_size"])
        self.hidden_size = int(raw["hidden_size"])
        self.num_heads = int(raw["num_attention_heads"])
        self.num_layers = int(raw["num_hidden_layers"])
        self.intermediate_size = int(raw["intermediate_size"])
        self.max_positions = int(raw["max_position_embeddings"])
        self.type_vocab_size = int(raw["type_vocab_size"])
        self.eps = float(raw["layer_norm_eps"])
        self.pad_token_id = int(raw.get("pad_token_id", 0))
        self.hidden_dropout = float(raw.get("hidden_dropout_prob", 0.1))
        self.attention_dropout = float(raw.get("attention_probs_dropout_prob", 0.1))
        if raw.get("hidden_act", "gelu") != "gelu" or raw.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError("only BERT with GELU and absolute positions is supported")


class MiniLMFiles:
    """The packaged model's folder: config, pipeline check, tokenizer and weights (as numpy arrays)."""

    def __init__(self, model_dir: Path) -> None:
        d = Path(model_dir)
        self.dir = d
        self.max_seq_length = int(json.loads((d / "sentence_bert_config.json").read_text())["max_seq_length"])
        pooling = json.loads((d / "1_Pooling" / "config.json").read_text())
        modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((d / "modules.json").read_text())]
        if modules != ["Transformer", "Pooling", "Normalize"] or not pooling.get("pooling_mode_mean_tokens") or any(
                v for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens"):
            raise ValueError(f"unexpected sentence-transformers pipeline in {d}: {modules}, {pooling}")
        self.config = Config(json.loads((d / "config.json").read_text()))

    def weights(self) -> dict[str, np.ndarray]:
        """The BERT's parameters by transformers' names (the pooler and position-id buffer left out)."""
        from safetensors.numpy import load_file

        return {k: v for k, v in load_file(str(self.dir / "model.safetensors")).items()
                if not k.startswith("pooler.") and k != "embeddings.position_ids"}

    @cached_property
    def tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(self.dir / "tokenizer.json"))
        tok.no_padding()
        tok.no_truncation()
        return tok

    def tokenize(self, texts: list[str], max_tokens: int | None = None) -> dict[str, np.ndarray]:
        """Word pieces of `texts` ([CLS] … [SEP], truncated to `max_tokens`, default the model's window),
        padded to the longest: input_ids, token_type_ids, attention_mask (B, L) int64."""
        limit = max_tokens or self.max_seq_length
        pad_id = int(self.tokenizer.token_to_id("[PAD]"))
        rows = []
        for e in self.tokenizer.encode_batch(list(texts)):
            ids = e.ids
            if len(ids) > limit:  # keep [CLS] + the first pieces + [SEP], as the HF tokenizer's truncation does
                ids = ids[:limit - 1] + ids[-1:]
            rows.append(ids)
        width = max(len(r) for r in rows)
        input_ids = np.full((len(rows), width), pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, r in enumerate(rows):
            input_ids[i, :len(r)] = r
            mask[i, :len(r)] = 1
        return {"input_ids": input_ids, "token_type_ids": np.zeros_like(mask), "attention_mask": mask}


__all__ = ["Config", "MiniLMFiles"]
