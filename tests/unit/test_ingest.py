"""Ingestion: formats, decoding, cleaning, metadata of the seeds, bad files, the catalog."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reader.core.documents import corpus_of
from reader.core.documents.clean import clean_text, decode
from reader.core.documents.ingest import (
    SkipFile,
    document_from_text,
    ingest,
    read_document,
    read_text,
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
    raw = "a\x1b[31mred\x1b[0m b\x1b]0;title\x07c\x1b]8;;http://x\x1b\\link\r\nd\te\x00f\x7fg"
    assert clean_text(raw) == "ared bclink\nd\tefg"
    # C1 characters are windows-1252 text read as Latin-1 (the HTML5 rule): U+009B is "›",
    # so an 8-bit CSI cannot reach a terminal, and the undefined ones are dropped.
    assert clean_text("x\u009b31my\u0081\u009dz") == "x›31myz"
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
    if Path("/proc/self/mem").exists():  # a symlink out of the corpus is not followed
        assert "outside the corpus" in reasons["mem.txt"]
        _, skipped = ingest(tmp_path / "bad", max_bytes=1024, follow_symlinks_outside=True)
        reasons = {s.path.name: s.reason for s in skipped}
        assert reasons["mem.txt"].startswith("unreadable")  # reading it fails, even for root


def test_skipfile_for_missing_file(tmp_path):
    with pytest.raises(SkipFile, match="missing"):
        read_document(tmp_path / "gone.txt", tmp_path)


def test_catalog_scan_is_incremental(workspace: Workspace, corpus_dir: Path):
    first = corpus_of(workspace).scan()
    assert len(first.documents) == 4 and len(first.changed) == 4
    again = corpus_of(workspace).scan()
    assert again.changed == [] and again.removed == []
    target = corpus_dir / "002_250d525c714f7ba8.txt"
    target.write_text(
        target.read_text(encoding="utf-8") + "\n\nUna frase nuova.\n", encoding="utf-8"
    )
    (corpus_dir / "000_53072d7fb584007f.txt").unlink()
    (corpus_dir / "sub").mkdir()
    (corpus_dir / "sub" / "new.md").write_text("# Nouveau\n\nUn texte en français, assez long.")
    third = corpus_of(workspace).scan()
    assert sorted(third.changed) == ["002_250d525c714f7ba8.txt", "sub/new.md"]
    assert third.removed == ["000_53072d7fb584007f.txt"]
    assert [d.id for d in corpus_of(workspace).infos()] == [d.id for d in third.documents]
    assert corpus_of(workspace).info("sub/new.md").title == "Nouveau"


def test_load_and_resolve_id(workspace: Workspace):
    doc = corpus_of(workspace).load(corpus_of(workspace).resolve_id("003"))
    assert doc.id == "003_4151a8d78787628b.txt" and doc.lang == "de"
    with pytest.raises(Exception, match="no document"):
        corpus_of(workspace).resolve_id("999")


# Decoding -----------------------------------------------------------------------------------
RUSSIAN = (
    "Москва - столица России. Президент заявил журналистам, что переговоры продолжатся "
    "на следующей неделе, несмотря на разногласия между сторонами."
)
GERMAN = "Die Mäscot-Gruppe übernimmt das Geschäft in Köln. Der Vertrag gilt für fünf Jahre."


@pytest.mark.parametrize(
    ("bad", "read"),
    [
        (b"\xff", "\ufffd"),  # corruption
        (b"\xe4", "ä"),  # a Latin-1 letter in a UTF-8 file: read as windows-1252
        (b"\xc3", "\ufffd"),  # a UTF-8 character cut short
        (b"\x80\x81\xfe\xff", "€\ufffdþ\ufffd"),  # 0x81 is unused in windows-1252
        (b"\x92s", "’s"),  # a pasted Windows apostrophe
    ],
)
def test_utf8_with_a_few_bad_bytes_stays_utf8(bad, read):
    data = GERMAN.encode() + b" Ende" + bad + b". " + GERMAN.encode()
    text = decode(data)
    assert text.startswith(GERMAN) and text.endswith(GERMAN)
    assert f" Ende{read}. " in text


def test_legacy_8bit_text_is_not_taken_for_utf8():
    assert decode("Café crème à la française, déjà vu.".encode("cp1252")).startswith("Café")
    greeting = "Grüße aus Köln, schöne Straße"
    assert decode(greeting.encode("cp1252")) == greeting


@pytest.mark.parametrize("encoding", ["koi8-r", "cp1251"])
def test_cyrillic_legacy_encodings(encoding):
    data = (RUSSIAN + "\n\n" + RUSSIAN).encode(encoding)
    assert decode(data) == RUSSIAN + "\n\n" + RUSSIAN
    assert document_from_text(decode(data)).lang == "ru"


CHINESE = (
    "市议会星期一开会讨论明年的预算。经过长时间的辩论，议会同意增加学校和道路的开支，"
    "并把学生的公共汽车票价降低一半。反对派说，这个决定太贵了。市长说：“我们已经节省了十年，"
    "现在必须投资。”新的预算将从1月1日开始执行。"
)


WIDE = [
    *((encoding, GERMAN) for encoding in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")),
    ("utf-16-le", RUSSIAN),
    ("utf-16-le", CHINESE),
    ("utf-16-be", CHINESE),
    ("utf-32-le", GERMAN + " 😀🎉"),  # code points above U+FFFF
]


@pytest.mark.parametrize(("encoding", "text"), WIDE)
def test_utf16_and_utf32_without_bom(encoding, text):
    from reader.core.documents.clean import binary_reason

    data = text.encode(encoding)
    assert binary_reason(data) is None
    assert decode(data) == text


def test_declared_charsets_are_honoured():
    body = "<p>" + RUSSIAN + "</p>"
    meta = f'<html><head><meta charset="koi8-r"></head><body>{body}</body></html>'
    assert RUSSIAN in decode(meta.encode("koi8-r"))
    equiv = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
        f"</head><body>{body}</body></html>"
    )
    assert RUSSIAN in decode(equiv.encode("cp1251"))
    xml = f'<?xml version="1.0" encoding="ISO-8859-5"?>\n<html><body>{body}</body></html>'
    assert RUSSIAN in decode(xml.encode("iso-8859-5"))
    # Latin-1 is read as windows-1252 (the WHATWG rule): its quotes survive.
    latin = '<meta charset="iso-8859-1"><p>„Grüße“ – €5</p>'
    assert "„Grüße“ – €5" in decode(latin.encode("cp1252"))
    # A page saved as UTF-8 that kept its old declaration is read as UTF-8.
    assert "„Grüße“" in decode(latin.encode("utf-8"))


def test_binary_by_real_signals_only():
    import random

    from reader.core.documents.clean import binary_reason

    assert binary_reason(b"\x89PNG\r\n\x1a\n" + b"x" * 100) == "PNG image"
    assert binary_reason(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj") == "PDF document"
    assert binary_reason(b"PK\x03\x04rest") == "ZIP archive"
    rng = random.Random(1)
    noise = bytes(rng.randrange(1, 256) for _ in range(4096))  # no NUL at all
    assert binary_reason(noise) == "many control bytes"
    assert binary_reason(b"\x00\x01\x02\x03" * 200) is not None
    page = b"<html><body><p>" + GERMAN.encode() + b"\x00</p></body></html>"
    assert binary_reason(page) is None  # one NUL does not make a page binary
    assert "\x00" not in decode(page) and GERMAN in decode(page)
    assert binary_reason(b"\x1b[31mred\x1b[0m log line\n" * 20) is None


def test_mojibake_and_c1_characters_are_repaired():
    assert clean_text("\u0084Anführungszeichen\u0093 und SchÃ¶ne GrÃ¼ÃŸe") == (
        "„Anführungszeichen“ und Schöne Grüße"
    )
    assert clean_text("Itâ€™s â€œquotedâ€\x9d") == "It’s “quoted”"
    # What ftfy must leave alone: curly quotes, full-width text, ligatures of other scripts,
    # entities (the HTML reader's business) and paragraph separators.
    assert clean_text("“quoted” ＡＢＣ &amp; a\u2029b") == "“quoted” ＡＢＣ &amp; a\n\nb"
    assert clean_text(RUSSIAN) == RUSSIAN


@pytest.mark.parametrize("charset", ["base64", "rot13", "zlib", "hex", "idna", "utf-7", "bogus"])
def test_declared_charsets_that_are_no_charsets_are_ignored(charset):
    page = f'<meta charset="{charset}"><p>Café +ADw-x</p>'.encode()
    assert "Café +ADw-x" in decode(page)  # once a LookupError that stopped the scan


AP_WIRE = """BC-EU--Climate-Deal,0412
EU leaders agree on 2040 climate target after all-night talks
By JANE DOE
Associated Press
   BRUSSELS (AP) -- European Union leaders agreed early Friday on a
