"""`reader import`: our exports and QDA tools' .qdpx come back as tags, field by field;
repeats add nothing; one event and one undo; hostile files are refused and write nothing."""

from __future__ import annotations

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
from reader.core.exchange.importer import import_file, read_file
from reader.core.tags import open_tag_store as open_store
from reader.core.workspace import Workspace

CLAIM = "Tesla refunded the deposit within 24 hours, the company said."
REBUTTAL = "Le client affirme n’avoir jamais reçu le remboursement."
CONTEXT = "Refunds usually take weeks 🚗."
GONE = "This sentence will be deleted from the file."
EN = f"Refund story\n\n{CLAIM} Nobody disputed it at first.\n\n{CONTEXT} {GONE}\n"
FR = (
    "---\ntitle: Le remboursement\ndate: 2025-11-01\nurl: https://example.org/fr/r\n---\n\n"
    f"{REBUTTAL} Il a publié un e-mail.\n"
)
FIELDS = [
    "id",
    "doc_id",
    "tag",
    "start",
    "end",
    "exact",
    "prefix",
    "suffix",
    "note",
    "links",
    "author",
    "created",
    "updated",
    "status",
    "doc_sha256",
    "verdict",
    "labels",
]


def _corpus(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "en.txt").write_text(EN, encoding="utf-8")
    (root / "fr.md").write_text(FR, encoding="utf-8")
    return root


def _tags(ws: Workspace) -> dict[str, dict]:
    with open_store(ws) as store:
        return {t.id: {k: t.to_json()[k] for k in FIELDS} for t in store.list()}


def _events(ws: Workspace) -> int:
    with open_store(ws) as store:
        return len(store.events())


@pytest.fixture
def source(tmp_path: Path) -> tuple[Workspace, dict[str, str]]:
    """A workspace with a claim (verdict, labels, note), a rebuttal linked to it with a
    multi-line note, a context tag (emoji) and an orphaned tag."""
    ws = Workspace.open(_corpus(tmp_path / "a"))
    corpus_of(ws).scan()
    en, fr = corpus_of(ws).load("en.txt"), corpus_of(ws).load("fr.md")
    with open_store(ws) as store:

        def add(doc, quote, tag, **kw):
            start = doc.text.index(quote)
            return store.add(doc, start, start + len(quote), tag, **kw).id

        ids = {"claim": add(en, CLAIM, "claim", note="check the invoice")}
        store.set_verdict(ids["claim"], "false")
        store.set_labels(ids["claim"], add=["tesla", "refund"])
        ids["rebuttal"] = add(fr, REBUTTAL, "rebuttal", links=[ids["claim"]], note="a\n\nb")
        ids["context"] = add(en, CONTEXT, "context")
        ids["gone"] = add(en, GONE, "context", note="will be orphaned")
    (ws.corpus_root / "en.txt").write_text(EN.replace(f" {GONE}", ""), encoding="utf-8")
    corpus_of(ws).scan()
    with open_store(ws) as store:
        store.reconcile(corpus_of(ws))
    assert _tags(ws)[ids["gone"]]["status"] == "orphaned"
    return ws, ids


def _fresh(ws: Workspace, tmp_path: Path, name: str = "b") -> Workspace:
    target = tmp_path / name
    shutil.copytree(ws.corpus_root, target, ignore=shutil.ignore_patterns(".reader"))
    fresh = Workspace.open(target)
    corpus_of(fresh).scan()
    return fresh


# Round trips ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["json", "jsonl", "w3c"])
def test_round_trip_gives_identical_tags_field_by_field(source, tmp_path, fmt) -> None:
    ws, _ids = source
    out = export(ws, fmt, out=tmp_path / f"tags.{fmt}")
    fresh = _fresh(ws, tmp_path)
    report = import_file(fresh, out)
    assert report.line() == "imported 3, already present 0, orphaned 1, skipped 0"
    expected, got = _tags(ws), _tags(fresh)
    assert set(got) == set(expected)
    for tag_id, fields in expected.items():
        for name in FIELDS:
            assert got[tag_id][name] == fields[name], (fmt, tag_id, name)


