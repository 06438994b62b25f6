"""Exporting tags: Markdown, CSV, JSON, JSONL, W3C Web Annotation, REFI-QDA (.qdpx).

Every format carries, for each tag: the document's id, title, language, date and path; the
tag, exact passage and offsets; note, links, author, timestamps and status; and the cached
translation of the passage when there is one. Files are written to a temporary file in the
destination folder and renamed into place, so a failed export leaves nothing behind.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from reader import __version__
from reader.core.documents.model import Document, DocumentInfo
from reader.core.errors import ReaderError
from reader.core.tags.annotations import TAGS, Annotation, AnnotationStore, now

if TYPE_CHECKING:
    from reader.core.workspace import Workspace

FORMATS: tuple[str, ...] = ("md", "csv", "json", "jsonl", "w3c", "qdpx")
EXTENSIONS = {
    "md": ".md",
    "csv": ".csv",
    "json": ".json",
    "jsonl": ".jsonl",
    "w3c": ".jsonld",
    "qdpx": ".qdpx",
}
GENERATOR = f"source-reader {__version__}"
CSV_FIELDS: tuple[str, ...] = (
    "id",
    "doc_id",
    "doc_title",
    "doc_lang",
    "doc_date",
    "doc_path",
    "tag",
    "exact",
    "start",
    "end",
    "prefix",
    "suffix",
    "note",
    "links",
    "author",
    "created",
    "updated",
    "status",
    "doc_sha256",
    "translation",
    "translation_lang",
)


@dataclass(frozen=True)
class Record:
    """One tag with what an export needs about its document, and its cached translation."""

    ann: Annotation
    doc_id: str
    title: str
    lang: str
    date: str | None
    path: str
    translation: str | None
    translation_lang: str
    text: str | None  # the document's current text (None when the document is gone)

    def to_json(self) -> dict[str, Any]:
        """A flat object: the tag's fields plus doc_* and translation fields."""
        data = self.ann.to_json()
        ordered = {
            "id": data["id"],
            "doc_id": self.doc_id,
            "doc_title": self.title,
            "doc_lang": self.lang,
            "doc_date": self.date,
            "doc_path": self.path,
        }
        ordered.update({k: v for k, v in data.items() if k not in ordered})
        ordered["translation"] = self.translation
        ordered["translation_lang"] = self.translation_lang if self.translation else None
        return ordered


def _translation(ws: Workspace, doc: Document, ann: Annotation) -> str | None:
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
    reconcile: bool = True,
) -> list[Record]:
    """The tags to export (re-anchored first), with their documents' metadata."""
    if tag is not None and tag not in TAGS:
        raise ReaderError(f"unknown tag {tag!r}; use one of {', '.join(TAGS)}")
    with AnnotationStore(ws) as store:
        if reconcile:
            store.reconcile(ws.corpus)
        annotations = store.list(tag=tag, doc_id=doc_id, lang=lang)
    docs: dict[str, Document | None] = {}
    infos: dict[str, DocumentInfo | None] = {}
    records = []
    for ann in annotations:
        if ann.doc_id not in docs:
            infos[ann.doc_id] = ws.corpus.info(ann.doc_id)
            try:
                docs[ann.doc_id] = ws.corpus.load(ann.doc_id) if infos[ann.doc_id] else None
            except ReaderError:
                docs[ann.doc_id] = None
        doc, info = docs[ann.doc_id], infos[ann.doc_id]
        translation = None
        if doc is not None and ann.status != "orphaned":
            translation = _translation(ws, doc, ann)
        records.append(
            Record(
                ann=ann,
                doc_id=ann.doc_id,
                title=info.title if info else ann.doc_id,
                lang=info.lang if info else ann.lang,
                date=info.date if info else None,
                path=str(info.path) if info else str(ws.corpus_root / ann.doc_id),
                translation=translation,
                translation_lang=ws.target_lang,
                text=doc.text if doc is not None else None,
            )
        )
    return records


# Writing safely ----------------------------------------------------------------------------
@contextmanager
def atomic_path(out: Path) -> Iterator[Path]:
    """A temporary path beside `out`, renamed onto `out` on success and removed on failure."""
    out = Path(out).expanduser()
    if out.is_dir():
        raise ReaderError(f"cannot write the export to {out}: it is a folder")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    except OSError as exc:
        raise ReaderError(f"cannot write the export to {out}: {exc.strerror or exc}") from exc
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, out)
    except OSError as exc:
        with suppress(OSError):
            tmp.unlink()
        raise ReaderError(f"cannot write the export to {out}: {exc.strerror or exc}") from exc
    except BaseException:
        with suppress(OSError):
            tmp.unlink()
        raise


