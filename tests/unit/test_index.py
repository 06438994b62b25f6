"""The index: incremental updates, schema versions, corruption, the writer lock, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from reader.cli import main
from reader.core.documents import corpus_of
from reader.core.search import update_index
from reader.core.search.api import search
from reader.core.search.whoosh import index as index_module
from reader.core.search.whoosh import writer as index_writer
from reader.core.search.whoosh.index import IndexLocked, IndexStats
from reader.core.workspace import Workspace


def ids(result) -> list[str]:
    return [hit.id[:3] for hit in result.hits]


def file_of(corpus_dir: Path, prefix: str) -> Path:
    return next(corpus_dir.glob(f"{prefix}_*.txt"))


def test_first_update_builds_then_nothing_to_do(workspace: Workspace) -> None:
    calls: list[tuple[int, int]] = []
    stats = update_index(workspace, progress=lambda d, t: calls.append((d, t)))
    assert isinstance(stats, IndexStats)
    assert (stats.added, stats.updated, stats.removed, stats.total) == (4, 0, 0, 4)
    assert stats.rebuilt and stats.notice is None and stats.seconds > 0
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    again = update_index(workspace)
    assert (again.added, again.updated, again.removed, again.total) == (0, 0, 0, 4)
    assert not again.rebuilt


def test_edited_file_is_reindexed(workspace: Workspace, corpus_dir: Path) -> None:
    update_index(workspace)
    assert ids(search(workspace, "Alsop")) == ["002"]
    path = file_of(corpus_dir, "002")
    path.write_text("Un articolo nuovo\n\nL'ornitorinco nuota nel fiume.\n", encoding="utf-8")
    stats = update_index(workspace)
    assert (stats.added, stats.updated, stats.removed, stats.total) == (0, 1, 0, 4)
    assert ids(search(workspace, "ornitorinco")) == ["002"]
    assert search(workspace, "Alsop").total == 0
    assert search(workspace, "lang:it").total == 1  # updated, not duplicated


def test_deleted_and_added_files(workspace: Workspace, corpus_dir: Path) -> None:
    update_index(workspace)
    file_of(corpus_dir, "003").unlink()
    (corpus_dir / "sub").mkdir()
    (corpus_dir / "sub" / "new.md").write_text(
        "---\nlang: en\n---\n# Quokkas\n\n"
        "The quokkas of Rottnest Island smile for the camera, and the tourists who visit "
        "the island love taking pictures with them every single day.\n"
    )
    stats = update_index(workspace)
    assert (stats.added, stats.updated, stats.removed, stats.total) == (1, 0, 1, 4)
    assert search(workspace, "Rückerstattung").total == 0
    assert [h.id for h in search(workspace, "quokka").hits] == ["sub/new.md"]


def test_rebuild_flag(workspace: Workspace) -> None:
    update_index(workspace)
    stats = update_index(workspace, rebuild=True)
    assert stats.rebuilt and stats.added == 4 and stats.notice is None
    assert ids(search(workspace, "remboursement")) == ["001"]


def test_schema_version_change_rebuilds(workspace: Workspace, monkeypatch) -> None:
    update_index(workspace)
    monkeypatch.setattr(index_module, "SCHEMA_VERSION", index_module.SCHEMA_VERSION + 1)
    stats = update_index(workspace)
    assert stats.rebuilt and stats.added == 4
    assert "format changed" in (stats.notice or "")
    state = json.loads((workspace.index_dir / index_module.STATE_FILE).read_text())
    assert state["schema_version"] == index_module.SCHEMA_VERSION
    assert not update_index(workspace).rebuilt
    assert ids(search(workspace, "cliente"))[0] == "002"


def _corrupt(index_dir: Path, ws: Workspace | None = None) -> None:
    """Overwrite the index files, as another process or a disk fault might."""
    if ws is not None:  # files truncated under this process's open readers could SIGBUS
        index_module.forget_index(ws)
    for path in index_dir.iterdir():
        if path.is_file() and path.name != index_module.STATE_FILE:
            path.write_bytes(b"\x00garbage" * 7)


def test_corrupted_index_is_rebuilt_with_a_notice(workspace: Workspace) -> None:
    update_index(workspace)
    _corrupt(workspace.index_dir, workspace)
    stats = update_index(workspace)
    assert stats.rebuilt and stats.added == 4
    assert "unreadable" in (stats.notice or "") and "rebuilt" in stats.notice
    assert ids(search(workspace, "remboursement")) == ["001"]


def test_search_on_a_corrupted_index_rebuilds_it(workspace: Workspace) -> None:
    update_index(workspace)
    assert search(workspace, "tesla").total == 4  # the process now holds a searcher
    _corrupt(workspace.index_dir, workspace)
    result = search(workspace, "remboursement")
    assert ids(result) == ["001"]
    assert result.notice and "rebuilt" in result.notice


def test_cli_corrupted_index_gives_a_notice_not_a_traceback(capsys, corpus_dir: Path) -> None:
    assert main(["index", str(corpus_dir)]) == 0
    _corrupt(corpus_dir / ".reader" / "index")
    capsys.readouterr()
    assert main(["index", str(corpus_dir)]) == 0
    out, err = capsys.readouterr()
    assert "unreadable" in err and "Traceback" not in err
    assert "index rebuilt: 4 added" in out


_HOLDER = textwrap.dedent(
    """
    import sys, time
    from reader.core.workspace import Workspace
    from reader.core.search import update_index

    def progress(done, total):
        if done == 1:  # hold the writer lock a while, once
            print("writing", flush=True)
            time.sleep(float(sys.argv[2]))

    update_index(Workspace.open(sys.argv[1]), progress=progress)
    print("done", flush=True)
    """
)


def test_second_writer_waits_then_reports_and_search_keeps_working(
    workspace: Workspace, corpus_dir: Path, monkeypatch
) -> None:
    update_index(workspace)
    path = file_of(corpus_dir, "000")
    path.write_text(path.read_text(encoding="utf-8") + "\nA wombat appears.\n", encoding="utf-8")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(corpus_dir), "4"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "writing"  # it holds the writer lock now
        other = file_of(corpus_dir, "001")
        other.write_text(other.read_text(encoding="utf-8") + "\nUn ornithorynque.\n")
        monkeypatch.setattr(index_module, "LOCK_WAIT", 0.5)
        started = time.monotonic()
        with pytest.raises(IndexLocked, match="another process"):
            update_index(workspace)
        assert 0.4 < time.monotonic() - started < 3.5
        assert ids(search(workspace, "remboursement")) == ["001"]  # reading still works
        assert main(["index", str(corpus_dir)]) == 1  # the CLI: exit 1, one-line message
        assert holder.stdout.readline().strip() == "done"
    finally:
        holder.kill()
        holder.wait()
    update_index(workspace)  # the lock is free again; both edits are in (the holder's
    # scan may have taken the French one already)
    assert ids(search(workspace, "wombat")) == ["000"]
    assert ids(search(workspace, "ornithorynque")) == ["001"]


def test_cancelled_update_keeps_what_was_done(workspace: Workspace) -> None:
    done: list[int] = []
    stats = update_index(
        workspace, progress=lambda d, t: done.append(d), cancelled=lambda: len(done) >= 2
    )
    assert stats.added == 2
    stats = update_index(workspace)
    assert (stats.added, stats.total) == (2, 4)


def test_cli_index_and_rebuild(capsys, corpus_dir: Path) -> None:
    assert main(["index", str(corpus_dir)]) == 0
    out, _ = capsys.readouterr()
    assert "index rebuilt: 4 added" in out
    assert main(["index", "--corpus", str(corpus_dir), "--json"]) == 0
    data = json.loads(capsys.readouterr()[0])
    assert (data["added"], data["total"], data["rebuilt"]) == (0, 4, False)
    assert main(["index", str(corpus_dir), "--rebuild"]) == 0
    assert "index rebuilt: 4 added" in capsys.readouterr()[0]
    assert main(["index", str(corpus_dir / "nope")]) == 1


def test_cli_does_not_import_whoosh_at_startup() -> None:
    code = "import sys, reader.cli; reader.cli.build_parser(); print('whoosh' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# Fast paths: they must index exactly what Whoosh's own analysis and writer would --------------
TRICKY = "U.S.A. 3.14 a*b x.y.z évolution Rückerstattung İstanbul THE the a ÆON Straße"


def test_one_pass_analysis_gives_exactly_the_analyzers_terms(workspace: Workspace) -> None:
    """TOKEN + word_analysis (what the fast writer does to a text) == each field's analyzer:
    the same terms, frequencies, weights and positions (values); and the highlighter's
    term cache agrees."""
    schema = index_module.build_schema()
    for info in corpus_of(workspace).infos():
        text = f"{corpus_of(workspace).load(info.id).text} {TRICKY} {TRICKY.lower()}"
        for name in ("body", "title", f"body_{info.lang}", "body_ru", "lang", "id"):
            field = schema[name]
            split, analyse, _stops = index_writer.word_analysis(field.analyzer)
            words = index_writer.TOKEN.findall(text) if split else [text]
            where: dict[bytes, list[int]] = {}
            for pos, word in enumerate(words):
                term = analyse(word)
                if term is not None:
                    where.setdefault(term.encode("utf-8"), []).append(pos)
            fmt, ids = field.format, name in ("lang", "id")  # Existence: one per document
            fused = {
                term: (
                    1 if ids else len(p),
                    (1 if ids else len(p)) * fmt.field_boost,
                    fmt.encode(p) if name in ("body", "title") else b"",
                )
                for term, p in where.items()
            }
            reference = {
                t.encode("utf-8"): (n, w, v)
                for t, n, w, v in fmt.word_values(text, field.analyzer, mode="index")
            }
            assert fused == reference, (info.id, name)
            assert fused  # not vacuous
            if name.startswith("body"):
                cache = index_module.term_cache(name[5:] or None)
                assert all(cache[w] == ((analyse(w) or "").encode() or None) for w in words)


def test_compact_positions_round_trip() -> None:
    fmt = index_module.build_schema()["body"].format
    for positions in ([0], [3, 4, 300], [5, 70_000, 70_001], list(range(0, 3000, 7))):
        value = fmt.encode(positions)
        top = max(b - a for a, b in pairwise([0, *positions]))
        assert value[0] == (1 if top < 256 else 2 if top < 65_536 else 4)
        assert fmt.decode_positions(value) == positions
        assert fmt.decode_frequency(value) == len(positions)
        assert fmt.decode_weight(value) == len(positions)


def _extra_documents() -> list[dict]:
    """Documents that exercise the edge cases of the fast writer."""
    texts = {
        "tricky": f"{TRICKY} {TRICKY.upper()} x.y.z",
        "repeats": "data " * 300 + "science data",  # a frequency > 255: a long value
        "far": "word " * 70_000 + "rare word",  # a position delta > 65535
        "stops": "the and of a the to",  # only stop words in body_en
        "empty": "",
    }
    return [
        {
            "id": f"x/{name}",
            "sha256": (name * 2).encode(),
            "path": name,
            "title": f"{name.title()} Title the title",
            "lang": "EN",
            "text": text,
            "body": text,
            "body_en": text,
            **({"author": "Ann Émile"} if name != "empty" else {}),
        }
        for name, text in texts.items()
    ]


def _read_back(ix) -> tuple[dict, dict, list]:
    """What Whoosh's reader finds in an index: per term its info and every posting (document,
    weight, raw and decoded value, its block's stats); field lengths; stored fields."""
    with ix.searcher() as searcher:
        reader = searcher.reader()
        terms = {}
        for fieldname, btext in reader.all_terms():
            fmt = ix.schema[fieldname].format
            info = reader.term_info(fieldname, btext)
            rows = []
            m = reader.postings(fieldname, btext)
            while m.is_active():
                value = m.value()
                decoded = fmt.decode_positions(value) if fmt.supports("positions") else None
                block = (m.block_max_id(), m.block_max_weight(), m.block_min_length(),
                         m.block_max_length())  # fmt: skip
                rows.append((m.id(), m.weight(), value, decoded, block))
                m.next()
            stats = (info.weight(), info.doc_frequency(), info.min_length(), info.max_length(),
                     info.max_weight(), info.min_id(), info.max_id())  # fmt: skip
            terms[fieldname, btext] = (stats, rows)
        docs = range(reader.doc_count_all())
        names = ix.schema.names()
        lengths = {n: ([reader.doc_field_length(d, n) for d in docs], reader.field_length(n))
                   for n in names}  # fmt: skip
        return terms, lengths, [reader.stored_fields(d) for d in docs]