def test_qdpx_round_trip_keeps_what_it_carries(source, tmp_path) -> None:
    ws, ids = source
    out = export(ws, "qdpx", out=tmp_path / "tags.qdpx")
    fresh = _fresh(ws, tmp_path)
    report = import_file(fresh, out)
    # The orphaned tag travels as a note that quotes it, not as a selection.
    assert report.line().startswith("imported 3, already present 0, orphaned 0")
    expected, got = _tags(ws), _tags(fresh)
    for kind in ("claim", "rebuttal", "context"):
        for name in FIELDS:
            if name in ("prefix", "suffix"):
                continue
            assert got[ids[kind]][name] == expected[ids[kind]][name], (kind, name)


def test_importing_twice_adds_nothing(source, tmp_path) -> None:
    ws, _ = source
    out = export(ws, "json", out=tmp_path / "tags.json")
    fresh = _fresh(ws, tmp_path)
    import_file(fresh, out)
    before = (_tags(fresh), _events(fresh))
    again = import_file(fresh, out)
    assert again.line() == "imported 0, already present 4, orphaned 0, skipped 0"
    assert (_tags(fresh), _events(fresh)) == before
    # And into the workspace it came from: everything is already there.
    assert import_file(ws, out).line().startswith("imported 0, already present 4")


def test_an_import_is_one_event_and_one_undo(source, tmp_path) -> None:
    ws, _ = source
    out = export(ws, "jsonl", out=tmp_path / "tags.jsonl")
    fresh = _fresh(ws, tmp_path)
    assert _events(fresh) == 0
    with open_store(fresh) as store:
        from reader.core.exchange.importer import build_tags, read_file

        tags, _ = build_tags(fresh, read_file(out))
        store.import_tags(tags, source="test")
        assert len(store.events()) == 1 and store.count() == 4
        assert store.undo() is not None
        assert store.count() == 0
    report = import_file(fresh, out)
    assert report.imported == 3 and _events(fresh) == 3  # import, undo, import


def test_dry_run_writes_nothing(source, tmp_path, capsys) -> None:
    ws, _ = source
    out = export(ws, "w3c", out=tmp_path / "tags.jsonld")
    fresh = _fresh(ws, tmp_path)
    args = ["import", str(out), "--dry-run", "--corpus", str(fresh.corpus_root)]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert captured.out == "imported 3, already present 0, orphaned 1, skipped 0\n"
    assert "nothing was written" in captured.err
    assert _tags(fresh) == {} and _events(fresh) == 0
    assert main(["import", str(out), "--corpus", str(fresh.corpus_root)]) == 0
    assert capsys.readouterr().out == "imported 3, already present 0, orphaned 1, skipped 0\n"
    assert len(_tags(fresh)) == 4


# Matching documents ----------------------------------------------------------------------------
def test_documents_match_by_content_then_name_then_quote(source, tmp_path) -> None:
    ws, ids = source
    out = export(ws, "json", out=tmp_path / "tags.json")
    fresh = _fresh(ws, tmp_path)
    root = fresh.corpus_root
    (root / "fr.md").rename(root / "renamed.md")  # same content, new name: by sha256
    edited = (root / "en.txt").read_text(encoding="utf-8").replace("Refund story", "A new title")
    (root / "en.txt").write_text("Update.\n\n" + edited, encoding="utf-8")  # by id
    corpus_of(fresh).scan()
    import_file(fresh, out)
    got = _tags(fresh)
    assert got[ids["rebuttal"]]["doc_id"] == "renamed.md"
    assert got[ids["rebuttal"]]["status"] == "anchored"
    claim = got[ids["claim"]]
    text = corpus_of(fresh).load("en.txt").text
    assert text[claim["start"] : claim["end"]] == CLAIM and claim["status"] == "moved"
    # By quote: a file whose id, name and content all differ.
    third = _fresh(ws, tmp_path, "c")
    (third.corpus_root / "en.txt").rename(third.corpus_root / "english.txt")
    (third.corpus_root / "english.txt").write_text("Other start.\n\n" + EN, encoding="utf-8")
    corpus_of(third).scan()
    import_file(third, out)
    assert _tags(third)[ids["claim"]]["doc_id"] == "english.txt"


# QDA tools' projects ----------------------------------------------------------------------------
FOREIGN_TEXT = "Interview one.\r\nThe refund took three weeks, she said.\r\nEnd.\r\n"
FOREIGN = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Study" origin="QualCoder 3.6">
<Users><User guid="11111111-1111-1111-1111-111111111111" name="ana"/></Users>
<CodeBook><Codes>
<Code guid="22222222-2222-2222-2222-222222222222" name="Claim" isCodable="true"/>
<Code guid="33333333-3333-3333-3333-333333333333" name="Customer experience" isCodable="true"/>
</Codes></CodeBook>
<Sources>
<TextSource guid="44444444-4444-4444-4444-444444444444" name="interview.txt"
 plainTextPath="internal://44444444-4444-4444-4444-444444444444.txt">
