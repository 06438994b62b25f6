"""The library: every document (sortable), the search box, live hits with snippets and facets."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Label, ProgressBar, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker

from reader.core.display import printable
from reader.core.documents import corpus_of
from reader.core.errors import ReaderError
from reader.tui.messages import (
    CorpusChanged,
    IndexFinished,
    IndexProgress,
    SearchFinished,
    TagsChanged,
)
from reader.tui.widgets.document_table import COLUMNS, DocumentTable
from reader.tui.widgets.hit_list import HangingText, HitList
from reader.tui.widgets.translate_all import TranslateAll
from reader.tui.widgets.via import cross_prompt, translated_queries
from reader.tui.workers import ShowsWorkerErrors

if TYPE_CHECKING:
    from reader.core.documents.model import DocumentInfo
    from reader.tui.app import ReaderApp

SEARCH_DELAY = 0.05  # seconds of quiet typing before a search runs
PAGE = 50  # hits fetched at a time; more follow on scroll or `end`
ROWS_EVERY = 0.5  # seconds between batches of new rows during a first index
INDEX_DELAY = 0.3  # seconds the index worker waits, so the first frame reaches the screen
WATCH_READY_WAIT = 3.0  # at most this long for the folder watcher to start before indexing


def _snippet_line(snippet: Any) -> Text:
    """A snippet on one line, its highlights in reverse bold; every piece escaped."""
    text, base = str(snippet.text), snippet.start
    line = Text()
    at = 0
    for start, end in snippet.highlights:
        start, end = max(start - base, at), min(end - base, len(text))
        if start >= end:
            continue
        line.append(printable(" ".join(text[at:start].split("\n"))))
        line.append(printable(text[start:end]), style="reverse bold")
        at = end
    line.append(printable(" ".join(text[at:].split("\n"))))
    return line


def hit_prompt(hit: Any) -> HangingText:
    """A hit as two or more lines: title and metadata, then snippets with highlighted terms,
    indented, and kept indented where a snippet wraps (`HangingText`)."""
    prompt = HangingText(no_wrap=False)
    prompt.append(printable(str(hit.title)), style="bold")
    prompt.append(f"  {printable(hit.lang)} · {printable(hit.date or 'no date')}", style="dim")
    for snippet in hit.snippets[:2]:
        prompt.append("\n  ")
        prompt.append_text(_snippet_line(snippet))
    return prompt


def _search_page(ws: Any, query: str, offset: int, limit: int, cross: bool = False) -> Any:
    """Hits `offset` to `offset + limit` of `query` (`cross`: in every language)."""
    from reader.core.search import search

    result = search(ws, query, limit=limit, offset=offset, cross=cross)
    if cross:
        from reader.tui.widgets.via import prepare

        prepare(result, query)  # the highlights of translated sentences, off the UI thread
    return result


class LibraryScreen(ShowsWorkerErrors, Screen):
    """The first screen: the document list, the search box and the hits."""

    app: ReaderApp

    BINDINGS = [  # noqa: RUF012
        # A priority binding runs as the key is read, so the keys typed right after it (a
        # paste, a fast typist, keys queued while the screen was busy) reach the search box.
        Binding(
            "slash",
            "focus_search",
            "Search",
            id="library.search",
            tooltip="Focus the search",
            priority=True,
        ),
        Binding("escape", "clear_search", "Clear", id="library.clear", tooltip="Clear the search"),
        Binding("down", "focus_results", "Results", id="library.results", show=False),
        Binding("s", "sort", "Sort", id="library.sort", tooltip="Sort by the next column"),
        Binding("S", "reverse_sort", "Reverse", id="library.reverse", show=False),
        Binding("ctrl+l", "reindex", "Reindex", id="library.reindex", show=False),
        Binding(
            "m",
            "edit_metadata",
            "Metadata",
            id="library.metadata",
            show=False,
            tooltip="Correct the metadata of the highlighted document",
        ),
        Binding(
            "ctrl+t",
            "toggle_cross",
            "Cross-language search",
            id="library.cross",
            show=False,
            tooltip="Search every language: translated queries and translated documents",
        ),
        Binding(
            "A",
            "translate_all",
            "Translate the corpus",
            id="library.translate_all",
            show=False,
            tooltip="Translate the corpus into the cache and index it (again: cancel)",
        ),
        Binding("q", "quit", "Quit", id="library.quit", tooltip="Quit the app"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.hits: list[Any] = []
        self.total = 0
        self.query_text = ""
        self.indexing: tuple[int, int] | None = None  # (done, total) while the worker runs
        self._sort_column = 0
        self._sort_reverse = False
        self._search_timer: Timer | None = None
        self._loading_more = False
        self._last_result: SearchFinished | None = None
        self.cross = False  # cross-language search (ctrl+t)
        self._missing_hint_shown = False  # the missing-model hint: once a session

    @property
    def infos(self) -> list[DocumentInfo]:
        return self.query_one("#documents", DocumentTable).rows

    def compose(self) -> ComposeResult:
        yield Static(id="library-title", classes="title-bar")
        yield Input(placeholder='Search: words, "a phrase", lang:de, prefix*  (/)', id="search")
        yield Static(id="facets")
        yield DocumentTable(id="documents")
        yield HitList(id="hits")
        yield TranslateAll(id="translate-all")
        with Horizontal(id="index-status"):
            yield Label("Indexing", id="index-label")
            yield ProgressBar(id="index-progress", show_eta=False)
        yield Footer()

    # Start-up: the catalog first, scanning and indexing afterwards in a worker -------------
    def on_mount(self) -> None:
        ws = self.app.workspace
        # The catalog lists the corpus without reading files; a first run has no catalog yet,
        # then rows appear as the worker's scan reads the files.
        first_run = not ws.catalog_path.exists() and self.app.index_on_start
        infos = [] if first_run else corpus_of(ws).infos()
        self._fill_table(infos)
        self.query_one("#hits").display = False
        self.query_one("#index-status").display = False
        self.query_one("#documents").focus()
        if self.app.index_on_start:
            self.call_after_refresh(self.action_reindex)

    def on_screen_resume(self) -> None:
        table = self.query_one("#documents", DocumentTable)
        if table.rows:
            table.update_counts(self.app.tag_counts())  # repaints only the rows that changed

    def on_tags_changed(self, message: TagsChanged) -> None:
        """A teammate's change (team mode): the counts follow."""
        if self.is_current:
            self.on_screen_resume()

    def corpus_changed(self, message: CorpusChanged) -> None:
        """The folder watcher indexed changed files: their rows, the count, the hits."""
        table = self.query_one("#documents", DocumentTable)
        changed = table.add_documents(message.infos) + table.remove_documents(message.removed)
        if changed or message.infos:
            self._update_title()
        if (message.ids or message.removed) and self.query_text:
            self._search(self.query_text)

    def action_reindex(self) -> None:
        self.query_one("#index-status").display = True
        self.query_one("#index-label", Label).update("Indexing")
        self.query_one("#index-progress", ProgressBar).update(total=None, progress=0)
        self.indexing = (0, 0)
        self._index_worker()

    @work(thread=True, exclusive=True, group="index", exit_on_error=False)
    def _index_worker(self) -> None:
        worker = get_current_worker()
        time.sleep(INDEX_DELAY)  # indexing holds the GIL for long stretches: paint first
        self.app.watch_ready.wait(WATCH_READY_WAIT)  # then scan: the watcher sees what follows
        if worker.is_cancelled:
            return
        ws = self.app.workspace
        known = {info.id for info in self.infos}
        last_rows = [time.monotonic()]

        def progress(done: int, total: int) -> None:
            infos = None
            now = time.monotonic()
            if now - last_rows[0] >= ROWS_EVERY or done == total:
                last_rows[0] = now
                # the documents the scan has read so far, from the catalog (this thread's
                # connection sees its own writes): new rows appear while indexing
                infos = [i for i in corpus_of(ws)._catalog_infos() if i.id not in known]
                known.update(i.id for i in infos)
            self.post_message(IndexProgress(done, total, infos))

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
            report = self.app.store.reconcile(corpus_of(ws))
        except ReaderError as exc:
            notice, severity = str(exc), "error"
            report = None
        if report is not None and report.orphaned and notice is None:
            notice = f"{len(report.orphaned)} tag(s) lost their passage (orphaned); see F3"
            severity = "warning"
        skipped = corpus_of(ws).last_scan.skipped if corpus_of(ws).last_scan else []
        if skipped and notice is None:
            notice = f"{len(skipped)} file(s) skipped; see `reader docs --skipped`"
            severity = "warning"
        self.post_message(IndexFinished(corpus_of(ws).infos(), notice, severity))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "index":
            self.query_one("#index-status").display = False
            self.indexing = None
        # ShowsWorkerErrors shows the notification

    def on_index_progress(self, message: IndexProgress) -> None:
        self.indexing = (message.done, message.total)
        bar = self.query_one("#index-progress", ProgressBar)
        bar.update(total=max(message.total, 1), progress=message.done)
        finishing = ", writing it out" if message.total and message.done >= message.total else ""
        self.query_one("#index-label", Label).update(
            f"Indexing {message.done}/{message.total}{finishing}"
        )
        if message.infos:
            table = self.query_one("#documents", DocumentTable)
            table.add_documents(message.infos)
            self._update_title()
        if self.query_text and self._last_result is not None:
            self._show_facets(self._last_result)

    def on_index_finished(self, message: IndexFinished) -> None:
        self.query_one("#index-status").display = False
        self.indexing = None
        table = self.query_one("#documents", DocumentTable)
        old = [(i.id, i.sha256, i.title) for i in sorted(table.rows, key=lambda i: i.id)]
        if old != [(i.id, i.sha256, i.title) for i in sorted(message.infos, key=lambda i: i.id)]:
            self._fill_table(message.infos)
        if message.notice:
            self.app.notify(printable(message.notice), severity=message.severity)  # type: ignore[arg-type]
        if self.query_text:
            self._search(self.query_text)  # the index is complete now

    # The document table ---------------------------------------------------------------------
    def _fill_table(self, infos: list[DocumentInfo]) -> None:
        table = self.query_one("#documents", DocumentTable)
        table.sort_column = COLUMNS[self._sort_column].key
        table.sort_reverse = self._sort_reverse
        table.set_documents(infos, self.app.tag_counts())
        self._update_title()

    def _update_title(self) -> None:
        ws = self.app.workspace
        title = Text()
        title.append(" source-reader ", style="bold")
        count = self.query_one("#documents", DocumentTable).row_count
        title.append(f" {printable(ws.corpus_root.name)} · {count} documents")
        label = COLUMNS[self._sort_column].label
        title.append(f" · sorted by {label.lower()}{' ↓' if self._sort_reverse else ''}", "dim")
        self.query_one("#library-title", Static).update(title)

    def _apply_sort(self) -> None:
        table = self.query_one("#documents", DocumentTable)
        table.sort(COLUMNS[self._sort_column].key, reverse=self._sort_reverse)
        self._update_title()

    def action_sort(self) -> None:
        self._sort_column = (self._sort_column + 1) % len(COLUMNS)
        self._sort_reverse = False
        self._apply_sort()

    def action_reverse_sort(self) -> None:
        self._sort_reverse = not self._sort_reverse
        self._apply_sort()

    @on(DocumentTable.HeaderSelected, "#documents")
    def _header_selected(self, event: DocumentTable.HeaderSelected) -> None:
        index = [column.key for column in COLUMNS].index(event.column)
        if index == self._sort_column:
            self._sort_reverse = not self._sort_reverse
        else:
            self._sort_column, self._sort_reverse = index, False
        self._apply_sort()

    @on(DocumentTable.RowSelected, "#documents")
    def _open_document(self, event: DocumentTable.RowSelected) -> None:
        self.app.open_article(event.doc_id)

    # Search ---------------------------------------------------------------------------------
    def action_focus_search(self) -> None:
        search = self.query_one("#search", Input)
        if self.focused is search:  # a priority binding: inside the box, `/` is just typed
            search.insert_text_at_cursor("/")
            return
        self.set_focus(search)  # at once: the keys queued behind this one go to the box

    def on_paste(self, event: events.Paste) -> None:
        """A paste outside the search box (e.g. `/oil`) goes into it."""
        search = self.query_one("#search", Input)
        if self.focused is search:
            return
        event.stop()
        text = " ".join(event.text.split())
        self.set_focus(search)
        search.insert_text_at_cursor(text.removeprefix("/"))

    def action_focus_results(self) -> None:
        """From the search box, down goes to the hits (or the documents)."""
        hits = self.query_one("#hits", HitList)
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
        hits = self.query_one("#hits", HitList)
        if self.hits:
            self._open_hit(hits.highlighted or 0)
        elif self.query_text:
            self._search(self.query_text)

    def _search(self, query: str, offset: int = 0) -> None:
        self._search_timer = None
        self._loading_more = offset > 0
        self._search_worker(query, offset)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search_worker(self, query: str, offset: int = 0) -> None:
        try:
            result = _search_page(self.app.workspace, query, offset, PAGE, self.cross)
        except ReaderError as exc:
            self.post_message(SearchFinished(query, None, str(exc), offset=offset))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(SearchFinished(query, result, offset=offset))

    def on_search_finished(self, message: SearchFinished) -> None:
        if message.query != self.query_text:
            return  # a newer query is on its way
        if message.result is not None and (message.result.queries is not None) != self.cross:
            return  # searched before cross-language search was switched
        self._missing_models_hint(message.result)
        if message.offset:
            self._loading_more = False
            if message.offset != len(self.hits) or message.result is None:
                return  # a stale page
            self._append_hits(message.result.hits)
            self._show_facets(self._last_result)
            return
        self._show_results(message)

    def _show_results(self, message: SearchFinished | None) -> None:
        hits = self.query_one("#hits", HitList)
        table = self.query_one("#documents", DocumentTable)
        facets = self.query_one("#facets", Static)
        self._last_result = message
        self._loading_more = False
        self.hits = []
        self.total = 0
        hits.clear_options()
        if message is None:
            hits.display = False
            table.display = True
            facets.update("")
            return
        table.display = False
        hits.display = True
        if message.result is not None:
            self.total = message.result.total
            self._append_hits(message.result.hits)
            if self.hits:
                hits.highlighted = 0
        self._show_facets(message)

    def _append_hits(self, new: list[Any]) -> None:
        first = len(self.hits)
        self.hits.extend(new)
        self.query_one("#hits", HitList).add_options(
            Option(self._prompt(hit), id=str(first + i)) for i, hit in enumerate(new)
        )

    def _show_facets(self, message: SearchFinished | None) -> None:
        """The line above the hits: counts, facets, what is shown, and why it may be partial."""
        if message is None:
            return
        line = Text()
        if self.indexing is not None:
            done, total = self.indexing
            counts = f" {done}/{total}" if total else ""  # (nothing read yet: no N/M to show)
            if total and done >= total:  # the segments are merged and committed now
                counts += ", writing it out"
            line.append(f"indexing{counts} — results may be incomplete  ", "italic")
        result = message.result
        if result is None:
            if self.indexing is None or not message.error:
                line.append(printable(message.error or "no result"), style="bold")
            self.query_one("#facets", Static).update(line)
            return
        line.append(f"{result.total} hit{'s' if result.total != 1 else ''}", style="bold")
        if len(self.hits) < result.total:
            line.append(f" · showing {len(self.hits)} of {result.total} (end for more)")
        for name, values in sorted((result.facets or {}).items()):
            if not values:
                continue
            parts = " ".join(f"{printable(str(v))} {c}" for v, c in sorted(values.items()))
            line.append(f"  {name}: {parts}")
        suggestion = result.did_you_mean
        if suggestion:
            line.append("  did you mean ", style="italic")
            line.append(printable(str(suggestion)), style="bold italic")
            line.append("?", style="italic")
        if result.error:
            line.append(f"  ({printable(result.error)})", style="italic")
        self.query_one("#facets", Static).update(line)

    @on(HitList.NeedMore, "#hits")
    def _more_hits(self, event: HitList.NeedMore) -> None:
        if self._loading_more or not self.query_text or len(self.hits) >= self.total:
            return
        self._search(self.query_text, offset=len(self.hits))

    @on(HitList.OptionSelected, "#hits")
    def _hit_selected(self, event: HitList.OptionSelected) -> None:
        self._open_hit(event.option_index)

    def action_edit_metadata(self) -> None:
        """Correct the language, title, date, URL, outlet or author of the highlighted
        document (the highlighted hit when the hits have the focus)."""
        from reader.tui.screens.metadata import MetadataScreen

        hits = self.query_one("#hits", HitList)
        table = self.query_one("#documents", DocumentTable)
        if self.focused is hits and self.hits:
            doc_id = self.hits[hits.highlighted or 0].id
        else:
            doc_id = table.cursor_id
        if doc_id is None:
            return

        def done(doc: Any) -> None:
            if doc is not None:
                table.add_documents([doc.info])
                self.app.notify(f"Corrected {printable(doc.id)}")

        self.app.push_screen(MetadataScreen(doc_id), done)

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
        self.app.open_article(hit.id, query=self._article_query(hit), at=at)

    # Cross-language search (issue 11) ---------------------------------------------------------
    def action_toggle_cross(self) -> None:
        """Search every language: the query translated into each corpus language a model
        reaches, and the documents' machine translations."""
        self.cross = not self.cross
        search = self.query_one("#search", Input)
        search.border_subtitle = "cross-language: on (ctrl+t)" if self.cross else ""
        self.app.notify(f"Cross-language search {'on' if self.cross else 'off'}", timeout=2)
        if self.query_text:
            self._search(self.query_text)

    def _prompt(self, hit: Any) -> Any:
        """A hit in the list; a cross-language one says how it matched."""
        head = hit_prompt(hit)
        if not hit.via:
            return head
        result = self._last_result.result if self._last_result is not None else None
        queries = getattr(result, "queries", None)
        return cross_prompt(hit, head, self.query_text, queries)

    def _article_query(self, hit: Any) -> str:
        """The words to highlight in a hit's article: for a cross-language hit, the query
        in the document's language when there is one."""
        via = hit.via or {}
        if via.get("field") == "query":
            return str(via["text"])
        if via.get("field") == "translation":
            result = self._last_result.result if self._last_result is not None else None
            return translated_queries(getattr(result, "queries", None)).get(
                hit.lang, self.query_text
            )
        return self.query_text

    def _missing_models_hint(self, result: Any) -> None:
        """The CLI's line naming the language pairs no model reaches: once a session."""
        if result is None or not result.missing_models or self._missing_hint_shown:
            return
        from reader.commands.search import missing_models_hint

        self._missing_hint_shown = True
        hint = missing_models_hint(self.app.workspace, result.missing_models)
        self.app.notify(printable(hint), title="Cross-language", severity="warning", timeout=10)

    def action_translate_all(self) -> None:
        """Translate the corpus into the cache (the target language setting) in a worker,
        then index the translations; pressed again, cancel."""
        self.query_one("#translate-all", TranslateAll).toggle()

    def on_translate_all_finished(self, message: TranslateAll.Finished) -> None:
        self.app.notify(message.notice, severity=message.severity, timeout=8)  # type: ignore[arg-type]
        if self.query_text and message.report is not None and message.report.updated:
            self._search(self.query_text)  # the new translations are searchable now

    def action_quit(self) -> None:
        self.app.exit(0)
