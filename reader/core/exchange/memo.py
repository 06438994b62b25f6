"""`memo`: Markdown to paste into a story memo, built on the story map (reader.core.tags.story).

For each claim, oldest first appearance first: the quote, its translation, the verdict and the
source (outlet, "title", date, URL, language), labels and note; its rebuttals and context
passages nested under it with the same details. Passages linked to no claim follow, and
orphaned tags (their passage is gone from the document) come last, with their old quotes.
No ids, offsets or raw timestamps; notes keep their line breaks; no empty sections; control
characters are shown escaped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reader.core.display import printable
from reader.core.exchange.formats import ExportContext, Format
from reader.core.tags.model import CLAIM, DEFAULT_VERDICT, kind
from reader.core.tags.story import SAME_LABEL, build, outlet, verdict_name

if TYPE_CHECKING:
    from reader.core.exchange.records import Record
    from reader.core.tags.story import Passage

HEADLINE_CHARS = 80


def _safe(text: str) -> str:
    return printable(text, keep="\n\t")


def _one_line(text: str | None) -> str:
    return " ".join(_safe(str(text or "")).split())


def _headline(text: str) -> str:
    line = _one_line(text)
    return line if len(line) <= HEADLINE_CHARS else line[: HEADLINE_CHARS - 1].rstrip() + "…"


def _where(record: Record) -> str:
    """`Example News, 2025-10-30` (the outlet, else the title; the date when known)."""
    name = _one_line(outlet(record)) or _headline(record.title)
    return f"{name}, {_one_line(record.date)}" if record.date else name


def _quote_block(text: str) -> list[str]:
    return [f"> {line}".rstrip() for line in _safe(text).strip("\n").split("\n")]


def _note(note: str) -> list[str]:
    """`- Note:` then the note indented under the item, each line break kept."""
    lines = _safe(note).strip("\n").split("\n")
    out = ["- Note:"]
    for i, line in enumerate(lines):
        text = line.rstrip()
        if not text:
            out.append("")
            continue
        last = i + 1 == len(lines) or not lines[i + 1].strip()
        out.append(f"  {text}" + ("" if last else "\\"))  # CommonMark hard line break
    return out


def _source(record: Record) -> str:
    parts = [_one_line(outlet(record)), f'"{_one_line(record.title)}"']
    parts.append(_one_line(record.date) if record.date else "undated")
    if record.url:
        parts.append(f"<{_one_line(record.url)}>")
    parts.append(f"language {_one_line(record.lang) or 'unknown'}")
    return "- Source: " + ", ".join(p for p in parts if p)


def _details(record: Record, *, claim: bool, relation: str | None = None) -> list[str]:
    ann = record.ann
    lines = _quote_block(ann.exact)
    if record.translation:
        lines.append(">")
        lines += _quote_block(f"*{record.translation_lang}:* {record.translation}")
    lines.append("")
    if claim or ann.verdict != DEFAULT_VERDICT:
        lines.append(f"- Verdict: {verdict_name(ann.verdict)}")
    lines.append(_source(record))
    if relation == SAME_LABEL:
        lines.append("- Grouped by a shared label, not linked")
    if ann.labels:
        lines.append("- Labels: " + ", ".join(f"#{_one_line(x)}" for x in ann.labels))
    if ann.note.strip():
        lines += _note(ann.note)
    lines.append("")
    return lines


def _nested(title: str, passages: tuple[Passage, ...]) -> list[str]:
    if not passages:
        return []
    out = [f"### {title}", ""]
    for passage in passages:
        record = passage.record
        out += [f"#### {_where(record)}", ""]
        out += _details(record, claim=False, relation=passage.relation)
    return out


def render_memo(records: list[Record], ctx: ExportContext) -> str:
    story = build(records)
    claims = len(story.claims)
    corpus = _one_line(ctx.ws.corpus_root.name)
    out = [
        "# Story memo",
        "",
        f"{claims} claim{'s' if claims != 1 else ''} from the corpus {corpus}, "
        f"as of {ctx.exported[:10]}.",
        "",
    ]
    for number, group in enumerate(story.claims, 1):
        out += [f"## Claim {number}: {_where(group.claim)}", ""]
        out += _details(group.claim, claim=True)
        out += _nested("Rebuttals", group.rebuttals)
        out += _nested("Context", group.context)
    if story.loose:
        out += ["## Passages not linked to a claim", ""]
        for record in story.loose:
            out += [f"### {kind(record.ann.tag).label}: {_where(record)}", ""]
            out += _details(record, claim=False)
    if story.orphaned:
        out += [
            "## Orphaned tags",
            "",
            "Their passages are no longer in the documents; the quotes are as they were tagged.",
            "",
        ]
        for record in story.orphaned:
            out += [f"### {kind(record.ann.tag).label}: {_where(record)}", ""]
            out += _details(record, claim=record.ann.tag == CLAIM)
    if not story:
        out += ["No tags to show.", ""]
    return "\n".join(out).rstrip("\n") + "\n"


FORMATS = [Format("memo", ".md", "Markdown story memo: claims with their answers", render_memo)]
