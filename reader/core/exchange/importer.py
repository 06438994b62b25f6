"""Importing tags: our json, jsonl, w3c and qdpx exports, and REFI-QDA projects from QDA tools.

1. Read the file into `Incoming` tags (readers below). Hostile files are refused before
   anything is written: a broken zip, names that climb out of the archive (zip-slip), huge
   members, malformed XML, XML with a DTD or entities (entity bombs), the wrong schema.
2. Match each tag's document: by the sha256 of the text it was made on, then by document id,
   citation URL, file name or title, then by finding its quote in the corpus.
3. Anchor it with its selectors, exactly as after a source edit (`reanchor`, `match_quote`):
   at its old offsets it keeps its status; elsewhere it is `moved`; not found, `orphaned`.
4. Hand the tags to the tag service's `import_tags`: one event in the log, one undo,
   idempotent (a tag whose id, or whose document, span and kind, is stored is "already
   present"). Authors, timestamps, notes, links, verdicts and labels are kept.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import re
import uuid
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from reader.core.documents import corpus_of
from reader.core.documents.webmeta import citation_url, json_ld_nodes, ld_nodes, node_types
from reader.core.errors import ReaderError
from reader.core.tags.anchoring import (
    ANCHORED,
    MOVED,
    ORPHANED,
    Selector,
    make_selector,
    match_quote,
    normalize_quote,
    reanchor,
)
from reader.core.tags.model import CONTEXT

if TYPE_CHECKING:
    from reader.core.documents.model import Document, DocumentInfo
    from reader.core.workspace import Workspace

MAX_FILE_BYTES = 256 * 1024 * 1024  # an import file, or all of a zip's members together
MAX_RATIO = 200  # a zip member that inflates more than this is a zip bomb
QDA_NS = "urn:QDA-XML:project:1.0"
_Q = f"{{{QDA_NS}}}"
_IDS = uuid.UUID("2b7e1516-28ae-4d2a-a6ab-f7cf4f3c9a11")  # for ids of foreign selections
_OUR_META = re.compile(
    r"^(?P<kind>[\w-]+) · status (?P<status>\w+) · tag (?P<id>[0-9a-fA-F-]{36})"
    r"(?: · verdict (?P<verdict>[\w-]+))?(?: · labels (?P<labels>.+))?$"
)


_NOT_AN_EXPORT = (
    "cannot import {name}: not a tag export (expected our json/jsonl/csv, W3C Web Annotation "
    "JSON-LD, a Hypothesis export or a REFI-QDA .qdpx)"
)


class ImportRefused(ReaderError):
    """A file that cannot be imported; nothing was written."""


@dataclass
class Incoming:
    """One tag as read from a file, before its document is matched."""

    tag: str
    exact: str
    id: str | None = None
    prefix: str = ""
    suffix: str = ""
    start: int | None = None
    end: int | None = None
    note: str = ""
    links: tuple[str, ...] = ()
    author: str | None = None
    created: str | None = None
    updated: str | None = None
    status: str | None = None
    verdict: str | None = None
    labels: tuple[str, ...] = ()
    doc_id: str | None = None
    doc_sha256: str | None = None  # of the text its offsets count into
    doc_names: tuple[str, ...] = ()  # file names or paths that may name its document
    doc_title: str | None = None
    doc_url: str | None = None


@dataclass
class Parsed:
    fmt: str
    tags: list[Incoming] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # reasons


@dataclass
class ImportReport:
    """What an import did (or, with dry_run, would do)."""

    source: str
    fmt: str
    imported: int = 0
    present: int = 0
    orphaned: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    dry_run: bool = False
    ids: list[str] = field(default_factory=list)  # the tags added

    def line(self) -> str:
        """`imported N, already present N, orphaned N, skipped N (reason)`."""
        total = sum(self.skipped.values())
        reasons = "; ".join(
            f"{count} {reason}" if total > 1 else reason
            for reason, count in self.skipped.most_common()
        )
        skipped = f"skipped {total}" + (f" ({reasons})" if reasons else "")
        return (
            f"imported {self.imported}, already present {self.present}, "
            f"orphaned {self.orphaned}, {skipped}"
        )


# Reading files -------------------------------------------------------------------------------
def _kinds() -> tuple[str, ...]:
    from reader.core.exchange.records import tag_kinds

    return tag_kinds()


def read_file(path: Path) -> Parsed:
    """The tags in `path` (format detected from the content); ImportRefused when unreadable."""
    path = Path(path).expanduser()
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImportRefused(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not path.is_file():
        raise ImportRefused(f"cannot import {path}: not a file")
    if size > MAX_FILE_BYTES:
        raise ImportRefused(f"cannot import {path}: larger than {MAX_FILE_BYTES // 2**20} MiB")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportRefused(f"cannot read {path}: {exc.strerror or exc}") from exc
    if data[:4] == b"PK\x03\x04" or path.suffix.lower() in (".qdpx", ".zip"):
        return read_qdpx(data, path.name)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        data = data.decode("utf-16", errors="replace").encode("utf-8")  # "Unicode text"
    if path.suffix.lower() in (".csv", ".tsv") or _looks_like_csv(data):
        return read_csv_text(_spreadsheet_text(data), path.name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused(f"cannot import {path.name}: not UTF-8 text ({exc.reason})") from exc
    if text.lstrip()[:1] == "<":
        return read_page(text, path.name)
    return read_json_text(text, path.name)


def read_json_text(text: str, name: str = "the file") -> Parsed:
    """Our json or jsonl export, or W3C Web Annotation JSON-LD."""
    try:
        return _read_json_text(text, name)
    except RecursionError:
        raise ImportRefused(f"cannot import {name}: JSON nested too deeply") from None


def _read_json_text(text: str, name: str) -> Parsed:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = None
        lines = [line for line in text.splitlines() if line.strip()]
        if lines and not lines[0].lstrip().startswith(("{", "[")):
            raise ImportRefused(_NOT_AN_EXPORT.format(name=name)) from None
        rows = []
        for number, line in enumerate(lines, 1):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ImportRefused(
                    f"cannot import {name}: not JSON or JSON Lines (line {number}: {exc.msg})"
                ) from None
        if not rows:
            raise ImportRefused(f"cannot import {name}: it is empty") from None
        return _flat(rows, "jsonl", name)
    rows = _hypothesis_rows(data)
    if rows is not None:
        return read_hypothesis(rows, name)
    reviews = _claim_reviews(ld_nodes(data))
    if reviews:
        return read_claimreview(reviews, name)
    if isinstance(data, dict) and isinstance(data.get("@graph"), list) and not _is_w3c(data):
        data = data["@graph"]  # JSON-LD flattened into a graph of annotations
    if isinstance(data, dict) and isinstance(data.get("annotations"), list):
        return _flat(data["annotations"], "json", name)
    if isinstance(data, dict) and _is_w3c(data):
        return read_w3c(data, name)
    if isinstance(data, list) and data and all(isinstance(x, dict) for x in data):
        if all(_is_w3c(x) for x in data):
            return read_w3c({"type": "AnnotationPage", "items": data}, name)
        return _flat(data, "json", name)
    raise ImportRefused(_NOT_AN_EXPORT.format(name=name))


def _flat(rows: list[Any], fmt: str, name: str) -> Parsed:
    parsed = Parsed(fmt)
    for row in rows:
        if not isinstance(row, dict):
            raise ImportRefused(f"cannot import {name}: an entry is not a JSON object")
        missing = [key for key in ("tag", "exact") if not isinstance(row.get(key), str)]
        if not (isinstance(row.get("doc_id"), str) or isinstance(row.get("doc_path"), str)):
            missing.append("doc_id")
        if missing:
            parsed.skipped.append(f"missing {', '.join(missing)}")
            continue
        parsed.tags.append(
            Incoming(
                tag=row["tag"],
                exact=row["exact"],
                id=_str(row.get("id")),
                prefix=_str(row.get("prefix")) or "",
                suffix=_str(row.get("suffix")) or "",
                start=_int(row.get("start")),
                end=_int(row.get("end")),
                note=_str(row.get("note")) or "",
                links=_strs(row.get("links")),
                author=_str(row.get("author")),
                created=_str(row.get("created")),
                updated=_str(row.get("updated")),
                status=_str(row.get("status")),
                verdict=_str(row.get("verdict")),
                labels=_strs(row.get("labels")),
                doc_id=_str(row.get("doc_id")),
                doc_sha256=_str(row.get("doc_sha256")),
                doc_names=tuple(x for x in (_str(row.get("doc_path")),) if x),
                doc_title=_str(row.get("doc_title")),
                doc_url=_str(row.get("doc_url")),
            )
        )
    return parsed


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _strs(value: Any) -> tuple[str, ...]:
    """The strings of a JSON list (a lone string or anything else: none)."""
    return tuple(x for x in value if isinstance(x, str)) if isinstance(value, list) else ()


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# W3C Web Annotation --------------------------------------------------------------------------
def _types(node: Any) -> set[str]:
    if not isinstance(node, dict):
        return set()
    kinds = node.get("type", node.get("@type"))
    return {kinds} if isinstance(kinds, str) else {k for k in kinds or () if isinstance(k, str)}


def _is_w3c(node: dict[str, Any]) -> bool:
    return bool(_types(node) & {"AnnotationCollection", "AnnotationPage", "Annotation"})


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _tag_id(value: Any) -> str | None:
    """Our tag id from an annotation IRI (urn:uuid:...), or a stable uuid for any other IRI."""
    if not isinstance(value, str) or not value:
        return None
    text = value.removeprefix("urn:uuid:")
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return str(uuid.uuid5(_IDS, value))


def read_w3c(data: dict[str, Any], name: str = "the file") -> Parsed:
    parsed = Parsed("w3c")
    items: list[Any] = []
    if "Annotation" in _types(data):
        items = [data]
    else:
        pages = [data] if "AnnotationPage" in _types(data) else []
        first = data.get("first")
        if isinstance(first, dict):
            pages.append(first)
        items = list(_listed(data.get("items")))
        for page in pages:
            if page is not data:
                items += _listed(page.get("items"))
        if "AnnotationCollection" in _types(data) and isinstance(first, str):
            raise ImportRefused(
                f"cannot import {name}: its annotations are on pages elsewhere ({first})"
            )
    kinds = _kinds()
    from reader.core.exchange.w3c import KIND_OF

    for item in items:
        if not isinstance(item, dict) or "Annotation" not in _types(item):
            parsed.skipped.append("not an annotation")
            continue
        bodies = [b for b in _listed(item.get("body")) if isinstance(b, dict)]

        def values(purpose: str, bodies=bodies) -> list[str]:
            return [
                b["value"]
                for b in bodies
                if _term(b.get("purpose")) == purpose and isinstance(b.get("value"), str)
            ]

        motivations = [_term(m) for m in _listed(item.get("motivation")) if isinstance(m, str)]
        # A comment without a purpose (the model's plain TextualBody, `bodyValue`) is a note.
        comments = [
            b["value"]
            for b in bodies
            if not b.get("purpose") and isinstance(b.get("value"), str)
            and (_types(b) & {"TextualBody", "oa:TextualBody"} or "type" not in b)
        ]  # fmt: skip
        if isinstance(item.get("bodyValue"), str):
            comments.append(item["bodyValue"])
        tagging = values("tagging")
        kind = next((v for v in tagging if v in kinds), None)
        if kind is not None:  # the other tagging bodies are labels (and older files' classifying)
            tagging.remove(kind)
        kind = kind or next((KIND_OF[m] for m in motivations if m in KIND_OF), None)
        # Another tool's annotation (commenting, highlighting, tagging...): a context passage,
        # its comment the note and its tags the labels.
        kind = kind or CONTEXT
        target = next((t for t in _listed(item.get("target")) if isinstance(t, dict)), None)
        if target is None:
            parsed.skipped.append("no target passage")
            continue
        selectors = _selectors(target.get("selector"))
        quote = next((s for s in selectors if "TextQuoteSelector" in _types(s)), None)
        if quote is None or not isinstance(quote.get("exact"), str):
            parsed.skipped.append("no TextQuoteSelector")
            continue
        position = next((s for s in selectors if "TextPositionSelector" in _types(s)), None)
        position = position or target.get("reader:position") or {}
        source = target.get("source")
        source = source if isinstance(source, dict) else {"id": source}
        names = [n for n in (_str(source.get("reader:path")), _file_path(source.get("id"))) if n]
        creators = [c for c in _listed(item.get("creator")) if c]
        author = None
        if creators:
            first_creator = creators[0]
            author = first_creator if isinstance(first_creator, str) else None
            if author and author.startswith("acct:"):
                author = _account_name(author)
            if isinstance(first_creator, dict):
                author = _str(first_creator.get("name")) or _str(first_creator.get("nickname"))
        links = tuple(
            link
            for b in bodies
            if b.get("purpose") == "linking"
            for link in (_tag_id(b.get("source") or b.get("id")),)
            if link
        )
        verdicts = values("assessing")
        parsed.tags.append(
            Incoming(
                tag=kind,
                exact=quote["exact"],
                id=_tag_id(item.get("id")),
                prefix=_str(quote.get("prefix")) or "",
                suffix=_str(quote.get("suffix")) or "",
                start=_int(position.get("start")),
                end=_int(position.get("end")),
                note="\n\n".join([*values("commenting"), *comments]),
                links=links,
                author=author,
                created=_str(item.get("created")),
                updated=_str(item.get("modified")),
                status=_str(item.get("reader:status")),
                verdict=verdicts[0] if verdicts else None,
                labels=_labels([*tagging, *values("classifying")]),
                doc_id=_str(source.get("reader:docId")),
                doc_sha256=_str(source.get("reader:sha256")),
                doc_names=tuple(names),
                doc_title=_str(source.get("title")) or _str(source.get("label")),
                doc_url=_web_url(source.get("id")),
            )
        )
    return parsed


def _term(value: Any) -> Any:
    """A vocabulary term without its prefix ("oa:commenting" -> "commenting")."""
    if isinstance(value, str):
        return value.rsplit("#", 1)[-1].removeprefix("oa:")
    return value


def _selectors(value: Any, depth: int = 0) -> list[dict[str, Any]]:
    """A target's selectors, with those they are refined by (a TextQuoteSelector refining
    a FragmentSelector or an XPathSelector) and with their types' prefixes dropped."""
    found: list[dict[str, Any]] = []
    for selector in _listed(value):
        if not isinstance(selector, dict) or depth > 8:
            continue
        kinds = {_term(k) for k in _types(selector)}
        found.append({**selector, "type": sorted(kinds)})
        found += _selectors(selector.get("refinedBy"), depth + 1)
    return found


