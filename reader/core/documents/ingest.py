"""Reading a corpus folder: discovery, format readers, metadata, and the bad-file report."""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import operator
import os
import re
import stat as stat_module
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import ClassVar

from reader.core.documents.clean import binary_reason, clean_text, decode, strip_markup_escapes
from reader.core.documents.language import SHORT_TEXT_LETTERS, detect, letter_count, sample_of
from reader.core.documents.model import Document, Skipped
from reader.core.documents.segment import PARAGRAPH_SEPARATOR, assemble, layout_paragraphs
from reader.core.documents.webmeta import (
    choose_title,
    citation_url,
    page_metadata,
    structured_metadata,
    web_url,
)
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
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
FRONT_MATTER_MAX = 64 * 1024
_FRONT_MATTER_DEPTH = 8
# Front matter keys that are metadata, and the field each one fills.
FRONT_MATTER_KEYS = {
    "title": "title",
    "date": "date",
    "lang": "lang",
    "language": "lang",
    "author": "author",
    "url": "url",
    "site": "site",
}
# An ANPA/IPTC wire slug: one token of words joined by hyphens, with a category prefix
# ("BC-", "AM-"), a double hyphen or a word count (",0412").
_WIRE_SLUG = re.compile(r"^(?=\S*(?:^[A-Z]{1,3}-[^-\s]+-|--|,\d{3,5}$))[\w&./'-]+(?:,\d{3,5})?$")
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
    lang: str | None = None  # a language the file states as metadata (front matter)
    url: str | None = None
    site: str | None = None
    declared_lang: str | None = None  # a hint (HTML `lang`): used only for very short text


# Discovery ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Candidate:
    """A file that may be a document: its id, absolute path and stat result."""

    id: str
    path: str
    stat: os.stat_result


_name = operator.attrgetter("name")
_KINDS = (
    (stat_module.S_ISFIFO, "a named pipe (FIFO)"),
    (stat_module.S_ISSOCK, "a socket"),
    (stat_module.S_ISCHR, "a character device"),
    (stat_module.S_ISBLK, "a block device"),
    (stat_module.S_ISDIR, "a folder"),
)
OUTSIDE_HINT = "set follow_symlinks_outside to read it"


def file_kind(mode: int) -> str | None:
    """What a non-regular file is ("a named pipe (FIFO)", ...), or None for a regular file."""
    if stat_module.S_ISREG(mode):
        return None
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _inside(real: str, real_root: str) -> bool:
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def walk(
    root: Path, data_dir: Path | None = None, *, follow_symlinks_outside: bool = False
) -> Iterator[Candidate | Skipped]:
    """Yield candidate files under `root` in sorted order, and `Skipped` for bad entries.

    Hidden files and folders and the app's data folder are passed over. Only regular files
    are candidates: named pipes, sockets and devices are reported, never opened. A symlink
    is followed when its target lies inside the corpus; one pointing outside is reported
    unless `follow_symlinks_outside`. Symlinked folders are not descended into (their files
    are read where they are) unless they lead outside and that setting allows it; a folder
    is never visited twice. Uses `os.scandir`: a rescan of 20,000 files must not pay for a
    Path object per file.
    """
    skip_dir = str(data_dir.resolve()) if data_dir else None
    real_root = os.path.realpath(root)
    visited = {real_root}
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
            link = entry.is_symlink()
            if link:
                real = os.path.realpath(entry.path)
                outside = not _inside(real, real_root)
                if outside and not follow_symlinks_outside:
                    if os.path.exists(real):
                        yield Skipped(
                            Path(entry.path),
                            f"symlink to {real}, outside the corpus: not followed ({OUTSIDE_HINT})",
                        )
                    else:
                        yield Skipped(Path(entry.path), "broken symlink")
                    continue
                if os.path.isdir(real):
                    if not outside:
                        yield Skipped(
                            Path(entry.path),
                            "symlink to a folder inside the corpus: its files are read there",
                        )
                    elif real not in visited:
                        visited.add(real)
                        subfolders.append((entry.path, f"{prefix}{entry.name}/"))
                    continue
            elif entry.is_dir(follow_symlinks=False):
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
                reason = "symlink loop" if exc.errno == errno.ELOOP else exc.strerror or exc
                yield Skipped(Path(entry.path), f"unreadable: {reason}")
                continue
            kind = file_kind(stat.st_mode)
            if kind:
                yield Skipped(Path(entry.path), f"not a regular file: {kind}")
                continue
            yield Candidate(f"{prefix}{entry.name}", entry.path, stat)
        stack.extend(reversed(subfolders))


