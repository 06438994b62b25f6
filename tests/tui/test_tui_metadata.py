"""Pilot tests of the metadata editor (`m`): the same corrections as `reader docs set`."""

from __future__ import annotations

from textual.widgets import Input, Static
from tui_helpers import FR, doc_id, open_doc, settle

from reader.core.documents import corpus_of
from reader.core.documents.corrections import Corrections
from reader.tui.screens.article import ArticleScreen
from reader.tui.screens.metadata import MetadataScreen


def header_text(screen: ArticleScreen) -> str:
    header = screen.query_one("#article-header", Static).render()
    meta = screen.query_one("#article-meta", Static).render()
    return f"{header}\n{meta}"


async def test_article_editor_corrects_language_site_and_url(make_app, workspace) -> None:
    app = make_app(index_on_start=False)
    target = doc_id(workspace, FR)
    async with app.run_test(size=(100, 34)) as pilot:
        screen = await open_doc(app, pilot, target)
        assert "no outlet" in header_text(screen)
        await pilot.press("m")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, MetadataScreen)
        assert dialog.query_one("#metadata-lang", Input).value == "fr"
        await pilot.press("backspace", "backspace", "i", "t")
        dialog.query_one("#metadata-site", Input).focus()
        await pilot.press(*"Corriere")
        dialog.query_one("#metadata-url", Input).focus()
        await pilot.press(*"https://corriere.example/x")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is screen
        text = header_text(screen)
        assert "Corriere · it ·" in text and "https://corriere.example/x" in text
        assert screen.doc.lang == "it"
    assert Corrections.of(workspace).get(target) == {
        "lang": "it",
        "site": "Corriere",
        "url": "https://corriere.example/x",
    }
    assert corpus_of(workspace).info(target).lang == "it"


async def test_bad_value_keeps_the_dialog_open_and_saves_nothing(make_app, workspace) -> None:
    app = make_app(index_on_start=False)
    target = doc_id(workspace, FR)
    async with app.run_test(size=(100, 34)) as pilot:
        await open_doc(app, pilot, target)
        await pilot.press("m")
        await pilot.pause()
        dialog = app.screen
        dialog.query_one("#metadata-date", Input).focus()
        await pilot.press("end", "x")  # "2025-11-01x"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is dialog
        error = str(dialog.query_one("#metadata-error", Static).render())
        assert "not a date" in error
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ArticleScreen)
    assert Corrections.of(workspace).get(target) == {}


async def test_library_editor_corrects_the_highlighted_document(make_app, workspace) -> None:
    from reader.tui.screens.library import LibraryScreen
    from reader.tui.widgets.document_table import DocumentTable

    app = make_app(index_on_start=False)
    async with app.run_test(size=(100, 34)) as pilot:
        await settle(app, pilot)
        library = app.screen
        assert isinstance(library, LibraryScreen)
        table = library.query_one("#documents", DocumentTable)
        table.focus()
        target = table.cursor_id
        await pilot.press("m")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, MetadataScreen) and dialog.doc_id == target
        title = dialog.query_one("#metadata-title", Input)
        title.focus()
        title.value = ""
        await pilot.press(*"Corrected title")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.screen is library
        assert table.get_row(target)[0].plain == "Corrected title"
    assert corpus_of(workspace).info(target).title == "Corrected title"