def _codec() -> Any:
    """The index's codec with small blocks (terms of several blocks in a small corpus)."""
    from reader.core.search.whoosh.codec import codec_classes

    return codec_classes()[0](blocklimit=4)


def _build(path: Path, writer_class, docs: list[dict]) -> Any:
    """An index of `docs` written by one writer."""
    from whoosh.index import create_in

    path.mkdir()
    ix = create_in(str(path), index_module.build_schema())
    writer = writer_class(ix, compound=False, codec=_codec())
    for fields in docs:
        writer.add_document(**fields)
    writer.commit()
    return ix


def test_fast_writer_writes_what_whoosh_writes(
    workspace: Workspace, tmp_path: Path, monkeypatch
) -> None:
    """Every term, posting (weights, positions), block, term info and field length of the
    fast writer is the stock SegmentWriter's (small blocks and chunks: every path runs)."""
    from whoosh.writing import SegmentWriter

    monkeypatch.setattr(index_writer, "CHUNK_TOKENS", 50)
    monkeypatch.setattr(index_writer, "PASS_TOKENS", 120)  # tokens sorted in many passes
    docs = [index_module.document_fields(corpus_of(workspace).load(i.id))
            for i in corpus_of(workspace).infos()] + _extra_documents()  # fmt: skip
    fast_writer = index_writer.fast_writer_class()
    fast = _read_back(_build(tmp_path / "fast", fast_writer, docs))
    stock = _read_back(_build(tmp_path / "stock", SegmentWriter, docs))
    assert fast[0].keys() == stock[0].keys()
    for key, found in fast[0].items():
        assert found == stock[0][key], key
    assert fast[1:] == stock[1:]
    # not vacuous: every field kind, multi-block terms, long values, wide positions
    fields = {name for name, _ in fast[0]}
    assert {"body", "body_en", "body_de", "title", "author", "id", "lang"} <= fields
    rows = [row for _stats, found in fast[0].values() for row in found]
    assert max(len(found) for _s, found in fast[0].values()) > 4
    assert any(row[3] and len(row[2]) > 255 for row in rows)  # long values
    assert {row[2][0] for row in rows if row[3]} == {1, 2, 4}  # every delta width
    assert not any(fast[1]["body_en"][0][-2:])  # stop words only, empty: no length
    assert all(fast[1]["body_en"][0][-5:-2]) and fast[1]["body_en"][1] > 70_000