def _web_url(iri: Any) -> str | None:
    return iri if isinstance(iri, str) and iri.startswith(("http://", "https://")) else None


def _file_path(iri: Any) -> str | None:
    if not isinstance(iri, str) or not iri.startswith("file:"):
        return None
    return unquote(urlparse(iri).path)


# Hypothesis ----------------------------------------------------------------------------------
def _hypothesis_rows(data: Any) -> list[Any] | None:
    """The annotations of a Hypothesis API answer (`rows`), a Hypothesis export
    (`annotations`) or a bare list of them; None when `data` is none of these."""
    rows = None
    if isinstance(data, dict):
        rows = data.get("rows") if isinstance(data.get("rows"), list) else data.get("annotations")
    elif isinstance(data, list):
        rows = data
    if not isinstance(rows, list) or not rows:
        return None
    first = rows[0]
    is_hypothesis = (
        isinstance(first, dict)
        and "tag" not in first
        and "exact" not in first
        and isinstance(first.get("target"), list)
        and ("uri" in first or "user" in first)
    )
    return rows if is_hypothesis else None


def read_hypothesis(rows: list[Any], name: str = "the file") -> Parsed:
    """Hypothesis annotations: a tag named like a kind gives the kind (else context), the
    other tags are labels, the text is the note; page notes and replies (no quote) are
    skipped with that reason."""
    parsed = Parsed("hypothesis")
    kinds = _kinds()
    for row in rows:
        if not isinstance(row, dict):
            parsed.skipped.append("not an annotation")
            continue
        target = next((t for t in _listed(row.get("target")) if isinstance(t, dict)), None)
        selectors = _selectors(target.get("selector")) if target else []
        quote = next((s for s in selectors if "TextQuoteSelector" in s["type"]), None)
        if quote is None or not isinstance(quote.get("exact"), str):
            parsed.skipped.append("a page note or reply (no quoted passage)")
            continue
        position = next((s for s in selectors if "TextPositionSelector" in s["type"]), {})
        tags = [t for t in _listed(row.get("tags")) if isinstance(t, str)]
        kind = next((t.strip().lower() for t in tags if t.strip().lower() in kinds), None)
        labels = [t for t in tags if t.strip().lower() != kind]
        document = row.get("document") if isinstance(row.get("document"), dict) else {}
        titles = [t for t in _listed(document.get("title")) if isinstance(t, str)]
        info = row.get("user_info") if isinstance(row.get("user_info"), dict) else {}
        user = _str(row.get("user")) or ""
        author = _str(info.get("display_name")) or _account_name(user)
        uri = _str(target.get("source")) or _str(row.get("uri"))
        parsed.tags.append(
            Incoming(
                tag=kind or CONTEXT,
                exact=quote["exact"],
                id=_tag_id(f"hypothesis:{row['id']}") if isinstance(row.get("id"), str) else None,
                prefix=_str(quote.get("prefix")) or "",
                suffix=_str(quote.get("suffix")) or "",
                start=_int(position.get("start")),
                end=_int(position.get("end")),
                note=_str(row.get("text")) or "",
                author=author,
                created=_str(row.get("created")),
                updated=_str(row.get("updated")),
                labels=_labels(labels),
                doc_names=tuple(n for n in (_file_path(uri),) if n),
                doc_title=titles[0] if titles else None,
                doc_url=_web_url(uri),
            )
        )
    return parsed


