"""Importing tags in the app: a file name, then the same import as `reader import`.

The file is read, matched and anchored in a worker; the tags are written on the UI thread
through the app's tag service, so the import is one event in the log and one `u` undoes it
(on the tags or article screen).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from reader.core.display import printable
from reader.core.errors import ReaderError
from reader.core.exchange.importer import Prepared, apply_import, prepare_import
from reader.tui.workers import ShowsWorkerErrors

if TYPE_CHECKING:
    from reader.tui.app import ReaderApp


class ImportScreen(ShowsWorkerErrors, ModalScreen[str | None]):
    """Ask for a file and import it: enter imports, escape cancels. Dismissed with the
    report line (`imported N, already present N, …`), or None."""

    app: ReaderApp

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="import.cancel")]  # noqa: RUF012

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Import tags", classes="dialog-title")
            yield Label("A json, jsonl, w3c or qdpx file (ours, or a QDA tool's):")
            yield Input(placeholder="path/to/tags.json", id="import-path", compact=True)
            yield Static(id="import-status")
            yield Static("enter imports · escape cancels · u then undoes the import")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        if not path:
            return
        self._status("Reading…")
        self._prepare(Path(path))

    @work(thread=True, exclusive=True, group="import", exit_on_error=False)
    def _prepare(self, path: Path) -> None:
        try:
            prepared = prepare_import(self.app.workspace, path)
        except ReaderError as exc:
            self.app.call_from_thread(self._status, str(exc), True)
            return
        self.app.call_from_thread(self._write, prepared)

    def _write(self, prepared: Prepared) -> None:
        try:
            report = apply_import(self.app.store, prepared)
        except ReaderError as exc:
            self._status(str(exc), True)
            return
        self.dismiss(report.line())

    def _status(self, message: str, error: bool = False) -> None:
        text = Text(printable(message), style="red" if error else "")
        self.query_one("#import-status", Static).update(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
