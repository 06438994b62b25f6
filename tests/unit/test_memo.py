"""The `memo` export: claims with their rebuttals and context nested, the details a newsroom
needs (quote, translation, outlet, date, URL, verdict), and none of the machine fields."""

from __future__ import annotations

import io
import re

import pytest
from support.story import NOTE, TRANSLATION, make_story

from reader.cli import main
from reader.core.documents import corpus_of
from reader.core.exchange import formats
from reader.core.exchange.export import export
from reader.core.tags import open_tag_store


@pytest.fixture
def tagged(tmp_path):
    return make_story(tmp_path / "corpus")


def _memo(ws, **kw) -> str:
    stream = io.StringIO()
    export(ws, "memo", stream=stream, **kw)
    return stream.getvalue()


def test_registered_with_claimreview() -> None:
    assert {"memo", "claimreview"} <= set(formats.names())
    assert formats.get("memo").extension == ".md"


def test_claim_with_nested_rebuttal_and_context(tagged) -> None:
    ws, _ = tagged
    text = _memo(ws)
    claim = text.index("## Claim 1: Example News, 2025-10-30")
    rebuttals = text.index("### Rebuttals")
    context = text.index("### Context")
    assert claim < rebuttals < context
    block = text[claim:rebuttals]
    assert "> Tesla refunded the deposit within 24 hours, the company said." in block
    assert "- Verdict: Mostly false" in block
    assert (
        '- Source: Example News, "Refund story", 2025-10-30, <https://news.example.com/refund>, '
        "language en" in block
    )
    assert "- Labels: #tesla-refund" in block
    answer = text[rebuttals:context]
    assert "#### Le Journal, 2025-11-01" in answer
    assert "> Le client affirme n’avoir jamais reçu le remboursement." in answer
    assert f"> *en:* {TRANSLATION}" in answer
    assert "<https://example.org/fr/remboursement>, language fr" in answer
    assert "- Verdict" not in answer  # a rebuttal without a verdict of its own
    assert "Grouped by a shared label" in text[context:]


def test_notes_keep_line_breaks(tagged) -> None:
    ws, _ = tagged
    first, second = NOTE.split("\n")
    assert f"- Note:\n  {first}\\\n  {second}\n" in _memo(ws)


def test_no_ids_offsets_or_raw_timestamps(tagged) -> None:
    ws, ids = tagged
    text = _memo(ws)
    for tag_id in ids.values():
        assert tag_id not in text and tag_id[:8] not in text
    assert not re.search(r"\d{2}:\d{2}", text)  # no times
    assert "offset" not in text and "by " not in text.lower().replace("grouped by", "")
    assert "\n\n\n" not in text


def test_no_empty_sections_and_orphans_last(tagged) -> None:
    ws, ids = tagged
    with open_tag_store(ws) as store:
        store.remove(ids["context"])
    text = _memo(ws)
    assert "### Context" not in text
    assert "Orphaned" not in text and "not linked to a claim" not in text
    (ws.corpus_root / "fr.md").write_text("---\ntitle: Le remboursement\n---\n\nAutre texte.\n")
    corpus_of(ws).scan()
    text = _memo(ws)
    assert "### Rebuttals" not in text  # the rebuttal's passage is gone
    orphans = text.index("## Orphaned tags")
    assert text.index("## Claim 1") < orphans
    assert "> Le client affirme n’avoir jamais reçu le remboursement." in text[orphans:]


def test_control_characters_escaped(tagged) -> None:
    ws, _ = tagged
    from dataclasses import replace

    from reader.core.exchange.export import collect, render

    records = [replace(r, title="Bad \x1b[31mtitle\u202e") for r in collect(ws)]
    text = render(records, ws, "memo")
    assert "\x1b" not in text and "\u202e" not in text
    assert "Bad \\x1b[31mtitle" in text


def test_cli(tagged, capsys) -> None:
    ws, _ = tagged
    assert main(["export", "--format", "memo", "--corpus", str(ws.corpus_root)]) == 0
    assert "## Claim 1: Example News" in capsys.readouterr().out
