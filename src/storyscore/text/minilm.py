"""all-MiniLM-L6-v2 without sentence-transformers, transformers or torch: the packaged WordPiece tokenizer
(`tokenizers`) and the BERT forward pass in numpy (float32).

Importing sentence-transformers/transformers costs seconds of cold start and torch alone more than a second,
while one passage needs milliseconds of arithmetic; so inference runs here, in numpy, and torch is loaded
only to fine-tune (`storyscore.text.bert_torch`, the same network as torch modules). It follows the
sentence-transformers pipeline of the packaged model (modules.json): Transformer (BERT, inputs truncated to
``max_seq_length`` word pieces, [CLS] and [SEP] included, padded to the longest of the batch) → mean pooling
over the attention mask (1_Pooling) → L2 normalisation (Normalize). Texts are batched longest first, as
`SentenceTransformer.encode` does, so batches pad the same way. Equivalence with sentence-transformers (to
1e-5) is tested in tests/test_text_encoder_fast.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from storyscore.text.minilm_files import Config, MiniLMFiles

_ERF_P_OVER_SQRT2 = np.float32(0.5 ** 0.5 * 0.3275911)  # A&S 7.1.26's p, for erf(a/√2)
_ERF_A = tuple(np.float32(c) for c in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592))


def gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x·Φ(x), with erf to about 2e-7 (Abramowitz & Stegun 7.1.26): numpy has no erf,
    and scipy.special costs a third of a second to import.

    With a = |x| and erfc(a/√2) = poly(t)·exp(-a²/2), t = 1/(1 + p·a/√2): GELU(x) = max(x, 0) − a·erfc/2,
    computed in place (this is most of the arithmetic outside the matrix products).
    """
    a = np.abs(x)
    t = a * _ERF_P_OVER_SQRT2
    t += np.float32(1.0)
    np.reciprocal(t, out=t)
    poly = np.full_like(t, _ERF_A[0])
    for c in _ERF_A[1:]:
        poly *= t
        poly += c
    poly *= t
    e = a * a
    e *= np.float32(-0.5)
    np.exp(e, out=e)
    poly *= e
    poly *= a
    poly *= np.float32(0.5)
    out = np.maximum(x, np.float32(0.0))
    out -= poly
    return out


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + eps) * weight + bias


class NumpyBert:
    """BERT without its pooler, forward only: (input ids, token types, 1/0 mask) → last hidden states."""

    def __init__(self, config: Config, weights: dict[str, np.ndarray]) -> None:
        self.config = config
        # kept as stored (Linear weights (out, in)), so the torch forward can share these arrays
        self.w = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in weights.items()}

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        # As one 2-D product: numpy's stacked (3-D) matmul does not reach BLAS and is 40x slower here. W.T is a
        # transposed view, which BLAS reads as it is (as fast as a transposed copy, and no copy kept).
        w = self.w[f"{name}.weight"]
        return (x.reshape(-1, w.shape[1]) @ w.T + self.w[f"{name}.bias"]).reshape(*x.shape[:-1], w.shape[0])

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        return layer_norm(x, self.w[f"{name}.weight"], self.w[f"{name}.bias"], self.config.eps)

    def __call__(self, input_ids: np.ndarray, token_type_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        c, w = self.config, self.w
        batch, length = input_ids.shape
        # the order of the sums is transformers' (float rounding)
        h = w["embeddings.word_embeddings.weight"][input_ids] + w["embeddings.token_type_embeddings.weight"][token_type_ids]
        h = h + w["embeddings.position_embeddings.weight"][:length][None, :, :]
        h = self._norm(h, "embeddings.LayerNorm")
        heads, size = c.num_heads, c.hidden_size // c.num_heads
        add = np.where(attention_mask[:, None, :] > 0, 0.0, np.finfo(np.float32).min).astype(np.float32)  # (B, 1, L)
        scale = np.float32(size ** -0.5)
        for i in range(c.num_layers):
            p = f"encoder.layer.{i}"

            def heads_first(x: np.ndarray) -> np.ndarray:  # (B, L, H) → contiguous (B, heads, L, size)
                return np.ascontiguousarray(x.reshape(batch, length, heads, size).transpose(0, 2, 1, 3))

            q = heads_first(self._dense(h, f"{p}.attention.self.query") * scale)
            k = heads_first(self._dense(h, f"{p}.attention.self.key"))
            v = heads_first(self._dense(h, f"{p}.attention.self.value"))
            ctx = np.empty((batch, heads, length, size), dtype=np.float32)
            for b in range(batch):  # 2-D products per item and head (see `_dense`)
                for j in range(heads):
                    scores = q[b, j] @ k[b, j].T
                    scores += add[b]
                    scores -= scores.max(axis=-1, keepdims=True)
                    np.exp(scores, out=scores)
                    scores /= scores.sum(axis=-1, keepdims=True)
                    np.matmul(scores, v[b, j], out=ctx[b, j])
            ctx = ctx.transpose(0, 2, 1, 3).reshape(batch, length, c.hidden_size)
            a = self._norm(self._dense(ctx, f"{p}.attention.output.dense") + h, f"{p}.attention.output.LayerNorm")
            inter = gelu(self._dense(a, f"{p}.intermediate.dense"))
            h = self._norm(self._dense(inter, f"{p}.output.dense") + a, f"{p}.output.LayerNorm")
        return h


class MiniLM:
    """The packaged sentence encoder: `encode(texts)` → (n, H) unit float32 rows.

    A few texts (a query, a passage: up to `NUMPY_MAX_TEXTS`) run through the numpy forward, so a cold
    `match` never imports torch; more run through the same network in torch (`text.bert_torch`), whose
    multi-threaded kernels are about twice as fast on a novel's thousands of chunks, where the one-off
    import is amortised. Both give sentence-transformers' embeddings to 1e-5 and each other's to 1e-6.
    """

    NUMPY_MAX_TEXTS = 64

    def __init__(self, model_dir: str | Path) -> None:
        self.files = MiniLMFiles(Path(model_dir))
        self.max_seq_length = self.files.max_seq_length
        self.bert = NumpyBert(self.files.config, self.files.weights())

    @property
    def dim(self) -> int:
        return self.files.config.hidden_size

    def tokenize(self, texts: list[str], max_tokens: int | None = None) -> dict[str, np.ndarray]:
        return self.files.tokenize(texts, max_tokens)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        forward = self.bert if len(texts) <= self.NUMPY_MAX_TEXTS else self._torch_forward()
        # longest first (sentence-transformers' order, with its np.argsort), so batches pad alike
        order = np.argsort([-len(t) for t in texts])
        for s in range(0, len(order), batch_size):
            idx = order[s:s + batch_size]
            enc = self.tokenize([texts[i] for i in idx])
            h = forward(enc["input_ids"], enc["token_type_ids"], enc["attention_mask"])
            m = enc["attention_mask"][..., None].astype(np.float32)
            pooled = (h * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
            out[idx] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out

    def _torch_forward(self) -> Any:
        """numpy in, numpy out, through `bert_torch.torch_bert` (loaded on first use)."""
        import torch

        from storyscore.text.bert_torch import torch_bert

        bert = torch_bert(str(self.files.dir), self.bert.w)  # the weights this model holds, not a second copy

        def forward(input_ids: np.ndarray, token_type_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                return bert(torch.from_numpy(input_ids), torch.from_numpy(token_type_ids),
                            torch.from_numpy(attention_mask)).numpy()

        return forward


__all__ = ["MiniLM", "NumpyBert", "gelu", "layer_norm"]
