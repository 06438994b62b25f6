"""The index's Whoosh codec: Whoosh's W3 format with compact posting blocks.

Part of the index (`whoosh.index`). Whoosh's W3 codec pickles each block of postings as
tuples of Python ints, floats and bytes, and each block's info as a pickled tuple (about 70
bytes for a block of one posting). This codec keeps W3's files, term infos and the layout of
a term's postings (a 4-byte tag, then blocks, each after its signed length, negative for the
last), and changes a block to a fixed `BLOCK_HEADER` struct followed by its data, whose
arrays each take the smallest unsigned width that holds their values:

- header: postings in the block, first and last document, max weight (float32), zlib
  compression (0 or the level), min/max field length bytes, the width of the document
  deltas (0 for a block of one posting), how weights are kept (`W_*`), the width of the
  value lengths (0 for values of fixed size or none);
- data (zlib-compressed when that pays): the document deltas after the first; the weights
  (none when all are 1.0; one float32 when all are equal; else uint8 / uint16 when they are
  whole numbers, as term frequencies are, or float32); the values: their lengths then the
  values back to back (fixed size: just the values).

`block_arrays` reads a block straight into numpy for ranking
(`reader.core.search.whoosh.ranking`). The codec is pickled with each segment, so readers
find it (`whoosh.index.<name>`); the index schema version changes with the layout.
"""

from __future__ import annotations

import struct
import sys
import zlib
from array import array
from itertools import accumulate, pairwise
from typing import Any

import numpy as np

BLOCK_LIMIT = 512  # postings per block (W3's default is 128; bigger blocks read faster)
# count, first doc, last doc, max weight, compression, min/max length bytes, widths
BLOCK_HEADER = struct.Struct("<HIIfBBBBBB")
W_ONES, W_SAME, W_U8, W_U16, W_F32 = range(5)  # how a block keeps its weights
COMPRESS_MIN = 64  # bytes of data from which zlib is tried (kept only when it saves)
_UNSIGNED = {1: "<u1", 2: "<u2", 4: "<u4"}
_WEIGHT_DTYPES = {W_U8: "<u1", W_U16: "<u2", W_F32: "<f4"}
_WEIGHT_SIZES = {W_ONES: 0, W_SAME: 0, W_U8: 1, W_U16: 2, W_F32: 4}
_TYPECODES = {1: "B", 2: "H", 4: "I"}  # array typecodes of the unsigned widths
_WEIGHT_CODES = {W_U8: "B", W_U16: "H", W_F32: "f"}
_BIG_ENDIAN = sys.byteorder == "big"


def width(top: int) -> int:
    """Bytes of the smallest unsigned integer that holds 0..top."""
    return 1 if top < 1 << 8 else 2 if top < 1 << 16 else 4


def weight_kind(weights: np.ndarray) -> int:
    """How a block keeps these (float32) weights (`W_*`)."""
    low, high = float(weights.min()), float(weights.max())
    if low == high:
        return W_ONES if high == 1.0 else W_SAME
    if low >= 0 and (weights == np.floor(weights)).all():
        return W_U8 if high < 1 << 8 else W_U16 if high < 1 << 16 else W_F32
    return W_F32


def encode_block(
    ids: Any,
    weights: Any,
    values: list[bytes] | None,
    fixed_size: int | None,
    level: int,
    lengths: tuple[int, int],
    maxweight: float,
) -> bytes:
    """A block as the codec writes it: header, then data (see the module docstring)."""
    sizes, joined = None, b""
    if values and fixed_size != 0 and values[0] is not None:
        joined = b"".join(values)
        if fixed_size is None:
            sizes = np.fromiter(map(len, values), np.int64, len(values))
    docs, w = np.asarray(ids, np.int64), np.asarray(weights, np.float32)
    return encode_arrays(docs, w, sizes, joined, level, lengths, maxweight)


