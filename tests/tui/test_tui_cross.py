"""Pilot tests of cross-language search in the library (issue 11): the toggle, hits that say
how they matched, opening them, the missing-model hint, and translating the corpus."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text
from support.tiny_argos import build
from textual.widgets import Input
from tui_helpers import FR, doc_id, settle

from reader.core.search import cross, update_index
from reader.core.translation.models import install_model_file
from reader.core.translation.service import ArgosTranslator
from reader.core.workspace import Workspace
from reader.tui.screens.article import ArticleScreen
from reader.tui.screens.library import LibraryScreen
from reader.tui.widgets.hit_list import HitList
from reader.tui.widgets.via import BESIDE, MARK, CrossHit

EN_FR = {"refund": "remboursement", "customer": "client"}
FR_EN = {"journaux": "newspapers", "Bonjour": "Hello", "monde": "world"}
EXTRA = "Les journaux publient des articles sur la ville.\n\nLe maire parle aux habitants.\n"


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("crossui_models")
    return {
        "en_fr": build(out / "translate-en_fr-0_1.argosmodel", "en", "fr", lexicon=EN_FR),
        "fr_en": build(out / "translate-fr_en-0_1.argosmodel", "fr", "en", lexicon=FR_EN),
    }


@pytest.fixture(autouse=True)
def fresh_memo():
    cross.forget_memo()
    yield
    cross.forget_memo()


def notes(app: Any) -> list[str]:
    """Record every notification the app shows."""
    seen: list[str] = []
    real = app.notify

    def notify(message: str, **kw: Any) -> None:
        seen.append(message)
        real(message, **kw)

    app.notify = notify
    return seen


def prompts(screen: LibraryScreen) -> list[Any]:
    hits = screen.query_one("#hits", HitList)
    return [hits.get_option_at_index(i).prompt for i in range(hits.option_count)]


def plain(prompt: Any) -> str:
    return prompt.plain


async def type_query(app: Any, pilot: Any, query: str) -> None:
    await pilot.press("slash", *query)
    await settle(app, pilot, 0.1)


async def open_hit(app: Any, pilot: Any, index: int) -> ArticleScreen:
    screen = app.screen
    await pilot.press("down")  # to the hits
    hits = screen.query_one("#hits", HitList)
    assert screen.focused is hits
    for _ in range(index - (hits.highlighted or 0)):
        await pilot.press("down")
    assert hits.highlighted == index
    await pilot.press("enter")
    await pilot.pause()
    await pilot.pause()
    assert isinstance(app.screen, ArticleScreen)
    return app.screen


async def test_toggle_labels_hits_reached_through_a_translated_query(
    make_app, workspace: Workspace, models
) -> None:
    install_model_file(workspace, models["en_fr"])
    update_index(workspace)  # (searches racing to build a missing index duplicate documents)
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        search = screen.query_one("#search", Input)
        await type_query(app, pilot, "refund")
        assert {hit.lang for hit in screen.hits} == {"en"}  # off: as typed only
        assert not search.border_subtitle
        await pilot.press("ctrl+t")  # in the search box too
        await settle(app, pilot, 0.1)
        assert screen.cross and "cross-language: on" in str(search.border_subtitle)
        fr = doc_id(workspace, FR)
        (index,) = [i for i, hit in enumerate(screen.hits) if hit.id == fr]
        hit = screen.hits[index]
        assert hit.via == {"lang": "fr", "text": "remboursement", "field": "query"}
        shown = prompts(screen)
        assert "via fr: remboursement" in plain(shown[index]).splitlines()[1]
        english = [i for i, h in enumerate(screen.hits) if h.lang == "en"]
        assert english and all("via" not in plain(shown[i]) for i in english)
        # the French snippet marks the translated word
        marked = [plain(shown[index])[s.start : s.end] for s in shown[index].spans
                  if s.style == "reverse bold"]  # fmt: skip
        assert any(m.lower().startswith("rembours") for m in marked)
        # opening it lands on the sentence of the first match, the French word highlighted
        article = await open_hit(app, pilot, index)
        start = hit.snippets[0].highlights[0][0]
        sentence = article.view.current()
        assert sentence.start <= start < sentence.end
        assert "rembours" in article.doc.text[sentence.start : sentence.end].lower()
        assert article.query_text == "remboursement"
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("ctrl+t")  # off again: as before
        await settle(app, pilot, 0.1)
        assert not screen.cross and not search.border_subtitle
        assert {hit.lang for hit in screen.hits} == {"en"}


async def test_the_missing_model_hint_shows_once(make_app, workspace: Workspace) -> None:
    update_index(workspace)
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        seen = notes(app)
        await pilot.press("ctrl+t")
        await type_query(app, pilot, "refund")
        await pilot.press(*" tesla")  # a search per keystroke (debounced) ...
        await settle(app, pilot, 0.1)
        await pilot.press("escape", "slash", *"musk")
        await settle(app, pilot, 0.1)
        assert app.screen.hits  # ... each still finds the English documents
        hints = [n for n in seen if "no translation model" in n]
        assert len(hints) == 1
        assert "en→de" in hints[0] and "en→fr" in hints[0]
        assert "reader models install" in hints[0]


async def test_translate_all_then_a_french_document_is_found_through_its_translation(
    make_app, workspace: Workspace, models
) -> None:
    install_model_file(workspace, models["fr_en"])
    (workspace.corpus_root / "fr_extra.txt").write_text(EXTRA, encoding="utf-8")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        seen = notes(app)
        await settle(app, pilot)  # the start-up index
        screen = app.screen
        await pilot.press("ctrl+t")
        await type_query(app, pilot, "newspapers")
        assert not any(hit.id == "fr_extra.txt" for hit in screen.hits)  # not translated yet
        await pilot.press("escape")  # out of the search box (the query is cleared)
        await pilot.press("A")  # translate the corpus
        await settle(app, pilot)
        bar = screen.query_one("#translate-all")
        assert not bar.running and not bar.display
        assert any(n.startswith("Translated the corpus") for n in seen)
        assert any("no model for de→en" in n for n in seen)  # the German seed
        await type_query(app, pilot, "newspapers")
        (index,) = [i for i, hit in enumerate(screen.hits) if hit.id == "fr_extra.txt"]
        hit = screen.hits[index]
        assert hit.via["field"] == "translation" and "newspapers" in hit.via["text"]
        prompt = prompts(screen)[index]
        assert isinstance(prompt, CrossHit)
        lines = prompt.plain.splitlines()
        assert "via translation" in lines[1]
        assert lines[2].strip() == "Les journaux publient des articles sur la ville."
        assert lines[3].strip().startswith("en:") and "newspapers" in lines[3]
        marked = [prompt.translation.plain[s.start : s.end] for s in prompt.translation.spans
                  if s.style == MARK]  # fmt: skip
        assert marked == ["newspapers"]
        # wide: the translation beside the original; narrow: under it
        wide = _render(prompt, BESIDE + 20)
        assert any("Les journaux" in line and "newspapers" in line for line in wide)
        narrow = _render(prompt, 80)
        assert not any("Les journaux" in line and "newspapers" in line for line in narrow)
        # opening it lands on the original sentence
        article = await open_hit(app, pilot, index)
        sentence = article.view.current()
        first = EXTRA.split("\n")[0]
        assert (sentence.start, sentence.end) == (0, len(first))
        assert sentence.start == hit.snippets[0].start


async def test_translate_all_cancels_with_the_same_key(
    make_app, workspace: Workspace, models, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_model_file(workspace, models["fr_en"])
    (workspace.corpus_root / "fr_extra.txt").write_text(EXTRA, encoding="utf-8")
    gate, calls = threading.Event(), []
    real = ArgosTranslator.translate_batch

    def held(self: ArgosTranslator, sentences):  # the first model call waits for the cancel
        calls.append(list(sentences))
        assert gate.wait(30)
        return real(self, sentences)

    monkeypatch.setattr(ArgosTranslator, "translate_batch", held)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        seen = notes(app)
        await settle(app, pilot)
        screen = app.screen
        await pilot.press("A")
        bar = screen.query_one("#translate-all")
        assert bar.running and bar.display
        await pilot.press("j", "k")  # keys still work meanwhile
        await pilot.press("A")  # cancel
        gate.set()
        await settle(app, pilot)
        assert not bar.running and not bar.display
        assert len(calls) == 1
        assert any(n.startswith("Translation cancelled") for n in seen)
        await pilot.press("A")  # again: goes on from the cache
        await settle(app, pilot)
        assert any(n.startswith("Translated the corpus") for n in seen)


def _render(prompt: CrossHit, width: int) -> list[str]:
    console = Console(width=width, record=True, color_system=None)
    console.print(prompt)
    return console.export_text().splitlines()


async def test_the_command_palette_has_both_actions(make_app, workspace: Workspace) -> None:
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await pilot.press("ctrl+p", *"cross-language search")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen and screen.cross
        assert "cross-language: on" in str(screen.query_one("#search", Input).border_subtitle)
        commands = [command.title for command in app.get_system_commands(screen)]
        assert "Cross-language search" in commands and "Translate the corpus" in commands


def test_via_labels_and_sentences_are_escaped() -> None:
    from reader.core.search import Hit, Snippet
    from reader.tui.widgets.via import cross_prompt, via_label

    hostile = "rem\x1b]0;owned\x07bours\u202eement\x9b2J"
    hit = Hit("a.txt", "T", "fr", None, 1.0, [], via={"lang": "fr", "text": hostile,
              "field": "query"}, cross=True)  # fmt: skip
    label = via_label(hit).plain
    assert label.startswith("via fr: rem") and not any(c in label for c in "\x1b\x07\u202e\x9b")
    snippet = Snippet("Le \x1b[31mjournal\x07.", 0, 19, [])
    via = {"lang": "en", "text": "The \x1b[2Jnewspaper.", "field": "translation"}
    hit = Hit("a.txt", "T", "fr", None, 1.0, [snippet], via=via, cross=True)
    prompt = cross_prompt(hit, Text("T"), "newspaper", None)
    wide, narrow = _render(prompt, 120), _render(prompt, 60)
    for line in (*wide, *narrow, prompt.plain):
        assert not any(c in line for c in "\x1b\x07\u202e\x9b")


def test_a_translation_hit_without_its_cached_sentence() -> None:
    """No translated sentence (the cache was cleared since `translate --all`): the hit keeps
    its snippets and says why, instead of an empty "en:" beside nothing."""
    from types import SimpleNamespace

    from reader.tui.widgets.via import cross_prompt

    hit = SimpleNamespace(via={"lang": "en", "text": "", "field": "translation"}, snippets=[])
    head = Text("Le titre  fr · 2025-01-01\n  … un extrait …")
    prompt = cross_prompt(hit, head, "newspapers", [])
    assert isinstance(prompt, Text)
    assert prompt.plain.splitlines() == [
        "Le titre  fr · 2025-01-01",
        "  via translation (no longer cached: translate the corpus again, A)",
        "  … un extrait …",
    ]


def test_cross_hit_sentences_keep_their_indent_where_they_wrap() -> None:
    """The original sentence and its translation wrap under themselves (beside each other on
    a wide list, one under the other on a narrow one), never back to the title's column; a
    hit labelled with its translated query keeps its snippets' hanging indent too."""
    from reader.core.search import Hit, Snippet
    from reader.tui.screens.library import hit_prompt
    from reader.tui.widgets.hit_list import HangingText
    from reader.tui.widgets.via import cross_prompt

    french = " ".join(["Le journal du matin parle longuement de la ville."] * 4)
    english = " ".join(["The morning paper talks at length about the town."] * 4)
    snippet = Snippet(french, 0, len(french), [])
    via = {"lang": "en", "text": english, "field": "translation"}
    hit = Hit("a.txt", "T", "fr", None, 1.0, [snippet], via=via, cross=True)
    prompt = cross_prompt(hit, hit_prompt(hit), "paper", None)
    assert isinstance(prompt, CrossHit)
    for width in (60, 130):
        body = [line for line in _render(prompt, width)[2:] if line.strip()]
        assert len(body) > 2 and all(line.startswith("  ") for line in body), body

    via = {"lang": "fr", "text": "journal", "field": "query"}
    hit = Hit("a.txt", "T", "fr", None, 1.0, [snippet], via=via, cross=True)
    labelled = cross_prompt(hit, hit_prompt(hit), "paper", None)
    assert isinstance(labelled, HangingText)
    assert labelled.plain.splitlines() == ["T  fr · no date", "  via fr: journal", "  " + french]
