"""Pilot tests of the library: the catalog first, the index worker, sorting, search, open."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable, Input, OptionList, Static
from tui_helpers import DE, doc_id, settle

from reader.core.workspace import Workspace
from reader.tui.screens.article import ArticleScreen
from reader.tui.screens.library import LibraryScreen


def _titles(table: DataTable) -> list[str]:
    return [str(row.key.value) for row in table.ordered_rows]


async def test_library_lists_catalog_before_indexing(make_app, workspace: Workspace) -> None:
    workspace.corpus.scan()
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#documents", DataTable)
        assert table.row_count == 4
        assert not workspace.index_dir.exists()  # nothing indexed: the list came from the catalog
        row = table.get_row(doc_id(workspace, DE))
        assert isinstance(row[0], Text) and "Rückerstattungsvorwürfe" in row[0].plain
        assert row[1] == "de"


async def test_first_start_indexes_in_a_worker(make_app, workspace: Workspace) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("#documents", DataTable)
        assert table.row_count == 4
        assert workspace.index_dir.exists()
        assert app.screen.query_one("#index-status").display is False


async def test_sort_cycles_columns(make_app, workspace: Workspace) -> None:
    workspace.corpus.scan()
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#documents", DataTable)
        by_title = sorted(workspace.corpus.infos(), key=lambda i: i.title.casefold())
        assert _titles(table) == [i.id for i in by_title]
        await pilot.press("s")  # -> language
        by_lang = sorted(workspace.corpus.infos(), key=lambda i: i.lang)
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
    app = ReaderApp(Workspace.open(sys.argv[1]))
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
