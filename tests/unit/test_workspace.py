"""Where a corpus keeps its data: defaults, overrides, settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reader.core.errors import ReaderError
from reader.core.workspace import Workspace, bundled_corpus, default_data_dir


def test_default_data_dir_is_inside_a_writable_corpus(corpus_dir: Path):
    ws = Workspace.open(corpus_dir)
    assert ws.data_dir == corpus_dir.resolve() / ".reader" and ws.data_dir.is_dir()
    ws.corpus.scan()
    assert len(ws.corpus.infos()) == 4  # nothing under .reader is scanned


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
