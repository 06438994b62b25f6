"""Self-repair: damaged catalog, translation cache and index are rebuilt with one notice and
block no other command; a read-only data folder still lists, searches and exports; a full
disk and a workspace deleted while indexing give one line, not a traceback."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reader.cli import main
from reader.core.documents import corpus_of
from reader.core.errors import ReaderError
from reader.core.repair import NO_SPACE
from reader.core.search import update_index
from reader.core.translation.cache import TranslationCache, sentence_key
from reader.core.workspace import Workspace


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The real `reader` command in a fresh process (notices, exit code, no traceback)."""
    return subprocess.run(
        [sys.executable, "-m", "reader", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def no_traceback(done: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in done.stderr, done.stderr


def notices(done: subprocess.CompletedProcess) -> list[str]:
    """The notices on stderr (a long one may be wrapped over several lines)."""
    text = " ".join(done.stderr.split())
    return ["notice:" + part for part in text.split("notice:")[1:]]


# The catalog -------------------------------------------------------------------------------
@pytest.mark.parametrize("damage", ["garbage", "truncated", "zeroed page"])
def test_a_damaged_catalog_is_rebuilt_with_one_notice(corpus_dir: Path, damage: str) -> None:
    ws = Workspace.open(corpus_dir)
    corpus_of(ws).scan()
    corpus_of(ws)._local.db.close()
    path = ws.catalog_path
    data = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"this is not a database\n" * 100)
    elif damage == "truncated":
        path.write_bytes(data[: len(data) // 3])
    else:  # the second page (the documents table) overwritten
        path.write_bytes(data[:4096] + b"\0" * 4096 + data[8192:])
    for command in (["docs"], ["tags", "list"], ["export", "--format", "json"]):
        done = run_cli(*command, "--corpus", str(corpus_dir))
        no_traceback(done)
        assert done.returncode == 0, (command, done.stderr)
    fresh = Workspace.open(corpus_dir)
    assert len(corpus_of(fresh).infos()) == 4
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_catalog_damage_found_mid_operation_is_repaired(workspace: Workspace, caplog) -> None:
    corpus_of(workspace).scan()
    corpus = corpus_of(workspace)
    corpus._local.db.close()
    workspace.catalog_path.write_bytes(b"\0" * 8192)
    corpus._local.db = None
    with caplog.at_level("WARNING"):
        assert len(corpus.infos()) == 4  # rebuilt from the files, once
    assert corpus.notice and "damaged" in corpus.notice
    assert [r.message for r in caplog.records].count(corpus.notice) == 1


# The translation cache ---------------------------------------------------------------------
def test_a_damaged_translation_cache_is_started_afresh(workspace: Workspace) -> None:
    with TranslationCache(workspace.translations_path) as cache:
        cache.put_many("m 1", "en", [("Bonjour.", "Hello.")])
    workspace.translations_path.write_bytes(b"SQLite format 3\0" + b"\xff" * 5000)
    with TranslationCache(workspace.translations_path) as cache:
        assert cache.notice and "damaged" in cache.notice
        assert cache.get_many("m 1", "en", [sentence_key("Bonjour.")]) == {}
        cache.put_many("m 1", "en", [("Bonjour.", "Hello.")])
        assert cache.count() == 1


def test_clear_cache_works_on_a_damaged_cache(corpus_dir: Path) -> None:
    ws = Workspace.open(corpus_dir)
    ws.translations_path.write_bytes(b"garbage" * 1000)
    done = run_cli("translate", "--clear-cache", "--corpus", str(corpus_dir))
    no_traceback(done)
    assert done.returncode == 0 and "Cleared the translation cache (0 sentences)" in done.stderr
    assert len(notices(done)) == 1
    with TranslationCache(ws.translations_path) as cache:
        assert cache.count() == 0 and cache.notice is None


# The index ---------------------------------------------------------------------------------
@pytest.mark.parametrize("pattern", ["*.col", "*._stored.col", "*.trm", "*.pst"])
def test_an_index_missing_files_is_rebuilt_with_a_notice(corpus_dir: Path, pattern: str) -> None:
    ws = Workspace.open(corpus_dir)
    update_index(ws)
    for path in ws.index_dir.glob(pattern):
        path.unlink()
    done = run_cli("search", "Rückerstattung", "--corpus", str(corpus_dir))
    no_traceback(done)
    assert done.returncode == 0 and "1 document" in done.stdout
    assert len(notices(done)) == 1 and "rebuilt" in notices(done)[0]
    again = run_cli("search", "Rückerstattung", "--corpus", str(corpus_dir))
    assert again.returncode == 0 and not notices(again)


def test_reader_index_rebuilds_a_truncated_index(corpus_dir: Path) -> None:
    ws = Workspace.open(corpus_dir)
    update_index(ws)
    for path in ws.index_dir.glob("*.trm"):
        path.write_bytes(path.read_bytes()[:50])
    done = run_cli("index", "--corpus", str(corpus_dir))
    no_traceback(done)
    assert done.returncode == 0 and "rebuilt" in done.stdout


# A read-only data folder -------------------------------------------------------------------
@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make a folder and everything in it read-only, for root too (chattr +i)."""
    paths = [folder, *folder.rglob("*")]
    modes = {p: p.stat().st_mode for p in paths}
    for p in paths:
        p.chmod(modes[p] & ~0o222)
    immutable = os.geteuid() == 0 and shutil.which("chattr")
    if immutable:
        done = subprocess.run(["chattr", "-R", "+i", str(folder)], capture_output=True)
        if done.returncode:
            for p in paths:
                p.chmod(modes[p])
            pytest.skip(f"cannot make {folder} read-only: {done.stderr.decode()}")
    try:
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-R", "-i", str(folder)], check=True)
        for p in paths:
            p.chmod(modes[p])


def test_a_read_only_data_folder_still_lists_searches_and_exports(corpus_dir: Path) -> None:
    ws = Workspace.open(corpus_dir)
    update_index(ws)
    tag = ["tags", "add", "001", "--quote", "Tesla", "--tag", "claim", "--corpus", str(corpus_dir)]
    assert main(tag) == 0
    with read_only(ws.data_dir):
        for command in (
            ["docs"],
            ["search", "Rückerstattung"],
            ["search", "Rückerstattung", "--no-update"],
            ["tags", "list"],
            ["export", "--format", "json"],
        ):
            done = run_cli(*command, "--corpus", str(corpus_dir))
            no_traceback(done)
            assert done.returncode == 0, (command, done.stderr)
            if command[0] == "search":
                assert "1 document" in done.stdout
            if command[0] == "export":
                assert '"claim"' in done.stdout


# A full disk -------------------------------------------------------------------------------
@contextlib.contextmanager
def small_disk(folder: Path, size: str) -> Iterator[Path]:
    folder.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
    )
    if done.returncode:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _bulky_corpus(folder: Path, n: int) -> None:
    folder.mkdir()
    for i in range(n):
        words = " ".join(f"word{i}x{k}" for k in range(300))
        (folder / f"doc{i:04d}.txt").write_text(f"Doc {i}\n\n{words}.\n", encoding="utf-8")


def test_a_full_disk_says_so_and_saves_nothing(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    _bulky_corpus(corpus, 400)
    with small_disk(tmp_path / "disk", "600k") as disk:
        done = run_cli("index", "--corpus", str(corpus), "--data-dir", str(disk / "data"))
        no_traceback(done)
        assert done.returncode == 1
        assert done.stderr.strip().splitlines()[-1] == f"reader: error: {NO_SPACE}"
        listed = run_cli("docs", "--corpus", str(corpus), "--data-dir", str(disk / "data"))
        no_traceback(listed)


def test_catalog_full_disk_gives_the_message(workspace: Workspace, monkeypatch) -> None:
    corpus = corpus_of(workspace)
    corpus.scan()
    real = corpus._connect

    def tiny() -> sqlite3.Connection:
        db = real()
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count={pages}")  # a write that needs a page: SQLITE_FULL
        return db

    corpus._local.db.close()
    corpus._local.db = None
    monkeypatch.setattr(corpus, "_connect", tiny)
    for i in range(300):  # rows enough to need new pages
        (workspace.corpus_root / f"new{i}.txt").write_text(f"New {i}\n\nText.\n", "utf-8")
    with pytest.raises(ReaderError, match=NO_SPACE):
        corpus.scan()


# The workspace removed while indexing ------------------------------------------------------
def test_the_data_folder_removed_mid_index_gives_one_line(corpus_dir: Path, tmp_path: Path):
    data = tmp_path / "data"
    ws = Workspace.open(corpus_dir, data)

    def progress(done: int, total: int) -> None:
        if done == 2 and data.exists():
            shutil.rmtree(data)

    with pytest.raises(ReaderError) as raised:
        update_index(ws, progress=progress, procs=1)
    message = str(raised.value)
    assert "\n" not in message and str(data) in message and "removed" in message
    with pytest.raises(ReaderError) as again:  # the next update, with the folder still gone
        update_index(ws, procs=1)
    assert str(again.value) == f"the data folder {data} was removed; nothing was indexed"


def test_a_damaged_index_found_by_a_quick_update_is_rebuilt(corpus_dir: Path) -> None:
    ws = Workspace.open(corpus_dir)
    update_index(ws)
    for path in ws.index_dir.glob("*.trm"):  # present but damaged: only reading finds it
        path.write_bytes(path.read_bytes()[:60])
    (corpus_dir / "added.txt").write_text("Added\n\nA wombat.\n", encoding="utf-8")
    stats = update_index(ws, full_scan=False)
    assert stats.rebuilt and stats.notice and "rebuilt" in stats.notice
    assert stats.total == 5
    done = run_cli("search", "wombat", "--corpus", str(corpus_dir))
    no_traceback(done)
    assert done.returncode == 0 and "1 document" in done.stdout and not notices(done)
