"""Translate the whole corpus from the app: a status line with a progress bar that owns the
worker (`reader translate --all` in a thread), then re-indexes the documents it translated so
their machine translations (`mt_<lang>`) are searchable.

The model runs outside the GIL (CTranslate2), progress is posted at most every UPDATE_EVERY
seconds, and a cancel is seen between chunks of sentences: keys stay responsive, and what
was translated before a cancel stays cached (running it again goes on from there).
"""

from __future__ import annotations

import time
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Label, ProgressBar
from textual.worker import get_current_worker

from reader.core.display import printable
from reader.core.documents import corpus_of
from reader.core.errors import ReaderError
from reader.tui.workers import ShowsWorkerErrors

UPDATE_EVERY = 0.1  # seconds between progress messages from the worker


class TranslateAll(ShowsWorkerErrors, Horizontal):
    """'Translating 120/900 sentences' and a bar while the corpus is translated; hidden
    otherwise. `toggle()` starts or cancels."""

    DEFAULT_CSS = """
    TranslateAll {
        height: 1;
        padding: 0 1;
        background: $boost;
        display: none;
    }
    TranslateAll.-running {
        display: block;
    }
    TranslateAll > Label {
        width: auto;
        margin-right: 2;
    }
    TranslateAll > ProgressBar {
        width: 30;
    }
    """

    class Progress(Message):
        def __init__(self, done: int, total: int) -> None:
            super().__init__()
            self.done = done
            self.total = total

    class Finished(Message):
        """The run ended: the report (None after an error), the ids re-indexed, and a line
        for the user."""

        def __init__(self, report: Any, notice: str, severity: str = "information") -> None:
            super().__init__()
            self.report = report
            self.notice = notice
            self.severity = severity

    def __init__(self, key: str = "A", **kw: Any) -> None:
        super().__init__(**kw)
        self.key = key  # named in the label: the same key cancels
        self.running = False
        self.last_report: Any = None  # the BulkReport of the last run

    def compose(self) -> ComposeResult:
        yield Label("Translating the corpus", id="translate-all-label")
        yield ProgressBar(id="translate-all-progress", show_eta=False)

    def toggle(self) -> None:
        """Start translating the corpus, or cancel the run under way."""
        if self.running:
            self.cancel()
        else:
            self.start()

    def start(self, to: str | None = None) -> None:
        if self.running:
            return
        self.running = True
        self.add_class("-running")
        self.query_one(Label).update(f"Translating the corpus ({self.key} cancels)")
        self.query_one(ProgressBar).update(total=None, progress=0)
        self._worker(to)

    def cancel(self) -> None:
        if self.running:
            self.query_one(Label).update("Cancelling…")
            self.workers.cancel_group(self, "translate-all")

    @work(thread=True, exclusive=True, group="translate-all", exit_on_error=False)
    def _worker(self, to: str | None) -> None:
        from reader.core.translation.service import translate_all

        worker = get_current_worker()
        ws = self.app.workspace  # type: ignore[attr-defined]
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] >= UPDATE_EVERY or done >= total:
                last[0] = now
                self.post_message(self.Progress(done, total))

        try:
            report = translate_all(ws, to, progress=progress, cancelled=lambda: worker.is_cancelled)
        except ReaderError as exc:
            self.post_message(self.Finished(None, printable(str(exc)), "error"))
            return
        notice, severity = _summary(report), "information"
        if report.updated:  # their translations are searchable (mt_<lang>) from now on
            from reader.core.search import IndexLocked, refresh_documents

            try:
                refresh_documents(ws, [corpus_of(ws).load(doc_id) for doc_id in report.updated])
            except (IndexLocked, ReaderError) as exc:
                notice = f"{notice}; not searchable yet: {printable(str(exc))}"
                severity = "warning"
        self.post_message(self.Finished(report, notice, severity))

    def on_translate_all_progress(self, message: Progress) -> None:
        if not self.running:
            return
        self.query_one(ProgressBar).update(total=max(message.total, 1), progress=message.done)
        label = (
            "Cancelling…"
            if self._cancelling()
            else (f"Translating {message.done}/{message.total} sentences ({self.key} cancels)")
        )
        self.query_one(Label).update(label)

    def on_translate_all_finished(self, message: Finished) -> None:
        self.running = False
        self.last_report = message.report
        self.remove_class("-running")
        # bubbles on to the screen, which re-runs its search and notifies

    def _cancelling(self) -> bool:
        return any(w.is_cancelled for w in self.workers if w.group == "translate-all")


def _summary(report: Any) -> str:
    """One line: what was translated, what lacked a model, whether it was cancelled."""
    if report.cancelled:
        text = (
            f"Translation cancelled: {report.translated} sentences translated and kept; "
            "run it again to go on"
        )
    else:
        text = (
            f"Translated the corpus: {report.documents} documents, {report.translated} "
            "sentences translated now, the rest from the cache"
        )
    if report.missing:
        missing = sorted(report.missing.items())
        pairs = ", ".join(f"{pair.replace('->', '→')} ({len(ids)})" for pair, ids in missing)
        first = sorted(report.missing)[0].split("->")
        text += f"; no model for {pairs}: `reader models install {first[0]} {first[1]}`"
    return printable(text)
