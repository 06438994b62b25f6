"""The index codec's block layout: every width and weight kind round-trips, and blocks are
as small as their values allow."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from reader.core.search.whoosh import codec


def _decode(block: bytes) -> tuple[codec.Block, tuple]:
    """A block written by `encode_block`, read back as the leaf matcher reads it."""
    count, first, _last, _top, comp, _low, _high, *widths = codec.BLOCK_HEADER.unpack_from(block)
    data = block[codec.BLOCK_HEADER.size :]
    if comp:
        data = zlib.decompress(data)
    return codec.Block(count, first, *widths, data), widths


@pytest.mark.parametrize(
    ("ids", "idw"),
    [
        ([7], 0),  # one posting: its document is in the header, no deltas
        ([0, 1, 255, 300], 1),
        ([3, 70_000, 70_001], 4),
        ([10, 1000, 60_000], 2),
        ([5, 4_000_000_000], 4),
    ],
)
def test_document_deltas_take_the_smallest_width(ids: list[int], idw: int) -> None:
    block = codec.encode_block(ids, [1.0] * len(ids), None, 0, 0, (1, 2), 1.0)
    decoded, widths = _decode(block)
    assert widths[0] == idw
    assert decoded.docs().tolist() == ids
    assert len(block) == codec.BLOCK_HEADER.size + idw * (len(ids) - 1)


@pytest.mark.parametrize(
    ("weights", "kind", "size"),
    [
        ([1.0, 1.0, 1.0], codec.W_ONES, 0),
        ([2.5, 2.5, 2.5], codec.W_SAME, 4),
        ([1.0, 3.0, 255.0], codec.W_U8, 3),
        ([1.0, 300.0, 2.0], codec.W_U16, 6),
        ([1.0, 70_000.0, 2.0], codec.W_F32, 12),
        ([1.5, 2.0, 1.0], codec.W_F32, 12),  # not whole numbers
    ],
)
def test_weights_are_kept_as_small_as_they_allow(
    weights: list[float], kind: int, size: int
) -> None:
    block = codec.encode_block([1, 2, 3], weights, None, 0, 0, (0, 0), max(weights))
    decoded, widths = _decode(block)
    assert widths[1] == kind
    assert decoded.weights().dtype == np.float32
    assert decoded.weights().tolist() == weights
    assert len(block) == codec.BLOCK_HEADER.size + 2 + size


def test_values_of_varying_and_fixed_size_round_trip() -> None:
    values = [b"\x01\x05", b"", b"x" * 300, b"\x02\x01\x00"]
    block = codec.encode_block([0, 4, 9, 10], [2.0, 1.0, 7.0, 1.0], values, None, 0, (0, 0), 7.0)
    decoded, widths = _decode(block)
    assert widths[2] == 2  # a value of 300 bytes: 2-byte lengths
    assert decoded.values(None) == tuple(values)
    fixed = [b"abcd", b"efgh"]
    block = codec.encode_block([0, 1], [1.0, 2.0], fixed, 4, 0, (0, 0), 2.0)
    decoded, widths = _decode(block)
    assert widths[2] == 0 and decoded.values(4) == tuple(fixed)
    block = codec.encode_block([0, 1], [1.0, 2.0], None, 0, 0, (0, 0), 2.0)
    assert _decode(block)[0].values(0) == (None, None)


def test_compression_is_kept_only_when_it_pays() -> None:
    ids = list(range(0, 400, 2))
    repetitive = codec.encode_block(ids, [1.0] * len(ids), None, 0, 3, (0, 0), 1.0)
    assert codec.BLOCK_HEADER.unpack_from(repetitive)[4] == 3
    assert _decode(repetitive)[0].docs().tolist() == ids
    rng = np.random.default_rng(0)
    noise = [bytes(rng.integers(0, 256, 40, dtype=np.uint8)) for _ in range(4)]
    block = codec.encode_block([0, 1, 2, 3], [1.0] * 4, noise, None, 3, (0, 0), 1.0)
    assert codec.BLOCK_HEADER.unpack_from(block)[4] == 0  # zlib would not save anything
    assert _decode(block)[0].values(None) == tuple(noise)


def test_block_arrays_gives_numpy_arrays_for_ranking() -> None:
    block = codec.encode_block([3, 5, 900], [1.0, 4.0, 2.0], None, 0, 0, (0, 0), 4.0)
    docs, weights = codec.block_arrays(_decode(block)[0], 3)
    assert docs.dtype == np.int64 and docs.tolist() == [3, 5, 900]
    assert weights.dtype == np.float32 and weights.tolist() == [1.0, 4.0, 2.0]


def test_raw_values_re_encode_to_the_same_block() -> None:
    """What a merge joins: a block's arrays and raw values encode back to the same block."""
    values = [b"\x01\x05", b"\x02\x01\x00", b"z" * 3]
    block = codec.encode_block([4, 9, 70_000], [2.0, 1.0, 3.0], values, None, 3, (5, 9), 3.0)
    decoded, _widths = _decode(block)
    sizes, joined = codec.raw_values(decoded, None)
    assert sizes is not None and sizes.tolist() == [2, 3, 3] and joined == b"".join(values)
    again = codec.encode_arrays(decoded.docs(), decoded.weights(), sizes, joined, 3, (5, 9), 3.0)
    assert again == block
    none = codec.encode_block([1, 2], [1.0, 1.0], None, 0, 3, (0, 0), 1.0)
    assert codec.raw_values(_decode(none)[0], 0) == (None, b"")


@pytest.mark.parametrize("seed", range(40))
def test_lists_and_arrays_encode_and_decode_alike(seed: int) -> None:
    """The pure-Python path (small blocks a merge joins) writes and reads the numpy path's
    bytes, for every width, weight kind and value layout."""
    rng = np.random.default_rng(seed)
    count = int(rng.integers(1, 40))
    gaps = [1, 200, 60_000, 5_000_000][seed % 4]
    docs = np.cumsum(rng.integers(1, gaps + 1, count)).astype(np.int64)
    weights = [
        np.ones(count),
        np.full(count, 2.5),
        rng.integers(1, 200, count).astype(float),
        rng.integers(1, 70_000, count).astype(float),
        rng.random(count) * 3,
    ][seed % 5].astype(np.float32)
    fixed = [None, 0, 4][seed % 3]
    if fixed is None:
        sizes = rng.integers(0, 300 if seed % 2 else 9, count)
        joined = bytes(rng.integers(0, 256, int(sizes.sum()), dtype=np.uint8))
    elif fixed:
        sizes, joined = None, bytes(rng.integers(0, 256, count * fixed, dtype=np.uint8))
    else:
        sizes, joined = None, b""
    top = float(weights.max())
    block = codec.encode_arrays(docs, weights, sizes, joined, 3, (1, 9), top)
    again = codec.encode_lists(
        docs.tolist(), weights.tolist(), None if sizes is None else sizes.tolist(), joined, 3,
        (1, 9), top,
    )  # fmt: skip
    assert again == block
    decoded = codec.decode_lists(_decode(block)[0], fixed)
    assert decoded[0] == docs.tolist() and decoded[1] == weights.tolist()
    assert decoded[2] == (None if sizes is None else sizes.tolist()) and decoded[3] == joined