# schema.org ClaimReview ----------------------------------------------------------------------
# A rating's words as fact-checkers write them, and our verdict for them.
_VERDICT_WORDS = {
    "true": "true",
    "correct": "true",
    "accurate": "true",
    "mostly true": "mostly-true",
    "mostly correct": "mostly-true",
    "half true": "mixed",
    "half-true": "mixed",
    "mixed": "mixed",
    "mixture": "mixed",
    "partly true": "mixed",
    "partly false": "mostly-false",
    "misleading": "mostly-false",
    "mostly false": "mostly-false",
    "false": "false",
    "fake": "false",
    "incorrect": "false",
    "pants on fire": "false",
    "pants on fire!": "false",
    "unproven": "unproven",
    "unsupported": "unproven",
    "unverified": "unproven",
    "no evidence": "unproven",
}


def _account_name(user: str) -> str | None:
    """A Hypothesis account's user name ("acct:alice@hypothes.is" -> "alice")."""
    return user.removeprefix("acct:").split("@", 1)[0] or None


def _claim_reviews(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ClaimReviews among JSON-LD objects."""
    return [n for n in nodes if "ClaimReview" in node_types(n)]


def read_page(text: str, name: str = "the file") -> Parsed:
    """A fact-check page: the schema.org ClaimReview JSON-LD embedded in its HTML."""
    reviews = _claim_reviews(json_ld_nodes(text))
    if not reviews:
        raise ImportRefused(
            f"cannot import {name}: a web page without schema.org ClaimReview JSON-LD "
            "(import a fact-check page, or one of the tag exports)"
        )
    return read_claimreview(reviews, name)


def _verdict_of(rating: Any) -> str | None:
    """Our verdict for a schema.org Rating: its words when we know them, else its value on
    its own scale (worstRating..bestRating, 1..5 when not given) in five steps."""
    if not isinstance(rating, dict):
        return None
    words = _str(rating.get("alternateName")) or _str(rating.get("name")) or ""
    verdict = _VERDICT_WORDS.get(" ".join(words.lower().split()).strip(" .!"))
    if verdict:
        return verdict
    try:
        value = float(rating.get("ratingValue"))
        best = float(rating.get("bestRating", 5))
        worst = float(rating.get("worstRating", 1))
    except (TypeError, ValueError):
        return None
    if not worst <= value <= best or best <= worst:
        return None
    steps = ("false", "mostly-false", "mixed", "mostly-true", "true")
    return steps[min(4, int((value - worst) / (best - worst) * 5))]


def _name_of(value: Any) -> str | None:
    for item in _listed(value):
        if isinstance(item, dict) and _str(item.get("name")):
            return item["name"]
        if isinstance(item, str) and item.strip():
            return item
    return None


def read_claimreview(reviews: list[dict[str, Any]], name: str = "the file") -> Parsed:
    """ClaimReviews (ours or a fact-checker's) as claims: the quote `claimReviewed`, the
    verdict from `reviewRating`, the document from the claim's appearance (URL, title)."""
    parsed = Parsed("claimreview")
    for review in reviews:
        quote = _str(review.get("claimReviewed"))
        if not quote or not quote.strip():
            parsed.skipped.append("a ClaimReview without claimReviewed")
            continue
        claim = review.get("itemReviewed") if isinstance(review.get("itemReviewed"), dict) else {}
        # Where the claim appeared: its appearances (objects or bare URLs), or, in older
        # ClaimReviews, the reviewed CreativeWork itself.
        found = [
            *_listed(claim.get("firstAppearance")),
            *_listed(claim.get("appearance")),
            claim,
        ]
        works = [w for w in found if isinstance(w, dict)]
        urls = [u for w in works if (u := _web_url(w.get("url")))]
        urls += [u for w in found if (u := _web_url(w))]
        titles = [t for w in works if (t := _str(w.get("name")) or _str(w.get("headline")))]
        rating = review.get("reviewRating")
        verdict = _verdict_of(rating)
        words = _str(rating.get("alternateName")) if isinstance(rating, dict) else None
        note_lines = []
        if words and verdict is None:
            note_lines.append(f"Rating: {words}")
        if _web_url(review.get("url")):
            note_lines.append(f"Fact check: {review['url']}")
        author = _name_of(
            [a for a in _listed(review.get("author")) if isinstance(a, dict)
             and "Person" in _types({"type": a.get("@type")})] or review.get("author")
        )  # fmt: skip
        review_id = _str(review.get("@id")) or _str(review.get("url"))
        parsed.tags.append(
            Incoming(
                tag="claim",
                exact=quote,
                id=_tag_id(f"claimreview:{review_id}|{quote}") if review_id else None,
                note="\n".join(note_lines),
                author=author,
                created=_str(review.get("datePublished")),
                verdict=verdict,
                doc_title=titles[0] if titles else None,
                doc_url=urls[0] if urls else None,
            )
        )
    return parsed


# CSV -----------------------------------------------------------------------------------------
_CSV_DELIMITERS = ",;\t|"


def _looks_like_csv(data: bytes) -> bool:
    """Whether `data` starts with the header row of our csv export (any delimiter)."""
    head = data[:2048].lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].lower()
    return b"doc_id" in head and b"exact" in head and not head.lstrip().startswith((b"{", b"["))


def _spreadsheet_text(data: bytes) -> str:
    """A spreadsheet's CSV as text: UTF-8 with or without a BOM, UTF-16 ("Unicode text"),
    or the legacy code page a spreadsheet program saved it in."""
    from reader.core.documents.clean import decode

    return decode(data).lstrip("\ufeff")


def read_csv_text(text: str, name: str = "the file") -> Parsed:
    """Our csv export, also as a spreadsheet program saves it again: `;` or tab delimited, a
    BOM or none, the `'` that kept a cell from running as a formula taken off."""
    import csv

    from reader.core.exchange.csv_ import FORMULA_STARTS

    lines = text.splitlines()
    if not lines:
        raise ImportRefused(f"cannot import {name}: it is empty")
    header = lines[0]
    delimiter = max(_CSV_DELIMITERS, key=header.count)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
        fields = [f.strip().lower() for f in reader.fieldnames or ()]
        reader.fieldnames = fields
        missing = [f for f in ("tag", "exact") if f not in fields]
        if not ("doc_id" in fields or "doc_path" in fields):
            missing.append("doc_id")
        if missing:
            raise ImportRefused(
                f"cannot import {name}: a CSV needs the columns tag, exact and doc_id, as "
                f"`reader export --format csv` writes them (missing: {', '.join(missing)})"
            )
        rows = []
        for row in reader:
            if not any((v or "").strip() for k, v in row.items() if k is not None):
                continue
            clean: dict[str, Any] = {}
            for key, value in row.items():
                if key is None or value is None:
                    continue
                if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
                    value = value[1:]
                clean[key] = value
            for key in ("start", "end"):
                number = (clean.get(key) or "").strip()
                clean[key] = int(number) if number.isdigit() else None
            for key in ("links", "labels"):
                clean[key] = (clean.get(key) or "").split()
            for key in list(clean):
                if clean[key] == "" and key not in ("tag", "exact", "note", "prefix", "suffix"):
                    clean[key] = None
            rows.append(clean)
    except csv.Error as exc:
        raise ImportRefused(f"cannot import {name}: malformed CSV ({exc})") from exc
    if not rows:
        raise ImportRefused(f"cannot import {name}: it holds no tags")
    return _flat(rows, "csv", name)


# REFI-QDA ------------------------------------------------------------------------------------
def _safe_member(name: str) -> bool:
    """A zip member name that stays inside the archive's folder (no zip-slip)."""
    if not name or "\x00" in name or name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return False
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return ".." not in parts


def _open_zip(data: bytes, name: str) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
    import io

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise ImportRefused(f"cannot import {name}: not a valid .qdpx (zip) file ({exc})") from exc
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        if not _safe_member(info.filename):
            raise ImportRefused(
                f"cannot import {name}: the archive names a file outside itself "
                f"({info.filename!r}); nothing was read"
            )
        total += info.file_size
        if total > MAX_FILE_BYTES or (
            info.compress_size and info.file_size / info.compress_size > MAX_RATIO
        ):
            raise ImportRefused(f"cannot import {name}: its contents are too large (zip bomb?)")
        members[info.filename.replace("\\", "/")] = info
    return archive, members


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> bytes:
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError) as exc:
        raise ImportRefused(f"cannot import {name}: {info.filename} is damaged ({exc})") from exc


