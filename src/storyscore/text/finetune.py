"""Fine-tuning the top layers of the MiniLM text encoder (`storyscore.text.encoder`) on a CPU.

all-MiniLM-L6-v2 is word-piece embeddings → 6 BERT layers → mean pooling over the real tokens → L2
normalisation. To fine-tune only its top ``k`` layers cheaply, the frozen part (embeddings and the bottom
``6 - k`` layers) runs ONCE over every text (`bottom_hidden`, kept as float32 hidden states without their
padding), and each training step runs only `TextTop`: deep copies of the top ``k`` layers, pooling and
normalisation, with gradients. The token embeddings are never trained.

With ``k = 6`` and the original weights `TextTop` reproduces `encoder.embed_sentences` (to float rounding).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from storyscore.text.bert_torch import additive_mask

MINILM_LAYERS = 6  # transformer layers of all-MiniLM-L6-v2


def _base() -> Any:
    """The installed MiniLM's BERT as torch modules (`text.bert_torch.Bert`, loaded once, never trained
    itself: `TextTop` trains copies of its top layers)."""
    from storyscore.text.bert_torch import torch_bert
    from storyscore.text.encoder import _model

    model = _model()  # its weights, shared with the numpy forward
    return torch_bert(str(model.files.dir), model.bert.w)


def model_max_tokens() -> int:
    """The model's window in word pieces (256, sentence-transformers' max_seq_length): what
    `embed_sentences` truncates to."""
    from storyscore.text.encoder import _model

    return int(_model().max_seq_length)


def _length_order(texts: Sequence[str]) -> np.ndarray:
    # longest first, as sentence-transformers does, so a batch pads little
    return np.argsort([-len(t) for t in texts], kind="stable")


def _bottom_batches(texts: Sequence[str], frozen_layers: int, max_tokens: int,
                    batch_size: int) -> Iterator[tuple[np.ndarray, torch.Tensor, torch.Tensor]]:
    """(indices into texts, hidden (B, L, 384), mask (B, L)) after the frozen bottom, in length order."""
    from storyscore.text.encoder import _model

    st = _model()  # the tokenizer
    base = _base()
    if frozen_layers < 0 or frozen_layers > len(base.encoder.layer):
        raise ValueError(f"frozen_layers must be within 0..{len(base.encoder.layer)}, not {frozen_layers}")
    base.eval()  # no dropout in the frozen part (encode() puts it in eval mode too)
    order = _length_order(texts)
    for s in range(0, len(order), batch_size):
        idx = order[s:s + batch_size]
        enc = {k: torch.from_numpy(v) for k, v in st.tokenize([texts[i] for i in idx], max_tokens).items()}
        with torch.no_grad():
            h = base.embeddings(input_ids=enc["input_ids"], token_type_ids=enc["token_type_ids"])
            mask = enc["attention_mask"]
            add = additive_mask(mask, h.dtype)
            for layer in base.encoder.layer[:frozen_layers]:
                h = layer(h, add)
        yield idx, h.float(), mask.float()


class HiddenStates:
    """Cached outputs of the frozen bottom of MiniLM: one (L_i, 384) float32 tensor per text, unpadded."""

    def __init__(self, states: list[torch.Tensor]) -> None:
        self.states = states

    def __len__(self) -> int:
        return len(self.states)

    def batch(self, idx: torch.Tensor | Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Hidden states (B, L, 384) padded to the longest of the batch, and the (B, L) 1/0 mask."""
        rows = [self.states[int(i)] for i in idx]
        hidden = nn.utils.rnn.pad_sequence(rows, batch_first=True)
        lengths = torch.tensor([r.shape[0] for r in rows])
        mask = (torch.arange(hidden.shape[1])[None, :] < lengths[:, None]).float()
        return hidden, mask


def bottom_hidden(texts: Sequence[str], frozen_layers: int, max_tokens: int = 128,
                  batch_size: int = 64) -> HiddenStates:
    """Run MiniLM's embeddings and its bottom `frozen_layers` layers once over `texts` (each truncated to
    `max_tokens` word pieces, [CLS] and [SEP] included); the states are kept without padding."""
    states: list[torch.Tensor | None] = [None] * len(texts)
    for idx, h, mask in _bottom_batches(texts, frozen_layers, max_tokens, batch_size):
        for row, i in enumerate(idx):
            n = int(mask[row].sum())
            states[int(i)] = h[row, :n].clone()  # own storage: do not keep the padded batch alive
    return HiddenStates([s for s in states if s is not None])


class TextTop(nn.Module):
    """The top `layers` transformer layers of MiniLM (trainable copies) + mean pooling + L2 normalisation.

    Built from the installed model's weights; `load_state_dict` replaces them with fine-tuned ones. The
    frozen bottom (`frozen_layers` layers and the embeddings) is not part of this module or its state.
    """

    def __init__(self, layers: int) -> None:
        super().__init__()
        base = _base()
        total = len(base.encoder.layer)
        if not 1 <= layers <= total:
            raise ValueError(f"text_layers must be within 1..{total} to fine-tune, not {layers}")
        self.frozen_layers = total - layers
        self.layers = nn.ModuleList(copy.deepcopy(base.encoder.layer[i]) for i in range(self.frozen_layers, total))
        for p in self.layers.parameters():
            p.requires_grad_(True)

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, L, 384) bottom hidden states and (B, L) 1/0 mask → (B, 384) unit text embeddings."""
        add = additive_mask(mask, hidden.dtype)
        h = hidden
        for layer in self.layers:
            h = layer(h, add)
        m = mask[..., None].to(h.dtype)
        pooled = (h * m).sum(dim=1) / m.sum(dim=1).clamp_min(1e-9)  # sentence-transformers' mean pooling
        return F.normalize(pooled, dim=-1)

    def encode_states(self, states: HiddenStates, batch_size: int = 64) -> torch.Tensor:
        """(n, 384) embeddings of cached bottom states, in their order (gradients as the caller's mode)."""
        if len(states) == 0:
            return torch.zeros(0, self.layers[0].output.dense.out_features)
        out = [self(*states.batch(range(s, min(s + batch_size, len(states)))))
               for s in range(0, len(states), batch_size)]
        return torch.cat(out)

    def embed_sentences(self, texts: list[str], batch_size: int = 64, max_tokens: int | None = None) -> np.ndarray:
        """Unit embeddings (n, 384) of short texts, as `encoder.embed_sentences` but through these layers.

        Texts are truncated to `max_tokens` word pieces (default the model's window, 256, as
        `embed_sentences` does); the module is run in eval mode and put back as it was.
        """
        dim = self.layers[0].output.dense.out_features
        out = np.zeros((len(texts), dim), dtype=np.float32)
        if not texts:
            return out
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                for idx, h, mask in _bottom_batches(texts, self.frozen_layers, max_tokens or model_max_tokens(),
                                                    batch_size):
                    out[idx] = self(h, mask).numpy()
        finally:
            self.train(was_training)
        return out


__all__ = ["MINILM_LAYERS", "HiddenStates", "TextTop", "additive_mask", "bottom_hidden", "model_max_tokens"]