def discover(
    root: Path, data_dir: Path | None = None, *, follow_symlinks_outside: bool = False
) -> Iterator[Path | Skipped]:
    """`walk`, with plain paths for the candidates."""
    for entry in walk(root, data_dir, follow_symlinks_outside=follow_symlinks_outside):
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


@lru_cache(maxsize=1)
def _front_matter_loader():
    """A YAML SafeLoader that refuses aliases (no "billion laughs") and deep nesting."""
    import yaml

    class FrontMatterLoader(yaml.SafeLoader):
        # Dates stay text ("2024-13-45" must not fail the block): `_iso_date` checks them.
        yaml_implicit_resolvers: ClassVar[dict] = {
            first: [(tag, regexp) for tag, regexp in resolvers if not tag.endswith(":timestamp")]
            for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }

        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise yaml.composer.ComposerError(
                    None, None, "aliases are not allowed in front matter", event.start_mark
                )
            self._depth = getattr(self, "_depth", 0) + 1
            try:
                if self._depth > _FRONT_MATTER_DEPTH:
                    event = self.peek_event()
                    raise yaml.composer.ComposerError(
                        None, None, "front matter nested too deep", event.start_mark
                    )
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

    return FrontMatterLoader


def front_matter(text: str) -> tuple[dict[str, str | dt.date], int, str | None]:
    """The known keys of a leading YAML front matter block with plain scalar values, where the
    text after the block starts, and a problem (the block is then ignored, not the file).

    At most FRONT_MATTER_MAX characters are looked at; aliases, tags other than the plain
    ones, nesting and non-scalar values of known keys are refused, so no front matter can
    make reading slow ("billion laughs") or big.
    """
    if not text.startswith("---"):
        return {}, 0, None
    match = _FRONT_MATTER.match(text[: FRONT_MATTER_MAX + 8])
    if not match:
        whole = _FRONT_MATTER.match(text)
        if whole:
            return {}, whole.end(), f"front matter over {FRONT_MATTER_MAX // 1024} KB: ignored"
        return {}, 0, None
    import yaml

    try:
        loaded = yaml.load(match.group(1) or "", Loader=_front_matter_loader())
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "not valid YAML"
        return {}, match.end(), f"front matter ignored: {problem}"
    except ValueError as exc:  # a value the constructor rejects (an int of 5,000 digits)
        problem = str(exc)
        return {}, match.end(), f"front matter ignored: {problem}"
    if not isinstance(loaded, dict):
        return {}, match.end(), None
    meta: dict[str, str | dt.date] = {}
    for key, value in loaded.items():
        name = str(key).lower() if isinstance(key, str) else None
        if name not in FRONT_MATTER_KEYS:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float | dt.date):
            continue  # only plain scalars: lists, mappings and nulls are not metadata
        field = FRONT_MATTER_KEYS[name]
        meta.setdefault(field, value if isinstance(value, dt.date) else str(value))
    return meta, match.end(), None


def read_markdown(text: str) -> Parsed:
    """Markdown: YAML front matter (title, date, lang, author, url, site) and headings
    without their #."""
    meta, start, _problem = front_matter(text)
    text = text[start:]
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


# Elements that hold no content or whose end tag may be left out: they add no nesting.
_FLAT_ELEMENTS = frozenset(
    {
        *("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta"),
        *("param", "source", "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th"),
        *("option", "optgroup", "thead", "tbody", "tfoot", "colgroup", "rp", "rt"),
    }
)
_TAG = re.compile(r"<!--|<(/?)([a-z][a-z0-9:-]*)[^<>]*?(/?)>")
_RAW_TEXT = frozenset({"script", "style", "textarea", "title", "xmp"})  # no tags inside
# The rule under a table's header row in trafilatura's text ("|---|---|"): no text of the page.
_TABLE_RULE = re.compile(r"^\|(?:\s*:?-{3,}:?\s*\|)+[ \t]*$", re.MULTILINE)
# The date is the page's own (metadata, markup, URL), never a guess from its text: htmldate's
# extensive search takes a footer's "© 2024" for 2024-01-01.
_DATES = {"extensive_search": False, "original_date": True, "outputformat": "%Y-%m-%d"}
# libxml2's HTML parser drops everything below depth 255 (and everything after it).
HTML_MAX_DEPTH = 250


