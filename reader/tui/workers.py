"""Worker plumbing shared by the screens: failures shown, worker processes able to start."""

from __future__ import annotations

import io
from typing import Any

from textual.worker import Worker, WorkerState

from reader.core.display import printable


def show_worker_error(app: Any, worker: Worker) -> None:
    """The one notification for a worker that failed unexpectedly (the app keeps running)."""
    error = worker.error
    app.notify(
        printable(f"{type(error).__name__}: {error}"),
        title=f"{worker.group} failed",
        severity="error",
        timeout=15,
    )


class ShowsWorkerErrors:
    """For screens and widgets that run workers. Worker.StateChanged does not bubble, so the
    app never sees their workers fail; Textual calls this handler besides a subclass's own
    (it walks the MRO), so each failure is shown once."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            show_worker_error(self.app, event.worker)  # type: ignore[attr-defined]


class NoFileno:
    """Textual's stand-in for stdout/stderr while the app runs, answering fileno() as a file
    without a descriptor does (io.UnsupportedOperation) instead of with -1: multiprocessing
    hands sys.stderr.fileno() to the resource tracker it spawns for a worker process, and -1
    made that spawn fail ("bad value(s) in fds_to_keep"), so an index with worker processes
    (a first index of thousands of documents) failed inside the app."""

    def __init__(self, capture: Any) -> None:
        self._capture = capture

    def fileno(self) -> int:
        raise io.UnsupportedOperation("fileno")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._capture, name)