def test_array_codec_reads_back_what_w3_reads_back(workspace: Workspace, tmp_path: Path):
    """The array codec changes how a block is stored, not what Whoosh reads from it."""
    from whoosh.codec.whoosh3 import W3Codec
    from whoosh.index import create_in
    from whoosh.writing import SegmentWriter

    docs = [index_module.document_fields(corpus_of(workspace).load(i.id))
            for i in corpus_of(workspace).infos()] + _extra_documents()  # fmt: skip
    found = []
    for name, codec in (("w3", W3Codec(blocklimit=4)), ("array", _codec())):
        (tmp_path / name).mkdir()
        ix = create_in(str(tmp_path / name), index_module.build_schema())
        writer = SegmentWriter(ix, compound=False, codec=codec)
        for fields in docs:
            writer.add_document(**fields)
        writer.commit()
        found.append(_read_back(ix))
    assert found[0] == found[1]
    assert len(found[0][0]) > 1000  # not vacuous


def test_merged_segments_are_written_like_whoosh(
    workspace: Workspace, tmp_path: Path, monkeypatch
) -> None:
    """A commit that merges segments (read a block at a time, with a deletion) into a segment
    of new documents (the one-pass path) writes what the stock writer writes."""
    from whoosh.index import create_in
    from whoosh.writing import SegmentWriter

    monkeypatch.setattr(index_writer, "CHUNK_TOKENS", 50)
    docs = [index_module.document_fields(corpus_of(workspace).load(i.id))
            for i in corpus_of(workspace).infos()] + _extra_documents()[:2]  # fmt: skip
    found = []
    for name, writer_class in [
        ("fast", index_writer.fast_writer_class()),
        ("stock", SegmentWriter),
    ]:
        (tmp_path / name).mkdir()
        ix = create_in(str(tmp_path / name), index_module.build_schema())
        for last, batch in enumerate((docs[:2], docs[2:4], docs[4:]), -2):
            writer = writer_class(ix, compound=False, codec=_codec())
            if not last:
                writer.delete_by_term("id", docs[2]["id"])  # a deletion in a merged segment
            for fields in batch:
                writer.add_document(**fields)
            writer.commit(merge=False, optimize=not last)
        found.append(_read_back(ix))
    fast, stock = found
    assert fast == stock
    assert len(fast[2]) == len(docs) - 1
    assert fast[2][0]["id"] == docs[4]["id"]  # the merge put the old documents after the new