def parse_xml(data: bytes, name: str) -> Any:
    """An lxml element tree of untrusted XML: no DTD, no entities, no network, no huge trees."""
    from lxml import etree

    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ImportRefused(f"cannot import {name}: XML with a DTD or entities is not accepted")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False
    )
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        detail = str(exc).splitlines()[0] if str(exc) else "syntax error"
        raise ImportRefused(f"cannot import {name}: malformed XML ({detail})") from exc


def read_qdpx(data: bytes, name: str = "the file") -> Parsed:
    archive, members = _open_zip(data, name)
    qde = [m for m in members if m.lower().endswith(".qde") and "/" not in m.strip("/")]
    if not qde:
        # A project zipped with its folder ("Study/project.qde"): its one .qde.
        nested = [m for m in members if m.lower().endswith(".qde")]
        qde = nested if len(nested) == 1 else []
    if not qde:
        raise ImportRefused(f"cannot import {name}: no project.qde in the archive")
    chosen = "project.qde" if "project.qde" in qde else qde[0]
    root = parse_xml(_read_member(archive, members[chosen], name), f"{name}:{chosen}")
    if root.tag != f"{_Q}Project":
        raise ImportRefused(
            f"cannot import {name}: not a REFI-QDA project (root element {root.tag!r})"
        )
    ours = root.get("origin") == "source-reader"
    users = {u.get("guid"): u.get("name") for u in root.iter(f"{_Q}User")}
    codes: dict[str, str] = {}

    def walk(parent: Any) -> None:
        for code in parent.findall(f"{_Q}Code"):
            if code.get("guid") and code.get("name") is not None:
                codes[code.get("guid")] = code.get("name")
            walk(code)

    for codes_el in root.iter(f"{_Q}Codes"):
        walk(codes_el)
    variables = {v.get("guid"): v.get("name") for v in root.iter(f"{_Q}Variable")}
    notes: dict[str, Any] = {n.get("guid"): n for n in root.iter(f"{_Q}Note")}
    links: dict[str, list[str]] = {}
    for link in root.iter(f"{_Q}Link"):
        if link.get("originGUID") and link.get("targetGUID"):
            links.setdefault(link.get("originGUID").lower(), []).append(
                link.get("targetGUID").lower()
            )
    kinds = _kinds()
    parsed = Parsed("qdpx")
    # Text sources, and the text representations of PDF sources (NVivo, ATLAS.ti).
    for source in root.iter(f"{_Q}TextSource", f"{_Q}Representation"):
        if source.getparent() is not None and source.getparent().tag == f"{_Q}Notes":
            continue
        if source.find(f"{_Q}PlainTextSelection") is None:
            continue  # a source nobody coded: nothing to import from it
        if source.tag == f"{_Q}Representation" and not source.get("name"):
            source.set("name", source.getparent().get("name") or "")
        text = _source_text(source, archive, members, name)
        if text is None:
            parsed.skipped.append("source text missing")
            continue
        values = {}
        for value in source.findall(f"{_Q}VariableValue"):
            ref = value.find(f"{_Q}VariableRef")
            if ref is not None:
                values[variables.get(ref.get("targetGUID"), "")] = (
                    value.findtext(f"{_Q}TextValue") or ""
                )
        sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        span_notes: dict[tuple[int, int], str] = {}
        for ref in source.findall(f"{_Q}NoteRef"):
            note = notes.get(ref.get("targetGUID"))
            span = note.find(f"{_Q}PlainTextSelection") if note is not None else None
            content = note.findtext(f"{_Q}PlainTextContent") if note is not None else None
            if span is not None and content:
                key = (_int_attr(span, "startPosition"), _int_attr(span, "endPosition"))
                span_notes[key] = content
        names = tuple(
            n for n in (values.get("path"), values.get("document id"), source.get("name")) if n
        )
        for selection in source.findall(f"{_Q}PlainTextSelection"):
            start = _int_attr(selection, "startPosition")
            end = _int_attr(selection, "endPosition")
            if start is None or end is None or not (0 <= start < end <= len(text)):
                parsed.skipped.append("selection outside its source")
                continue
            codings = [c.find(f"{_Q}CodeRef") for c in selection.findall(f"{_Q}Coding")]
            code_names = [codes.get(c.get("targetGUID")) for c in codings if c is not None]
            description = selection.findtext(f"{_Q}Description") or ""
            meta = _our_meta(description) if ours else None
            note = _selection_note(selection, notes, ours) or span_notes.get((start, end), "")
            if not ours and not note:
                note = description
            base_id = (selection.get("guid") or "").strip("{}").lower()
            for index, code_name in enumerate(code_names or [None]):
                kind, labels = _kind_of(code_name, kinds)
                if kind is None:
                    parsed.skipped.append("a selection without a code")
                    continue
                tag_id = base_id if index == 0 else str(uuid.uuid5(_IDS, f"{base_id}|{index}"))
                user = selection.get("creatingUser") or selection.get("modifyingUser")
                parsed.tags.append(
                    Incoming(
                        tag=kind,
                        exact=text[start:end],
                        id=_tag_id(tag_id) if tag_id else None,
                        prefix=text[max(0, start - 32) : start],
                        suffix=text[end : end + 32],
                        start=start,
                        end=end,
                        note=note,
                        links=tuple(links.get(base_id, ())) if index == 0 else (),
                        author=users.get(user),
                        created=selection.get("creationDateTime"),
                        updated=selection.get("modifiedDateTime"),
                        status=meta["status"] if meta else None,
                        verdict=meta["verdict"] if meta else None,
                        labels=tuple(meta["labels"]) if meta else labels,
                        doc_id=values.get("document id"),
                        doc_sha256=sha,
                        doc_names=names,
                        doc_title=source.get("name"),
                    )
                )
    return parsed


