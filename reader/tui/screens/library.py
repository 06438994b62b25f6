"""The library: every document (sortable), the search box, live hits with snippets and facets."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Label, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker

from reader.core.errors import ReaderError
from reader.tui.messages import IndexFinished, IndexProgress, SearchFinished

if TYPE_CHECKING:
    from reader.core.documents.model import DocumentInfo
    from reader.tui.app import ReaderApp

SEARCH_DELAY = 0.25  # seconds of quiet typing before a search runs
FIRST_ROWS = 200  # rows shown in the first frame; the rest follow right after
COLUMNS = (
    ("title", "Title"),
    ("lang", "Lang"),
    ("date", "Date"),
    ("claim", "Claims"),
    ("rebuttal", "Rebut."),
    ("context", "Context"),
)
TAGS = ("claim", "rebuttal", "context")


def _sort_key(value: Any) -> Any:
    if isinstance(value, Text):
        value = value.plain
    if isinstance(value, str):
        stripped = value.strip()
        return (0, int(stripped)) if stripped.isdigit() else (1, stripped.casefold())
    return (2, value)


def hit_prompt(hit: Any) -> Text:
    """A hit as two or more lines: title and metadata, then snippets with highlighted terms."""
    prompt = Text(no_wrap=False)
    prompt.append(str(hit.title), style="bold")
    prompt.append(f"  {hit.lang} · {hit.date or 'no date'}", style="dim")
    for snippet in hit.snippets[:2]:
        line = Text(" ".join(str(snippet.text).split("\n")))
        for start, end in snippet.highlights:
            line.stylize("reverse bold", start - snippet.start, end - snippet.start)
        prompt.append("\n  ")
        prompt.append_text(line)
    return prompt


INDEX_DELAY = 0.3  # seconds the index worker waits, so the first frame reaches the screen


class LibraryScreen(Screen):
    """The first screen: the document list, the search box and the hits."""

    app: ReaderApp

    BINDINGS = [  # noqa: RUF012
        Binding("slash", "focus_search", "Search", id="library.search", tooltip="Focus the search"),
        Binding("escape", "clear_search", "Clear", id="library.clear", tooltip="Clear the search"),
        Binding("down", "focus_results", "Results", id="library.results", show=False),
        Binding("s", "sort", "Sort", id="library.sort", tooltip="Sort by the next column"),
        Binding("S", "reverse_sort", "Reverse", id="library.reverse", show=False),
        Binding("ctrl+l", "reindex", "Reindex", id="library.reindex", show=False),
        Binding("q", "quit", "Quit", id="library.quit", tooltip="Quit the app"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.infos: list[DocumentInfo] = []
        self.hits: list[Any] = []
        self.query_text = ""
        self._sort_column = 0
        self._sort_reverse = False
        self._search_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="library-title", classes="title-bar")
        yield Input(placeholder='Search: words, "a phrase", lang:de, prefix*  (/)', id="search")
        yield Static(id="facets")
        yield DataTable(id="documents", cursor_type="row", zebra_stripes=True)
        yield OptionList(id="hits")
        with Horizontal(id="index-status"):
            yield Label("Indexing", id="index-label")
            yield ProgressBar(id="index-progress", show_eta=False)
        yield Footer()

    # Start-up: the catalog first, scanning and indexing afterwards in a worker -------------
    def on_mount(self) -> None:
        ws = self.app.workspace
        # The catalog lists the corpus without reading files; a first run has no catalog yet,
        # then the list fills when the worker's scan finishes.
        first_run = not ws.catalog_path.exists() and self.app.index_on_start
        infos = [] if first_run else ws.corpus.infos()
        self._fill_table(infos)
        self.query_one("#hits").display = False
        self.query_one("#index-status").display = False
        self.query_one("#documents").focus()
        if self.app.index_on_start:
            self.call_after_refresh(self.action_reindex)

    def on_screen_resume(self) -> None:
        if self.infos:
            self._refresh_counts()

    def action_reindex(self) -> None:
        self.query_one("#index-status").display = True
        self.query_one("#index-label", Label).update("Indexing")
        self.query_one("#index-progress", ProgressBar).update(total=None, progress=0)
        self._index_worker()

    @work(thread=True, exclusive=True, group="index", exit_on_error=False)
    def _index_worker(self) -> None:
        worker = get_current_worker()
        time.sleep(INDEX_DELAY)  # indexing holds the GIL for long stretches: paint first
        if worker.is_cancelled:
            return
        ws = self.app.workspace

        def progress(done: int, total: int) -> None:
            self.post_message(IndexProgress(done, total))

        notice: str | None = None
        severity = "information"
        from reader.core.search import IndexLocked, update_index

        try:
            stats = update_index(ws, progress=progress, cancelled=lambda: worker.is_cancelled)
        except IndexLocked as exc:
            notice, severity = str(exc), "warning"
        except ReaderError as exc:
            notice, severity = str(exc), "error"
        else:
            notice = stats.notice
        if worker.is_cancelled:
            return
        try:  # re-anchor the tags of documents that changed (cheap when none did)
            report = self.app.store.reconcile(ws.corpus)
        except ReaderError as exc:
            notice, severity = str(exc), "error"
            report = None
        if report is not None and report.orphaned and notice is None:
            notice = f"{len(report.orphaned)} tag(s) lost their passage (orphaned); see F3"
            severity = "warning"
        skipped = ws.corpus.last_scan.skipped if ws.corpus.last_scan else []
        if skipped and notice is None:
            notice = f"{len(skipped)} file(s) skipped; see `reader docs --skipped`"
            severity = "warning"
        self.post_message(IndexFinished(ws.corpus.infos(), notice, severity))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "index":
            self.query_one("#index-status").display = False
        # the app shows the notification (the message bubbles on)

    def on_index_progress(self, message: IndexProgress) -> None:
        bar = self.query_one("#index-progress", ProgressBar)
        bar.update(total=max(message.total, 1), progress=message.done)
        self.query_one("#index-label", Label).update(f"Indexing {message.done}/{message.total}")

    def on_index_finished(self, message: IndexFinished) -> None:
        self.query_one("#index-status").display = False
        old = [(i.id, i.sha256, i.title) for i in self.infos]
        if old != [(i.id, i.sha256, i.title) for i in message.infos]:
            self._fill_table(message.infos)
        if message.notice:
            self.app.notify(message.notice, severity=message.severity)  # type: ignore[arg-type]
        if self.query_text:
            self._search(self.query_text)

    # The document table ---------------------------------------------------------------------
    def _title_width(self) -> int:
        return max(20, self.app.size.width - 44)

    def _row(self, info: DocumentInfo, counts: dict[str, int]) -> list[Any]:
        title = Text(info.title, no_wrap=True, overflow="ellipsis")
        title.truncate(self._title_width(), overflow="ellipsis")
        return [
            title,
            info.lang,
            info.date or "",
            *(Text(str(counts.get(tag, 0)), justify="right") for tag in TAGS),
        ]

    def _fill_table(self, infos: list[DocumentInfo]) -> None:
        self.infos = list(infos)
        table = self.query_one("#documents", DataTable)
        table.clear(columns=True)
        for key, label in COLUMNS:
            width = self._title_width() if key == "title" else None
            table.add_column(label, key=key, width=width)
        counts = self.app.tag_counts()
        ordered = self._ordered(self.infos, counts)
        for info in ordered[:FIRST_ROWS]:
            table.add_row(*self._row(info, counts.get(info.id, {})), key=info.id)
        if ordered[FIRST_ROWS:]:  # the first screenful is drawn before the rest are added
            self.call_after_refresh(self._add_rows, ordered[FIRST_ROWS:], counts)
        self._update_title()

    def _ordered(
        self, infos: list[DocumentInfo], counts: dict[str, dict[str, int]]
    ) -> list[DocumentInfo]:
        key, _ = COLUMNS[self._sort_column]

        def value(info: DocumentInfo) -> Any:
            if key in TAGS:
                return _sort_key(str(counts.get(info.id, {}).get(key, 0)))
            return _sort_key(getattr(info, key) or "")

        return sorted(infos, key=value, reverse=self._sort_reverse)

    def _add_rows(self, infos: list[DocumentInfo], counts: dict[str, dict[str, int]]) -> None:
        table = self.query_one("#documents", DataTable)
        for info in infos:
            table.add_row(*self._row(info, counts.get(info.id, {})), key=info.id)

    def _refresh_counts(self) -> None:
        table = self.query_one("#documents", DataTable)
        counts = self.app.tag_counts()
        for info in self.infos:
            if info.id not in table.rows:
                continue
            doc_counts = counts.get(info.id, {})
            for tag in TAGS:
                cell = Text(str(doc_counts.get(tag, 0)), justify="right")
                table.update_cell(info.id, tag, cell)

    def _update_title(self) -> None:
        ws = self.app.workspace
        title = Text()
        title.append(" source-reader ", style="bold")
        title.append(f" {ws.corpus_root.name} · {len(self.infos)} documents")
        _key, label = COLUMNS[self._sort_column]
        title.append(f" · sorted by {label.lower()}{' ↓' if self._sort_reverse else ''}", "dim")
        self.query_one("#library-title", Static).update(title)

    def _apply_sort(self) -> None:
        key, _ = COLUMNS[self._sort_column]
        table = self.query_one("#documents", DataTable)
        table.sort(key, key=_sort_key, reverse=self._sort_reverse)
        self._update_title()

    def action_sort(self) -> None:
        self._sort_column = (self._sort_column + 1) % len(COLUMNS)
        self._sort_reverse = False
        self._apply_sort()

    def action_reverse_sort(self) -> None:
        self._sort_reverse = not self._sort_reverse
        self._apply_sort()

    @on(DataTable.HeaderSelected, "#documents")
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        index = [key for key, _ in COLUMNS].index(str(event.column_key.value))
        if index == self._sort_column:
            self._sort_reverse = not self._sort_reverse
        else:
            self._sort_column, self._sort_reverse = index, False
        self._apply_sort()

    @on(DataTable.RowSelected, "#documents")
    def _open_document(self, event: DataTable.RowSelected) -> None:
        self.app.open_article(str(event.row_key.value))

    # Search ---------------------------------------------------------------------------------
    def action_focus_search(self) -> None:
        self.set_focus(self.query_one("#search", Input))  # at once: typing follows right away

    def action_focus_results(self) -> None:
        """From the search box, down goes to the hits (or the documents)."""
        hits = self.query_one("#hits", OptionList)
        self.set_focus(hits if hits.display else self.query_one("#documents"))

    def action_clear_search(self) -> None:
        search = self.query_one("#search", Input)
        search.value = ""
        self._show_results(None)
        self.query_one("#documents").focus()

    @on(Input.Changed, "#search")
    def _query_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value.strip()
        if self._search_timer is not None:
            self._search_timer.stop()
        if not self.query_text:
            self.workers.cancel_group(self, "search")
            self._show_results(None)
            return
        self._search_timer = self.set_timer(SEARCH_DELAY, lambda: self._search(self.query_text))

    @on(Input.Submitted, "#search")
    def _query_submitted(self, event: Input.Submitted) -> None:
        hits = self.query_one("#hits", OptionList)
        if self.hits:
            self._open_hit(hits.highlighted or 0)
        elif self.query_text:
            self._search(self.query_text)

    def _search(self, query: str) -> None:
        self._search_timer = None
        self._search_worker(query)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search_worker(self, query: str) -> None:
        from reader.core.search import search

        try:
            result = search(self.app.workspace, query, limit=50)
        except ReaderError as exc:
            self.post_message(SearchFinished(query, None, str(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(SearchFinished(query, result))

    def on_search_finished(self, message: SearchFinished) -> None:
        if message.query != self.query_text:
            return  # a newer query is on its way
        self._show_results(message)

    def _show_results(self, message: SearchFinished | None) -> None:
        hits = self.query_one("#hits", OptionList)
        table = self.query_one("#documents", DataTable)
        facets = self.query_one("#facets", Static)
        if message is None:
            self.hits = []
            hits.clear_options()
            hits.display = False
            table.display = True
            facets.update("")
            return
        table.display = False
        hits.display = True
        result = message.result
        line = Text()
        if result is None:
            self.hits = []
            hits.clear_options()
            line.append(message.error or "no result", style="bold")
            facets.update(line)
            return
        self.hits = list(result.hits)
        hits.clear_options()
        hits.add_options(Option(hit_prompt(hit), id=str(i)) for i, hit in enumerate(self.hits))
        if self.hits:
            hits.highlighted = 0
        line.append(f"{result.total} hit{'s' if result.total != 1 else ''}", style="bold")
        for name, values in sorted((result.facets or {}).items()):
            parts = " ".join(f"{value} {count}" for value, count in sorted(values.items()))
            line.append(f"  {name}: {parts}")
        if result.error:
            line.append(f"  ({result.error})", style="italic")
        facets.update(line)

    @on(OptionList.OptionSelected, "#hits")
    def _hit_selected(self, event: OptionList.OptionSelected) -> None:
        self._open_hit(event.option_index)

    def _open_hit(self, index: int) -> None:
        if not 0 <= index < len(self.hits):
            return
        hit = self.hits[index]
        at = None
        for snippet in hit.snippets:
            if snippet.highlights:
                at = snippet.highlights[0][0]
                break
            at = snippet.start
        self.app.open_article(hit.id, query=self.query_text, at=at)

    def action_quit(self) -> None:
        self.app.exit(0)
