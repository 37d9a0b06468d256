"""Check storyscore's torch musicnn against the original TensorFlow musicnn 0.1.0 (run by hand, not by CI).

Reference environment (outside the repo; TensorFlow must never enter the project's venv):

    /root/.pyenv/versions/3.11.7/bin/python3 -m venv /tmp/tfref
    /tmp/tfref/bin/pip install "tensorflow-cpu==2.15.1" "numpy<2"     # last TF before Keras 3, which
    /tmp/tfref/bin/pip install "numpy<2" librosa==0.11.0 soundfile     # still has tf.compat.v1.layers
    /tmp/tfref/bin/pip install --no-deps musicnn==0.1.0

musicnn's code and checkpoints run unmodified there (``musicnn.extractor`` itself disables eager mode).

Three stages, alternating interpreters, sharing a work folder:

    .venv/bin/python benchmarks/musicnn_equivalence.py prepare   --dir /tmp/mnn_eq [--ogg FILE ...]
    /tmp/tfref/bin/python benchmarks/musicnn_equivalence.py reference --dir /tmp/mnn_eq
    .venv/bin/python benchmarks/musicnn_equivalence.py compare   --dir /tmp/mnn_eq \
        [--markdown benchmarks/musicnn_equivalence.md] [--fixture tests/data/musicnn_reference.npz]

* prepare: synthesises test signals (+ 30-s clips of real ogg files if given), writes them as 16 kHz
  float wavs, computes storyscore's float32 log-mel patches, and writes a tiny checkpoint with
  ``storyscore.audio.tfcheckpoint.write_checkpoint`` for TensorFlow to read back.
* reference: builds the unmodified ``musicnn.models.define_model`` graph exactly as
  ``musicnn.extractor.extractor`` does, restores the packaged checkpoints, feeds it the SAME float32
  patches; also records musicnn's own spectrogram (float16) and end-to-end extractor output, a float32
  version of its librosa spectrogram recipe, and TF's reading of the tiny checkpoint.
* compare: runs storyscore's torch model on the same patches and reports max abs differences.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

SR = 16000
MODELS = ("MTT_musicnn", "MSD_musicnn")
PATCH = 187


# --------------------------------------------------------------------------------------------------
# prepare (project venv)


def _synth_signals(seconds: float = 30.0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1234)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    out: dict[str, np.ndarray] = {}

    # slow major/minor chord progression with harmonics and a soft attack per chord
    chords = [
        (261.63, 329.63, 392.0),
        (220.0, 261.63, 329.63),
        (174.61, 220.0, 261.63),
        (196.0, 246.94, 293.66),
    ]
    y = np.zeros(n)
    seg = int(2.0 * SR)
    for i, start in enumerate(range(0, n, seg)):
        tt = t[start : start + seg] - t[start]
        env = np.minimum(tt / 0.05, 1.0) * np.exp(-tt * 0.8)
        for f in chords[i % len(chords)]:
            for h in range(1, 6):
                y[start : start + seg] += env * np.sin(2 * np.pi * f * h * tt) / h**1.5
    out["chords"] = 0.3 * y / np.abs(y).max()

    # 120 bpm drum pattern (kick, snare, hi-hat) over a bass line
    y = np.zeros(n)
    beat = int(0.5 * SR)
    for k, start in enumerate(range(0, n - beat, beat // 2)):
        tt = np.arange(beat) / SR
        if k % 4 == 0:  # kick: pitch-dropping sine
            y[start : start + beat] += np.sin(2 * np.pi * (50 + 100 * np.exp(-tt * 30)) * tt) * np.exp(
                -tt * 12
            )
        if k % 4 == 2:  # snare: noise burst + tone
            y[start : start + beat] += (
                0.6 * rng.standard_normal(beat) + 0.3 * np.sin(2 * np.pi * 190 * tt)
            ) * np.exp(-tt * 20)
        y[start : start + beat] += 0.15 * rng.standard_normal(beat) * np.exp(-tt * 80)  # hi-hat
    bass = np.sin(2 * np.pi * np.where((t // 2) % 2 == 0, 55.0, 73.42) * t)
    y += 0.4 * bass
    out["drums_bass"] = 0.5 * y / np.abs(y).max()

    # full-scale clipped noise: musicnn's float16 cast overflows to inf on this
    out["loud_noise"] = np.clip(rng.standard_normal(n) * 2.0, -1.0, 1.0)
    # quiet sine sweep
    out["quiet_sweep"] = 0.01 * np.sin(2 * np.pi * (100 * t + 60 * t**2))
    return {k: v.astype(np.float32) for k, v in out.items()}


def prepare(work: Path, oggs: list[Path]) -> None:
    import librosa
    import soundfile as sf

    from storyscore.audio.musicnn import MusicnnTagger
    from storyscore.audio.tfcheckpoint import write_checkpoint

    work.mkdir(parents=True, exist_ok=True)
    signals = _synth_signals()
    for ogg in oggs:
        y, sr = sf.read(ogg, dtype="float32", always_2d=True)
        y = librosa.resample(y.mean(axis=1), orig_sr=sr, target_sr=SR)
        start = min(30 * SR, max(0, len(y) - 30 * SR))  # 30 s from 0:30 (skip quiet intros)
        signals["ogg:" + ogg.stem] = y[start : start + 30 * SR].astype(np.float32)

    tagger = MusicnnTagger.load("MTT_musicnn")
    meta = {}
    arrays = {}
    for i, (name, y) in enumerate(signals.items()):
        wav = work / f"sig{i}.wav"
        sf.write(wav, y, SR, subtype="FLOAT")  # float wav: both sides decode the identical samples
        meta[f"sig{i}"] = {"name": name, "wav": str(wav), "seconds": len(y) / SR}
        arrays[f"sig{i}_patches"] = tagger.patches(y)
        arrays[f"sig{i}_logmel"] = tagger.melspectrogram(y)
    np.savez(work / "inputs.npz", **arrays)
    (work / "meta.json").write_text(json.dumps(meta, indent=1))

    rng = np.random.default_rng(0)
    tiny = {
        f"scope_{i % 7}/layer_{i}/kernel": rng.standard_normal((3, i % 5 + 1)).astype(np.float32)
        for i in range(80)
    }
    tiny |= {"global_step": np.array(12345, np.int64), "ints": np.arange(-3, 9, dtype=np.int32).reshape(3, 4)}
    tiny |= {
        "double": np.linspace(0, 1, 7),
        "flags": np.array([True, False, True]),
        "half": np.ones(4, np.float16),
    }
    write_checkpoint(work / "tiny" / "ckpt", tiny, block_size=512)
    np.savez(work / "tiny_expected.npz", **{k.replace("/", "|"): v for k, v in tiny.items()})
    print(f"prepared {len(signals)} signals in {work}")


# --------------------------------------------------------------------------------------------------
# reference (TF venv)


def reference(work: Path) -> None:
    import librosa
    import tensorflow as tf
    from musicnn import configuration as config
    from musicnn import extractor as mx  # disables eager execution, as in normal musicnn use
    from musicnn import models

    meta = json.loads((work / "meta.json").read_text())
    inputs = np.load(work / "inputs.npz")
    out: dict[str, np.ndarray] = {}
    pkg = Path(mx.__file__).parent
    for model in MODELS:
        tf.compat.v1.reset_default_graph()
        with tf.name_scope("model"):  # same graph construction as musicnn.extractor.extractor
            x = tf.compat.v1.placeholder(tf.float32, [None, PATCH, config.N_MELS])
            is_training = tf.compat.v1.placeholder(tf.bool)
            y, *_feats, penultimate = models.define_model(x, is_training, model, 50)
            normalized_y = tf.nn.sigmoid(y)
        sess = tf.compat.v1.Session()
        sess.run(tf.compat.v1.global_variables_initializer())
        tf.compat.v1.train.Saver().restore(sess, str(pkg / model) + "/")
        for key in meta:
            patches = inputs[f"{key}_patches"]
            t0 = time.perf_counter()
            probs, pen = sess.run([normalized_y, penultimate], feed_dict={x: patches, is_training: False})
            out[f"{model}_{key}_tf_seconds"] = np.array(time.perf_counter() - t0)
            out[f"{model}_{key}_probs"] = probs
            out[f"{model}_{key}_penultimate"] = pen
        if model == "MSD_musicnn":  # speed on the same 60 random patches _speed_lines() uses
            patches = np.random.default_rng(0).uniform(0, 3, (60, PATCH, 96)).astype(np.float32)
            walls = []
            for _ in range(3):
                t0 = time.perf_counter()
                for s in range(0, 60, 4):
                    sess.run(
                        [normalized_y, penultimate], feed_dict={x: patches[s : s + 4], is_training: False}
                    )
                walls.append(time.perf_counter() - t0)
            out["tf_speed_walls"] = np.array(walls)
            out["tf_speed_load"] = np.array(os.getloadavg())
        sess.close()

        for key, info in meta.items():  # musicnn's own end-to-end path (float16 spectrogram)
            taggram, _labels, feats = mx.extractor(
                info["wav"], model=model, input_length=3, extract_features=True
            )
            out[f"{model}_{key}_e2e_probs"] = taggram
            out[f"{model}_{key}_e2e_penultimate"] = feats["penultimate"]

    for key, info in meta.items():
        _batch, spec16 = mx.batch_data(info["wav"], PATCH, PATCH)
        out[f"{key}_spec_musicnn_f16"] = spec16
        audio, sr = librosa.load(info["wav"], sr=config.SR)
        mel = librosa.feature.melspectrogram(
            y=audio, sr=sr, hop_length=config.FFT_HOP, n_fft=config.FFT_SIZE, n_mels=config.N_MELS
        ).T
        out[f"{key}_spec_librosa_f32"] = np.log10(10000 * mel + 1)

    reader = tf.train.load_checkpoint(str(work / "tiny" / "ckpt"))
    expected = np.load(work / "tiny_expected.npz")
    bad = [
        k
        for k in expected.files
        if not (
            np.array_equal(v := reader.get_tensor(k.replace("|", "/")), expected[k])
            and v.dtype == expected[k].dtype
        )
    ]
    n_tf = len(reader.get_variable_to_shape_map())
    out["tiny_ckpt_tf_vars"] = np.array(n_tf)
    out["tiny_ckpt_tf_mismatches"] = np.array(len(bad))
    out["tf_version"] = np.array(tf.__version__)
    out["numpy_version"] = np.array(np.__version__)
    np.savez(work / "reference.npz", **out)
    print(f"reference written; TF read {n_tf} tiny-checkpoint tensors, {len(bad)} mismatches")


# --------------------------------------------------------------------------------------------------
# compare (project venv)


def _maxdiff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))


def compare(work: Path, markdown: Path | None, fixture: Path | None) -> None:
    import torch

    from storyscore.audio.musicnn import MusicnnTagger

    meta = json.loads((work / "meta.json").read_text())
    inputs = np.load(work / "inputs.npz")
    ref = np.load(work / "reference.npz")
    lines = [
        "# musicnn: storyscore torch port vs. original TensorFlow musicnn 0.1.0",
        "",
        f"Generated by `benchmarks/musicnn_equivalence.py` (reference: tensorflow-cpu {ref['tf_version']}, "
        f"musicnn 0.1.0, librosa 0.11.0; torch {torch.__version__}, {torch.get_num_threads()} CPU threads).",
        "",
        "Signals (30 s each, mono 16 kHz float wav): "
        + ", ".join(f"`{info['name']}` ({info['seconds']:.0f} s)" for info in meta.values())
        + ". `ogg:*` are clips of real tracks from Debian's singularity-music (CC-BY-SA); the rest is synthesised.",
        "",
        "## 1. Network on identical float32 log-mel patches (max abs difference, torch vs TF)",
        "",
        "| model | signal | patches | tag probs | penultimate (200-d) | torch s | TF s |",
        "|---|---|---|---|---|---|---|",
    ]
    worst = {"probs": 0.0, "pen": 0.0}
    for model in MODELS:
        tagger = MusicnnTagger.load(model)
        for key, info in meta.items():
            patches = inputs[f"{key}_patches"]
            t0 = time.perf_counter()
            probs, pen = tagger.forward_patches(patches)
            dt = time.perf_counter() - t0
            dp = _maxdiff(probs, ref[f"{model}_{key}_probs"])
            df = _maxdiff(pen, ref[f"{model}_{key}_penultimate"])
            worst["probs"] = max(worst["probs"], dp)
            worst["pen"] = max(worst["pen"], df)
            lines.append(
                f"| {model} | {info['name']} | {len(patches)} | {dp:.2e} | {df:.2e} | {dt:.2f} | "
                f"{float(ref[f'{model}_{key}_tf_seconds']):.2f} |"
            )
    lines += [
        "",
        f"Worst case: tag probs {worst['probs']:.2e}, penultimate {worst['pen']:.2e} (required <= 1e-4).",
        "",
    ]

    lines += [
        "## 2. Spectrogram stage (storyscore `log_mel`, float64 internally, vs musicnn's recipe)",
        "",
        "Columns: max abs difference to musicnn's librosa recipe kept in float32; to musicnn's actual",
        f"`batch_data` output in the reference env (numpy {ref['numpy_version']}); and how many cells that",
        f"same recipe makes non-finite under this project's numpy {np.__version__}.",
        "",
        "| signal | frames | vs recipe in float32 | vs musicnn `batch_data` (float16 mel) | non-finite under numpy 2 |",
        "|---|---|---|---|---|",
    ]
    for key, info in meta.items():
        mine = inputs[f"{key}_logmel"]
        f32 = ref[f"{key}_spec_librosa_f32"]
        f16 = ref[f"{key}_spec_musicnn_f16"].astype(np.float32)
        finite = np.isfinite(f16)
        d16 = _maxdiff(mine[finite], f16[finite]) if finite.any() else float("nan")
        bad = int((~np.isfinite(_musicnn_recipe_here(info["wav"]))).sum())
        lines.append(
            f"| {info['name']} | {len(mine)} | {_maxdiff(mine, f32):.2e} | {d16:.2e} | {bad} of {mine.size} |"
        )
    lines += [
        "",
        "musicnn's `audio_rep.astype(np.float16)` followed by `np.log10(10000 * audio_rep + 1)`: under numpy 1.x",
        "the product is promoted to float32 (value-based casting), so only the float16 rounding of the mel power",
        "remains (~2e-4 in log-mel); under numpy 2 (NEP 50) the product stays float16 and overflows to inf for",
        "any mel power above 6.55, which gives NaN tags. storyscore computes the spectrogram in float64.",
    ]
    lines += [
        "",
        "## 3. End to end: `MusicnnTagger.tag_audio(y)` vs `musicnn.extractor.extractor(wav, input_length=3)`",
        "",
        "musicnn's extractor casts the mel power to float16 before the log, so these differences come from its",
        "input rounding, not from the network (the reference env has numpy 1.x, so no inf here; see section 2).",
        "",
        "| model | signal | tag probs | penultimate (patch 0) | musicnn NaN outputs |",
        "|---|---|---|---|---|",
    ]
    for model in MODELS:
        tagger = MusicnnTagger.load(model)
        for key, info in meta.items():
            wav_audio = _read_wav(info["wav"])
            probs, pen = tagger.tag_audio(wav_audio)
            rp, rf = ref[f"{model}_{key}_e2e_probs"], ref[f"{model}_{key}_e2e_penultimate"]
            nan = int((~np.isfinite(rp)).sum())
            ok = np.isfinite(rp).all(axis=1) & np.isfinite(rf).all(axis=1)
            dp = _maxdiff(probs[ok], rp[ok]) if ok.any() else float("nan")
            df = _maxdiff(pen[:1], rf[:1])  # extractor bug: its later rows repeat patch 0 (see below)
            lines.append(f"| {model} | {info['name']} | {dp:.2e} | {df:.2e} | {nan} of {rp.size} |")

    lines += [
        "",
        "Penultimate features are compared on the first patch only: musicnn 0.1.0's `extractor` unpacks later",
        "batches into `backend_` but concatenates the stale `penultimate_` (likewise `cnn1_`..`cnn3_`), so every",
        "row of its `features['penultimate']` is patch 0's vector. Section 1 compares all patches properly.",
        "",
        "## 4. Checkpoint format",
        "",
        f"A checkpoint written by `storyscore.audio.tfcheckpoint.write_checkpoint` (several dtypes, "
        f"multi-block index) was read by `tf.train.load_checkpoint`: {int(ref['tiny_ckpt_tf_vars'])} tensors, "
        f"{int(ref['tiny_ckpt_tf_mismatches'])} mismatches.",
        "",
    ]
    lines += _speed_lines(ref)
    text = "\n".join(lines) + "\n"
    print(text)
    if markdown is not None:
        markdown.write_text(text)
    if fixture is not None:
        _write_fixture(fixture, meta, inputs, ref)
    if worst["probs"] > 1e-4 or worst["pen"] > 1e-4:
        sys.exit("FAIL: torch and TF differ by more than 1e-4")


def _musicnn_recipe_here(wav: str) -> np.ndarray:
    """musicnn's batch_data spectrogram lines, run verbatim under this venv's numpy."""
    import librosa

    audio, sr = librosa.load(wav, sr=SR)
    audio_rep = librosa.feature.melspectrogram(y=audio, sr=sr, hop_length=256, n_fft=512, n_mels=96).T
    audio_rep = audio_rep.astype(np.float16)
    with np.errstate(over="ignore"):
        return np.log10(10000 * audio_rep + 1)


def _read_wav(path: str) -> np.ndarray:
    import soundfile as sf

    y, sr = sf.read(path, dtype="float32")
    assert sr == SR
    return y


def _speed_lines(ref: np.lib.npyio.NpzFile) -> list[str]:
    import torch

    from storyscore.audio.musicnn import MusicnnTagger

    t0 = time.perf_counter()
    tagger = MusicnnTagger.load("MSD_musicnn")
    rng = np.random.default_rng(0)
    patches = rng.uniform(0, 3, (60, PATCH, 96)).astype(np.float32)
    tagger.forward_patches(patches[:2])  # warm-up
    t1 = time.perf_counter()
    walls = []
    for _ in range(3):
        t = time.perf_counter()
        tagger.forward_patches(patches)
        walls.append(time.perf_counter() - t)
    torch.set_num_threads(1)
    c = time.process_time()
    tagger.forward_patches(patches[:16])
    per_patch_cpu = (time.process_time() - c) / 16
    torch.set_num_threads(2)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        "## 5. Speed",
        "",
        f"`forward_patches` on 60 patches (3 min of audio), batch {tagger.batch_size}, 2 threads: best of 3 "
        f"{min(walls):.2f} s wall (runs: {', '.join(f'{w:.2f}' for w in walls)}); one thread: "
        f"{per_patch_cpu * 1000:.0f} ms CPU per patch. Cached load {t1 - t0:.3f} s incl. warm-up. "
        f"The 2-core machine was shared with other jobs (load average {load}), so wall times are noisy.",
        "",
    ]
    if "tf_speed_walls" in ref.files:
        tf_walls = ref["tf_speed_walls"]
        tf_load = ", ".join(f"{x:.1f}" for x in ref["tf_speed_load"])
        lines += [
            f"Original TF musicnn (reference stage, same 60 patches, batch 4, TF's default threads): best of 3 "
            f"{tf_walls.min():.2f} s wall (runs: {', '.join(f'{w:.2f}' for w in tf_walls)}; load average {tf_load}).",
            "",
        ]
    return lines


def _write_fixture(
    path: Path, meta: dict[str, dict[str, object]], inputs: np.lib.npyio.NpzFile, ref: np.lib.npyio.NpzFile
) -> None:
    # one patch per kind of input: harmonic, percussive, full-scale noise, real music
    picks: list[tuple[str, int]] = []
    by_name = {info["name"]: key for key, info in meta.items()}
    for name in ("chords", "drums_bass", "loud_noise"):
        picks.append((by_name[name], 3))
    picks += [(key, 5) for key, info in meta.items() if str(info["name"]).startswith("ogg:")][:1]
    arrays: dict[str, np.ndarray] = {
        "patches": np.stack([inputs[f"{k}_patches"][i] for k, i in picks]),
        "sources": np.array([f"{meta[k]['name']}#{i}" for k, i in picks]),
    }
    for model in MODELS:
        arrays[f"{model}_probs"] = np.stack([ref[f"{model}_{k}_probs"][i] for k, i in picks])
        arrays[f"{model}_penultimate"] = np.stack([ref[f"{model}_{k}_penultimate"][i] for k, i in picks])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    print(f"fixture {path}: {path.stat().st_size / 1024:.0f} KB, patches from {list(arrays['sources'])}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("stage", choices=["prepare", "reference", "compare"])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/mnn_eq"))
    ap.add_argument("--ogg", type=Path, nargs="*", default=[])
    ap.add_argument("--markdown", type=Path)
    ap.add_argument("--fixture", type=Path)
    args = ap.parse_args()
    if args.stage == "prepare":
        prepare(args.dir, args.ogg)
    elif args.stage == "reference":
        reference(args.dir)
    else:
        compare(args.dir, args.markdown, args.fixture)


if __name__ == "__main__":
    main()
