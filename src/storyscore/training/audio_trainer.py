"""The paper's 2-branch space with the music branch learned from audio: a short-chunk ResNet CNN
(`storyscore.audio.shortchunk`) trained jointly with a text MLP head over frozen 384-d MiniLM passage
embeddings.

* text branch: training-split standardisation → MLP (as `storyscore.training.trainer`'s heads) → unit ``dim``-d;
* music branch: 16 kHz audio → 128-bin log-mel → `ShortChunkResNet` → unit ``dim``-d. Training sees one
  random crop (5 s by default) per clip occurrence; evaluation averages the unit embeddings of
  ``test_crops`` (16) evenly spread crops and re-normalises;
* loss: triplet on cosine, margin 0.2. For a text anchor the positive is a training clip whose mood is
  relevant to the text's label under the mapping, the negative a training clip whose mood is NOT
  relevant (masked by the *music* label, `storyscore.training.trainer.relevance_matrix`);
* Adam, early stopping on the validation split's text→music MRR (`metrics.evaluate_retrieval`), the
  best epoch's weights kept;
* deterministic for a seed (randomness from seeded generators inside `torch.random.fork_rng`; the
  caller's global RNG state is untouched) and resumable: after every epoch ``checkpoint_dir/last.pt``
  holds the model, optimiser, epoch, best state, history and every generator's state, so an
  interrupted run resumed with ``resume=True`` ends bit-identical to an uninterrupted one (same
  config, same thread count).

The returned `AudioTwoBranchSpace` embeds texts (vectors) and audio arrays and saves as
``model.safetensors`` + ``model.json`` (space ``"two_branch_cnn"``).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from storyscore.audio.shortchunk import (
    HOP,
    SAMPLE_RATE,
    log_mel_128,
    random_crops,
)
from storyscore.spaces.cnn import SPACE, AudioTrainConfig, AudioTwoBranch, AudioTwoBranchSpace, embed_mels
from storyscore.spaces.trained import WEIGHTS
from storyscore.training.evaluation import evaluate_cnn
from storyscore.training.trainer import _triplet, fill_standardisation, label_splits, sample_negatives

CHECKPOINT = "last.pt"


@dataclass
class _State:
    epoch: int = 0  # next epoch to run
    best_valid_mrr: float = float("nan")
    best_epoch: int = -1
    bad: int = 0
    best_state: dict[str, torch.Tensor] | None = None
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0


def _load_init(model: AudioTwoBranch, init_from: Path) -> list[str]:
    """Copy matching-shape CNN weights from a saved space folder / safetensors file or a ``.pt``
    checkpoint into `model`; returns the names loaded."""
    p = Path(init_from)
    if p.suffix == ".pt":
        state = torch.load(p, map_location="cpu", weights_only=False)["model"]
    else:
        from safetensors.torch import load_file

        state = load_file(str(p / WEIGHTS if p.is_dir() else p))
    own = model.state_dict()
    take = {k: v for k, v in state.items() if k.startswith("cnn.") and k in own and own[k].shape == v.shape}
    if not take:
        raise ValueError(f"{p}: no CNN weights that fit this model")
    model.load_state_dict(take, strict=False)
    return sorted(take)


def train_two_branch_audio(
    text_embeddings: np.ndarray,
    text_labels: Sequence[str],
    text_splits: Sequence[str],
    audio_clips: Sequence[np.ndarray],
    music_labels: Sequence[str],
    music_splits: Sequence[str],
    *,
    mapping: str = "manual",
    config: AudioTrainConfig | None = None,
    checkpoint_dir: Path | None = None,
    resume: bool = False,
    init_from: Path | None = None,
    log: Any = None,
    mels: Sequence[np.ndarray] | None = None,
) -> AudioTwoBranchSpace:
    """Train the text MLP and the short-chunk CNN jointly; returns the best-validation-epoch space with
    test-split metrics (when the split has items) in ``card["metrics"]["test"]``.

    ``audio_clips`` are 16 kHz mono arrays (``mels``, precomputed `log_mel_128` of them, skips the
    front end). Splits are ``"train"``, ``"valid"`` (early stopping) and ``"test"`` (reported only).
    With ``checkpoint_dir`` the state after every epoch goes to ``checkpoint_dir/last.pt``; ``resume``
    continues from it up to ``config.epochs`` (a run that already stopped early returns at once).
    ``init_from`` starts the CNN from saved weights (ignored when resuming from a checkpoint).
    """
    from storyscore.training.metrics import evaluate_retrieval

    labels = label_splits(text_labels, text_splits, music_labels, music_splits, mapping)
    cfg = config or AudioTrainConfig()
    text_x = np.asarray(text_embeddings, dtype=np.float32)
    if mels is None:
        mels = [log_mel_128(a) for a in audio_clips]
    mels = [np.asarray(m, dtype=np.float32) for m in mels]
    if len(mels) != len(music_labels) or len(mels) != len(music_splits):
        raise ValueError("audio clips, music labels and music splits differ in length")
    tl, ml = labels.text_labels, labels.music_labels
    tr_t, tr_m = labels.text("train"), labels.music("train")
    va_t, va_m = labels.text("valid"), labels.music("valid")
    rel = torch.from_numpy(labels.relevance)
    rel_items = rel[labels.train_text_y()][:, labels.train_music_y()]  # (N_text_train, N_music_train)
    usable = np.flatnonzero(rel_items.any(dim=1).numpy() & (~rel_items).any(dim=1).numpy())
    if len(usable) == 0:
        raise ValueError(f"no training text has both a relevant and a non-relevant training clip under {mapping!r}")
    train_mels = [mels[i] for i in tr_m]
    valid_mels = [mels[i] for i in va_m]
    ckpt = Path(checkpoint_dir) / CHECKPOINT if checkpoint_dir is not None else None

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        gen = torch.Generator().manual_seed(cfg.seed)
        rng = np.random.default_rng(cfg.seed)
        model = AudioTwoBranch(cfg, text_x.shape[1])
        fill_standardisation(model.text_mean, model.text_std, text_x[tr_t])
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        st = _State()
        initialised_from: list[str] = []
        if resume and ckpt is not None and ckpt.is_file():
            saved = torch.load(ckpt, map_location="cpu", weights_only=False)
            if saved["config"] != {k: v for k, v in asdict(cfg).items() if k not in ("epochs", "patience")}:
                raise ValueError(f"{ckpt}: checkpoint was written with a different configuration "
                                 "(resume with the same settings, or train into a new folder)")
            model.load_state_dict(saved["model"])
            opt.load_state_dict(saved["optimizer"])
            st = _State(**saved["state"])
            gen.set_state(saved["gen"])
            torch.set_rng_state(saved["torch_rng"])
            rng.bit_generator.state = saved["numpy_rng"]
            initialised_from = saved.get("initialised_from", [])
            if log is not None:
                log(f"{SPACE}: resumed from {ckpt} at epoch {st.epoch}")
        elif init_from is not None:
            initialised_from = _load_init(model, Path(init_from))
            if log is not None:
                log(f"{SPACE}: CNN initialised from {init_from} ({len(initialised_from)} tensors)")

        n_t = len(usable)
        n_steps = cfg.steps_per_epoch or max(1, math.ceil(n_t / cfg.batch_size))
        usable_t = torch.from_numpy(usable)
        t_train = torch.from_numpy(text_x[tr_t])
        stopped = st.bad >= cfg.patience
        while st.epoch < cfg.epochs and not stopped:
            t0 = time.perf_counter()
            model.train()
            perm = usable_t[torch.randperm(n_t, generator=gen)]
            total = 0.0
            for s in range(n_steps):
                tb = perm[torch.arange(s * cfg.batch_size, (s + 1) * cfg.batch_size) % n_t]
                r = rel_items[tb]
                pos = torch.multinomial(r.float(), 1, generator=gen).squeeze(1)
                neg, has = sample_negatives(torch.zeros(r.shape), ~r, gen)
                clips = torch.cat([pos, neg]).tolist()
                crops = np.concatenate([random_crops(train_mels[c], 1, cfg.crop_frames, rng) for c in clips])
                m = model.embed_crops(torch.from_numpy(crops))
                t = model.embed_text(t_train[tb])
                loss = _triplet(t, m[: len(tb)], m[len(tb):], cfg.margin, has)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.detach())
            entry: dict[str, float] = {"epoch": st.epoch, "loss": total / n_steps}
            if len(va_t) and len(va_m):
                model.eval()
                with torch.no_grad():
                    et = model.embed_text(torch.from_numpy(text_x[va_t])).numpy()
                em = embed_mels(model, valid_mels, cfg.test_crops, cfg.crop_frames)
                ev = evaluate_retrieval(et.astype(np.float64) @ em.T.astype(np.float64), list(tl[va_t]),
                                        list(ml[va_m]), mappings=(mapping,), ks=(5,))
                mrr = ev["mappings"][mapping]["model"]["micro"]["MRR"]
                entry["valid_mrr"] = mrr
                if not math.isnan(mrr) and (math.isnan(st.best_valid_mrr) or mrr > st.best_valid_mrr + 1e-9):
                    st.best_valid_mrr, st.best_epoch, st.bad = mrr, st.epoch, 0
                    st.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                else:
                    st.bad += 1
            st.history.append(entry)
            st.epoch += 1
            st.seconds += time.perf_counter() - t0
            stopped = st.bad >= cfg.patience
            if log is not None:
                log(f"{SPACE} epoch {entry['epoch']}: "
                    + ", ".join(f"{k} {v:.4f}" for k, v in entry.items() if k != "epoch"))
            if ckpt is not None:
                ckpt.parent.mkdir(parents=True, exist_ok=True)
                tmp = ckpt.with_suffix(".tmp")
                torch.save({
                    "model": model.state_dict(), "optimizer": opt.state_dict(), "state": asdict(st),
                    "gen": gen.get_state(), "torch_rng": torch.get_rng_state(),
                    "numpy_rng": rng.bit_generator.state, "initialised_from": initialised_from,
                    "config": {k: v for k, v in asdict(cfg).items() if k not in ("epochs", "patience")},
                }, tmp)
                os.replace(tmp, ckpt)
        if st.best_state is not None:
            model.load_state_dict(st.best_state)
            best_epoch = st.best_epoch
        else:
            best_epoch = st.epoch - 1
        model.eval()

    card: dict[str, Any] = {
        "space": SPACE,
        **labels.card_fields(),
        "data": {"n_texts": len(tl), "n_clips": len(ml),
                 "clip_seconds_total": round(sum(m.shape[0] for m in mels) * HOP / SAMPLE_RATE, 2)},
        "seed": cfg.seed,
        "config": asdict(cfg),
        "training": {"best_epoch": best_epoch, "epochs_run": len(st.history), "best_valid_mrr": st.best_valid_mrr,
                     "seconds": round(st.seconds, 3), "cnn_initialised_from": str(init_from) if initialised_from else None,
                     "n_parameters": int(sum(p.numel() for p in model.parameters()))},
        "metrics": {},
    }
    space = AudioTwoBranchSpace(model, card)
    space.history = list(st.history)
    tt, mt = labels.text("test"), labels.music("test")
    if len(tt) and len(mt):
        space.card["metrics"]["test"] = evaluate_cnn(
            space, text_x[tt], list(tl[tt]), [mels[i] for i in mt], list(ml[mt]), prior_text_labels=list(tl[tr_t]))
    return space


__all__ = ["train_two_branch_audio"]
