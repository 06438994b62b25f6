"""Bulk translation (`reader translate --all`) and the model scheduling behind it."""

from __future__ import annotations

import itertools
import json
import threading
from types import SimpleNamespace

import pytest

from reader.cli import main
from reader.core.documents import corpus_of
from reader.core.translation import service
from reader.core.translation.cache import TranslationCache
from reader.core.translation.models import ModelInfo
from reader.core.translation.service import (
    GROUP,
    ArgosTranslator,
    Background,
    Phrases,
    backend_for,
    cached_translation,
    decoding_cap,
    even_groups,
    find_route,
    phrase_cap,
    thread_plan,
    translate_all,
    translate_document,
    translate_inputs,
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


def test_even_groups_keep_every_worker_busy():
    assert even_groups(0, 2) == []
    assert even_groups(1, 2) == [(0, 1)]
    assert even_groups(3, 2) == [(0, 2), (2, 3)]  # the first paragraph on both workers
    assert even_groups(64, 2) == [(0, 32), (32, 64)]
    for count in (5, 30, 70, 255, 256, 1000):
        for workers in (1, 2, 3, 4):
            bounds = even_groups(count, workers)
            sizes = [b - a for a, b in bounds]
            assert bounds[0][0] == 0 and bounds[-1][1] == count
            assert all(b == c for (_, b), (c, _) in itertools.pairwise(bounds))
            assert max(sizes) <= GROUP and max(sizes) - min(sizes) <= 1
            assert len(bounds) % workers == 0 or len(bounds) == count


def test_phrases_and_their_cap():
    assert phrase_cap(3) == 8 and phrase_cap(3) < decoding_cap(3)


class Recording:
    """Wraps a loaded backend's CTranslate2 translator: records each batch's size and decoding
    cap, and forwards the call to the real translator."""

    def __init__(self, real) -> None:
        self.real, self.calls = real, []

    def translate_batch(self, batch, **options):
        self.calls.append((len(batch), options["max_decoding_length"], max(map(len, batch))))
        return self.real.translate_batch(batch, **options)


@pytest.fixture
def recorded(workspace: Workspace, tiny_model: ModelInfo, monkeypatch) -> Recording:
    backend = backend_for(workspace, tiny_model)
    backend.load()
    recording = Recording(backend._ct2)
    monkeypatch.setattr(backend, "_ct2", recording)
    monkeypatch.setattr(backend, "workers", 2)
    return recording


def test_documents_go_in_even_groups_each_with_its_own_cap(
    workspace: Workspace, tiny_model: ModelInfo, recorded: Recording
):
    sentences = [
        f"Le chat numéro {i} dort sur la table {'et la ville ' * (i % 5)}." for i in range(70)
    ]
    backend = backend_for(workspace, tiny_model)
    out = backend.translate_batch(sentences)
    assert len(out) == 70 and all(isinstance(t, str) for t in out)
    assert [size for size, _, _ in recorded.calls] == [18, 18, 17, 17]
    assert all(cap == decoding_cap(longest) for _, cap, longest in recorded.calls)
    caps = [cap for _, cap, _ in recorded.calls]
    assert caps == sorted(caps) and caps[0] < caps[-1]  # sorted by length: short groups stop early
    assert backend.translate_batch(list(reversed(sentences))) == list(reversed(out))  # in order


def test_a_query_is_one_batch_with_the_phrase_cap(
    workspace: Workspace, tiny_model: ModelInfo, recorded: Recording
):
    route = find_route([tiny_model], "fr", "en")
    with TranslationCache(workspace.translations_path) as cache:
        translate_inputs(workspace, cache, route, ["service client", "remboursement"], phrases=True)
        ((size, cap, longest),) = recorded.calls
        assert size == 2 and cap == phrase_cap(longest)
        recorded.calls.clear()  # sentences: the document path and its cap
        translate_inputs(workspace, cache, route, ["Le chat dort.", "la ville"])
        assert [cap for _, cap, _ in recorded.calls] == [
            decoding_cap(longest) for _, _, longest in recorded.calls
        ]
        recorded.calls.clear()  # documents never take the phrase path
        translate_inputs(workspace, cache, route, ["la table"], phrases=False)
        ((_, cap, longest),) = recorded.calls
        assert cap == decoding_cap(longest)
    phrases = backend_for(workspace, tiny_model).translate_batch(Phrases(["le monde"]))
    assert len(phrases) == 1


def test_background_work_gives_way_to_the_reading_pane(
    workspace: Workspace, tiny_model: ModelInfo, recorded: Recording, monkeypatch
):
    """While a pane's batch is being translated, translate --all submits nothing; then it goes
    on, one group per worker at a time."""
    backend = backend_for(workspace, tiny_model)
    submitted: list[str] = []
    pane_sent, go_on = threading.Event(), threading.Event()
    forward = recorded.translate_batch

    def gated(batch, **options):
        kind = "pane" if "pane" in "".join(batch[0]) else "bulk"
        submitted.append(kind)
        if kind == "pane":
            pane_sent.set()
            assert go_on.wait(30)
        return forward(batch, **options)

    monkeypatch.setattr(recorded, "translate_batch", gated)
    pane = threading.Thread(target=backend.translate_batch, args=(["pane pane pane."],))
    pane.start()
    assert pane_sent.wait(30)
    bulk_out: list[list[str]] = []
    bulk = threading.Thread(
        target=lambda: bulk_out.append(
            backend.translate_batch(Background([f"Le chat {i} dort." for i in range(70)]))
        )
    )
    bulk.start()
    bulk.join(0.5)  # it waits for the pane
    try:
        assert submitted == ["pane"] and bulk.is_alive()
    finally:
        go_on.set()
    pane.join(30)
    bulk.join(30)
    # someone reads: smaller background batches (70 sentences: 10 of 7), a pane waits less
    assert submitted == ["pane"] + ["bulk"] * 10 and len(bulk_out[0]) == 70
    assert [size for size, _, _ in recorded.calls[1:]] == [7] * 10

    recorded.calls.clear()  # nobody has read for a while: full batches
    backend._last_foreground = float("-inf")
    assert len(backend.translate_batch(Background(bulk_out[0]))) == 70
    assert [size for size, _, _ in recorded.calls] == [18, 18, 17, 17]


def test_background_work_waits_for_a_whole_article(
    workspace: Workspace, tiny_model: ModelInfo, recorded: Recording, monkeypatch
):
    backend = backend_for(workspace, tiny_model)
    sentences = Background([f"Le chat {i} dort." for i in range(10)])
    with backend.foreground():  # as translate_document holds it, between its batches too
        bulk = threading.Thread(target=backend.translate_batch, args=(sentences,))
        bulk.start()
        bulk.join(0.3)
        assert bulk.is_alive() and recorded.calls == []
    bulk.join(30)
    assert not bulk.is_alive() and len(recorded.calls) == 2

    held: list[int] = []
    real = ArgosTranslator.foreground

    def counting(self: ArgosTranslator):
        held.append(self._foreground)
        return real(self)

    monkeypatch.setattr(ArgosTranslator, "foreground", counting)
    doc = corpus_of(workspace).load(french_ids(workspace)[0])
    translate_document(workspace, doc, "en")
    assert held[0] == 0 and len(held) > 1 and all(n >= 1 for n in held[1:])  # held throughout
