"""Tags made under the old segmentation survive the new one, through the real tag store.

The old reader split sentences with sentencex alone (never inside quotations) and made one
paragraph of each line of hard-wrapped wire copy. The new one splits inside quotations
(same text, so tags keep their offsets) and unwraps wire copy (new text, so the store
re-anchors every tag by its quote). Nothing that was anchored may end up orphaned.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reader.core.documents import corpus as corpus_module
from reader.core.documents import corpus_of, ingest, segment
from reader.core.tags import open_tag_store
from reader.core.tags.anchoring import ANCHORED, ORPHANED
from reader.core.workspace import Workspace

REFERENCE = Path(__file__).resolve().parent.parent / "data" / "sentences"
_BLANK_LINES = re.compile(r"\n[ \t]*\n")


def old_split(paragraph: str, lang: str) -> list[tuple[int, int]]:
    """The splitter before this change: sentencex pieces mapped back to offsets."""
    import sentencex

    spans, cursor = [], 0
    for piece in sentencex.segment(lang if lang and lang != "und" else "en", paragraph):
        piece = piece.strip()
        start = paragraph.find(piece, cursor) if piece else -1
        if start < 0:
            continue
        spans.append((start, start + len(piece)))
        cursor = start + len(piece)
    if paragraph[cursor:].strip():
        rest = paragraph[cursor:]
        spans.append((cursor + len(rest) - len(rest.lstrip()), len(paragraph.rstrip())))
    return spans


def old_layout(text: str) -> list[str]:
    """The layout before this change: a block is unwrapped only when every line but the last
    fills the width, so indented wire copy became one paragraph per line."""
    paragraphs: list[str] = []
    for block in _BLANK_LINES.split(text):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        width = max((len(line) for line in lines[:-1]), default=0)
        if (
            len(lines) > 1
            and 55 <= width <= 100
            and len(lines[-1]) <= width + 5
            and all(len(line) >= 0.6 * width for line in lines[:-1])
        ):
            paragraphs.append(" ".join(lines))
        else:
            paragraphs.extend(lines)
    return paragraphs


def _quoted_paragraphs(lang: str) -> list[str]:
    raw = (REFERENCE / f"{lang}.txt").read_text(encoding="utf-8")
    return [" ".join(block.split("\n")) for block in raw.strip().split("\n\n")]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    root.mkdir()
    for lang in ("en", "fr", "de", "it", "es"):
        (root / f"{lang}.txt").write_text("\n\n".join(_quoted_paragraphs(lang)[:40]) + "\n")
    (root / "wire.txt").write_text((REFERENCE / "wire" / "indented.txt").read_text())
    return root


def _tag_old_documents(root: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, dict]:
    """Under the old segmentation (and an older catalog version): tag every sentence of every
    document, plus ranges across sentence and paragraph ends. Returns id -> (doc, tag ids)."""
    with monkeypatch.context() as old:
        old.setattr(segment, "split_sentences", old_split)
        old.setattr(ingest, "layout_paragraphs", old_layout)
        old.setattr(corpus_module, "INGEST_VERSION", corpus_module.INGEST_VERSION - 1)
        ws = Workspace.open(root)
        corpus_of(ws).scan()
        store = open_tag_store(ws)
        made: dict[str, dict] = {}
        try:
            for info in corpus_of(ws).infos():
                doc = corpus_of(ws).load(info.id)
                tags = {}
                for s in doc.sentences:
                    tags[store.add(doc, s.start, s.end, "claim").id] = doc.text[s.start : s.end]
                for a, b in zip(doc.sentences[::3], doc.sentences[2::3], strict=False):
                    tags[store.add(doc, a.start, b.end, "context").id] = doc.text[a.start : b.end]
                made[doc.id] = {"doc": doc, "tags": tags}
        finally:
            store.close()
    return made


def test_tags_survive_the_new_segmentation(corpus: Path, monkeypatch: pytest.MonkeyPatch):
    made = _tag_old_documents(corpus, monkeypatch)
    old_wire = made["wire.txt"]["doc"]
    assert len(old_wire.paragraphs) > 50  # one paragraph per wrapped line, as before

    ws = Workspace.open(corpus)  # the new reader: the catalog is re-read (new ingest version)
    corpus_of(ws).scan()
    store = open_tag_store(ws)
    try:
        report = store.reconcile(corpus_of(ws))
        assert report.orphaned == []
        for doc_id, old in made.items():
            doc = corpus_of(ws).load(doc_id)
            tags = {t.id: t for t in store.for_doc(doc_id)}
            assert set(tags) == set(old["tags"])
            for tag_id, old_exact in old["tags"].items():
                tag = tags[tag_id]
                assert tag.status != ORPHANED
                assert doc.text[tag.start : tag.end] == tag.exact
                # the same words: only line breaks that wrapped became spaces
                assert tag.exact.split() == old_exact.split()
            if doc_id == "wire.txt":
                assert doc.text != old["doc"].text
                assert len(doc.paragraphs) == 13  # the headline and 12 paragraphs
            else:
                # same text: nothing moved, every tag still anchored at its old offsets
                assert doc.sha256 == old["doc"].sha256
                assert all(t.status == ANCHORED for t in tags.values())
                assert all(doc.text[t.start : t.end] == old["tags"][t.id] for t in tags.values())
                # more sentences than before (quotations are split); nearly every old
                # sentence start is still one (the rest were wrong: `". "` | `We must`)
                assert len(doc.sentences) > len(old["doc"].sentences)
                starts = {s.start for s in doc.sentences}
                kept = sum(1 for s in old["doc"].sentences if s.start in starts)
                assert kept >= 0.95 * len(old["doc"].sentences)
    finally:
        store.close()
