"""ReaderApp: wiring, app-wide bindings, the command palette; `run(workspace)` starts it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from contextlib import suppress
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from reader.core.display import printable
from reader.core.errors import ReaderError
from reader.core.workspace import Workspace
from reader.tui.messages import CoreNotice, CorpusChanged, TagsChanged, TagServerState
from reader.tui.workers import NoFileno, show_worker_error

if TYPE_CHECKING:
    from reader.core.tags import TagService
    from reader.core.tags.postgres import TagListener


WATCH_DEBOUNCE = 300  # ms of quiet after a change before the watcher indexes it


def _corpus_file(root: Path, data_dir: Path, change: Any, path: str) -> bool:
    """Whether a changed path can be a document: inside the corpus, not in the data folder,
    not hidden (editors' swap files), a known format or a folder."""
    from reader.core.documents.ingest import FORMATS

    here = Path(path)
    if here == data_dir or data_dir in here.parents:
        return False
    try:
        parts = here.relative_to(root).parts
    except ValueError:
        return False
    if any(part.startswith(".") for part in parts):
        return False
    return not here.suffix or here.suffix.lower() in FORMATS


def _index_changes(ws: Workspace, paths: list[str]) -> CorpusChanged:
    """Index these changed paths (worker thread); what changed, as a message for the UI."""
    from reader.core.documents import corpus_of
    from reader.core.search import IndexLocked, update_paths

    root = ws.corpus_root
    names = [printable(str(Path(p).relative_to(root))) for p in paths]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    try:
        stats = update_paths(ws, paths)
    except IndexLocked as exc:
        return CorpusChanged([], [], [], printable(str(exc)), "warning")
    except ReaderError as exc:
        return CorpusChanged([], [], [], printable(str(exc)), "error")
    corpus = corpus_of(ws)
    scan = corpus.last_scan
    ids = list(scan.changed) if scan else []
    removed = list(scan.removed) if scan else []
    infos = [info for info in (corpus.info(i) for i in ids) if info is not None]
    changed = stats.added + stats.updated + stats.removed
    notice = None
    if changed:
        notice = f"Indexed {changed} changed file{'s' if changed != 1 else ''}: {shown}"
    elif stats.notice:
        notice = printable(stats.notice)
    return CorpusChanged(ids, removed, infos, notice)


class _CoreNotices(logging.Handler):
    """The core's warnings as notifications while the app runs: the CLI prints them on stderr,
    which inside the app is not the terminal (they were lost)."""

    def __init__(self, app: App) -> None:
        super().__init__(logging.WARNING)
        self.app = app

    def emit(self, record: logging.LogRecord) -> None:
        self.app.post_message(CoreNotice(record.getMessage()))  # (from any thread)


class ReaderApp(App[int]):
    """The keyboard-first reader. Screens call `reader.core`; long work runs in workers."""

    CSS_PATH = "reader.tcss"
    TITLE = "source-reader"
    BINDINGS = [  # noqa: RUF012 (Textual's convention)
        Binding("question_mark", "help", "Help", id="app.help", tooltip="Every key of this screen"),
        Binding("f3", "tags", "Tags", id="app.tags", tooltip="Every tag in the corpus"),
        Binding("f4", "story_map", "Story map", id="app.story_map", tooltip="Claims and answers"),
        Binding("e", "export", "Export", id="app.export", tooltip="Export the tags to a file"),
    ]

    def __init__(
        self, workspace: Workspace, *, index_on_start: bool = True, watch: bool = True
    ) -> None:
        super().__init__()
        self.workspace = workspace
        self.index_on_start = index_on_start
        self.watch_folder = watch
        # Set once the folder watcher is live (at once without one): the first index scans
        # after it, so a file added between that scan and the watcher's start is not missed.
        self.watch_ready = threading.Event()
        if not watch:
            self.watch_ready.set()
        self.show_translation = False
        self._store: TagService | None = None
        self._listener: TagListener | None = None
        self._listener_started = False
        self.store_offline: str | None = None  # why the shared store could not be opened
        self._capture_stdout = NoFileno(self._capture_stdout)  # worker processes can start
        self._capture_stderr = NoFileno(self._capture_stderr)

    # Core objects -------------------------------------------------------------------------
    @property
    def store(self) -> TagService:
        """The workspace's tag store, opened on first use (UI thread only). A shared store that
        cannot be reached opens its last local copy read-only and offers the choices."""
        if self._store is None:
            from reader.core.errors import ReaderError
            from reader.core.tags import open_tag_store, unavailable
            from reader.core.tags.store import StoreUnavailableError

            try:
                self._store = open_tag_store(self.workspace)
            except StoreUnavailableError as exc:
                from reader.core.tags.copy import open_last_copy

                self.store_offline = str(exc)
                self._store = open_last_copy(self.workspace)
                self.call_later(self._offer_offline)
            except ReaderError as exc:  # e.g. a damaged store: documents stay readable
                self._store = unavailable(self.workspace, exc)
                self.notify(str(exc), title="Tags unavailable", severity="error", timeout=30)
            else:
                self._start_team_mode(self._store)
        return self._store

    # Team mode (a shared PostgreSQL store) ------------------------------------------------
    def _start_team_mode(self, service: TagService) -> None:
        """Listen for teammates' changes (a thread posting TagsChanged) and keep a local copy."""
        from reader.core.tags.postgres import PostgresTagStore, TagListener

        store = service.store
        if not isinstance(store, PostgresTagStore):
            return
        self._listener = TagListener(
            store.url,
            store.corpus,
            lambda change: self.post_message(TagsChanged(change.doc_ids, change.author)),
            skip_session=service.session,
            on_state=lambda connected: self.post_message(TagServerState(connected)),
        ).start()
        self._listener_started = True
        self.run_worker(self._save_last_copy, thread=True, group="tags-copy", exclusive=True)

    def _save_last_copy(self) -> None:
        from reader.core.tags.copy import save_last_copy
        from reader.core.tags.store import StoreUnavailableError

        if self._store is not None:
            with suppress(StoreUnavailableError, OSError):
                save_last_copy(self.workspace, self._store)

    def _offer_offline(self) -> None:
        from reader.tui.screens.team import OfflineScreen

        self.push_screen(OfflineScreen(self.store_offline or ""), self._offline_choice)

    def _offline_choice(self, choice: str | None) -> None:
        from reader.core.tags import open_tag_store
        from reader.core.tags.store import StoreUnavailableError

        if choice == "quit":
            self.exit(1)
            return
        if choice in ("retry", "local"):
            url = str(self.workspace.annotations_path) if choice == "local" else None
            try:
                opened = open_tag_store(self.workspace, url)
            except StoreUnavailableError as exc:
                self.store_offline = str(exc)
                self.call_later(self._offer_offline)
                return
            if self._store is not None:
                self._store.close()
            if self._listener is not None:
                self._listener.stop()
                self._listener, self._listener_started = None, False
            self._store = opened
            self.store_offline = None
            self._start_team_mode(opened)
            self.on_tags_changed(TagsChanged())
        if self._store is not None:
            mode = " (read-only)" if self._store.readonly else ""
            self.notify(f"Tags from {self._store.location}{mode}", timeout=4)

    def on_tags_changed(self, message: TagsChanged) -> None:
        """A teammate changed tags: every open screen that shows tags refreshes."""
        for screen in self.screen_stack:
            screen.post_message(TagsChanged(message.doc_ids, message.author))
        if message.author:
            self.notify(f"{message.author} changed tags", timeout=2)

    def on_tag_server_state(self, message: TagServerState) -> None:
        if message.connected:
            self.notify("Connected to the tag server again", timeout=3)
            self.on_tags_changed(TagsChanged())  # what was missed while away
        else:
            self.notify(
                "Lost the tag server: changes cannot be saved until it is back; retrying",
                severity="warning",
                timeout=6,
            )

    def tag_counts(self) -> dict[str, dict[str, int]]:
        """Tags per document, by kind."""
        return self.store.doc_tag_counts()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Notifications carry data (file names, quotes, errors): no markup unless asked for,
        and control characters escaped (an already escaped message stays as it is)."""
        message, title = printable(message, keep="\n\t"), printable(title)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def get_default_screen(self) -> Screen:
        from reader.tui.screens.library import LibraryScreen

        return LibraryScreen()

    def on_load(self) -> None:
        self._core_notices = _CoreNotices(self)
        logging.getLogger("reader").addHandler(self._core_notices)

    def on_core_notice(self, message: CoreNotice) -> None:
        self.notify(message.text, severity="warning", timeout=10)

    def on_mount(self) -> None:
        for problem in self.workspace.settings.problems:
            self.notify(problem, title="Settings", severity="warning", timeout=10)
        keymap = self.workspace.setting("keymap")
        if isinstance(keymap, dict):
            self.set_keymap({str(k): str(v) for k, v in keymap.items()})
        theme = self.workspace.setting("theme")
        if isinstance(theme, str) and theme in self.available_themes:
            self.theme = theme
        elif theme is not None:
            self.notify(
                f"theme {theme!r} is not a theme of this app; using {self.theme!r} "
                "(ctrl+p, then Theme, lists them)",
                title="Settings",
                severity="warning",
                timeout=10,
            )
        self.theme_changed_signal.subscribe(self, self._save_theme)
        if self.watch_folder:
            self._watch_worker()

    # The folder watcher ---------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="watch", exit_on_error=False)
    def _watch_worker(self) -> None:
        """Index files added, edited or removed in the corpus folder as they change (within
        WATCH_DEBOUNCE of the last change), until the app exits."""
        from watchfiles import watch

        ws = self.workspace
        stop = get_current_worker().cancelled_event
        root = ws.corpus_root
        try:
            for changes in watch(
                root,
                watch_filter=partial(_corpus_file, root, ws.data_dir),
                stop_event=stop,
                debounce=WATCH_DEBOUNCE,
                step=50,
                rust_timeout=200,
                yield_on_timeout=True,  # an empty set every 200 ms: the watcher is live
                raise_interrupt=False,
            ):
                self.watch_ready.set()
                if stop.is_set():
                    return
                if changes:
                    self.post_message(_index_changes(ws, sorted({path for _, path in changes})))
        finally:
            self.watch_ready.set()  # a watcher that failed must not hold the first index

    def on_corpus_changed(self, message: CorpusChanged) -> None:
        from reader.tui.screens.library import LibraryScreen

        if message.notice:
            self.notify(message.notice, severity=message.severity, timeout=4)  # type: ignore[arg-type]
        library = self.screen_stack[0] if self.screen_stack else None
        if isinstance(library, LibraryScreen):
            library.corpus_changed(message)

    def _save_theme(self, theme: Any) -> None:
        if self.workspace.setting("theme") != theme.name:
            self.workspace.set_setting("theme", theme.name)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place where an unexpected worker failure is shown (the app keeps running)."""
        if event.state == WorkerState.ERROR:
            show_worker_error(self, event.worker)

    def on_unmount(self) -> None:
        logging.getLogger("reader").removeHandler(self._core_notices)
        self.workers.cancel_group(self, "watch")  # the watcher's stop event
        if self._listener is not None:
            self._listener.stop()
        if self._store is not None:
            if self._listener_started:
                self._save_last_copy()
            self._store.close()
            self._store = None

    # App-wide actions ---------------------------------------------------------------------
    def action_help(self) -> None:
        from reader.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_tags(self) -> None:
        from reader.tui.screens.tags import TagsScreen

        if not isinstance(self.screen, TagsScreen):
            self.push_screen(TagsScreen())

    def action_story_map(self) -> None:
        from reader.tui.screens.storymap import StoryMapScreen

        if not isinstance(self.screen, StoryMapScreen):
            self.push_screen(StoryMapScreen())

    def action_export(self) -> None:
        from reader.tui.screens.modals import ExportScreen

        if not isinstance(self.screen, ExportScreen):
            self.push_screen(ExportScreen(self.workspace))

    def action_import_tags(self) -> None:
        """Import tags from a file (as `reader import`); the screens then show them."""
        from reader.core.display import printable
        from reader.tui.screens.importing import ImportScreen

        def done(line: str | None) -> None:
            if line is None:
                return
            self.notify(printable(line))
            self.on_tags_changed(TagsChanged())

        self.push_screen(ImportScreen(), done)

    def open_article(self, doc_id: str, *, query: str | None = None, at: int | None = None) -> None:
        """Open a document on a new article screen, at offset `at`, highlighting `query`."""
        from reader.tui.screens.article import ArticleScreen

        self.push_screen(ArticleScreen(doc_id, query=query, at=at))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every action: the app's, then each key of the screen the palette was opened on."""
        yield SystemCommand("Help", "Every key of this screen (?)", self.action_help)
        yield SystemCommand("Tags", "Every tag in the corpus (F3)", self.action_tags)
        yield SystemCommand(
            "Story map",
            "Every claim with its rebuttals and context, across languages (F4)",
            self.action_story_map,
        )
        yield SystemCommand(
            "Export tags",
            "md, memo, csv, json, jsonl, w3c, qdpx, claimreview (e)",
            self.action_export,
        )
        yield SystemCommand(
            "Import tags", "json, jsonl, w3c or qdpx; one undo (u)", self.action_import_tags
        )
        from reader.tui.screens.help import ordered_bindings

        seen = {"help", "tags", "story_map", "export", "import_tags", "command_palette"}
        for key, binding in ordered_bindings(screen):  # the app's own actions first
            name = binding.id or binding.action
            if binding.action in seen or name in seen or not binding.description:
                continue
            seen.update((binding.action, name))
            yield SystemCommand(
                binding.description,
                f"{binding.tooltip or binding.description} ({key})",
                partial(self._run_screen_action, screen, binding.action),
            )
        yield from super().get_system_commands(screen)

    async def _run_screen_action(self, screen: Screen, action: str) -> None:
        await screen.run_action(action)


def run(workspace: Workspace, **options: Any) -> int:
    """Run the app on a workspace until the user quits; return the exit code."""
    result = ReaderApp(workspace, **options).run()
    return int(result or 0)
