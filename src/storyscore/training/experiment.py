"""Training and evaluating emotion spaces from files, as `storyscore train` and `storyscore evaluate` do:
load labelled text and music, analyse the audio (bad files skipped with reasons), split, train, report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from storyscore.errors import AudioDecodeError, InputError
from storyscore.spaces.cnn import SPACE as CNN_SPACE  # the space whose music branch learns from log-mel audio
from storyscore.training.metrics import PAPER_MAPPINGS

ProgressFn = Callable[[int, int, str], None]
TEXT_KINDS = ("folder", "alm", "isear", "emobank")
MUSIC_KINDS = ("folder", "audioset")

MEL_EXCERPT_SECONDS = 60.0  # the CNN trains on the middle minute of longer clips (memory: ≈1.9 MB per clip)


@dataclass
class LabelledData:
    texts: list[str]
    text_labels: list[str]
    text_ids: list[str]
    analyses: list[Any]  # TrackAnalysis (features="analysis")
    music_labels: list[str]
    music_ids: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # audio (file, reason)
    issues: list[str] = field(default_factory=list)  # rows the loaders rejected, as 'file:line: problem'
    mels: list[np.ndarray] = field(default_factory=list)  # 128-bin log-mels (features="mel")

    @property
    def n_clips(self) -> int:
        return len(self.music_labels)


def load_labelled(text_path: str | Path, music_path: str | Path, *, text_kind: str = "folder",
                  music_kind: str = "folder", audio_dir: str | Path | None = None,
                  progress: ProgressFn | None = None, features: str = "analysis") -> LabelledData:
    """Labelled passages and labelled clips, read as ``features``: ``"analysis"`` (musicnn + descriptors,
    what the head spaces take) or ``"mel"`` (16 kHz 128-bin log-mel, the middle `MEL_EXCERPT_SECONDS`
    of each clip, what the CNN takes). Rows a loader rejects are reported by the loader."""
    from storyscore.audio.encoder import analyse_file
    from storyscore.audio.shortchunk import log_mel_file
    from storyscore.datasets import load_music_dataset, load_text_dataset

    if features not in ("analysis", "mel"):
        raise ValueError(f"unknown features {features!r}")

    if text_kind not in TEXT_KINDS:
        raise InputError(f"unknown text dataset kind {text_kind!r}; choose one of {', '.join(TEXT_KINDS)}")
    if music_kind not in MUSIC_KINDS:
        raise InputError(f"unknown music dataset kind {music_kind!r}; choose one of {', '.join(MUSIC_KINDS)}")
    text = load_text_dataset(text_kind, text_path)
    items = [t for t in text.items if t.label]
    if not items:
        raise InputError(f"{text_path}: no labelled passages")
    options = {"audio_dir": audio_dir} if music_kind == "audioset" else {}
    music = load_music_dataset(music_kind, music_path, **options)
    clips = [m for m in music.items if m.path is not None and m.label]
    data = LabelledData([t.text for t in items], [str(t.label) for t in items], [t.id for t in items],
                        [], [], [])
    data.issues += [str(i) for i in (*text.issues, *music.issues)]
    for k, clip in enumerate(clips):
        if progress:
            progress(k, len(clips), str(clip.path))
        try:
            if features == "mel":
                data.mels.append(log_mel_file(clip.path, excerpt_seconds=MEL_EXCERPT_SECONDS))
            else:
                data.analyses.append(analyse_file(clip.path))
        except AudioDecodeError as exc:
            data.skipped.append((str(clip.path), str(exc).removeprefix(f"{clip.path}: ")))
            continue
        data.music_labels.append(str(clip.label))
        data.music_ids.append(clip.id)
    if progress:
        progress(len(clips), len(clips), "")
    if not data.music_labels:
        raise InputError(f"{music_path}: no usable labelled audio")
    return data


def features_for(space: str) -> str:
    """What `load_labelled` must read for a space: log-mels for the CNN, analyses for the others."""
    return "mel" if space == CNN_SPACE else "analysis"


def train_space(space: str, data: LabelledData, out_dir: str | Path, *, mapping: str = "manual", seed: int = 0,
                epochs: int | None = None, log: Callable[[str], None] | None = None, resume: bool = False,
                init_from: str | Path | None = None, cnn_width: int | None = None, text_layers: int = 0,
                lr: float | None = None) -> Any:
    """Split (stratified, seeded 60/20/20), train, save to `out_dir`, and return the trained space.

    The CNN space (`CNN_SPACE`) keeps a checkpoint after every epoch in ``out_dir/checkpoint/last.pt``;
    ``resume`` continues from it, ``init_from`` (a saved CNN model folder or checkpoint) starts its CNN
    from trained weights, ``cnn_width`` sets its channel width. The head spaces train in seconds and
    take none of these; they can fine-tune MiniLM's top ``text_layers`` layers instead (0: frozen)."""
    from storyscore.datasets.splits import stratified_split
    from storyscore.text.encoder import embed_passages
    from storyscore.training.trainer import SPACES, TrainConfig, train

    if space not in (*SPACES, CNN_SPACE):
        raise InputError(f"unknown space {space!r}; choose one of {', '.join((*SPACES, CNN_SPACE))}")
    if space != CNN_SPACE and (resume or init_from is not None or cnn_width is not None):
        raise InputError(f"--resume, --init-from and --cnn-width apply to {CNN_SPACE} only "
                         f"({space} trains in seconds on frozen features)")
    if text_layers and space == CNN_SPACE:
        raise InputError(f"--text-layers applies to the head spaces; {CNN_SPACE} keeps MiniLM frozen")
    if lr is not None and not 0 < lr < 1:
        raise InputError(f"--lr {lr}: a learning rate between 0 and 1, e.g. 1e-3")
    if not 0 <= text_layers <= 6:
        raise InputError(f"--text-layers {text_layers}: MiniLM has 6 layers (0 keeps it frozen)")
    fractions = {"train": 0.6, "valid": 0.2, "test": 0.2}
    text_split = stratified_split(data.text_ids, data.text_labels, fractions, seed)
    music_split = stratified_split(data.music_ids, data.music_labels, fractions, seed)
    if space == CNN_SPACE:
        return _train_cnn(data, out_dir, [text_split[i] for i in data.text_ids],
                          [music_split[i] for i in data.music_ids], mapping=mapping, seed=seed, epochs=epochs,
                          log=log, resume=resume, init_from=init_from, cnn_width=cnn_width, lr=lr)
    config = TrainConfig(seed=seed, text_layers=text_layers, **_given(epochs=epochs, lr=lr))
    model = train(space, embed_passages(data.texts), data.text_labels, [text_split[i] for i in data.text_ids],
                  data.analyses, data.music_labels, [music_split[i] for i in data.music_ids],
                  mapping=mapping, config=config,
                  data_description={"texts": len(data.texts), "clips": len(data.analyses),
                                    "skipped_clips": len(data.skipped)},
                  texts=data.texts, log=log)
    model.save(out_dir)
    return model


