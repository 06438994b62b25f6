"""Pilot tests of the app's workers: worker processes start inside the app, failures are shown."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from reader.core.workspace import Workspace

REPO = Path(__file__).resolve().parents[2]

# A fresh interpreter (no multiprocessing resource tracker running yet, as in `reader`): the
# first index of a corpus big enough for worker processes, inside the running app.
FIRST_INDEX_WITH_WORKER_PROCESSES = textwrap.dedent(
    """
    import asyncio, sys
    from reader.core.search.whoosh import index
    from reader.core.workspace import Workspace
    from reader.tui.app import ReaderApp
    from reader.tui.widgets.document_table import DocumentTable

    index.MULTIPROC_MIN = 1  # worker processes even for the four seed documents

    async def main() -> None:
        app = ReaderApp(Workspace.open(sys.argv[1], sys.argv[2]), watch=False)
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(600):
                await pilot.pause(0.1)
                if app.screen.indexing is None and not app.workers:
                    break
            table = app.screen.query_one("#documents", DocumentTable)
            print("rows", table.row_count)
            print("notices", [str(n.message) for n in app._notifications])

    asyncio.run(main())
    """
)


def test_first_index_with_worker_processes_inside_the_app(corpus_dir: Path, tmp_path) -> None:
    """Textual's stand-in for stderr answered fileno() with -1, which multiprocessing passes to
    the resource tracker it spawns: every first index of 4,000+ documents failed in the app,
    silently, leaving an empty library."""
    done = subprocess.run(
        [sys.executable, "-c", FIRST_INDEX_WITH_WORKER_PROCESSES, str(corpus_dir), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    assert "rows 4\n" in done.stdout, done.stdout
    assert "notices []" in done.stdout, done.stdout


async def test_a_failing_screen_worker_is_shown(make_app, workspace: Workspace, monkeypatch):
    """Worker.StateChanged does not bubble: the app never saw a screen's failed worker."""
    import reader.core.search as search

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(search, "update_index", boom)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(200):  # (waiting on the worker would raise its error here)
            await pilot.pause(0.05)
            if app._notifications:
                break
        await pilot.pause()
        messages = [str(n.message) for n in app._notifications]
        assert any("disk on fire" in m for m in messages), messages
        assert app.screen.indexing is None


async def test_a_cache_repaired_while_the_app_runs_says_so_once(make_app, workspace: Workspace):
    """The core logs a damaged catalog or translation cache it rebuilt; inside the app stderr
    is not the terminal, so that one line was lost: it is a notification now."""
    where = ["--corpus", str(workspace.corpus_root), "--data-dir", str(workspace.data_dir)]
    subprocess.run([sys.executable, "-m", "reader", "index", *where], check=True, cwd=REPO)
    path = workspace.catalog_path
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.write_bytes(path.read_bytes()[:3000])  # truncated
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.pause()
        notes = [str(n.message) for n in app._notifications]
        assert len([n for n in notes if "was damaged" in n and "catalog" in n]) == 1, notes
        assert app.screen.query_one("#documents").row_count == 4
