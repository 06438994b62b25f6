"""Reading a corpus folder: discovery, format readers, metadata, and the bad-file report."""

from __future__ import annotations

import datetime as dt
import hashlib
import operator
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from reader.core.documents.clean import clean_text, decode, is_binary
from reader.core.documents.language import UNDETERMINED, detect_language
from reader.core.documents.model import Document, Skipped
from reader.core.documents.segment import assemble, layout_paragraphs
from reader.core.documents.webmeta import choose_title, page_metadata, web_url
from reader.core.workspace import DATA_DIR_NAME, DEFAULT_MAX_FILE_BYTES

FORMATS = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
}
TITLE_MAX = 90
_HEADLINE_MAX = 120
_DATE_MARKER = re.compile(r"^date[:\s]\s*(\d{4}-\d{2}-\d{2})\b[\s:.,-]*", re.IGNORECASE)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.DOTALL)
_MD_HEADING = re.compile(r"^#{1,6}[ \t]+(.*?)[ \t#]*$", re.MULTILINE)
_BYLINE = re.compile(
    r"^(?:by|par|di|da|von|por|door)\s+(\w[\w.'’-]*(?:\s+\w[\w.'’-]*){0,3})$", re.IGNORECASE
)


class SkipFile(Exception):
    """A file that cannot be part of the corpus; the message is the reason."""


@dataclass(slots=True)
class Parsed:
    """A reader's output: raw text plus the metadata the format itself carries."""

    text: str
    title: str | None = None
    date: str | None = None
    author: str | None = None
    lang: str | None = None
    url: str | None = None
    site: str | None = None


# Discovery ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Candidate:
    """A file that may be a document: its id, absolute path and stat result."""

    id: str
    path: str
    stat: os.stat_result


_name = operator.attrgetter("name")


