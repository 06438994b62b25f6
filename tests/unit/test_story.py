"""The story map's core: claims oldest first, their rebuttals and context (linked, or by a
shared label), loose and orphaned passages, and the filters the screen, the memo and the CLI
share."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from support.story import TRANSLATION, make_story

from reader.core.documents import corpus_of
from reader.core.exchange.records import Record
from reader.core.tags.story import (
    LINKED,
    SAME_LABEL,
    StoryFilter,
    apply,
    build,
    outlet,
    story_of,
    verdict_name,
)


@dataclass(frozen=True)
class FakeTag:
    id: str
    tag: str
    exact: str = "a passage"
    links: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    verdict: str = "not-rated"
    note: str = ""
    status: str = "anchored"
    created: str = "2026-01-01T00:00:00.000Z"
    start: int = 0
    extra: dict = field(default_factory=dict)


def rec(
    tag: FakeTag,
    *,
    doc="a.txt",
    date=None,
    lang="en",
    title="T",
    url=None,
    site=None,
    translation=None,
) -> Record:
    return Record(
        ann=tag,
        doc_id=doc,
        title=title,
        lang=lang,
        date=date,
        path=doc,
        url=url,
        site=site,
        translation=translation,
        translation_lang="en",
        text="",
    )


def test_claims_oldest_document_first_then_tag_time_undated_last() -> None:
    records = [
        rec(FakeTag("c-undated", "claim"), date=None),
        rec(FakeTag("c-late", "claim", created="2026-01-01T00:00:00.000Z"), date="2025-03-01"),
        rec(FakeTag("c-early-2", "claim", created="2026-02-01T00:00:00.000Z"), date="2024-01-01"),
        rec(FakeTag("c-early-1", "claim", created="2026-01-05T00:00:00.000Z"), date="2024-01-01"),
    ]
    story = build(records)
    assert [g.claim.ann.id for g in story.claims] == [
        "c-early-1",
        "c-early-2",
        "c-late",
        "c-undated",
    ]


def test_linked_rebuttals_and_context_either_way_labels_group_unlinked_passages() -> None:
    claim = FakeTag("c1", "claim", links=("x-from-claim",), labels=("refund",))
    other = FakeTag("c2", "claim")
    records = [
        rec(claim, date="2025-01-01"),
        rec(other, date="2025-02-01"),
        rec(FakeTag("r1", "rebuttal", links=("c1",)), lang="fr", date="2025-01-03"),
        rec(FakeTag("r2", "rebuttal", links=("c1", "c2")), date="2025-01-02"),
        rec(FakeTag("x-from-claim", "context")),
        rec(FakeTag("x-label", "context", labels=("refund",))),
        # linked to another claim: not pulled in by the shared label
        rec(FakeTag("x-linked-c2", "context", links=("c2",), labels=("refund",))),
        rec(FakeTag("r-loose", "rebuttal")),
        rec(FakeTag("c-gone", "claim", status="orphaned")),
        rec(FakeTag("r-gone", "rebuttal", links=("c1",), status="orphaned")),
    ]
    story = build(records)
    first, second = story.claims
    assert [p.record.ann.id for p in first.rebuttals] == ["r2", "r1"]  # by document date
    assert {(p.record.ann.id, p.relation) for p in first.context} == {
        ("x-from-claim", LINKED),
        ("x-label", SAME_LABEL),
    }
    assert [p.record.ann.id for p in second.rebuttals] == ["r2"]  # under both claims
    assert "x-label" not in [p.record.ann.id for p in second.context]
    assert [p.record.ann.id for p in second.context] == ["x-linked-c2"]
    assert [r.ann.id for r in story.loose] == ["r-loose"]
    assert [r.ann.id for r in story.orphaned] == ["c-gone", "r-gone"]


def test_a_label_passage_goes_under_the_first_claim_with_that_label_only() -> None:
    records = [
        rec(FakeTag("c-late", "claim", labels=("a",)), date="2025-05-01"),
        rec(FakeTag("c-early", "claim", labels=("b", "a")), date="2025-01-01"),
        rec(FakeTag("c-other", "claim", labels=("z",)), date="2025-02-01"),
        rec(FakeTag("x", "context", labels=("a",))),
    ]
    story = build(records)
    placed = {g.claim.ann.id: [p.record.ann.id for p in g.context] for g in story.claims}
    assert placed == {"c-early": ["x"], "c-other": [], "c-late": []}


def _sample():
    return build(
        [
            rec(FakeTag("c1", "claim", exact="Tesla refunded", verdict="false"), date="2025-01-01"),
            rec(
                FakeTag("r1", "rebuttal", exact="Jamais rembourse", links=("c1",), labels=("x",)),
                lang="fr",
                doc="fr.md",
                translation="Never refunded",
            ),
            rec(FakeTag("c2", "claim", exact="Musk tweeted", verdict="true"), date="2025-02-01"),
            rec(FakeTag("r9", "rebuttal", exact="loose one", labels=("x",))),
        ]
    )


@pytest.mark.parametrize(
    ("flt", "claims", "loose"),
    [
        (StoryFilter(), ["c1", "c2"], ["r9"]),
        (StoryFilter(verdict="false"), ["c1"], []),
        (StoryFilter(lang="fr"), ["c1"], []),  # the French rebuttal keeps its claim
        (StoryFilter(doc_id="fr.md"), ["c1"], []),
        (StoryFilter(label="#X"), ["c1"], ["r9"]),
        (StoryFilter(text="never"), ["c1"], []),  # the translation is searched too
        (StoryFilter(text="MUSK"), ["c2"], []),
        (StoryFilter(text="nothing like it"), [], []),
    ],
)
def test_filters(flt: StoryFilter, claims: list[str], loose: list[str]) -> None:
    shown = apply(_sample(), flt)
    assert [g.claim.ann.id for g in shown.claims] == claims
    assert [r.ann.id for r in shown.loose] == loose
    if claims == ["c1"]:
        assert [p.record.ann.id for p in shown.claims[0].rebuttals] == ["r1"]  # whole group


def test_outlet_and_verdict_names() -> None:
    assert outlet(rec(FakeTag("a", "claim"), site="Le Monde", url="https://x.org/")) == "Le Monde"
    assert outlet(rec(FakeTag("a", "claim"), url="https://www.lemonde.fr/a")) == "lemonde.fr"
    assert outlet(rec(FakeTag("a", "claim"))) is None
    assert verdict_name("mostly-false") == "Mostly false"
    assert verdict_name("not-rated") == "Not rated"


@pytest.fixture
def tagged(tmp_path):
    return make_story(tmp_path / "corpus")


def test_story_of_real_tags_reads_documents_and_translation(tagged) -> None:
    ws, ids = tagged
    from reader.core.tags import open_tag_store

    with open_tag_store(ws) as store:
        story = story_of(ws, store.list())
    (group,) = story.claims
    assert group.claim.ann.id == ids["claim"]
    (rebuttal,) = group.rebuttals
    assert rebuttal.record.site == "Le Journal"
    assert rebuttal.record.url == "https://example.org/fr/remboursement"
    assert rebuttal.record.translation == TRANSLATION
    assert [(p.record.ann.id, p.relation) for p in group.context] == [(ids["context"], SAME_LABEL)]
    assert story.loose == []


def test_search_label_filter_is_current_without_reindex(workspace) -> None:
    """`label:x` in the library's search: documents with a tag labelled x, read from the tag
    store at query time (a label added after indexing counts at once)."""
    from reader.core.search import search
    from reader.core.tags import open_tag_store

    def found(query: str) -> list[str]:
        return sorted(h.id[:3] for h in search(workspace, query, limit=10).hits)

    assert found("label:tesla-refund") == []
    doc = corpus_of(workspace).load(corpus_of(workspace).resolve_id("003"))
    with open_tag_store(workspace) as store:
        sentence = doc.sentences[0]
        tag = store.add(doc, sentence.start, sentence.end, "claim")
        store.set_labels(tag.id, add=["#Tesla-Refund"])
    assert found("label:tesla-refund") == ["003"]
    assert found("label:#TESLA-REFUND") == ["003"]
    assert "003" not in found("tesla NOT label:tesla-refund")
    assert found("label:other") == []
    result = search(workspace, "label:tesla-refund", limit=10)
    assert result.error is None


def test_verdict_and_labels_in_every_data_export(tagged, tmp_path) -> None:
    """Issue 12 pt 6: verdict and labels in JSON, JSONL, CSV, W3C (labels as `tagging` bodies,
    read back as labels) and qdpx (in the selection's description)."""
    import csv
    import io
    import json
    import zipfile

    from reader.cli import main
    from reader.core.exchange.export import export
    from reader.core.tags import open_tag_store

    ws, ids = tagged

    def text(fmt: str) -> str:
        stream = io.StringIO()
        export(ws, fmt, stream=stream)
        return stream.getvalue()

    claim = next(a for a in json.loads(text("json"))["annotations"] if a["id"] == ids["claim"])
    assert (claim["verdict"], claim["labels"]) == ("mostly-false", ["tesla-refund"])
    line = next(json.loads(x) for x in text("jsonl").splitlines() if ids["claim"] in x)
    assert (line["verdict"], line["labels"]) == ("mostly-false", ["tesla-refund"])
    row = next(
        r
        for r in csv.DictReader(io.StringIO(text("csv").lstrip("\ufeff")))
        if r["id"] == ids["claim"]
    )
    assert (row["verdict"], row["labels"]) == ("mostly-false", "tesla-refund")
    w3c = json.loads(text("w3c"))
    item = next(i for i in w3c["first"]["items"] if ids["claim"] in i["id"])
    tagging = [b["value"] for b in item["body"] if b.get("purpose") == "tagging"]
    assert tagging == ["claim", "tesla-refund"]
    assert {"type": "TextualBody", "purpose": "assessing", "value": "mostly-false"} in item["body"]
    out = tmp_path / "tags.qdpx"
    export(ws, "qdpx", out=out)
    with zipfile.ZipFile(out) as archive:
        project = archive.read("project.qde").decode()
    assert "verdict mostly-false" in project and "labels tesla-refund" in project
    # the W3C file brings the labels back
    path = tmp_path / "tags.jsonld"
    path.write_text(text("w3c"), encoding="utf-8")
    with open_tag_store(ws) as store:
        for tag_id in ids.values():
            store.remove(tag_id)
    assert main(["import", str(path), "--corpus", str(ws.corpus_root)]) == 0
    with open_tag_store(ws) as store:
        back = store.get(ids["claim"])
    assert (back.verdict, back.labels) == ("mostly-false", ("tesla-refund",))
