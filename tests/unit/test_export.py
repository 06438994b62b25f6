"""Exports: every format carries every field; qdpx validates; writes are atomic."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from reader.cli import main
from reader.core.errors import ReaderError
from reader.core.exchange.export import CSV_FIELDS, FORMATS, atomic_path, collect, export, render
from reader.core.tags.annotations import AnnotationStore
from reader.core.translation.cache import TranslationCache
from reader.core.workspace import Workspace

XSD = Path(__file__).resolve().parents[1] / "support" / "Project-mrt2019.xsd"
CLAIM = "Tesla refunded the deposit within 24 hours, the company said."
REBUTTAL = "Le client affirme n’avoir jamais reçu le remboursement."
CONTEXT = "Refunds usually take weeks 🚗."
EN = f"Refund story\n\n{CLAIM} Nobody disputed it at first.\n\n{CONTEXT}\n"
FR = f"---\ntitle: Le remboursement\ndate: 2025-11-01\n---\n\n{REBUTTAL} Il a publié un e-mail.\n"
TRANSLATION = "The customer says he never received the refund."


@pytest.fixture
def tagged(tmp_path: Path) -> tuple[Workspace, dict[str, str]]:
    """Two documents with a claim, a cross-document rebuttal with a cached translation, and
    a context tag with an emoji; returns the workspace and the tag ids by kind."""
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "en.txt").write_text(EN, encoding="utf-8")
    (root / "fr.md").write_text(FR, encoding="utf-8")
    ws = Workspace.open(root)
    ws.corpus.scan()
    en, fr = ws.corpus.load("en.txt"), ws.corpus.load("fr.md")
    with AnnotationStore(ws) as store:

        def add(doc, quote, tag, **kw):
            start = doc.text.index(quote)
            return store.add(doc, start, start + len(quote), tag, **kw).id

        ids = {"claim": add(en, CLAIM, "claim", note="check the invoice")}
        ids["rebuttal"] = add(fr, REBUTTAL, "rebuttal", links=[ids["claim"]], note='a, "b"\nc')
        ids["context"] = add(en, CONTEXT, "context")
    sentence = next(s for s in fr.sentences if fr.text[s.start : s.end].startswith("Le client"))
    with TranslationCache(ws.translations_path) as cache:
        source = " ".join(fr.text[sentence.start : sentence.end].split())
        cache.put_many("test-model 1.0", "en", [(source, TRANSLATION)])
    return ws, ids


def _text(ws: Workspace, fmt: str, **kw) -> str:
    stream = io.StringIO()
    assert export(ws, fmt, stream=stream, **kw) is None
    return stream.getvalue()


# What every export carries -----------------------------------------------------------------
def test_records_carry_documents_and_cached_translations(tagged) -> None:
    ws, ids = tagged
    records = {r.ann.id: r for r in collect(ws)}
    rebuttal = records[ids["rebuttal"]].to_json()
    assert rebuttal["doc_title"] == "Le remboursement" and rebuttal["doc_lang"] == "fr"
    assert rebuttal["doc_date"] == "2025-11-01" and rebuttal["doc_path"].endswith("fr.md")
    assert rebuttal["translation"] == TRANSLATION and rebuttal["translation_lang"] == "en"
    assert records[ids["claim"]].translation is None  # English into English: none


def test_json_and_jsonl_have_every_field(tagged) -> None:
    ws, ids = tagged
    data = json.loads(_text(ws, "json"))
    assert data["count"] == 3 and len(data["annotations"]) == 3
    lines = _text(ws, "jsonl").splitlines()
    assert len(lines) == 3
    rows = {row["id"]: row for row in map(json.loads, lines)}
    assert rows == {row["id"]: row for row in data["annotations"]}
    claim = rows[ids["claim"]]
    for name in CSV_FIELDS:
        assert name in claim
    assert claim["exact"] == CLAIM and claim["note"] == "check the invoice"
    assert rows[ids["rebuttal"]]["links"] == [ids["claim"]]
    emoji = rows[ids["context"]]
    text = ws.corpus.load("en.txt").text
    assert text[emoji["start"] : emoji["end"]] == CONTEXT  # code points


def test_filters_by_tag_document_and_language(tagged) -> None:
    ws, ids = tagged
    only = lambda **kw: [json.loads(line)["id"] for line in _text(ws, "jsonl", **kw).splitlines()]  # noqa: E731
    assert only(tag="claim") == [ids["claim"]]
    assert only(lang="fr") == [ids["rebuttal"]]
    assert sorted(only(doc_id="en.txt")) == sorted([ids["claim"], ids["context"]])
    with pytest.raises(ReaderError, match="unknown tag"):
        export(ws, "json", tag="opinion", stream=io.StringIO())
    with pytest.raises(ReaderError, match="unknown export format"):
        export(ws, "pdf", stream=io.StringIO())


def test_csv_is_rfc_4180_with_a_header(tagged) -> None:
    ws, ids = tagged
    text = render(collect(ws), ws, "csv")
    assert text.startswith(",".join(CSV_FIELDS) + "\r\n")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == 3
    by_id = {row["id"]: row for row in rows}
    rebuttal = by_id[ids["rebuttal"]]
    assert rebuttal["note"] == 'a, "b"\nc'  # quoted, with the embedded newline kept
    assert rebuttal["links"] == ids["claim"] and rebuttal["translation"] == TRANSLATION
    assert rebuttal["exact"] == REBUTTAL and rebuttal["doc_date"] == "2025-11-01"
    assert by_id[ids["context"]]["exact"] == CONTEXT


def test_markdown_groups_by_document_then_tag_with_rebuttals_under_claims(tagged) -> None:
    ws, ids = tagged
    md = _text(ws, "md")
    en_at, fr_at = md.index("## Refund story"), md.index("## Le remboursement")
    assert md.index("### Claims") < md.index("### Context")
    claim_at = md.index(f"> {CLAIM}")
    rebuttal_at = md.index(f"> {REBUTTAL}")
    # The French rebuttal sits under the English claim it answers, with its translation.
    assert en_at < claim_at < rebuttal_at < md.index("### Context") < fr_at
    assert f"> *en:* {TRANSLATION}" in md[rebuttal_at:]
    assert "in `fr.md`" in md and md.count(f"> {REBUTTAL}") == 1
    assert "Note: check the invoice" in md and ids["claim"] in md
    assert "language fr" in md and "date 2025-11-01" in md


def test_markdown_lists_a_rebuttal_in_its_own_document_without_its_claim(tagged) -> None:
    ws, _ids = tagged
    md = _text(ws, "md", lang="fr")
    assert "## Le remboursement" in md and "### Rebuttals" in md and f"> {REBUTTAL}" in md


def test_w3c_annotation_collection(tagged) -> None:
    ws, ids = tagged
    data = json.loads(_text(ws, "w3c"))
    assert data["type"] == "AnnotationCollection" and data["total"] == 3
    assert "http://www.w3.org/ns/anno.jsonld" in data["@context"]
    items = {item["id"]: item for item in data["items"]}
    rebuttal = items[f"urn:uuid:{ids['rebuttal']}"]
    assert rebuttal["type"] == "Annotation"
    purposes = {body["purpose"]: body for body in rebuttal["body"]}
    assert purposes["tagging"]["value"] == "rebuttal"
    assert purposes["commenting"]["value"] == 'a, "b"\nc'
    assert purposes["linking"]["source"] == f"urn:uuid:{ids['claim']}"
    assert purposes["describing"]["value"] == TRANSLATION
    quote, position = rebuttal["target"]["selector"]
    assert quote["type"] == "TextQuoteSelector" and quote["exact"] == REBUTTAL
    assert position["type"] == "TextPositionSelector"
    text = ws.corpus.load("fr.md").text
    assert text[position["start"] : position["end"]] == REBUTTAL
    assert rebuttal["target"]["source"]["language"] == "fr"
    assert rebuttal["target"]["source"]["id"].startswith("file://")


# REFI-QDA ----------------------------------------------------------------------------------
def test_qdpx_validates_and_positions_match_the_sources(tagged, tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    import xmlschema

    ws, ids = tagged
    out = tmp_path / "tags.qdpx"
    assert export(ws, "qdpx", out=out) == out
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        project = archive.read("project.qde")
        sources = {n: archive.read(n).decode("utf-8") for n in names if n.startswith("sources/")}
    assert names[0] == "project.qde" and len(sources) == 2
    xmlschema.XMLSchema(str(XSD)).validate(project.decode("utf-8"))
    ns = {"q": "urn:QDA-XML:project:1.0"}
    root = ET.fromstring(project)
    codes = {c.get("name"): c.get("guid") for c in root.iterfind(".//q:Code", ns)}
    assert set(codes) == {"claim", "rebuttal", "context"}
    selections = {}
    for source in root.iterfind(".//q:TextSource", ns):
        path = source.get("plainTextPath").removeprefix("internal://")
        text = sources[f"sources/{path}"]
        for selection in source.iterfind("q:PlainTextSelection", ns):
            start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
            code = selection.find("q:Coding/q:CodeRef", ns).get("targetGUID")
            selections[selection.get("guid")] = (text[start:end], code)
    assert selections[ids["claim"]] == (CLAIM, codes["claim"])
    assert selections[ids["rebuttal"]] == (REBUTTAL, codes["rebuttal"])
    assert selections[ids["context"]] == (CONTEXT, codes["context"])
    (link,) = root.iterfind(".//q:Link", ns)
    assert (link.get("originGUID"), link.get("targetGUID")) == (ids["rebuttal"], ids["claim"])
    notes = [
        n.findtext("q:PlainTextContent", namespaces=ns) for n in root.iterfind(".//q:Note", ns)
    ]
    assert "check the invoice" in notes and TRANSLATION in notes


def test_qdpx_keeps_orphaned_tags_as_notes(tagged, tmp_path: Path) -> None:
    import xmlschema

    ws, ids = tagged
    (ws.corpus_root / "fr.md").unlink()
    ws.corpus.scan()
    out = tmp_path / "orphans.qdpx"
    export(ws, "qdpx", out=out)
    with zipfile.ZipFile(out) as archive:
        project = archive.read("project.qde").decode("utf-8")
    xmlschema.XMLSchema(str(XSD)).validate(project)
    assert f"Orphaned rebuttal (tag {ids['rebuttal']})" in project and REBUTTAL in project
    rows = [json.loads(line) for line in _text(ws, "jsonl").splitlines()]
    assert {r["id"]: r["status"] for r in rows}[ids["rebuttal"]] == "orphaned"


def test_qdpx_needs_a_path(tagged) -> None:
    ws, _ = tagged
    with pytest.raises(ReaderError, match="-o"):
        export(ws, "qdpx")


def test_empty_store_exports_valid_files(tmp_path: Path) -> None:
    import xmlschema

    root = tmp_path / "empty"
    root.mkdir()
    (root / "a.txt").write_text("Nothing tagged here.\n", encoding="utf-8")
    ws = Workspace.open(root)
    for fmt in FORMATS:
        out = tmp_path / f"out.{fmt}"
        export(ws, fmt, out=out)
        assert out.exists()
    with zipfile.ZipFile(tmp_path / "out.qdpx") as archive:
        xmlschema.XMLSchema(str(XSD)).validate(archive.read("project.qde").decode("utf-8"))
    assert json.loads((tmp_path / "out.json").read_text())["annotations"] == []


# Writing safely ----------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_unwritable_destination_is_a_clear_error_and_leaves_nothing(
    tagged, tmp_path: Path, fmt: str
) -> None:
    ws, _ = tagged
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ReaderError, match="cannot write the export"):
        export(ws, fmt, out=blocker / "tags.out")
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(ReaderError, match="it is a folder"):
        export(ws, fmt, out=folder)
    assert list(folder.iterdir()) == [] and blocker.read_text() == "not a folder"


def test_failed_write_keeps_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "tags.md"
    out.write_text("previous export")
    with pytest.raises(RuntimeError), atomic_path(out) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert out.read_text() == "previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tags.md"]


def test_cli_export_to_stdout_and_to_a_file(tagged, tmp_path: Path, capsys) -> None:
    ws, ids = tagged
    corpus = str(ws.corpus_root)
    assert main(["export", "--format", "jsonl", "--tag", "claim", "--corpus", corpus]) == 0
    out, _ = capsys.readouterr()
    assert [json.loads(line)["id"] for line in out.splitlines()] == [ids["claim"]]
    target = tmp_path / "tags.csv"
    code = main(["export", "--format", "csv", "-o", str(target), "--doc", "fr", "--corpus", corpus])
    out, err = capsys.readouterr()
    assert code == 0 and out == "" and str(target) in err
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"), newline="")))
    assert [row["id"] for row in rows] == [ids["rebuttal"]]
    assert main(["export", "--format", "qdpx", "--corpus", corpus]) == 1
    assert "-o" in capsys.readouterr().err
    with pytest.raises(SystemExit) as raised:
        main(["export", "--format", "pdf", "--corpus", corpus])
    assert raised.value.code == 2
