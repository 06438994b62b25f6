"""Language identification: whole sample, case normalised, confidence, HTML hints.

The sets in tests/data/lang/ are real text (built by `python bench/news.py`): paragraphs of
the Universal Declaration of Human Rights in 23 languages and parliamentary speeches in four
(short.jsonl), and news headlines in capitals with their first sentences (wire.jsonl). The
full sets and their numbers are in bench/ingest.py.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from reader.core.documents.ingest import document_from_text, read_document
from reader.core.documents.language import SAMPLE_CHARS, detect, sample_of
from reader.core.documents.model import LOW_CONFIDENCE

DATA = Path(__file__).resolve().parents[1] / "data" / "lang"


def _rows(name: str) -> list[dict]:
    with open(DATA / name, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_short_texts_in_many_languages():
    rows = _rows("short.jsonl")
    langs = Counter(r["lang"] for r in rows)
    assert len(langs) >= 20 and min(langs.values()) >= 8
    wrong = [(r["lang"], detect(r["text"]).lang, r["text"]) for r in rows]
    wrong = [w for w in wrong if w[0] != w[1]]
    assert len(wrong) <= 2, wrong  # 1 of 232 today: "Dank u. Nu de derde motie." (nl -> de)


def test_all_caps_wire_copy():
    rows = _rows("wire.jsonl")
    assert len(rows) >= 250
    assert all(r["text"].split("\n")[0].isupper() for r in rows)
    wrong = [r["text"] for r in rows if detect(r["text"]).lang != "en"]
    assert len(wrong) <= len(rows) * 0.005, wrong


def test_upper_case_is_normalised():
    # Before: the first 80 characters, not lowercased, read as German.
    text = "MERKEL WARNS OF HARD WINTER AS GAS PRICES SOAR"
    found = detect(text)
    assert found.lang == "en"
    assert sample_of(text) == text.lower()


def test_whole_sample_is_used_not_the_first_80_characters():
    names = "Zürich, München, Köln, Düsseldorf, Straßburg, Göteborg, Malmö, Århus — "
    body = (
        "the mayors of these cities met on Monday to discuss the cost of public transport, "
        "and they agreed that ticket prices should stay the same for another year. "
    )
    assert detect(names).lang != "en"
    assert detect(names + body * 3).lang == "en"
    assert len(sample_of("x " * SAMPLE_CHARS)) <= SAMPLE_CHARS


def test_confidence_is_stored_and_uncertain_when_low():
    doc = document_from_text(
        "The council met on Monday to discuss the budget for the coming year. It agreed, "
        "after a long debate, to raise spending on schools and on the roads."
    )
    assert doc.lang == "en" and doc.lang_confidence is not None
    assert doc.lang_confidence >= LOW_CONFIDENCE and not doc.info.lang_uncertain
    short = document_from_text("Dank u. Nu de derde motie.")
    assert short.lang_confidence is not None and short.lang_confidence < LOW_CONFIDENCE
    assert short.info.lang_uncertain
    assert short.info.to_json()["lang"] == short.lang  # the code itself stays ISO 639-1


def test_stated_language_has_no_confidence():
    doc = document_from_text("---\nlang: fr\n---\nThe text is in English.", "note.md")
    assert (doc.lang, doc.lang_confidence) == ("fr", None)
    doc = document_from_text("---\nlanguage: pt-BR\n---\nTexto.", "note.md")
    assert doc.lang == "pt"


def test_no_letters_is_undetermined():
    doc = document_from_text("12 345 — 678 / 90")
    assert (doc.lang, doc.lang_confidence) == ("und", None)


GERMAN = (
    "<p>Der Stadtrat hat am Montag nach einer langen Debatte beschlossen, die Ausgaben für "
    "Schulen und Straßen im kommenden Jahr deutlich zu erhöhen. Die Opposition kritisierte "
    "den Beschluss als zu teuer und kündigte an, dagegen vorzugehen.</p>"
    "<p>Der Bürgermeister verteidigte die Entscheidung und sagte, die Stadt habe lange genug "
    "gespart, nun müsse investiert werden.</p>"
)


def _html(tmp_path: Path, lang: str, body: str) -> Path:
    path = tmp_path / "page.html"
    path.write_text(
        f'<html lang="{lang}"><head><title>Seite</title></head><body><article>'
        f"{body}</article></body></html>",
        encoding="utf-8",
    )
    return path


def test_html_declared_language_loses_to_the_text(tmp_path):
    doc = read_document(_html(tmp_path, "en", GERMAN), tmp_path)
    assert doc.lang == "de" and doc.lang_confidence is not None


@pytest.mark.parametrize("declared", ["fi", "pt-BR"])
def test_html_declared_language_decides_short_text(tmp_path, declared):
    doc = read_document(_html(tmp_path, declared, "<p>Hyvä on.</p>"), tmp_path)
    assert doc.lang == declared.split("-")[0].lower() and doc.lang_confidence is None


def test_seeds_languages_are_certain():
    from reader.core.documents.ingest import ingest
    from reader.core.workspace import bundled_corpus

    docs, _ = ingest(bundled_corpus())
    assert {d.lang for d in docs} == {"en", "fr", "it", "de"}
    assert all(d.lang_confidence and d.lang_confidence >= 0.9 for d in docs)
