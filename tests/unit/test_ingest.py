"""Ingestion: formats, decoding, cleaning, metadata of the seeds, bad files, the catalog."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reader.core.documents.clean import clean_text, decode
from reader.core.documents.ingest import (
    SkipFile,
    document_from_text,
    ingest,
    read_document,
    shorten,
)
from reader.core.workspace import Workspace, bundled_corpus

SEED_META = {
    "000_53072d7fb584007f.txt": ("en", None, "A 24-Hour Refund: Fact or Fiction?"),
    "001_27d89af2ac98d27f.txt": ("fr", "2025-11-01", None),
    "002_250d525c714f7ba8.txt": (
        "it",
        None,
        "Elon Musk ci ricorda che il cliente non ha sempre ragione",
    ),
    "003_4151a8d78787628b.txt": (
        "de",
        None,
        "Elon Musk kontert die Tesla-Rückerstattungsvorwürfe von Sam Altman",
    ),
}


@pytest.fixture(scope="module")
def seeds():
    docs, skipped = ingest(bundled_corpus())
    assert skipped == []
    return {d.id: d for d in docs}


@pytest.mark.parametrize("doc_id", sorted(SEED_META))
def test_seed_metadata(seeds, doc_id):
    lang, date, title = SEED_META[doc_id]
    doc = seeds[doc_id]
    assert doc.lang == lang
    assert doc.date == date
    if title:
        assert doc.title == title


def test_french_seed_title_from_first_sentence_without_date_marker(seeds):
    doc = seeds["001_27d89af2ac98d27f.txt"]
    assert "date" not in doc.title and "2025" not in doc.title
    assert doc.title.startswith("La réputation sans cesse en évolution de Tesla")
    assert len(doc.title) <= 90 and doc.title.endswith("…")
    first = doc.text[doc.paragraphs[0].start : doc.paragraphs[0].end]
    assert first.startswith("La réputation") and "2025-11-01" not in doc.text


def test_one_line_per_paragraph_text(seeds):
    doc = seeds["000_53072d7fb584007f.txt"]
    paragraphs = [doc.text[p.start : p.end] for p in doc.paragraphs]
    assert paragraphs[0] == "A 24-Hour Refund: Fact or Fiction?"
    assert paragraphs[3] == "The Context Behind the Refund"
    assert len(paragraphs) == 17


def test_hard_wrapped_text_is_unwrapped():
    raw = (
        "Title line\n\n"
        "The council met on Monday to discuss the budget for the coming year and\n"
        "agreed, after a long debate, to raise spending on schools and on the\n"
        "roads.\n\nA second paragraph."
    )
    doc = document_from_text(raw)
    texts = [doc.text[p.start : p.end] for p in doc.paragraphs]
    assert texts[1].startswith("The council met") and texts[1].endswith("on the roads.")
    assert texts[2] == "A second paragraph."


def test_markdown_front_matter_overrides_detection():
    raw = (
        "---\ntitle: Le titre\ndate: 2024-02-03\nlang: fr\nauthor: Ana Ruiz\n---\n"
        "# Heading\n\nThe text."
    )
    doc = document_from_text(raw, "note.md")
    assert (doc.title, doc.date, doc.lang, doc.author) == (
        "Le titre",
        "2024-02-03",
        "fr",
        "Ana Ruiz",
    )
    assert doc.text.startswith("Heading\n\nThe text.")


def test_html_main_text_and_metadata(tmp_path):
    html = (
        '<html lang="de"><head><title>Seite</title><meta name="author" content="Hans Maier">'
        '<meta property="article:published_time" content="2024-03-05"></head><body>'
        "<nav>Menü Start Impressum</nav><article><h1>Der große Titel</h1>"
        "<p>Der erste Absatz hat genug Text, damit er als Haupttext erkannt wird. "
        "Noch ein Satz.</p>"
        "<p>Der zweite Absatz hat ebenfalls etwas Text, um das Beispiel echt zu machen.</p>"
        "</article><footer>Kontakt</footer></body></html>"
    )
    (tmp_path / "a.html").write_text(html, encoding="utf-8")
    doc = read_document(tmp_path / "a.html", tmp_path)
    assert doc.title == "Der große Titel"
    assert (doc.date, doc.author, doc.lang) == ("2024-03-05", "Hans Maier", "de")
    assert "Menü" not in doc.text and "Der zweite Absatz" in doc.text


def test_decoding_order():
    assert decode("héllo".encode()) == "héllo"
    assert decode(b"\xef\xbb\xbfh\xc3\xa9") == "hé"
    assert (
        decode("Grüße aus Köln, schöne Straße".encode("cp1252")) == "Grüße aus Köln, schöne Straße"
    )
    assert decode("héllo".encode("utf-16")) == "héllo"


def test_cleaning_strips_escapes_and_controls_keeps_tabs():
    raw = "a\x1b[31mred\x1b[0m b\x1b]0;title\x07c\x1b]8;;http://x\x1b\\link\r\nd\te\x00f\x7f\u009b31mg"
    assert clean_text(raw) == "ared bclink\nd\tefg"
    assert clean_text("e\u0301") == "é"  # NFD in, NFC out


def test_shorten():
    assert shorten("short") == "short"
    long = "word " * 40
    cut = shorten(long.strip())
    assert len(cut) <= 90 and cut.endswith("…") and not cut.endswith(" …")


def _bad_folder(root: Path) -> dict[str, str]:
    root.mkdir()
    (root / "good.txt").write_text("A fine article. It has two sentences.", encoding="utf-8")
    (root / "binary.txt").write_bytes(b"PK\x03\x04\x00\x00binary\x00stuff")
    (root / "empty.txt").write_text("")
    (root / "blank.md").write_text("   \n\t\n")
    (root / "huge.txt").write_bytes(b"x" * 2048)
    (root / "latin1.txt").write_bytes("Café crème à la française.".encode("latin-1"))
    (root / "image.png").write_bytes(b"\x89PNG")
    os.symlink(root / "nowhere.txt", root / "broken.txt")
    locked = root / "locked.txt"
    locked.write_text("secret")
    locked.chmod(0)
    if Path("/proc/self/mem").exists():
        os.symlink("/proc/self/mem", root / "mem.txt")
    (root / ".hidden.txt").write_text("hidden")
    (root / ".git").mkdir()
    (root / ".git" / "x.txt").write_text("ignored")
    return {
        "binary.txt": "binary",
        "empty.txt": "empty",
        "blank.md": "empty",
        "huge.txt": "too large",
        "image.png": "unsupported",
        "broken.txt": "broken symlink",
    }


def test_bad_files_are_skipped_and_reported(tmp_path):
    expected = _bad_folder(tmp_path / "bad")
    docs, skipped = ingest(tmp_path / "bad", max_bytes=1024)
    reasons = {s.path.name: s.reason for s in skipped}
    for name, reason in expected.items():
        assert reason in reasons[name], (name, reasons.get(name))
    ids = {d.id for d in docs}
    assert {"good.txt", "latin1.txt"} <= ids
    assert not ids & {".hidden.txt", ".git/x.txt"}
    latin = next(d for d in docs if d.id == "latin1.txt")
    assert latin.text == "Café crème à la française."
    if os.geteuid() != 0:  # root reads anything: the permission case only holds for users
        assert "unreadable" in reasons["locked.txt"]
    if Path("/proc/self/mem").exists():  # reading it at offset 0 fails, even for root
        assert reasons["mem.txt"].startswith("unreadable")


def test_skipfile_for_missing_file(tmp_path):
    with pytest.raises(SkipFile, match="missing"):
        read_document(tmp_path / "gone.txt", tmp_path)


def test_catalog_scan_is_incremental(workspace: Workspace, corpus_dir: Path):
    first = workspace.corpus.scan()
    assert len(first.documents) == 4 and len(first.changed) == 4
    again = workspace.corpus.scan()
    assert again.changed == [] and again.removed == []
    target = corpus_dir / "002_250d525c714f7ba8.txt"
    target.write_text(
        target.read_text(encoding="utf-8") + "\n\nUna frase nuova.\n", encoding="utf-8"
    )
    (corpus_dir / "000_53072d7fb584007f.txt").unlink()
    (corpus_dir / "sub").mkdir()
    (corpus_dir / "sub" / "new.md").write_text("# Nouveau\n\nUn texte en français, assez long.")
    third = workspace.corpus.scan()
    assert sorted(third.changed) == ["002_250d525c714f7ba8.txt", "sub/new.md"]
    assert third.removed == ["000_53072d7fb584007f.txt"]
    assert [d.id for d in workspace.corpus.infos()] == [d.id for d in third.documents]
    assert workspace.corpus.info("sub/new.md").title == "Nouveau"


def test_load_and_resolve_id(workspace: Workspace):
    doc = workspace.corpus.load(workspace.corpus.resolve_id("003"))
    assert doc.id == "003_4151a8d78787628b.txt" and doc.lang == "de"
    with pytest.raises(Exception, match="no document"):
        workspace.corpus.resolve_id("999")
