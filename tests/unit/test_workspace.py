"""Where a corpus keeps its data: defaults, overrides, settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reader.core.documents import corpus_of
from reader.core.errors import ReaderError
from reader.core.workspace import Workspace, bundled_corpus, default_data_dir


def test_default_data_dir_is_inside_a_writable_corpus(corpus_dir: Path):
    ws = Workspace.open(corpus_dir)
    assert ws.data_dir == corpus_dir.resolve() / ".reader" and ws.data_dir.is_dir()
    corpus_of(ws).scan()
    assert len(corpus_of(ws).infos()) == 4  # nothing under .reader is scanned
    assert corpus_of(ws) is corpus_of(ws)  # one corpus per workspace


def test_overrides(corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("READER_DATA_DIR", str(tmp_path / "env"))
    assert Workspace.open(corpus_dir).data_dir == (tmp_path / "env").resolve()
    explicit = Workspace.open(corpus_dir, data_dir=tmp_path / "flag")
    assert explicit.data_dir == (tmp_path / "flag").resolve()


def test_read_only_corpus_uses_user_data_dir(
    corpus_dir: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
):
    # Root can write anywhere, so a read-only folder is simulated at the permission check.
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == corpus_dir else real_access(p, mode)
    )
    data = default_data_dir(corpus_dir)
    assert isolated_home in data.parents and "corpora" in data.parts
    assert data != default_data_dir(corpus_dir.parent)


def test_bundled_corpus_and_missing_folder(tmp_path: Path):
    assert len(list(bundled_corpus().glob("*.txt"))) == 4
    with pytest.raises(ReaderError, match="no such corpus folder"):
        Workspace.open(tmp_path / "nope")


def test_settings_persist(workspace: Workspace):
    assert workspace.target_lang == "en" and workspace.author
    workspace.set_setting("target_lang", "de")
    assert Workspace.open(workspace.corpus_root).target_lang == "de"


def test_a_broken_settings_file_does_not_stop_the_workspace(corpus_dir: Path):
    ws = Workspace.open(corpus_dir)
    ws.settings_path.write_text('{"target_lang": 3, "author": "Ann"', encoding="utf-8")
    again = Workspace.open(corpus_dir)
    assert again.target_lang == "en" and "not valid JSON" in again.settings.problems[0]
    ws.settings_path.write_text('{"target_lang": 3, "author": "Ann"}', encoding="utf-8")
    again = Workspace.open(corpus_dir)
    assert again.author == "Ann" and "'target_lang'" in again.settings.problems[0]


def test_tags_db_from_the_command_line(corpus_dir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("READER_TAGS_DB", "postgresql://env@h/db")
    assert Workspace.open(corpus_dir).tags_db == "postgresql://env@h/db"
    flagged = Workspace.open(corpus_dir, tags_db="postgresql://flag@h/db")
    assert flagged.tags_db == "postgresql://flag@h/db"
    flagged.set_setting("author", "Ann")  # reloading keeps the command line's choice
    assert flagged.tags_db == "postgresql://flag@h/db" and flagged.author == "Ann"


def _imports(path: Path) -> set[str]:
    """Every `reader.*` module a file imports, at the top or inside functions."""
    import ast

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("reader"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("reader"))
    return found


def test_workspace_holds_paths_and_settings_only_and_no_import_cycle():
    """workspace and settings import nothing but each other and errors (lazy imports count
    too): documents, search and tags may import the workspace, never the other way round, so
    no cycle through workspace, corpus and ingest can exist."""
    import reader

    core = Path(reader.__file__).parent / "core"
    allowed = ("reader.core.errors", "reader.core.settings")
    for name in ("workspace", "settings"):
        for module in _imports(core / f"{name}.py"):
            assert module == "reader.core" or module.startswith(allowed), (name, module)
    assert not hasattr(Workspace, "corpus")
