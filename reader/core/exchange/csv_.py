"""CSV for spreadsheets: RFC 4180, UTF-8 with a byte order mark, formulas neutralised.

Excel reads UTF-8 only with a BOM. A cell that starts with `=`, `+`, `-`, `@`, a tab or a
carriage return would be run as a formula by spreadsheet programs (passages come from
third-party articles: an injection route), so such a cell gets a leading `'`, as OWASP
recommends ("CSV Injection"). The `'` is visible in the cell; numbers are never prefixed.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

from reader.core.exchange.formats import ExportContext, Format

if TYPE_CHECKING:
    from reader.core.exchange.records import Record

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FIELDS: tuple[str, ...] = (
    "id",
    "doc_id",
    "doc_title",
    "doc_lang",
    "doc_date",
    "doc_path",
    "doc_url",
    "doc_site",
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
    "verdict",
    "labels",
    "translation",
    "translation_lang",
)


def neutralise(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, prefixed with `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def render_csv(records: list[Record], ctx: ExportContext) -> str:
    """A header row, one row per tag, CRLF line ends; links and labels separated by spaces."""
    buffer = io.StringIO(newline="")
    buffer.write(BOM)
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for record in records:
        row = record.to_json()
        row["links"] = " ".join(row["links"])
        row["labels"] = " ".join(row["labels"])
        writer.writerow({k: "" if row[k] is None else neutralise(row[k]) for k in FIELDS})
    return buffer.getvalue()


FORMATS = [Format("csv", ".csv", "CSV for spreadsheets (UTF-8 with BOM)", render_csv)]