def _int_attr(element: Any, name: str) -> int | None:
    try:
        return int(element.get(name))
    except (TypeError, ValueError):
        return None


def _source_text(source: Any, archive, members, name: str) -> str | None:
    inline = source.findtext(f"{_Q}PlainTextContent")
    if inline is not None:
        return inline
    path = source.get("plainTextPath") or ""
    if not path.startswith("internal://"):
        return None
    member = path.removeprefix("internal://").lstrip("/")
    info = next(
        (members[f + member] for f in ("sources/", "Sources/", "") if f + member in members),
        None,
    )
    if info is None:
        # Tools disagree on the folder ("sources/", "Sources/", none) and on case: match the
        # file name alone when exactly one member has it.
        wanted = PurePosixPath(member).name.casefold()
        found = [i for m, i in members.items() if PurePosixPath(m).name.casefold() == wanted]
        info = found[0] if len(found) == 1 else None
    if info is None:
        return None
    raw = _read_member(archive, info, name)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace")


def _our_meta(description: str) -> dict[str, Any] | None:
    last = description.rsplit("\n\n", 1)[-1].strip()
    found = _OUR_META.match(last)
    if not found:
        return None
    labels = [x.strip() for x in (found["labels"] or "").split(",") if x.strip()]
    return {"status": found["status"], "verdict": found["verdict"], "labels": labels}


