"""The metadata editor: correct a document's language, title, date, URL, outlet and author.

The same corrections as `reader docs set|unset`: saved in the workspace and applied to the
catalog and the index at once (in a worker). An emptied field removes its correction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from reader.core.display import printable
from reader.core.documents import corpus_of
from reader.core.documents.corrections import FIELDS, correct
from reader.core.documents.model import Document
from reader.core.errors import ReaderError
from reader.tui.workers import ShowsWorkerErrors

if TYPE_CHECKING:
    from reader.tui.app import ReaderApp

HINTS = {
    "lang": "ISO 639-1 code, e.g. en",
    "title": "",
    "date": "YYYY-MM-DD",
    "url": "https://…",
    "site": "the outlet",
    "author": "",
}


class MetadataScreen(ShowsWorkerErrors, ModalScreen[Document | None]):
    """Edit one document's metadata: ctrl+s saves, escape cancels. Dismissed with the
    corrected document, or None when nothing was saved."""

    app: ReaderApp

    BINDINGS = [  # noqa: RUF012
        Binding("ctrl+s", "save", "Save", id="metadata.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="metadata.cancel"),
    ]

    def __init__(self, doc_id: str) -> None:
        super().__init__()
        self.doc_id = doc_id

    def compose(self) -> ComposeResult:
        corpus = corpus_of(self.app.workspace)
        info = corpus.info(self.doc_id)
        corrected = corpus.corrections.get(self.doc_id)
        with Vertical(classes="dialog", id="metadata-dialog"):
            yield Label(Text(f"Metadata of {printable(self.doc_id)}"), classes="dialog-title")
            for field in FIELDS:
                value = getattr(info, field, None) if info else None
                mark = " (corrected)" if field in corrected else ""
                yield Label(Text(f"{field}{mark}"), classes="dialog-help")
                yield Input(
                    value or "", placeholder=HINTS[field], id=f"metadata-{field}", compact=True
                )
            yield Static(id="metadata-error")
            with Horizontal(classes="buttons"):
                yield Button("Save", variant="primary", id="metadata-save", compact=True)
                yield Button("Cancel", id="metadata-cancel", compact=True)
            yield Static("ctrl+s saves · escape cancels · empty a field to drop its correction")

    def on_mount(self) -> None:
        self.initial = self._values()
        self.query_one(f"#metadata-{FIELDS[0]}", Input).focus()

    def _values(self) -> dict[str, str]:
        return {f: self.query_one(f"#metadata-{f}", Input).value.strip() for f in FIELDS}

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "metadata-save":
            self.action_save()
        else:
            self.action_cancel()

    def action_save(self) -> None:
        values = self._values()
        changed = {f: v for f, v in values.items() if v and v != self.initial[f]}
        corrected = corpus_of(self.app.workspace).corrections.get(self.doc_id)
        unset = tuple(f for f, v in values.items() if not v and f in corrected)
        if not changed and not unset:
            self.dismiss(None)
            return
        self._save(changed, unset)

    @work(thread=True, exclusive=True, group="metadata", exit_on_error=False)
    def _save(self, changed: dict[str, str], unset: tuple[str, ...]) -> None:
        try:
            doc = correct(self.app.workspace, self.doc_id, changed, unset)
        except ReaderError as exc:
            self.app.call_from_thread(self._error, str(exc))
            return
        self.app.call_from_thread(self.dismiss, doc)

    def _error(self, message: str) -> None:
        self.query_one("#metadata-error", Static).update(Text(printable(message), style="red"))

    def action_cancel(self) -> None:
        self.dismiss(None)
