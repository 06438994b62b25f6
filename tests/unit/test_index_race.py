"""Two processes updating one index: the second, which waited for the writer lock, must
not write again what the first wrote meanwhile (every document indexed twice, for good)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from reader.core.search import update_index
from reader.core.search.whoosh import index as index_module
from reader.core.search.whoosh.index import searching
from reader.core.workspace import Workspace


def _indexed_ids(ws: Workspace) -> Counter[str]:
    index_module.forget_index(ws)
    with searching(ws) as searcher:
        return Counter(fields["id"] for fields in searcher.all_stored_fields())


def test_a_writer_that_waited_for_the_lock_does_not_index_documents_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, data = tmp_path / "corpus", tmp_path / "data"
    root.mkdir()
    for i in range(20):
        (root / f"old{i:02d}.txt").write_text(f"Old story {i}\n\nOil rose {i}.\n", "utf-8")
    ws = Workspace.open(root, data)
    update_index(ws)
    for i in range(15):
        (root / f"new{i:02d}.txt").write_text(f"New story {i}\n\nGas fell {i}.\n", "utf-8")

    real = index_module._write_lock

    def another_process_first(ix):
        """Another process indexes the new files while this one waits for the lock."""
        command = [sys.executable, "-m", "reader", "index", "--corpus", str(root)]
        subprocess.run([*command, "--data-dir", str(data)], check=True, capture_output=True)
        return real(ix)

    monkeypatch.setattr(index_module, "_write_lock", another_process_first)
    update_index(ws)

    counts = _indexed_ids(ws)
    assert len(counts) == 35
    assert [doc for doc, n in counts.items() if n > 1] == []
