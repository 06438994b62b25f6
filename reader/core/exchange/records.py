"""What an export reads: the tags with their documents' metadata, never writing the store.

A tag whose document changed since it was last anchored is re-anchored here in memory
(pure `reanchor`), so the export shows where the passage is now; the store is not touched
(re-anchoring on a source change is the tag service's job).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from reader import __version__
from reader.core.documents import corpus_of
from reader.core.documents.model import Document, DocumentInfo
from reader.core.errors import ReaderError
from reader.core.tags.anchoring import ANCHORED, MOVED, ORPHANED, make_selector, reanchor
from reader.core.tags.model import JSON_FIELDS

if TYPE_CHECKING:
    from reader.core.workspace import Workspace

GENERATOR = f"source-reader {__version__}"
GENERATOR_URL = "https://pypi.org/project/source-reader/"


def now() -> str:
    """The current UTC time, ISO 8601 with milliseconds and a Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def tag_kinds() -> tuple[str, ...]:
    """The tag kinds' names, from the tag model's registry."""
    from reader.core.tags.model import KIND_NAMES

    return KIND_NAMES


def open_store(ws: Workspace) -> Any:
    """The workspace's tag store, opened read-only (a context manager)."""
    from reader.core.tags import open_tag_store

    return open_tag_store(ws, readonly=True)


def tag_json(ann: Any) -> dict[str, Any]:
    """A tag's fields as plain JSON values (verdict None and labels [] when the model has none)."""
    data = {name: getattr(ann, name, None) for name in JSON_FIELDS}
    data["links"] = list(ann.links)
    data["labels"] = list(getattr(ann, "labels", None) or ())
    return data


@dataclass(frozen=True)
class Record:
    """One tag (as it is now in its document) with its document's metadata and translation."""

    ann: Any  # the tag (reader.core.tags Tag/Annotation), positions as of the current text
    doc_id: str
    title: str
    lang: str
    date: str | None
    path: str
    url: str | None
    site: str | None
    translation: str | None
    translation_lang: str
    text: str | None  # the document's current clean text (None when the document is gone)
    doc_sha256: str | None = None  # the current text's sha256

    def to_json(self) -> dict[str, Any]:
        """A flat object: id, doc_* fields, the tag's fields, then translation fields."""
        data = tag_json(self.ann)
        ordered: dict[str, Any] = {
            "id": data["id"],
            "doc_id": self.doc_id,
            "doc_title": self.title,
            "doc_lang": self.lang,
            "doc_date": self.date,
            "doc_path": self.path,
            "doc_url": self.url,
            "doc_site": self.site,
        }
        ordered.update({k: v for k, v in data.items() if k not in ordered})
        ordered["translation"] = self.translation
        ordered["translation_lang"] = self.translation_lang if self.translation else None
        return ordered


def current_view(ann: Any, doc: Document | None) -> Any:
    """The tag as it stands in the document's current text (in memory; the store is untouched)."""
    if doc is None:
        return ann if ann.status == ORPHANED else replace(ann, status=ORPHANED)
    if doc.sha256 == ann.doc_sha256:
        return ann
    anchor = reanchor(doc.text, ann.selector)
    if anchor is None:
        return ann if ann.status == ORPHANED else replace(ann, status=ORPHANED)
    selector = make_selector(doc.text, anchor.start, anchor.end)
    status = ANCHORED if anchor.status == ANCHORED else MOVED  # at its old offsets: anchored
    return replace(
        ann,
        start=selector.start,
        end=selector.end,
        exact=selector.exact,
        prefix=selector.prefix,
        suffix=selector.suffix,
        status=status,
        doc_sha256=doc.sha256,
    )


def _translation(ws: Workspace, doc: Document, ann: Any) -> str | None:
    """The cached translation of the passage (cache only; never runs a model)."""
    from reader.core.translation.service import passage_translation

    try:
        return passage_translation(ws, doc, ann.start, ann.end)
    except ReaderError:
        return None


def collect(
    ws: Workspace,
    *,
    tag: str | None = None,
    doc_id: str | None = None,
    lang: str | None = None,
) -> list[Record]:
    """The tags to export, filtered, with their documents' metadata. Reads only."""
    kinds = tag_kinds()
    if tag is not None and tag not in kinds:
        raise ReaderError(f"unknown tag {tag!r}; use one of {', '.join(kinds)}")
    with open_store(ws) as store:
        annotations = store.list(tag=tag, doc_id=doc_id, lang=lang)
    docs: dict[str, Document | None] = {}
    infos: dict[str, DocumentInfo | None] = {}
    records = []
    for ann in annotations:
        if ann.doc_id not in docs:
            infos[ann.doc_id] = corpus_of(ws).info(ann.doc_id)
            try:
                docs[ann.doc_id] = corpus_of(ws).load(ann.doc_id) if infos[ann.doc_id] else None
            except ReaderError:
                docs[ann.doc_id] = None
        doc, info = docs[ann.doc_id], infos[ann.doc_id]
        view = current_view(ann, doc)
        translation = None
        if doc is not None and view.status != ORPHANED:
            translation = _translation(ws, doc, view)
        records.append(
            Record(
                ann=view,
                doc_id=ann.doc_id,
                title=(doc.title if doc else None) or (info.title if info else ann.doc_id),
                lang=(doc.lang if doc else None) or (info.lang if info else ann.lang),
                date=doc.date if doc else (info.date if info else None),
                path=str(info.path) if info else str(ws.corpus_root / ann.doc_id),
                url=getattr(doc, "url", None) if doc else getattr(info, "url", None),
                site=getattr(doc, "site", None) if doc else getattr(info, "site", None),
                translation=translation,
                translation_lang=ws.target_lang,
                text=doc.text if doc is not None else None,
                doc_sha256=doc.sha256 if doc is not None else None,
            )
        )
    return records
