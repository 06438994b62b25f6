"""An index worker process that stops (a crash, the out-of-memory killer) is one line and a
complete index on the next run; what a worker prints goes to a log, not the terminal."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from reader.core.errors import ReaderError
from reader.core.search import update_index
from reader.core.search.api import search
from reader.core.search.whoosh import index as index_module
from reader.core.search.whoosh import writer as index_writer
from reader.core.workspace import Workspace


def _many(folder: Path, n: int) -> None:
    folder.mkdir(parents=True)
    for i in range(n):
        (folder / f"doc{i:04d}.txt").write_text(f"Doc {i}\n\nA quokka, q{i}.\n", "utf-8")


def test_a_killed_worker_is_one_line_and_the_next_run_indexes_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _many(tmp_path / "corpus", 200)
    ws = Workspace.open(tmp_path / "corpus", tmp_path / "data")
    monkeypatch.setattr(index_module, "MP_BATCH", 10)
    killed: list[int] = []

    def kill_the_workers(done: int, total: int) -> None:
        if done == 120 and not killed:
            for child in multiprocessing.active_children():
                killed.append(child.pid)
                child.kill()

    raised: list[BaseException] = []

    def index() -> None:
        try:
            update_index(ws, procs=2, progress=kill_the_workers)
        except BaseException as exc:  # the test's own thread: handed to the test
            raised.append(exc)

    thread = threading.Thread(target=index, daemon=True)  # a hang fails, not blocks, the test
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the update hangs on its dead workers"
    assert killed and len(raised) == 1 and isinstance(raised[0], ReaderError), raised
    message = str(raised[0])
    assert message.startswith("an index worker process was killed (SIGKILL); nothing of")
    assert str(tmp_path / "data" / index_writer.WORKER_LOG) in message and "\n" not in message
    stats = update_index(ws, procs=2)
    assert stats.total == 200 and search(ws, "quokka").total == 200


def test_what_a_worker_prints_goes_to_the_log(tmp_path: Path) -> None:
    index_dir = tmp_path / "data" / "index"
    index_dir.mkdir(parents=True)  # no index in it: the worker fails with a traceback
    script = (
        "import sys\n"
        "from whoosh.filedb.filestore import FileStorage\n"
        "from reader.core.search.whoosh.writer import _subwriter\n"
        f"_subwriter(FileStorage({str(index_dir)!r}), 'MAIN', None, None, {{}}, 1)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr == ""  # nothing on the terminal
    log = (tmp_path / "data" / index_writer.WORKER_LOG).read_text(encoding="utf-8")
    assert "Traceback" in log and "EmptyIndexError" in log
