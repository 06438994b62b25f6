"""The index: incremental updates, schema versions, corruption, the writer lock, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from reader.cli import main
from reader.core import index as index_module
from reader.core import index_writer
from reader.core.index import IndexLocked, IndexStats, update_index
from reader.core.search import search
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
    from reader.core.index import update_index

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
def test_fused_body_fields_index_exactly_like_their_analyzers(workspace: Workspace) -> None:
    schema = index_module.build_schema()
    tricky = " U.S.A. 3.14 a*b x.y.z évolution Rückerstattung İstanbul THE the a ÆON Straße"
    for info in workspace.corpus.infos():
        text = workspace.corpus.load(info.id).text + tricky
        for name in ("body", f"body_{info.lang}", "body_ru"):
            field = schema[name]
            fused = {t: (n, w, v) for t, n, w, v in field.index(text)}
            reference = {
                t.encode("utf-8"): (n, w, v)
                for t, n, w, v in field.format.word_values(text, field.analyzer, mode="index")
            }
            assert fused == reference, (info.id, name)
            assert fused  # not vacuous


def test_term_pool_sorts_out_of_order_postings() -> None:
    pool = index_writer.TermPool()
    pool.add(("body", b"b", 5, 1.0, b"x"))
    pool.add(("body", b"b", 2, 2.0, b"y"))
    pool.add(("body", b"a", 7, 1.0, b""))
    pool.add_document_postings("body_en", 9, [(b"c", 3, 3.0, b"z")])
    assert list(pool.iter_postings()) == [
        ("body", b"a", 7, 1.0, b""),
        ("body", b"b", 2, 2.0, b"y"),
        ("body", b"b", 5, 1.0, b"x"),
        ("body_en", b"c", 9, 3.0, b"z"),
    ]


def test_a_new_corpus_is_read_once(workspace: Workspace, monkeypatch) -> None:
    from reader.core import corpus as corpus_module

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
    assert ids(search(workspace, "Rückerstattung")) == ["003"]
    assert ids(search(workspace, '"24 hours"')) == ["000"]
    assert index_module.optimize_index(workspace) >= 1
    assert search(workspace, "lang:it").total == 1
    # segments stay separate files: Whoosh copies a compound file's parts into memory
    assert not list(workspace.index_dir.glob("*.seg"))
