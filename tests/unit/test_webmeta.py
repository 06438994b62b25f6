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


# Pages as news sites save them: JSON-LD instead of OpenGraph, relative canonical links,
# tracking parameters, a fact check's ClaimReview, a footer year that is no date.
ARTICLE = "".join(
    f"<p>{s}</p>"
    for s in (
        "The city council voted on Tuesday to approve a new housing plan that would add "
        "thousands of affordable homes over the next decade.",
        "Critics said the plan did not go far enough, while developers warned that new rules "
        "on materials would raise construction costs.",
        "The mayor said the first projects would break ground next spring, pending a final "
        "review by the state planning board.",
    )
)


def news_page(head: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">{head}</head><body>'
        '<nav><a href="/">Home</a></nav><main><article>'
        f"{ARTICLE}</article></main><footer>© 2024 Metro Daily</footer></body></html>"
    )


def read_page(tmp_path, head: str):
    (tmp_path / "page.html").write_text(news_page(head), encoding="utf-8")
    return read_document(tmp_path / "page.html", tmp_path)


def test_json_ld_news_article_gives_url_outlet_and_date(tmp_path):
    ld = (
        '{"@context":"https://schema.org","@type":"NewsArticle",'
        '"headline":"Council approves housing plan",'
        '"url":"https://metrodaily.example.com/news/housing",'
        '"datePublished":"2024-03-06T10:00:00+01:00",'
        '"publisher":{"@type":"Organization","name":"Metro Daily"}}'
    )
    doc = read_page(tmp_path, f'<script type="application/ld+json">{ld}</script>')
    assert (doc.url, doc.site, doc.date) == (
        "https://metrodaily.example.com/news/housing",
        "Metro Daily",
        "2024-03-06",
    )


def test_json_ld_graph_with_main_entity_and_publisher_reference(tmp_path):
    ld = (
        '{"@context":"https://schema.org","@graph":['
        '{"@type":"WebSite","name":"Metro","url":"https://metrodaily.example.com/"},'
        '{"@type":["NewsArticle"],"mainEntityOfPage":{"@id":"https://metrodaily.example.com/n/1"},'
        '"publisher":{"@id":"#org"},"datePublished":"2024-05-01"},'
        '{"@type":"Organization","@id":"#org","name":"Metro Daily Media"}]}'
    )
    doc = read_page(tmp_path, f"<script type='application/ld+json'>{ld}</script>")
    assert (doc.url, doc.site) == ("https://metrodaily.example.com/n/1", "Metro Daily Media")


def test_claimreview_page_is_cited_as_the_fact_check(tmp_path):
    ld = (
        '{"@context":"https://schema.org","@type":"ClaimReview",'
        '"url":"https://factcheck.example.org/2024/05/housing/",'
        '"claimReviewed":"The plan adds 50,000 homes.",'
        '"itemReviewed":{"@type":"Claim","datePublished":"2024-04-30",'
        '"appearance":{"url":"https://metrodaily.example.com/news/housing"}},'
        '"author":{"@type":"Organization","name":"Example FactCheck"},'
        '"reviewRating":{"@type":"Rating","ratingValue":2,"alternateName":"Mostly false"},'
        '"datePublished":"2024-05-02"}'
    )
    doc = read_page(tmp_path, f'<script type="application/ld+json">{ld}</script>')
    assert (doc.url, doc.site, doc.date) == (
        "https://factcheck.example.org/2024/05/housing/",
        "Example FactCheck",
        "2024-05-02",
    )


@pytest.mark.parametrize(
    "block",
    [
        "{not json",
        "[" * 5000 + "]" * 5000,
        '{"@type":"NewsArticle","url":["x"],"publisher":[null]}',
        '{"@type":5,"@graph":"x"}',
        "<!-- {} -->",
    ],
)
def test_broken_json_ld_is_passed_over(tmp_path, block):
    doc = read_page(tmp_path, f'<script type="application/ld+json">{block}</script>')
    assert doc.url is None


