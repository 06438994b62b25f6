"""The tags screen: every tag in the corpus, filtered by tag, language, document and status."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Select, Static

from reader.core.documents import corpus_of
from reader.core.errors import ReaderError
from reader.core.tags.model import KIND_NAMES, KINDS, VERDICTS
from reader.core.tags.store import StoreUnavailableError
from reader.tui.messages import TagsChanged
from reader.tui.screens import tagkeys
from reader.tui.screens.team import NOT_SAVED

if TYPE_CHECKING:
    from reader.tui.app import ReaderApp

ALL = ""
STATUSES = ("anchored", "moved", "orphaned")


def _one_line(text: str, width: int) -> Text:
    line = Text(" ".join(str(text).split()), no_wrap=True, overflow="ellipsis")
    line.truncate(width, overflow="ellipsis")
    return line


class TagsScreen(Screen):
    """Every tag; enter jumps to the passage, d deletes (u undoes)."""

    app: ReaderApp

    BINDINGS = [  # noqa: RUF012
        Binding("n", "note", "Note", id="tags.note", tooltip="Edit the selected tag's note"),
        Binding("d", "delete", "Delete", id="tags.delete", tooltip="Delete the selected tag"),
        Binding("e", "export", "Export", id="tags.export", tooltip="Export the tags shown"),
        Binding("u", "undo", "Undo", id="tags.undo"),
        Binding("ctrl+r", "redo", "Redo", id="tags.redo", show=False),
        Binding("f", "focus_filters", "Filter", id="tags.filter", tooltip="Go to the filters"),
        *tagkeys.bindings("tags"),
        Binding("q,escape", "back", "Back", id="tags.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Any] = []
        self.langs: dict[str, str] = {}
        self.titles: dict[str, str] = {}
        self._passage_width = 40
        self._widths = {"doc": 20, "note": 15}

    def compose(self) -> ComposeResult:
        infos = corpus_of(self.app.workspace).infos()
        self.langs = {i.id: i.lang for i in infos}
        self.titles = {i.id: i.title for i in infos}
        yield Static(id="tags-title", classes="title-bar")
        with Horizontal(id="tag-filters"):
            yield Select(
                [("every tag", ALL)] + [(t, t) for t in KIND_NAMES],
                value=ALL,
                allow_blank=False,
                id="filter-tag",
                compact=True,
            )
            yield Select(
                [("every language", ALL)]
                + [(lang, lang) for lang in sorted(set(self.langs.values()))],
                value=ALL,
                allow_blank=False,
                id="filter-lang",
                compact=True,
            )
            yield Select(
                [("every document", ALL)] + [(Text(i.title[:50]), i.id) for i in infos],
                value=ALL,
                allow_blank=False,
                id="filter-doc",
                compact=True,
            )
            yield Select(
                [("every status", ALL)] + [(s, s) for s in STATUSES],
                value=ALL,
                allow_blank=False,
                id="filter-status",
                compact=True,
            )
            yield Select(
                [("every verdict", ALL)] + [(v, v) for v in VERDICTS],
                value=ALL,
                allow_blank=False,
                id="filter-verdict",
                compact=True,
            )
            yield Select(
                [("every label", ALL)],
                value=ALL,
                allow_blank=False,
                id="filter-label",
                compact=True,
            )
        yield DataTable(id="tags-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        width = self.app.size.width
        self._widths = {"doc": max(12, width // 6), "note": max(10, width // 8)}
        passage = max(16, width - 33 - self._widths["doc"] - self._widths["note"] - 15)
        self._passage_width = passage
        for key, label, w in (
            ("tag", "Tag", 8),
            ("doc", "Document", self._widths["doc"]),
            ("lang", "Lang", 4),
            ("passage", "Passage", passage),
            ("note", "Note", self._widths["note"]),
            ("verdict", "Verdict", 12),
            ("status", "Status", 8),
        ):
            table.add_column(label, key=key, width=w)
        self.reload()
        table.focus()

    def on_screen_resume(self) -> None:
        self.reload()

    def _filter(self, name: str) -> str | None:
        value = self.query_one(f"#filter-{name}", Select).value
        return str(value) if value not in (ALL, Select.NULL) else None

    def on_tags_changed(self, message: TagsChanged) -> None:
        """A teammate changed tags (team mode): the list follows."""
        self.reload()

    def reload(self) -> None:
        """Read the tags through the store's filters and fill the table."""
        table = self.query_one(DataTable)
        self.rows = self.app.store.list(
            tag=self._filter("tag"),
            doc_id=self._filter("doc"),
            lang=self._filter("lang"),
            status=self._filter("status"),
            verdict=self._filter("verdict"),
            label=self._filter("label"),
        )
        self._refresh_labels()
        selected = table.cursor_row
        table.clear()
        passage = self._passage_width
        for ann in self.rows:
            tag = Text(ann.tag, style=self.get_component_rich_style(f"tags--{ann.tag}"))
            status = Text(ann.status, style="bold" if ann.status == "orphaned" else "")
            table.add_row(
                tag,
                _one_line(self.titles.get(ann.doc_id, ann.doc_id), self._widths["doc"]),
                self.langs.get(ann.doc_id, "?"),
                _one_line(ann.exact, passage),
                _one_line(
                    " ".join([*(f"#{x}" for x in ann.labels), ann.note or ""]),
                    self._widths["note"],
                ),
                Text("" if ann.verdict == "not-rated" else ann.verdict),
                status,
                key=ann.id,
            )
        if self.rows:
            table.move_cursor(row=min(selected, len(self.rows) - 1))
        title = Text(f" Tags · {len(self.rows)} shown", style="bold")
        title.append("  enter jumps to the passage · f filters · d deletes · u undoes", "dim")
        self.query_one("#tags-title", Static).update(title)

    COMPONENT_CLASSES = {f"tags--{name}" for name in KIND_NAMES}  # noqa: RUF012
    # Each kind in its registry colour (the theme's $text-<colour>).
    DEFAULT_CSS = "\n".join(
        f"TagsScreen > .tags--{k.name} {{ color: $text-{k.theme_colour}; text-style: bold; }}"
        for k in KINDS
    )

    def _refresh_labels(self) -> None:
        """The label filter offers every label in the store."""
        select = self.query_one("#filter-label", Select)
        labels = sorted({x for tag in self.app.store.list() for x in tag.labels})
        if labels == getattr(self, "_labels", None):
            return
        self._labels = labels
        current = select.value
        with select.prevent(Select.Changed):
            select.set_options([("every label", ALL)] + [(f"#{x}", x) for x in labels])
            select.value = current if current in labels else ALL

    @on(Select.Changed)
    def _filter_changed(self) -> None:
        self.reload()

    def _tag_or_warn(self) -> Any | None:
        ann = self.selected()
        if ann is None:
            self.app.notify("No tag selected", severity="warning")
        return ann

    def action_verdict(self) -> None:
        ann = self._tag_or_warn()
        if ann is not None:
            tagkeys.choose_verdict(self, ann, self.reload)

    def action_labels(self) -> None:
        ann = self._tag_or_warn()
        if ann is not None:
            tagkeys.edit_labels(self, ann, self.reload)

    def action_cite(self) -> None:
        ann = self._tag_or_warn()
        if ann is not None:
            tagkeys.copy_citation(self, ann)

    def selected(self) -> Any | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    @on(DataTable.RowSelected, "#tags-table")
    def _jump(self, event: DataTable.RowSelected) -> None:
        ann = next((a for a in self.rows if a.id == event.row_key.value), None)
        if ann is None:
            return
        if ann.status == "orphaned":
            self.app.notify(
                "This tag's passage is gone from the document (orphaned)", severity="warning"
            )
            return
        self.app.pop_screen()
        from reader.tui.screens.article import ArticleScreen

        if isinstance(self.app.screen, ArticleScreen):
            self.app.screen.action_back()
        self.app.open_article(ann.doc_id, at=ann.start)

    def action_focus_filters(self) -> None:
        self.query_one("#filter-tag").focus()

    def action_note(self) -> None:
        ann = self.selected()
        if ann is None:
            return
        from reader.tui.screens.modals import NoteScreen

        def save(note: str | None) -> None:
            if note is None:
                return
            try:  # not over a change made since the list was read
                self.app.store.edit(ann.id, note=note, expected_version=ann.version)
            except StoreUnavailableError as exc:  # kept for a retry, not lost
                self.app.notify(str(exc), severity="error")
                self.app.push_screen(NoteScreen(note, title=NOT_SAVED), save)
                return
            except ReaderError as exc:
                self.app.notify(str(exc), severity="error")
            self.reload()

        self.app.push_screen(NoteScreen(ann.note, title=f"Note on this {ann.tag}"), save)

    def action_export(self) -> None:
        """Export with this screen's filters preselected."""
        from reader.tui.screens.modals import ExportScreen

        self.app.push_screen(
            ExportScreen(
                self.app.workspace,
                tag=self._filter("tag") or "",
                lang=self._filter("lang") or "",
                doc_id=self._filter("doc") or "",
            )
        )

    def action_delete(self) -> None:
        ann = self.selected()
        if ann is None:
            return
        try:
            removal = self.app.store.remove(ann.id, expected_version=ann.version)
        except ReaderError as exc:
            self.app.notify(str(exc), severity="error")
            self.reload()
            return
        if removal.broken_links:
            count = len(removal.broken_links)
            self.app.notify(
                f"Deleted the {ann.tag}; {count} link{'s' if count != 1 else ''} to it broke "
                "(u undoes)",
                timeout=4,
            )
            self.reload()
            return
        self.reload()
        self.app.notify(f"Deleted the {ann.tag} (u undoes)", timeout=3)

    def action_undo(self) -> None:
        try:
            self.app.notify(self.app.store.undo() or "Nothing to undo", timeout=2)
        except ReaderError as exc:
            self.app.notify(str(exc), severity="error")
        self.reload()

    def action_redo(self) -> None:
        try:
            self.app.notify(self.app.store.redo() or "Nothing to redo", timeout=2)
        except ReaderError as exc:
            self.app.notify(str(exc), severity="error")
        self.reload()

    def action_back(self) -> None:
        self.app.pop_screen()
