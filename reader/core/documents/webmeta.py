"""Citation metadata of a web page: its canonical URL, its outlet and its own title.

Read from the `<head>` with a few tolerant patterns (no second HTML parse): `<link
rel=canonical>`, OpenGraph `<meta property="og:...">`, `<base href>` and `<title>`; and from
schema.org JSON-LD (`NewsArticle`, `ClaimReview`, ... also inside an `@graph`), read with
`json`: the article's `url`/`mainEntityOfPage`, its publisher and its date.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

_HEAD_LIMIT = 65536  # at least this much is scanned for the head's tags ...
_HEAD_MAX = 2 << 20  # ... and up to `</head>`, which modern pages put 200-900 KB in (CNN)
_HEAD_END = re.compile(r"</head\s*>", re.IGNORECASE)
_TAG = re.compile(r"<(meta|link)\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(r"""([a-zA-Z:_-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_BASE = re.compile(r"<base\b[^>]*>", re.IGNORECASE)
_JSON_LD = re.compile(
    r"<script\b[^>]*type\s*=\s*[\"']?application/ld\+json[^>]*>(.*?)</script\s*>",
    re.IGNORECASE | re.DOTALL,
)
_JSON_LD_LIMIT = 1 << 20  # JSON-LD may sit at the end of the body: the first MB is read
_JSON_LD_BLOCK = 256 * 1024  # a larger block is no page metadata
# schema.org types of the main thing on a news page (their subtypes as publishers name them).
_ARTICLE_TYPES = frozenset(
    {
        *("NewsArticle", "Article", "ReportageNewsArticle", "AnalysisNewsArticle"),
        *("OpinionNewsArticle", "BackgroundNewsArticle", "ReviewNewsArticle"),
        *("LiveBlogPosting", "BlogPosting", "SocialMediaPosting", "Report", "ClaimReview"),
        *("ScholarlyArticle", "TechArticle", "SatiricalArticle", "AskPublicQuestionAction"),
    }
)
# Query parameters that track a click, not name a page (utm_*, and the ad networks' ids).
_TRACKING = re.compile(r"^(?:utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|yclid|igshid)$", re.I)
_CJK = re.compile("[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")
_CJK_SUFFIX = re.compile("\\s*[-_|｜－：:—]\\s*([^\\s\\-_|｜－：:—]{2,12})$")
_SUFFIX = re.compile(r"\s+[|–—:-]\s+([^|–—]{1,60})$")  # "Headline | Outlet"
# Titles that name a page's furniture, not its story (seen as the extracted <h1> of a page).
NAVIGATION = frozenset(
    {
        "home",
        "homepage",
        "startseite",
        "accueil",
        "inicio",
        "portada",
        "menu",
        "menü",
        "hauptmenü",
        "main menu",
        "navigation",
        "navigation menu",
        "skip to content",
        "zum inhalt springen",
        "aller au contenu",
        "menú principal",
        "menu principale",
        "search",
        "suche",
        "recherche",
        "buscar",
        "cerca",
        "login",
        "anmelden",
        "connexion",
    }
)


def _attrs(raw: str) -> dict[str, str]:
    return {
        m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "").strip()
        for m in _ATTR.finditer(raw)
    }


def _head(page: str) -> str:
    """The part of a page its `<head>` tags are in: up to `</head>`, at least _HEAD_LIMIT
    characters, at most _HEAD_MAX."""
    end = _HEAD_END.search(page, 0, _HEAD_MAX)
    return page[: max(_HEAD_LIMIT, end.end() if end else _HEAD_LIMIT)]


def page_metadata(page: str) -> dict[str, str]:
    """`canonical`, `og:url`, `og:site_name`, `og:title` and `title` of a page, when present."""
    head = _head(page)
    found: dict[str, str] = {}
    for tag in _TAG.finditer(head):
        attrs = _attrs(tag.group(2))
        if tag.group(1).lower() == "link":
            if "canonical" in attrs.get("rel", "").lower().split() and attrs.get("href"):
                found.setdefault("canonical", attrs["href"])
            continue
        key = (attrs.get("property") or attrs.get("name") or "").lower()
        if key in ("og:url", "og:site_name", "og:title") and attrs.get("content"):
            found.setdefault(key, " ".join(attrs["content"].split()))
    title = _TITLE.search(head)
    if title:
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", "", title.group(1))).split())
        if text:
            found["title"] = text
    return found


def web_url(value: str | None) -> str | None:
    """`value` when it is an absolute http(s) URL with a host, else None."""
    if not value:
        return None
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme.lower() in ("http", "https") and parts.netloc and " " not in value:
        return value
    return None


def _without_outlet(title: str, site: str | None) -> str:
    """ "Headline | Outlet" -> "Headline" (when the tail names the outlet or is short);
    also "标题-新华网", "見出し：日本経済新聞" (CJK titles put no spaces around the mark)."""
    match = _SUFFIX.search(title)
    if match and match.start() > 0:
        tail = match.group(1).strip()
        if (site and tail.casefold() == site.casefold()) or len(tail.split()) <= 3:
            return title[: match.start()].strip()
    if _CJK.search(title):
        match = _CJK_SUFFIX.search(title)
        if match and match.start() >= 2 * len(match.group(1)):
            return title[: match.start()].strip()
    return title


def is_navigation(title: str, page_title: str | None) -> bool:
    """Whether an extracted title is navigation text rather than the story's headline."""
    folded = " ".join(title.casefold().split())
    if folded in NAVIGATION:
        return True
    if not page_title or len(folded.split()) > 2:
        return False
    if len(page_title.split()) < 4:
        return False  # the page's own title is no better
    return len(folded.split()) == 1 or folded not in page_title.casefold()


def choose_title(extracted: str | None, head: dict[str, str], site: str | None) -> str | None:
    """The extracted title, unless it is navigation text: then og:title or `<title>`."""
    page_title = head.get("og:title") or (
        _without_outlet(head["title"], site) if head.get("title") else None
    )
    if extracted and not is_navigation(extracted, page_title):
        if (
            page_title
            and (len(page_title.split()) >= 4 or (_CJK.search(page_title) and len(page_title) >= 6))
            and len(page_title) < len(extracted)
            and page_title.casefold() in extracted.casefold()
        ):
            # The page's own headline with the outlet around it ("Outlet | Tagline: Headline",
            # "标题 - 新华网"): the headline.
            return page_title
        return extracted
    return page_title or extracted


def node_types(node: dict[str, Any]) -> set[str]:
    kinds = node.get("@type")
    kinds = [kinds] if isinstance(kinds, str) else kinds if isinstance(kinds, list) else []
    return {k.rsplit("/", 1)[-1] for k in kinds if isinstance(k, str)}


def ld_nodes(value: Any, depth: int = 0) -> list[dict[str, Any]]:
    """The JSON-LD objects of a block: the top one, a list's, an `@graph`'s (not deeper)."""
    if depth > 3:
        return []
    if isinstance(value, list):
        return [n for item in value[:200] for n in ld_nodes(item, depth + 1)]
    if not isinstance(value, dict):
        return []
    return [value, *ld_nodes(value.get("@graph"), depth + 1)]


def _text_of(value: Any) -> str | None:
    if isinstance(value, str):
        return " ".join(value.split()) or None
    return None


def _ld_url(node: dict[str, Any]) -> str | None:
    """A node's own page: `url`, else `mainEntityOfPage` (an IRI or an object's `@id`/`url`)."""
    for value in (node.get("url"), node.get("mainEntityOfPage")):
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, dict):
            value = value.get("@id") or value.get("url")
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def json_ld_nodes(page: str) -> list[dict[str, Any]]:
    """The schema.org objects of a page's JSON-LD blocks (top level, lists, `@graph`);
    broken, huge or deeply nested blocks are passed over."""
    nodes: list[dict[str, Any]] = []
    for block in _JSON_LD.finditer(page[:_JSON_LD_LIMIT]):
        raw = block.group(1).strip()
        if not raw or len(raw) > _JSON_LD_BLOCK:
            continue
        if raw.startswith("<!--"):
            raw = raw.removeprefix("<!--").removesuffix("-->").strip()
        try:
            nodes += ld_nodes(json.loads(raw, strict=False))
        except (ValueError, RecursionError):
            continue
    return nodes


