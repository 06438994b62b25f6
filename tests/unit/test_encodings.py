"""Legacy encodings as files in the wild come in: undeclared code pages, declarations that lie,
WHATWG labels and supersets, 7-bit ISO-2022. The texts are the UDHR paragraphs of
tests/data/lang/short.jsonl (public, 23 languages), never the seed corpus."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from reader.core.documents.clean import binary_reason, decode

DATA = Path(__file__).resolve().parents[1] / "data" / "lang" / "short.jsonl"


def _paragraphs() -> dict[str, list[str]]:
    rows: dict[str, list[str]] = defaultdict(list)
    for line in DATA.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        rows[row["lang"]].append(row["text"].replace("\u2010", "-"))
    return rows


PARAGRAPHS = _paragraphs()

# Undeclared single-byte files: an article of four paragraphs read back exactly.
ARTICLES = [
    *[(lang, "cp1252") for lang in ("de", "es", "fr", "it", "pt", "nl", "sv", "da", "fi")],
    *[(lang, "mac_roman") for lang in ("de", "es", "fr", "it", "pt", "sv", "fi")],
    ("de", "iso8859_15"),
    *[(lang, "cp1250") for lang in ("pl", "cs", "hu")],
    *[(lang, "iso8859_2") for lang in ("pl", "cs", "hu")],
    ("tr", "cp1254"),
    ("tr", "iso8859_9"),
    *[("ru", codec) for codec in ("cp1251", "koi8_r", "mac_cyrillic", "cp866", "iso8859_5")],
    ("uk", "koi8_u"),
    ("el", "cp1253"),
    ("ja", "shift_jis"),
    ("ja", "euc_jp"),
    ("zh", "gb18030"),
    ("ko", "euc_kr"),
    ("he", "cp1255"),
    ("ar", "cp1256"),
]


@pytest.mark.parametrize(("lang", "codec"), ARTICLES)
def test_undeclared_code_pages_read_back_exactly(lang, codec):
    text = "\n\n".join(PARAGRAPHS[lang][:4])
    data = text.encode(codec)
    assert decode(data) == text


# Single paragraphs: one or two sentences with a handful of letters beyond ASCII, the case
# where charset detection alone mixes up the Latin code pages ("niños" read as "nińos",
# Finnish "Äideillä" as Mac Icelandic, Turkish "hakkını" as "hakkýný").
SHORT = [
    ("es", "cp1252"),
    ("pt", "cp1252"),
    ("fi", "cp1252"),
    ("sv", "cp1252"),
    ("da", "cp1252"),
    ("fr", "cp1252"),
    ("de", "mac_roman"),
    ("es", "mac_roman"),
    ("pt", "mac_roman"),
    ("it", "mac_roman"),
    ("fi", "mac_roman"),
    ("cs", "cp1250"),
    ("cs", "iso8859_2"),
    ("hu", "cp1250"),
    ("hu", "iso8859_2"),
    ("tr", "cp1254"),
    ("tr", "iso8859_9"),
]


@pytest.mark.parametrize(("lang", "codec"), SHORT)
def test_short_paragraphs_in_latin_code_pages(lang, codec):
    wrong = []
    for text in PARAGRAPHS[lang][:8]:
        data = text.encode(codec)
        if data.isascii():
            continue
        got = decode(data)
        if got != text:
            wrong.append(got[:60])
    assert wrong == []


def test_declared_shift_jis_with_windows_characters():
    # Shift_JIS pages are written by Windows: NEC's circled digits and "№" are no Shift_JIS
    # bytes, and read as the label's own codec they became U+FFFD.
    body = "<p>第①回の会合で議論した。№3の資料を参照。株式会社㈱</p>"
    page = f'<html><head><meta charset="Shift_JIS"></head><body>{body}</body></html>'
    text = decode(page.encode("cp932"))
    assert body in text
    assert "\ufffd" not in text


def test_declared_shift_jis_keeps_its_own_mapping_when_it_reads():
    page = '<meta charset="shift_jis"><p>東京〜大阪</p>'
    assert "東京〜大阪" in decode(page.encode("shift_jis"))


def test_declared_euc_kr_with_unified_hangul():
    body = "<p>똠방각하 뷁 햏 - 서울에서 열린 회의</p>"  # syllables beyond KS X 1001
    page = f'<meta http-equiv="Content-Type" content="text/html; charset=euc-kr">{body}'
    assert body in decode(page.encode("cp949"))


def test_declared_gb2312_page_in_gbk():
    body = "<p>市议会星期一开会讨论明年的预算，镕基与喆</p>"  # 镕 and 喆 are not GB 2312
    assert body in decode(f'<meta charset="gb2312">{body}'.encode("gb18030"))


@pytest.mark.parametrize(
    ("label", "codec", "body"),
    [
        ("x-sjis", "cp932", "<p>東京都の予算案が発表された。</p>"),
        ("windows-31j", "cp932", "<p>東京都の予算案が発表された。</p>"),
        ("x-mac-roman", "mac_roman", "<p>Le conseil s’est réuni à Genève.</p>"),
        ("x-cp1251", "cp1251", "<p>Президент заявил журналистам.</p>"),
        ("windows-874", "cp874", "<p>รัฐบาลประกาศงบประมาณ</p>"),
        ("iso-8859-8-i", "iso8859_8", "<p>הממשלה הודיעה על התקציב</p>"),
    ],
)
def test_whatwg_labels_python_does_not_know(label, codec, body):
    page = f'<meta charset="{label}">{body}'.encode(codec)
    assert body in decode(page)


_FRENCH = (
    "<p>Le ministre a défendu mardi son projet de budget devant les députés à "
    "l’Assemblée. « Nous ne céderons pas », a-t-il lancé.</p>"
)
_RUSSIAN = (
    "<p>Президент заявил журналистам, что переговоры продолжатся на следующей неделе, "
    "несмотря на разногласия между сторонами.</p>"
)


@pytest.mark.parametrize(
    ("declaration", "codec", "body"),
    [
        ('<html><head><meta charset="utf-8"></head>', "cp1252", _FRENCH),
        (
            '<meta http-equiv="content-type" content="text/html; charset=windows-1251">',
            "cp1252",
            _FRENCH,
        ),
        ('<meta charset="iso-8859-1">', "cp1251", _RUSSIAN),
    ],
    ids=["says-utf8-is-cp1252", "says-cp1251-is-cp1252", "says-latin1-is-cp1251"],
)
def test_a_page_whose_declaration_lies_is_read_by_its_real_charset(declaration, codec, body):
    assert body in decode(f"{declaration}{body}".encode(codec))


def test_genuine_windows_1251_page_with_latin_names_is_honoured():
    body = "<p>Компания Apple и Google заявили, что iPhone и Android получат обновление.</p>"
    page = f'<meta charset="windows-1251">{body}'
    assert body in decode(page.encode("cp1251"))


def test_iso_2022_jp_mail_text():
    text = "政府は月曜日、来年度の予算案を発表した。教育と道路への支出を増やす方針だ。"
    data = ("Subject: budget\n\n" + text).encode("iso2022_jp")
    assert binary_reason(data) is None
    assert text in decode(data)


def test_iso_2022_kr_text_is_text():
    text = "서울에서 열린 회의에서 정부는 내년 예산안을 발표했다."
    data = text.encode("iso2022_kr")
    assert binary_reason(data) is None
    assert text in decode(data)