# Text formats ------------------------------------------------------------------------------
def to_json(records: list[Record], ws: Workspace, stream: IO[str]) -> None:
    """One JSON object: export metadata and an `annotations` list of flat objects."""
    data = {
        "generator": GENERATOR,
        "exported": now(),
        "corpus": str(ws.corpus_root),
        "count": len(records),
        "annotations": [r.to_json() for r in records],
    }
    json.dump(data, stream, ensure_ascii=False, indent=2)
    stream.write("\n")


def to_jsonl(records: list[Record], ws: Workspace, stream: IO[str]) -> None:
    """One flat JSON object per line, per tag."""
    for record in records:
        stream.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")


def to_csv(records: list[Record], ws: Workspace, stream: IO[str]) -> None:
    """RFC 4180: a header row, one row per tag, CRLF line ends; links separated by spaces."""
    writer = csv.DictWriter(stream, fieldnames=CSV_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for record in records:
        row = record.to_json()
        row["links"] = " ".join(row["links"])
        writer.writerow({k: "" if row[k] is None else row[k] for k in CSV_FIELDS})


def _quote_block(text: str) -> list[str]:
    return [f"> {line}".rstrip() for line in text.split("\n")]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _md_entry(record: Record, level_note: str = "") -> list[str]:
    ann = record.ann
    lines = _quote_block(ann.exact)
    if record.translation:
        lines.append(">")
        lines += _quote_block(f"*{record.translation_lang}:* {record.translation}")
    lines.append("")
    meta = [
        f"`{ann.id}`",
        f"offsets {ann.start}–{ann.end}",
        f"status {ann.status}",
        f"by {ann.author}",
        f"created {ann.created}",
        f"updated {ann.updated}",
    ]
    if level_note:
        meta.insert(1, level_note)
    lines.append("- " + " · ".join(meta))
    if ann.note:
        lines.append(f"- Note: {_one_line(ann.note)}")
    if ann.links:
        lines.append("- Links: " + ", ".join(f"`{link}`" for link in ann.links))
    lines.append("")
    return lines


def to_markdown(records: list[Record], ws: Workspace, stream: IO[str]) -> None:
    """Grouped by document, then by tag; rebuttals listed under the claims they answer."""
    by_id = {r.ann.id: r for r in records}
    answers: dict[str, list[Record]] = {}
    for record in records:
        if record.ann.tag == "rebuttal":
            for target in record.ann.links:
                if target in by_id and by_id[target].ann.tag == "claim":
                    answers.setdefault(target, []).append(record)
    placed = {r.ann.id for rs in answers.values() for r in rs}
    out = [
        "# Tagged passages",
        "",
        f"{len(records)} tag{'s' if len(records) != 1 else ''} from `{ws.corpus_root}`, "
        f"exported {now()} by {GENERATOR}.",
        "",
    ]
    documents: dict[str, list[Record]] = {}
    for record in records:
        documents.setdefault(record.doc_id, []).append(record)
    for doc_id, group in documents.items():
        first = group[0]
        out += [f"## {_one_line(first.title)}", ""]
        out.append(
            f"- Document: `{doc_id}` · language {first.lang} · date {first.date or 'unknown'}"
            f" · path `{first.path}`"
        )
        out.append("")
        for tag in TAGS:
            tagged = [
                r
                for r in group
                if r.ann.tag == tag and not (tag == "rebuttal" and r.ann.id in placed)
            ]
            if not tagged:
                continue
            out += [f"### {tag.capitalize()}s" if tag != "context" else "### Context", ""]
            for record in tagged:
                out += _md_entry(record)
                for rebuttal in answers.get(record.ann.id, []):
                    where = "" if rebuttal.doc_id == doc_id else f"in `{rebuttal.doc_id}`"
                    out += [f"#### Rebuttal{' ' + where if where else ''}", ""]
                    if where:
                        out += [
                            f"- Document: {_one_line(rebuttal.title)} · language {rebuttal.lang}"
                            f" · date {rebuttal.date or 'unknown'} · path `{rebuttal.path}`",
                            "",
                        ]
                    out += _md_entry(rebuttal)
    stream.write("\n".join(out).rstrip("\n") + "\n")


def to_w3c(records: list[Record], ws: Workspace, stream: IO[str]) -> None:
    """A W3C Web Annotation AnnotationCollection (JSON-LD) with the tags as `items`."""
    items = []
    for record in records:
        ann = record.ann
        body: list[dict[str, Any]] = [
            {"type": "TextualBody", "purpose": "tagging", "value": ann.tag}
        ]
        if ann.note:
            body.append(
                {
                    "type": "TextualBody",
                    "purpose": "commenting",
                    "value": ann.note,
                    "format": "text/plain",
                }
            )
        for link in ann.links:
            body.append(
                {"type": "SpecificResource", "purpose": "linking", "source": f"urn:uuid:{link}"}
            )
        if record.translation:
            body.append(
                {
                    "type": "TextualBody",
                    "purpose": "describing",
                    "value": record.translation,
                    "language": record.translation_lang,
                    "format": "text/plain",
                    "reader:role": "translation",
                }
            )
        items.append(
            {
                "id": f"urn:uuid:{ann.id}",
                "type": "Annotation",
                "motivation": "tagging",
                "created": ann.created,
                "modified": ann.updated,
                "creator": {"type": "Person", "name": ann.author},
                "reader:status": ann.status,
                "body": body,
                "target": {
                    "type": "SpecificResource",
                    "source": {
                        "id": Path(record.path).absolute().as_uri(),
                        "type": "Text",
                        "format": "text/plain",
                        "language": record.lang,
                        "label": record.title,
                        "reader:docId": record.doc_id,
                        "reader:date": record.date,
                        "reader:sha256": ann.doc_sha256,
                    },
                    "selector": [
                        {
                            "type": "TextQuoteSelector",
                            "exact": ann.exact,
                            "prefix": ann.prefix,
                            "suffix": ann.suffix,
                        },
                        {"type": "TextPositionSelector", "start": ann.start, "end": ann.end},
                    ],
                },
            }
        )
    collection = {
        "@context": [
            "http://www.w3.org/ns/anno.jsonld",
            {"reader": "https://source-reader.invalid/ns#"},
        ],
        "type": "AnnotationCollection",
        "label": f"Tags from {ws.corpus_root.name}",
        "generator": {"type": "Software", "name": GENERATOR},
        "generated": now(),
        "total": len(items),
        "items": items,
    }
    json.dump(collection, stream, ensure_ascii=False, indent=2)
    stream.write("\n")


_TEXT_WRITERS: dict[str, Callable[[list[Record], Workspace, IO[str]], None]] = {
    "md": to_markdown,
    "csv": to_csv,
    "json": to_json,
    "jsonl": to_jsonl,
    "w3c": to_w3c,
}


def render(records: list[Record], ws: Workspace, fmt: str) -> str:
    """A text format as a string."""
    buffer = io.StringIO(newline="")
    _TEXT_WRITERS[fmt](records, ws, buffer)
    return buffer.getvalue()


def export(
    ws: Workspace,
    fmt: str,
    *,
    out: Path | None = None,
    tag: str | None = None,
    doc_id: str | None = None,
    lang: str | None = None,
    stream: IO[str] | None = None,
) -> Path | None:
    """Export the tags (filtered) in `fmt` to `out`, or to `stream` (default stdout).

    Returns the path written, or None for a stream. qdpx needs a path.
    """
    if fmt not in FORMATS:
        raise ReaderError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    if fmt == "qdpx" and out is None:
        raise ReaderError("the qdpx format is a zip file: give a path with -o")
    if out is not None and Path(out).expanduser().is_dir():
        raise ReaderError(f"cannot write the export to {out}: it is a folder")
    records = collect(ws, tag=tag, doc_id=doc_id, lang=lang)
    if fmt == "qdpx":
        from reader.core.exchange.qdpx import write_qdpx

        with atomic_path(Path(out)) as tmp:  # type: ignore[arg-type]
            write_qdpx(records, ws, tmp)
        return Path(out).expanduser()  # type: ignore[arg-type]
    text = render(records, ws, fmt)
    if out is None:
        (stream or sys.stdout).write(text)
        return None
    with atomic_path(Path(out)) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="")
    return Path(out).expanduser()


def default_name(fmt: str) -> str:
    """A file name for an export made now: `tags-20261123-1205.md`."""
    stamp = now()[:16].replace("-", "").replace(":", "").replace("T", "-")
    return f"tags-{stamp}{EXTENSIONS[fmt]}"
