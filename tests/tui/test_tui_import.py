"""Pilot test of importing tags in the app: the palette, a file, one undo."""

from __future__ import annotations

from textual.command import CommandPalette
from textual.widgets import Input
from tui_helpers import EN, FR, doc_id, settle

from reader.cli import main
from reader.core.documents import corpus_of
from reader.core.tags import open_tag_store
from reader.tui.screens.importing import ImportScreen
from reader.tui.screens.tags import TagsScreen


async def test_import_from_the_palette_is_one_undo(make_app, workspace, tmp_path, capsys) -> None:
    with open_tag_store(workspace) as store:
        for prefix, kind in ((EN, "claim"), (FR, "rebuttal")):
            doc = corpus_of(workspace).load(doc_id(workspace, prefix))
            sentence = doc.sentences[1]
            store.add(doc, sentence.start, sentence.end, kind, note=f"{kind} note")
    exported = tmp_path / "tags.json"
    corpus = str(workspace.corpus_root)
    assert main(["export", "--format", "json", "-o", str(exported), "--corpus", corpus]) == 0
    with open_tag_store(workspace) as store:
        ids = [tag.id for tag in store.list()]
        for tag_id in ids:
            store.remove(tag_id)
        assert store.list() == []
    capsys.readouterr()

    app = make_app(index_on_start=False)
    async with app.run_test(size=(100, 32)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"Import tags")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ImportScreen)
        app.screen.query_one(Input).value = str(exported)
        await pilot.press("enter")
        await settle(app, pilot)
        assert not isinstance(app.screen, ImportScreen)
        assert sorted(t.id for t in app.store.list()) == sorted(ids)
        assert any("imported 2" in str(n.message) for n in app._notifications)
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, TagsScreen)
        await pilot.press("u")  # the whole import at once
        await pilot.pause()
        assert app.store.list() == []