def test_pool_sorts_out_of_order_postings(tmp_path: Path) -> None:
    """Postings added one at a time, out of order, come out by document, merged with the
    one-pass postings of the same field."""
    from whoosh.index import create_in
    from whoosh.system import pack_uint

    (tmp_path / "ix").mkdir()
    ix = create_in(str(tmp_path / "ix"), index_module.build_schema())
    writer = index_writer.fast_writer_class()(ix, compound=False)
    for n, text in enumerate(["alpha beta", "beta", "gamma", "beta alpha"]):
        writer.add_document(id=str(n), body=text, body_en=text)
    fmt = ix.schema["body"].format
    writer.pool.add(("body", b"beta", 2, 2.0, fmt.encode([5, 9])))
    writer.pool.add(("body", b"alpha", 2, 1.0, fmt.encode([3])))
    writer.pool.add(("body", b"omega", 3, 1.0, fmt.encode([7])))
    writer.pool.add(("body", b"omega", 1, 1.0, fmt.encode([4])))
    writer.pool.add(("tag", b"claim", 3, 2.0, pack_uint(2)))  # this field's only postings
    writer.pool.add(("tag", b"claim", 1, 1.0, pack_uint(1)))
    writer.commit()
    with ix.searcher() as searcher:
        reader = searcher.reader()

        def postings(term: bytes, field: str = "body") -> list[tuple[int, float, Any]]:
            m = reader.postings(field, term)
            found = []
            while m.is_active():
                value = fmt.decode_positions(m.value()) if field == "body" else m.value()
                found.append((m.id(), m.weight(), value))
                m.next()
            return found

        assert postings(b"alpha") == [(0, 1.0, [0]), (2, 1.0, [3]), (3, 1.0, [1])]
        assert postings(b"beta") == [(0, 1.0, [1]), (1, 1.0, [0]), (2, 2.0, [5, 9]),
                                     (3, 1.0, [0])]  # fmt: skip
        assert postings(b"omega") == [(1, 1.0, [4]), (3, 1.0, [7])]
        assert postings(b"claim", "tag") == [(1, 1.0, pack_uint(1)), (3, 2.0, pack_uint(2))]
        assert [t for f, t in reader.all_terms() if f == "body"] == [
            b"alpha", b"beta", b"gamma", b"omega"]  # fmt: skip


