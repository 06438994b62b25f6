"""Sentence-aligned translation through the real argos/CTranslate2 code with tiny models."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from support.tiny_argos import build

from reader.cli import main
from reader.core.documents.ingest import document_from_text
from reader.core.documents.model import Document
from reader.core.translation.models import ModelInfo, install_model_file, remove_model
from reader.core.translation.service import (
    ArgosTranslator,
    GivenSentences,
    ModelMissing,
    SameLanguage,
    TranslationError,
    backend_for,
    cached_translation,
    clear_cache,
    find_route,
    language_name,
    passage_translation,
    translate_document,
)
from reader.core.workspace import Workspace

TEXT = "Bonjour le monde. Le chat dort sur la table.\n\nLes journaux publient des articles."


@pytest.fixture
def doc() -> Document:
    document = document_from_text(TEXT, "a.txt")
    assert document.lang == "fr"
    assert [len(p.sentences) for p in document.paragraphs] == [2, 1]
    return document


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Records every batch that reaches the real model (model key, number of sentences)."""
    seen: list[tuple[str, int]] = []
    real = ArgosTranslator.translate_batch

    def counting(self: ArgosTranslator, sentences):
        seen.append((self.model, len(sentences)))
        return real(self, sentences)

    monkeypatch.setattr(ArgosTranslator, "translate_batch", counting)
    return seen


@pytest.fixture(scope="module")
def en_de_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("en_de") / "translate-en_de-0_1.argosmodel", "en", "de")


def _rows(ws: Workspace) -> list[tuple[str, str]]:
    with sqlite3.connect(ws.translations_path) as db:
        return sorted(db.execute("SELECT model, target FROM translations"))


def test_one_translation_per_sentence(workspace: Workspace, tiny_model: ModelInfo, doc: Document):
    result = translate_document(workspace, doc)
    assert (result.doc, result.from_code, result.to_code) == ("a.txt", "fr", "en")
    assert result.model == "translate-fr_en 0.1"
    assert [(p.start, p.end) for p in result.paragraphs] == [
        (p.start, p.end) for p in doc.paragraphs
    ]
    got = [(s.start, s.end, s.source) for s in result.sentences]
    assert got == [(s.start, s.end, doc.text[s.start : s.end]) for s in doc.sentences]
    translations = [s.translation for s in result.sentences]
    assert all(isinstance(t, str) and t for t in translations)
    # the tiny model copies tokens through its lexicon
    assert translations == [
        "Hello le world.",
        "Le cat dort sur la table.",
        "Les newspapers publient des articles.",
    ]
    assert not any(s.cached for s in result.sentences)


def test_json_shape(workspace: Workspace, tiny_model: ModelInfo, doc: Document):
    data = translate_document(workspace, doc).to_json()
    assert list(data) == ["doc", "from", "to", "model", "paragraphs"]
    assert list(data["paragraphs"][0]) == ["start", "end", "sentences"]
    assert list(data["paragraphs"][0]["sentences"][0]) == [
        "start",
        "end",
        "source",
        "translation",
        "cached",
    ]
    json.dumps(data)


def test_same_output_as_argos_pipeline(workspace: Workspace, tiny_model: ModelInfo, doc: Document):
    """Per sentence, our batch gives what argostranslate's own apply_packaged_translation gives
    when handed the same sentence through the injected splitter."""
    from argostranslate.translate import apply_packaged_translation

    backend = backend_for(workspace, tiny_model)
    sources = [doc.text[s.start : s.end] for s in doc.sentences]
    ours = backend.translate_batch(sources)
    theirs = [
        apply_packaged_translation(backend._pkg, s, backend._ct2, GivenSentences(), 1)[0].value
        for s in sources
    ]
    assert ours == theirs


def test_one_batch_per_paragraph_then_cache(
    workspace: Workspace, tiny_model: ModelInfo, doc: Document, calls: list
):
    first = translate_document(workspace, doc)
    assert calls == [("translate-fr_en 0.1", 2), ("translate-fr_en 0.1", 1)]
    assert _rows(workspace) == [("translate-fr_en 0.1", "en")] * 3
    calls.clear()
    second = translate_document(workspace, doc)
    assert calls == []
    assert all(s.cached for s in second.sentences)
    assert [s.translation for s in second.sentences] == [s.translation for s in first.sentences]


