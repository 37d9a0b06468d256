"""MiniLM's BERT as torch modules, for fine-tuning its top layers (`storyscore.text.finetune`).

Inference runs in numpy (`storyscore.text.minilm`); this is the same network with gradients. The modules
and their parameter names are those of transformers' `BertModel` (``embeddings.*``,
``encoder.layer.N.attention.self.query`` ...), so the packaged safetensors load as they are and fine-tuned
top layers keep their state-dict keys.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from storyscore.text.minilm_files import Config, MiniLMFiles


class Embeddings(nn.Module):
    def __init__(self, c: Config) -> None:
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
    def __init__(self, c: Config) -> None:
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

    def __init__(self, n_in: int, c: Config) -> None:
        super().__init__()
        self.dense = nn.Linear(n_in, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.eps)
        self.dropout = nn.Dropout(c.hidden_dropout)

    def forward(self, h: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(h)) + residual)


class Attention(nn.Module):
    def __init__(self, c: Config) -> None:
        super().__init__()
        self.self = SelfAttention(c)
        self.output = _DenseNorm(c.hidden_size, c)

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        return self.output(self.self(h, mask), h)


class Intermediate(nn.Module):
    def __init__(self, c: Config) -> None:
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.intermediate_size)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(h))


class Layer(nn.Module):
    """One BERT layer; `mask` is additive, (B, 1, 1, L) (0 keep, the dtype's minimum for padding)."""

    def __init__(self, c: Config) -> None:
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = _DenseNorm(c.intermediate_size, c)

    def forward(self, h: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        a = self.attention(h, mask)
        return self.output(self.intermediate(a), a)


class Encoder(nn.Module):
    def __init__(self, c: Config) -> None:
        super().__init__()
        self.layer = nn.ModuleList(Layer(c) for _ in range(c.num_layers))


class Bert(nn.Module):
    """BERT without its pooler: (input ids, token types, 1/0 mask) → last hidden states (B, L, H)."""

    def __init__(self, c: Config) -> None:
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


_BERTS: dict[str, Bert] = {}


def torch_bert(model_dir: str, weights: dict[str, np.ndarray] | None = None) -> Bert:
    """The packaged BERT (no pooler) as torch modules in eval mode, built once per folder on the meta device
    and given the weights' tensors (no random initialisation to throw away). `weights`: the folder's
    arrays already in memory (the numpy forward's), shared rather than read from the file again; nothing
    writes them (fine-tuning trains copies of the top layers)."""
    if model_dir not in _BERTS:
        files = MiniLMFiles(Path(model_dir))
        with torch.device("meta"):
            bert = Bert(files.config)
        arrays = weights if weights is not None else files.weights()
        bert.load_state_dict({k: torch.from_numpy(v) for k, v in arrays.items()}, strict=True, assign=True)
        _BERTS[model_dir] = bert.eval().requires_grad_(False)
    return _BERTS[model_dir]


__all__ = ["Bert", "Layer", "additive_mask", "torch_bert"]
