"""Helpers for the Pilot tests: the seed documents, settling workers, opening articles."""

from __future__ import annotations

from typing import Any

from reader.core.documents import corpus_of
from reader.core.workspace import Workspace
from reader.tui.app import ReaderApp

FR = "001"  # the French seed (date 2025-11-01)
DE = "003"  # the German seed
EN = "000"  # the English seed


def doc_id(workspace: Workspace, prefix: str) -> str:
    return corpus_of(workspace).resolve_id(prefix)


async def _finish(app: ReaderApp) -> None:
    """Wait for every worker but the folder watcher (it runs until the app exits)."""
    workers = [w for w in app.workers if w.group != "watch"]
    if workers:  # (an empty list would mean every worker)
        await app.workers.wait_for_complete(workers)


async def settle(app: ReaderApp, pilot: Any, delay: float = 0.0) -> None:
    """Let timers fire, then wait for every worker and the messages they posted."""
    if delay:
        await pilot.pause(delay)
    await _finish(app)
    await pilot.pause()
    await _finish(app)
    await pilot.pause()


async def open_doc(app: ReaderApp, pilot: Any, doc: str, **kw: Any) -> Any:
    """Open a document on an article screen and wait until it is drawn."""
    app.open_article(doc, **kw)
    await pilot.pause()
    await pilot.pause()
    return app.screen
