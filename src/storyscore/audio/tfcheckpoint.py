"""Read and write TensorFlow 1 "tensor bundle" checkpoints in plain Python (no TensorFlow).

A checkpoint ``PREFIX`` is two files:

* ``PREFIX.index``: a LevelDB-format sorted table (SSTable). Its first entry has the empty key and a
  ``BundleHeaderProto`` value; every other entry maps a variable name to a ``BundleEntryProto``
  (dtype, shape, shard, offset, size, crc32c) encoded in the protobuf wire format.
* ``PREFIX.data-00000-of-00001``: the raw little-endian tensor bytes, located by each entry's offset/size.

Only what TensorFlow's own writer produces is supported: uncompressed table blocks, a single data shard,
numeric/bool dtypes and unsliced tensors. Anything else is reported as :class:`ModelError`, so a broken
or unexpected weight file never turns into silently wrong numbers.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from storyscore.errors import ModelError

__all__ = ["DTYPES", "read_checkpoint", "read_index", "write_checkpoint"]

# tensorflow/core/framework/types.proto enum -> numpy dtype (little-endian, as TF writes on x86/ARM).
DTYPES: dict[int, np.dtype] = {
    1: np.dtype("<f4"),  # DT_FLOAT
    2: np.dtype("<f8"),  # DT_DOUBLE
    3: np.dtype("<i4"),  # DT_INT32
    4: np.dtype("u1"),  # DT_UINT8
    5: np.dtype("<i2"),  # DT_INT16
    6: np.dtype("i1"),  # DT_INT8
    8: np.dtype("<c8"),  # DT_COMPLEX64
    9: np.dtype("<i8"),  # DT_INT64
    10: np.dtype("?"),  # DT_BOOL
    17: np.dtype("<u2"),  # DT_UINT16
    18: np.dtype("<c16"),  # DT_COMPLEX128
    19: np.dtype("<f2"),  # DT_HALF
    22: np.dtype("<u4"),  # DT_UINT32
    23: np.dtype("<u8"),  # DT_UINT64
}
_DTYPE_CODES: dict[np.dtype, int] = {
    dt.newbyteorder("<") if dt.itemsize > 1 else dt: code for code, dt in DTYPES.items()
}

_TABLE_MAGIC = 0xDB4775248B80FB57  # LevelDB / TF table footer magic
_FOOTER_LEN = 48  # two block handles padded to 40 bytes + 8-byte magic
_BLOCK_TRAILER_LEN = 5  # 1 byte compression type + 4 byte masked crc32c
_DATA_SUFFIX = ".data-00000-of-00001"


# --------------------------------------------------------------------------------------------------
# wire-format helpers


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Decode one base-128 varint at ``pos``; return (value, next position)."""
    result = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise ModelError("truncated varint in checkpoint index")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ModelError("varint longer than 10 bytes in checkpoint index")


