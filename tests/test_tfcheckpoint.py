"""The plain-Python TF1 checkpoint reader/writer: round trips, the real musicnn checkpoints, bad files."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from storyscore.audio import tfcheckpoint as tfc
from storyscore.errors import ModelError


def _tiny_tensors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    tensors: dict[str, np.ndarray] = {}
    # many keys sharing long prefixes, so the table prefix-compresses them and needs several blocks
    for i in range(120):
        tensors[f"model/block_{i % 6}/layer_{i}/kernel"] = rng.standard_normal((2, i % 4 + 1)).astype(
            np.float32
        )
    tensors |= {
        "global_step": np.array(987654321012, dtype=np.int64),
        "ints": np.arange(-6, 6, dtype=np.int32).reshape(2, 3, 2),
        "neg_int64": np.array([-(2**62), -1, 0, 2**40], dtype=np.int64),
        "double": np.linspace(-1.0, 1.0, 5),
        "half": np.array([[1.5, -2.25], [65504.0, 0.0]], dtype=np.float16),
        "flags": np.array([True, False, True]),
        "bytes": np.arange(250, 256, dtype=np.uint8),
        "scalar": np.array(3.25, dtype=np.float32),
        "empty": np.zeros((0, 4), dtype=np.float32),
        "ünïcode/näme": np.ones(3, dtype=np.float32),
    }
    return tensors


def _index_blocks(prefix: Path) -> int:
    """Number of data blocks the table's index block points to."""
    table = Path(str(prefix) + ".index").read_bytes()
    footer = table[-48:]
    pos = 0
    for _ in range(2):  # skip the metaindex handle
        _, pos = tfc._read_varint(footer, pos)
    offset, pos = tfc._read_varint(footer, pos)
    size, _ = tfc._read_varint(footer, pos)
    return sum(1 for _ in tfc._block_entries(tfc._read_block(table, offset, size)))


def test_round_trip_many_blocks(tmp_path: Path) -> None:
    tensors = _tiny_tensors()
    prefix = tmp_path / "ckpt" / "model"
    tfc.write_checkpoint(prefix, tensors, block_size=400)
    assert _index_blocks(prefix) > 3

    back = tfc.read_checkpoint(prefix)
    assert set(back) == set(tensors)
    for name, arr in tensors.items():
        assert back[name].dtype == arr.dtype, name
        assert back[name].shape == arr.shape, name
        np.testing.assert_array_equal(back[name], arr)
        assert back[name].flags.writeable

    # prefix compression: only keys at restart points / block starts (and index separators) are stored whole
    raw = Path(str(prefix) + ".index").read_bytes()
    whole = sum(1 for name in tensors if name.encode() in raw)
    assert whole < len(tensors) // 2


def test_round_trip_single_block_and_index_only(tmp_path: Path) -> None:
    tensors = {"a": np.ones((2, 3), np.float32), "ab": np.zeros(4, np.int32), "b": np.array(7, np.int64)}
    tfc.write_checkpoint(tmp_path / "x", tensors)
    assert _index_blocks(tmp_path / "x") == 1
    index = tfc.read_index(tmp_path / "x")
    assert index["a"][:2] == (1, (2, 3))  # DT_FLOAT
    assert index["ab"][:2] == (3, (4,))  # DT_INT32
    assert index["b"][:2] == (9, ())  # DT_INT64
    assert index["ab"][2] == 24 and index["ab"][3] == 16  # offset after "a", 4 int32s


def test_writer_rejects_unencodable(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        tfc.write_checkpoint(tmp_path / "x", {"s": np.array(["text"])})
    with pytest.raises(ValueError):
        tfc.write_checkpoint(tmp_path / "x", {"": np.ones(1, np.float32)})


def test_bad_files_raise_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError):
        tfc.read_checkpoint(tmp_path / "missing")
    tfc.write_checkpoint(tmp_path / "x", {"w": np.arange(10, dtype=np.float32)})
    index = Path(str(tmp_path / "x") + ".index")
    data = Path(str(tmp_path / "x") + ".data-00000-of-00001")

    data.write_bytes(data.read_bytes()[:20])  # truncated tensor bytes
    with pytest.raises(ModelError, match="do not fit"):
        tfc.read_checkpoint(tmp_path / "x")

    raw = index.read_bytes()
    index.write_bytes(raw[:-1] + b"\x00")  # broken magic number
    with pytest.raises(ModelError, match="magic"):
        tfc.read_checkpoint(tmp_path / "x")
    index.write_bytes(raw[:30])
    with pytest.raises(ModelError):
        tfc.read_checkpoint(tmp_path / "x")


def _musicnn_dir() -> Path:
    spec = importlib.util.find_spec("musicnn")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("musicnn wheel not installed")
    return Path(next(iter(spec.submodule_search_locations)))


# (name, shape) of the non-optimizer variables of build_musicnn, in TF layer-creation order
MUSICNN_SHAPES = {
    "conv2d/kernel": (7, 38, 1, 204),
    "conv2d_1/kernel": (7, 67, 1, 204),
    "conv2d_2/kernel": (128, 1, 1, 51),
    "conv2d_3/kernel": (64, 1, 1, 51),
    "conv2d_4/kernel": (32, 1, 1, 51),
    "conv2d_5/kernel": (7, 561, 1, 64),
    "conv2d_6/kernel": (7, 64, 1, 64),
    "conv2d_7/kernel": (7, 64, 1, 64),
    "dense/kernel": (1506, 200),
    "dense_1/kernel": (200, 50),
    "batch_normalization/moving_mean": (1,),
    "batch_normalization_1/gamma": (204,),
    "batch_normalization_5/beta": (51,),
    "batch_normalization_8/moving_variance": (64,),
    "batch_normalization_9/moving_mean": (1506,),
    "batch_normalization_10/gamma": (200,),
    "beta1_power": (),
}


@pytest.mark.parametrize("model", ["MTT_musicnn", "MSD_musicnn"])
def test_real_musicnn_checkpoints(model: str) -> None:
    prefix = str(_musicnn_dir() / model) + "/"
    ckpt = tfc.read_checkpoint(prefix)
    assert len(ckpt) == 150  # 50 variables + 2 Adam slots each + beta1/beta2 powers
    for name, shape in MUSICNN_SHAPES.items():
        assert ckpt[name].shape == shape, name
        assert ckpt[name].dtype == np.float32
    assert ckpt["conv2d/kernel/Adam_1"].shape == (7, 38, 1, 204)
    assert all(np.isfinite(v).all() for v in ckpt.values())
    assert (ckpt["batch_normalization_9/moving_variance"] > 0).all()
    # the entries tile the data file exactly, in order
    index = tfc.read_index(prefix)
    assert sum(size for *_, size in index.values()) == Path(prefix + ".data-00000-of-00001").stat().st_size
