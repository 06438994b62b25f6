"""The library's document list: a virtual table that draws only the rows on screen.

20,000 documents are a Python list here, not 120,000 widget cells: filling the table stores the
list, sorting sorts it (on keys computed once per fill), a changed tag count repaints one line,
and each frame renders only the visible rows (Textual's Line API). Titles are data: escaped with
`printable` and put into `rich.text.Text`, never markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from reader.core.display import printable
from reader.core.tags.model import KIND_NAMES, KINDS
from reader.tui.widgets.style import blended_style

TAGS = KIND_NAMES


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int  # 0: takes the remaining width
    justify: str = "left"


COLUMNS = (
    Column("title", "Title", 0),
    Column("lang", "Lang", 4),
    Column("date", "Date", 10),
    *(
        Column(k.name, label, max(6, len(label)), "right")
        for k in KINDS
        for label in [k.plural if len(k.plural) <= 7 else k.plural[:5] + "."]
    ),
)
PADDING = 1  # blank columns on each side of a cell


def sort_key(column: str, info: Any, counts: dict[str, int]) -> Any:
    """The sort key of a document for a column (numbers by value, text without case)."""
    if column in TAGS:
        return counts.get(column, 0)
    value = getattr(info, column, None) or ""
    return str(value).casefold()


class DocumentTable(ScrollView, can_focus=True):
    """Rows of documents (title, language, date, tag counts) with a row cursor."""

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("enter", "select", "Open", show=False, id="library.open"),
        Binding("up", "cursor(-1)", "Up", show=False, system=True),
        Binding("down", "cursor(1)", "Down", show=False, system=True),
        Binding("pageup", "page(-1)", "Page up", show=False, system=True),
        Binding("pagedown", "page(1)", "Page down", show=False, system=True),
        Binding("home", "edge(-1)", "First", show=False, system=True),
        Binding("end", "edge(1)", "Last", show=False, system=True),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "document-table--header",
        "document-table--cursor",
        "document-table--even-row",
    }

    DEFAULT_CSS = """
    DocumentTable {
        background: $surface;
        color: $foreground;
        height: 1fr;
        &:focus {
            background-tint: $foreground 5%;
            & > .document-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
        & > .document-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        & > .document-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .document-table--even-row {
            background: $surface-lighten-1 50%;
        }
    }
    """

    class RowSelected(Message):
        """Enter (or a click on the cursor row) on a document."""

        def __init__(self, table: DocumentTable, doc_id: str) -> None:
            super().__init__()
            self.table = table
            self.doc_id = doc_id

        @property
        def control(self) -> DocumentTable:
            return self.table

    class HeaderSelected(Message):
        """A click on a column header."""

        def __init__(self, table: DocumentTable, column: str) -> None:
            super().__init__()
            self.table = table
            self.column = column

        @property
        def control(self) -> DocumentTable:
            return self.table

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rows: list[Any] = []  # DocumentInfo, in display order
        self.counts: dict[str, dict[str, int]] = {}
        self.cursor_row = 0
        self.sort_column = "title"
        self.sort_reverse = False
        self._index: dict[str, int] = {}  # id -> row
        self._styles: dict[str, Style] = {}
        self._lines: dict[tuple[int, str, bool], Strip] = {}

    # Data -------------------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def ids(self) -> list[str]:
        """Document ids in display order."""
        return [info.id for info in self.rows]

    def set_documents(
        self, infos: Iterable[Any], counts: dict[str, dict[str, int]] | None = None
    ) -> None:
        """Show these documents (sorted by the current column); the cursor stays on its
        document when it is still there."""
        here = self.cursor_id
        if counts is not None:
            self.counts = counts
        self.rows = list(infos)
        self._sort(keep=here)

    def add_documents(self, infos: Iterable[Any]) -> int:
        """Add (or replace) documents; returns how many were new."""
        by_id = {info.id: info for info in self.rows}
        before = len(by_id)
        for info in infos:
            by_id[info.id] = info
        if len(by_id) == before and all(self.rows[self._index[i]] is by_id[i] for i in by_id):
            return 0
        added = len(by_id) - before
        here = self.cursor_id
        self.rows = list(by_id.values())
        self._sort(keep=here)
        return added

    def remove_documents(self, ids: Iterable[str]) -> int:
        """Drop these documents; returns how many were shown."""
        gone = {doc_id for doc_id in ids if doc_id in self._index}
        if gone:
            here = self.cursor_id
            row = self.cursor_row
            self.rows = [info for info in self.rows if info.id not in gone]
            self._sort(keep=here if here not in gone else None)
            if here in gone:
                self.cursor_row = max(0, min(row, len(self.rows) - 1))
        return len(gone)

    def sort(self, column: str, reverse: bool = False) -> None:
        self.sort_column, self.sort_reverse = column, reverse
        self._sort(keep=self.cursor_id)

    def _sort(self, keep: str | None) -> None:
        column, counts = self.sort_column, self.counts
        empty: dict[str, int] = {}
        keyed = [
            (sort_key(column, info, counts.get(info.id, empty)), info.id, info)
            for info in self.rows
        ]
        keyed.sort(key=lambda item: (item[0], item[1]), reverse=self.sort_reverse)
        self.rows = [item[2] for item in keyed]
        self._index = {info.id: row for row, info in enumerate(self.rows)}
        self._lines.clear()
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)
        row = self._index.get(keep, 0) if keep is not None else 0
        self.cursor_row = max(0, min(row, len(self.rows) - 1))
        self.refresh()
        self.call_after_refresh(self.scroll_to_cursor)

    def update_counts(self, counts: dict[str, dict[str, int]]) -> list[str]:
        """New tag counts: only the rows whose counts changed are repainted (and the order
        changes only when sorted by a tag column). Returns the ids that changed."""
        old, empty = self.counts, {}
        changed = [
            doc_id
            for doc_id in set(old) | set(counts)
            if doc_id in self._index and old.get(doc_id, empty) != counts.get(doc_id, empty)
        ]
        self.counts = counts
        if not changed:
            return []
        if self.sort_column in TAGS:
            self._sort(keep=self.cursor_id)
        else:
            rows = {self._index[doc_id] for doc_id in changed}
            self._lines = {k: v for k, v in self._lines.items() if k[0] not in rows}
            for row in rows:
                self.refresh_row(row)
        return changed

    def get_row(self, doc_id: str) -> list[Any]:
        """The cells of a document's row (Text for the title and the counts)."""
        info = self.rows[self._index[doc_id]]
        return self._cells(info)

    @property
    def cursor_id(self) -> str | None:
        if 0 <= self.cursor_row < len(self.rows):
            return self.rows[self.cursor_row].id
        return None

    # Geometry ---------------------------------------------------------------------------------
    def _widths(self) -> list[int]:
        width = self.scrollable_content_region.width
        fixed = sum(c.width + 2 * PADDING for c in COLUMNS if c.width)
        return [c.width or max(8, width - fixed - 2 * PADDING) for c in COLUMNS]

    def refresh_row(self, row: int) -> None:
        y = row - int(self.scroll_y) + 1
        if 1 <= y < self.size.height:
            self.refresh_lines(y)

    def scroll_to_cursor(self) -> None:
        height = max(1, self.scrollable_content_region.height - 1)  # rows below the header
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + height:
            self.scroll_to(y=self.cursor_row - height + 1, animate=False, immediate=True)

    def move_cursor(self, row: int) -> None:
        if not self.rows:
            return
        row = max(0, min(row, len(self.rows) - 1))
        if row == self.cursor_row:
            return
        old, self.cursor_row = self.cursor_row, row
        self.refresh_row(old)
        self.refresh_row(row)
        self.scroll_to_cursor()

    def action_cursor(self, delta: int) -> None:
        self.move_cursor(self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        height = max(1, self.scrollable_content_region.height - 1)
        self.move_cursor(self.cursor_row + direction * height)

    def action_edge(self, direction: int) -> None:
        self.move_cursor(0 if direction < 0 else len(self.rows) - 1)

    def action_select(self) -> None:
        doc_id = self.cursor_id
        if doc_id is not None:
            self.post_message(self.RowSelected(self, doc_id))

    # Rendering --------------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._lines.clear()

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = blended_style(self, f"document-table--{name}")
        return style

    def _cells(self, info: Any) -> list[Any]:
        counts = self.counts.get(info.id, {})
        return [
            Text(printable(info.title), no_wrap=True, overflow="ellipsis"),
            printable(f"{info.lang}?" if info.lang_uncertain else info.lang or ""),
            printable(info.date or ""),
            *(Text(str(counts.get(tag, 0)), justify="right") for tag in TAGS),
        ]

    def _render_cells(self, cells: Sequence[Any], widths: list[int], style: Style) -> Strip:
        segments: list[Segment] = []
        pad = Segment(" " * PADDING, style)
        for column, cell, width in zip(COLUMNS, cells, widths, strict=True):
            text = cell.copy() if isinstance(cell, Text) else Text(str(cell))
            text.truncate(width, overflow="ellipsis")
            text.align("right" if column.justify == "right" else "left", width)
            segments.append(pad)
            segments.extend(Segment.apply_style(text.render(self.app.console), style))
            segments.append(pad)
        return Strip(segments)

    def _row_style(self, row: int) -> tuple[str, Style]:
        base = self.rich_style
        if row == self.cursor_row:
            return "cursor", base + self._style("cursor")
        if row % 2:
            return "even", base + self._style("even-row")
        return "odd", base

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        widths = self._widths()
        if y == 0:
            style = base + self._style("header")
            cells = [Text(c.label, justify=c.justify) for c in COLUMNS]  # type: ignore[arg-type]
            return self._render_cells(cells, widths, style).crop_extend(0, width, style)
        row = int(self.scroll_y) + y - 1
        if not 0 <= row < len(self.rows):
            return Strip.blank(width, base)
        kind, style = self._row_style(row)
        key = (row, kind, self.has_focus)
        strip = self._lines.get(key)
        if strip is None or strip.cell_length != width:
            strip = self._render_cells(self._cells(self.rows[row]), widths, style)
            strip = strip.crop_extend(0, width, style)
            if len(self._lines) > 500:
                self._lines.clear()
            self._lines[key] = strip
        return strip

    def on_resize(self, event: events.Resize) -> None:
        self._lines.clear()
        self.virtual_size = Size(event.size.width, len(self.rows) + 1)

    def on_focus(self) -> None:
        self._lines.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._lines.clear()
        self.refresh()

    # Mouse ------------------------------------------------------------------------------------
    def _column_at(self, x: int) -> str | None:
        edge = 0
        for column, width in zip(COLUMNS, self._widths(), strict=True):
            edge += width + 2 * PADDING
            if x < edge:
                return column.key
        return None

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            column = self._column_at(event.x)
            if column is not None:
                self.post_message(self.HeaderSelected(self, column))
            return
        row = int(self.scroll_y) + event.y - 1
        if not 0 <= row < len(self.rows):
            return
        if row == self.cursor_row or event.chain > 1:
            self.move_cursor(row)
            self.action_select()
        else:
            self.move_cursor(row)