def encode_arrays(
    docs: np.ndarray,
    weights: np.ndarray,
    sizes: np.ndarray | None,
    joined: bytes,
    level: int,
    lengths: tuple[int, int],
    maxweight: float,
) -> bytes:
    """`encode_block` of arrays: documents (int64), weights (float32), the sizes of the values
    (None when of fixed size or none) and the values back to back."""
    deltas = np.diff(docs)
    idw = width(int(deltas.max())) if len(deltas) else 0
    kind = weight_kind(weights)
    parts = [deltas.astype(_UNSIGNED[idw]).tobytes() if idw else b""]
    if kind == W_SAME:
        parts.append(weights[:1].astype("<f4").tobytes())
    elif kind != W_ONES:
        parts.append(weights.astype(_WEIGHT_DTYPES[kind]).tobytes())
    lenw = 0
    if sizes is not None:
        lenw = width(int(sizes.max()))
        parts.append(sizes.astype(_UNSIGNED[lenw]).tobytes())
    parts.append(joined)
    data, comp = compress(b"".join(parts), level)
    header = BLOCK_HEADER.pack(
        len(docs), int(docs[0]), int(docs[-1]), maxweight, comp, *lengths, idw, kind, lenw
    )
    return header + data


def compress(data: bytes, level: int) -> tuple[bytes, int]:
    """(data, 0), or (zlib-compressed data, level) when that is smaller."""
    if level and len(data) >= COMPRESS_MIN:
        packed = zlib.compress(data, level)
        if len(packed) < len(data):
            return packed, level
    return data, 0


class Block:
    """A block's decoded layout: where its arrays lie in its (decompressed) data."""

    __slots__ = ("count", "data", "first", "idw", "kind", "lenw")

    def __init__(self, count: int, first: int, idw: int, kind: int, lenw: int, data: bytes):
        self.count, self.first, self.idw, self.kind, self.lenw = count, first, idw, kind, lenw
        self.data = data

    def docs(self) -> np.ndarray:
        """Document numbers (int64)."""
        out = np.empty(self.count, np.int64)
        out[0] = self.first
        if self.count > 1:
            np.cumsum(np.frombuffer(self.data, _UNSIGNED[self.idw], self.count - 1), out=out[1:])
            out[1:] += self.first
        return out

    def _weights_at(self) -> int:
        return (self.count - 1) * self.idw

    def weights(self) -> np.ndarray:
        """Weights (float32)."""
        kind, at = self.kind, self._weights_at()
        if kind == W_ONES:
            return np.ones(self.count, np.float32)
        if kind == W_SAME:
            return np.full(self.count, np.frombuffer(self.data, "<f4", 1, at)[0], np.float32)
        return np.frombuffer(self.data, _WEIGHT_DTYPES[kind], self.count, at).astype(np.float32)

    def _values_at(self) -> int:
        kind = self.kind
        size = 4 if kind == W_SAME else _WEIGHT_SIZES[kind] * self.count
        return self._weights_at() + size

    def values(self, fixed: int | None) -> tuple:
        """Each posting's value (bytes), or Nones when the format has none."""
        at, count = self._values_at(), self.count
        if fixed == 0 or at >= len(self.data):
            return (None,) * count
        if fixed is not None:
            return tuple(self.data[i : i + fixed] for i in range(at, at + count * fixed, fixed))
        sizes = np.frombuffer(self.data, _UNSIGNED[self.lenw], count, at)
        ends = (np.cumsum(sizes) + (at + count * self.lenw)).tolist()
        data = self.data
        return tuple(map(data.__getitem__, map(slice, [at + count * self.lenw, *ends[:-1]], ends)))


