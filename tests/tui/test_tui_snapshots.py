"""SVG snapshots at 120×40: the library, an article with the translation pane, the tags screen.

Regenerate on purpose with `pytest tests/tui/test_tui_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from textual.pilot import Pilot
from tui_helpers import DE, EN, FR, doc_id, settle

from reader.core.documents import corpus_of
from reader.core.tags import open_tag_store
from reader.core.workspace import Workspace

SIZE = (120, 40)


def _tag(workspace: Workspace) -> None:
    store = open_tag_store(workspace)
    try:
        for prefix, tag, index in ((EN, "claim", 1), (FR, "rebuttal", 2), (DE, "context", 3)):
            doc = corpus_of(workspace).load(doc_id(workspace, prefix))
            sentence = doc.sentences[index]
            store.add(doc, sentence.start, sentence.end, tag, note=f"{tag} note")
        doc = corpus_of(workspace).load(doc_id(workspace, FR))
        store.add(doc, doc.sentences[1].start, doc.sentences[1].end, "claim")
    finally:
        store.close()


def test_library_snapshot(snap_compare, make_app, workspace: Workspace) -> None:
    _tag(workspace)

    async def ready(pilot: Pilot) -> None:
        await settle(pilot.app, pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=ready)


def test_article_with_translation_snapshot(
    snap_compare, make_app, workspace: Workspace, tiny_model
) -> None:
    _tag(workspace)
    app = make_app(index_on_start=False)

    async def ready(pilot: Pilot) -> None:
        app.open_article(doc_id(workspace, FR))
        await pilot.pause()
        await pilot.press("t")
        await settle(app, pilot)
        await pilot.press("j", "j")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)


def test_tags_screen_snapshot(snap_compare, make_app, workspace: Workspace) -> None:
    _tag(workspace)
    app = make_app(index_on_start=False)

    async def ready(pilot: Pilot) -> None:
        await pilot.press("f3")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=ready)