def test_cache_keyed_by_model_version(
    workspace: Workspace, tiny_model: ModelInfo, doc: Document, calls: list, tmp_path: Path
):
    translate_document(workspace, doc)
    install_model_file(workspace, build(tmp_path / "v2.argosmodel", version="0.2"))
    calls.clear()
    result = translate_document(workspace, doc)
    assert result.model == "translate-fr_en 0.2"
    assert [n for _, n in calls] == [2, 1]
    assert not any(s.cached for s in result.sentences)


def test_only_new_sentences_reach_the_model(
    workspace: Workspace, tiny_model: ModelInfo, doc: Document, calls: list
):
    translate_document(workspace, doc)
    calls.clear()
    changed = document_from_text(TEXT.replace("Le chat dort", "Le chat mange"), "a.txt")
    result = translate_document(workspace, changed)
    assert calls == [("translate-fr_en 0.1", 1)]
    assert [s.cached for s in result.sentences] == [True, False, True]


def test_progress_and_cancel(workspace: Workspace, tiny_model: ModelInfo, doc: Document):
    seen = []
    translate_document(
        workspace, doc, on_paragraph=lambda p, done, total: seen.append((p.start, done, total))
    )
    assert seen == [(doc.paragraphs[0].start, 1, 2), (doc.paragraphs[1].start, 2, 2)]
    clear_cache(workspace)
    stop = translate_document(
        workspace, doc, on_paragraph=lambda *a: seen.append(a), cancelled=lambda: len(seen) > 2
    )
    assert stop.cancelled and len(stop.paragraphs) == 1
    assert len(_rows(workspace)) == 2


def test_cached_reads(workspace: Workspace, tiny_model: ModelInfo, doc: Document):
    before = cached_translation(workspace, doc)
    assert before.model == "translate-fr_en 0.1"
    assert [(s.translation, s.cached) for s in before.sentences] == [(None, False)] * 3
    assert passage_translation(workspace, doc, 0, len(doc.text)) is None
    full = translate_document(workspace, doc)
    after = cached_translation(workspace, doc)
    assert after.to_json()["paragraphs"] == [
        {**p, "sentences": [{**s, "cached": True} for s in p["sentences"]]}
        for p in full.to_json()["paragraphs"]
    ]
    s1, s2, s3 = doc.sentences
    assert (
        passage_translation(workspace, doc, s2.start + 3, s2.start + 5)
        == "Le cat dort sur la table."
    )
    assert passage_translation(workspace, doc, s1.start, s2.end) == (
        "Hello le world. Le cat dort sur la table."
    )
    assert passage_translation(workspace, doc, s3.start, s3.end, to="de") is None
    # a removed model's translations are still shown
    remove_model(workspace, "fr", "en")
    gone = cached_translation(workspace, doc)
    assert gone.model == ""
    assert [s.translation for s in gone.sentences] == [s.translation for s in full.sentences]


def test_same_language(workspace: Workspace, tiny_model: ModelInfo, doc: Document):
    with pytest.raises(SameLanguage, match="already in French"):
        translate_document(workspace, doc, "fr")
    with pytest.raises(SameLanguage):
        cached_translation(workspace, doc, "FR")
    assert passage_translation(workspace, doc, 0, 5, "fr") is None


def test_unknown_language(workspace: Workspace, tiny_model: ModelInfo):
    numbers = document_from_text("1234 5678.", "n.txt")
    assert numbers.lang == "und"
    with pytest.raises(TranslationError, match="language is unknown"):
        translate_document(workspace, numbers)


def test_model_missing(workspace: Workspace, doc: Document):
    with pytest.raises(ModelMissing) as caught:
        translate_document(workspace, doc, "de")
    message = str(caught.value)
    assert "reader models install fr de" in message
    assert "reader models install FILE.argosmodel" in message
    assert (caught.value.from_code, caught.value.to_code) == ("fr", "de")
    assert not workspace.translations_path.exists()


