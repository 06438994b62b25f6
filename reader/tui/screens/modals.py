"""Modal screens: the note editor, the claim link picker and the export dialog."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from reader.core.documents import corpus_of
from reader.core.errors import ReaderError
from reader.core.exchange.formats import names as format_names
from reader.core.tags.model import KIND_NAMES

if TYPE_CHECKING:
    from reader.core.workspace import Workspace
    from reader.tui.app import ReaderApp

FORMATS = format_names()  # the export registry: a new format shows up here by itself
ALL = ""  # the "no filter" value of the filter selects


class NoteScreen(ModalScreen[str | None]):
    """Edit a tag's note in a text area: ctrl+s saves, escape cancels."""

    BINDINGS = [  # noqa: RUF012
        Binding("ctrl+s", "save", "Save", id="note.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="note.cancel"),
    ]

    def __init__(self, note: str, *, title: str = "Note") -> None:
        super().__init__()
        self.note = note
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.title_text), classes="dialog-title")
            yield TextArea(self.note, id="note-text", soft_wrap=True, show_line_numbers=False)
            yield Label("ctrl+s saves · escape cancels", classes="dialog-help")

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.cursor_blink = False
        area.focus()
        area.move_cursor(area.document.end)

    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)


def _claim_prompt(ann: Any, titles: dict[str, str], linked: bool) -> Text:
    prompt = Text()
    prompt.append("● " if linked else "  ", style="bold")
    prompt.append(" ".join(str(ann.exact).split())[:90])
    prompt.append(f"\n    {titles.get(ann.doc_id, ann.doc_id)}", style="dim")
    if getattr(ann, "verdict", "not-rated") != "not-rated":
        prompt.append(f" · {ann.verdict}", style="bold")
    if ann.note:
        prompt.append(f" · {ann.note.splitlines()[0][:40]}", style="italic")
    return prompt


class LinkScreen(ModalScreen[str | None]):
    """Pick a claim to link to: type to filter, enter picks, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="link.cancel")]  # noqa: RUF012

    def __init__(
        self, claims: Sequence[Any], titles: dict[str, str], *, linked: Iterable[str] = ()
    ) -> None:
        super().__init__()
        self.claims = list(claims)
        self.titles = titles
        self.linked = set(linked)
        self.shown: list[Any] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Link to a claim", classes="dialog-title")
            yield Input(placeholder="Filter claims", id="link-filter")
            yield OptionList(id="link-claims")
            yield Label("enter links · ● already linked · escape cancels", classes="dialog-help")

    def on_mount(self) -> None:
        self._fill("")
        self.query_one(Input).focus()

    def _fill(self, needle: str) -> None:
        needle = needle.casefold()
        self.shown = [
            c
            for c in self.claims
            if needle in c.exact.casefold()
            or needle in (c.note or "").casefold()
            or needle in self.titles.get(c.doc_id, "").casefold()
        ]
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(
            Option(_claim_prompt(c, self.titles, c.id in self.linked), id=c.id) for c in self.shown
        )
        if self.shown:
            options.highlighted = 0

    @on(Input.Changed, "#link-filter")
    def _filter(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#link-filter")
    def _submit(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None and self.shown:
            self.dismiss(self.shown[options.highlighted].id)

    def key_down(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected, "#link-claims")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ExportScreen(ModalScreen[Path | None]):
    """Choose a format, filters and a destination; write the file; notify its path."""

    app: ReaderApp

    BINDINGS = [  # noqa: RUF012
        Binding("escape", "cancel", "Cancel", id="export.cancel"),
        Binding("ctrl+s", "export", "Export", id="export.run", priority=True),
    ]

    def __init__(
        self, workspace: Workspace, *, tag: str = ALL, lang: str = ALL, doc_id: str = ALL
    ) -> None:
        super().__init__()
        self.workspace = workspace
        self.initial = {"tag": tag, "lang": lang, "doc": doc_id}
        self._auto_path = ""

    def compose(self) -> ComposeResult:
        infos = corpus_of(self.workspace).infos()
        langs = sorted({i.lang for i in infos})
        with Vertical(classes="dialog"):
            yield Label("Export tags", classes="dialog-title")
            yield Select(
                [(f, f) for f in FORMATS],
                value="md",
                allow_blank=False,
                id="export-format",
                compact=True,
            )
            with Horizontal(classes="filters"):
                yield Select(
                    [("every tag", ALL)] + [(t, t) for t in KIND_NAMES],
                    value=self.initial["tag"],
                    allow_blank=False,
                    id="export-tag",
                    compact=True,
                )
                yield Select(
                    [("every language", ALL)] + [(lang, lang) for lang in langs],
                    value=self.initial["lang"] if self.initial["lang"] in langs else ALL,
                    allow_blank=False,
                    id="export-lang",
                    compact=True,
                )
            yield Select(
                [("every document", ALL)] + [(Text(i.title[:60]), i.id) for i in infos],
                value=self.initial["doc"] if self.initial["doc"] in {i.id for i in infos} else ALL,
                allow_blank=False,
                id="export-doc",
                compact=True,
            )
            yield Label("Save to:", classes="dialog-help")
            yield Input(id="export-path", compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Export", variant="primary", id="export-run", compact=True)
                yield Button("Cancel", id="export-cancel", compact=True)
            yield Static("ctrl+s exports · escape cancels", classes="dialog-help")

    def on_mount(self) -> None:
        self._set_default_path()
        self.query_one("#export-format").focus()

    def _default_path(self) -> str:
        from reader.core.exchange.export import default_path

        fmt = str(self.query_one("#export-format", Select).value)
        return str(default_path(self.workspace, fmt))

    def _set_default_path(self) -> None:
        path_input = self.query_one("#export-path", Input)
        if path_input.value in ("", self._auto_path):
            self._auto_path = self._default_path()
            path_input.value = self._auto_path

    @on(Select.Changed, "#export-format")
    def _format_changed(self) -> None:
        self._set_default_path()

    @on(Button.Pressed, "#export-run")
    def _run_pressed(self) -> None:
        self.action_export()

    @on(Button.Pressed, "#export-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Input.Submitted, "#export-path")
    def _path_submitted(self) -> None:
        self.action_export()

    def _filter(self, widget_id: str) -> str | None:
        value = self.query_one(widget_id, Select).value
        return str(value) if value not in (ALL, Select.NULL) else None

    def action_export(self) -> None:
        from reader.core.display import printable
        from reader.core.exchange.export import ExportExists, export

        fmt = str(self.query_one("#export-format", Select).value)
        raw = self.query_one("#export-path", Input).value.strip() or self._default_path()
        out = Path(raw).expanduser()
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            written = export(
                self.workspace,
                fmt,
                out=out,
                tag=self._filter("#export-tag"),
                lang=self._filter("#export-lang"),
                doc_id=self._filter("#export-doc"),
                force=getattr(self, "_replace", None) == out,  # asked and confirmed
            )
        except ExportExists:
            self._replace = out  # ask: a second Export replaces it
            self.app.notify(
                f"{printable(str(out))} exists. Export again to replace it, or change the name.",
                title="Replace the file?",
                severity="warning",
                markup=False,
            )
            return
        except (ReaderError, OSError) as exc:
            self.app.notify(str(exc), title="Export failed", severity="error")
            return
        written = written or out
        self.app.notify(str(written), title=f"Exported {fmt}", timeout=6)
        self.dismiss(written)

    def action_cancel(self) -> None:
        self.dismiss(None)
