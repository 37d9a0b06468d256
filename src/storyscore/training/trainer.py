"""Training emotion spaces as small PyTorch heads on FROZEN features (optionally fine-tuning MiniLM's top).

Inputs (by default the encoders are frozen and only the heads are trained):

* text: the 384-d unit MiniLM passage embedding (`storyscore.text.encoder.embed_passages`); with
  ``TrainConfig.text_layers = k > 0`` the top ``k`` of MiniLM's 6 layers are fine-tuned with the heads
  (`storyscore.text.finetune`; the model then embeds passages with its own layers);
* music: `music_inputs(analyses)` = musicnn pooled penultimate features (400) ‖ MTT and MSD tag
  probabilities (2 × 50) ‖ six DSP descriptors (tempo, onset rate, EBU R128 loudness and loudness range,
  log brightness, mode strength) — 506 numbers.

Both are standardised with the *training* split's mean and standard deviation (stored with the model).

Text labels (Alm / ISEAR vocabularies) and music labels (AudioSet moods) are related by a label mapping
(`storyscore.lexicon.vocab.MAPPINGS`, default ``"manual"``): a clip is relevant to a text when its mood is in
the image of the text's label. Spaces (``space=`` names):

``classification``
    One softmax classifier per modality (text over the training text labels, music over the training
    moods). ``embed_text`` gives text-label probabilities, ``embed_audio`` mood probabilities;
    similarity = P(the music is in a mood relevant to the text) = Σ_t p(t|text) Σ_{m ∈ map(t)} p(m|music).
    It cannot cross vocabularies on its own: without a mapping entry a text label scores 0 against
    every clip (the paper's "classification fails on ISEAR" row); the mapping is frozen into the model.
``va``
    Both modalities regress (MSE) onto their label's (valence, arousal) on [-1, 1] from the Warriner
    lexicon (`vocab.label_va`); similarity = −Euclidean distance in the VA plane (from the
    *predictions*, not the ground truth, unlike the reference code).
``wordvec``
    Both modalities regress onto their label's GloVe vector (50-d, unit; loss 1 − cosine);
    similarity = cosine.
``two_branch``
    Text and music MLP branches into a 64-d unit space; triplet loss on cosine, margin 0.2. For a text
    anchor the positive is a clip whose mood is relevant to its label and the negative a clip whose mood
    is NOT relevant (negatives are masked by the *music* label under the mapping — the reference code
    masked by the text label, so a "negative" could share the positive's mood).
``three_branch``
    Adds a tag-word branch fed with the label's GloVe vector; loss = 0.3·tag→text + 0.3·tag→music +
    0.4·text→music triplet losses; negatives drawn within the batch with probability ∝ (cos + 1)/2
    among the valid (non-relevant) ones.
``supcon``
    Supervised contrastive losses (temperature 0.1) across modalities (text→music and music→text,
    positives = pairs related under the mapping) plus within each modality (texts whose labels share a
    relevant mood; clips of the same mood), weight 0.5 for the intra-modal part.
``va_regularised``
    ``two_branch`` plus an emotion-similarity regulariser (Doh et al. 2023): the MSE between the cosine
    of every in-batch text–music pair and 1 − (VA distance of their labels)/√2 (distances on [-1, 1]²
    scaled so opposite corners give −1), weight 0.5.

Training: Adam (lr 1e-3, weight decay 1e-4), mini-batches, early stopping on the validation split's
text→music MRR under the training mapping (`metrics.evaluate_retrieval`), best epoch's weights kept.
Fine-tuning (``text_layers > 0``): the frozen bottom of MiniLM runs once over the training and validation
texts (truncated to ``text_max_tokens`` word pieces) and every step runs the trainable top layers, which
get their own learning rate ``text_lr``; the text standardisation statistics still come from the frozen
passage embeddings of the training split.
Deterministic for a given seed: all randomness comes from a seeded generator inside
`torch.random.fork_rng`, so the caller's global RNG state is left untouched.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from storyscore.audio.encoder import TrackAnalysis
from storyscore.lexicon.vocab import MAPPINGS, label_va
from storyscore.spaces.heads import (
    METRIC_SPACES,
    MUSIC_DIM,
    MUSIC_LAYOUT,
    SPACES,
    TEXT_DIM,
    Heads,
    music_inputs,
    relevance_matrix,
    similarity_from_embeddings,
)


@dataclass
class TrainConfig:
    epochs: int = 200
    patience: int = 15  # epochs without a better validation MRR before stopping
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    hidden: int = 256
    dim: int = 64  # metric spaces' embedding size
    dropout: float = 0.2
    margin: float = 0.2  # triplet margin on cosine
    temperature: float = 0.1  # supcon
    intra_weight: float = 0.5  # supcon intra-modal weight
    va_weight: float = 0.5  # va_regularised
    va_source: str = "warriner"
    seed: int = 0
    # Fine-tuning MiniLM: how many of its top transformer layers train with the heads (0 = frozen encoder,
    # 6 = all layers; the word-piece embeddings always stay frozen), their learning rate, and the length
    # training passages are truncated to, in word pieces ([CLS] and [SEP] included). At inference a
    # fine-tuned model reads whole passages as `embed_passages` does (sentence chunks, pooled).
    text_layers: int = 0
    text_lr: float = 2e-5
    text_max_tokens: int = 128


@dataclass(frozen=True)
class LabelSplits:
    """What every training loop derives from the labels and splits: the train/valid/test item indices, the
    training vocabularies (labels seen in training, sorted), each training item's vocabulary index, and the
    label relevance under the mapping."""

    mapping: str
    text_labels: np.ndarray  # (n_texts,) object
    music_labels: np.ndarray  # (n_clips,) object
    text_splits: np.ndarray
    music_splits: np.ndarray
    text_vocab: list[str]
    music_vocab: list[str]
    relevance: np.ndarray  # (T vocab, M vocab) bool

    def text(self, split: str) -> np.ndarray:
        return np.flatnonzero(self.text_splits == split)

    def music(self, split: str) -> np.ndarray:
        return np.flatnonzero(self.music_splits == split)

    def train_text_y(self) -> torch.Tensor:
        index = {lab: i for i, lab in enumerate(self.text_vocab)}
        return torch.tensor([index[x] for x in self.text_labels[self.text("train")]])

    def train_music_y(self) -> torch.Tensor:
        index = {lab: i for i, lab in enumerate(self.music_vocab)}
        return torch.tensor([index[x] for x in self.music_labels[self.music("train")]])

    def card_fields(self) -> dict[str, Any]:
        """The model card's mapping, mapping table (frozen into the model), vocabularies and split sizes."""
        return {
            "mapping": self.mapping,
            "mapping_table": {t: sorted(MAPPINGS[self.mapping].get(t, ())) for t in self.text_vocab},
            "vocabularies": {"text": self.text_vocab, "music": self.music_vocab},
            "splits": {"text": {s: len(self.text(s)) for s in ("train", "valid", "test")},
                       "music": {s: len(self.music(s)) for s in ("train", "valid", "test")}},
        }


