"""all-MiniLM-L6-v2 in plain torch: the packaged WordPiece tokenizer (`tokenizers`) and a BERT encoder.

This replaces sentence-transformers/transformers at inference (importing them costs seconds of cold start).
It follows the sentence-transformers pipeline of the packaged model (modules.json): Transformer (BERT,
inputs truncated to ``max_seq_length`` word pieces, [CLS] and [SEP] included, padded to the longest of the
batch) → mean pooling over the attention mask (1_Pooling) → L2 normalisation (Normalize). Texts are batched
longest first, as `SentenceTransformer.encode` does, so batches pad the same way.

The modules and their parameter names are those of transformers' `BertModel` (``embeddings.*``,
``encoder.layer.N.attention.self.query`` ...), so the packaged safetensors load as they are and fine-tuned
top layers (`storyscore.text.finetune`) keep their state-dict keys. Equivalence with sentence-transformers
is tested in tests/test_text_encoder_fast.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class _Config:
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


class Embeddings(nn.Module):
    def __init__(self, c: _Config) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size, padding_idx=c.pad_token_id)
        self.position_embeddings = nn.Embedding(c.max_positions, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.eps)
        self.dropout = nn.Dropout(c.hidden_dropout)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)[None, :]
        # the order of the sums is transformers' (float rounding)
        h = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        h = h + self.position_embeddings(positions)
        return self.dropout(self.LayerNorm(h))


class SelfAttention(nn.Module):
    def __init__(self, c: _Config) -> None:
        super().__init__()
        self.num_heads = c.num_heads
        self.head_size = c.hidden_size // c.num_heads
        self.query = nn.Linear(c.hidden_size, c.hidden_size)
        self.key = nn.Linear(c.hidden_size, c.hidden_size)
        self.value = nn.Linear(c.hidden_size, c.hidden_size)
        self.dropout = nn.Dropout(c.attention_dropout)

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        shape = (*h.shape[:-1], self.num_heads, self.head_size)
        q = self.query(h).view(shape).transpose(1, 2)
        k = self.key(h).view(shape).transpose(1, 2)
        v = self.value(h).view(shape).transpose(1, 2)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                             dropout_p=self.dropout.p if self.training else 0.0,
                                             scale=self.head_size ** -0.5)
        return out.transpose(1, 2).reshape(h.shape).contiguous()


class _DenseNorm(nn.Module):
    """dense → dropout → LayerNorm(· + residual): BertSelfOutput and BertOutput."""

    def __init__(self, n_in: int, c: _Config) -> None:
        super().__init__()
        self.dense = nn.Linear(n_in, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.eps)
        self.dropout = nn.Dropout(c.hidden_dropout)

    def forward(self, h: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(h)) + residual)


class Attention(nn.Module):
    def __init__(self, c: _Config) -> None:
        super().__init__()
        self.self = SelfAttention(c)
        self.output = _DenseNorm(c.hidden_size, c)

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        return self.output(self.self(h, mask), h)


class Intermediate(nn.Module):
    def __init__(self, c: _Config) -> None:
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.intermediate_size)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(h))


class Layer(nn.Module):
    """One BERT layer; `mask` is additive, (B, 1, 1, L) (0 keep, the dtype's minimum for padding)."""

    def __init__(self, c: _Config) -> None:
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = _DenseNorm(c.intermediate_size, c)

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        a = self.attention(h, mask)
        return self.output(self.intermediate(a), a)


class Encoder(nn.Module):
    def __init__(self, c: _Config) -> None:
        super().__init__()
        self.layer = nn.ModuleList(Layer(c) for _ in range(c.num_layers))


class Bert(nn.Module):
    """BERT without its pooler: (input ids, token types, 1/0 mask) → last hidden states (B, L, H)."""

    def __init__(self, c: _Config) -> None:
        super().__init__()
        self.config = c
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor,
                attention_mask: torch.Tensor) -> torch.Tensor:
        h = self.embeddings(input_ids, token_type_ids)
        add = additive_mask(attention_mask, h.dtype)
        for layer in self.encoder.layer:
            h = layer(h, add)
        return h


def additive_mask(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(B, L) 1/0 attention mask → (B, 1, 1, L) additive mask (0 keep, dtype's minimum for padding)."""
    m = mask[:, None, None, :].to(dtype)
    return (1.0 - m) * torch.finfo(dtype).min


class MiniLM:
    """The packaged sentence encoder: `encode(texts)` → (n, H) unit float32 rows."""

    def __init__(self, model_dir: str | Path) -> None:
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        d = Path(model_dir)
        self.max_seq_length = int(json.loads((d / "sentence_bert_config.json").read_text())["max_seq_length"])
        pooling = json.loads((d / "1_Pooling" / "config.json").read_text())
        modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((d / "modules.json").read_text())]
        if modules != ["Transformer", "Pooling", "Normalize"] or not pooling.get("pooling_mode_mean_tokens") or any(
                v for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens"):
            raise ValueError(f"unexpected sentence-transformers pipeline in {d}: {modules}, {pooling}")
        # built on the meta device and given the file's tensors (assign): no random initialisation to throw
        # away, no copy (a third of a cold `match` before)
        with torch.device("meta"):
            self.bert = Bert(_Config(json.loads((d / "config.json").read_text())))
        state = {k: v for k, v in load_file(str(d / "model.safetensors")).items()
                 if not k.startswith("pooler.") and k != "embeddings.position_ids"}
        self.bert.load_state_dict(state, strict=True, assign=True)
        self.bert.eval().requires_grad_(False)
        self.tokenizer = Tokenizer.from_file(str(d / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self._pad_id = int(self.tokenizer.token_to_id("[PAD]"))

    @property
    def dim(self) -> int:
        return self.bert.config.hidden_size

    def tokenize(self, texts: list[str], max_tokens: int | None = None) -> dict[str, torch.Tensor]:
        """Word pieces of `texts` ([CLS] … [SEP], truncated to `max_tokens`, default the model's window),
        padded to the longest: input_ids, token_type_ids, attention_mask (B, L) int64."""
        limit = max_tokens or self.max_seq_length
        encs = self.tokenizer.encode_batch(list(texts))
        rows = []
        for e in encs:
            ids = e.ids
            if len(ids) > limit:  # keep [CLS] + the first pieces + [SEP], as the HF tokenizer's truncation does
                ids = ids[:limit - 1] + ids[-1:]
            rows.append(ids)
        width = max(len(r) for r in rows)
        input_ids = np.full((len(rows), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, r in enumerate(rows):
            input_ids[i, :len(r)] = r
            mask[i, :len(r)] = 1
        return {"input_ids": torch.from_numpy(input_ids), "token_type_ids": torch.zeros_like(torch.from_numpy(mask)),
                "attention_mask": torch.from_numpy(mask)}

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # longest first (sentence-transformers' order, with its np.argsort), so batches pad alike
        order = np.argsort([-len(t) for t in texts])
        with torch.inference_mode():
            for s in range(0, len(order), batch_size):
                idx = order[s:s + batch_size]
                enc = self.tokenize([texts[i] for i in idx])
                h = self.bert(enc["input_ids"], enc["token_type_ids"], enc["attention_mask"])
                m = enc["attention_mask"][..., None].to(h.dtype)
                pooled = (h * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)
                out[idx] = F.normalize(pooled, p=2, dim=-1).numpy()
        return out


__all__ = ["Bert", "Layer", "MiniLM", "additive_mask"]
