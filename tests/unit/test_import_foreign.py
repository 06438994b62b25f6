"""`reader import` of what other tools write: spreadsheets' CSV (our csv export saved again by
Excel: `;`, a legacy code page, UTF-16 "Unicode text"), Hypothesis exports and API answers,
W3C annotations without our kinds, schema.org ClaimReview (ours, a fact-checker's, embedded in
a fact-check page), REFI-QDA projects that keep their texts elsewhere; and clear refusals."""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from reader.cli import main
from reader.core.documents import corpus_of
from reader.core.errors import ReaderError
from reader.core.exchange.export import export
from reader.core.exchange.importer import import_file
from reader.core.tags import open_tag_store as open_store
from reader.core.workspace import Workspace

HOUSING = (
    "Council approves housing plan\n\n"
    "The city council voted on Tuesday to approve a new housing plan that would add thousands "
    "of affordable homes over the next decade.\n\n"
    "Critics said the plan did not go far enough, while developers warned that new rules on "
    "materials would raise construction costs.\n"
)
KLIMA = (
    "Kabinett beschließt Klimaprogramm\n\n"
    "Die Bundesregierung hat am Mittwoch ein Programm beschlossen, das den Ausstoß deutlich "
    "senken soll.\n\n"
    "Umweltverbände forderten schärfere Vorgaben für den Verkehrssektor 🚗 und die "
    "Landwirtschaft.\n"
)
PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Housing</title>'
    '<link rel="canonical" href="https://metrodaily.example.com/news/housing"></head><body>'
    "<article><p>The city council voted on Tuesday to approve a new housing plan that would "
    "add thousands of affordable homes over the next decade.</p><p>Critics said the plan did "
    "not go far enough, while developers warned that new rules on materials would raise "
    "construction costs.</p></article></body></html>"
)


def _workspace(root: Path) -> Workspace:
    root.mkdir(parents=True)
    (root / "housing.txt").write_text(HOUSING, encoding="utf-8")
    (root / "klima.txt").write_text(KLIMA, encoding="utf-8")
    (root / "metro.html").write_text(PAGE, encoding="utf-8")
    ws = Workspace.open(root)
    corpus_of(ws).scan()
    return ws


def _tags(ws: Workspace) -> list[dict]:
    with open_store(ws) as store:
        return sorted((t.to_json() for t in store.list()), key=lambda t: (t["doc_id"], t["start"]))


@pytest.fixture
def tagged(tmp_path) -> Workspace:
    ws = _workspace(tmp_path / "a")
    with open_store(ws) as store:

        def add(doc_id, quote, kind, **kw):
            doc = corpus_of(ws).load(doc_id)
            start = doc.text.index(quote)
            return store.add(doc, start, start + len(quote), kind, **kw).id

        claim = add("housing.txt", "add thousands of affordable homes", "claim", note="=SUM(A1)")
        store.set_verdict(claim, "mixed")
        store.set_labels(claim, add=["housing"])
        add("housing.txt", "the plan did not go far enough", "rebuttal", links=[claim])
        add("klima.txt", "Verkehrssektor 🚗 und die", "context", note="-5% laut Studie")
        other = add("klima.txt", "deutlich senken soll", "claim")
        store.set_verdict(other, "mostly-false")
    return ws


def _fresh(ws: Workspace, tmp_path: Path) -> Workspace:
    target = tmp_path / "b"
    shutil.copytree(ws.corpus_root, target, ignore=shutil.ignore_patterns(".reader"))
    fresh = Workspace.open(target)
    corpus_of(fresh).scan()
    return fresh


KEYS = ("id", "doc_id", "tag", "start", "end", "exact", "note", "links", "verdict", "labels")


def _same(a: list[dict], b: list[dict]) -> None:
    assert [{k: t[k] for k in KEYS} for t in a] == [{k: t[k] for k in KEYS} for t in b]


# CSV -----------------------------------------------------------------------------------------
def _resaved(path: Path, delimiter: str, encoding: str) -> bytes:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding, errors="replace")


def test_csv_export_round_trips(tagged, tmp_path):
    out = export(tagged, "csv", out=tmp_path / "tags.csv")
    fresh = _fresh(tagged, tmp_path)
    assert import_file(fresh, out).line() == "imported 4, already present 0, orphaned 0, skipped 0"
    _same(_tags(fresh), _tags(tagged))  # the note "=SUM(A1)" lost its guarding "'"
    assert import_file(fresh, out).line().startswith("imported 0, already present 4")