def label_splits(text_labels: Sequence[str], text_splits: Sequence[str], music_labels: Sequence[str],
                 music_splits: Sequence[str], mapping: str) -> LabelSplits:
    """Check the mapping and that both modalities have training items, and derive `LabelSplits`."""
    if mapping not in MAPPINGS:
        raise ValueError(f"unknown mapping {mapping!r} (use one of {sorted(MAPPINGS)})")
    tl, ml = np.asarray(text_labels, dtype=object), np.asarray(music_labels, dtype=object)
    ts, ms = np.asarray(text_splits), np.asarray(music_splits)
    tr_t, tr_m = np.flatnonzero(ts == "train"), np.flatnonzero(ms == "train")
    if len(tr_t) == 0 or len(tr_m) == 0:
        raise ValueError("no training items")
    text_vocab, music_vocab = sorted(set(tl[tr_t])), sorted(set(ml[tr_m]))
    return LabelSplits(mapping, tl, ml, ts, ms, text_vocab, music_vocab,
                       relevance_matrix(text_vocab, music_vocab, mapping))


def fill_standardisation(mean: torch.Tensor, std: torch.Tensor, x: np.ndarray) -> None:
    """Set a model's input standardisation buffers from the training rows `x` (constant columns: std 1)."""
    sd = x.std(axis=0)
    mean.copy_(torch.from_numpy(x.mean(axis=0)))
    std.copy_(torch.from_numpy(np.where(sd > 1e-6, sd, 1.0).astype(np.float32)))


