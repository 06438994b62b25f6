"""Citations of a tagged passage, shared by the app's `y` key and `reader tags cite`.

    «quote» — Outlet, "Title", 2025-11-01, https://example.org/story
    (en) the translation, when the passage is not in the user's language

Parts the document does not have (outlet, date, URL) are left out, never shown empty. Every
part is one line (whitespace collapsed) and control or bidi characters are escaped, so a
citation is safe on a terminal, in a notification and in a clipboard.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reader.core.display import printable
from reader.core.errors import ReaderError

if TYPE_CHECKING:
    from reader.core.exchange.records import Record

CITATION_FORMATS: tuple[str, ...] = ("text", "md")


def _line(text: str | None) -> str:
    return printable(" ".join(str(text or "").split()))


def _md(text: str) -> str:
    """Markdown-inert text: the characters that would start formatting are escaped."""
    out = []
    for char in text:
        out.append("\\" + char if char in "\\`*_[]<>#|" else char)
    return "".join(out)


def citation(record: Record, *, user_lang: str, fmt: str = "text") -> str:
    """The citation of `record`'s passage, in `fmt` (`text` or `md`)."""
    from reader.core.tags.story import outlet

    if fmt not in CITATION_FORMATS:
        raise ReaderError(
            f"unknown citation format {fmt!r}; use one of {', '.join(CITATION_FORMATS)}"
        )
    quote = _line(record.ann.exact)
    source = _line(outlet(record))
    title = _line(record.title)
    date = _line(record.date)
    url = _line(record.url)
    translation = _line(record.translation) if record.lang != user_lang else ""
    if fmt == "md":
        parts = [_md(p) for p in (source,) if p]
        parts.append(f"*{_md(title)}*" if title else "")
        parts.append(_md(date) if date else "")
        parts.append(f"<{url}>" if url else "")
        lines = [f"> «{_md(quote)}»"]
        if translation:
            lines.append(f"> *{_md(user_lang)}:* {_md(translation)}")
        lines.append(">")
        lines.append("> — " + ", ".join(p for p in parts if p))
        return "\n".join(lines)
    parts = [source, f'"{title}"' if title else "", date, url]
    text = f"«{quote}» — " + ", ".join(p for p in parts if p)
    if translation:
        text += f"\n({user_lang}) {translation}"
    return text


__all__ = ["CITATION_FORMATS", "citation"]