def walk(root: Path, data_dir: Path | None = None) -> Iterator[Candidate | Skipped]:
    """Yield candidate files under `root` in sorted order, and `Skipped` for bad entries.

    Hidden files and folders and the app's data folder are passed over. Uses `os.scandir`:
    a rescan of 20,000 files must not pay for a Path object per file.
    """
    skip_dir = str(data_dir.resolve()) if data_dir else None
    stack = [(str(root), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=_name)
        except OSError as exc:
            yield Skipped(Path(folder), f"unreadable folder: {exc.strerror or exc}")
            continue
        subfolders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                if entry.name != DATA_DIR_NAME and entry.path != skip_dir:
                    subfolders.append((entry.path, f"{prefix}{entry.name}/"))
                continue
            dot = entry.name.rfind(".")
            ext = entry.name[dot:] if dot > 0 else ""
            if ext.lower() not in FORMATS:
                yield Skipped(Path(entry.path), f"unsupported file type {ext or '(none)'}")
                continue
            try:
                stat = entry.stat()
            except FileNotFoundError:
                yield Skipped(Path(entry.path), "broken symlink")
                continue
            except OSError as exc:
                yield Skipped(Path(entry.path), f"unreadable: {exc.strerror or exc}")
                continue
            yield Candidate(f"{prefix}{entry.name}", entry.path, stat)
        stack.extend(reversed(subfolders))


def discover(root: Path, data_dir: Path | None = None) -> Iterator[Path | Skipped]:
    """`walk`, with plain paths for the candidates."""
    for entry in walk(root, data_dir):
        yield entry if isinstance(entry, Skipped) else Path(entry.path)


# Readers -----------------------------------------------------------------------------------
def _iso_date(value: object) -> str | None:
    """`value` as YYYY-MM-DD, or None when it is not a date."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10]).isoformat()
        except ValueError:
            return None
    return None


def _text_str(value: object) -> str | None:
    return str(value).strip() or None if value not in (None, "") else None


def read_markdown(text: str) -> Parsed:
    """Markdown: YAML front matter (title, date, lang, author) and headings without their #."""
    meta: dict = {}
    match = _FRONT_MATTER.match(text)
    if match:
        import yaml

        try:
            loaded = yaml.safe_load(match.group(1) or "")
        except yaml.YAMLError:
            loaded = None
        if isinstance(loaded, dict):
            meta = {str(k).lower(): v for k, v in loaded.items()}
        text = text[match.end() :]
    heading = _MD_HEADING.search(text)
    text = _MD_HEADING.sub(lambda m: m.group(1), text)
    return Parsed(
        text=text,
        title=_text_str(meta.get("title")) or (heading.group(1).strip() if heading else None),
        date=_iso_date(meta.get("date")),
        author=_text_str(meta.get("author")),
        lang=_text_str(meta.get("lang") or meta.get("language")),
        url=web_url(_text_str(meta.get("url"))),
        site=_text_str(meta.get("site")),
    )


def read_html(text: str) -> Parsed:
    """HTML: the main text and metadata, as trafilatura extracts them, plus the citation
    (canonical URL, outlet) and the page's own title when the extracted one is navigation."""
    import trafilatura

    found = trafilatura.bare_extraction(text, with_metadata=True, include_comments=False)
    if found is None or not (found.text or "").strip():
        raise SkipFile("no main text found in the HTML")
    lang_attr = re.search(r"<html[^>]*\blang=[\"']?([A-Za-z]{2,3})", text[:4096], re.IGNORECASE)
    head = page_metadata(text)
    site = head.get("og:site_name") or _text_str(found.sitename)
    return Parsed(
        text=found.text,
        title=choose_title(_text_str(found.title), head, site),
        date=_iso_date(found.date),
        author=_text_str(found.author),
        lang=(found.language or (lang_attr.group(1) if lang_attr else None)),
        url=web_url(head.get("canonical")) or web_url(head.get("og:url")) or web_url(found.url),
        site=site,
    )


# Metadata ----------------------------------------------------------------------------------
def _is_headline(paragraph: str) -> bool:
    return len(paragraph) <= _HEADLINE_MAX and not paragraph.endswith((".", "。", ",", ";", ":"))


def shorten(text: str, limit: int = TITLE_MAX) -> str:
    """`text` cut at a word boundary to at most `limit` characters, with an ellipsis if cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"


def build_document(parsed: Parsed, doc_id: str, path: Path) -> Document:
    """Clean, segment and describe a parsed file."""
    paragraphs = layout_paragraphs(clean_text(parsed.text))
    date = parsed.date
    if paragraphs:
        marker = _DATE_MARKER.match(paragraphs[0])
        if marker and _iso_date(marker.group(1)):
            date = date or _iso_date(marker.group(1))
            paragraphs[0] = paragraphs[0][marker.end() :].strip()
            if not paragraphs[0]:
                paragraphs.pop(0)
    if not paragraphs:
        raise SkipFile("empty: no text")
    lang = (parsed.lang or "").split("-")[0].lower() or detect_language("\n".join(paragraphs[:20]))
    text, paras = assemble(paragraphs, lang)
    title = parsed.title and clean_text(parsed.title).strip()
    if not title:
        first = paras[0]
        if _is_headline(paragraphs[0]) or not first.sentences:
            title = paragraphs[0]
        else:
            title = text[first.sentences[0].start : first.sentences[0].end]
    author = parsed.author or next(
        (m.group(1) for p in paragraphs[:4] if (m := _BYLINE.match(p))), None
    )
    return Document(
        id=doc_id,
        path=path,
        title=shorten(" ".join(title.split())),
        lang=lang or UNDETERMINED,
        date=date,
        author=(author and clean_text(author).strip()) or None,
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        paragraphs=paras,
        sentences=tuple(s for p in paras for s in p.sentences),
        url=parsed.url,
        site=(parsed.site and clean_text(parsed.site).strip()) or None,
    )


def parse(text: str, kind: str) -> Parsed:
    """Run the reader for a format ("text", "markdown" or "html") over decoded text."""
    if kind == "markdown":
        return read_markdown(text)
    if kind == "html":
        return read_html(text)
    return Parsed(text=text)


# Files -------------------------------------------------------------------------------------
def document_id(path: Path, root: Path) -> str:
    """The stable id of a file: its path relative to the corpus root, with forward slashes."""
    return path.relative_to(root).as_posix()


def read_bytes(path: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> bytes:
    """A file's bytes, or SkipFile for a file that is missing, unreadable, too large or binary."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SkipFile(f"too large: {size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit")
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise SkipFile("missing or a broken symlink") from exc
    except IsADirectoryError as exc:
        raise SkipFile("not a file") from exc
    except OSError as exc:
        raise SkipFile(f"unreadable: {exc.strerror or exc}") from exc
    if not data.strip():
        raise SkipFile("empty")
    if is_binary(data):
        raise SkipFile("binary: contains NUL bytes")
    return data


def read_document(path: Path, root: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Document:
    """Read one corpus file into a Document; SkipFile says why it cannot be."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise SkipFile(f"unsupported file type {path.suffix or '(none)'}")
    text = decode(read_bytes(path, max_bytes))
    if not text.strip():
        raise SkipFile("empty")
    return build_document(parse(text, kind), document_id(path, root), path)


def document_from_text(raw: str, doc_id: str = "doc.txt") -> Document:
    """A Document built from raw text as if read from a file named `doc_id` (for tests)."""
    kind = FORMATS.get(Path(doc_id).suffix.lower(), "text")
    return build_document(parse(raw, kind), doc_id, Path(doc_id))


def ingest(
    root: Path, data_dir: Path | None = None, max_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> tuple[list[Document], list[Skipped]]:
    """Read every document under `root` (no caching); bad files are skipped and reported."""
    documents: list[Document] = []
    skipped: list[Skipped] = []
    for entry in discover(root, data_dir):
        if isinstance(entry, Skipped):
            skipped.append(entry)
            continue
        try:
            documents.append(read_document(entry, root, max_bytes))
        except SkipFile as exc:
            skipped.append(Skipped(entry, str(exc)))
    return documents, skipped
