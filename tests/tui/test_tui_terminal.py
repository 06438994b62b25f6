"""The installed `reader` in tmux: search, open the German article, tag a claim."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from reader.core.tags import open_tag_store
from reader.core.workspace import Workspace

TMUX = shutil.which("tmux")
READER = Path(sys.executable).parent / "reader"

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")


class Terminal:
    """A tmux server of our own (its own socket), running one command in a 120×40 window."""

    def __init__(self, socket: str, env: dict[str, str]) -> None:
        self.base = [str(TMUX), "-u", "-L", socket]
        self.env = env

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            [*self.base, *args], env=self.env, capture_output=True, text=True, timeout=20
        )
        return done.stdout

    def start(self, command: list[str]) -> None:
        self.tmux("new-session", "-d", "-s", "t", "-x", "120", "-y", "40", *command)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "t")

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", "t", key)
            time.sleep(0.15)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", "t", "-l", text)

    def wait(self, ready: Callable[[str], bool], what: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if ready(screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; the screen was:\n{screen}")

    def kill(self) -> None:
        self.tmux("kill-server")


def test_search_open_and_tag_in_tmux(tmp_path: Path, corpus_dir: Path) -> None:
    assert READER.exists(), f"the installed `reader` is missing next to {sys.executable}"
    data = tmp_path / "data"
    env = {
        **os.environ,
        "READER_DATA_DIR": str(data),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TERM": "xterm-256color",
    }
    env.pop("TMUX", None)
    term = Terminal(f"reader-test-{os.getpid()}", env)
    try:
        term.start([str(READER), str(corpus_dir)])
        term.wait(lambda s: "4 documents" in s and "Indexing" not in s, "the indexed library")
        term.keys("/")
        term.type("Rückerstattung")
        term.wait(lambda s: "1 hit" in s and "de 1" in s, "the search hit")
        term.keys("Enter")
        screen = term.wait(lambda s: "hit 1/" in s, "the German article")
        assert "Elon Musk kontert die Tesla-Rückerstattungsvorwürfe" in screen
        term.keys("c")
        screen = term.wait(lambda s: "· claim" in s, "the claim in the status line")
        ws = Workspace.open(corpus_dir, data)
        store = open_tag_store(ws)
        try:
            (claim,) = store.list()
        finally:
            store.close()
        assert claim.tag == "claim"
        assert claim.doc_id.startswith("003_")
        assert "Rückerstattung" in claim.exact
        assert claim.status == "anchored"
        term.keys("q")
        term.wait(lambda s: "4 documents" in s, "the library again")
        term.keys("Escape", "q")
        term.wait(lambda s: "4 documents" not in s, "the app to quit")
    finally:
        term.kill()
