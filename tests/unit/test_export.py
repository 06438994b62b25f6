"""Exports: every format carries every field (url and site too); the files other tools read
(CSV for spreadsheets, W3C Web Annotation, REFI-QDA for QualCoder) are what those tools
expect; files are written safely; exports never write the tag store."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import zipfile
from pathlib import Path

import pytest

from reader.cli import main
from reader.core.documents import corpus_of
from reader.core.errors import ReaderError
from reader.core.exchange import formats
from reader.core.exchange.csv_ import FIELDS as CSV_FIELDS
from reader.core.exchange.export import (
    FORMATS,
    ExportExists,
    collect,
    default_name,
    default_path,
    export,
    render,
)
from reader.core.exchange.files import write_file
from reader.core.tags import open_tag_store as open_store
from reader.core.translation.cache import TranslationCache
from reader.core.workspace import Workspace

XSD = Path(__file__).resolve().parents[1] / "support" / "Project-mrt2019.xsd"
NS = {"q": "urn:QDA-XML:project:1.0"}
CLAIM = "Tesla refunded the deposit within 24 hours, the company said."
REBUTTAL = "Le client affirme n’avoir jamais reçu le remboursement."
CONTEXT = "Refunds usually take weeks 🚗."
EN = f"Refund story\n\n{CLAIM} Nobody disputed it at first.\n\n{CONTEXT}\n"
FR = (
    "---\ntitle: Le remboursement\ndate: 2025-11-01\nurl: https://example.org/fr/remboursement\n"
    f"site: Le Journal\n---\n\n{REBUTTAL} Il a publié un e-mail.\n"
)
TRANSLATION = "The customer says he never received the refund."
NOTE = 'a, "b"\nc\n\nnew paragraph'


@pytest.fixture
def tagged(tmp_path: Path) -> tuple[Workspace, dict[str, str]]:
    """Two documents with a claim, a cross-document rebuttal with a cached translation and a
    multi-line note, and a context tag with an emoji; the workspace and the ids by kind."""
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "en.txt").write_text(EN, encoding="utf-8")
    (root / "fr.md").write_text(FR, encoding="utf-8")
    ws = Workspace.open(root)
    corpus_of(ws).scan()
    en, fr = corpus_of(ws).load("en.txt"), corpus_of(ws).load("fr.md")
    with open_store(ws) as store:

        def add(doc, quote, tag, **kw):
            start = doc.text.index(quote)
            return store.add(doc, start, start + len(quote), tag, **kw).id

        ids = {"claim": add(en, CLAIM, "claim", note="check the invoice")}
        ids["rebuttal"] = add(fr, REBUTTAL, "rebuttal", links=[ids["claim"]], note=NOTE)
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


def _store_state(ws: Workspace) -> tuple[list, int]:
    with open_store(ws) as store:
        return [a.to_json() for a in store.list()], len(store.events())


# The registry --------------------------------------------------------------------------------
def test_the_registry_lists_every_format_with_its_extension() -> None:
    assert FORMATS == ("md", "memo", "csv", "json", "jsonl", "w3c", "qdpx", "claimreview")
    registry = formats.registry()
    assert registry["qdpx"].binary and registry["w3c"].extension == ".jsonld"
    assert {n for n, f in registry.items() if f.full_fidelity} == {"json", "jsonl", "w3c"}
    with pytest.raises(ReaderError, match="unknown export format 'pdf'"):
        formats.get("pdf")


# What every export carries -------------------------------------------------------------------
def test_records_carry_documents_url_site_and_cached_translations(tagged) -> None:
    ws, ids = tagged
    records = {r.ann.id: r for r in collect(ws)}
    rebuttal = records[ids["rebuttal"]].to_json()
    assert rebuttal["doc_title"] == "Le remboursement" and rebuttal["doc_lang"] == "fr"
    assert rebuttal["doc_date"] == "2025-11-01" and rebuttal["doc_path"].endswith("fr.md")
    assert rebuttal["doc_url"] == "https://example.org/fr/remboursement"
    assert rebuttal["doc_site"] == "Le Journal"
    assert rebuttal["translation"] == TRANSLATION and rebuttal["translation_lang"] == "en"
    assert records[ids["claim"]].translation is None  # English into English: none


@pytest.mark.parametrize("fmt", ["md", "csv", "json", "jsonl", "w3c", "qdpx"])
def test_every_format_carries_url_and_site(tagged, tmp_path: Path, fmt: str) -> None:
    ws, _ = tagged
    out = export(ws, fmt, out=tmp_path / f"all.{fmt}")
    if fmt == "qdpx":
        with zipfile.ZipFile(out) as archive:
            content = archive.read("project.qde").decode("utf-8")
    else:
        content = out.read_text(encoding="utf-8")
    assert "https://example.org/fr/remboursement" in content and "Le Journal" in content


def test_json_and_jsonl_have_every_field(tagged) -> None:
    ws, ids = tagged
    data = json.loads(_text(ws, "json"))
    assert data["format"] == "source-reader-tags" and data["version"] == 1
    assert data["count"] == 3 and len(data["annotations"]) == 3
    lines = _text(ws, "jsonl").splitlines()
    rows = {row["id"]: row for row in map(json.loads, lines)}
    assert rows == {row["id"]: row for row in data["annotations"]}
    claim = rows[ids["claim"]]
    assert set(CSV_FIELDS) <= set(claim)
    assert claim["exact"] == CLAIM and claim["note"] == "check the invoice"
    assert rows[ids["rebuttal"]]["links"] == [ids["claim"]]
    assert rows[ids["rebuttal"]]["note"] == NOTE
    emoji = rows[ids["context"]]
    text = corpus_of(ws).load("en.txt").text
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


# Exports read the store, never write it ------------------------------------------------------
def test_export_of_a_changed_document_shows_the_new_place_and_writes_nothing(
    tagged, tmp_path: Path
) -> None:
    ws, ids = tagged
    path = ws.corpus_root / "en.txt"
    path.write_text("A new first paragraph.\n\n" + EN, encoding="utf-8")
    corpus_of(ws).scan()
    before = _store_state(ws)
    store_bytes = ws.annotations_path.read_bytes()
    rows = {json.loads(line)["id"]: json.loads(line) for line in _text(ws, "jsonl").splitlines()}
    text = corpus_of(ws).load("en.txt").text
    claim = rows[ids["claim"]]
    assert text[claim["start"] : claim["end"]] == CLAIM and claim["status"] == "moved"
    for fmt in FORMATS:
        export(ws, fmt, out=tmp_path / f"x.{fmt}")
    assert _store_state(ws) == before
    assert ws.annotations_path.read_bytes() == store_bytes


# CSV -----------------------------------------------------------------------------------------
def test_csv_is_rfc_4180_utf8_with_a_bom(tagged, tmp_path: Path) -> None:
    ws, ids = tagged
    out = export(ws, "csv", out=tmp_path / "tags.csv")
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf" + ",".join(CSV_FIELDS).encode() + b"\r\n")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    by_id = {row["id"]: row for row in rows}
    rebuttal = by_id[ids["rebuttal"]]
    assert rebuttal["note"] == NOTE  # quoted, with the embedded newlines kept
    assert rebuttal["links"] == ids["claim"] and rebuttal["translation"] == TRANSLATION
    assert rebuttal["exact"] == REBUTTAL and rebuttal["doc_date"] == "2025-11-01"
    assert "reçu" in raw.decode("utf-8-sig")  # not "reÃ§u"
    assert by_id[ids["context"]]["exact"] == CONTEXT


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_neutralises_formulas(tmp_path: Path, start: str) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    passage = f'{start}HYPERLINK("http://evil.example","click")'
    (root / "a.txt").write_text(f"Intro.\n\n{passage} end.\n", encoding="utf-8")
    ws = Workspace.open(root)
    corpus_of(ws).scan()
    doc = corpus_of(ws).load("a.txt")
    exact = passage.strip()
    at = doc.text.index(exact)
    with open_store(ws) as store:
        store.add(doc, at, at + len(exact), "claim", note=f"{start}1+1")
    rows = list(csv.DictReader(io.StringIO(render(collect(ws), ws, "csv")[1:], newline="")))
    stored = "\n" if start == "\r" else start  # notes are stored with LF line ends
    assert rows[0]["note"] == (f"'{stored}1+1" if stored != "\n" else "\n1+1")
    if start.strip():  # the clean text never starts a passage with a tab or CR
        assert rows[0]["exact"] == "'" + exact
    assert rows[0]["start"] == str(at)  # numbers are never prefixed
    assert json.loads(_text(ws, "jsonl"))["exact"] == exact  # only CSV is neutralised


# Markdown ------------------------------------------------------------------------------------
def test_markdown_groups_by_document_then_tag_with_rebuttals_under_claims(tagged) -> None:
    ws, ids = tagged
    md = _text(ws, "md")
    en_at = md.index("## Refund story")
    claim_at = md.index(f"> {CLAIM}")
    rebuttal_at = md.index(f"> {REBUTTAL}")
    assert en_at < claim_at < rebuttal_at < md.index("### Context")
    assert f"> *en:* {TRANSLATION}" in md[rebuttal_at:]
    assert "in `fr.md`" in md and md.count(f"> {REBUTTAL}") == 1
    assert "- Note:\n  check the invoice" in md and ids["claim"] in md
    assert "language fr" in md and "date 2025-11-01" in md


def test_markdown_has_no_empty_sections(tagged) -> None:
    ws, _ = tagged
    md = _text(ws, "md")
    # fr.md's only tag is the rebuttal, shown under the English claim: no "## Le remboursement".
    assert "## Le remboursement" not in md
    blocks = md.split("\n## ")[1:]
    assert blocks and all("### " in block for block in blocks)
    sections = md.split("\n### ")[1:]
    assert all("> " in section for section in sections)


def test_markdown_keeps_note_line_breaks_and_escapes_control_characters(tagged) -> None:
    ws, ids = tagged
    with open_store(ws) as store:
        store.edit(ids["claim"], note="first line\nsecond\x1b[31m red\x07")
    md = _text(ws, "md")
    assert "- Note:\n  first line\\\n  second" in md
    assert "\x1b" not in md and "\x07" not in md  # the store keeps notes clean already


def test_markdown_lists_a_rebuttal_in_its_own_document_without_its_claim(tagged) -> None:
    ws, _ids = tagged
    md = _text(ws, "md", lang="fr")
    assert "## Le remboursement" in md and "### Rebuttals" in md and f"> {REBUTTAL}" in md
    assert "site Le Journal" in md and "<https://example.org/fr/remboursement>" in md


# W3C -----------------------------------------------------------------------------------------
def test_w3c_collection_with_a_first_page(tagged) -> None:
    ws, ids = tagged
    data = json.loads(_text(ws, "w3c"))
    assert data["type"] == "AnnotationCollection" and data["total"] == 3
    assert data["id"].startswith("urn:uuid:") and "items" not in data
    assert data["first"]["type"] == "AnnotationPage" and len(data["first"]["items"]) == 3
    assert "http://www.w3.org/ns/anno.jsonld" in data["@context"]
    items = {item["id"]: item for item in data["first"]["items"]}
    for item in items.values():
        assert {"creator", "created", "modified", "generator", "motivation"} <= set(item)
    rebuttal = items[f"urn:uuid:{ids['rebuttal']}"]
    assert rebuttal["motivation"] == "assessing"
    assert items[f"urn:uuid:{ids['claim']}"]["motivation"] == "questioning"
    assert items[f"urn:uuid:{ids['context']}"]["motivation"] == "describing"
    purposes = {body["purpose"]: body for body in rebuttal["body"]}
    assert purposes["tagging"]["value"] == "rebuttal"
    assert purposes["commenting"]["value"] == NOTE
    link = purposes["linking"]
    assert link["type"] == "SpecificResource" and link["source"] == f"urn:uuid:{ids['claim']}"
    assert link["source"] in items  # the claim's annotation, in the same collection
    assert purposes["describing"]["value"] == TRANSLATION


def test_w3c_positions_only_against_text_they_index(tagged) -> None:
    ws, ids = tagged
    items = {i["id"]: i for i in json.loads(_text(ws, "w3c"))["first"]["items"]}
    # en.txt: the file's text is the clean text: quote and position against the file.
    claim = items[f"urn:uuid:{ids['claim']}"]["target"]
    quote, position = claim["selector"]
    assert quote["type"] == "TextQuoteSelector" and position["type"] == "TextPositionSelector"
    raw = Path(claim["source"]["reader:path"]).read_text(encoding="utf-8")
    assert raw[position["start"] : position["end"]] == CLAIM
    assert claim["source"]["id"].startswith("file://")
    # fr.md has front matter (and a citation URL): only the quote, our offsets as an extension.
    rebuttal = items[f"urn:uuid:{ids['rebuttal']}"]["target"]
    assert [s["type"] for s in rebuttal["selector"]] == ["TextQuoteSelector"]
    assert rebuttal["source"]["id"] == "https://example.org/fr/remboursement"
    text = corpus_of(ws).load("fr.md").text
    assert text[rebuttal["reader:position"]["start"] : rebuttal["reader:position"]["end"]] == (
        REBUTTAL
    )


# REFI-QDA ------------------------------------------------------------------------------------
def _qdpx(ws: Workspace, out: Path):
    import xml.etree.ElementTree as ET

    import xmlschema

    export(ws, "qdpx", out=out, force=True)
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        project = archive.read("project.qde")
        files = {n: archive.read(n).decode("utf-8") for n in names if n.startswith("sources/")}
    xmlschema.XMLSchema(str(XSD)).validate(project.decode("utf-8"))
    return names, ET.fromstring(project), files


def test_qdpx_validates_and_positions_match_the_sources(tagged, tmp_path: Path) -> None:
    ws, ids = tagged
    names, root, files = _qdpx(ws, tmp_path / "tags.qdpx")
    assert names[0] == "project.qde"
    codes = {c.get("name"): c.get("guid") for c in root.iterfind(".//q:Code", NS)}
    assert set(codes) == {"claim", "rebuttal", "context"}
    selections = {}
    for source in root.iterfind(".//q:TextSource", NS):
        text = files["sources/" + source.get("plainTextPath").removeprefix("internal://")]
        for selection in source.iterfind("q:PlainTextSelection", NS):
            start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
            code = selection.find("q:Coding/q:CodeRef", NS).get("targetGUID")
            selections[selection.get("guid")] = (text[start:end], code)
    assert selections[ids["claim"]] == (CLAIM, codes["claim"])
    assert selections[ids["rebuttal"]] == (REBUTTAL, codes["rebuttal"])
    assert selections[ids["context"]] == (CONTEXT, codes["context"])
    (link,) = root.iterfind(".//q:Link", NS)
    assert (link.get("originGUID"), link.get("targetGUID")) == (ids["rebuttal"], ids["claim"])
    assert link.get("name") == "rebuts"


def test_qdpx_code_colours_are_the_app_tag_colours() -> None:
    from textual.theme import BUILTIN_THEMES

    from reader.core.exchange.qdpx import CODE_COLORS

    theme = BUILTIN_THEMES["textual-dark"]  # the app's default; reader.tcss: claim $error...
    tcss = (Path(__file__).resolve().parents[2] / "reader/tui/reader.tcss").read_text()
    for kind, variable in (("claim", "error"), ("rebuttal", "success"), ("context", "secondary")):
        assert f"ArticleView > .article--{kind} {{\n    background: ${variable}" in tcss
        assert CODE_COLORS[kind].lower() == getattr(theme, variable).lower()


def test_qdpx_notes_in_description_and_as_notes_links_in_description(tagged, tmp_path) -> None:
    ws, ids = tagged
    _names, root, _files = _qdpx(ws, tmp_path / "tags.qdpx")
    selection = root.find(f".//q:PlainTextSelection[@guid='{ids['rebuttal']}']", NS)
    description = selection.findtext("q:Description", namespaces=NS)
    assert description.startswith(NOTE)
    assert f"Rebuts claim {ids['claim']}: “{CLAIM}”" in description
    notes = {n.get("guid"): n for n in root.iterfind("q:Notes/q:Note", NS)}
    refs = [r.get("targetGUID") for r in selection.iterfind("q:NoteRef", NS)]
    contents = [notes[r].findtext("q:PlainTextContent", namespaces=NS) for r in refs]
    assert NOTE in contents and TRANSLATION in contents
    source_refs = {r.get("targetGUID") for r in root.iterfind(".//q:TextSource/q:NoteRef", NS)}
    note_guid = refs[contents.index(NOTE)]
    assert note_guid in source_refs
    span = notes[note_guid].find("q:PlainTextSelection", NS)
    assert (span.get("startPosition"), span.get("endPosition")) == (
        selection.get("startPosition"),
        selection.get("endPosition"),
    )


def test_qdpx_keeps_orphaned_tags_as_notes_with_their_quote(tagged, tmp_path: Path) -> None:
    ws, ids = tagged
    (ws.corpus_root / "fr.md").unlink()
    corpus_of(ws).scan()
    _names, root, files = _qdpx(ws, tmp_path / "orphans.qdpx")
    orphan = next(
        n for n in root.iterfind("q:Notes/q:Note", NS) if n.get("name") == "Orphaned rebuttal"
    )
    body = files["sources/" + orphan.get("plainTextPath").removeprefix("internal://")]
    assert f"(tag {ids['rebuttal']})" in body and f"Quote: “{REBUTTAL}”" in body
    assert NOTE.strip() in body and ids["claim"] in body
    project_refs = [r.get("targetGUID") for r in root.iterfind("q:NoteRef", NS)]
    assert orphan.get("guid") in project_refs
    rows = [json.loads(line) for line in _text(ws, "jsonl").splitlines()]
    assert {r["id"]: r["status"] for r in rows}[ids["rebuttal"]] == "orphaned"


def test_qdpx_removes_characters_xml_forbids(tagged, tmp_path: Path) -> None:
    ws, ids = tagged
    with open_store(ws) as store:
        store.edit(ids["claim"], note="pasted\x0cfrom a PDF\x0b\x01 end")
    _names, root, _files = _qdpx(ws, tmp_path / "ff.qdpx")  # parses and validates
    selection = root.find(f".//q:PlainTextSelection[@guid='{ids['claim']}']", NS)
    assert selection.findtext("q:Description", namespaces=NS).startswith("pastedfrom a PDF end")


def test_qdpx_reimported_by_qualcoder_rules_keeps_notes_links_offsets_codes(
    tagged, tmp_path: Path
) -> None:
    from support.qualcoder_import import import_qdpx

    ws, ids = tagged
    out = export(ws, "qdpx", out=tmp_path / "q.qdpx")
    imported = import_qdpx(out.read_bytes())
    assert {c["name"]: c["color"] for c in imported.codes.values()} == {
        "claim": "#BA3C5B",
        "rebuttal": "#4EBF71",
        "context": "#004578",
    }
    coded = {(row["code"], row["seltext"]): row for row in imported.coded}
    assert set(coded) == {("claim", CLAIM), ("rebuttal", REBUTTAL), ("context", CONTEXT)}
    texts = {s["name"]: s["fulltext"] for s in imported.sources.values()}
    for (_code, seltext), row in coded.items():
        source = imported.sources[row["source"]]["fulltext"]
        assert source[row["pos0"] : row["pos1"]] == seltext  # offsets survive
    assert coded[("claim", CLAIM)]["memo"].startswith("check the invoice")
    rebuttal_memo = coded[("rebuttal", REBUTTAL)]["memo"]
    assert rebuttal_memo.startswith(NOTE) and f"Rebuts claim {ids['claim']}" in rebuttal_memo
    annotations = {a["memo"]: a for a in imported.annotations}
    assert set(annotations) == {"check the invoice", NOTE}
    note = annotations[NOTE]
    fr_text = texts["Le remboursement"]
    assert fr_text[note["pos0"] : note["pos1"]] == REBUTTAL
    assert {(lk["origin"], lk["target"]) for lk in imported.links} == {
        (ids["rebuttal"], ids["claim"])
    }
    # An orphaned tag comes in as a journal that quotes it.
    (ws.corpus_root / "fr.md").unlink()
    corpus_of(ws).scan()
    out = export(ws, "qdpx", out=tmp_path / "q2.qdpx")
    journals = import_qdpx(out.read_bytes()).journals
    assert len(journals) == 1 and REBUTTAL in journals[0]["jentry"]


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
    assert json.loads((tmp_path / "out.w3c").read_text())["total"] == 0


# Writing safely ------------------------------------------------------------------------------
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


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_files_honour_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    old = os.umask(umask)
    try:
        out = write_file(tmp_path / "tags.md", b"x")
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == mode


def test_an_existing_file_is_never_replaced_silently(tagged, tmp_path: Path) -> None:
    ws, _ = tagged
    out = tmp_path / "tags.md"
    out.write_text("previous export")
    with pytest.raises(ExportExists):
        export(ws, "md", out=out)
    assert out.read_text() == "previous export"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "corpus") == ["tags.md"]
    assert export(ws, "md", out=out, force=True) == out
    assert out.read_text().startswith("# Tagged passages")


def test_default_names_are_unique_to_the_second_and_numbered(tagged, tmp_path: Path) -> None:
    from reader.core.exchange.files import unique_path

    ws, _ = tagged
    assert re.fullmatch(r"tags-\d{8}-\d{6}\.md", default_name("md"))
    first = default_path(ws, "md")
    assert first.parent == ws.exports_dir and not first.exists()
    names = []
    for _ in range(3):
        path = unique_path(tmp_path, "tags-20261123-120501", ".md")
        path.write_text("x")
        names.append(path.name)
    assert names == [
        "tags-20261123-120501.md",
        "tags-20261123-120501-2.md",
        "tags-20261123-120501-3.md",
    ]


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
    text = target.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [row["id"] for row in rows] == [ids["rebuttal"]]
    assert main(["export", "--format", "qdpx", "--corpus", corpus]) == 1
    assert "-o" in capsys.readouterr().err
    with pytest.raises(SystemExit) as raised:
        main(["export", "--format", "pdf", "--corpus", corpus])
    assert raised.value.code == 2


def test_cli_refuses_to_overwrite_without_force(tagged, tmp_path: Path, capsys) -> None:
    ws, _ = tagged
    corpus = str(ws.corpus_root)
    target = tmp_path / "tags.md"
    target.write_text("keep me")
    assert main(["export", "--format", "md", "-o", str(target), "--corpus", corpus]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "exists" in err and "--force" in err
    assert target.read_text() == "keep me"
    args = ["export", "--format", "md", "-o", str(target), "--force", "--corpus", corpus]
    assert main(args) == 0
    assert target.read_text().startswith("# Tagged passages")


def test_cli_unknown_document_exits_1_with_one_line(tagged, capsys) -> None:
    ws, _ = tagged
    code = main(["export", "--format", "md", "--doc", "nope", "--corpus", str(ws.corpus_root)])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "no document 'nope'" in err


def test_cli_a_removed_document_with_tags_still_exports(tagged, capsys) -> None:
    ws, ids = tagged
    (ws.corpus_root / "fr.md").unlink()
    args = ["export", "--format", "jsonl", "--doc", "fr.md", "--corpus", str(ws.corpus_root)]
    assert main(args) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["id"], r["status"]) for r in rows] == [(ids["rebuttal"], "orphaned")]


def test_cli_tags_list_of_an_unknown_document_exits_1_like_export(tagged, capsys) -> None:
    ws, ids = tagged
    where = ["--corpus", str(ws.corpus_root)]
    assert main(["tags", "list", "--doc", "nope", *where]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "no document 'nope'" in err
    (ws.corpus_root / "fr.md").unlink()  # a removed document's tags are still listed
    assert main(["tags", "list", "--doc", "fr.md", "--json", *where]) == 0
    assert [t["id"] for t in json.loads(capsys.readouterr().out)] == [ids["rebuttal"]]
    assert main(["tags", "list", "--doc", "fr.md", "--tag", "claim", *where]) == 0
    assert capsys.readouterr().out == "no tags match\n"


async def test_the_export_dialog_asks_before_replacing_a_file(tagged, tmp_path: Path) -> None:
    from textual.widgets import Input, Select

    from reader.tui.app import ReaderApp
    from reader.tui.screens.modals import ExportScreen

    ws, _ = tagged
    target = tmp_path / "tags.md"
    target.write_text("keep me")
    app = ReaderApp(ws, index_on_start=False)
    async with app.run_test(size=(100, 30)) as pilot:
        modal = ExportScreen(ws)
        app.push_screen(modal)
        await pilot.pause()
        modal.query_one("#export-format", Select).value = "md"
        modal.query_one("#export-path", Input).value = str(target)
        modal.action_export()
        await pilot.pause()
        assert target.read_text() == "keep me" and app.screen is modal  # asked, kept
        modal.action_export()  # confirmed
        await pilot.pause()
        assert target.read_text().startswith("# Tagged passages")


# The W3C annotation-model test suite --------------------------------------------------------
def test_w3c_export_passes_the_annotation_model_suite(tagged) -> None:
    from support.w3c_suite import check

    ws, _ = tagged
    collection = json.loads(_text(ws, "w3c"))
    assert check("collection", collection) == []
    assert check("page", collection) == []
    for item in collection["first"]["items"]:
        # An embedded annotation takes the collection's @context (JSON-LD); the suite tests
        # annotations on their own, so give it one.
        assert check("annotation", {"@context": collection["@context"], **item}) == []


def test_the_suite_catches_what_the_issue_reported() -> None:
    from support.w3c_suite import check

    old = {  # the shape of the export before: no id, items straight on the collection
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "type": "AnnotationCollection",
        "total": 1,
        "items": [{"id": "urn:uuid:1", "type": "Annotation", "target": "file:///a.txt"}],
    }
    failed = {name for name, _type, _why in check("collection", old)}
    assert {"5.1-collectionIdValidated", "5.1-collectionFirstValidated"} <= failed
    bad = {"@context": "http://www.w3.org/ns/anno.jsonld", "type": "Annotation",
           "id": "urn:uuid:1", "target": "file:///a", "created": "yesterday",
           "motivation": ["tagging", "commenting"]}  # fmt: skip
    failed = {(name, kind) for name, kind, _why in check("annotation", bad)}
    assert ("3.3.1-annotationCreatedValidated", "must") in failed
    assert ("3.3.5-annotationSingleMotivationImplemented", "should") in failed
    assert ("3.1-bodyKeyFound", "should") in failed


def test_an_invalid_project_is_refused_before_anything_is_written(monkeypatch, tagged, tmp_path):
    from reader.core.exchange import qdpx

    ws, _ = tagged
    real = qdpx.build_project

    def broken(records, ctx):
        xml, files = real(records, ctx)
        return xml.replace(b'isCodable="true"', b'isCodable="maybe"', 1), files

    monkeypatch.setattr(qdpx, "build_project", broken)
    out = tmp_path / "bad.qdpx"
    with pytest.raises(ReaderError, match=r"not valid REFI-QDA.*isCodable"):
        export(ws, "qdpx", out=out)
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["corpus"]
