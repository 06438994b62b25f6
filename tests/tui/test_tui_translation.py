"""Pilot tests of the translation pane: tiny real model, no model, same language, install."""

from __future__ import annotations

import http.server
import json
import shutil
import threading
from pathlib import Path

import pytest
from tui_helpers import EN, FR, doc_id, open_doc, settle

from reader.core.tags import open_tag_store
from reader.core.workspace import Workspace
from reader.tui.screens.article import ArticleScreen


def label_text(screen: ArticleScreen) -> str:
    return str(screen.query_one("#translation-label").render())


async def test_pane_translates_with_the_tiny_model(make_app, workspace, tiny_model) -> None:
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_doc(app, pilot, doc_id(workspace, FR))
        view, doc = screen.view, screen.doc
        await pilot.press("t")
        await settle(app, pilot)
        assert view.has_class("-pane") and view.has_class("-side")
        assert view._mode() == "side"
        assert label_text(screen).startswith("Translation French → English")
        assert sorted(view.translations) == [p.index for p in doc.paragraphs]
        for paragraph in doc.paragraphs:  # aligned sentence by sentence
            translated = view.translations[paragraph.index]
            assert [(s.start, s.end) for s in translated.sentences] == [
                (s.start, s.end) for s in paragraph.sentences
            ]
            assert all(isinstance(s.translation, str) for s in translated.sentences)
        # the cursor sentence and its translation are highlighted together
        await pilot.press("j")
        sentence = view.current()
        pane_text = view._translation_text(sentence.paragraph)
        aligned = view._style("aligned")  # blended over the background
        marked = [s for s in pane_text.spans if s.style == aligned]
        expected = view.translations[sentence.paragraph].sentences[
            sentence.index - doc.paragraphs[sentence.paragraph].sentences[0].index
        ]
        assert [pane_text.plain[s.start : s.end] for s in marked] == [expected.translation]
        # a tag made with the cursor in the pane anchors to the aligned source sentence
        await pilot.press("tab")
        assert view.pane_focus
        await pilot.press("c")
        store = open_tag_store(workspace)
        try:
            (claim,) = store.list(tag="claim")
        finally:
            store.close()
        assert (claim.start, claim.end) == (sentence.start, sentence.end)
        # reopening shows the cached translation at once
        await pilot.press("q")
        screen = await open_doc(app, pilot, doc.id)
        await settle(app, pilot)
        assert all(
            s.cached for p in screen.view.translations.values() for s in p.sentences if s.source
        )


async def test_pane_without_model_names_it_and_the_file_route(make_app, workspace) -> None:
    workspace.set_setting("argos_index", "http://127.0.0.1:9/")  # nothing listens: offline
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_doc(app, pilot, doc_id(workspace, FR))
        await pilot.press("t")
        await settle(app, pilot)
        text = label_text(screen)
        assert "No French → English model installed" in text
        assert "reader models install FILE.argosmodel" in text
        assert screen.missing_model == ("fr", "en")
        await pilot.press("i")
        await settle(app, pilot)
        text = label_text(screen)
        assert "cannot reach" in text and ".argosmodel" in text
        assert screen.translation_state == "offline"


async def test_pane_same_language(make_app, workspace) -> None:
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_doc(app, pilot, doc_id(workspace, EN))
        await pilot.press("t")
        await settle(app, pilot)
        assert "no translation needed" in label_text(screen)
        assert screen.translation_state == "same"


async def test_leaving_the_article_cancels_translation(make_app, workspace, tiny_model) -> None:
    words = "le chat dort sur la table nous lisons les nouvelles du matin la ville est belle"
    words = words.split()
    paragraphs = [  # distinct sentences, so that none comes from the cache
        " ".join(
            f"{words[(i + j) % len(words)].capitalize()} {words[(i * j) % len(words)]} "
            f"{words[(i + 2 * j) % len(words)]} {i}-{j}."
            for j in range(3)
        )
        for i in range(200)
    ]
    (workspace.corpus_root / "long_fr.txt").write_text(
        "Un long article\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8"
    )
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_doc(app, pilot, "long_fr.txt")
        assert screen.doc.lang == "fr"
        screen.action_toggle_translation()  # starts the worker ...
        (worker,) = [w for w in app.workers if w.group == "translate"]
        assert not worker.is_finished
        view = screen.view
        await pilot.press("q")  # ... and leaving cancels it
        await settle(app, pilot)
        assert worker.is_cancelled
        done = [s for p in view.translations.values() for s in p.sentences if s.translation]
        assert len(done) < len(screen.doc.sentences)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output clean
        pass


@pytest.fixture
def model_server(tmp_path: Path, tiny_argosmodel: Path):
    """A local HTTP Argos index offering the tiny fr->en model (no network needed)."""
    root = tmp_path / "www"
    root.mkdir()
    shutil.copy(tiny_argosmodel, root / "translate-fr_en.argosmodel")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a: _Quiet(*a, directory=str(root))
    )
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    (root / "index.json").write_text(
        json.dumps(
            [
                {
                    "package_version": "0.1",
                    "argos_version": "1.0",
                    "from_code": "fr",
                    "to_code": "en",
                    "from_name": "French",
                    "to_name": "English",
                    "type": "translate",
                    "links": [url + "translate-fr_en.argosmodel"],
                }
            ]
        )
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url
    server.shutdown()


async def test_install_from_the_pane(make_app, workspace: Workspace, model_server) -> None:
    workspace.set_setting("argos_index", model_server)
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_doc(app, pilot, doc_id(workspace, FR))
        await pilot.press("t")
        await settle(app, pilot)
        assert screen.translation_state == "missing"
        await pilot.press("i")
        await settle(app, pilot, delay=0.2)
        await settle(app, pilot)
        assert screen.translation_state == "ready", label_text(screen)
        assert len(screen.view.translations) == len(screen.doc.paragraphs)


async def test_broken_model_is_reported_not_fatal(make_app, workspace, tiny_model) -> None:
    shutil.rmtree(tiny_model.path / "model")  # a damaged install: the model files are gone
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_doc(app, pilot, doc_id(workspace, FR))
        await pilot.press("t")
        await settle(app, pilot)
        assert screen.translation_state == "error"
        assert label_text(screen)
        assert app.is_running and app.screen is screen
        await pilot.press("j")  # still usable
        assert screen.view.cursor == 1