def label_targets(space: str, labels: Sequence[str], va_source: str = "warriner") -> np.ndarray:
    """Regression targets of labels: (n, 2) VA for ``va``, (n, 50) unit GloVe for ``wordvec``/tags."""
    if space in ("va", "va_regularised"):
        return np.array([label_va(lab, va_source) for lab in labels], dtype=np.float32)
    from storyscore.lexicon.norms import glove

    wv = glove()
    out = []
    for lab in labels:
        v = wv.vector(lab)
        if v is None:
            raise ValueError(f"no GloVe vector for label {lab!r}")
        out.append(v)
    return np.stack(out).astype(np.float32)


# --- sampling --------------------------------------------------------------------------------


def sample_pairs(anchor_rel: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """For each anchor row of a boolean (B, N) relevance matrix, one relevant (positive) and one
    non-relevant (negative) column, uniformly. Rows without either must be filtered out before."""
    pos = torch.multinomial(anchor_rel.float(), 1, generator=gen).squeeze(1)
    neg = torch.multinomial((~anchor_rel).float(), 1, generator=gen).squeeze(1)
    return pos, neg


def sample_negatives(cos: torch.Tensor, valid: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """In-batch negatives: for each row of (B, N) cosines, one column among `valid` ones drawn with
    probability ∝ (cos + 1)/2. Returns (indices, has_negative); rows without a valid column get index 0
    and has_negative False (their loss must be masked)."""
    w = ((cos.detach() + 1.0) / 2.0).clamp_min(1e-6) * valid.float()
    has = valid.any(dim=1)
    w = torch.where(has[:, None], w, torch.ones_like(w))
    idx = torch.multinomial(w, 1, generator=gen).squeeze(1)
    return idx, has


def _triplet(anchor: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor, margin: float,
             mask: torch.Tensor | None = None) -> torch.Tensor:
    loss = F.relu(margin - (anchor * pos).sum(-1) + (anchor * neg).sum(-1))
    if mask is not None:
        if not bool(mask.any()):
            return loss.sum() * 0.0
        return loss[mask].mean()
    return loss.mean()


def _supcon(sim: torch.Tensor, pos: torch.Tensor, temperature: float, exclude_self: bool = False) -> torch.Tensor:
    """Supervised contrastive loss of (B, N) cosines with boolean positives; anchors without a positive skip."""
    logits = sim / temperature
    if exclude_self:
        eye = torch.eye(sim.shape[0], dtype=torch.bool)
        logits = logits.masked_fill(eye, -1e9)
        pos = pos & ~eye
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    n_pos = pos.sum(1)
    ok = n_pos > 0
    if not bool(ok.any()):
        return sim.sum() * 0.0
    per = -(log_prob * pos.float()).sum(1)[ok] / n_pos[ok]
    return per.mean()


# --- training --------------------------------------------------------------------------------


@dataclass
class _Data:
    text_x: torch.Tensor
    text_y: torch.Tensor  # index into text vocab
    music_x: torch.Tensor
    music_y: torch.Tensor
    rel: torch.Tensor  # (T, M) label relevance
    text_targets: torch.Tensor | None = None
    music_targets: torch.Tensor | None = None
    tag_vectors: torch.Tensor | None = None  # (T + M, 50): text labels then moods
    va_text: torch.Tensor | None = None
    va_music: torch.Tensor | None = None
    text_hidden: Any = None  # text.finetune.HiddenStates of the training texts, when fine-tuning


def _text_batch(model: Heads, d: _Data, tb: torch.Tensor) -> torch.Tensor:
    """The text branch's outputs for training texts `tb`: frozen inputs, or the fine-tuned encoder's."""
    if d.text_hidden is None:
        return model.embed_text(d.text_x[tb])
    return model.embed_text(model.encode_text(*d.text_hidden.batch(tb)))


@dataclass
class TrainResult:
    model: Heads
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = -1
    best_valid_mrr: float = float("nan")
    seconds: float = 0.0


def _batch_loss(space: str, model: Heads, d: _Data, tb: torch.Tensor, mb: torch.Tensor,
                cfg: TrainConfig, gen: torch.Generator) -> torch.Tensor:
    """Loss of one step; `tb` texts, `mb` clips (for pair spaces `mb` holds each text's positive)."""
    if space == "classification":
        return F.cross_entropy(_text_batch(model, d, tb), d.text_y[tb]) + F.cross_entropy(
            model.embed_music(d.music_x[mb]), d.music_y[mb])
    if space == "va":
        return F.mse_loss(_text_batch(model, d, tb), d.text_targets[tb]) + F.mse_loss(
            model.embed_music(d.music_x[mb]), d.music_targets[mb])
    if space == "wordvec":
        t = _text_batch(model, d, tb)
        m = model.embed_music(d.music_x[mb])
        return (1 - (t * d.text_targets[tb]).sum(-1)).mean() + (1 - (m * d.music_targets[mb]).sum(-1)).mean()

    t = _text_batch(model, d, tb)
    rel_tm = d.rel[d.text_y[tb]]  # (B, M_vocab)
    if space in ("two_branch", "va_regularised"):
        # uniform negatives among ALL training clips whose mood is not relevant to the anchor's label
        rel_items = rel_tm[:, d.music_y]  # (B, N_music)
        neg, has = sample_negatives(torch.zeros(rel_items.shape), ~rel_items, gen)  # uniform over valid
        loss = _triplet(t, model.embed_music(d.music_x[mb]), model.embed_music(d.music_x[neg]), cfg.margin, has)
        if space == "va_regularised":
            m = model.embed_music(d.music_x[mb])
            vt, vm = d.va_text[d.text_y[tb]], d.va_music[d.music_y[mb]]
            target = 1.0 - torch.cdist(vt, vm) / math.sqrt(2.0)
            loss = loss + cfg.va_weight * F.mse_loss(t @ m.T, target)
        return loss

    m = model.embed_music(d.music_x[mb])
    rel_batch = rel_tm[:, d.music_y[mb]]  # (B, B): clip j relevant to text i
    if space == "three_branch":
        n_text_vocab = d.rel.shape[0]
        tag_t = model.embed_tag(d.tag_vectors[d.text_y[tb]])
        tag_m = model.embed_tag(d.tag_vectors[n_text_vocab + d.music_y[mb]])
        # tag → text: anchor = the text's label word, negatives = texts of other labels
        valid = d.text_y[tb][None, :] != d.text_y[tb][:, None]
        idx, has = sample_negatives(tag_t @ t.T, valid, gen)
        l_tag_text = _triplet(tag_t, t, t[idx], cfg.margin, has)
        # tag → music: anchor = the clip's mood word, negatives = clips of other moods
        valid = d.music_y[mb][None, :] != d.music_y[mb][:, None]
        idx, has = sample_negatives(tag_m @ m.T, valid, gen)
        l_tag_music = _triplet(tag_m, m, m[idx], cfg.margin, has)
        # text → music: positive = the paired relevant clip, negatives = in-batch clips NOT relevant
        idx, has = sample_negatives(t @ m.T, ~rel_batch, gen)
        l_text_music = _triplet(t, m, m[idx], cfg.margin, has)
        return 0.3 * l_tag_text + 0.3 * l_tag_music + 0.4 * l_text_music
    if space == "supcon":
        cross = 0.5 * (_supcon(t @ m.T, rel_batch, cfg.temperature) + _supcon(m @ t.T, rel_batch.T, cfg.temperature))
        ty, my = d.text_y[tb], d.music_y[mb]
        text_rel = (ty[:, None] == ty[None, :]) | ((d.rel[ty].float() @ d.rel[ty].float().T) > 0)
        music_rel = my[:, None] == my[None, :]
        intra = 0.5 * (_supcon(t @ t.T, text_rel, cfg.temperature, exclude_self=True)
                       + _supcon(m @ m.T, music_rel, cfg.temperature, exclude_self=True))
        return cross + cfg.intra_weight * intra
    raise ValueError(f"unknown space {space!r} (use one of {', '.join(SPACES)})")


def fit(
    space: str,
    text_x: np.ndarray,
    text_labels: Sequence[str],
    text_splits: Sequence[str],
    music_x: np.ndarray,
    music_labels: Sequence[str],
    music_splits: Sequence[str],
    *,
    mapping: str = "manual",
    config: TrainConfig | None = None,
    log: Any = None,
    texts: Sequence[str] | None = None,
) -> tuple[TrainResult, LabelSplits]:
    """Train a space's heads; returns (result, the labels' splits and vocabularies). Lower level than `train`.

    ``text_x`` are the frozen (n, 384) passage embeddings; with ``config.text_layers > 0`` they only give
    the standardisation statistics and ``texts`` (the n raw passages, required) feed the fine-tuned encoder.
    """
    from storyscore.training.metrics import evaluate_retrieval

    if space not in SPACES:
        raise ValueError(f"unknown space {space!r} (use one of {', '.join(SPACES)})")
    labels = label_splits(text_labels, text_splits, music_labels, music_splits, mapping)
    cfg = config or TrainConfig()
    _check_text_layers(cfg, texts, len(text_x))
    text_x = np.asarray(text_x, dtype=np.float32)
    music_x = np.asarray(music_x, dtype=np.float32)
    tl, ml = labels.text_labels, labels.music_labels
    tr_t, tr_m = labels.text("train"), labels.music("train")
    va_t, va_m = labels.text("valid"), labels.music("valid")
    text_vocab, music_vocab, rel = labels.text_vocab, labels.music_vocab, labels.relevance

    with torch.random.fork_rng(devices=[]):
        train_hidden = valid_hidden = None
        if cfg.text_layers > 0:  # inside fork_rng: loading MiniLM must not move the caller's RNG either
            from storyscore.text.finetune import MINILM_LAYERS, bottom_hidden

            # the frozen bottom runs once here; each step then runs only the trainable top layers
            frozen = MINILM_LAYERS - cfg.text_layers
            assert texts is not None  # checked above
            train_hidden = bottom_hidden([str(texts[i]) for i in tr_t], frozen, cfg.text_max_tokens)
            valid_hidden = bottom_hidden([str(texts[i]) for i in va_t], frozen, cfg.text_max_tokens)
        torch.manual_seed(cfg.seed)
        gen = torch.Generator().manual_seed(cfg.seed)
        model = Heads(space, len(text_vocab), len(music_vocab), cfg.hidden, cfg.dim, cfg.dropout,
                      text_x.shape[1], music_x.shape[1], text_layers=cfg.text_layers)
        fill_standardisation(model.text_mean, model.text_std, text_x[tr_t])
        fill_standardisation(model.music_mean, model.music_std, music_x[tr_m])
        d = _Data(
            text_x=torch.from_numpy(text_x[tr_t]),
            text_y=labels.train_text_y(),
            music_x=torch.from_numpy(music_x[tr_m]),
            music_y=labels.train_music_y(),
            rel=torch.from_numpy(rel),
            text_hidden=train_hidden,
        )
        if space in ("va", "wordvec"):
            d.text_targets = torch.from_numpy(label_targets(space, list(tl[tr_t]), cfg.va_source))
            d.music_targets = torch.from_numpy(label_targets(space, list(ml[tr_m]), cfg.va_source))
        if space == "three_branch":
            d.tag_vectors = torch.from_numpy(label_targets("wordvec", text_vocab + music_vocab))
        if space == "va_regularised":
            d.va_text = torch.from_numpy(label_targets("va", text_vocab, cfg.va_source))
            d.va_music = torch.from_numpy(label_targets("va", music_vocab, cfg.va_source))

        pair_space = space in METRIC_SPACES
        # texts whose label has a relevant training clip (the others cannot anchor a pair)
        usable = np.flatnonzero(rel[d.text_y.numpy()][:, d.music_y.numpy()].any(axis=1)) if pair_space else None
        if pair_space and len(usable) == 0:
            raise ValueError(f"no training text has a relevant training clip under mapping {mapping!r}")
        rel_items = d.rel[d.text_y][:, d.music_y]  # (N_text, N_music)

        if model.encoder is None:
            opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        else:  # the pretrained layers move with their own (small) learning rate
            enc = {id(p) for p in model.encoder.parameters()}
            opt = torch.optim.Adam([
                {"params": [p for p in model.parameters() if id(p) not in enc]},
                {"params": list(model.encoder.parameters()), "lr": cfg.text_lr},
            ], lr=cfg.lr, weight_decay=cfg.weight_decay)
        result = TrainResult(model=model)
        best_state: dict[str, torch.Tensor] | None = None
        bad = 0
        t0 = time.perf_counter()
        n_t = len(usable) if pair_space else len(tr_t)
        n_steps = max(1, math.ceil(max(n_t, len(tr_m) if not pair_space else 0) / cfg.batch_size))
        for epoch in range(cfg.epochs):
            model.train()
            t_perm = torch.randperm(n_t, generator=gen)
            if pair_space:
                t_perm = torch.from_numpy(usable)[t_perm]
            m_perm = torch.randperm(len(tr_m), generator=gen)
            total = 0.0
            for s in range(n_steps):
                tb = t_perm[torch.arange(s * cfg.batch_size, (s + 1) * cfg.batch_size) % n_t]
                if pair_space:
                    mb = torch.multinomial(rel_items[tb].float(), 1, generator=gen).squeeze(1)
                else:
                    mb = m_perm[torch.arange(s * cfg.batch_size, (s + 1) * cfg.batch_size) % len(tr_m)]
                loss = _batch_loss(space, model, d, tb, mb, cfg, gen)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.detach())
            entry = {"epoch": epoch, "loss": total / n_steps}
            if len(va_t) and len(va_m):
                model.eval()
                with torch.no_grad():
                    if valid_hidden is None:
                        et = model.embed_text(torch.from_numpy(text_x[va_t]))
                    else:
                        et = model.embed_text(model.encoder.encode_states(valid_hidden))
                    em = model.embed_music(torch.from_numpy(music_x[va_m]))
                    if space == "classification":
                        et, em = et.softmax(-1), em.softmax(-1)
                scores = similarity_from_embeddings(space, et.numpy(), em.numpy(), rel)
                ev = evaluate_retrieval(scores, list(tl[va_t]), list(ml[va_m]), mappings=(mapping,), ks=(5,))
                mrr = ev["mappings"][mapping]["model"]["micro"]["MRR"]
                entry["valid_mrr"] = mrr
                if not math.isnan(mrr) and (math.isnan(result.best_valid_mrr) or mrr > result.best_valid_mrr + 1e-9):
                    result.best_valid_mrr, result.best_epoch, bad = mrr, epoch, 0
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                else:
                    bad += 1
            result.history.append(entry)
            if log is not None:
                log(f"{space} epoch {epoch}: " + ", ".join(f"{k} {v:.4f}" for k, v in entry.items() if k != "epoch"))
            if bad >= cfg.patience:
                break
        if best_state is not None:
            model.load_state_dict(best_state)
        else:
            result.best_epoch = len(result.history) - 1
        model.eval()
        result.seconds = time.perf_counter() - t0
    return result, labels


def _check_text_layers(cfg: TrainConfig, texts: Sequence[str] | None, n_text: int) -> None:
    from storyscore.text.finetune import MINILM_LAYERS

    if not 0 <= cfg.text_layers <= MINILM_LAYERS:
        raise ValueError(f"text_layers must be within 0..{MINILM_LAYERS}, not {cfg.text_layers}")
    if cfg.text_layers > 0:
        if texts is None:
            raise ValueError(f"text_layers={cfg.text_layers} fine-tunes the text encoder: pass the raw passages "
                             "as texts=")
        if len(texts) != n_text:
            raise ValueError(f"texts has {len(texts)} passages but there are {n_text} text embeddings")
        if cfg.text_max_tokens < 2:
            raise ValueError(f"text_max_tokens must be at least 2 ([CLS] and [SEP]), not {cfg.text_max_tokens}")


def train(
    space: str,
    text_embeddings: np.ndarray,
    text_labels: Sequence[str],
    text_splits: Sequence[str],
    music: Sequence[TrackAnalysis] | np.ndarray,
    music_labels: Sequence[str],
    music_splits: Sequence[str],
    *,
    mapping: str = "manual",
    config: TrainConfig | None = None,
    data_description: dict[str, Any] | None = None,
    text_encoder: Any = None,
    log: Any = None,
    texts: Sequence[str] | None = None,
):
    """Train a space and return it as a `storyscore.spaces.trained.TrainedSpace` (metrics on the test
    split, when it has items, are in ``space.card["metrics"]["test"]``).

    ``text_embeddings`` are (n, 384) MiniLM passage embeddings (`text.encoder.embed_passages`);
    ``music`` is a list of `TrackAnalysis` or the (n, 506) array of `music_inputs`. Splits name each
    item's split: ``"train"``, ``"valid"`` (early stopping) or ``"test"`` (reported, never used to
    train). ``text_encoder`` (passages → embeddings) is what the returned space's `embed_text` calls;
    default MiniLM.

    With ``config.text_layers > 0`` MiniLM's top layers are fine-tuned: ``texts`` (the n raw passages the
    embeddings came from) is required, training reads them truncated to ``config.text_max_tokens`` word
    pieces, the test split is scored through the fine-tuned encoder, and ``text_encoder`` must be left
    out (the space embeds passages with its own layers).
    """
    from storyscore.spaces.trained import TrainedSpace
    from storyscore.training.evaluation import evaluate_heads

    cfg = config or TrainConfig()
    if cfg.text_layers > 0 and text_encoder is not None:
        raise ValueError("a fine-tuned space embeds passages with its own encoder: leave text_encoder out")
    music_x = music if isinstance(music, np.ndarray) else music_inputs(list(music))
    result, labels = fit(space, text_embeddings, text_labels, text_splits, music_x, music_labels, music_splits,
                         mapping=mapping, config=cfg, log=log, texts=texts)
    card: dict[str, Any] = {
        "space": space,
        **labels.card_fields(),
        "data": data_description or {},
        "seed": cfg.seed,
        "config": asdict(cfg),
        "training": {"best_epoch": result.best_epoch, "epochs_run": len(result.history),
                     "best_valid_mrr": result.best_valid_mrr, "seconds": round(result.seconds, 3)},
        "metrics": {},
    }
    trained = TrainedSpace(result.model, card, text_encoder=text_encoder)
    tt, mt = labels.text("test"), labels.music("test")
    if len(tt) and len(mt):
        # a fine-tuned space is scored on its own encoder's view of the test passages
        test_x = (np.asarray(text_embeddings)[tt] if cfg.text_layers == 0 or texts is None
                  else trained.text_inputs([str(texts[i]) for i in tt]))
        trained.card["metrics"]["test"] = evaluate_heads(
            trained, test_x, list(labels.text_labels[tt]), music_x[mt], list(labels.music_labels[mt]),
            prior_text_labels=list(labels.text_labels[labels.text("train")]))
    trained.history = result.history
    return trained


__all__ = [
    "MUSIC_DIM", "MUSIC_LAYOUT", "SPACES", "TEXT_DIM", "Heads", "LabelSplits", "TrainConfig", "TrainResult", "fit",
    "fill_standardisation", "label_splits", "label_targets", "music_inputs", "relevance_matrix",
    "sample_negatives", "sample_pairs", "similarity_from_embeddings", "train",
]