def _given(**options: Any) -> dict[str, Any]:
    """The options the user set (None: keep the configuration's default)."""
    return {k: v for k, v in options.items() if v is not None}


def _train_cnn(data: LabelledData, out_dir: str | Path, text_splits: list[str], music_splits: list[str], *,
               mapping: str, seed: int, epochs: int | None, log: Callable[[str], None] | None, resume: bool,
               init_from: str | Path | None, cnn_width: int | None, lr: float | None) -> Any:
    from storyscore.text.encoder import embed_passages
    from storyscore.training.audio_trainer import AudioTrainConfig, train_two_branch_audio

    if not data.mels:
        raise InputError(f"{CNN_SPACE} trains on audio: load the labelled data with features='mel'")
    config = AudioTrainConfig(seed=seed, **_given(epochs=epochs, cnn_width=cnn_width, lr=lr))
    if init_from is not None and not Path(init_from).exists():
        raise InputError(f"{init_from}: no such model or checkpoint to start the CNN from")
    try:
        model = train_two_branch_audio(
            embed_passages(data.texts), data.text_labels, text_splits, [], data.music_labels, music_splits,
            mapping=mapping, config=config, checkpoint_dir=Path(out_dir) / "checkpoint", resume=resume,
            init_from=Path(init_from) if init_from is not None else None, log=log, mels=data.mels)
    except ValueError as exc:  # a checkpoint of another configuration, no usable training pairs, ...
        raise InputError(str(exc)) from None
    model.card["data"].update({"texts": len(data.texts), "clips": data.n_clips, "skipped_clips": len(data.skipped),
                               "clip_excerpt_seconds": MEL_EXCERPT_SECONDS})
    model.save(out_dir)
    return model


def evaluate_space(model: Any, data: LabelledData, mappings: tuple[str, ...] = PAPER_MAPPINGS) -> dict:
    """Text→music retrieval of a trained space on all the given data, with random and label-prior baselines,
    and, for spaces that can place a mood word, tag→music retrieval (macro ROC-AUC and PR-AUC)."""
    from storyscore.spaces.heads import music_inputs
    from storyscore.training.evaluation import evaluate_cnn, evaluate_heads
    from storyscore.training.metrics import tag_retrieval_auc

    if model.space == CNN_SPACE:
        results = evaluate_cnn(model, model.text_inputs(data.texts), data.text_labels, data.mels, data.music_labels,
                                      mappings=mappings)
        results["tag_to_music"] = {"skipped": f"{model.space} has no way to place a mood word in its space"}
        return results
    x = music_inputs(data.analyses)
    results = evaluate_heads(model, model.text_inputs(data.texts), data.text_labels, x, data.music_labels,
                             mappings=mappings)
    tags = music_tag_scores(model, model.embed_music_inputs(x))
    if tags is None:
        results["tag_to_music"] = {"skipped": f"{model.space} has no way to place a mood word in its space"}
    else:
        scores, moods = tags
        results["tag_to_music"] = tag_retrieval_auc(scores, data.music_labels, moods)
    return results