def decode_lists(block: Block, fixed: int | None) -> tuple[list, list, list | None, bytes]:
    """`block`'s (documents, weights, sizes of the values (None when of fixed size or none),
    the values joined) as Python lists: for the small blocks a merge joins, faster than
    numpy's per-call cost."""
    count, data, k = block.count, block.data, (block.count - 1) * block.idw
    docs = [block.first]
    if count > 1:
        docs = list(accumulate(_from_le(_TYPECODES[block.idw], data[:k]), initial=block.first))
    kind = block.kind
    if kind == W_ONES:
        weights, at = [1.0] * count, k
    elif kind == W_SAME:
        weights, at = [struct.unpack_from("<f", data, k)[0]] * count, k + 4
    else:
        at = k + count * _WEIGHT_SIZES[kind]
        weights = [float(w) for w in _from_le(_WEIGHT_CODES[kind], data[k:at])]
    if fixed == 0 or at >= len(data):
        return docs, weights, ([0] * count if fixed is None else None), b""
    if fixed is not None:
        return docs, weights, None, data[at : at + count * fixed]
    end = at + count * block.lenw
    return docs, weights, _from_le(_TYPECODES[block.lenw], data[at:end]).tolist(), data[end:]


def encode_lists(
    docs: list,
    weights: list,
    sizes: list | None,
    joined: bytes,
    level: int,
    lengths: tuple[int, int],
    maxweight: float,
) -> bytes:
    """`encode_arrays` of Python lists (the same bytes): for small blocks."""
    deltas = [b - a for a, b in pairwise(docs)]
    idw = width(max(deltas)) if deltas else 0
    low, high = min(weights), max(weights)
    if low == high:
        kind = W_ONES if high == 1.0 else W_SAME
    elif low >= 0 and all(w.is_integer() for w in weights):
        kind = W_U8 if high < 1 << 8 else W_U16 if high < 1 << 16 else W_F32
    else:
        kind = W_F32
    parts = [_le_bytes(_TYPECODES[idw], deltas) if idw else b""]
    if kind == W_SAME:
        parts.append(struct.pack("<f", weights[0]))
    elif kind != W_ONES:
        parts.append(
            _le_bytes(_WEIGHT_CODES[kind], weights if kind == W_F32 else map(int, weights))
        )
    lenw = 0
    if sizes is not None:
        lenw = width(max(sizes))
        parts.append(_le_bytes(_TYPECODES[lenw], sizes))
    parts.append(joined)
    data, comp = compress(b"".join(parts), level)
    header = BLOCK_HEADER.pack(
        len(docs), docs[0], docs[-1], maxweight, comp, *lengths, idw, kind, lenw
    )
    return header + data


def _le_bytes(typecode: str, values: Any) -> bytes:
    packed = array(typecode, values)
    if _BIG_ENDIAN:
        packed.byteswap()
    return packed.tobytes()


def _from_le(typecode: str, data: bytes) -> array:
    values = array(typecode, data)
    if _BIG_ENDIAN:
        values.byteswap()
    return values


def raw_values(block: Block, fixed: int | None) -> tuple[np.ndarray | None, bytes]:
    """A block's values as (their sizes, None when of fixed size or none; them joined)."""
    at, count = block._values_at(), block.count
    if fixed == 0 or at >= len(block.data):
        return (np.zeros(count, np.int64) if fixed is None else None), b""
    if fixed is not None:
        return None, block.data[at : at + count * fixed]
    sizes = np.frombuffer(block.data, _UNSIGNED[block.lenw], count, at)
    return sizes, block.data[at + count * block.lenw :]


def block_arrays(data: Block, count: int) -> tuple[np.ndarray, np.ndarray]:
    """A block's (document numbers as int64, weights as float32)."""
    return data.docs(), data.weights()