<PlainTextSelection guid="{55555555-5555-5555-5555-555555555555}" startPosition="16"
 endPosition="54" creatingUser="11111111-1111-1111-1111-111111111111"
 creationDateTime="2024-01-02T03:04:05Z">
<Description>Check with the bank</Description>
<Coding guid="66666666-6666-6666-6666-666666666666">
<CodeRef targetGUID="22222222-2222-2222-2222-222222222222"/></Coding>
<Coding guid="77777777-7777-7777-7777-777777777777">
<CodeRef targetGUID="33333333-3333-3333-3333-333333333333"/></Coding>
</PlainTextSelection>
</TextSource>
</Sources>
</Project>
"""


def _zip(tmp_path: Path, files: dict[str, bytes | str], name: str = "x.qdpx") -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in files.items():
            archive.writestr(member, data)
    return path


def test_a_qda_tools_project_is_imported(tmp_path) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "interview.txt").write_text(FOREIGN_TEXT.replace("\r\n", "\n"), encoding="utf-8")
    ws = Workspace.open(root)
    corpus_of(ws).scan()
    qdpx = _zip(
        tmp_path,
        {
            "project.qde": FOREIGN,
            "sources/44444444-4444-4444-4444-444444444444.txt": FOREIGN_TEXT.encode(),
        },
    )
    report = import_file(ws, qdpx)
    assert report.line() == "imported 2, already present 0, orphaned 0, skipped 0"
    tags = sorted(_tags(ws).values(), key=lambda t: t["tag"])
    assert [t["tag"] for t in tags] == ["claim", "context"]
    assert tags[1]["labels"] == ["customer-experience"]
    text = corpus_of(ws).load("interview.txt").text
    for tag in tags:
        assert text[tag["start"] : tag["end"]].startswith("The refund took three weeks")
        assert tag["note"] == "Check with the bank" and tag["author"] == "ana"
        assert tag["created"] == "2024-01-02T03:04:05Z"
    assert tags[0]["id"] == "55555555-5555-5555-5555-555555555555"
    assert import_file(ws, qdpx).line().startswith("imported 0, already present 2")


# Hostile files ---------------------------------------------------------------------------------
BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&lol3;"/>
"""


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("broken zip", lambda p: _write(p / "b.qdpx", b"PK\x03\x04garbage"), "not a valid .qdpx"),
        (
            "zip-slip",
            lambda p: _zip(p, {"project.qde": FOREIGN, "../../evil.txt": "x"}),
            "outside itself",
        ),
        (
            "absolute name",
            lambda p: _zip(p, {"project.qde": FOREIGN, "/etc/evil": "x"}),
            "outside itself",
        ),
        ("malformed XML", lambda p: _zip(p, {"project.qde": "<Project><oops>"}), "malformed XML"),
        ("entity bomb", lambda p: _zip(p, {"project.qde": BOMB}), "DTD or entities"),
        (
            "wrong schema (xml)",
            lambda p: _zip(p, {"project.qde": "<?xml version='1.0'?><html/>"}),
            "not a REFI-QDA project",
        ),
        ("no project", lambda p: _zip(p, {"readme.txt": "hi"}), "no project.qde"),
        (
            "wrong schema (json)",
            lambda p: _write(p / "x.json", b'{"hello": "world"}'),
            "not a tag export",
        ),
        ("not json", lambda p: _write(p / "x.json", b"{nope"), "not JSON"),
        (
            "deep json",
            lambda p: _write(p / "x.json", b"[" * 200_000 + b"]" * 200_000),
            "nested too deeply",
        ),
        ("binary", lambda p: _write(p / "x.json", b"\x80\x81\x00bad"), "not UTF-8"),
        ("missing", lambda p: p / "nope.json", "cannot read"),
        (
            "zip bomb",
            lambda p: _zip_deflated(p, {"project.qde": b"<a/>" + b" " * 50_000_000}),
            "too large",
        ),
    ],
)
def test_hostile_files_are_refused_and_write_nothing(tmp_path, name, make, message) -> None:
    ws = Workspace.open(_corpus(tmp_path / "corpus"))
    corpus_of(ws).scan()
    bad = make(tmp_path)
    with pytest.raises(ReaderError, match=message):
        import_file(ws, bad)
    assert _tags(ws) == {} and _events(ws) == 0
    assert not (tmp_path / "evil.txt").exists()