def test_a_new_corpus_is_read_once(workspace: Workspace, monkeypatch) -> None:
    from reader.core.documents import ingest as corpus_module

    reads: list[Path] = []
    real = corpus_module.read_document

    def counting(path, *args, **kwargs):
        reads.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(corpus_module, "read_document", counting)
    stats = update_index(workspace)
    assert stats.added == 4 and len(reads) == 4  # the scan's reads are indexed as they come
    assert ids(search(workspace, "remboursement")) == ["001"]


def test_a_small_update_adds_a_segment_without_merging(
    workspace: Workspace, corpus_dir: Path
) -> None:
    update_index(workspace)
    before = len(index_module.open_index(workspace)._segments())
    path = file_of(corpus_dir, "003")
    path.write_text(path.read_text(encoding="utf-8") + "\nEin Schnabeltier.\n", encoding="utf-8")
    stats = update_index(workspace)
    assert (stats.updated, stats.total) == (1, 4)
    assert len(index_module.open_index(workspace)._segments()) == before + 1
    assert ids(search(workspace, "Schnabeltier")) == ["003"]
    assert search(workspace, "lang:de").total == 1


def test_multiprocess_writer(workspace: Workspace) -> None:
    stats = update_index(workspace, procs=2)
    assert (stats.added, stats.total) == (4, 4)
    segments = index_module.open_index(workspace)._segments()
    assert segments and {type(s.codec()).__name__ for s in segments} == {"ArrayCodec"}
    assert ids(search(workspace, "Rückerstattung")) == ["003"]
    assert ids(search(workspace, '"24 hours"')) == ["000"]
    assert search(workspace, "lang:it").total == 1
    # segments stay separate files: Whoosh copies a compound file's parts into memory
    assert not list(workspace.index_dir.glob("*.seg"))


# Bounded memory, no needless rescans ------------------------------------------------------
def _many(folder: Path, n: int, start: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + n):
        words = " ".join(f"w{(i * 7 + k) % 97}" for k in range(40))
        (folder / f"doc{i:04d}.txt").write_text(
            f"Document {i}\n\nThe quokka number q{i} says {words}.\n", encoding="utf-8"
        )


def test_segments_are_written_at_the_memory_budget(tmp_path: Path, monkeypatch) -> None:
    corpus = tmp_path / "many"
    _many(corpus / "a", 200)
    ws = Workspace.open(corpus)
    monkeypatch.setattr(index_module, "memory_budget", lambda ws: 50_000)  # a few dozen docs
    monkeypatch.setattr(index_writer, "SMALL_SEGMENT_DOCS", 5)
    stats = update_index(ws, procs=1)
    assert (stats.added, stats.total) == (200, 200)
    segments = index_module.open_index(ws)._segments()
    assert len(segments) >= 4
    assert sum(s.doc_count() for s in segments) == 200
    assert ids(search(ws, "q137")) == ["a/d"]
    assert search(ws, "quokka").total == 200
    monkeypatch.undo()
    ws.set_setting("index_memory_mb", 512)
    assert index_module.memory_budget(ws) == 512 << 20
    update_index(ws, rebuild=True, procs=1)
    assert len(index_module.open_index(ws)._segments()) == 1


def test_worker_processes_write_segments_at_the_budget(tmp_path: Path, monkeypatch) -> None:
    corpus = tmp_path / "many"
    _many(corpus / "a", 300)
    ws = Workspace.open(corpus)
    monkeypatch.setattr(index_module, "memory_budget", lambda ws: 100_000)
    monkeypatch.setattr(index_module, "MP_BATCH", 25)
    monkeypatch.setattr(index_writer, "SMALL_SEGMENT_DOCS", 5)
    written: list[int] = []
    merge = index_writer.merge_segments

    def spy(ix: Any, segments: list) -> Any:
        written.append(len(segments))
        return merge(ix, segments)

    monkeypatch.setattr(index_writer, "merge_segments", spy)
    stats = update_index(ws, procs=2)
    assert stats.total == 300
    assert written and written[0] > 2  # the workers wrote a segment at each budget...
    segments = index_module.open_index(ws)._segments()
    assert len(segments) == 1 and segments[0].doc_count() == 300  # ...merged into one
    assert search(ws, "quokka").total == 300 and ids(search(ws, "q299")) == ["a/d"]
    stats = update_index(ws, procs=2, rebuild=True)
    assert search(ws, "quokka").total == 300 and ids(search(ws, "q0")) == ["a/d"]