def _selection_note(selection: Any, notes: dict[str, Any], ours: bool) -> str:
    texts = []
    for ref in selection.findall(f"{_Q}NoteRef"):
        note = notes.get(ref.get("targetGUID"))
        if note is None:
            continue
        if ours and not (note.get("name") or "").startswith("Note on "):
            continue  # our translation notes
        content = note.findtext(f"{_Q}PlainTextContent")
        if content:
            texts.append(content)
    return "\n\n".join(texts)


def _kind_of(code: str | None, kinds: tuple[str, ...]) -> tuple[str | None, tuple[str, ...]]:
    """A tag kind for a QDA code: the kind of that name, else context labelled with the code."""
    if code is None:
        return None, ()
    if code.strip().lower() in kinds:
        return code.strip().lower(), ()
    label = re.sub(r"[\s,]+", "-", code.strip().lstrip("#").lower())[:64] or "code"
    return CONTEXT, (label,)


# Matching documents --------------------------------------------------------------------------
class DocumentMatcher:
    """Finds an incoming tag's document: sha256, then id/file name/title, then its quote."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.infos: list[DocumentInfo] = corpus_of(ws).infos()
        self.by_sha: dict[str, list[DocumentInfo]] = {}
        self.by_name: dict[str, list[DocumentInfo]] = {}
        self.by_title: dict[str, list[DocumentInfo]] = {}
        self.by_id = {info.id: info for info in self.infos}
        self.by_url: dict[str, list[DocumentInfo]] = {}
        for info in self.infos:
            self.by_sha.setdefault(info.sha256, []).append(info)
            self.by_name.setdefault(Path(info.id).name, []).append(info)
            if info.title:
                self.by_title.setdefault(info.title, []).append(info)
            if getattr(info, "url", None):
                self.by_url.setdefault(_url_key(info.url), []).append(info)
        self._docs: dict[str, Document | None] = {}

    def load(self, doc_id: str) -> Document | None:
        if doc_id not in self._docs:
            try:
                self._docs[doc_id] = corpus_of(self.ws).load(doc_id)
            except ReaderError:
                self._docs[doc_id] = None
        return self._docs[doc_id]

    def match(self, inc: Incoming) -> Document | None:
        if inc.doc_sha256 and inc.doc_sha256 in self.by_sha:
            candidates = self.by_sha[inc.doc_sha256]
            info = next((i for i in candidates if i.id == inc.doc_id), candidates[0])
            doc = self.load(info.id)
            if doc is not None:
                return doc
        if inc.doc_id and inc.doc_id in self.by_id:
            return self.load(inc.doc_id)
        same_url = self.by_url.get(_url_key(inc.doc_url), []) if inc.doc_url else []
        if len(same_url) == 1:
            return self.load(same_url[0].id)
        for name in (*inc.doc_names, inc.doc_id):
            if not name:
                continue
            found = self.by_name.get(PurePosixPath(name.replace("\\", "/")).name, [])
            if len(found) == 1:
                return self.load(found[0].id)
        if inc.doc_title and len(self.by_title.get(inc.doc_title, [])) == 1:
            return self.load(self.by_title[inc.doc_title][0].id)
        return self._by_quote(inc)

    def _by_quote(self, inc: Incoming) -> Document | None:
        exact = normalize_quote(inc.exact)
        if len(exact.strip()) < 12:
            return None  # too short to name a document
        best: tuple[float, str] | None = None
        for info in self.infos:
            doc = self.load(info.id)
            if doc is None or exact not in doc.text:
                continue
            anchor = match_quote(doc.text, exact, prefix=inc.prefix, suffix=inc.suffix)
            if anchor is not None and (best is None or anchor.score > best[0]):
                best = (anchor.score, info.id)
        return self.load(best[1]) if best else None


def _url_key(url: str) -> str:
    """A URL as it names a page whichever tool wrote it: no scheme, no "www.", no fragment,
    no click-tracking parameters, no trailing slash ("http://www.x.org/a/?utm_source=t#c"
    and "https://x.org/a" are one page)."""
    clean = citation_url(url) or url
    parts = urlparse(clean)
    host = parts.netloc.lower().removeprefix("www.")
    path = parts.path.rstrip("/")
    return f"{host}{path}" + (f"?{parts.query}" if parts.query else "")


# Building tags -------------------------------------------------------------------------------
def _now() -> str:
    from reader.core.exchange.records import now

    return now()


def anchor_incoming(inc: Incoming, doc: Document | None) -> dict[str, Any]:
    """The incoming tag's position, quote and status in `doc` (orphaned when not found)."""
    exact = normalize_quote(inc.exact)
    start, end = inc.start, inc.end
    if doc is not None:
        text = doc.text
        at_place = (
            start is not None and end is not None and 0 <= start < end <= len(text)
            and text[start:end] == exact
        )  # fmt: skip
        if at_place:  # at its exact old offsets: its status stands (orphaned: found again)
            status = inc.status if inc.status in (ANCHORED, MOVED) else ANCHORED
            selector = make_selector(text, start, end)
            return _placed(selector, status, doc)
        if start is not None and end is not None and start < end:
            anchor = reanchor(text, Selector(start, end, exact, inc.prefix, inc.suffix))
        else:
            anchor = match_quote(text, exact, prefix=inc.prefix, suffix=inc.suffix)
        if anchor is not None:
            selector = make_selector(text, anchor.start, anchor.end)
            status = anchor.status
            if status == MOVED and anchor.method == "exact" and not inc.doc_sha256:
                # Another tool's offsets count into its own text (a browser's DOM): its
                # quote found as it is in ours is where it belongs, not a move.
                status = ANCHORED
            return _placed(selector, status, doc)
    if start is None or end is None or not 0 <= start < end:
        start, end = 0, max(1, len(exact))
    return {
        "start": start,
        "end": end,
        "exact": exact,
        "prefix": inc.prefix,
        "suffix": inc.suffix,
        "status": ORPHANED,
        "doc_sha256": inc.doc_sha256 or "",
        "checked_sha256": doc.sha256 if doc is not None else "",
        "lang": doc.lang if doc is not None else "",
    }


