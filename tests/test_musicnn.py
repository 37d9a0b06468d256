"""The torch musicnn taggers: weights, preprocessing, loud input, and agreement with TensorFlow musicnn."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from storyscore.audio import tfcheckpoint
from storyscore.audio.musicnn import MusicnnNet, MusicnnTagger, log_mel, musicnn_dir
from storyscore.errors import ModelError

FIXTURE = Path(__file__).parent / "data" / "musicnn_reference.npz"
MODELS = ("MTT_musicnn", "MSD_musicnn")


@pytest.fixture(scope="module", params=MODELS)
def tagger(request: pytest.FixtureRequest) -> MusicnnTagger:
    return MusicnnTagger.load(request.param)


def test_load_is_cached_and_fast() -> None:
    for name in MODELS:
        t0 = time.perf_counter()
        first = MusicnnTagger.load(name)
        assert time.perf_counter() - t0 < 1.0
        assert MusicnnTagger.load(name) is first
        assert first.name == name
        assert len(first.tags) == 50 and len(set(first.tags)) == 50
        assert first.sample_rate == 16000 and first.patch_frames == 187
    assert "happy" in MusicnnTagger.load("MSD_musicnn").tags
    assert MusicnnTagger.load("MTT_musicnn").tags[:3] == ["guitar", "classical", "slow"]


def test_unknown_model() -> None:
    with pytest.raises(ModelError):
        MusicnnTagger.load("MTT_vgg")  # type: ignore[arg-type]


def test_matches_tensorflow_reference(tagger: MusicnnTagger) -> None:
    # produced by the original TF musicnn (benchmarks/musicnn_equivalence.py) on the same float32 patches
    ref = np.load(FIXTURE)
    probs, pen = tagger.forward_patches(ref["patches"])
    np.testing.assert_allclose(probs, ref[f"{tagger.name}_probs"], rtol=0, atol=1e-4)
    np.testing.assert_allclose(pen, ref[f"{tagger.name}_penultimate"], rtol=0, atol=1e-4)


def test_batching_does_not_change_results(tagger: MusicnnTagger) -> None:
    patches = np.load(FIXTURE)["patches"]
    together = tagger.forward_patches(patches)
    one = tagger.forward_patches(patches[2:3])
    # Features reach ~10; batch size changes the BLAS path, so compare relative to their scale (float32).
    np.testing.assert_allclose(one[0], together[0][2:3], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(one[1], together[1][2:3], rtol=1e-4, atol=1e-4)
    empty_p, empty_f = tagger.forward_patches(np.zeros((0, 187, 96), np.float32))
    assert empty_p.shape == (0, 50) and empty_f.shape == (0, 200)
    with pytest.raises(ValueError):
        tagger.forward_patches(np.zeros((2, 187, 95), np.float32))


def test_loud_clipped_noise_stays_finite(tagger: MusicnnTagger) -> None:
    rng = np.random.default_rng(3)
    audio = np.clip(rng.standard_normal(16000 * 7) * 4.0, -1.0, 1.0).astype(np.float32)
    spec = tagger.melspectrogram(audio)
    assert spec.dtype == np.float32 and np.isfinite(spec).all()
    # musicnn's own float16 recipe overflows here (numpy 2 keeps 10000 * float16 in float16)
    with np.errstate(over="ignore"):
        assert not np.isfinite(np.float16(10.0 ** spec.max() / 1e4) * 10000)
    probs, pen = tagger.tag_audio(audio)
    assert probs.shape == (2, 50) and pen.shape == (2, 200)
    assert np.isfinite(probs).all() and np.isfinite(pen).all()
    assert probs.min() >= 0.0 and probs.max() <= 1.0


def test_log_mel_matches_librosa_recipe() -> None:
    librosa = pytest.importorskip("librosa")
    rng = np.random.default_rng(5)
    t = np.arange(16000 * 2) / 16000
    audio = (0.5 * np.sin(2 * np.pi * 440 * t) + 0.1 * rng.standard_normal(t.size)).astype(np.float32)
    mel = librosa.feature.melspectrogram(y=audio, sr=16000, hop_length=256, n_fft=512, n_mels=96).T
    expected = np.log10(10000 * mel.astype(np.float64) + 1)
    mine = log_mel(audio)
    assert mine.shape == (1 + audio.size // 256, 96)
    np.testing.assert_allclose(mine, expected, rtol=0, atol=1e-4)


def test_patching() -> None:
    tagger = MusicnnTagger.load("MTT_musicnn")
    audio = np.zeros(16000 * 10, np.float32)  # 626 frames
    assert tagger.patches(audio).shape == (3, 187, 96)  # back-to-back, like musicnn's extractor
    assert tagger.patches(audio, hop_seconds=1.0).shape == (8, 187, 96)  # hop 61 frames
    assert tagger.patches(np.zeros(8000, np.float32)).shape == (1, 187, 96)  # short input: padded
    assert tagger.patches(np.zeros(0, np.float32)).shape == (0, 187, 96)
    spec = tagger.melspectrogram(np.random.default_rng(0).standard_normal(16000 * 7).astype(np.float32))
    patches = tagger.patches(np.random.default_rng(0).standard_normal(16000 * 7).astype(np.float32))
    np.testing.assert_array_equal(patches[1], spec[187:374])


def test_broken_weights_raise_model_error(tmp_path: Path) -> None:
    ckpt = tfcheckpoint.read_checkpoint(str(musicnn_dir() / "MTT_musicnn") + "/")
    missing = {k: v for k, v in ckpt.items() if k != "dense_1/bias"}
    with pytest.raises(ModelError, match="dense_1/bias"):
        MusicnnNet().load_tf(missing)
    wrong = dict(ckpt, **{"conv2d_5/kernel": np.zeros((7, 560, 1, 64), np.float32)})
    with pytest.raises(ModelError, match="conv2d_5/kernel"):
        MusicnnNet().load_tf(wrong)
    # a small checkpoint written and read back in the real format loads into the net unchanged
    subset = {k: v for k, v in ckpt.items() if "Adam" not in k}
    tfcheckpoint.write_checkpoint(tmp_path / "m", subset, block_size=1 << 16)
    net = MusicnnNet()
    net.load_tf(tfcheckpoint.read_checkpoint(tmp_path / "m"))
    ref = MusicnnTagger.load("MTT_musicnn").net
    for a, b in zip(net.state_dict().values(), ref.state_dict().values(), strict=True):
        assert (a == b).all()
