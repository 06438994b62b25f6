"""Pilot tests of the library: the catalog first, the index worker, sorting, search, open."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import App
from textual.widgets import Input, OptionList, Static
from tui_helpers import DE, doc_id, settle

from reader.core.documents import corpus_of
from reader.core.workspace import Workspace
from reader.tui.screens.article import ArticleScreen
from reader.tui.screens.library import LibraryScreen
from reader.tui.widgets.document_table import DocumentTable


def _titles(table: DocumentTable) -> list[str]:
    return table.ids


async def test_library_lists_catalog_before_indexing(make_app, workspace: Workspace) -> None:
    corpus_of(workspace).scan()
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#documents", DocumentTable)
        assert table.row_count == 4
        assert not workspace.index_dir.exists()  # nothing indexed: the list came from the catalog
        row = table.get_row(doc_id(workspace, DE))
        assert isinstance(row[0], Text) and "Rückerstattungsvorwürfe" in row[0].plain
        assert row[1] == "de"


async def test_first_start_indexes_in_a_worker(make_app, workspace: Workspace) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("#documents", DocumentTable)
        assert table.row_count == 4
        assert workspace.index_dir.exists()
        assert app.screen.query_one("#index-status").display is False


async def test_sort_cycles_columns(make_app, workspace: Workspace) -> None:
    corpus_of(workspace).scan()
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#documents", DocumentTable)
        by_title = sorted(corpus_of(workspace).infos(), key=lambda i: i.title.casefold())
        assert _titles(table) == [i.id for i in by_title]
        await pilot.press("s")  # -> language
        by_lang = sorted(corpus_of(workspace).infos(), key=lambda i: i.lang)
        assert [table.get_row(k)[1] for k in _titles(table)] == [i.lang for i in by_lang]
        await pilot.press("S")
        assert [table.get_row(k)[1] for k in _titles(table)] == [i.lang for i in by_lang][::-1]


async def test_markup_in_titles_is_shown_literally(make_app, corpus_dir) -> None:
    (corpus_dir / "zz_inject.txt").write_text(
        "[bold red]INJECT[/]\n\nA body with [link=x]markup[/link] in it.\n", encoding="utf-8"
    )
    ws = Workspace.open(corpus_dir)
    app = make_app()
    app.workspace = ws
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        svg = app.export_screenshot()
        assert "[bold&#160;red]INJECT[/]" in svg or "[bold red]INJECT[/]" in svg
        app.open_article("zz_inject.txt")
        await pilot.pause()
        await pilot.pause()
        header = app.screen.query_one("#article-header", Static)
        assert "[bold red]INJECT[/]" in str(header.render())
        svg = app.export_screenshot()
        assert "[link=x]markup[/link]" in svg.replace("&#160;", " ")


async def test_search_then_open_with_hits_highlighted(make_app, workspace: Workspace) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"Rückerstattung")
        await settle(app, pilot, delay=0.4)
        screen = app.screen
        assert isinstance(screen, LibraryScreen)
        hits = screen.query_one("#hits", OptionList)
        assert hits.display and hits.option_count >= 1
        assert screen.hits[0].id == doc_id(workspace, DE)
        assert "de 1" in str(screen.query_one("#facets", Static).render())
        await pilot.press("down")  # from the search box to the hits
        assert app.focused is hits and hits.highlighted == 0
        await pilot.press("enter")
        await pilot.pause()
        article = app.screen
        assert isinstance(article, ArticleScreen)
        assert article.doc_id == doc_id(workspace, DE)
        view = article.view
        assert len(view.hits) >= 2
        doc = article.doc
        assert all("rückerstattung" in doc.text[s:e].casefold() for s, e in view.hits)
        sentence = view.current()
        first_hit = view.hits[view.hit_index]
        assert sentence.start <= first_hit[0] < sentence.end
        # the hit is styled in the rendered paragraph
        rendered = view.paragraph_text(sentence.paragraph)
        hit_style = view.get_component_rich_style("article--hit", partial=True)
        assert hit_style.underline
        hit = next(s for s in rendered.spans if s.style == hit_style)
        assert rendered.plain[hit.start : hit.end].casefold() == "rückerstattung"
        await pilot.press("n")  # no tag here: next hit
        assert view.hit_index == 1
        second = view.current()
        assert second.start <= view.hits[1][0] < second.end
        await pilot.press("N")
        assert view.hit_index == 0
        await pilot.press("q")
        assert isinstance(app.screen, LibraryScreen)
        await pilot.press("escape")
        assert screen.query_one("#search", Input).value == ""
        assert screen.query_one("#documents").display
        assert not screen.query_one("#hits").display


async def test_q_quits_from_library(make_app) -> None:
    app = make_app(index_on_start=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_value == 0


def test_start_up_imports_no_translation_backend(corpus_dir) -> None:
    """Starting the app and indexing must not import argostranslate or ctranslate2."""
    import subprocess
    import sys

    script = """