new target to cut greenhouse gas emissions by 2040, after
all-night talks that exposed deep divisions over the cost of the
green transition.
   The deal, which still needs approval from the European
Parliament, would require member states to cut emissions by 90%
compared with 1990 levels.
"""


def test_wire_story_slug_headline_and_byline():
    doc = document_from_text(AP_WIRE, "ap.txt")
    assert doc.title == "EU leaders agree on 2040 climate target after all-night talks"
    assert doc.author == "JANE DOE"
    paragraphs = [doc.text[p.start : p.end] for p in doc.paragraphs]
    assert paragraphs[1:4] == [doc.title, "By JANE DOE", "Associated Press"]
    assert paragraphs[4].startswith("BRUSSELS (AP) -- European Union leaders agreed early Friday")
    assert paragraphs[4].endswith("the green transition.")


def test_utf8_wire_copy_with_a_pasted_windows_apostrophe(tmp_path):
    (tmp_path / "r.txt").write_bytes(
        "PARIS, 12 mars (Reuters) - Le gouvernement français a présenté mercredi un projet "
        "de loi visant à réduire le déficit public, a annoncé le ministre de l".encode()
        + b"\x92Economie.\r\n"
    )
    doc = read_document(tmp_path / "r.txt", tmp_path)
    assert "le ministre de l’Economie." in doc.text
    assert "\ufffd" not in doc.text


def test_title_from_a_table_row_has_no_cell_borders(tmp_path):
    (tmp_path / "t.html").write_text(
        "<html><body><table><tr><td>Wahlergebnis: CDU 30 Prozent, SPD 25 Prozent, Grüne 15 "
        "Prozent, FDP 6 Prozent laut vorläufigem amtlichen Endergebnis.</td></tr></table>"
        "</body></html>",
        encoding="utf-8",
    )
    doc = read_document(tmp_path / "t.html", tmp_path)
    assert doc.title.startswith("Wahlergebnis: CDU 30 Prozent")


PAGE_BODY = (
    "<article><p>The council voted on Tuesday to approve the budget for next year after a "
    "long debate.</p><p>The opposition voted against it and criticised the spending.</p>"
    "</article>"
)


@pytest.mark.parametrize(
    ("name", "start"),
    [
        ("saved-page.txt", b"\xef\xbb\xbf  <!-- saved from url=(0040)https://example.com -->\n"),
        ("saved-page.md", b'<?xml version="1.0" encoding="utf-8"?>\n'),
    ],
)
def test_a_web_page_saved_under_a_text_name_is_read_as_html(tmp_path, name, start):
    (tmp_path / name).write_bytes(
        start + b"<!DOCTYPE html>"
        b"<html><head><title>Budget vote</title></head><body>"
        + PAGE_BODY.encode()
        + b"</body></html>"
    )
    doc = read_document(tmp_path / name, tmp_path)
    assert doc.title == "Budget vote"
    assert "<" not in doc.text and doc.text.startswith("The council voted")
    assert read_text(tmp_path / name) == doc.text


def test_an_html_file_without_tags_is_read_as_text(tmp_path):
    (tmp_path / "plain.html").write_text(
        "Der Stadtrat hat am Dienstag den Haushalt beschlossen.\n\n"
        "Die Opposition stimmte dagegen und kritisierte die Ausgaben.\n",
        encoding="utf-8",
    )
    doc = read_document(tmp_path / "plain.html", tmp_path)
    assert (doc.lang, len(doc.paragraphs)) == ("de", 2)


def test_text_that_mentions_html_stays_text(tmp_path):
    (tmp_path / "a.txt").write_text(
        "The <html> tag starts a page, the report said.\n", encoding="utf-8"
    )
    assert read_document(tmp_path / "a.txt", tmp_path).text.startswith("The <html> tag")


def test_a_tables_header_rule_is_no_paragraph(tmp_path):
    (tmp_path / "t.html").write_text(
        "<html><body><article><p>The council voted on Tuesday to approve the budget for next "
        "year after a long debate.</p><table><tr><th>Item</th><th>2024</th></tr><tr><td>"
        "Schools</td><td>5m</td></tr></table><p>The opposition voted against it.</p>"
        "</article></body></html>",
        encoding="utf-8",
    )
    doc = read_document(tmp_path / "t.html", tmp_path)
    assert "| Schools | 5m |" in doc.text
    assert "---" not in doc.text