def test_pivot_through_english(
    workspace: Workspace, tiny_model: ModelInfo, en_de_model: Path, doc: Document, calls: list
):
    en_de = install_model_file(workspace, en_de_model)
    result = translate_document(workspace, doc, "de")
    assert result.model == "fr→en→de"
    assert [s.translation for s in result.sentences] == [
        "Hallo le Welt.",
        "Le Katze dort sur la table.",
        "Les Zeitungen publient des articles.",
    ]
    # each leg is one batch per paragraph
    assert calls == [
        ("translate-fr_en 0.1", 2),
        ("translate-en_de 0.1", 2),
        ("translate-fr_en 0.1", 1),
        ("translate-en_de 0.1", 1),
    ]
    # the first leg filled the fr->en cache too
    calls.clear()
    english = translate_document(workspace, doc, "en")
    assert calls == [] and all(s.cached for s in english.sentences)
    again = translate_document(workspace, doc, "de")
    assert calls == [] and all(s.cached for s in again.sentences)
    assert cached_translation(workspace, doc, "de").to_json() == again.to_json()
    assert en_de.key == "translate-en_de 0.1"


def test_route_selection():
    def model(a: str, b: str) -> ModelInfo:
        return ModelInfo(a, b, "1.0", f"{a}-{b}", True, code=f"translate-{a}_{b}")

    fr_en, en_de, fr_de = model("fr", "en"), model("en", "de"), model("fr", "de")
    assert find_route([fr_en, en_de, fr_de], "fr", "de").legs == (fr_de,)
    assert find_route([fr_en, en_de], "fr", "de").legs == (fr_en, en_de)
    assert find_route([fr_en, en_de], "fr", "de").label == "fr→en→de"
    assert find_route([fr_en], "fr", "de") is None
    assert find_route([en_de], "fr", "de") is None
    assert find_route([fr_en, en_de], "de", "fr") is None


def test_language_name():
    assert language_name("fr") == "French"
    assert language_name("xx") == "xx"


# The command line --------------------------------------------------------------------------
@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "small"
    corpus.mkdir()
    (corpus / "a.txt").write_text(TEXT + "\n", encoding="utf-8")
    (corpus / "b.txt").write_text("Hello world. The cat sleeps on the table.\n", encoding="utf-8")
    return corpus


def test_cli_translate(small_corpus: Path, tiny_argosmodel: Path, capsys: pytest.CaptureFixture):
    corpus = ["--corpus", str(small_corpus)]
    assert main(["translate", "a.txt", *corpus]) == 1
    err = capsys.readouterr().err
    assert "reader models install fr en" in err and "Traceback" not in err
    assert main(["models", "install", str(tiny_argosmodel), *corpus]) == 0
    capsys.readouterr()
    assert main(["translate", "a.txt", *corpus]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "Bonjour le monde.",
        "  Hello le world.",
        "Le chat dort sur la table.",
        "  Le cat dort sur la table.",
        "",
        "Les journaux publient des articles.",
        "  Les newspapers publient des articles.",
    ]
    assert "0 from the cache" in err
    assert main(["translate", "a.txt", "--json", "--to", "en", *corpus]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["model"] == "translate-fr_en 0.1"
    assert [s["cached"] for p in data["paragraphs"] for s in p["sentences"]] == [True] * 3
    assert main(["translate", "--clear-cache", *corpus]) == 0
    assert "3 sentences" in capsys.readouterr().err
    assert main(["translate", "a.txt", "--json", *corpus]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [s["cached"] for p in data["paragraphs"] for s in p["sentences"]] == [False] * 3


def test_cli_same_language(small_corpus: Path, capsys: pytest.CaptureFixture):
    assert main(["translate", "b.txt", "--to", "en", "--corpus", str(small_corpus)]) == 0
    captured = capsys.readouterr()
    assert "already in English" in captured.err and captured.out == ""
    assert main(["translate", "b.txt", "--json", "--corpus", str(small_corpus)]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "doc": "b.txt",
        "from": "en",
        "to": "en",
        "model": None,
        "paragraphs": [],
    }


def test_cli_missing_doc(small_corpus: Path, capsys: pytest.CaptureFixture):
    assert main(["translate", "nope.txt", "--corpus", str(small_corpus)]) == 1
    assert "Traceback" not in capsys.readouterr().err