def test_relative_canonical_resolves_against_base_or_og_url(tmp_path):
    doc = read_page(
        tmp_path,
        '<base href="https://metrodaily.example.com/"><link rel="canonical" href="/news/a-1">',
    )
    assert doc.url == "https://metrodaily.example.com/news/a-1"
    doc = read_page(
        tmp_path,
        '<link rel="canonical" href="news/a-2">'
        '<meta property="og:url" content="https://metrodaily.example.com/">',
    )
    assert doc.url == "https://metrodaily.example.com/news/a-2"
    assert read_page(tmp_path, '<link rel="canonical" href="/news/a-3">').url is None


def test_tracking_parameters_fragment_and_scheme_relative_urls(tmp_path):
    doc = read_page(
        tmp_path,
        '<meta property="og:url" content="//metrodaily.example.com/news/housing'
        '?id=7&amp;utm_source=twitter&amp;utm_medium=social&amp;fbclid=abc#comments">',
    )
    assert doc.url == "https://metrodaily.example.com/news/housing?id=7"


def test_footer_copyright_year_is_no_date(tmp_path):
    assert read_page(tmp_path, "<title>Housing plan approved</title>").date is None


def test_time_element_date_is_still_read(tmp_path):
    (tmp_path / "p.html").write_text(
        news_page("").replace(
            "<article>", '<article><p class="byline"><time datetime="2024-06-02">2 June</time></p>'
        ),
        encoding="utf-8",
    )
    assert read_document(tmp_path / "p.html", tmp_path).date == "2024-06-02"


def test_escape_sequences_written_as_character_references_leave_no_residue(tmp_path):
    doc = read_page(
        tmp_path,
        '<meta property="og:title" content="Breaking &#27;]0;pwned&#7; news &#x1b;[31mred">'
        "<title>Breaking \x1b]0;pwned\x07 news</title>",
    )
    assert "pwned" not in doc.title and "[31m" not in doc.title
    assert "Breaking" in doc.title


def test_head_tags_after_a_large_inline_script_are_read(tmp_path):
    # News sites put 200-900 KB of scripts and styles in the head before their canonical link.
    script = "<script>var config = {" + '"k": "v", ' * 30000 + "};</script>"
    doc = read_page(
        tmp_path,
        '<meta property="og:url" content="https://m.metrodaily.example.com/news/big">'
        + script
        + '<link rel="canonical" href="https://metrodaily.example.com/news/big">',
    )
    assert doc.url == "https://metrodaily.example.com/news/big"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("短缺药品保供稳价 全力保障临床用药需求-新华网", "短缺药品保供稳价 全力保障临床用药需求"),
        (
            "米朝首脳直通電話 トランプ戦術の成否：日本経済新聞",
            "米朝首脳直通電話 トランプ戦術の成否",
        ),
        ("港特首梁振英就住宅违建事件道歉 - BBC中文网 - 两岸三地", "港特首梁振英就住宅违建事件道歉"),
    ],
)
def test_cjk_page_title_without_its_outlet(tmp_path, title, expected):
    (tmp_path / "p.html").write_text(
        f"<html><head><title>{title}</title></head><body><article>"
        "<p>国家卫生健康委员会等部门近日联合印发通知，要求各地做好短缺药品保供稳价工作，"
        "全力保障临床用药需求。通知指出，要加强监测预警，完善储备制度。</p>"
        "<p>各地要建立健全短缺药品供应保障工作会商联动机制，及时解决短缺问题。</p>"
        "</article></body></html>",
        encoding="utf-8",
    )
    assert read_document(tmp_path / "p.html", tmp_path).title == expected


def test_extracted_title_with_the_outlet_around_the_headline():
    head = {
        "og:title": "Nollywood Actress, Kate Henshaw Is Looking Stunning In New Photos",
        "og:site_name": "LinkNaija | Nigeria's popular news platform",
    }
    extracted = f"{head['og:site_name']}: {head['og:title']}"
    assert choose_title(extracted, head, head["og:site_name"]) == head["og:title"]
    # A headline that only contains a short page title is kept.
    assert choose_title("Tesla refunds: what we know", {"og:title": "Tesla"}, None) == (
        "Tesla refunds: what we know"
    )


def test_an_outlet_that_is_the_title_is_no_outlet(tmp_path):
    title = "Housing plan approved after long debate"
    doc = read_page(
        tmp_path, f'<title>{title}</title><meta property="og:site_name" content="{title}">'
    )
    assert doc.title == title
    assert doc.site is None
