"""Offsets: every paragraph and sentence is `text[start:end]` of the clean text, for any input."""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reader.core.documents.ingest import SkipFile, document_from_text
from reader.core.documents.segment import split_sentences

WORDS = st.sampled_from(
    [
        "Tesla",
        "refund",
        "café",
        "e\u0301te\u0301",
        "Rückerstattung",
        "naïve",
        "🙂",
        "👩‍👩‍👧",
        "🇫🇷",
        "مرحبا",
        "بالعالم",
        "שלום",
        "עולם",
        "日本語",
        "Dr.",
        "U.S.",
        "45.000",
        "«oui»",
        "„Nein“",
        "…",
        "x\u200dy",
        "\t",
        "Ω",
        "ǅ",
        "ﬁ",
    ]
)
ENDS = st.sampled_from([".", "!", "?", "", "。", "؟", "...", ":"])
SENTENCE = st.builds(
    lambda ws, end: " ".join(ws) + end, st.lists(WORDS, min_size=1, max_size=8), ENDS
)
PARAGRAPH = st.builds(" ".join, st.lists(SENTENCE, min_size=1, max_size=5))
SEPARATOR = st.sampled_from(["\n", "\r\n", "\n\n", "\r\n\r\n", "\n \n", "\r"])


@st.composite
def raw_texts(draw) -> str:
    paragraphs = draw(st.lists(PARAGRAPH, min_size=1, max_size=6))
    text = paragraphs[0]
    for para in paragraphs[1:]:
        text += draw(SEPARATOR) + para
    form = draw(st.sampled_from(["NFC", "NFD", None]))
    return unicodedata.normalize(form, text) if form else text


def _check(doc) -> None:
    text = doc.text
    assert unicodedata.is_normalized("NFC", text)
    assert "\r" not in text
    previous_end = 0
    for i, para in enumerate(doc.paragraphs):
        body = text[para.start : para.end]
        assert body and body == body.strip() and "\n" not in body
        assert para.index == i and para.start >= previous_end
        previous_end = para.end
        covered = ""
        last = para.start
        for sentence in para.sentences:
            piece = text[sentence.start : sentence.end]
            assert piece and piece == piece.strip()
            assert para.start <= sentence.start < sentence.end <= para.end
            assert sentence.start >= last
            last = sentence.end
            covered += piece
        assert "".join(covered.split()) == "".join(body.split())
    assert [s.index for s in doc.sentences] == list(range(len(doc.sentences)))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_texts())
def test_offsets_hold_for_any_text(raw: str) -> None:
    try:
        doc = document_from_text(raw)
    except SkipFile:
        return
    _check(doc)
    expected = unicodedata.normalize("NFC", raw.replace("\r", ""))
    assert "".join(doc.text.split()) == "".join(expected.split())


def test_emoji_crlf_nfd_rtl_examples() -> None:
    raw = (
        "Titre 🙂\r\n\r\nL'e\u0301te\u0301 est là. 👩‍👩‍👧 Oui !\r\n\r\nمرحبا بالعالم. هذا نص؟ نعم."
    )
    doc = document_from_text(raw)
    _check(doc)
    assert doc.text == "Titre 🙂\n\nL'été est là. 👩‍👩‍👧 Oui !\n\nمرحبا بالعالم. هذا نص؟ نعم."
    rtl = doc.paragraphs[2]
    assert [doc.text[s.start : s.end] for s in rtl.sentences] == [
        "مرحبا بالعالم.",
        "هذا نص؟",
        "نعم.",
    ]
    emoji = doc.text.index("👩")
    assert doc.sentence_at(emoji).index == doc.paragraphs[1].sentences[1].index


def test_split_sentences_keeps_abbreviations() -> None:
    text = "Dr. Smith paid $45.5 million to the U.S. government. He left."
    assert [text[s:e] for s, e in split_sentences(text, "en")] == [
        "Dr. Smith paid $45.5 million to the U.S. government.",
        "He left.",
    ]