def test_small_segments_merge_but_big_ones_stay(tmp_path: Path, monkeypatch) -> None:
    corpus = tmp_path / "many"
    _many(corpus / "a", 60)
    ws = Workspace.open(corpus)
    monkeypatch.setattr(index_module, "memory_budget", lambda ws: 50_000)
    monkeypatch.setattr(index_writer, "SMALL_SEGMENT_DOCS", 5)
    update_index(ws, procs=1)
    big = {s.segment_id() for s in index_module.open_index(ws)._segments()}
    assert len(big) >= 2
    for k in range(index_writer.MAX_SMALL + 2):  # one-document updates pile up small segments
        path = corpus / "a" / f"doc{k:04d}.txt"
        path.write_text(path.read_text(encoding="utf-8") + f"\nEdit e{k}.\n", encoding="utf-8")
        index_module.update_paths(ws, [path])
        segments = index_module.open_index(ws)._segments()
        small = [s for s in segments if s.segment_id() not in big]
        assert len(small) <= index_writer.MAX_SMALL
    assert big <= {s.segment_id() for s in segments}  # never merged into the small ones
    assert search(ws, "quokka").total == 60
    assert ids(search(ws, "e3")) == ["a/d"]


def test_update_paths_indexes_just_those_files(workspace: Workspace, corpus_dir: Path, monkeypatch):
    from reader.core.documents import ingest as corpus_module

    update_index(workspace)
    edited = file_of(corpus_dir, "002")
    edited.write_text("Un articolo nuovo\n\nL'ornitorinco nuota.\n", encoding="utf-8")
    gone = file_of(corpus_dir, "003")
    gone.unlink()
    new = corpus_dir / "sub" / "new.md"
    new.parent.mkdir()
    new.write_text("# Okapi\n\nAn okapi was seen.\n", encoding="utf-8")

    def no_walk(*args, **kwargs):
        raise AssertionError("walked the corpus")

    monkeypatch.setattr(corpus_module, "walk", no_walk)
    stats = index_module.update_paths(workspace, [edited, gone, new, corpus_dir / "nope.txt"])
    assert (stats.added, stats.updated, stats.removed, stats.total) == (1, 1, 1, 4)
    assert ids(search(workspace, "ornitorinco")) == ["002"]
    assert [h.id for h in search(workspace, "okapi").hits] == ["sub/new.md"]
    assert search(workspace, "Schnabeltier").total == 0 and search(workspace, "lang:de").total == 0
    again = index_module.update_paths(workspace, [edited])
    assert (again.added, again.updated, again.removed) == (0, 0, 0)


def test_search_update_trusts_folder_mtimes_within_the_window(
    workspace: Workspace, corpus_dir: Path, monkeypatch
) -> None:
    from reader.core.documents import ingest as corpus_module

    update_index(workspace)
    calls = []
    real_walk = corpus_module.walk
    monkeypatch.setattr(
        corpus_module, "walk", lambda *a, **k: calls.append(a) or real_walk(*a, **k)
    )
    monkeypatch.setattr(
        index_module, "_indexed", lambda reader: (_ for _ in ()).throw(AssertionError("read"))
    )
    monkeypatch.setattr(index_module, "_writer", lambda *a: (_ for _ in ()).throw(AssertionError))
    stats = update_index(workspace, full_scan=False)  # nothing new: no walk, no index reading
    assert (stats.added, stats.updated, stats.removed, stats.total) == (0, 0, 0, 4)
    assert calls == []
    monkeypatch.undo()

    (corpus_dir / "added.txt").write_text("Added\n\nA wombat.\n", encoding="utf-8")
    time.sleep(0.01)
    stats = update_index(workspace, full_scan=False)  # the folder's mtime changed
    assert (stats.added, stats.total) == (1, 5)
    assert ids(search(workspace, "wombat")) == ["add"]

    path = file_of(corpus_dir, "002")  # an edit in place changes no folder's mtime
    path.write_text("Un articolo\n\nIl capibara.\n", encoding="utf-8")
    assert update_index(workspace, full_scan=False).updated == 0
    workspace.set_setting("rescan_seconds", 0)  # past the window: every file is statted
    assert update_index(workspace, full_scan=False).updated == 1
    assert ids(search(workspace, "capibara")) == ["002"]


def test_an_index_out_of_step_with_the_catalog_catches_up(
    workspace: Workspace, corpus_dir: Path
) -> None:
    update_index(workspace)
    path = file_of(corpus_dir, "001")
    path.write_text("Un texte\n\nLe tatou.\n", encoding="utf-8")
    corpus_of(workspace).load(corpus_of(workspace).resolve_id("001"))  # the catalog learns it first
    stats = update_index(workspace, full_scan=False)
    assert stats.updated == 1 and ids(search(workspace, "tatou")) == ["001"]


