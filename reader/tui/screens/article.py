"""The article screen: the text with a passage cursor, tagging keys and the translation pane."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Label, ProgressBar, Static
from textual.worker import Worker, WorkerState, get_current_worker

from reader.core.display import printable
from reader.core.documents import corpus_of
from reader.core.errors import ReaderError
from reader.core.tags.model import CLAIM, KINDS
from reader.core.tags.store import DuplicateTagError, StoreUnavailableError
from reader.tui.messages import InstallProgress, TagsChanged, TranslationStatus, TranslationUpdate
from reader.tui.screens import tagkeys
from reader.tui.screens.team import NOT_SAVED
from reader.tui.widgets.article_view import ArticleView
from reader.tui.workers import ShowsWorkerErrors

if TYPE_CHECKING:
    from reader.core.documents.model import Document
    from reader.tui.app import ReaderApp

WIDE = 120  # columns from which the translation sits beside the text
UPDATE_EVERY = 0.1  # seconds between translation updates sent by the worker
LOAD_IN_WORKER = 512 * 1024  # bytes from which a file is read in a worker


def _b(key: str, action: str, description: str, id: str, show: bool = True, **kw: Any) -> Binding:
    return Binding(key, action, description, show=show, id=f"article.{id}", **kw)


class ArticleScreen(ShowsWorkerErrors, Screen):
    """One document, read sentence by sentence."""

    app: ReaderApp

    BINDINGS = [  # noqa: RUF012
        _b("j,down", "move(1)", "Next", "next_sentence", False),
        _b("k,up", "move(-1)", "Previous", "previous_sentence", False),
        _b("J,right_curly_bracket", "paragraph(1)", "Next paragraph", "next_paragraph", False),
        _b(
            "K,left_curly_bracket",
            "paragraph(-1)",
            "Previous paragraph",
            "previous_paragraph",
            False,
        ),
        _b("g,home", "top", "Top", "top", False),
        _b("G,end", "bottom", "Bottom", "bottom", False),
        _b("pagedown,space", "page(1)", "Page down", "page_down", False),
        _b("pageup", "page(-1)", "Page up", "page_up", False),
        _b("v", "select", "Select", "select", tooltip="Start or end a range of sentences"),
        _b("shift+down", "extend(1)", "Extend down", "extend_down", False),
        _b("shift+up", "extend(-1)", "Extend up", "extend_up", False),
        _b("escape", "clear_selection", "Clear selection", "clear_selection", False),
        *(
            _b(k.keys, f"tag('{k.name}')", k.label, k.name, tooltip=f"Tag as {k.name}")
            for k in KINDS
        ),
        _b("n", "note", "Note", "note", tooltip="Edit the note (next hit when no tag here)"),
        _b("l", "link", "Link", "link", False, tooltip="Link this tag to a claim"),
        *tagkeys.bindings("article", show=False),  # the footer is full: listed by ?
        _b("d", "delete", "Delete", "delete", False, tooltip="Delete the tag under the cursor"),
        _b("u", "undo", "Undo", "undo", False),
        _b("ctrl+r", "redo", "Redo", "redo", False),
        _b("right_square_bracket", "hit(1)", "Next hit", "next_hit", False),
        _b("N,left_square_bracket", "hit(-1)", "Previous hit", "previous_hit", False),
        _b("t", "toggle_translation", "Translation", "translation"),
        _b("T", "switch_layout", "Layout", "layout", False, tooltip="Beside or under the text"),
        _b("tab", "pane_focus", "Pane focus", "pane_focus", False, tooltip="Cursor in text/pane"),
        _b("i", "install_model", "Install model", "install_model", False),
        _b("m", "edit_metadata", "Metadata", "metadata", False, tooltip="Correct the metadata"),
        _b("q", "back", "Back", "back", priority=True),  # keys typed next reach the library
    ]

    def __init__(self, doc_id: str, *, query: str | None = None, at: int | None = None) -> None:
        super().__init__()
        self.doc_id = doc_id
        self.query_text = query or ""
        self.at = at
        self.doc: Document | None = None
        self.layout_override: str | None = None
        self.missing_model: tuple[str, str] | None = None
        self.translation_state = "idle"
        self._reconciled = False

    @property
    def view(self) -> ArticleView:
        return self.query_one(ArticleView)

    def compose(self) -> ComposeResult:
        yield Static(id="article-header", classes="title-bar")
        yield Static(id="article-meta")
        with Horizontal(id="translation-status"):
            yield Label(id="translation-label")
            yield ProgressBar(id="translation-progress", show_eta=False)
        yield ArticleView(id="article")
        yield Static(id="article-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#translation-progress").display = False
        try:
            size = (self.app.workspace.corpus_root / self.doc_id).stat().st_size
        except OSError:
            size = 0
        if size > LOAD_IN_WORKER:  # reading a large file must not block the keys
            self.query_one("#article-header", Static).update(Text(" Loading…", style="bold"))
            self._load_worker()
            return
        try:
            doc = corpus_of(self.app.workspace).load(self.doc_id)
        except ReaderError as exc:
            self._load_failed(str(exc))
            return
        self._show(doc)

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _load_worker(self) -> None:
        try:
            doc = corpus_of(self.app.workspace).load(self.doc_id)
        except ReaderError as exc:
            self.app.call_from_thread(self._load_failed, str(exc))
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, doc)

    def _load_failed(self, error: str) -> None:
        self.app.notify(printable(error), severity="error")
        if self.app.screen is self:
            self.app.pop_screen()

    def _show(self, doc: Document) -> None:
        self.doc = doc
        self._show_header(doc)
        hits = self._match(doc)
        self.view.load(doc, annotations=self._annotations(), hits=hits, at=self.at)
        self.view.focus()
        self._apply_layout()
        if self.app.show_translation:
            self.start_translation()
        self._update_status()

    def _show_header(self, doc: Document) -> None:
        """Title, then outlet, language, date, author, id and the source URL (the citation)."""
        header = Text()
        header.append(f" {printable(doc.title)} ", style="bold")
        self.query_one("#article-header", Static).update(header)
        lang = f"{doc.lang}?" if doc.info.lang_uncertain else doc.lang
        parts = [doc.site or "no outlet", lang, doc.date or "no date", doc.author or "no author"]
        meta = Text(" " + " · ".join(printable(p) for p in [*parts, doc.id]))
        meta.append(f" · {len(doc.paragraphs)} paragraphs, {len(doc.sentences)} sentences")
        if doc.url:
            meta.append("\n ")
            meta.append(printable(doc.url), style=Style(underline=True, link=printable(doc.url)))
        self.query_one("#article-meta", Static).update(meta)

    def action_edit_metadata(self) -> None:
        """Correct this document's language, title, date, URL, outlet or author."""
        from reader.tui.screens.metadata import MetadataScreen

        def done(doc: Document | None) -> None:
            if doc is None:
                return
            old = self.view.doc
            at = old.sentences[self.view.cursor].start if old and old.sentences else None
            self.doc = doc
            self._show_header(doc)
            self.view.load(doc, annotations=self._annotations(), hits=self._match(doc), at=at)
            if self.app.show_translation:  # the language may have changed
                self.start_translation()
            self.app.notify(f"Corrected {printable(doc.id)}")

        self.app.push_screen(MetadataScreen(self.doc_id), done)

    def _match(self, doc: Document) -> list[tuple[int, int]]:
        if not self.query_text:
            return []
        from reader.core.search import match_spans

        try:
            return list(match_spans(self.query_text, doc))
        except ReaderError:
            return []

    def _annotations(self) -> list[Any]:
        if self.doc is not None and not self._reconciled:
            self._reconciled = True
            self.app.store.reconcile_doc(self.doc)  # re-anchor if the text changed
        return list(self.app.store.for_doc(self.doc_id))

    # Status ---------------------------------------------------------------------------------
    def _update_status(self) -> None:
        view = self.view
        sentence = view.current()
        status = Text(" ")
        if sentence is not None and self.doc is not None:
            status.append(f"¶ {sentence.paragraph + 1}/{len(self.doc.paragraphs)}")
            status.append(f" · sentence {sentence.index + 1}/{len(self.doc.sentences)}")
        if view.anchor is not None:
            first, last = view.selected_range()
            status.append(f" · selected {last - first + 1}", style="bold")
            if view.selecting:
                status.append(" (v ends)")
        if view.hits:
            shown = view.hit_index + 1 if view.hit_index >= 0 else "-"
            status.append(f" · hit {shown}/{len(view.hits)} (n/N)")
        here = self._tag_here()
        if here is not None:
            status.append(f" · {here.tag}", style="bold")
            status.append_text(tagkeys.badges(here))
            if here.note:
                status.append(f": {printable(here.note.splitlines()[0][:40])}")
            if here.links:
                status.append(f" · {len(here.links)} link(s)")
        if view.pane_focus:
            status.append(" · cursor in translation")
        self.query_one("#article-status", Static).update(status)

    def on_article_view_cursor_moved(self, message: ArticleView.CursorMoved) -> None:
        self._update_status()

    # Movement -------------------------------------------------------------------------------
    def action_move(self, delta: int) -> None:
        self.view.move(delta)

    def action_extend(self, delta: int) -> None:
        self.view.move(delta, extend=True)

    def action_paragraph(self, delta: int) -> None:
        self.view.move_paragraph(delta)

    def action_top(self) -> None:
        self.view.move_to(0)

    def action_bottom(self) -> None:
        self.view.move_to(self.view.sentence_count - 1)

    def action_page(self, direction: int) -> None:
        self.view.page(direction)

    def action_select(self) -> None:
        self.view.toggle_selection()

    def action_clear_selection(self) -> None:
        self.view.clear_selection()

    def action_hit(self, direction: int) -> None:
        if not self.view.hits:
            self.app.notify("No search hits in this article", severity="warning")
            return
        self.view.next_hit(direction)
        self._update_status()

    # Tags -----------------------------------------------------------------------------------
    def _tag_here(self) -> Any | None:
        """The innermost tag covering the cursor sentence's start, or None."""
        sentence = self.view.current()
        if sentence is None:
            return None
        covering = [
            a
            for a in self.view.annotations
            if a.status != "orphaned" and a.start <= sentence.start < a.end
        ]
        return min(covering, key=lambda a: a.end - a.start) if covering else None

    def _reload_tags(self) -> None:
        self.view.set_annotations(self._annotations())
        self._update_status()

    def on_tags_changed(self, message: TagsChanged) -> None:
        """A teammate changed tags of this document (team mode): show them."""
        if self.doc is not None and message.touches(self.doc_id):
            self._reload_tags()

    def action_tag(self, tag: str) -> None:
        span = self.view.selection_span()
        if span is None or self.doc is None:
            return
        try:
            self.app.store.add(self.doc, span[0], span[1], tag)
        except DuplicateTagError:  # the service's rule, the same for every entry point
            self.app.notify(f"Already tagged as {tag}", timeout=2)
            return
        except ReaderError as exc:
            self.app.notify(str(exc), severity="error")
            return
        self.view.selecting = False
        self.view.clear_selection()
        self._reload_tags()
        self.app.notify(f"Tagged as {tag}", timeout=2)

    def action_note(self) -> None:
        here = self._tag_here()
        if here is None:
            if self.view.hits:
                self.action_hit(1)
            else:
                self.app.notify(
                    "No tag under the cursor: tag it first (c, r, x)", severity="warning"
                )
            return
        from reader.tui.screens.modals import NoteScreen

        def save(note: str | None) -> None:
            if note is None:
                return
            try:  # not over a change made since the tag was read
                self.app.store.edit(here.id, note=note, expected_version=here.version)
            except StoreUnavailableError as exc:  # kept for a retry, not lost
                self.app.notify(str(exc), severity="error")
                self.app.push_screen(NoteScreen(note, title=NOT_SAVED), save)
                return
            except ReaderError as exc:
                self.app.notify(str(exc), severity="error")
                self._reload_tags()
                return
            self._reload_tags()
            self.app.notify("Note saved", timeout=2)

        self.app.push_screen(NoteScreen(here.note, title=f"Note on this {here.tag}"), save)

    def action_link(self) -> None:
        here = self._tag_here()
        store = self.app.store
        if here is None:
            self.app.notify("No tag under the cursor to link", severity="warning")
            return
        from reader.tui.screens.modals import LinkScreen

        claims = [a for a in store.list(tag=CLAIM) if a.id != here.id]
        if not claims:
            self.app.notify("No claims to link to yet", severity="warning")
            return
        titles = {info.id: info.title for info in corpus_of(self.app.workspace).infos()}

        def done(target: str | None) -> None:
            if target is None:
                return
            try:
                store.link(here.id, target)
            except ReaderError as exc:
                self.app.notify(str(exc), severity="error")
                return
            self._reload_tags()
            self.app.notify("Linked", timeout=2)

        self.app.push_screen(LinkScreen(claims, titles, linked=here.links), done)

    def _tag_or_warn(self) -> Any | None:
        here = self._tag_here()
        if here is None:
            self.app.notify("No tag under the cursor: tag it first (c, r, x)", severity="warning")
        return here

    def action_verdict(self) -> None:
        here = self._tag_or_warn()
        if here is not None:
            tagkeys.choose_verdict(self, here, self._reload_tags)

    def action_labels(self) -> None:
        here = self._tag_or_warn()
        if here is not None:
            tagkeys.edit_labels(self, here, self._reload_tags)

    def action_cite(self) -> None:
        here = self._tag_or_warn()
        if here is not None:
            tagkeys.copy_citation(self, here)

    def action_delete(self) -> None:
        here = self._tag_here()
        if here is None:
            self.app.notify("No tag under the cursor", severity="warning")
            return
        try:
            removal = self.app.store.remove(here.id, expected_version=here.version)
        except ReaderError as exc:
            self.app.notify(str(exc), severity="error")
            self._reload_tags()
            return
        self._reload_tags()
        broken = len(removal.broken_links)
        links = f"; {broken} link{'s' if broken != 1 else ''} to it broke" if broken else ""
        self.app.notify(f"Deleted the {here.tag}{links} (u undoes)", timeout=3)

    def action_undo(self) -> None:
        try:
            self.app.notify(self.app.store.undo() or "Nothing to undo", timeout=2)
        except ReaderError as exc:
            self.app.notify(str(exc), severity="error")
        self._reload_tags()

    def action_redo(self) -> None:
        try:
            self.app.notify(self.app.store.redo() or "Nothing to redo", timeout=2)
        except ReaderError as exc:
            self.app.notify(str(exc), severity="error")
        self._reload_tags()

    # Translation ----------------------------------------------------------------------------
    def _layout(self) -> str:
        if self.layout_override:
            return self.layout_override
        return "side" if self.app.size.width >= WIDE else "inline"

    def _apply_layout(self) -> None:
        shown = self.app.show_translation
        untranslatable = self.translation_state in ("same", "missing", "offline", "error")
        self.view.configure(
            pane=shown, side=self._layout() == "side", untranslatable=untranslatable
        )
        self.query_one("#translation-status").display = shown

    def on_resize(self) -> None:
        if self.doc is not None:
            self._apply_layout()

    def action_toggle_translation(self) -> None:
        self.app.show_translation = not self.app.show_translation
        self._apply_layout()
        if self.app.show_translation and self.translation_state in ("idle", "cancelled"):
            self.start_translation()
        elif not self.app.show_translation and self.translation_state == "running":
            self.workers.cancel_group(self, "translate")
            self.translation_state = "cancelled"

    def action_switch_layout(self) -> None:
        self.layout_override = "inline" if self._layout() == "side" else "side"
        if not self.app.show_translation:
            self.action_toggle_translation()
        else:
            self._apply_layout()

    def action_pane_focus(self) -> None:
        if not self.app.show_translation:
            self.app.notify("The translation pane is hidden (t shows it)", severity="warning")
            return
        self.view.set_pane_focus(not self.view.pane_focus)
        self._update_status()

    def _set_translation_label(self, text: str, kind: str) -> None:
        label = self.query_one("#translation-label", Label)
        label.update(Text(text))
        for name in ("ready", "same", "missing", "error", "offline", "running"):
            label.set_class(name == kind, f"-{name}")

    def start_translation(self) -> None:
        if self.doc is None:
            return
        self.translation_state = "running"
        self._apply_layout()
        self._set_translation_label("Translating…", "running")
        bar = self.query_one("#translation-progress", ProgressBar)
        bar.update(total=max(1, len(self.doc.paragraphs)), progress=0)
        bar.display = True
        current = self.view.current()
        self._translate_worker(self.doc, current.paragraph if current else 0)

    @work(thread=True, exclusive=True, group="translate", exit_on_error=False)
    def _translate_worker(self, doc: Document, first: int = 0) -> None:
        """Cached sentences first (at once), then the rest, paragraph by paragraph."""
        worker = get_current_worker()
        ws = self.app.workspace
        from reader.core.translation.service import (
            ModelMissing,
            SameLanguage,
            cached_translation,
            language_name,
            translate_document,
        )

        target = ws.target_lang
        names = f"{language_name(doc.lang)} → {language_name(target)}"
        try:
            cached = cached_translation(ws, doc)
            total = len(cached.paragraphs)
            complete = sum(
                all(s.translation is not None for s in p.sentences) for p in cached.paragraphs
            )
            self.post_message(TranslationUpdate(doc.id, cached.paragraphs, complete, total))
            if complete < total and not worker.is_cancelled:
                pending: list[Any] = []
                last = [time.monotonic()]

                def on_paragraph(paragraph: Any, done: int, total: int) -> None:
                    # Fast models finish many paragraphs per frame: send them in batches.
                    pending.append(paragraph)
                    now = time.monotonic()
                    if now - last[0] >= UPDATE_EVERY or done == total:
                        self.post_message(TranslationUpdate(doc.id, pending[:], done, total))
                        pending.clear()
                        last[0] = now

                translate_document(  # the paragraph under the cursor first
                    ws,
                    doc,
                    on_paragraph=on_paragraph,
                    cancelled=lambda: worker.is_cancelled,
                    first=first,
                )
        except SameLanguage:
            text = f"This article is in {language_name(doc.lang)}: no translation needed."
            self.post_message(TranslationStatus(doc.id, "same", text))
            return
        except ModelMissing as exc:
            text = (
                f"No {language_name(exc.from_code)} → {language_name(exc.to_code)} model "
                "installed. Press i to install it, or run "
                "`reader models install FILE.argosmodel`."
            )
            model = (exc.from_code, exc.to_code)
            self.post_message(TranslationStatus(doc.id, "missing", text, model))
            return
        except ReaderError as exc:
            self.post_message(TranslationStatus(doc.id, "error", str(exc)))
            return
        if not worker.is_cancelled:
            self.post_message(TranslationStatus(doc.id, "ready", f"Translation {names}"))

    def on_translation_update(self, message: TranslationUpdate) -> None:
        if message.doc_id != self.doc_id:
            return
        self.view.set_translation(message.paragraphs)
        bar = self.query_one("#translation-progress", ProgressBar)
        bar.update(total=max(1, message.total), progress=message.done)
        self._set_translation_label(f"Translating {message.done}/{message.total}", "running")

    def on_translation_status(self, message: TranslationStatus) -> None:
        if message.doc_id != self.doc_id:
            return
        self.translation_state = message.kind
        self._apply_layout()
        self.missing_model = message.model if message.kind == "missing" else None
        self.query_one("#translation-progress").display = False
        self._set_translation_label(message.text, message.kind)

    def action_install_model(self) -> None:
        if self.missing_model is None:
            self.app.notify("No model is missing for this article", severity="warning")
            return
        from_code, to_code = self.missing_model
        self._set_translation_label(f"Installing the {from_code} → {to_code} model…", "running")
        bar = self.query_one("#translation-progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        self._install_worker(from_code, to_code)

    @work(thread=True, exclusive=True, group="install", exit_on_error=False)
    def _install_worker(self, from_code: str, to_code: str) -> None:
        from reader.core.translation.models import OfflineError, install_model

        def progress(done: int, total: int) -> None:
            self.post_message(InstallProgress(done, total))

        try:
            install_model(self.app.workspace, from_code, to_code, progress=progress)
        except OfflineError as exc:
            self.post_message(TranslationStatus(self.doc_id, "offline", str(exc)))
            return
        except ReaderError as exc:
            self.post_message(TranslationStatus(self.doc_id, "error", str(exc)))
            return
        self.app.call_from_thread(self.start_translation)

    def on_install_progress(self, message: InstallProgress) -> None:
        bar = self.query_one("#translation-progress", ProgressBar)
        bar.update(total=max(1, message.total), progress=message.done)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group in ("translate", "install"):
            self.translation_state = "error"
            self.query_one("#translation-progress").display = False
            self._set_translation_label(f"Translation failed: {event.worker.error}", "error")
        # ShowsWorkerErrors shows the notification

    # Leaving --------------------------------------------------------------------------------
    def cancel_work(self) -> None:
        self.workers.cancel_group(self, "translate")
        self.workers.cancel_group(self, "load")

    def on_unmount(self) -> None:
        self.cancel_work()

    def action_back(self) -> None:
        self.cancel_work()
        self.app.pop_screen()
