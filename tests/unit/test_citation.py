"""Citations: «quote» — Outlet, "Title", date, URL, with the translation on its own line when
the passage is not in the user's language; `reader tags cite ID [--format md|text]`."""

from __future__ import annotations

from dataclasses import replace

import pytest
from support.story import CLAIM, REBUTTAL, TRANSLATION, make_story

from reader.cli import main
from reader.core.citation import citation
from reader.core.errors import ReaderError
from reader.core.tags import open_tag_store
from reader.core.tags.story import records_for


@pytest.fixture
def tagged(tmp_path):
    return make_story(tmp_path / "corpus")


def _records(ws):
    with open_tag_store(ws) as store:
        return {r.ann.tag: r for r in records_for(ws, store.list())}


def test_text(tagged) -> None:
    ws, _ = tagged
    records = _records(ws)
    assert citation(records["claim"], user_lang="en") == (
        f'«{CLAIM}» — Example News, "Refund story", 2025-10-30, https://news.example.com/refund'
    )
    assert citation(records["rebuttal"], user_lang="en") == (
        f'«{REBUTTAL}» — Le Journal, "Le remboursement", 2025-11-01, '
        f"https://example.org/fr/remboursement\n(en) {TRANSLATION}"
    )
    # in the user's own language: no translation line
    assert "\n" not in citation(records["rebuttal"], user_lang="fr")


def test_missing_parts_left_out_and_controls_escaped(tagged) -> None:
    ws, _ = tagged
    record = replace(_records(ws)["claim"], site=None, url=None, date=None, title="A\x1b[2Jb")
    text = citation(record, user_lang="en")
    assert text == f'«{CLAIM}» — "A\\x1b[2Jb"'
    assert "\x1b" not in text


def test_markdown(tagged) -> None:
    ws, _ = tagged
    text = citation(_records(ws)["rebuttal"], user_lang="en", fmt="md")
    assert text.splitlines() == [
        f"> «{REBUTTAL}»",
        f"> *en:* {TRANSLATION}",
        ">",
        "> — Le Journal, *Le remboursement*, 2025-11-01, <https://example.org/fr/remboursement>",
    ]
    with pytest.raises(ReaderError, match="text, md"):
        citation(_records(ws)["claim"], user_lang="en", fmt="html")


def test_cli(tagged, capsys) -> None:
    ws, ids = tagged
    corpus = ["--corpus", str(ws.corpus_root)]
    assert main(["tags", "cite", ids["rebuttal"][:6], *corpus]) == 0
    out = capsys.readouterr().out
    assert out == citation(_records(ws)["rebuttal"], user_lang="en") + "\n"
    assert main(["tags", "cite", ids["claim"][:6], "--format", "md", *corpus]) == 0
    assert capsys.readouterr().out.startswith(f"> «{CLAIM}»\n")
    assert main(["tags", "cite", "zzzzzz", *corpus]) == 1


def test_edit_verdict_unknown_exits_1_with_the_list(tagged, capsys) -> None:
    ws, ids = tagged
    corpus = ["--corpus", str(ws.corpus_root)]
    assert main(["tags", "edit", ids["claim"][:6], "--verdict", "bogus", *corpus]) == 1
    err = capsys.readouterr().err
    assert "true, mostly-true, mixed, mostly-false, false, unproven, not-rated" in err
