"""Large documents in the app: drawn lazily, a chunk at a time, and read off the UI thread.

The documents are built in memory (tests/tui/large_docs.py) so that these tests check the view;
the times are measured in bench/tui.py (`measure_large`).
"""

from __future__ import annotations

import threading

import large_docs
import pytest
from textual.widgets import Static
from tui_helpers import settle

from reader.core.documents import corpus_of
from reader.core.workspace import Workspace
from reader.tui.screens.article import LOAD_IN_WORKER, ArticleScreen
from reader.tui.screens.library import LibraryScreen
from reader.tui.widgets.article_view import CHUNK, HARD_CUT, ArticleView

SIZE = (120, 40)


def _built(view: ArticleView) -> int:
    return sum(block is not None for block in view._blocks)


async def _open(app, pilot, doc) -> ArticleView:
    corpus_of(app.workspace).load = lambda doc_id: doc
    app.open_article(doc.id)
    await pilot.pause()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, ArticleScreen) and screen.doc is doc
    return screen.view


def _screen_text(view: ArticleView) -> str:
    return "\n".join(view.render_line(y).text for y in range(view.size.height))


async def test_ten_megabytes_wraps_only_what_is_shown(make_app) -> None:
    doc = large_docs.ten_megabytes()
    assert len(doc.text) >= 10_000_000
    app = make_app(index_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        view = await _open(app, pilot, doc)
        assert len(view._chunks) == len(doc.paragraphs) == 20_000
        assert 0 < _built(view) <= 40  # a screenful, not 20,000 paragraphs
        assert view.virtual_size.height > 20_000 * 3  # estimated heights give the scrollbar
        await pilot.press("G")
        last = doc.sentences[-1]
        assert view.cursor == last.index
        assert doc.text[last.start : last.end][:40] in _screen_text(view).replace("\n", " ")
        assert _built(view) <= 80
        await pilot.press("g", "pagedown", "j")
        assert view.cursor > 0 and view.scroll_y > 0
        assert _built(view) <= 120


@pytest.mark.parametrize("spaces", [True, False])
async def test_five_megabyte_line_is_cut_into_chunks(make_app, spaces: bool) -> None:
    doc = large_docs.single_line(spaces=spaces)
    app = make_app(index_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        view = await _open(app, pilot, doc)
        chunks = view._chunks
        longest = CHUNK if spaces else HARD_CUT
        assert len(chunks) >= 5_000_000 // longest
        assert all(chunks[i].end - chunks[i].start <= longest for i in range(len(chunks)))
        assert chunks[0].start == 0 and chunks[len(chunks) - 1].end == len(doc.text)
        assert _built(view) <= 5
        top = _screen_text(view)
        await pilot.press("pagedown")  # one sentence fills the document: the page scrolls
        assert view.scroll_y > 0
        assert _screen_text(view) != top
        assert _built(view) <= 10


async def test_many_lines_open_and_move(make_app) -> None:
    doc = large_docs.million_lines(200_000)
    app = make_app(index_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        view = await _open(app, pilot, doc)
        assert _built(view) <= 40
        await pilot.press("G")
        assert view.cursor == len(doc.sentences) - 1
        assert "Line 199999 of a long log." in _screen_text(view)
        await pilot.press("k", "pageup")
        assert view.cursor < len(doc.sentences) - 2
        assert _built(view) <= 100


async def test_a_large_file_is_read_in_a_worker(make_app, workspace: Workspace) -> None:
    big = workspace.corpus_root / "zz_big.txt"
    paragraph = "A sentence of a long article that goes on. " * 20
    big.write_text("A big file\n\n" + "\n\n".join([paragraph] * 800), encoding="utf-8")
    assert big.stat().st_size > LOAD_IN_WORKER
    release = threading.Event()
    load = corpus_of(workspace).load

    def slow_load(doc_id: str):
        release.wait(10)
        return load(doc_id)

    corpus_of(workspace).scan()
    app = make_app(index_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        corpus_of(workspace).load = slow_load
        app.open_article("zz_big.txt")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ArticleScreen) and screen.doc is None
        assert "Loading" in str(screen.query_one("#article-header", Static).render())
        await pilot.press("q")  # the keys still work while the file is read
        assert isinstance(app.screen, LibraryScreen)
        release.set()
        await settle(app, pilot)
        app.open_article("zz_big.txt")
        await settle(app, pilot)
        assert app.screen.doc is not None and app.screen.doc.id == "zz_big.txt"
        assert len(app.screen.view._chunks) >= 800