def music_tag_scores(model: Any, music: np.ndarray) -> tuple[np.ndarray, list[str]] | None:
    """(items × moods) scores of each mood word for each clip, where the space can place a word: the
    classifier's probability, distance to the word's (V, A), cosine to its word vector, or to the tag
    branch's embedding of it (three-branch). None for spaces trained without words."""
    import torch

    from storyscore.training.trainer import label_targets

    moods = list(model.card["vocabularies"]["music"])
    va_source = (model.card.get("config") or {}).get("va_source", "warriner")
    if model.space == "classification":
        return music, moods
    if model.space == "va":
        targets = label_targets("va", moods, va_source)
        return -np.linalg.norm(music[:, None, :] - targets[None, :, :], axis=-1), moods
    if model.space == "wordvec":
        targets = label_targets("wordvec", moods)
    elif model.space == "three_branch":
        with torch.no_grad():
            targets = model.model.embed_tag(torch.as_tensor(label_targets("wordvec", moods))).numpy()
    else:
        return None
    unit = music / (np.linalg.norm(music, axis=1, keepdims=True) + 1e-9)
    return unit @ (targets / (np.linalg.norm(targets, axis=1, keepdims=True) + 1e-9)).T, moods


def umap_figure(model: Any, data: LabelledData, out_png: str | Path, *, seed: int = 0) -> Path:
    """The paper's map of a space for labelled files (see `umap_figure_arrays`)."""
    from storyscore.spaces.heads import music_inputs

    if model.space == CNN_SPACE:
        return umap_plot(model, model.embed_text(data.texts), data.text_labels,
                         model.embed_mels(data.mels), data.music_labels, out_png, seed=seed)
    return umap_figure_arrays(model, model.text_inputs(data.texts), data.text_labels, music_inputs(data.analyses),
                              data.music_labels, out_png, seed=seed)


def umap_figure_arrays(model: Any, text_embeddings: np.ndarray, text_labels: list[str], music_x: np.ndarray,
                       music_labels: list[str], out_png: str | Path, *, seed: int = 0, title: str = "") -> Path:
    """A UMAP map of a space, as in the paper: fitted on the music vectors, with the passages projected into
    it. Music dots are coloured by mood; passages are crosses coloured by their label's first mood under the
    model's mapping, so a good space puts each cross among dots of its colour. Inputs are MiniLM passage
    embeddings and `train.music_inputs` rows."""
    return umap_plot(model, model.embed_text_vectors(text_embeddings), text_labels,
                     model.embed_music_inputs(music_x), music_labels, out_png, seed=seed, title=title)


def umap_plot(model: Any, text: np.ndarray, text_labels: list[str], music: np.ndarray, music_labels: list[str],
              out_png: str | Path, *, seed: int = 0, title: str = "") -> Path:
    """`umap_figure_arrays` from the space's own text and music vectors."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import umap

    from storyscore.lexicon.vocab import AUDIOSET_MOODS

    if text.shape[1] != music.shape[1]:
        raise InputError(f"{model.name}: its text and music vectors differ in size "
                         f"({text.shape[1]} vs {music.shape[1]}), so passages cannot be placed on the music map")
    reducer = umap.UMAP(n_neighbors=max(2, min(15, len(music) - 1)), random_state=seed, n_jobs=1,
                        metric="euclidean" if model.space == "va" else "cosine")
    music_2d = reducer.fit_transform(music)
    text_2d = reducer.transform(text)
    mapping = model.card.get("mapping_table") or {}
    moods = sorted(set(music_labels) | set(AUDIOSET_MOODS))
    colours = {m: plt.get_cmap("tab10")(k % 10) for k, m in enumerate(moods)}
    grey = (0.3, 0.3, 0.3, 1.0)
    fig, ax = plt.subplots(figsize=(10.5, 6.5), dpi=110)
    for mood in moods:
        idx = [i for i, m in enumerate(music_labels) if m == mood]
        if idx:
            ax.scatter(music_2d[idx, 0], music_2d[idx, 1], s=28, color=colours[mood], label=f"music: {mood}",
                       alpha=0.8)
    for label in sorted(set(text_labels)):
        idx = [i for i, t in enumerate(text_labels) if t == label]
        target = sorted(mapping.get(label, []))
        ax.scatter(text_2d[idx, 0], text_2d[idx, 1], s=22, marker="x", alpha=0.7,
                   color=colours.get(target[0], grey) if target else grey,
                   label=f"text: {label} → {'/'.join(target) or '∅'}")
    ax.set_title(title or f"{model.name}: UMAP fitted on music, passages projected")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)  # outside: hides no point
    fig.tight_layout()
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