def _placed(selector: Selector, status: str, doc: Document) -> dict[str, Any]:
    return {
        "start": selector.start,
        "end": selector.end,
        "exact": selector.exact,
        "prefix": selector.prefix,
        "suffix": selector.suffix,
        "status": status,
        "doc_sha256": doc.sha256,
        "checked_sha256": doc.sha256,
        "lang": doc.lang,
    }


def build_tags(ws: Workspace, parsed: Parsed) -> tuple[list[Any], Counter]:
    """Tags ready for `import_tags`, and the reasons for those left out."""
    from reader.core.tags.model import DEFAULT_VERDICT, Tag

    skipped: Counter = Counter(parsed.skipped)
    matcher = DocumentMatcher(ws)
    kinds = _kinds()
    tags = []
    stamp = _now()
    for inc in parsed.tags:
        if inc.tag not in kinds:
            skipped[f"unknown tag kind {inc.tag!r}"] += 1
            continue
        if not normalize_quote(inc.exact).strip():
            skipped["empty passage"] += 1
            continue
        doc = matcher.match(inc)
        doc_id = doc.id if doc is not None else inc.doc_id
        if doc_id is None:
            skipped["no matching document in the corpus"] += 1
            continue
        place = anchor_incoming(inc, doc)
        created = inc.created or stamp
        tags.append(
            Tag(
                id=inc.id or str(uuid.uuid4()),
                doc_id=doc_id,
                tag=inc.tag,
                note=_without_escapes(inc.note),
                links=inc.links,
                author=_without_escapes(inc.author or "") or ws.author,
                created=created,
                updated=inc.updated or created,
                verdict=inc.verdict or DEFAULT_VERDICT,
                labels=inc.labels,
                **place,
            )
        )
    return tags, skipped