def _encode_varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64  # protobuf encodes negative int64 as its 64-bit two's complement
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _as_int64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _proto_fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield (field number, wire type, value) for each field of a serialized protobuf message."""
    pos = 0
    while pos < len(buf):
        tag, pos = _read_varint(buf, pos)
        field, wire = tag >> 3, tag & 7
        value: int | bytes
        if wire == 0:
            value, pos = _read_varint(buf, pos)
        elif wire == 1:
            value = struct.unpack_from("<Q", buf, pos)[0]
            pos += 8
        elif wire == 2:
            length, pos = _read_varint(buf, pos)
            value = buf[pos : pos + length]
            if len(value) != length:
                raise ModelError("truncated length-delimited protobuf field in checkpoint index")
            pos += length
        elif wire == 5:
            value = struct.unpack_from("<I", buf, pos)[0]
            pos += 4
        else:
            raise ModelError(f"unsupported protobuf wire type {wire} in checkpoint index")
        yield field, wire, value
    if pos != len(buf):
        raise ModelError("protobuf message overruns its buffer in checkpoint index")


def _pb_varint(field: int, value: int) -> bytes:
    return _encode_varint(field << 3) + _encode_varint(value)


def _pb_bytes(field: int, value: bytes) -> bytes:
    return _encode_varint((field << 3) | 2) + _encode_varint(len(value)) + value


def _pb_fixed32(field: int, value: int) -> bytes:
    return _encode_varint((field << 3) | 5) + struct.pack("<I", value)


# --------------------------------------------------------------------------------------------------
# crc32c (Castagnoli), as TF masks it; only needed by the writer (the reader does not verify)


def _make_crc_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _make_crc_table()


def _crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked_crc(data: bytes) -> int:
    # LevelDB/TF store crcs "masked" so that crcs of data containing crcs stay well distributed.
    crc = _crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


# --------------------------------------------------------------------------------------------------
# SSTable reading


def _read_block(table: bytes, offset: int, size: int) -> bytes:
    end = offset + size
    if offset < 0 or end + _BLOCK_TRAILER_LEN > len(table):
        raise ModelError("checkpoint index block handle points outside the file")
    compression = table[end]
    if compression != 0:
        # TF writes checkpoint indexes uncompressed; snappy would need another dependency.
        raise ModelError(f"compressed checkpoint index blocks (type {compression}) are not supported")
    return table[offset:end]


def _block_entries(block: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Yield (key, value) pairs of one table block, undoing the prefix compression of keys."""
    if len(block) < 4:
        raise ModelError("checkpoint index block too short")
    (num_restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    limit = len(block) - 4 - 4 * num_restarts
    if limit < 0:
        raise ModelError("checkpoint index block has a malformed restart array")
    pos = 0
    key = b""
    while pos < limit:
        shared, pos = _read_varint(block, pos)
        non_shared, pos = _read_varint(block, pos)
        value_len, pos = _read_varint(block, pos)
        if shared > len(key) or pos + non_shared + value_len > limit:
            raise ModelError("checkpoint index block entry is malformed")
        key = key[:shared] + block[pos : pos + non_shared]
        pos += non_shared
        yield key, block[pos : pos + value_len]
        pos += value_len


def _table_entries(table: bytes) -> Iterator[tuple[bytes, bytes]]:
    if len(table) < _FOOTER_LEN:
        raise ModelError("checkpoint index is too short to hold a table footer")
    footer = table[-_FOOTER_LEN:]
    (magic,) = struct.unpack_from("<Q", footer, _FOOTER_LEN - 8)
    if magic != _TABLE_MAGIC:
        raise ModelError("checkpoint index has a bad table magic number (not a TF checkpoint)")
    pos = 0
    _meta_offset, pos = _read_varint(footer, pos)  # metaindex block: empty in TF checkpoints
    _meta_size, pos = _read_varint(footer, pos)
    index_offset, pos = _read_varint(footer, pos)
    index_size, pos = _read_varint(footer, pos)
    index_block = _read_block(table, index_offset, index_size)
    # The index block maps a separator key to the handle of each data block, in key order.
    for _sep, handle in _block_entries(index_block):
        offset, hpos = _read_varint(handle, 0)
        size, _ = _read_varint(handle, hpos)
        yield from _block_entries(_read_block(table, offset, size))


# --------------------------------------------------------------------------------------------------
# bundle entries


class _Entry:
    __slots__ = ("dtype", "offset", "shape", "shard", "size")

    def __init__(self) -> None:
        self.dtype = 0
        self.shape: tuple[int, ...] = ()
        self.shard = 0
        self.offset = 0
        self.size = 0


def _parse_shape(buf: bytes) -> tuple[int, ...]:
    dims: list[int] = []
    for field, _wire, value in _proto_fields(buf):
        if field == 2 and isinstance(value, bytes):  # repeated Dim
            size = 0
            for dfield, _dwire, dvalue in _proto_fields(value):
                if dfield == 1 and isinstance(dvalue, int):
                    size = _as_int64(dvalue)
            dims.append(size)
        elif field == 3 and value:
            raise ModelError("checkpoint tensor has unknown rank")
    return tuple(dims)


def _parse_entry(name: str, buf: bytes) -> _Entry:
    entry = _Entry()
    for field, _wire, value in _proto_fields(buf):
        if field == 1 and isinstance(value, int):
            entry.dtype = value
        elif field == 2 and isinstance(value, bytes):
            entry.shape = _parse_shape(value)
        elif field == 3 and isinstance(value, int):
            entry.shard = value
        elif field == 4 and isinstance(value, int):
            entry.offset = _as_int64(value)
        elif field == 5 and isinstance(value, int):
            entry.size = _as_int64(value)
        elif field == 7:
            raise ModelError(f"checkpoint tensor {name!r} is stored in slices (unsupported)")
    return entry


def read_index(prefix: str | Path) -> dict[str, tuple[int, tuple[int, ...], int, int]]:
    """Return ``{name: (dtype code, shape, offset, size)}`` from ``PREFIX.index`` without loading data."""
    path = Path(str(prefix) + ".index")
    try:
        table = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read checkpoint index {path}: {exc}") from exc
    out: dict[str, tuple[int, tuple[int, ...], int, int]] = {}
    saw_header = False
    for key, value in _table_entries(table):
        if key == b"":
            saw_header = True
            for field, _wire, fvalue in _proto_fields(value):
                if field == 1 and fvalue != 1:
                    raise ModelError(f"checkpoint {path} has {fvalue} data shards (only 1 supported)")
                if field == 2 and fvalue != 0:
                    raise ModelError(f"checkpoint {path} is big-endian (unsupported)")
            continue
        name = key.decode("utf-8")
        entry = _parse_entry(name, value)
        if entry.shard != 0:
            raise ModelError(f"checkpoint tensor {name!r} lives in shard {entry.shard} (only 1 supported)")
        out[name] = (entry.dtype, entry.shape, entry.offset, entry.size)
    if not saw_header:
        raise ModelError(f"checkpoint index {path} has no bundle header entry")
    return out


def read_checkpoint(prefix: str | Path) -> dict[str, np.ndarray]:
    """Load every tensor of a TF1 checkpoint ``PREFIX`` (``PREFIX.index`` + ``PREFIX.data-00000-of-00001``).

    Returns fresh, writable arrays with TF's dtypes and shapes, keyed by variable name.
    """
    index = read_index(prefix)
    data_path = Path(str(prefix) + _DATA_SUFFIX)
    try:
        data = data_path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read checkpoint data {data_path}: {exc}") from exc
    tensors: dict[str, np.ndarray] = {}
    for name, (code, shape, offset, size) in index.items():
        dtype = DTYPES.get(code)
        if dtype is None:
            raise ModelError(f"checkpoint tensor {name!r} has unsupported dtype code {code}")
        if any(d < 0 for d in shape):
            raise ModelError(f"checkpoint tensor {name!r} has an undefined shape {shape}")
        count = int(np.prod(shape, dtype=np.int64))
        if size != count * dtype.itemsize or offset < 0 or offset + size > len(data):
            raise ModelError(
                f"checkpoint tensor {name!r}: {size} bytes at {offset} do not fit shape {shape} of "
                f"{dtype} in a {len(data)}-byte data file"
            )
        arr = np.frombuffer(data, dtype=dtype, count=count, offset=offset).reshape(shape)
        tensors[name] = arr.astype(dtype.newbyteorder("="), copy=True)
    return tensors


# --------------------------------------------------------------------------------------------------
# writing


def _build_block(entries: list[tuple[bytes, bytes]], restart_interval: int) -> bytes:
    out = bytearray()
    restarts: list[int] = []
    prev = b""
    for i, (key, value) in enumerate(entries):
        if i % restart_interval == 0:
            restarts.append(len(out))
            shared = 0  # restart points store the full key so readers can binary-search
        else:
            shared = 0
            limit = min(len(prev), len(key))
            while shared < limit and prev[shared] == key[shared]:
                shared += 1
        out += _encode_varint(shared) + _encode_varint(len(key) - shared) + _encode_varint(len(value))
        out += key[shared:] + value
        prev = key
    if not restarts:
        restarts.append(0)
    for r in restarts:
        out += struct.pack("<I", r)
    out += struct.pack("<I", len(restarts))
    return bytes(out)


def _append_block(table: bytearray, block: bytes) -> bytes:
    """Append a block plus its trailer; return its encoded BlockHandle."""
    offset = len(table)
    table += block
    trailer_type = b"\x00"  # no compression
    table += trailer_type + struct.pack("<I", _masked_crc(block + trailer_type))
    return _encode_varint(offset) + _encode_varint(len(block))


def write_checkpoint(
    prefix: str | Path,
    tensors: Mapping[str, np.ndarray],
    *,
    block_size: int = 4096,
    restart_interval: int = 16,
) -> None:
    """Write ``tensors`` as a single-shard TF1 checkpoint at ``PREFIX`` (readable by TF's ``Saver``).

    Meant for small test checkpoints: the crc32c of each tensor is computed in pure Python.
    ``block_size`` (bytes) bounds the table's data blocks; small values force a multi-block index.
    """
    prefix = Path(prefix)
    items: list[tuple[bytes, bytes]] = []
    data = bytearray()
    for name in sorted(tensors, key=lambda n: n.encode("utf-8")):
        if not name:
            raise ValueError("tensor names must be non-empty (the empty key holds the bundle header)")
        arr = np.asarray(tensors[name])
        dt = arr.dtype.newbyteorder("<") if arr.dtype.itemsize > 1 else arr.dtype
        code = _DTYPE_CODES.get(dt)
        if code is None:
            raise ValueError(f"tensor {name!r}: dtype {arr.dtype} has no TF checkpoint encoding")
        raw = np.ascontiguousarray(arr, dtype=dt).tobytes()
        shape = b"".join(_pb_bytes(2, _pb_varint(1, d)) for d in arr.shape)
        entry = _pb_varint(1, code) + _pb_bytes(2, shape)
        # shard_id 0 is the proto default and TF omits it
        if len(data):
            entry += _pb_varint(4, len(data))
        entry += _pb_varint(5, len(raw)) + _pb_fixed32(6, _masked_crc(raw))
        items.append((name.encode("utf-8"), entry))
        data += raw
    # BundleHeaderProto: num_shards=1, endianness LITTLE (default, omitted), version{producer=1}
    header = _pb_varint(1, 1) + _pb_bytes(3, _pb_varint(1, 1))
    items.insert(0, (b"", header))

    table = bytearray()
    index_entries: list[tuple[bytes, bytes]] = []
    current: list[tuple[bytes, bytes]] = []
    current_size = 0
    for key, value in items:
        current.append((key, value))
        current_size += len(key) + len(value) + 3
        if current_size >= block_size:
            # The last key of a block is a valid separator: >= every key in it, < the next block's keys.
            index_entries.append((key, _append_block(table, _build_block(current, restart_interval))))
            current, current_size = [], 0
    if current:
        index_entries.append((current[-1][0], _append_block(table, _build_block(current, restart_interval))))
    meta_handle = _append_block(table, _build_block([], restart_interval))
    index_handle = _append_block(table, _build_block(index_entries, 1))
    footer = meta_handle + index_handle
    footer += b"\x00" * (_FOOTER_LEN - 8 - len(footer)) + struct.pack("<Q", _TABLE_MAGIC)
    table += footer

    prefix.parent.mkdir(parents=True, exist_ok=True)
    Path(str(prefix) + _DATA_SUFFIX).write_bytes(bytes(data))
    Path(str(prefix) + ".index").write_bytes(bytes(table))
