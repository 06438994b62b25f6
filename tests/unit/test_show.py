"""`reader show DOC_ID [--json]`: the clean text, and its paragraph and sentence offsets."""

from __future__ import annotations

import json

import pytest

from reader.cli import main
from reader.core.documents import corpus_of
from reader.core.workspace import Workspace

WIRE = (
    "   GENEVA -- The agency said on Tuesday that talks would resume next week in\n"
    'the city. "We did not have any interest in that. No one did," a spokesman\n'
    "said, adding that a statement would follow.\n"
    "   Delegates are expected to arrive on Sunday evening for the first round of\n"
    "the talks, which could last several weeks.\n"
)


def run_cli(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_show_prints_the_clean_text(capsys, corpus_dir):
    (corpus_dir / "wire.txt").write_text(WIRE)
    code, out, err = run_cli(capsys, "show", "wire.txt", "--corpus", str(corpus_dir))
    assert code == 0 and err == ""
    doc = corpus_of(Workspace.open(corpus_dir)).load("wire.txt")
    assert out == doc.text + "\n"
    assert out.count("\n") == 3  # two unwrapped paragraphs, a blank line, the last newline


def test_show_json_is_exactly_the_documented_shape(capsys, corpus_dir):
    (corpus_dir / "wire.txt").write_text(WIRE)
    code, out, _ = run_cli(capsys, "show", "wire.txt", "--corpus", str(corpus_dir), "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"id", "text", "paragraphs"}
    assert data["id"] == "wire.txt"
    text = data["text"]
    for para in data["paragraphs"]:
        assert set(para) == {"start", "end", "sentences"}
        for sentence in para["sentences"]:
            assert set(sentence) == {"start", "end"}
            assert para["start"] <= sentence["start"] < sentence["end"] <= para["end"]
    sentences = [text[s["start"] : s["end"]] for p in data["paragraphs"] for s in p["sentences"]]
    assert sentences == [
        "GENEVA -- The agency said on Tuesday that talks would resume next week in the city.",
        '"We did not have any interest in that.',
        'No one did," a spokesman said, adding that a statement would follow.',
        "Delegates are expected to arrive on Sunday evening for the first round of the talks, "
        "which could last several weeks.",
    ]


def test_show_json_offsets_match_the_document(capsys, corpus_dir):
    code, out, _ = run_cli(capsys, "show", "003", "--corpus", str(corpus_dir), "--json")
    assert code == 0
    data = json.loads(out)
    doc = corpus_of(Workspace.open(corpus_dir)).load(data["id"])
    assert data["text"] == doc.text
    assert [(p["start"], p["end"]) for p in data["paragraphs"]] == [
        (p.start, p.end) for p in doc.paragraphs
    ]
    assert [(s["start"], s["end"]) for p in data["paragraphs"] for s in p["sentences"]] == [
        (s.start, s.end) for s in doc.sentences
    ]


def test_show_escapes_bidi_controls(capsys, corpus_dir):
    (corpus_dir / "bidi.txt").write_text("Price \u202e0.99\u202c paid in full.\n")
    code, out, _ = run_cli(capsys, "show", "bidi.txt", "--corpus", str(corpus_dir))
    assert code == 0
    assert "\u202e" not in out and "\\u202e" in out


@pytest.mark.parametrize("name", ["nope.txt", "/etc/passwd", "../outside.txt"])
def test_show_unknown_document_exits_1_with_one_line(capsys, corpus_dir, name):
    code, out, err = run_cli(capsys, "show", name, "--corpus", str(corpus_dir))
    assert code == 1 and out == ""
    assert err.startswith("reader: error: ") and err.count("\n") == 1