import asyncio, sys
from reader.core.workspace import Workspace
from reader.tui.app import ReaderApp

async def main():
    app = ReaderApp(Workspace.open(sys.argv[1]), watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(2):  # the index worker starts after the first refresh
            await app.workers.wait_for_complete()
            await pilot.pause()
        assert app.screen.query_one("#documents").row_count == 4
    print(sorted(m for m in ("argostranslate", "ctranslate2", "sentencepiece") if m in sys.modules))

asyncio.run(main())
"""
    done = subprocess.run(
        [sys.executable, "-c", script, str(corpus_dir)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def _burst(app, keys: str) -> None:
    """Post keys at once, as a paste or a fast typist delivers them (no pause between)."""
    names = {"/": "slash", " ": "space"}
    for char in keys:
        app.post_message(events.Key(names.get(char, char), char))


async def test_slash_and_a_word_in_one_burst(make_app, workspace: Workspace) -> None:
    corpus_of(workspace).scan()
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        _burst(app, "/oil")
        await pilot.pause()
        await pilot.pause()
        search = app.screen.query_one("#search", Input)
        assert search.value == "oil"
        _burst(app, "/x")  # inside the box, `/` is typed like any key
        await pilot.pause()
        assert search.value == "oil/x"


async def test_keys_typed_while_returning_from_an_article(make_app, workspace: Workspace) -> None:
    corpus_of(workspace).scan()
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.open_article(doc_id(workspace, DE))
        await pilot.pause()
        assert isinstance(app.screen, ArticleScreen)
        _burst(app, "q/tesla")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, LibraryScreen)
        assert app.screen.query_one("#search", Input).value == "tesla"


async def test_paste_into_the_library_searches(make_app, workspace: Workspace) -> None:
    corpus_of(workspace).scan()
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.post_message(events.Paste("/oil"))
        await pilot.pause()
        search = app.screen.query_one("#search", Input)
        assert app.focused is search and search.value == "oil"


async def test_back_to_library_repaints_only_changed_rows(make_app, workspace: Workspace) -> None:
    corpus_of(workspace).scan()
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        library = app.screen
        table = library.query_one("#documents", DocumentTable)
        doc = corpus_of(workspace).load(doc_id(workspace, DE))
        app.store.add(doc, doc.sentences[0].start, doc.sentences[0].end, "claim")
        changed: list[list[str]] = []
        original = table.update_counts
        table.update_counts = lambda counts: changed.append(original(counts)) or changed[-1]
        app.open_article(doc.id)
        await pilot.pause()
        await pilot.press("q")
        await pilot.pause()
        assert app.screen is library
        assert changed == [[doc.id]]
        assert [str(c) for c in table.get_row(doc.id)[3:]] == ["1", "0", "0"]


async def test_hit_list_says_what_it_shows_and_loads_more(
    make_app, workspace: Workspace, monkeypatch
) -> None:
    from reader.tui.screens import library
    from reader.tui.widgets import hit_list

    monkeypatch.setattr(library, "PAGE", 2)
    monkeypatch.setattr(hit_list, "MORE_WITHIN", 0)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"tesla")
        await settle(app, pilot, delay=0.2)
        screen = app.screen
        facets = str(screen.query_one("#facets", Static).render())
        total = screen.total
        assert total >= 3
        assert f"showing 2 of {total}" in facets
        hits = screen.query_one("#hits", OptionList)
        await pilot.press("down")
        assert app.focused is hits
        for _ in range(total):
            await pilot.press("end")
            await settle(app, pilot)
        assert hits.option_count == total == len(screen.hits)
        assert len({hit.id for hit in screen.hits}) == total
        assert "showing" not in str(screen.query_one("#facets", Static).render())


async def test_rows_appear_while_the_first_index_runs(
    make_app, workspace: Workspace, monkeypatch
) -> None:
    from reader.tui.screens import library

    monkeypatch.setattr(library, "ROWS_EVERY", 0.0)
    seen: list[tuple[bool, int]] = []
    original = DocumentTable.add_documents

    def spy(table: DocumentTable, infos) -> int:
        added = original(table, infos)
        seen.append((table.screen.indexing is not None, table.row_count))
        return added

    monkeypatch.setattr(DocumentTable, "add_documents", spy)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one("#documents", DocumentTable)
        assert table.row_count == 0  # a first run: no catalog yet
        await settle(app, pilot)
        assert seen and all(indexing for indexing, _ in seen)  # rows came during the index
        assert seen[0][1] >= 1
        assert table.row_count == 4


async def test_search_header_while_indexing_and_rerun_after(make_app, workspace: Workspace) -> None:
    from reader.tui.messages import IndexFinished, IndexProgress

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("slash", *"tesla")
        await settle(app, pilot, delay=0.2)
        facets = screen.query_one("#facets", Static)
        screen.post_message(IndexProgress(1, 4))
        await pilot.pause()
        assert "indexing 1/4 — results may be incomplete" in str(facets.render())
        searches: list[str] = []
        original = screen._search
        screen._search = lambda query, offset=0: (searches.append(query), original(query, offset))
        screen.post_message(IndexFinished(corpus_of(workspace).infos(), None))
        await settle(app, pilot)
        assert searches == ["tesla"]
        assert "indexing" not in str(facets.render())
        assert "4 hits" in str(facets.render())


async def test_did_you_mean_is_shown(make_app, workspace: Workspace) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"Rückerstatung")
        await settle(app, pilot, delay=0.2)
        result = app.screen._last_result.result
        assert result.did_you_mean
        facets = str(app.screen.query_one("#facets", Static).render())
        assert f"did you mean {result.did_you_mean}?" in facets


async def _until(pilot, ready, what: str, timeout: float = 15.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


async def test_watcher_indexes_new_and_edited_files(make_app, workspace: Workspace) -> None:
    from reader.core.search import search

    notices: list[str] = []
    app = make_app(watch=True)
    original = app.notify
    app.notify = lambda message, **kw: (notices.append(message), original(message, **kw))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("#documents", DocumentTable)
        assert table.row_count == 4
        new = workspace.corpus_root / "zz_new.txt"
        new.write_text("Walrus sightings\n\nA walrus was seen near the harbour.\n", "utf-8")
        await _until(pilot, lambda: table.row_count == 5, "the new file's row")
        assert search(workspace, "walrus", limit=5).total == 1
        assert any("zz_new.txt" in notice for notice in notices)
        new.write_text("Narwhal sightings\n\nA narwhal was seen near the harbour.\n", "utf-8")

        def retitled() -> bool:
            return "zz_new.txt" in table.ids and "Narwhal" in table.get_row("zz_new.txt")[0].plain

        await _until(pilot, retitled, "the edited file's title")
        assert search(workspace, "narwhal", limit=5).total == 1
        new.unlink()
        await _until(pilot, lambda: table.row_count == 4, "the removed file's row to go")
        (workspace.data_dir / "ignored.txt").write_text("not a document\n", "utf-8")
        await pilot.pause(0.8)
        assert table.row_count == 4
    watchers = [w for w in app.workers if w.group == "watch"]
    assert all(w.is_finished for w in watchers)


async def test_first_index_scans_only_once_the_watcher_is_live(
    make_app, monkeypatch, workspace: Workspace
) -> None:
    """A file added between the first scan and the watcher's start would be missed until a
    restart: the first index waits for the watcher to be live."""
    import threading

    import reader.core.search as search_api
    from reader.tui.app import ReaderApp

    events_seen: list[str] = []
    real_update = search_api.update_index

    def update_index(*args, **kwargs):
        events_seen.append("index")
        return real_update(*args, **kwargs)

    def slow_watcher(app: ReaderApp) -> None:  # a watcher that takes 1 s to start
        def live() -> None:
            events_seen.append("watcher live")
            app.watch_ready.set()

        threading.Timer(1.0, live).start()

    monkeypatch.setattr(search_api, "update_index", update_index)
    monkeypatch.setattr(ReaderApp, "_watch_worker", slow_watcher)
    app = make_app(watch=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        assert events_seen[:2] == ["watcher live", "index"]
        assert app.screen.query_one("#documents", DocumentTable).row_count == 4


async def test_control_characters_never_reach_the_screen(make_app, corpus_dir) -> None:
    """OSC 0 (window title), OSC 52 (clipboard), CSI and bidi controls in a file name and a
    title are shown escaped in the list, the hits, the article header and notifications."""
    name = "zz_\x1b]0;pwned\x07\u202e.txt"
    (corpus_dir / name).write_text(
        "Walrus \x1b]52;c;SGVsbG8=\x07 \x1b[31mred\u2066\n\nA walrus story about the harbour.\n",
        encoding="utf-8",
    )
    ws = Workspace.open(corpus_dir)
    app = make_app()
    app.workspace = ws
    notices: list[str] = []
    original = App.notify

    def spy(self, message, **kw):
        notices.append(message)
        return original(self, message, **kw)

    async with app.run_test(size=(120, 40)) as pilot:
        App.notify = spy
        try:
            await settle(app, pilot)
            table = app.screen.query_one("#documents", DocumentTable)
            doc = next(info for info in table.rows if info.id.startswith("zz_"))
            shown = [str(cell) for cell in table.get_row(doc.id)]
            lines = [table.render_line(y).text for y in range(table.size.height)]
            await pilot.press("slash", *"walrus")
            await settle(app, pilot, delay=0.2)
            hits = app.screen.query_one("#hits", OptionList)
            prompt = hits.get_option_at_index(0).prompt
            app.open_article(doc.id)
            await pilot.pause()
            await pilot.pause()
            header = str(app.screen.query_one("#article-header", Static).render())
            meta = str(app.screen.query_one("#article-meta", Static).render())
            app.notify(f"opened {doc.id}")
        finally:
            App.notify = original
        for text in [*shown, *lines, str(prompt), header, meta, *notices]:
            assert not any(c in text for c in "\x1b\x07\u202e\u2066"), repr(text)
        assert "\\u2066" in shown[0]  # ingest drops the escapes; the bidi control is shown
        assert "\\x1b" in meta and "\\u202e" in meta  # the id, escaped
        assert any("\\x1b" in n for n in notices)


async def test_search_header_before_the_scan_knows_its_total(make_app, workspace: Workspace):
    """An update that has read nothing yet has no N/M: not "indexing 0/0"; no empty facet."""
    from reader.tui.messages import IndexProgress

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("slash", *"xqzzyv")
        await settle(app, pilot, delay=0.2)
        facets = screen.query_one("#facets", Static)
        assert str(facets.render()).strip() == "0 hits"
        screen.indexing = (0, 0)  # as action_reindex sets it, before any progress
        screen._show_facets(screen._last_result)
        assert str(facets.render()).startswith("indexing — results may be incomplete  0 hits")
        screen.post_message(IndexProgress(3, 7))
        await pilot.pause()
        assert str(facets.render()).startswith("indexing 3/7 — results may be incomplete")
        screen.post_message(IndexProgress(7, 7))  # every file read: the index is written out
        await pilot.pause()
        assert str(facets.render()).startswith("indexing 7/7, writing it out — results may")


async def test_a_wrapped_snippet_keeps_its_indent(make_app, workspace: Workspace) -> None:
    """A snippet longer than the hit list is wide wraps under itself, indented like its first
    line, not back to the title's column."""
    (workspace.corpus_root / "walrus.txt").write_text(
        "Walruses\n\n"
        + " ".join(
            f"On the ice floe number {k} the walrus colony rested for a long while before "
            "the tide turned and the hunters of the northern coast came back in their boats."
            for k in range(6)
        )
        + "\n",
        encoding="utf-8",
    )
    app = make_app()
    async with app.run_test(size=(70, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"walrus")
        await settle(app, pilot, delay=0.2)
        screen = app.screen
        assert [hit.id for hit in screen.hits] == ["walrus.txt"]
        hits = screen.query_one("#hits", OptionList)
        prompt = hits.get_option_at_index(0).prompt
        assert isinstance(prompt, Text) and prompt.plain.startswith("Walruses")
        rendered = [hits.render_line(y).text for y in range(hits.size.height)]
        top = next(y for y, line in enumerate(rendered) if "Walruses" in line)
        left = rendered[top].index("Walruses")
        snippets = [line[left:].rstrip() for line in rendered[top + 1 :]]
        snippets = snippets[: next((i for i, s in enumerate(snippets) if not s), len(snippets))]
        shown = [line.plain for line in prompt.split("\n")[1:]]
        assert len(snippets) > len(shown)  # at least one snippet wrapped
        assert all(line.startswith("  ") and line[2] != " " for line in snippets), snippets
        assert " ".join(" ".join(snippets).split()) == " ".join(" ".join(shown).split())
