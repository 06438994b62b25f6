"""A search query's translation: its phrases take the short path, and its target languages
are translated side by side (one model per core), with the same result as one by one."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from support.tiny_argos import build

from reader.core.search import cross
from reader.core.translation.models import install_model_file
from reader.core.translation.service import ArgosTranslator, Phrases
from reader.core.workspace import Workspace

EN_FR = {"refund": "remboursement", "customer": "client"}
EN_DE = {"refund": "Rückerstattung", "customer": "Kunde"}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("query_models")
    return [
        build(out / "translate-en_fr-0_1.argosmodel", "en", "fr", lexicon=EN_FR),
        build(out / "translate-en_de-0_1.argosmodel", "en", "de", lexicon=EN_DE),
    ]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, bool, bool]]:
    """(model, thread name, phrases?, met another call?) of every batch that reaches a model.
    Each call waits (1 s at most) for a second one to be in flight: calls made side by side
    meet, calls made one after the other do not."""
    seen: list[tuple[str, str, bool, bool]] = []
    both = threading.Barrier(2)
    real = ArgosTranslator.translate_batch

    def recording(self: ArgosTranslator, sentences):
        try:
            both.wait(timeout=1)
            met = True
        except threading.BrokenBarrierError:
            both.reset()
            met = False
        thread = threading.current_thread().name
        seen.append((self.model, thread, isinstance(sentences, Phrases), met))
        return real(self, sentences)

    monkeypatch.setattr(ArgosTranslator, "translate_batch", recording)
    return seen


@pytest.fixture(autouse=True)
def fresh_memo():
    cross.forget_memo()
    yield
    cross.forget_memo()


def test_target_languages_are_translated_side_by_side(
    workspace: Workspace, models: list[Path], calls: list[tuple[str, str, bool, bool]]
):
    for model in models:
        install_model_file(workspace, model)
    together = cross.translate_query(workspace, "customer refund", ["fr", "de", "en"], given="en")
    assert sorted(c[0] for c in calls) == ["translate-en_de 0.1", "translate-en_fr 0.1"]
    assert len({c[1] for c in calls}) == 2  # one thread per language
    assert all(met for *_, met in calls)  # at the same time
    assert all(phrases for _, _, phrases, _ in calls)  # a query's words: the phrase path
    assert set(together.queries) == {"fr", "de"} and not together.missing

    cross.forget_memo()  # one language at a time gives the same queries
    workspace.translations_path.unlink()
    calls.clear()
    alone = {
        lang: cross.translate_query(workspace, "customer refund", [lang], given="en").queries[lang]
        for lang in ("fr", "de")
    }
    assert alone == together.queries
    assert [c[1] for c in calls] == [threading.current_thread().name] * 2


def test_one_language_stays_on_the_calling_thread(
    workspace: Workspace, models: list[Path], calls: list[tuple[str, str, bool, bool]]
):
    install_model_file(workspace, models[0])
    result = cross.translate_query(workspace, "refund", ["fr", "de"], given="en")
    assert [c[1] for c in calls] == [threading.current_thread().name]
    assert set(result.queries) == {"fr"} and result.missing == [("en", "de")]