@pytest.mark.parametrize(
    ("name", "delimiter", "encoding"),
    [
        ("excel-de.csv", ";", "cp1252"),  # Excel, German locale, "CSV (Trennzeichen-getrennt)"
        ("excel-utf8.csv", ";", "utf-8-sig"),  # "CSV UTF-8"
        ("excel-unicode.txt", "\t", "utf-16"),  # "Unicode Text"
    ],
)
def test_csv_saved_again_by_a_spreadsheet(tagged, tmp_path, name, delimiter, encoding):
    out = export(tagged, "csv", out=tmp_path / "tags.csv")
    saved = tmp_path / name
    saved.write_bytes(_resaved(out, delimiter, encoding))
    fresh = _fresh(tagged, tmp_path)
    report = import_file(fresh, saved)
    assert report.line() == "imported 4, already present 0, orphaned 0, skipped 0"
    got, want = _tags(fresh), _tags(tagged)
    # cp1252 has no emoji: that passage is found again by its context, the rest is the same.
    assert [(t["id"], t["start"], t["end"], t["note"]) for t in got] == [
        (t["id"], t["start"], t["end"], t["note"]) for t in want
    ]


def test_csv_without_our_columns_is_refused(tmp_path, capsys):
    ws = _workspace(tmp_path / "a")
    bad = tmp_path / "budget.csv"
    bad.write_text("name;value\nfoo;1\n", encoding="utf-8")
    with pytest.raises(ReaderError, match="needs the columns tag, exact and doc_id"):
        import_file(ws, bad)
    assert main(["import", str(bad), "--corpus", str(ws.corpus_root)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing: tag, exact, doc_id" in err[0]


def test_a_markdown_file_is_refused_as_no_tag_export(tagged, tmp_path):
    out = export(tagged, "md", out=tmp_path / "tags.md")
    with pytest.raises(ReaderError, match="not a tag export"):
        import_file(tagged, out)


# Hypothesis ----------------------------------------------------------------------------------
def _hypothesis_rows() -> list[dict]:
    uri = "http://www.metrodaily.example.com/news/housing/?utm_source=tw"
    return [
        {
            "id": "Wq3aBCdeEfGh1234567890",
            "created": "2024-05-02T09:00:00.000000+00:00",
            "updated": "2024-05-02T09:05:00.000000+00:00",
            "user": "acct:alice@hypothes.is",
            "uri": uri,
            "text": "Source? The minutes say 2,000.",
            "tags": ["Claim", "Housing Policy"],
            "target": [
                {
                    "source": uri,
                    "selector": [
                        {
                            "type": "RangeSelector",
                            "startContainer": "/main[1]/p[1]",
                            "startOffset": 60,
                            "endContainer": "/main[1]/p[1]",
                            "endOffset": 93,
                        },
                        {"type": "TextPositionSelector", "start": 1147, "end": 1180},
                        {
                            "type": "TextQuoteSelector",
                            "exact": "add thousands of affordable homes",
                            "prefix": "plan that would ",
                            "suffix": " over the next",
                        },
                    ],
                }
            ],
            "document": {"title": ["Council approves housing plan"]},
            "user_info": {"display_name": "Alice Example"},
        },
        {
            "id": "Xr4bCDefFgHi2345678901",
            "user": "acct:bob@hypothes.is",
            "uri": "https://metrodaily.example.com/news/housing",
            "text": "Good point",
            "tags": [],
            "target": [
                {
                    "source": "https://metrodaily.example.com/news/housing",
                    "selector": [{"type": "TextQuoteSelector", "exact": "did not go far enough"}],
                }
            ],
        },
        {  # a page note: no passage
            "id": "PageNote1",
            "user": "acct:bob@hypothes.is",
            "uri": "https://metrodaily.example.com/news/housing",
            "text": "Page note",
            "target": [{"source": "https://metrodaily.example.com/news/housing"}],
        },
    ]


@pytest.mark.parametrize(
    "wrap",
    [
        lambda rows: {"export_date": "2024-05-03", "annotations": rows},  # the client's export
        lambda rows: {"total": len(rows), "rows": rows},  # the search API's answer
    ],
)
def test_hypothesis_annotations_are_imported(tmp_path, wrap):
    ws = _workspace(tmp_path / "a")
    path = tmp_path / "hypothesis.json"
    path.write_text(json.dumps(wrap(_hypothesis_rows())), encoding="utf-8")
    report = import_file(ws, path)
    assert report.line() == (
        "imported 2, already present 0, orphaned 0, skipped 1 "
        "(a page note or reply (no quoted passage))"
    )
    claim, comment = _tags(ws)
    text = corpus_of(ws).load("metro.html").text
    assert claim["doc_id"] == comment["doc_id"] == "metro.html"
    assert text[claim["start"] : claim["end"]] == "add thousands of affordable homes"
    assert (claim["tag"], claim["labels"], claim["note"], claim["author"]) == (
        "claim",
        ["housing-policy"],
        "Source? The minutes say 2,000.",
        "Alice Example",
    )
    assert (comment["tag"], comment["author"], comment["status"]) == ("context", "bob", "anchored")
    assert import_file(ws, path).line().startswith("imported 0, already present 2")


# W3C from other tools ------------------------------------------------------------------------
def test_w3c_annotations_without_our_kinds_are_context_with_their_comment(tmp_path):
    ws = _workspace(tmp_path / "a")
    items = [
        {
            "@context": "http://www.w3.org/ns/anno.jsonld",
            "id": "http://example.org/anno1",
            "type": "Annotation",
            "motivation": "commenting",
            "creator": "acct:carol@hypothes.is",  # Hypothesis' JSON-LD
            "body": {"type": "TextualBody", "value": "Developers disagree", "format": "text/plain"},
            "target": {
                "source": "https://metrodaily.example.com/news/housing",
                "selector": {"type": "TextQuoteSelector", "exact": "raise construction costs"},
            },
        },
        {
            "@context": "http://www.w3.org/ns/anno.jsonld",
            "id": "http://example.org/anno2",
            "type": "Annotation",
            "motivation": "oa:highlighting",
            "bodyValue": "Nice",
            "target": {
                "source": "http://example.org/elsewhere",
                "selector": {
                    "type": "FragmentSelector",
                    "value": "par=1",
                    "refinedBy": {"type": "TextQuoteSelector", "exact": "Die Bundesregierung hat"},
                },
            },
        },
        {"id": "http://example.org/anno3", "type": "Annotation", "target": "http://example.org/"},
    ]
    path = tmp_path / "annotations.jsonld"
    path.write_text(json.dumps(items), encoding="utf-8")
    assert import_file(ws, path).line() == (
        "imported 2, already present 0, orphaned 0, skipped 1 (no target passage)"
    )
    graph = tmp_path / "graph.jsonld"  # the same, flattened into an @graph
    graph.write_text(json.dumps({"@context": items[0]["@context"], "@graph": items}), "utf-8")
    assert import_file(ws, graph).line().startswith("imported 0, already present 2")
    klima, metro = _tags(ws)
    assert (metro["doc_id"], metro["tag"], metro["note"], metro["author"]) == (
        "metro.html",
        "context",
        "Developers disagree",
        "carol",
    )
    assert (klima["doc_id"], klima["exact"], klima["note"]) == (
        "klima.txt",
        "Die Bundesregierung hat",
        "Nice",
    )


# ClaimReview ---------------------------------------------------------------------------------
def test_claimreview_export_round_trips_claims_and_verdicts(tagged, tmp_path):
    out = export(tagged, "claimreview", out=tmp_path / "reviews.jsonld")
    fresh = _fresh(tagged, tmp_path)
    assert import_file(fresh, out).line() == "imported 2, already present 0, orphaned 0, skipped 0"
    got = [(t["doc_id"], t["exact"], t["verdict"]) for t in _tags(fresh)]
    want = [(t["doc_id"], t["exact"], t["verdict"]) for t in _tags(tagged) if t["tag"] == "claim"]
    assert got == want
    assert import_file(fresh, out).line().startswith("imported 0, already present 2")


FACT_CHECK = {
    "@context": "https://schema.org",
    "@type": "ClaimReview",
    "url": "https://factcheck.example.org/2024/05/housing/",
    "claimReviewed": "a new housing plan that would add thousands of affordable homes",
    "itemReviewed": {
        "@type": "Claim",
        "appearance": [{"@type": "CreativeWork", "url": "https://metrodaily.example.com/news/housing"}],
    },
    "author": {"@type": "Organization", "name": "Example FactCheck"},
    "reviewRating": {"@type": "Rating", "ratingValue": 2, "bestRating": 6, "worstRating": 1,
                     "alternateName": "Pants on Fire!"},
    "datePublished": "2024-05-02",
}  # fmt: skip


def test_a_fact_check_page_with_claimreview_json_ld(tmp_path):
    ws = _workspace(tmp_path / "a")
    page = tmp_path / "factcheck.html"
    page.write_text(
        '<html><head><script type="application/ld+json">'
        f"{json.dumps({'@context': 'https://schema.org', '@graph': [FACT_CHECK]})}"
        "</script></head><body><p>Our rating: false.</p></body></html>",
        encoding="utf-8",
    )
    assert import_file(ws, page).line() == "imported 1, already present 0, orphaned 0, skipped 0"
    (tag,) = _tags(ws)
    assert (tag["doc_id"], tag["tag"], tag["verdict"], tag["author"]) == (
        "metro.html",
        "claim",
        "false",
        "Example FactCheck",
    )
    assert "https://factcheck.example.org/2024/05/housing/" in tag["note"]


def test_a_web_page_without_claimreview_is_refused(tmp_path):
    ws = _workspace(tmp_path / "a")
    with pytest.raises(ReaderError, match=r"without schema\.org ClaimReview"):
        import_file(ws, ws.corpus_root / "metro.html")


# REFI-QDA ------------------------------------------------------------------------------------
QDE = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="p" origin="MAXQDA 2020 (Release 20.4.2)">
 <Users><User guid="U1" name="Ana"/></Users>
 <CodeBook><Codes><Code guid="C1" name="Claim" isCodable="true"/>
  <Code guid="C2" name="Economy" isCodable="true"/></Codes></CodeBook>
 <Sources>
  <TextSource plainTextPath="internal://A.txt" guid="A" name="housing"/>
  <TextSource plainTextPath="internal://B.txt" guid="B" name="klima">
   <PlainTextSelection guid="S1" startPosition="{s1}" endPosition="{e1}" creatingUser="U1">
    <Coding guid="K1"><CodeRef targetGUID="C1"/></Coding></PlainTextSelection>
  </TextSource>
  <PDFSource guid="P" name="housing-scan" path="internal://P.pdf">
   <Representation guid="R" plainTextPath="internal://r.txt">
    <PlainTextSelection guid="S2" startPosition="{s2}" endPosition="{e2}">
     <Coding guid="K2"><CodeRef targetGUID="C2"/></Coding></PlainTextSelection>
   </Representation>
  </PDFSource>
 </Sources>
</Project>"""


def test_qdpx_with_texts_at_the_top_and_pdf_representations(tmp_path):
    ws = _workspace(tmp_path / "a")
    klima, scan = KLIMA.replace("\n", "\r\n"), HOUSING
    s1 = klima.index("deutlich senken soll")
    s2 = scan.index("raise construction costs")
    project = QDE.format(s1=s1, e1=s1 + 20, s2=s2, e2=s2 + 24)
    path = tmp_path / "maxqda.qdpx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", project)
        archive.writestr("B.txt", klima)  # no sources/ folder
        archive.writestr("SOURCES/R.TXT", scan)  # another case
    # The uncoded source "housing" (its text not even in the archive) is not reported.
    assert import_file(ws, path).line() == "imported 2, already present 0, orphaned 0, skipped 0"
    housing, klima_tag = _tags(ws)
    assert (klima_tag["doc_id"], klima_tag["tag"], klima_tag["exact"], klima_tag["author"]) == (
        "klima.txt",
        "claim",
        "deutlich senken soll",
        "Ana",
    )
    assert (housing["doc_id"], housing["tag"], housing["labels"]) == (
        "housing.txt",
        "context",
        ["economy"],
    )


def test_escape_sequences_in_another_tools_notes_leave_no_residue(tmp_path):
    ws = _workspace(tmp_path / "a")
    row = {
        "id": "esc",
        "user": "acct:\x1b]0;title\x07mallory@hypothes.is",
        "uri": "https://metrodaily.example.com/news/housing",
        "text": "see \x1b[31mthis\x1b[0m\x1b[2J now",
        "tags": [],
        "target": [
            {
                "source": "https://metrodaily.example.com/news/housing",
                "selector": [{"type": "TextQuoteSelector", "exact": "did not go far enough"}],
            }
        ],
    }
    path = tmp_path / "h.json"
    path.write_text(json.dumps({"rows": [row]}), encoding="utf-8")
    assert import_file(ws, path).line().startswith("imported 1")
    (tag,) = _tags(ws)
    assert tag["note"] == "see this now"
    assert tag["author"] == "mallory"


def test_qdpx_zipped_with_its_project_folder(tmp_path):
    ws = _workspace(tmp_path / "a")
    s1 = KLIMA.index("deutlich senken soll")
    project = (
        QDE.format(s1=s1, e1=s1 + 20, s2=0, e2=5)
        .replace("<PDFSource", "<!--")
        .replace("</PDFSource>", "-->")
    )
    path = tmp_path / "nested.qdpx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Study/project.qde", project)
        archive.writestr("Study/Sources/B.txt", KLIMA)
    assert import_file(ws, path).line() == "imported 1, already present 0, orphaned 0, skipped 0"


@pytest.mark.parametrize(
    "item",
    [
        {"@type": "Claim", "appearance": "https://metrodaily.example.com/news/housing"},
        {"@type": "CreativeWork", "url": "https://metrodaily.example.com/news/housing/"},
    ],
)
def test_claimreview_appearance_as_a_bare_url_or_the_reviewed_work(tmp_path, item):
    ws = _workspace(tmp_path / "a")
    review = {**FACT_CHECK, "claimReviewed": "did not go far enough", "itemReviewed": item}
    path = tmp_path / "review.json"
    path.write_text(json.dumps(review), encoding="utf-8")
    assert import_file(ws, path).line() == "imported 1, already present 0, orphaned 0, skipped 0"
    (tag,) = _tags(ws)
    assert tag["doc_id"] == "metro.html"
