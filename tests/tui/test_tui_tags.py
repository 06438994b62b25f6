"""Pilot tests of tagging: keys, note, link, delete/undo/redo, the tags screen and export."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from textual.widgets import DataTable, Input, Select, TextArea
from tui_helpers import DE, EN, FR, doc_id, open_doc, settle

from reader.core.documents import corpus_of
from reader.core.tags import open_tag_store
from reader.core.workspace import Workspace
from reader.tui.screens.article import ArticleScreen
from reader.tui.screens.library import LibraryScreen
from reader.tui.screens.modals import ExportScreen, LinkScreen, NoteScreen
from reader.tui.screens.tags import TagsScreen


def stored(workspace: Workspace, **filters) -> list:
    store = open_tag_store(workspace)
    try:
        return store.list(**filters)
    finally:
        store.close()


async def test_tag_keys_store_tags_at_once(make_app, workspace: Workspace) -> None:
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_doc(app, pilot, doc_id(workspace, DE))
        doc, view = screen.doc, screen.view
        await pilot.press("j", "c")
        claims = stored(workspace, tag="claim")
        assert [(a.start, a.end) for a in claims] == [
            (doc.sentences[1].start, doc.sentences[1].end)
        ]
        assert claims[0].exact == doc.text[doc.sentences[1].start : doc.sentences[1].end]
        await pilot.press("j", "v", "j", "j", "2")  # a rebuttal over three sentences
        rebuttals = stored(workspace, tag="rebuttal")
        assert [(a.start, a.end) for a in rebuttals] == [
            (doc.sentences[2].start, doc.sentences[4].end)
        ]
        assert view.anchor is None  # tagging ends the selection
        await pilot.press("j", "x")
        assert len(stored(workspace, tag="context")) == 1
        await pilot.press("x")  # the same tag on the same passage twice is refused
        assert len(stored(workspace, tag="context")) == 1
        # the tagged passage is styled and marked in the margin
        paragraph = doc.sentences[1].paragraph
        assert view.marks_text(paragraph).plain.split("\n") == ["▌C", "▌R"]
        y = view.paragraph_line(paragraph) - round(view.scroll_y)  # painted in the margin
        assert view.render_line(y).text.startswith("▌C")
        assert view.get_component_rich_style("article--claim", partial=True).bgcolor is not None
        # the library shows the counts when we go back
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, LibraryScreen)
        row = app.screen.query_one("#documents").get_row(doc.id)
        assert [str(c) for c in row[3:]] == ["1", "1", "1"]


async def test_note_link_delete_undo_redo(make_app, workspace: Workspace) -> None:
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_doc(app, pilot, doc_id(workspace, FR))
        doc = screen.doc
        await pilot.press("c")  # a claim on sentence 0
        claim = stored(workspace, tag="claim")[0]
        await pilot.press("j", "r")  # a rebuttal on sentence 1
        rebuttal = stored(workspace, tag="rebuttal")[0]
        assert rebuttal.start == doc.sentences[1].start
        # note
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NoteScreen)
        assert app.screen.query_one(TextArea).has_focus
        await pilot.press(*"Musk denies it", "ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ArticleScreen)
        assert stored(workspace, tag="rebuttal")[0].note == "Musk denies it"
        # link to the claim through the picker
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, LinkScreen)
        assert [c.id for c in app.screen.shown] == [claim.id]
        await pilot.press(*"zzz-no-such")
        assert app.screen.shown == []
        app.screen.query_one(Input).value = ""
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert stored(workspace, tag="rebuttal")[0].links == (claim.id,)
        # delete, undo, redo
        await pilot.press("d")
        assert stored(workspace, tag="rebuttal") == []
        await pilot.press("u")
        restored = stored(workspace, tag="rebuttal")
        assert [a.id for a in restored] == [rebuttal.id]
        assert restored[0].note == "Musk denies it" and restored[0].links == (claim.id,)
        await pilot.press("ctrl+r")
        assert stored(workspace, tag="rebuttal") == []
        status = str(screen.query_one("#article-status").render())
        assert "rebuttal" not in status


def _tag_three(workspace: Workspace) -> dict[str, object]:
    store = open_tag_store(workspace)
    try:
        made = {}
        for prefix, tag in ((EN, "claim"), (FR, "rebuttal"), (DE, "claim")):
            doc = corpus_of(workspace).load(doc_id(workspace, prefix))
            sentence = doc.sentences[2]
            made[prefix] = store.add(doc, sentence.start, sentence.end, tag)
        return made
    finally:
        store.close()


async def test_tags_screen_filters_and_jumps(make_app, workspace: Workspace) -> None:
    made = _tag_three(workspace)
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TagsScreen)
        table = screen.query_one(DataTable)
        assert table.row_count == 3
        screen.query_one("#filter-tag", Select).value = "claim"
        await pilot.pause()
        assert table.row_count == 2
        assert {str(table.get_row_at(i)[0]) for i in range(2)} == {"claim"}
        screen.query_one("#filter-lang", Select).value = "de"
        await pilot.pause()
        assert table.row_count == 1
        assert str(table.get_row_at(0)[2]) == "de"
        screen.query_one("#filter-lang", Select).value = ""
        screen.query_one("#filter-tag", Select).value = ""
        screen.query_one("#filter-doc", Select).value = made[FR].doc_id
        await pilot.pause()
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == ["rebuttal"]
        screen.query_one("#filter-doc", Select).value = ""
        screen.query_one("#filter-status", Select).value = "orphaned"
        await pilot.pause()
        assert table.row_count == 0
        screen.query_one("#filter-status", Select).value = ""
        await pilot.pause()
        # delete with undo
        table.focus()
        table.move_cursor(row=0)
        first = screen.rows[0]
        await pilot.press("d")
        assert table.row_count == 2 and first.id not in {a.id for a in stored(workspace)}
        await pilot.press("u")
        assert table.row_count == 3 and first.id in {a.id for a in stored(workspace)}
        # jump to the German claim
        index = next(i for i, a in enumerate(screen.rows) if a.id == made[DE].id)
        table.move_cursor(row=index)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        article = app.screen
        assert isinstance(article, ArticleScreen)
        assert article.doc_id == made[DE].doc_id
        assert article.view.current().start == made[DE].start
        assert "claim" in str(article.query_one("#article-status").render())


async def test_tags_screen_shows_orphaned_quote(make_app, workspace: Workspace) -> None:
    made = _tag_three(workspace)
    path = workspace.corpus_root / made[EN].doc_id
    path.write_text("Something else entirely.\n\nNothing of the old text.\n", encoding="utf-8")
    app = make_app()  # the start-up scan finds the change and re-anchors the tags
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        assert [a.id for a in stored(workspace, status="orphaned")] == [made[EN].id]
        await pilot.press("f3")
        await pilot.pause()
        screen = app.screen
        screen.query_one("#filter-status", Select).value = "orphaned"
        await pilot.pause()
        table = screen.query_one(DataTable)
        assert table.row_count == 1
        assert made[EN].exact[:20] in str(table.get_row_at(0)[3])


async def test_export_modal_writes_a_file(make_app, workspace: Workspace) -> None:
    _tag_three(workspace)
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("e")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, ExportScreen)
        path_input = modal.query_one("#export-path", Input)
        assert path_input.value.startswith(str(workspace.exports_dir))
        modal.query_one("#export-format", Select).value = "json"
        await pilot.pause()
        assert path_input.value.endswith(".json")
        modal.query_one("#export-tag", Select).value = "claim"
        await pilot.pause()
        target = path_input.value
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, ExportScreen)
        data = json.loads(Path(target).read_text(encoding="utf-8"))
        text = json.dumps(data)
        assert text.count('"claim"') >= 2 and '"rebuttal"' not in text
        assert any(target in str(n.message) for n in app._notifications)


async def test_tags_screen_note_and_export_with_filters(make_app, workspace: Workspace) -> None:
    made = _tag_three(workspace)
    app = make_app(index_on_start=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3")
        await pilot.pause()
        screen = app.screen
        screen.query_one("#filter-lang", Select).value = "fr"
        await pilot.pause()
        assert [a.id for a in screen.rows] == [made[FR].id]
        screen.query_one(DataTable).focus()
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NoteScreen)
        await pilot.press(*"source?", "ctrl+s")
        await pilot.pause()
        assert [a.note for a in stored(workspace, lang="fr")] == ["source?"]
        assert "source?" in str(screen.query_one(DataTable).get_row_at(0)[4])
        await pilot.press("e")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, ExportScreen)
        assert modal.query_one("#export-lang", Select).value == "fr"
        modal.query_one("#export-format", Select).value = "csv"
        await pilot.pause()
        target = Path(modal.query_one("#export-path", Input).value)
        await pilot.press("ctrl+s")
        await pilot.pause()
        with target.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert [(r["doc_lang"], r["note"]) for r in rows] == [("fr", "source?")]


async def test_theme_choice_is_saved(make_app, workspace: Workspace) -> None:
    app = make_app(index_on_start=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.theme = "nord"
        await pilot.pause()
    assert Workspace.open(workspace.corpus_root).setting("theme") == "nord"


async def test_tags_screen_never_overwrites_a_teammates_change(
    make_app, workspace: Workspace
) -> None:
    made = _tag_three(workspace)
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        await pilot.pause()
        screen = app.screen
        table = screen.query_one(DataTable)
        table.focus()
        index = next(i for i, a in enumerate(screen.rows) if a.id == made[EN].id)
        table.move_cursor(row=index)
        # a teammate changes the note after this screen read the tag
        with open_tag_store(workspace, author="teammate") as other:
            other.edit(made[EN].id, note="the teammate's note")
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NoteScreen)
        await pilot.press(*"mine", "ctrl+s")
        await pilot.pause()
        assert stored(workspace, tag="claim", doc_id=made[EN].doc_id)[0].note == (
            "the teammate's note"
        )
        assert any("changed" in str(n.message) for n in app._notifications)
        now = next(a for a in screen.rows if a.id == made[EN].id)  # the list was refreshed
        assert now.note == "the teammate's note"


async def test_deleting_a_claim_says_which_links_broke(make_app, workspace: Workspace) -> None:
    made = _tag_three(workspace)
    with open_tag_store(workspace) as store:
        store.link(made[FR].id, made[EN].id)
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        await pilot.pause()
        screen = app.screen
        table = screen.query_one(DataTable)
        table.focus()
        table.move_cursor(row=next(i for i, a in enumerate(screen.rows) if a.id == made[EN].id))
        await pilot.press("d")
        assert any("1 link to it broke" in str(n.message) for n in app._notifications)
        assert stored(workspace, tag="rebuttal")[0].links == ()
        await pilot.press("u")
        assert stored(workspace, tag="rebuttal")[0].links == (made[EN].id,)


async def test_a_damaged_tag_store_keeps_the_app_reading(make_app, workspace: Workspace) -> None:
    corpus_of(workspace).scan()
    workspace.data_dir.mkdir(parents=True, exist_ok=True)
    workspace.annotations_path.write_bytes(b"not a database " * 500)
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, LibraryScreen)
        messages = [str(n.message) for n in app._notifications]
        assert any("damaged" in m and "reader tags recover" in m for m in messages)
        screen = await open_doc(app, pilot, doc_id(workspace, EN))
        assert screen.doc is not None  # the document reads as usual
        await pilot.press("c")
        await pilot.pause()
        assert sum("damaged" in str(n.message) for n in app._notifications) >= 2  # refused, said
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, TagsScreen)
    assert workspace.annotations_path.read_bytes() == b"not a database " * 500


async def test_tags_screen_colours_each_kind_from_the_registry(
    make_app, workspace: Workspace
) -> None:
    from reader.core.tags.model import KINDS

    _tag_three(workspace)
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f3")
        await pilot.pause()
        variables = app.theme_variables
        for kind in KINDS:
            style = app.screen.get_component_rich_style(f"tags--{kind.name}")
            expected = variables[f"text-{kind.theme_colour}"]
            assert style.bold and style.color is not None
            assert style.color.triplet.hex.lower() == expected.lower()[:7], kind.name
