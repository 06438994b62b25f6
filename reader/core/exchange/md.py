"""Markdown: grouped by document, then by kind; rebuttals under the claims they answer.

A document appears only when it has something to show (a rebuttal placed under a claim in
another document leaves no empty section). Notes keep their line breaks (hard breaks).
Control characters in any text are escaped (reader.core.display.printable).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reader.core.display import printable
from reader.core.exchange.formats import ExportContext, Format
from reader.core.exchange.records import GENERATOR, tag_kinds
from reader.core.tags.model import CLAIM, DEFAULT_VERDICT, KINDS, REBUTTAL

if TYPE_CHECKING:
    from reader.core.exchange.records import Record

HEADINGS = {kind.name: kind.plural for kind in KINDS}


def _safe(text: str) -> str:
    return printable(text, keep="\n\t")


def _one_line(text: str) -> str:
    return " ".join(_safe(text).split())


def _quote_block(text: str) -> list[str]:
    return [f"> {line}".rstrip() for line in _safe(text).split("\n")]


def _note_lines(note: str) -> list[str]:
    """`- Note:` then the note indented under the item, each line break kept."""
    lines = _safe(note).strip("\n").split("\n")
    out = ["- Note:"]
    for i, line in enumerate(lines):
        last = i + 1 == len(lines) or not lines[i + 1].strip()
        text = line.rstrip()
        if not text:
            out.append("")
            continue
        out.append(f"  {text}" + ("" if last else "\\"))  # CommonMark hard line break
    return out


def _doc_line(record: Record) -> str:
    parts = [
        f"`{_one_line(record.doc_id)}`",
        f"language {record.lang}",
        f"date {record.date or 'unknown'}",
    ]
    if record.site:
        parts.append(f"site {_one_line(record.site)}")
    if record.url:
        parts.append(f"<{_one_line(record.url)}>")
    parts.append(f"path `{_one_line(record.path)}`")
    return "- Document: " + " · ".join(parts)


def _entry(record: Record) -> list[str]:
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
        f"by {_one_line(ann.author)}",
        f"created {ann.created}",
        f"updated {ann.updated}",
    ]
    verdict = getattr(ann, "verdict", None)
    if verdict and verdict != DEFAULT_VERDICT:
        meta.append(f"verdict {_one_line(verdict)}")
    lines.append("- " + " · ".join(meta))
    labels = getattr(ann, "labels", None) or ()
    if labels:
        lines.append("- Labels: " + ", ".join(_one_line(label) for label in labels))
    if ann.note.strip():
        lines += _note_lines(ann.note)
    if ann.links:
        lines.append("- Links: " + ", ".join(f"`{link}`" for link in ann.links))
    lines.append("")
    return lines


def render_markdown(records: list[Record], ctx: ExportContext) -> str:
    by_id = {r.ann.id: r for r in records}
    answers: dict[str, list[Record]] = {}
    for record in records:
        if record.ann.tag == REBUTTAL:
            for target in record.ann.links:
                if target in by_id and by_id[target].ann.tag == CLAIM:
                    answers.setdefault(target, []).append(record)
                    break  # listed once, under the first claim it answers
    placed = {r.ann.id for rs in answers.values() for r in rs}
    count = len(records)
    out = [
        "# Tagged passages",
        "",
        f"{count} tag{'s' if count != 1 else ''} from `{_one_line(str(ctx.ws.corpus_root))}`, "
        f"exported {ctx.exported} by {GENERATOR}.",
        "",
    ]
    documents: dict[str, list[Record]] = {}
    for record in records:
        documents.setdefault(record.doc_id, []).append(record)
    kinds = tag_kinds()
    for doc_id, group in documents.items():
        sections: list[str] = []
        for kind in kinds:
            tagged = [r for r in group if r.ann.tag == kind and r.ann.id not in placed]
            if not tagged:
                continue
            sections += [f"### {HEADINGS.get(kind, kind.capitalize())}", ""]
            for record in tagged:
                sections += _entry(record)
                for rebuttal in answers.get(record.ann.id, []):
                    elsewhere = rebuttal.doc_id != doc_id
                    where = f" in `{_one_line(rebuttal.doc_id)}`" if elsewhere else ""
                    sections += [f"#### Rebuttal{where}", ""]
                    if elsewhere:
                        sections += [
                            f"- {_one_line(rebuttal.title)}: " + _doc_line(rebuttal)[2:],
                            "",
                        ]
                    sections += _entry(rebuttal)
        if not sections:
            continue
        out += [f"## {_one_line(group[0].title)}", "", _doc_line(group[0]), "", *sections]
    return "\n".join(out).rstrip("\n") + "\n"


FORMATS = [Format("md", ".md", "Markdown, grouped by document", render_markdown)]
