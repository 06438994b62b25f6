"""A segment's term file (`.trm`) written with memory that stays small as terms pile up.

Whoosh writes the term dictionary through `whoosh.filedb.filetables.OrderedHashWriter`: the
records (key and value lengths, key, value) go to the file as they come, but for the hash
tables and the ordered index written at the end it keeps a Python tuple `(hash, position)`
per term in one of 256 lists, and the position in a growable array: about 120 bytes a term,
30 MB for the 180,000 terms of 80,000 news articles, held by the merge of a full build
and by every segment written. `CompactHashWriter` keeps the same in typed arrays (4 bytes
of hash and 8 of position a term, plus 8 for the ordered index) and writes the same bytes:
the same records, the same 256 tables (open addressing, filled in the order the keys came),
directory, extras and index array, so Whoosh's readers (`OrderedHashReader`,
`W3TermsReader`) read it unchanged. `tests/unit/test_termfile.py` compares the files byte
for byte.
"""

from __future__ import annotations

import struct
from array import array
from hashlib import md5
from typing import Any

_LENGTHS = struct.Struct("!ii")  # filetables._lengths: a record's key and value sizes
_POINTER = struct.Struct("!Iq")  # filetables._pointer: a slot's hash and key position
_DIR_ENTRY = struct.Struct("!qi")  # filetables._dir_entry: a table's position and size
_MD5 = 0  # filetables' hash type 0: the low 32 bits of the key's MD5


def md5_hash(key: bytes) -> int:
    """`whoosh.filedb.filetables.md5_hash` (the low 32 bits of the MD5), without hex."""
    return int.from_bytes(md5(key, usedforsecurity=False).digest()[12:], "big")


def _index_type(top: int) -> str:
    """The typecode `GrowableArray("H")` ends with when `top` is its largest value."""
    if top < 1 << 16:
        return "H"
    if top < 1 << 31:
        return "i"
    if top < 1 << 32:
        return "I"
    return "q"


class CompactHashWriter:
    """`OrderedHashWriter`'s file from typed arrays. Takes over a just-created
    `OrderedHashWriter` (its file, with the header written, and its `extras` dict, which
    W3FieldWriter fills with the field map), so it can replace one in place."""

    def __init__(self, writer: Any) -> None:
        if writer.hashtype != _MD5 or len(writer.index) or any(writer.buckets):
            raise ValueError("a CompactHashWriter takes over a new MD5 OrderedHashWriter")
        self.dbfile = writer.dbfile
        self.hashtype = writer.hashtype
        self.extras = writer.extras
        self.startoffset = writer.startoffset
        self.lastkey = b""
        self.positions = array("q")  # each key's position, in key order
        self.hashes = [array("I") for _ in range(256)]  # per table: the keys' hashes
        self.slots = [array("q") for _ in range(256)]  # and positions, in arrival order

    def tell(self) -> int:
        return self.dbfile.tell()

    def add(self, key: bytes, value: bytes) -> None:
        self.add_many([key], [value])

    def add_many(self, keys: list[bytes], values: list[bytes]) -> None:
        """Add each key (bytes, increasing) with its value, in one write."""
        if not keys:
            return
        if keys[0] <= self.lastkey:
            raise ValueError(f"Keys must increase: {self.lastkey!r}..{keys[0]!r}")
        pos = self.dbfile.tell()
        records = []
        hashes, slots, positions = self.hashes, self.slots, self.positions
        pack = _LENGTHS.pack
        for key, value in zip(keys, values, strict=True):
            positions.append(pos)
            h = md5_hash(key)
            hashes[h & 255].append(h)
            slots[h & 255].append(pos)
            record = b"".join((pack(len(key), len(value)), key, value))
            records.append(record)
            pos += len(record)
        self.dbfile.write(b"".join(records))
        self.lastkey = keys[-1]

    def close(self) -> int:
        """Write the hash tables, their directory, the extras and the ordered index (as
        `HashWriter.close` and `OrderedHashWriter._write_extras` do); close the file."""
        dbfile = self.dbfile
        directory = []
        for hashes, slots in zip(self.hashes, self.slots, strict=True):
            directory.append((dbfile.tell(), 2 * len(hashes)))
            dbfile.write(_table(hashes, slots))
            del hashes[:], slots[:]  # freed as they are written
        dbfile.write(b"".join(_DIR_ENTRY.pack(pos, n) for pos, n in directory))
        expos = dbfile.tell()
        positions = self.positions
        typecode = _index_type(positions[-1]) if positions else "H"
        self.extras["indextype"] = typecode
        self.extras["indexlen"] = len(positions)
        dbfile.write_pickle(self.extras)
        dbfile.write_array(array(typecode, positions) if typecode != "q" else positions)
        self.positions = array("q")
        # HashWriter.close writes the extras' length after the index array, as Whoosh does
        # (OrderedHashWriter's index array is part of its `_write_extras`)
        dbfile.write_int(dbfile.tell() - expos)
        end = dbfile.tell()
        dbfile.close()
        return end


def _table(hashes: array, slots: array) -> bytes:
    """One bucket's hash table as `HashWriter._write_hashes` lays it out: twice as many
    slots as keys, each key at `(hash >> 8) % slots` or the next free slot (wrapping),
    in the order the keys came; an empty slot is (0, 0)."""
    numslots = 2 * len(hashes)
    if not numslots:
        return b""
    table_h = array("I", bytes(4 * numslots))
    table_p = array("q", bytes(8 * numslots))
    for h, pos in zip(hashes, slots, strict=True):
        slot = (h >> 8) % numslots
        while table_h[slot] or table_p[slot]:
            slot = (slot + 1) % numslots
        table_h[slot] = h
        table_p[slot] = pos
    pack = _POINTER.pack
    return b"".join(map(pack, table_h, table_p))