def test_catching_up_streams_the_catalog_instead_of_a_second_map(
    workspace: Workspace, corpus_dir: Path, monkeypatch
) -> None:
    """An index out of step with the catalog (the catalog learned an edit, a new file and a
    deletion; the index did not): `reader index` compares the index's id -> sha256 map with
    the catalog's rows as they stream, without building the catalog's map of every document
    as well, and ends holding exactly the catalog's documents."""
    from reader.core.documents.corpus import Corpus

    update_index(workspace)
    file_of(corpus_dir, "001").write_text("Un texte\n\nLe tatou.\n", encoding="utf-8")
    file_of(corpus_dir, "003").unlink()
    (corpus_dir / "new.txt").write_text("New\n\nThe wombat digs.\n", encoding="utf-8")
    corpus_of(workspace).scan()  # the catalog learns all three first; the index does not

    def whole_map(self):
        raise AssertionError("the catalog's id -> sha256 map of every document was built")

    with monkeypatch.context() as patch:
        patch.setattr(Corpus, "sha256s", whole_map)
        stats = update_index(workspace)
    assert (stats.added, stats.updated, stats.removed, stats.total) == (1, 1, 1, 4)
    with index_module.searching(workspace) as searcher:
        held = index_module._indexed(searcher.reader())
    assert held == corpus_of(workspace).sha256s()
    assert ids(search(workspace, "tatou")) == ["001"] and ids(search(workspace, "wombat")) == [
        "new"
    ]
    assert search(workspace, "Rückerstattung").total == 0
    again = update_index(workspace)
    assert (again.added, again.updated, again.removed, again.total) == (0, 0, 0, 4)


def test_threads_building_the_first_index_do_not_duplicate_documents(corpus_dir):
    """Several searches in one process (the app's workers at first launch) find no index:
    one builds it, the others wait for it; every document is in it once."""
    import threading

    from reader.core.search import search
    from reader.core.workspace import Workspace

    ws = Workspace.open(corpus_dir)
    results, errors = [], []

    def run() -> None:
        try:
            results.append(search(ws, "Tesla", limit=50))
        except Exception as exc:  # collected and asserted below, never hidden
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and len(results) == 4
    for result in results:  # a search during the build may see part of it, never twice
        ids = [hit.id for hit in result.hits]
        assert len(ids) == len(set(ids)) == result.total <= 4
    after = search(ws, "Tesla", limit=50)
    assert (
        sorted(hit.id for hit in after.hits) == sorted({hit.id for hit in after.hits})
        and after.total == 4
    )


def test_the_engine_reports_a_rebuild_and_the_api_decides(corpus_dir):
    """The engine never rebuilds on its own: no index, or a damaged one, is RebuildNeeded;
    the search API builds or rebuilds, with a notice for the damaged one."""
    from reader.core.search.whoosh import index as engine_index
    from reader.core.search.whoosh.index import RebuildNeeded
    from reader.core.workspace import Workspace

    ws = Workspace.open(corpus_dir)
    with pytest.raises(RebuildNeeded) as first:
        engine_index.update_index(ws)
    assert first.value.notice is None
    assert update_index(ws).notice is None and update_index(ws).rebuilt is False
    for col in ws.index_dir.glob("*.col"):
        col.unlink()
    engine_index.forget_index(ws)
    with pytest.raises(RebuildNeeded, match="damaged or unreadable"):
        engine_index.update_index(ws)
    stats = update_index(ws)
    assert stats.rebuilt and "rebuilt it" in stats.notice


def test_plain_text_is_read_from_the_file_and_other_formats_are_stored(
    workspace: Workspace, corpus_dir: Path
) -> None:
    """The index stores the clean text of Markdown and HTML files (costly to read again), not
    of plain text files: a hit's snippets come from the file then, exactly as from the text
    the index was built from, and a file gone since gives no snippet, not an error."""
    (corpus_dir / "notes.md").write_text(
        "---\ntitle: Wombat notes\n---\n\nThe wombat *digs* a burrow.\n", encoding="utf-8"
    )
    (corpus_dir / "page.html").write_text(
        "<html><head><title>Wombats</title></head><body><article><p>A wombat page with "
        "enough words to be an article about a wombat and its burrow.</p></article></body>"
        "</html>",
        encoding="utf-8",
    )
    (corpus_dir / "plain.txt").write_text(
        "Plain wombat\n\nThe wombat sleeps in the day.\n", encoding="utf-8"
    )
    update_index(workspace)
    with index_module.searching(workspace) as searcher:
        stored = {f["id"]: f for f in searcher.all_stored_fields()}
    assert "text" not in stored["plain.txt"]
    assert "text" in stored["notes.md"] and "text" in stored["page.html"]
    assert not any("text" in f for doc_id, f in stored.items() if doc_id.endswith(".txt"))
    result = search(workspace, "wombat", limit=10)
    corpus = corpus_of(workspace)
    assert {hit.id for hit in result.hits} >= {"plain.txt", "notes.md", "page.html"}
    for hit in result.hits:
        text = corpus.load(hit.id).text
        assert hit.snippets, hit.id
        for snippet in hit.snippets:
            assert snippet.text == text[snippet.start : snippet.end]
            assert "wombat" in snippet.text.lower()
    (corpus_dir / "plain.txt").unlink()
    found = search(workspace, "wombat", limit=10)
    gone = [hit for hit in found.hits if hit.id == "plain.txt"]
    assert len(gone) == 1 and not gone[0].snippets  # still indexed: no update ran


