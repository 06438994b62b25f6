"""The compact term file writer writes Whoosh's OrderedHashWriter file byte for byte."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from reader.core.search.whoosh import termfile


def _keys(n: int, seed: int = 7) -> list[tuple[bytes, bytes]]:
    """`n` sorted distinct keys (a field number then a term, as W3 writes them) and values."""
    rng = random.Random(seed)
    words = set()
    while len(words) < n:
        size = rng.choice((1, 2, 3, 5, 8, 13))
        words.add(bytes(rng.randrange(1, 256) for _ in range(size)))
    return [(b"\x00\x01" + w, rng.randbytes(rng.randrange(0, 40))) for w in sorted(words)]


def _write(folder: Path, name: str, items, compact: bool, extras=None, batch: int = 1) -> bytes:
    from whoosh.filedb.filestore import FileStorage
    from whoosh.filedb.filetables import OrderedHashWriter

    storage = FileStorage(str(folder))
    writer = OrderedHashWriter(storage.create_file(name))
    if compact:
        writer = termfile.CompactHashWriter(writer)
    writer.extras.update(extras or {})
    for at in range(0, len(items), batch):
        part = items[at : at + batch]
        if compact and batch > 1:
            writer.add_many([k for k, _ in part], [v for _, v in part])
        else:
            for key, value in part:
                writer.add(key, value)
    writer.close()
    return (folder / name).read_bytes()


@pytest.mark.parametrize(("n", "batch"), [(0, 1), (1, 1), (300, 1), (5000, 97)])
def test_compact_writer_writes_the_same_bytes(tmp_path: Path, n: int, batch: int) -> None:
    items = _keys(n)
    extras = {"fieldmap": {"body": 1}}
    stock = _write(tmp_path, "stock.trm", items, False, extras)
    compact = _write(tmp_path, "compact.trm", items, True, extras, batch)
    assert compact == stock
    assert len(stock) > 13 + 256 * 12  # a header, tables' directory, extras at least


def test_many_terms_with_wide_positions_and_collisions(tmp_path: Path) -> None:
    """Past 64 KB of records the ordered index changes type (H -> i), and buckets have
    colliding slots (open addressing): still the same bytes, and every key found back."""
    from whoosh.filedb.filestore import FileStorage
    from whoosh.filedb.filetables import OrderedHashReader

    items = _keys(20_000, seed=3)
    stock = _write(tmp_path, "stock.trm", items, False)
    assert _write(tmp_path, "compact.trm", items, True, batch=501) == stock
    table = OrderedHashReader.open(FileStorage(str(tmp_path)), "compact.trm")
    try:
        assert table.extras["indextype"] == "i"
        for key, value in items[::37]:
            assert table[key] == value
            assert table.closest_key(key) == key
        assert list(table.keys()) == [k for k, _ in items]
    finally:
        table.close()


def test_keys_must_increase(tmp_path: Path) -> None:
    from whoosh.filedb.filestore import FileStorage
    from whoosh.filedb.filetables import OrderedHashWriter

    writer = termfile.CompactHashWriter(
        OrderedHashWriter(FileStorage(str(tmp_path)).create_file("x.trm"))
    )
    writer.add(b"b", b"1")
    with pytest.raises(ValueError, match="increase"):
        writer.add_many([b"a"], [b"2"])
    writer.close()


def test_md5_hash_is_whooshs() -> None:
    from whoosh.filedb.filetables import md5_hash

    for key in (b"", b"a", b"\x00\x01data", bytes(range(256))):
        assert termfile.md5_hash(key) == md5_hash(key)


def test_segments_are_written_with_the_compact_writer(tmp_path: Path) -> None:
    """The array codec's field writer uses it (so segment writes and merges hold little)."""
    from whoosh.index import create_in

    from reader.core.search.whoosh import index as index_module
    from reader.core.search.whoosh import writer as index_writer
    from reader.core.search.whoosh.codec import codec_classes

    ix = create_in(str(tmp_path), index_module.build_schema())
    writer = index_writer.fast_writer_class()(ix, compound=False, codec=codec_classes()[0]())
    assert isinstance(writer.fieldwriter._tindex, termfile.CompactHashWriter)
    writer.add_document(id="a", body="some words here", title="T", lang="en")
    writer.commit()
    with ix.searcher() as searcher:
        assert searcher.document_number(id="a") == 0
        assert [t for t in searcher.reader().lexicon("body")] == [b"here", b"some", b"words"]
