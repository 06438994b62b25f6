"""Citation metadata of a web page: its canonical URL, its outlet and its own title.

Read from the `<head>` with a few tolerant patterns (no second HTML parse): `<link
rel=canonical>`, OpenGraph `<meta property="og:...">` and `<title>`.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

_HEAD_LIMIT = 65536  # the head of any sane page fits; a huge page is not scanned whole
_TAG = re.compile(r"<(meta|link)\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(r"""([a-zA-Z:_-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
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


def page_metadata(page: str) -> dict[str, str]:
    """`canonical`, `og:url`, `og:site_name`, `og:title` and `title` of a page, when present."""
    head = page[:_HEAD_LIMIT]
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
    """ "Headline | Outlet" -> "Headline" (when the tail names the outlet or is short)."""
    match = _SUFFIX.search(title)
    if match and match.start() > 0:
        tail = match.group(1).strip()
        if (site and tail.casefold() == site.casefold()) or len(tail.split()) <= 3:
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
        return extracted
    return page_title or extracted
