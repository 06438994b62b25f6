"""JSON and JSON Lines: every field of every tag, with its document's metadata (full fidelity)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from reader.core.exchange.formats import ExportContext, Format
from reader.core.exchange.records import GENERATOR

if TYPE_CHECKING:
    from reader.core.exchange.records import Record

FORMAT_ID = "source-reader-tags"
FORMAT_VERSION = 1


def render_json(records: list[Record], ctx: ExportContext) -> str:
    """One JSON object: export metadata and an `annotations` list of flat objects."""
    data = {
        "format": FORMAT_ID,
        "version": FORMAT_VERSION,
        "generator": GENERATOR,
        "exported": ctx.exported,
        "corpus": str(ctx.ws.corpus_root),
        "count": len(records),
        "annotations": [r.to_json() for r in records],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def render_jsonl(records: list[Record], ctx: ExportContext) -> str:
    """One flat JSON object per line, per tag."""
    return "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in records)


FORMATS = [
    Format("json", ".json", "JSON: every field", render_json, full_fidelity=True),
    Format("jsonl", ".jsonl", "JSON Lines: one tag a line", render_jsonl, full_fidelity=True),
]
