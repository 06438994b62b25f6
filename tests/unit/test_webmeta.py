"""Citation metadata of web pages: canonical URL, outlet, and the page's title."""

from __future__ import annotations

import pytest

from reader.core.documents.ingest import read_document
from reader.core.documents.webmeta import choose_title, page_metadata, web_url

BODY = (
    "<article><p>Der erste Absatz hat genug Text, damit er als Haupttext erkannt wird. "
    "Noch ein Satz über die Rückerstattung.</p><p>Der zweite Absatz hat ebenfalls etwas "
    "Text, um das Beispiel echt zu machen, mit einem weiteren Satz.</p></article>"
)


def page(head: str, body: str = BODY) -> str:
    return f'<html lang="de"><head>{head}</head><body>{body}</body></html>'


def test_head_metadata_in_any_attribute_order():
    found = page_metadata(
        page(
            "<title>Tesla &amp; die Kunden | Der Kurier</title>"
            '<meta content="https://kurier.example/a/1" property="og:url">'
            "<meta property='og:site_name' content='Der  Kurier'>"
            '<link href="https://kurier.example/a/1?amp=0" rel="canonical">'
        )
    )
    assert found == {
        "title": "Tesla & die Kunden | Der Kurier",
        "og:url": "https://kurier.example/a/1",
        "og:site_name": "Der Kurier",
        "canonical": "https://kurier.example/a/1?amp=0",
    }


def test_document_url_and_site_from_html(tmp_path):
    (tmp_path / "a.html").write_text(
        page(
            "<title>Geld zurück</title>"
            '<link rel="canonical" href="https://kurier.example/a/1">'
            '<meta property="og:url" content="https://kurier.example/other">'
            '<meta property="og:site_name" content="Der Kurier">'
        ),
        encoding="utf-8",
    )
    doc = read_document(tmp_path / "a.html", tmp_path)
    assert (doc.url, doc.site) == ("https://kurier.example/a/1", "Der Kurier")
    assert doc.info.to_json()["url"] == "https://kurier.example/a/1"


def test_unknown_url_and_site_are_null(tmp_path):
    (tmp_path / "a.html").write_text(page("<title>Geld</title>"), encoding="utf-8")
    (tmp_path / "b.txt").write_text("Plain text. Two sentences.\n", encoding="utf-8")
    for name in ("a.html", "b.txt"):
        info = read_document(tmp_path / name, tmp_path).info.to_json()
        assert info["url"] is None and info["site"] is None


def test_front_matter_url_and_site(tmp_path):
    (tmp_path / "a.md").write_text(
        "---\ntitle: T\nurl: https://wire.example/x\nsite: Wire\n---\nSome text here.\n",
        encoding="utf-8",
    )
    doc = read_document(tmp_path / "a.md", tmp_path)
    assert (doc.url, doc.site) == ("https://wire.example/x", "Wire")


@pytest.mark.parametrize(
    ("extracted", "head", "expected"),
    [
        ("Hauptmenü", {"title": "Tesla erstattet das Geld | Kurier"}, "Tesla erstattet das Geld"),
        ("Menu", {"og:title": "Refunds within a day", "title": "x"}, "Refunds within a day"),
        ("Startseite", {"title": "Rückruf von 2000 Autos - Der Kurier"}, "Rückruf von 2000 Autos"),
        ("Der große Titel", {"title": "Seite"}, "Der große Titel"),
        ("Refund", {"title": "Tesla refund policy in full"}, "Tesla refund policy in full"),
        ("Tesla refunds", {"title": "Tesla refunds | Kurier Online News Now"}, "Tesla refunds"),
        ("Tesla", {"title": "Tesla"}, "Tesla"),
        (None, {"title": "Only the page title"}, "Only the page title"),
    ],
)  # fmt: skip
def test_navigation_titles_give_way_to_the_page_title(extracted, head, expected):
    assert choose_title(extracted, head, "Der Kurier") == expected


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("https://a.example/x", True),
        ("http://a.example", True),
        ("/relative/path", False),
        ("mailto:x@example.org", False),
        ("https:///nohost", False),
        ("https://a.example/with space", False),
    ],
)
def test_web_url(value, ok):
    assert (web_url(value) is not None) is ok
