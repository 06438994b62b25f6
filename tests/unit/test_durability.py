"""Durability: a writer killed with SIGKILL mid-burst loses no acknowledged tag."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from reader.core.tags import open_tag_store
from reader.core.tags.sqlite import integrity_check
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
    doc_id = ws.corpus.infos()[0].id
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
        doc = ws.corpus.load(doc_id)
        after = store.add(doc, 0, 10, "claim")
        assert store.get(after.id) is not None
        assert all(store.get(ann_id) is not None for ann_id in acknowledged)