def structured_metadata(page: str) -> dict[str, str]:
    """`ld:url`, `ld:site` and `ld:date` of the page's main article in its schema.org JSON-LD
    (a ClaimReview's site is its author: the fact-checker), and `base` (`<base href>`).

    Broken, huge or deeply nested blocks are passed over; this never raises.
    """
    found: dict[str, str] = {}
    base = _BASE.search(_head(page))
    if base:
        href = _attrs(base.group(0)).get("href")
        if href:
            found["base"] = href
    nodes = json_ld_nodes(page)
    by_id = {n["@id"]: n for n in nodes if isinstance(n.get("@id"), str)}
    main = next((n for n in nodes if node_types(n) & _ARTICLE_TYPES), None)
    if main is None:
        return found
    url = _ld_url(main)
    if url:
        found["ld:url"] = url
    owner = main.get("author") if "ClaimReview" in node_types(main) else main.get("publisher")
    if isinstance(owner, list):
        owner = owner[0] if owner else None
    if isinstance(owner, dict) and set(owner) <= {"@id", "@type"}:
        owner = by_id.get(owner.get("@id"), owner)
    name = _text_of(owner.get("name")) if isinstance(owner, dict) else _text_of(owner)
    if name:
        found["ld:site"] = name
    date = _text_of(main.get("datePublished"))
    if date:
        found["ld:date"] = date
    return found


def citation_url(*candidates: str | None, base: str | None = None) -> str | None:
    """The first candidate that is, or resolves against `base` (else against the first
    absolute candidate) to, an http(s) URL; its fragment and click-tracking parameters
    (utm_*, fbclid, ...) dropped. `//host/path` takes https."""
    absolute = [web_url(_scheme(c)) for c in candidates if c]
    root = web_url(_scheme(base)) or next((u for u in absolute if u), None)
    for candidate in candidates:
        if not candidate or not candidate.strip():
            continue
        url = web_url(_scheme(candidate))
        if url is None and root is not None and not urlsplit(candidate.strip()).scheme:
            url = web_url(urljoin(root, candidate.strip()))
        if url is not None:
            return _without_tracking(url)
    return None


def _scheme(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return "https:" + value if value.startswith("//") else value


def _without_tracking(url: str) -> str:
    parts = urlsplit(url)
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [(k, v) for k, v in pairs if not _TRACKING.match(k)]
        if len(kept) != len(pairs):
            query = urlencode(kept)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
