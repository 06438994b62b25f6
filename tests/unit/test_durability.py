"""Durability: a writer killed with SIGKILL mid-burst loses no acknowledged tag."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from contextlib import suppress
from pathlib import Path

import pytest

from reader.core.documents import corpus_of
from reader.core.errors import ReaderError
from reader.core.tags import open_tag_store
from reader.core.tags.model import TAGS
from reader.core.tags.sqlite import FULL_MESSAGE, integrity_check
from reader.core.tags.store import StoreFullError
from reader.core.workspace import Workspace

BURST = Path(__file__).resolve().parents[1] / "support" / "tag_burst.py"


def _burst_and_kill(corpus: Path, doc_id: str, kill_after: int) -> list[str]:
    """Run the burst writer, SIGKILL it after `kill_after` acknowledged ids; return them."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, str(BURST), str(corpus), doc_id, "100000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    acknowledged: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            acknowledged.append(line.strip())
            if len(acknowledged) >= kill_after:
                proc.send_signal(signal.SIGKILL)  # mid-burst: it is writing the next tag
                break
        # Ids printed before the kill landed are acknowledged too.
        rest, err = proc.communicate(timeout=30)
        acknowledged += [line.strip() for line in rest.splitlines() if line.strip()]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, err
    return acknowledged


@pytest.mark.parametrize("kill_after", [3, 40])
def test_sigkill_mid_burst_loses_no_acknowledged_tag(corpus_dir: Path, kill_after: int) -> None:
    ws = Workspace.open(corpus_dir)
    doc_id = corpus_of(ws).infos()[0].id
    acknowledged = _burst_and_kill(corpus_dir, doc_id, kill_after)
    assert len(acknowledged) >= kill_after

    assert integrity_check(ws.annotations_path) == "ok"
    db = sqlite3.connect(ws.annotations_path)
    try:
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        stored = {row[0] for row in db.execute("SELECT id FROM annotations")}
        logged = {row[0] for row in db.execute("SELECT annotation FROM events WHERE kind='add'")}
    finally:
        db.close()
    assert set(acknowledged) <= stored
    assert stored == logged  # every stored tag has its event, and no event lacks its tag
    # The store opens and keeps working after the crash.
    with open_tag_store(ws) as store:
        doc = corpus_of(ws).load(doc_id)
        after = store.add(doc, 0, 10, "claim")
        assert store.get(after.id) is not None
        assert all(store.get(ann_id) is not None for ann_id in acknowledged)


# A damaged store: never deleted or rebuilt; a message naming the backup; `tags recover` ------
def _tag_quotes(ws: Workspace, store, quotes: list[str]) -> list:
    doc = corpus_of(ws).load(corpus_of(ws).infos()[0].id)
    made = []
    for i, quote_start in enumerate(quotes):
        start = doc.text.index(quote_start)
        made.append(store.add(doc, start, start + len(quote_start), TAGS[i % 3]))
    return made


def _words(ws: Workspace, n: int) -> list[str]:
    doc = corpus_of(ws).load(corpus_of(ws).infos()[0].id)
    seen: list[str] = []
    for sentence in doc.sentences:
        text = doc.text[sentence.start : sentence.end]
        if text not in seen and doc.text.count(text) == 1:
            seen.append(text)
        if len(seen) == n:
            return seen
    raise AssertionError("not enough sentences")