def html_depth(text: str) -> int:
    """How deep the elements of an HTML page nest, counted from its tags in linear time
    (comments and the insides of script and style skipped)."""
    lower = text.lower()
    depth = deepest = pos = 0
    while match := _TAG.search(lower, pos):
        pos = match.end()
        if match.group(0) == "<!--":
            end = lower.find("-->", pos)
            if end < 0:
                break
            pos = end + 3
            continue
        close, name, self_closing = match.groups()
        if close:
            if name not in _FLAT_ELEMENTS:
                depth = max(0, depth - 1)
            continue
        if self_closing or name in _FLAT_ELEMENTS:
            continue
        if name in _RAW_TEXT:
            end = lower.find(f"</{name}", pos)
            if end < 0:
                break
            end = lower.find(">", end)
            pos = len(lower) if end < 0 else end + 1
            continue
        depth += 1
        deepest = max(deepest, depth)
    return deepest


def read_html(text: str) -> Parsed:
    """HTML: the main text and metadata, as trafilatura extracts them, plus the citation
    (canonical URL, outlet) and the page's own title when the extracted one is navigation."""
    import trafilatura

    text = strip_markup_escapes(text)
    depth = html_depth(text)
    if depth > HTML_MAX_DEPTH:
        raise SkipFile(
            f"HTML nested too deep: {depth:,} levels, over the {HTML_MAX_DEPTH} that the "
            "HTML parser reads"
        )
    try:
        found = trafilatura.bare_extraction(
            text, with_metadata=True, include_comments=False, date_extraction_params=_DATES
        )
    except AssertionError:
        # htmldate's cleaning asserts on some malformed trees ("<svg><title>x</title><p>"):
        # take the text without the metadata rather than fail the whole scan.
        try:
            found = trafilatura.bare_extraction(text, with_metadata=False, include_comments=False)
        except AssertionError as exc:
            raise SkipFile("malformed HTML: the extractor failed") from exc
    if found is None or not (found.text or "").strip():
        raise SkipFile("no main text found in the HTML")
    lang_attr = re.search(r"<html[^>]*\blang=[\"']?([A-Za-z]{2,3})", text[:4096], re.IGNORECASE)
    head = page_metadata(text)
    ld = structured_metadata(text)
    site = head.get("og:site_name") or _text_str(found.sitename) or ld.get("ld:site")
    title = choose_title(_text_str(found.title), head, site)
    if site and title and site.casefold() == title.casefold():
        site = ld.get("ld:site") if ld.get("ld:site") != site else None  # the title, not an outlet
    return Parsed(
        text=_TABLE_RULE.sub("", found.text),
        title=title,
        date=_iso_date(ld.get("ld:date")) or _iso_date(found.date),
        author=_text_str(found.author),
        declared_lang=lang_attr.group(1) if lang_attr else None,
        url=citation_url(
            head.get("canonical"),
            head.get("og:url"),
            ld.get("ld:url"),
            found.url,
            base=ld.get("base"),
        ),
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


def _code(lang: str | None) -> str:
    return (lang or "").strip().replace("_", "-").split("-")[0].lower()


def choose_language(parsed: Parsed, paragraphs: list[str]) -> tuple[str, float | None]:
    """The document's language and the detector's confidence (None when not detected).

    A language stated as metadata (front matter) is taken as it is. Otherwise the text is
    classified; a declared hint (HTML `lang`) is used only when the text has too few letters
    to decide (many pages declare the wrong language).
    """
    stated = _code(parsed.lang)
    if stated:
        return stated, None
    sample = "\n".join(paragraphs[:20])
    declared = _code(parsed.declared_lang)
    if declared and letter_count(sample_of(sample), SHORT_TEXT_LETTERS) < SHORT_TEXT_LETTERS:
        return declared, None
    found = detect(sample)
    return found.lang, found.confidence


def clean_paragraphs(parsed: Parsed) -> tuple[list[str], str | None]:
    """A parsed file's clean paragraphs (a leading date marker taken out), and its date."""
    paragraphs = layout_paragraphs(clean_text(parsed.text))
    date = parsed.date
    if paragraphs:
        marker = _DATE_MARKER.match(paragraphs[0])
        if marker and _iso_date(marker.group(1)):
            date = date or _iso_date(marker.group(1))
            paragraphs[0] = paragraphs[0][marker.end() :].strip()
            if not paragraphs[0]:
                paragraphs.pop(0)
    return paragraphs, date


def build_document(parsed: Parsed, doc_id: str, path: Path) -> Document:
    """Clean, segment and describe a parsed file."""
    paragraphs, date = clean_paragraphs(parsed)
    if not paragraphs:
        raise SkipFile("empty: no text")
    lang, confidence = choose_language(parsed, paragraphs)
    text, paras = assemble(paragraphs, lang)
    title = parsed.title and clean_text(parsed.title).strip()
    if not title:
        # A wire story's slug line ("BC-EU--Climate-Deal,0412") is no headline.
        at = 1 if len(paragraphs) > 1 and _WIRE_SLUG.match(paragraphs[0]) else 0
        first = paras[at]
        if _is_headline(paragraphs[at]) or not first.sentences:
            title = paragraphs[at]
        else:
            title = text[first.sentences[0].start : first.sentences[0].end]
        title = title.strip(" |") or title  # a table row's cell borders (trafilatura's tables)
    author = parsed.author or next(
        (m.group(1) for p in paragraphs[:4] if (m := _BYLINE.match(p))), None
    )
    return Document(
        id=doc_id,
        path=path,
        title=shorten(" ".join(title.split())),
        lang=lang,
        lang_confidence=confidence,
        date=date,
        author=(author and clean_text(author).strip()) or None,
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        paragraphs=paras,
        sentences=tuple(s for p in paras for s in p.sentences),
        url=parsed.url,
        site=(parsed.site and clean_text(parsed.site).strip()) or None,
    )


_HTML_START = re.compile(
    r"\A[\s\ufeff]*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])",
    re.I | re.S,
)
_ANY_TAG = re.compile(r"<(?:[a-zA-Z][\w:-]*[\s/>]|/[a-zA-Z]|!--|!doctype)", re.I)


def content_kind(text: str, kind: str) -> str:
    """The format a file's content is in, whatever its name says: a page saved as `.txt` or
    `.md` (it starts with `<!DOCTYPE html>` or `<html>`) is HTML, and an `.html` file with no
    tag at all is plain text."""
    if kind != "html" and _HTML_START.match(text[:4096]):
        return "html"
    if kind == "html" and not _ANY_TAG.search(text):
        return "text"
    return kind


def parse(text: str, kind: str) -> Parsed:
    """Run the reader for a format ("text", "markdown" or "html") over decoded text (the
    format its content is in: `content_kind`)."""
    kind = content_kind(text, kind)
    if kind == "markdown":
        return read_markdown(text)
    if kind == "html":
        return read_html(text)
    return Parsed(text=text)


# Files -------------------------------------------------------------------------------------
def document_id(path: Path, root: Path) -> str:
    """The stable id of a file: its path relative to the corpus root, with forward slashes.
    ValueError for a path outside the root."""
    return path.relative_to(root).as_posix()


def check_document_id(doc_id: str) -> str:
    """`doc_id` when it is a valid document id: relative, inside the corpus, no NUL.
    ValueError says why not (an absolute id such as "/etc/passwd" is refused everywhere)."""
    if not doc_id or "\x00" in doc_id:
        raise ValueError(f"not a document id: {doc_id!r}")
    if (
        doc_id.startswith(("/", "\\"))
        or re.match(r"[A-Za-z]:[\\/]", doc_id)
        or Path(doc_id).is_absolute()
    ):
        raise ValueError(f"not a document id: {doc_id!r} is absolute; ids are relative paths")
    if ".." in re.split(r"[\\/]", doc_id):
        raise ValueError(f"not a document id: {doc_id!r} leaves the corpus")
    return doc_id


def document_path(root: Path, doc_id: str) -> Path:
    """The file of a document id under `root` (ValueError for an absolute or escaping id)."""
    return root / check_document_id(doc_id)


def _refuse_outside(path: Path, root: Path | None) -> None:
    """SkipFile when `path` resolves (through symlinks) to a place outside `root`."""
    if root is None:
        return
    real = os.path.realpath(path)
    if not _inside(real, os.path.realpath(root)):
        raise SkipFile(f"symlink to {real}, outside the corpus: not followed ({OUTSIDE_HINT})")


def read_bytes(
    path: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES, *, inside: Path | None = None
) -> bytes:
    """A file's bytes, or SkipFile for a file that is missing, not a regular file, unreadable,
    too large or binary. With `inside`, a path that resolves outside that folder is refused.

    The file is checked with stat() before it is opened, and opened non-blocking, so a named
    pipe or a device is never read (a FIFO would block forever).
    """
    _refuse_outside(path, inside)
    try:
        kind = file_kind(os.stat(path).st_mode)
        if kind:
            raise SkipFile(f"not a regular file: {kind}")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        try:
            info = os.fstat(fd)
            kind = file_kind(info.st_mode)  # swapped between stat() and open()
            if kind:
                raise SkipFile(f"not a regular file: {kind}")
            if info.st_size > max_bytes:
                raise SkipFile(
                    f"too large: {info.st_size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit"
                )
            with os.fdopen(fd, "rb", closefd=False) as handle:
                data = handle.read(max_bytes + 1)
        finally:
            os.close(fd)
    except FileNotFoundError as exc:
        raise SkipFile("missing or a broken symlink") from exc
    except OSError as exc:
        raise SkipFile(f"unreadable: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise SkipFile(f"too large: over the {max_bytes / 1e6:g} MB limit")
    if not data.strip():
        raise SkipFile("empty")
    reason = binary_reason(data)
    if reason:
        raise SkipFile(f"binary: {reason}")
    return data


def read_document(
    path: Path,
    root: Path,
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
    *,
    follow_symlinks_outside: bool = False,
) -> Document:
    """Read one corpus file into a Document; SkipFile says why it cannot be."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise SkipFile(f"unsupported file type {path.suffix or '(none)'}")
    data = read_bytes(path, max_bytes, inside=None if follow_symlinks_outside else root)
    text = decode(data)
    if not text.strip():
        raise SkipFile("empty")
    try:
        doc_id = check_document_id(document_id(path, root))
    except ValueError as exc:
        raise SkipFile(f"outside the corpus {root}") from exc
    return build_document(parse(text, kind), doc_id, path)


def read_text(path: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> str:
    """The clean text `read_document` gives a file (`Document.text`), without its language,
    sentences and metadata (what a search snippet needs: a fraction of the cost)."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise SkipFile(f"unsupported file type {path.suffix or '(none)'}")
    paragraphs, _date = clean_paragraphs(parse(decode(read_bytes(path, max_bytes)), kind))
    if not paragraphs:
        raise SkipFile("empty: no text")
    return PARAGRAPH_SEPARATOR.join(paragraphs)


def document_from_text(raw: str, doc_id: str = "doc.txt") -> Document:
    """A Document built from raw text as if read from a file named `doc_id` (for tests)."""
    kind = FORMATS.get(Path(doc_id).suffix.lower(), "text")
    return build_document(parse(raw, kind), doc_id, Path(doc_id))


def ingest(
    root: Path,
    data_dir: Path | None = None,
    max_bytes: int = DEFAULT_MAX_FILE_BYTES,
    *,
    follow_symlinks_outside: bool = False,
) -> tuple[list[Document], list[Skipped]]:
    """Read every document under `root` (no caching); bad files are skipped and reported."""
    documents: list[Document] = []
    skipped: list[Skipped] = []
    follow = follow_symlinks_outside
    for entry in discover(root, data_dir, follow_symlinks_outside=follow):
        if isinstance(entry, Skipped):
            skipped.append(entry)
            continue
        try:
            documents.append(read_document(entry, root, max_bytes, follow_symlinks_outside=follow))
        except SkipFile as exc:
            skipped.append(Skipped(entry, str(exc)))
    return documents, skipped