@pytest.mark.parametrize("small_join", [0, 48])  # pieces joined as arrays / as lists
@pytest.mark.parametrize("tiny_buffers", [False, True])  # written out within terms too
def test_merged_segments_read_back_as_one_written_at_once(
    workspace: Workspace, tmp_path: Path, monkeypatch, small_join: int, tiny_buffers: bool
) -> None:
    """`merge_segments` copies blocks with shifted documents, or joins a term's pieces into
    one block: every term's info and postings (documents, weights, positions), field lengths
    and stored fields read back as those of one segment written with all the documents;
    search works on it."""
    from whoosh.index import create_in

    monkeypatch.setattr(index_writer, "SMALL_JOIN", small_join)
    if tiny_buffers:  # postings written every few blocks, terms every few terms
        monkeypatch.setattr(index_writer, "MERGE_FLUSH", 100)
        monkeypatch.setattr(index_writer, "MERGE_TERMS", 3)

    docs = [index_module.document_fields(corpus_of(workspace).load(i.id))
            for i in corpus_of(workspace).infos()] + _extra_documents()  # fmt: skip

    cuts = (3, 4)
    if tiny_buffers:  # a term in more documents than a block holds (4), in every part
        docs += [
            {"id": f"y/{k:03}", "sha256": b"y%03d" % k, "path": "y", "title": "Filler",
             "lang": "en", "body": f"common filler number{k}", "body_en": "common filler"}
            for k in range(20)
        ]  # fmt: skip
        cuts = (len(docs) // 3, len(docs) // 3 + 1)

    def without_blocks(found: tuple) -> tuple:
        terms = {key: (stats, [row[:4] for row in rows]) for key, (stats, rows) in found[0].items()}
        return terms, found[1], found[2]

    whole = _read_back(_build(tmp_path / "whole", index_writer.fast_writer_class(), docs))
    (tmp_path / "parts").mkdir()
    ix = create_in(str(tmp_path / "parts"), index_module.build_schema())
    for part in (docs[: cuts[0]], docs[cuts[0] : cuts[1]], docs[cuts[1] :]):
        writer = index_writer.fast_writer_class()(ix, compound=False, codec=_codec())
        for fields in part:
            writer.add_document(**fields)
        writer.commit(merge=False)
    segments = ix._segments()
    assert len(segments) == 3
    merged = index_writer.merge_segments(ix, segments, _codec() if tiny_buffers else None)
    writer = ix.writer()
    writer._commit_toc([merged])
    writer.cancel()
    ix = type(ix)(ix.storage, ix.schema, ix.indexname)
    assert len(ix._segments()) == 1
    got = without_blocks(_read_back(ix))
    for name in got[1]:
        assert got[1][name] == whole[1][name], name
    for key, found in got[0].items():
        assert found == without_blocks(whole)[0][key], key
    assert got == without_blocks(whole)
    if tiny_buffers:
        assert got[0]["body", b"common"][0][1] == 20  # in all three parts, > a block
    assert not list(tmp_path.joinpath("parts").glob(f"{segments[0].segment_id()}*"))
    with ix.searcher() as searcher:
        from whoosh.qparser import QueryParser

        hits = searcher.search(QueryParser("body", ix.schema).parse('"data science"'))
        assert [hit["id"] for hit in hits] == ["x/repeats"]


def test_the_memory_budget_defaults_to_the_settings_default(workspace: Workspace) -> None:
    """One source of truth: without the setting, the budget is the settings' default."""
    from reader.core.settings import DEFAULT_INDEX_MEMORY_MB

    assert workspace.setting("index_memory_mb") in (None, DEFAULT_INDEX_MEMORY_MB)
    assert index_module.memory_budget(workspace) == DEFAULT_INDEX_MEMORY_MB << 20
    workspace.set_setting("index_memory_mb", 48)
    assert index_module.memory_budget(workspace) == 48 << 20