def import_file(ws: Workspace, path: Path, *, dry_run: bool = False) -> ImportReport:
    """Import the tags in `path` into the workspace's tag store (one event, one undo)."""
    from reader.core.tags import open_tag_store

    prepared = prepare_import(ws, path)
    with open_tag_store(ws, readonly=dry_run) as service:
        return apply_import(service, prepared, dry_run=dry_run)


@dataclass
class Prepared:
    """A file read and its tags matched to documents and anchored, not yet written."""

    path: Path
    parsed: Parsed
    tags: list[Any]
    skipped: Counter


def prepare_import(ws: Workspace, path: Path) -> Prepared:
    """Read `path` and build its tags (the slow part: parsing, matching, anchoring); writes
    nothing, so it may run in a worker while the app's tag service stays on its thread."""
    path = Path(path).expanduser()
    parsed = read_file(path)
    tags, skipped = build_tags(ws, parsed)
    return Prepared(path, parsed, tags, skipped)


def apply_import(service: Any, prepared: Prepared, *, dry_run: bool = False) -> ImportReport:
    """Write prepared tags through `service.import_tags` (one event, one undo in that
    service's session), or only count them with `dry_run`."""
    parsed, path = prepared.parsed, prepared.path
    report = ImportReport(
        source=path.name, fmt=parsed.fmt, skipped=Counter(prepared.skipped), dry_run=dry_run
    )
    if dry_run:
        added, reasons = _would_import(service, prepared.tags)
    else:
        result = service.import_tags(prepared.tags, source=f"{parsed.fmt} file {path.name}")
        added = result.added
        reasons = [why for _tag, why in result.skipped]
    for why in reasons:
        if why.startswith("already there"):
            report.present += 1
        else:
            report.skipped[why] += 1
    report.ids = [t.id for t in added]
    report.orphaned = sum(1 for t in added if t.status == ORPHANED)
    report.imported = len(added) - report.orphaned
    return report


def _would_import(service: Any, tags: list[Any]) -> tuple[list[Any], list[str]]:
    """What `import_tags` would add and skip, without writing (for --dry-run)."""
    added, reasons, seen_ids, seen_keys = [], [], set(), set()
    for tag in tags:
        key = (tag.doc_id, tag.start, tag.end, tag.tag)
        if service.get(tag.id) is not None or tag.id in seen_ids:
            reasons.append("already there (same id)")
        elif service.is_duplicate(*key) is not None or key in seen_keys:
            reasons.append("already there (same passage and kind)")
        else:
            added.append(tag)
            seen_ids.add(tag.id)
            seen_keys.add(key)
    return added, reasons


__all__ = [
    "ImportRefused",
    "ImportReport",
    "Incoming",
    "Parsed",
    "build_tags",
    "import_file",
    "read_file",
]


def _without_escapes(text: str) -> str:
    """Another tool's free text without terminal escape sequences, whole ("\x1b[2J", not
    just its ESC: the tag store drops control characters but would keep "[2J")."""
    if "\x1b" not in text and "\x9b" not in text:
        return text
    from reader.core.documents.clean import clean_text

    return clean_text(text)


def _labels(values: list[str]) -> tuple[str, ...]:
    """Tagging bodies as labels: another tool's tag `climate change` becomes `climate-change`;
    one that still is no label (too long, a comma) is left out rather than the annotation."""
    from reader.core.tags.model import clean_label

    out: list[str] = []
    for value in values:
        try:
            out.append(clean_label("-".join(value.split())))
        except ReaderError:
            continue
    return tuple(dict.fromkeys(out))
