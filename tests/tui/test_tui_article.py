"""Pilot tests of the article screen: the passage cursor, selection, help, palette, 80×24."""

from __future__ import annotations

from textual.widgets import DataTable
from tui_helpers import DE, FR, doc_id, open_doc

from reader.core.workspace import Workspace
from reader.tui.screens.article import ArticleScreen
from reader.tui.screens.help import HelpScreen
from reader.tui.screens.library import LibraryScreen


async def test_cursor_moves_by_sentence_paragraph_and_page(make_app, workspace) -> None:
    app = make_app(index_on_start=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_doc(app, pilot, doc_id(workspace, DE))
        assert isinstance(screen, ArticleScreen)
        view = screen.view
        doc = screen.doc
        assert view.cursor == 0
        await pilot.press("j")
        assert view.cursor == 1
        await pilot.press("down", "down")
        assert view.cursor == 3
        await pilot.press("k", "up")
        assert view.cursor == 1
        paragraph = doc.sentences[1].paragraph
        await pilot.press("J")
        assert view.cursor == doc.paragraphs[paragraph + 1].sentences[0].index
        await pilot.press("right_curly_bracket")
        assert view.current().paragraph == paragraph + 2
        await pilot.press("left_curly_bracket")
        assert view.current().paragraph == paragraph + 1
        await pilot.press("G")
        assert view.cursor == len(doc.sentences) - 1
        assert view.scroll_y > 0  # the view followed the cursor
        await pilot.press("g")
        assert view.cursor == 0 and view.scroll_y == 0
        await pilot.press("pagedown")
        assert view.cursor > 0 and view.scroll_y > 0
        await pilot.press("pageup")
        assert view.cursor == 0
        status = str(screen.query_one("#article-status").render())
        assert f"sentence 1/{len(doc.sentences)}" in status


async def test_selection_with_v_and_shift_arrows(make_app, workspace) -> None:
    app = make_app(index_on_start=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_doc(app, pilot, doc_id(workspace, DE))
        view, doc = screen.view, screen.doc
        await pilot.press("v", "j", "j")
        assert view.selected_range() == (0, 2)
        assert view.selection_span() == (doc.sentences[0].start, doc.sentences[2].end)
        await pilot.press("v")  # ends the range; it stays selected
        assert view.selection_span() == (doc.sentences[0].start, doc.sentences[2].end)
        await pilot.press("j")  # a plain move drops a finished range
        assert view.anchor is None and view.selected_range() == (3, 3)
        await pilot.press("shift+down", "shift+down")
        assert view.selected_range() == (3, 5)
        await pilot.press("shift+up")
        assert view.selected_range() == (3, 4)
        await pilot.press("escape")
        assert view.anchor is None


async def test_mouse_click_and_drag_select_sentences(make_app, workspace) -> None:
    app = make_app(index_on_start=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_doc(app, pilot, doc_id(workspace, DE))
        view = screen.view
        top = view.paragraph_line(1)  # the first body paragraph, several sentences
        await pilot.click(view, offset=(5, top))
        assert view.cursor == row_first(screen, 1)
        # drag from the first line to the last line of that paragraph
        last_line = view.paragraph_line(2) - 2
        await pilot.mouse_down(view, offset=(5, top))
        await pilot.mouse_up(view, offset=(8, last_line))
        first, last = view.selected_range()
        assert first == row_first(screen, 1)
        assert last == screen.doc.paragraphs[1].sentences[-1].index and last > first


def row_first(screen: ArticleScreen, paragraph: int) -> int:
    return screen.doc.paragraphs[paragraph].sentences[0].index


async def test_help_lists_keys_with_ids(make_app, workspace) -> None:
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_doc(app, pilot, doc_id(workspace, FR))
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        ids = {str(table.get_row_at(i)[2]) for i in range(table.row_count)}
        assert {"article.claim", "article.note", "article.translation", "app.tags"} <= ids
        keys = {str(table.get_row_at(i)[0]) for i in range(table.row_count)}
        assert any("c" in k.split(", ") for k in keys)
        await pilot.press("escape")
        assert isinstance(app.screen, ArticleScreen)


async def test_palette_offers_every_action(make_app, workspace) -> None:
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_doc(app, pilot, doc_id(workspace, FR))
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Claim", "Rebuttal", "Context", "Note", "Link", "Delete", "Undo"} <= titles
        assert {"Translation", "Tags", "Export tags", "Help", "Quit"} <= titles
        await pilot.press("q")
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Search", "Sort", "Tags", "Export tags"} <= titles


async def test_keymap_from_settings_remaps_a_binding(make_app, workspace: Workspace) -> None:
    workspace.set_setting("keymap", {"article.next_sentence": "ctrl+j"})
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_doc(app, pilot, doc_id(workspace, DE))
        await pilot.press("ctrl+j")
        assert screen.view.cursor == 1


async def test_small_terminal_80x24(make_app, workspace) -> None:
    app = make_app(index_on_start=False)
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, LibraryScreen)
        screen = await open_doc(app, pilot, doc_id(workspace, FR))
        await pilot.press("t")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.view.has_class("-inline") and not screen.view.has_class("-side")
        await pilot.press("G")
        assert screen.view.cursor == len(screen.doc.sentences) - 1
        await pilot.press("T")
        assert screen.view.has_class("-side")
