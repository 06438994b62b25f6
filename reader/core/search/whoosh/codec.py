"""The index's Whoosh codec: Whoosh's W3 format with posting blocks stored as arrays.

Part of the index (`whoosh.index`). Whoosh's W3 codec pickles each block of postings as
tuples of Python ints, floats and bytes (one object per posting, and bytes pickled through
latin-1 strings under protocol 2), which dominates both writing and reading a common term.
This codec keeps W3's files, term infos, block headers and skipping, and changes only a
block's data to `(ids, weights, values)` where ids are little-endian uint32 deltas, weights
float32 (or None when all are 1.0, or one float when all are equal) and values either one
joined bytes string (fixed size), None (no values) or (uint32 lengths, joined bytes).
`block_arrays` reads a block straight into numpy for ranking (`reader.core.search.whoosh.ranking`).
The codec is pickled with each segment, so readers find it (`whoosh.index.<name>`).
"""

from __future__ import annotations

import sys
import zlib
from array import array
from itertools import accumulate
from operator import sub
from pickle import dumps
from typing import Any

import numpy as np

BLOCK_LIMIT = 512  # postings per block (W3's default is 128; bigger blocks read faster)
PICKLE_PROTOCOL = 4  # bytes as bytes (protocol 2 encodes them as latin-1 text)
_BIG_ENDIAN = sys.byteorder == "big"


def _le_bytes(values: array) -> bytes:
    """An array's items as little-endian bytes."""
    if _BIG_ENDIAN:
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def _from_le(typecode: str, data: bytes) -> array:
    values = array(typecode, data)
    if _BIG_ENDIAN:
        values.byteswap()
    return values


def encode_block(ids, weights, values: list[bytes] | None, fixed_size: int | None) -> tuple:
    """A block's (ids, weights, values) data tuple (see the module docstring)."""
    id_list = ids.tolist() if hasattr(ids, "tolist") else list(ids)
    deltas = _le_bytes(array("I", [id_list[0], *map(sub, id_list[1:], id_list)]))
    floats = weights if isinstance(weights, array) else array("f", weights)
    if floats.count(floats[0]) == len(floats):
        packed_weights: bytes | float | None = None if floats[0] == 1.0 else float(floats[0])
    else:
        packed_weights = _le_bytes(floats if floats.typecode == "f" else array("f", floats))
    packed_values: Any
    if fixed_size == 0 or not values:
        packed_values = None
    elif fixed_size is not None and fixed_size > 0:
        packed_values = b"".join(values)
    else:
        packed_values = (_le_bytes(array("I", map(len, values))), b"".join(values))
    return deltas, packed_weights, packed_values


def block_arrays(data: tuple, count: int) -> tuple[np.ndarray, np.ndarray]:
    """A block's (document numbers as int64, weights as float32), from its data tuple."""
    ids, weights = data[0], data[1]
    docs = np.cumsum(np.frombuffer(ids, "<u4").astype(np.int64))
    if weights is None:
        return docs, np.ones(count, np.float32)
    if isinstance(weights, float):
        return docs, np.full(count, weights, np.float32)
    return docs, np.frombuffer(weights, "<f4").astype(np.float32)


def codec_classes() -> tuple[type, type, type]:
    """(ArrayCodec, ArrayPostingsWriter, ArrayLeafMatcher), created on first use."""
    global _CLASSES
    if _CLASSES is not None:
        return _CLASSES
    from whoosh.codec.whoosh3 import (
        COMPRESSION_MIN_SIZE,
        WHOOSH3_HEADER_MAGIC,
        W3Codec,
        W3LeafMatcher,
        W3PostingsWriter,
    )
    from whoosh.util.numeric import length_to_byte

    class ArrayPostingsWriter(W3PostingsWriter):
        """W3PostingsWriter writing array blocks."""

        def _write_block(self, last: bool = False) -> None:
            if not self._blockcount:
                self._postfile.write(WHOOSH3_HEADER_MAGIC)
            self._terminfo.add_block(self)
            ids = self._ids
            data = encode_block(ids, self._weights, self._values, self._format.fixed_value_size())
            databytes = dumps(data, PICKLE_PROTOCOL)
            comp = self._compression if len(databytes) >= COMPRESSION_MIN_SIZE else 0
            if comp:
                databytes = zlib.compress(databytes, comp)
            info = (
                len(ids),
                int(ids[-1]),
                float(self._maxweight),
                comp,
                length_to_byte(self._minlength),
                length_to_byte(self._maxlength),
            )
            infobytes = dumps(info, 2)
            length = len(infobytes) + len(databytes)
            self._postfile.write_int(-length if last else length)
            self._postfile.write(infobytes)
            self._postfile.write(databytes)
            self._blockcount += 1
            self._new_block()

    class ArrayLeafMatcher(W3LeafMatcher):
        """W3LeafMatcher reading array blocks."""

        def _read_ids(self) -> None:
            if self._data is None:
                self._read_data()
            self._ids = list(accumulate(_from_le("I", self._data[0])))

        def _read_weights(self) -> None:
            if self._data is None:
                self._read_data()
            weights = self._data[1]
            if weights is None:
                self._weights = array("f", [1.0]) * self._blocklength
            elif isinstance(weights, float):
                self._weights = array("f", [weights]) * self._blocklength
            else:
                self._weights = _from_le("f", weights)

        def _read_values(self) -> None:
            if self._data is None:
                self._read_data()
            values, fixed = self._data[2], self._fixedsize
            if values is None:
                self._values = (None,) * self._blocklength
            elif fixed is not None and fixed > 0:
                self._values = tuple(values[i : i + fixed] for i in range(0, len(values), fixed))
            else:
                lengths, joined = values
                ends = list(accumulate(_from_le("I", lengths)))
                self._values = tuple(map(joined.__getitem__, map(slice, [0, *ends], ends)))

    class ArrayCodec(W3Codec):
        """W3Codec with array posting blocks for the inverted index (vectors stay W3)."""

        def __init__(self, blocklimit: int = BLOCK_LIMIT, compression: int = 3, inlinelimit=1):
            super().__init__(blocklimit, compression, inlinelimit)

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
