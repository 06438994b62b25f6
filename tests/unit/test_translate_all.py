"""Bulk translation (`reader translate --all`) and the model scheduling behind it."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from reader.cli import main
from reader.core.documents import corpus_of
from reader.core.translation import service
from reader.core.translation.models import ModelInfo
from reader.core.translation.service import (
    ArgosTranslator,
    cached_translation,
    decoding_cap,
    thread_plan,
    translate_all,
    translate_document,
)
from reader.core.workspace import Workspace

FRENCH = "Bonjour le monde. Le chat dort sur la table. Les journaux publient des articles."


@pytest.fixture
def french_corpus(workspace: Workspace) -> Workspace:
    """The bundled corpus plus three more French documents (four with the seed)."""
    for i in range(3):
        (workspace.corpus_root / f"fr_{i}.txt").write_text(
            f"{FRENCH}\n\nLa ville numéro {i} est belle et le soleil brille.\n", encoding="utf-8"
        )
    return workspace


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every batch that reaches the real model."""
    seen: list[int] = []
    real = ArgosTranslator.translate_batch

    def counting(self: ArgosTranslator, sentences):
        seen.append(len(sentences))
        return real(self, sentences)

    monkeypatch.setattr(ArgosTranslator, "translate_batch", counting)
    return seen


def french_ids(ws: Workspace) -> list[str]:
    return [i.id for i in corpus_of(ws).infos() if i.lang == "fr"]


def test_translates_every_document_into_the_cache(
    french_corpus: Workspace, tiny_model: ModelInfo, batches: list[int]
):
    ws = french_corpus
    seen: list[tuple[int, int]] = []
    report = translate_all(ws, "en", progress=lambda d, t: seen.append((d, t)))
    total = sum(i.sentences for i in corpus_of(ws).infos() if i.lang == "fr")
    assert (report.documents, report.sentences) == (len(corpus_of(ws).infos()) - 1, total)
    assert report.translated <= total and sum(batches) == report.translated
    assert seen[-1] == (total, total)
    assert len(batches) < len(french_ids(ws))  # batched across documents, not one call each
    assert set(report.missing) == {"de->en", "it->en"}
    for doc_id in french_ids(ws):
        result = cached_translation(ws, corpus_of(ws).load(doc_id), "en")
        assert all(s.translation is not None for s in result.sentences)
    again = translate_all(ws, "en")
    assert again.translated == 0 and sum(batches) == report.translated  # all from the cache


def test_interrupted_run_resumes_without_redoing_work(
    french_corpus: Workspace, tiny_model: ModelInfo, batches: list[int], monkeypatch
):
    ws = french_corpus
    monkeypatch.setattr(service, "BULK_CHUNK", 4)
    calls = iter(range(100))
    first = translate_all(ws, "en", cancelled=lambda: next(calls) >= 2)
    assert first.cancelled and 0 < first.translated < first.sentences
    rest = translate_all(ws, "en")
    assert not rest.cancelled
    assert first.translated + rest.translated == sum(batches)
    unique = {
        corpus_of(ws).load(i).text[s.start : s.end] for i in french_ids(ws)
        for s in corpus_of(ws).load(i).sentences
    }  # fmt: skip
    assert sum(batches) <= len(unique) + 4  # nothing translated twice but one chunk at most


def test_changed_document_is_refreshed(french_corpus: Workspace, tiny_model: ModelInfo, batches):
    ws = french_corpus
    translate_all(ws, "en")
    before = sum(batches)
    path = ws.corpus_root / "fr_0.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\nLe chat mange.\n", encoding="utf-8")
    corpus_of(ws).scan()
    report = translate_all(ws, "en")
    assert report.translated == 1 and sum(batches) == before + 1


def test_cli_all_json_and_missing_pairs(capsys, french_corpus: Workspace, tiny_model):
    code = main(["translate", "--all", "--json", "--corpus", str(french_corpus.corpus_root)])
    out, err = capsys.readouterr()
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"documents", "sentences", "translated", "missing"}
    assert data["missing"]["de->en"] == 1
    assert "no model for de->en (1 documents): `reader models install de en`" in err


def test_paragraph_under_the_cursor_goes_first(workspace: Workspace, tiny_model: ModelInfo):
    doc = corpus_of(workspace).load(french_ids(workspace)[0])
    order: list[int] = []
    result = translate_document(
        workspace, doc, "en", first=2, on_paragraph=lambda p, d, t: order.append(p.index)
    )
    assert order[:2] == [2, 3] and sorted(order) == list(range(len(doc.paragraphs)))
    assert [p.index for p in result.paragraphs] == sorted(order)


def test_decoding_is_capped_relative_to_the_source():
    assert decoding_cap(5) == 20 and decoding_cap(40) == 90


def test_thread_plan(monkeypatch):
    settings = SimpleNamespace(inter_threads=1, intra_threads=0)
    monkeypatch.delenv("ARGOS_INTER_THREADS", raising=False)
    monkeypatch.delenv("ARGOS_INTRA_THREADS", raising=False)
    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: set(range(2)), raising=False)
    assert thread_plan(settings) == (2, 1)  # two single-thread workers on two cores
    monkeypatch.setattr("os.sched_getaffinity", lambda _pid: set(range(16)), raising=False)
    assert thread_plan(settings) == (4, 4)
    monkeypatch.setenv("ARGOS_INTRA_THREADS", "3")
    assert thread_plan(SimpleNamespace(inter_threads=1, intra_threads=3)) == (1, 3)


def test_reading_pane_batches_after_the_first_paragraph(
    workspace: Workspace, tiny_model: ModelInfo, batches: list[int]
):
    """The paragraph under the cursor alone (shown soonest), then several paragraphs per
    model call, and still one on_paragraph per paragraph."""
    paragraph = "Le chat {0} dort. Les journaux {0} publient. La ville {0} est belle. Le monde {0}."
    paragraphs = [paragraph.format(i) for i in range(7)]  # no sentence twice: none cached
    (workspace.corpus_root / "pane.txt").write_text("\n\n".join(paragraphs), "utf-8")
    doc = corpus_of(workspace).load("pane.txt")
    assert [len(p.sentences) for p in doc.paragraphs] == [4] * 7
    seen: list[int] = []
    translate_document(workspace, doc, "en", on_paragraph=lambda p, d, t: seen.append(d))
    assert batches == [4, 16, 8]
    assert seen == list(range(1, 8))