def codec_classes() -> tuple[type, type, type]:
    """(ArrayCodec, ArrayPostingsWriter, ArrayLeafMatcher), created on first use."""
    global _CLASSES
    if _CLASSES is not None:
        return _CLASSES
    from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec, W3LeafMatcher, W3PostingsWriter
    from whoosh.reading import CorruptIndexError
    from whoosh.util.numeric import byte_to_length, length_to_byte

    class ArrayPostingsWriter(W3PostingsWriter):
        """W3PostingsWriter writing compact blocks."""

        def _write_block(self, last: bool = False) -> None:
            if not self._blockcount:
                self._postfile.write(WHOOSH3_HEADER_MAGIC)
            self._terminfo.add_block(self)
            block = encode_block(
                self._ids,
                self._weights,
                self._values,
                self._format.fixed_value_size(),
                self._compression,
                (length_to_byte(self._minlength), length_to_byte(self._maxlength)),
                float(self._maxweight),
            )
            self._postfile.write_int(-len(block) if last else len(block))
            self._postfile.write(block)
            self._blockcount += 1
            self._new_block()

    class ArrayLeafMatcher(W3LeafMatcher):
        """W3LeafMatcher reading compact blocks."""

        def _goto(self, position: int) -> None:
            self._data = self._ids = self._weights = self._values = None
            self._i = 0
            postfile = self._postfile
            try:
                head = postfile.get(position, 4 + BLOCK_HEADER.size)
                (length,) = struct.unpack_from("!i", head)
                (count, first, last, maxweight, comp, minlen, maxlen,
                 *self._widths) = BLOCK_HEADER.unpack_from(head, 4)  # fmt: skip
            except (struct.error, ValueError, OSError) as exc:
                raise CorruptIndexError(
                    f"damaged postings block at offset {position}: {exc}"
                ) from exc
            if length < 0:
                self._lastblock = True
                length = -length
            if not count or length < BLOCK_HEADER.size:
                raise CorruptIndexError(f"damaged postings block at offset {position}")
            self._nextoffset = position + 4 + length
            self._dataoffset = position + 4 + BLOCK_HEADER.size
            self._blocklength, self._first, self._maxid = count, first, last
            self._maxweight, self._compression = maxweight, comp
            self._minlength, self._maxlength = byte_to_length(minlen), byte_to_length(maxlen)

        def _read_data(self) -> None:
            data = self._postfile.get(self._dataoffset, self._nextoffset - self._dataoffset)
            if self._compression:
                data = zlib.decompress(data)
            self._data = Block(self._blocklength, self._first, *self._widths, data)

        def _read_ids(self) -> None:
            if self._data is None:
                self._read_data()
            self._ids = self._data.docs().tolist()

        def _read_weights(self) -> None:
            if self._data is None:
                self._read_data()
            self._weights = self._data.weights().tolist()

        def _read_values(self) -> None:
            if self._data is None:
                self._read_data()
            self._values = self._data.values(self._fixedsize)

    class ArrayCodec(W3Codec):
        """W3Codec with compact posting blocks for the inverted index (vectors stay W3)."""

        def __init__(self, blocklimit: int = BLOCK_LIMIT, compression: int = 3, inlinelimit=1):
            super().__init__(blocklimit, compression, inlinelimit)

        def field_writer(self, storage, segment):
            """W3FieldWriter, its term file written by a `CompactHashWriter` (the same
            bytes, with a few bytes per term held until the end instead of ~120)."""
            from reader.core.search.whoosh.termfile import CompactHashWriter

            writer = super().field_writer(storage, segment)
            writer._tindex = CompactHashWriter(writer._tindex)
            return writer

        def postings_writer(self, dbfile, byteids: bool = False):
            if byteids:
                return super().postings_writer(dbfile, byteids=True)
            return ArrayPostingsWriter(
                dbfile,
                blocklimit=self._blocklimit,
                compression=self._compression,
                inlinelimit=self._inlinelimit,
            )

        def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None):
            if terminfo.is_inlined():
                return super().postings_reader(dbfile, terminfo, format_, term, scorer)
            offset, length = terminfo.extent()
            return ArrayLeafMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)

    for cls in (ArrayCodec, ArrayPostingsWriter, ArrayLeafMatcher):
        cls.__module__, cls.__qualname__ = __name__, cls.__name__
    _CLASSES = (ArrayCodec, ArrayPostingsWriter, ArrayLeafMatcher)
    return _CLASSES


_CLASSES: tuple[type, type, type] | None = None


def __getattr__(name: str) -> Any:
    """The codec classes, created on first use; unpickling a segment finds them here."""
    names = ("ArrayCodec", "ArrayPostingsWriter", "ArrayLeafMatcher")
    if name in names:
        return codec_classes()[names.index(name)]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