def _damage_table(path: Path, table: str) -> None:
    """Overwrite the root page of one table with garbage (as a bad sector would)."""
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        (root,) = db.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()
    finally:
        db.close()
    with open(path, "r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(b"\xde\xad\xbe\xef" * (page_size // 4))


def test_a_damaged_store_names_its_backup_and_recover_restores_backup_plus_log(
    corpus_dir: Path, capsys
) -> None:
    from reader.cli import main
    from reader.core.tags import sqlite as backend

    ws = Workspace.open(corpus_dir)
    corpus_of(ws).scan()
    first, second, third, fourth = _words(ws, 4)
    with open_tag_store(ws) as store:  # the first open with events backs up (none yet)
        a, b = _tag_quotes(ws, store, [first, second])
    with open_tag_store(ws) as store:  # this open takes the backup: a and b
        backup = backend.latest_backup(ws.annotations_path)
        assert backup is not None and backup.parent.name == "backups"
        c = store.add(corpus_of(ws).load(a.doc_id), *_span(ws, a.doc_id, third), "context")
        store.edit(a.id, note="changed after the backup")
        store.remove(b.id)
        store.set_verdict(c.id, "false")
    _damage_table(ws.annotations_path, "annotations")
    damaged = ws.annotations_path.read_bytes()

    code = main(["tags", "list", "--corpus", str(corpus_dir)])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "is damaged" in err and str(backup) in err and "reader tags recover" in err
    assert ws.annotations_path.read_bytes() == damaged  # left as it is

    code = main(["tags", "recover", "--json", "--corpus", str(corpus_dir)])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["backup"] == str(backup)
    assert report["tags_from_backup"] == 2 and report["events_replayed"] == 4
    assert Path(report["damaged_copy"]).read_bytes() == damaged  # kept, renamed
    assert integrity_check(ws.annotations_path) == "ok"
    with open_tag_store(ws) as store:
        assert {t.id for t in store.list()} == {a.id, c.id}
        assert store.get(a.id).note == "changed after the backup"
        assert store.get(c.id).verdict == "false"
        kinds = [e.kind for e in store.events()]
        assert kinds == ["add", "add", "add", "edit", "remove", "verdict", "recover"]
        store.restore(b.id)  # the log still knows the removed tag
        assert store.get(b.id).exact == second
        store.add(corpus_of(ws).load(a.doc_id), *_span(ws, a.doc_id, fourth), "claim")


def _alone(store_file: Path, where: Path) -> dict[str, str]:
    """Open a copy of one store file by itself (no -wal beside it): its tags' ids and notes."""
    where.mkdir()
    lone = where / store_file.name
    shutil.copyfile(store_file, lone)
    db = sqlite3.connect(f"file:{lone}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        found = dict(db.execute("SELECT id, note FROM annotations"))
    finally:
        db.close()
    assert sorted(p.name for p in where.iterdir()) == [lone.name]  # nothing made beside it
    return found


def test_recover_and_backups_leave_single_self_contained_files(
    corpus_dir: Path, tmp_path: Path, capsys
) -> None:
    from reader.cli import main
    from reader.core.tags import sqlite as backend

    ws = Workspace.open(corpus_dir)
    corpus_of(ws).scan()
    first, second, third = _words(ws, 3)
    with open_tag_store(ws) as store:
        a, b = _tag_quotes(ws, store, [first, second])
    with open_tag_store(ws) as store:  # takes the backup: a and b
        c = store.add(corpus_of(ws).load(a.doc_id), *_span(ws, a.doc_id, third), "context")
        store.edit(a.id, note="after the backup")
    backup = backend.latest_backup(ws.annotations_path)
    assert backup is not None
    _damage_table(ws.annotations_path, "annotations")

    assert main(["tags", "recover", "--json", "--corpus", str(corpus_dir)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["backup"] == str(backup) and report["tags"] == 3
    # The backups folder holds the one backup, alone: no -wal, -shm or stray working backup.
    assert sorted(p.name for p in backup.parent.iterdir()) == [backup.name]
    assert _alone(backup, tmp_path / "backup") == {a.id: "", b.id: ""}
    damaged = Path(report["damaged_copy"])
    assert not damaged.with_name(damaged.name + "-shm").exists()
    assert not ws.annotations_path.with_name(ws.annotations_path.name + ".recovering").exists()

    # The recovered store holds every tag, and a backup of it is one file that holds them too.
    expected = {a.id: "after the backup", b.id: "", c.id: ""}
    store = backend.SQLiteTagStore(ws.annotations_path, backup_every=0)
    try:
        assert {t.id: t.note for t in store.list()} == expected
    finally:
        store.close()
    newest = backend.latest_backup(ws.annotations_path)
    assert newest is not None and newest != backup
    assert sorted(p.name for p in newest.parent.iterdir()) == sorted([backup.name, newest.name])
    assert _alone(newest, tmp_path / "newest") == expected
    assert backend.integrity_check(newest, immutable=True) == "ok"
    assert sorted(p.name for p in newest.parent.iterdir()) == sorted([backup.name, newest.name])


def _span(ws: Workspace, doc_id: str, quote: str) -> tuple[int, int]:
    text = corpus_of(ws).load(doc_id).text
    start = text.index(quote)
    return start, start + len(quote)


def test_a_store_that_is_not_a_database_at_all_says_so_and_is_kept(corpus_dir: Path) -> None:
    ws = Workspace.open(corpus_dir)
    ws.data_dir.mkdir(parents=True, exist_ok=True)
    ws.annotations_path.write_bytes(b"garbage" * 1000)
    with pytest.raises(ReaderError, match=r"is damaged.*no backup yet.*reader tags recover"):
        open_tag_store(ws).list()
    assert ws.annotations_path.read_bytes() == b"garbage" * 1000


# A read-only data folder and a full disk, on real file systems ---------------------------------
@pytest.fixture
def small_fs(tmp_path: Path):
    """A small tmpfs mounted at tmp_path/fs (root only); yields (mount point, remount)."""
    point = tmp_path / "fs"
    point.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(point)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")

    views: list[Path] = []

    def read_only_view() -> Path:
        """The same files through a read-only bind mount (writes fail with EROFS)."""
        view = tmp_path / f"ro{len(views)}"
        view.mkdir()
        subprocess.run(["mount", "--bind", str(point), str(view)], check=True)
        views.append(view)
        subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], check=True)
        return view

    try:
        yield point, read_only_view
    finally:
        for view in reversed(views):
            subprocess.run(["umount", "-l", str(view)], check=False)
        subprocess.run(["umount", "-l", str(point)], check=False)


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    from reader.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_read_only_data_folder_still_lists_and_exports_tags(
    corpus_dir: Path, small_fs, capsys, tmp_path: Path
) -> None:
    point, read_only_view = small_fs
    ws = Workspace.open(corpus_dir, point / "data")
    corpus_of(ws).scan()
    words = _words(ws, 3)
    with open_tag_store(ws) as store:
        made = _tag_quotes(ws, store, words)
    data = read_only_view() / "data"
    where = ("--corpus", str(corpus_dir), "--data-dir", str(data))
    with pytest.raises(OSError):
        (data / "probe").write_text("x")  # really read-only, even for root
    code, out, err = _cli(capsys, "tags", "list", "--json", *where)
    assert code == 0, err
    assert sorted(t["id"] for t in json.loads(out)) == sorted(t.id for t in made)
    assert "Traceback" not in err
    code, _, err = _cli(capsys, "tags", "edit", made[0].id, "--note", "x", *where)
    assert code == 1 and "read-only" in err and "Traceback" not in err
    with open_tag_store(Workspace.open(corpus_dir, data)) as store:  # what export reads
        assert store.readonly and len(store.reanchored(corpus_of(ws))) == 3


def test_export_from_a_read_only_data_folder(
    corpus_dir: Path, small_fs, capsys, tmp_path: Path
) -> None:
    point, read_only_view = small_fs
    ws = Workspace.open(corpus_dir, point / "data")
    corpus_of(ws).scan()
    with open_tag_store(ws) as store:
        _tag_quotes(ws, store, _words(ws, 3))
    data = read_only_view() / "data"
    out_file = tmp_path / "tags.json"
    code, _, err = _cli(
        capsys, "export", "--format", "json", "--output", str(out_file),
        "--corpus", str(corpus_dir), "--data-dir", str(data),
    )  # fmt: skip
    assert code == 0, err
    assert len(json.loads(out_file.read_text())["annotations"]) == 3


def _fill(point: Path) -> Path:
    """Fill the file system at `point` to the last byte; the filler file."""
    filler = point / "filler"
    with open(filler, "wb", buffering=0) as handle:
        for size in (65536, 512, 1):
            with suppress(OSError):
                while True:
                    handle.write(b"\0" * size)
    assert shutil.disk_usage(point).free < 64 * 1024
    return filler


def test_a_disk_that_fills_while_the_store_is_open(corpus_dir: Path, small_fs) -> None:
    point, _ = small_fs
    ws = Workspace.open(corpus_dir, point / "data")
    corpus_of(ws).scan()
    words = _words(ws, 12)
    doc = corpus_of(ws).load(corpus_of(ws).infos()[0].id)
    with open_tag_store(ws) as store:
        made = _tag_quotes(ws, store, words[:3])
        filler = _fill(point)
        refused = 0
        for i, quote in enumerate(words[3:]):  # a few may fit in pages SQLite already holds
            start = doc.text.index(quote)
            try:
                made.append(store.add(doc, start, start + len(quote), TAGS[i % 3], note="x" * 3000))
            except StoreFullError as exc:
                assert str(exc) == FULL_MESSAGE
                refused += 1
                break
        assert refused == 1
        assert [t.id for t in store.list()] == [t.id for t in sorted(made, key=lambda t: t.start)]
        filler.unlink()
        start = doc.text.index(words[-1])
        store.add(doc, start, start + len(words[-1]), "claim")
    assert integrity_check(ws.annotations_path) == "ok"


def test_a_full_disk_saves_nothing_says_so_and_keeps_every_tag_readable(
    corpus_dir: Path, small_fs, capsys
) -> None:
    point, _ = small_fs
    data = point / "data"
    where = ("--corpus", str(corpus_dir), "--data-dir", str(data))
    ws = Workspace.open(corpus_dir, data)
    corpus_of(ws).scan()
    words = _words(ws, 6)
    with open_tag_store(ws) as store:
        made = _tag_quotes(ws, store, words[:5])
    filler = _fill(point)
    doc_id = made[0].doc_id
    code, _, err = _cli(
        capsys, "tags", "add", doc_id, "--quote", words[5], "--tag", "claim", *where
    )
    assert code == 1 and "Traceback" not in err
    assert "no space left on device: nothing was saved, free space and retry" in err
    code, out, err = _cli(capsys, "tags", "list", "--json", *where)
    assert code == 0, err
    assert sorted(t["id"] for t in json.loads(out)) == sorted(t.id for t in made)
    filler.unlink()  # space again: the same command works, and nothing half-written is left
    code, _, err = _cli(
        capsys, "tags", "add", doc_id, "--quote", words[5], "--tag", "claim", *where
    )
    assert code == 0, err
    assert integrity_check(data / "annotations.sqlite") == "ok"
    with open_tag_store(Workspace.open(corpus_dir, data)) as store:
        assert store.count() == 6


def test_recover_refuses_a_sound_store(corpus_dir: Path, capsys) -> None:
    from reader.cli import main

    ws = Workspace.open(corpus_dir)
    corpus_of(ws).scan()
    with open_tag_store(ws) as store:
        _tag_quotes(ws, store, _words(ws, 1))
    before = ws.annotations_path.read_bytes()
    assert main(["tags", "recover", "--corpus", str(corpus_dir)]) == 1
    assert "not damaged" in capsys.readouterr().err
    assert ws.annotations_path.read_bytes() == before


def _reader(*argv: str) -> subprocess.CompletedProcess:
    """The installed command in a process of its own (as a user runs it: no connection to the
    catalog is open yet, so SQLite must create its -shm file on the full disk)."""
    return subprocess.run(
        [sys.executable, "-m", "reader", *argv], capture_output=True, text=True, timeout=120
    )


def test_a_full_disk_in_a_new_process_reads_the_catalog_and_says_no_space(
    corpus_dir: Path, small_fs
) -> None:
    point, _ = small_fs
    where = ("--corpus", str(corpus_dir), "--data-dir", str(point / "data"))
    doc_id = sorted(p.name for p in corpus_dir.iterdir() if p.is_file())[0]
    made = []
    for start in (0, 20, 40):
        done = _reader("tags", "add", doc_id, "--span", str(start), str(start + 10), "--tag",
                       "claim", "--json", *where)  # fmt: skip
        assert done.returncode == 0, done.stderr
        made.append(json.loads(done.stdout)["id"])
    filler = _fill(point)
    done = _reader("export", "--format", "json", *where)  # the catalog names the documents
    assert done.returncode == 0, done.stderr
    assert sorted(a["id"] for a in json.loads(done.stdout)["annotations"]) == sorted(made)
    done = _reader("tags", "add", doc_id, "--span", "60", "70", "--tag", "claim", *where)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == f"reader: error: {FULL_MESSAGE}"
    filler.unlink()


def test_a_full_disk_still_searches_the_index_as_it_is(corpus_dir: Path, small_fs) -> None:
    point, _ = small_fs
    where = ("--corpus", str(corpus_dir), "--data-dir", str(point / "data"))
    done = _reader("search", "wombat", "--json", *where)  # builds the index
    assert done.returncode == 0 and json.loads(done.stdout)["total"] == 0, done.stderr
    (corpus_dir / "wombat.txt").write_text("Wombats\n\nA wombat ate the oats.\n", "utf-8")
    filler = _fill(point)  # the update cannot write the new document: nothing is saved
    done = _reader("search", "the", "--json", *where)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total"] >= 1  # the index as it is
    assert "wombat.txt" not in done.stdout
    assert "Traceback" not in done.stderr
    assert f"searching the index as it is: {FULL_MESSAGE}" in done.stderr
    filler.unlink()  # space again: the update writes it
    done = _reader("search", "wombat", "--json", *where)
    assert done.returncode == 0 and json.loads(done.stdout)["total"] == 1, done.stderr