def test_cli_hostile_file_is_one_line_and_exit_1(tmp_path, capsys) -> None:
    ws = Workspace.open(_corpus(tmp_path / "corpus"))
    bad = _zip(tmp_path, {"project.qde": BOMB})
    assert main(["import", str(bad), "--corpus", str(ws.corpus_root)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "entities" in captured.err


def test_entries_without_what_a_tag_needs_are_skipped_with_the_reason(source, tmp_path) -> None:
    ws, _ = source
    rows = [json.loads(line) for line in io.StringIO(_jsonl(ws))]
    rows[0].pop("exact")
    rows[1]["tag"] = "opinion"
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    fresh = _fresh(ws, tmp_path)
    line = import_file(fresh, path).line()
    assert "skipped 2 (" in line and "missing exact" in line and "unknown tag kind" in line
    assert read_file(path).fmt == "jsonl"


def _jsonl(ws: Workspace) -> str:
    stream = io.StringIO()
    export(ws, "jsonl", stream=stream)
    return stream.getvalue()


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _zip_deflated(tmp_path: Path, files: dict[str, bytes]) -> Path:
    path = tmp_path / "bomb.qdpx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, data in files.items():
            archive.writestr(member, data)
    return path


def test_w3c_annotations_from_another_tool_match_by_url_and_quote(tmp_path) -> None:
    ws = Workspace.open(_corpus(tmp_path / "corpus"))
    corpus_of(ws).scan()
    page = {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "type": "AnnotationPage",
        "items": [
            {
                "id": "https://hyp.example/a/1",
                "type": "Annotation",
                "motivation": "commenting",
                "creator": "https://hyp.example/users/ana",
                "created": "2025-01-01T00:00:00Z",
                "body": [
                    {"type": "TextualBody", "purpose": "tagging", "value": "rebuttal"},
                    {"type": "TextualBody", "purpose": "commenting", "value": "see the email"},
                ],
                "target": {
                    "source": "https://example.org/fr/r",
                    "selector": {"type": "TextQuoteSelector", "exact": REBUTTAL, "prefix": ""},
                },
            }
        ],
    }
    path = tmp_path / "hyp.jsonld"
    path.write_text(json.dumps(page), encoding="utf-8")
    assert import_file(ws, path).line() == "imported 1, already present 0, orphaned 0, skipped 0"
    (tag,) = _tags(ws).values()
    assert tag["doc_id"] == "fr.md" and tag["tag"] == "rebuttal" and tag["note"] == "see the email"
    text = corpus_of(ws).load("fr.md").text
    assert text[tag["start"] : tag["end"]] == REBUTTAL
    assert import_file(ws, path).line().startswith("imported 0, already present 1")


def test_a_qualcoder_export_with_a_bom_and_capital_sources_folder(tmp_path) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "interview.txt").write_text(FOREIGN_TEXT.replace("\r\n", "\n"), encoding="utf-8")
    ws = Workspace.open(root)
    corpus_of(ws).scan()
    lf = FOREIGN_TEXT.replace("\r\n", "\n")
    start = lf.index("The refund")
    project = (
        FOREIGN.replace('startPosition="16"', f'startPosition="{start}"')
        .replace('endPosition="54"', f'endPosition="{start + 38}"')
        .replace(
            '<Code guid="33333333-3333-3333-3333-333333333333" name="Customer experience" '
            'isCodable="true"/>',
            '<Code guid="88888888-8888-8888-8888-888888888888" name="Themes" isCodable="false">'
            '<Code guid="33333333-3333-3333-3333-333333333333" name="Customer experience" '
            'isCodable="true"/></Code>',
        )
    )
    qdpx = _zip(
        tmp_path,
        {
            "project.qde": project,
            "Sources/44444444-4444-4444-4444-444444444444.txt": "\ufeff" + lf,  # utf-8-sig
        },
    )
    assert import_file(ws, qdpx).line() == "imported 2, already present 0, orphaned 0, skipped 0"
    text = corpus_of(ws).load("interview.txt").text
    for tag in _tags(ws).values():
        assert text[tag["start"] : tag["end"]] == lf[start : start + 38]
