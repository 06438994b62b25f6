"""Exporting tags: one entry point over the format registry (formats.py).

Every format carries, for each tag: the document's id, title, language, date, path, URL and
site; the tag, exact passage and offsets; note, links, author, timestamps, status, verdict
and labels; and the cached translation of the passage when there is one. Exports only read
the tag store. Files are written atomically with the umask's permissions and never replace
an existing file unless asked (`force`).
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import IO, TYPE_CHECKING

from reader.core.errors import ReaderError
from reader.core.exchange import formats
from reader.core.exchange.files import ExportExists, stamp, unique_path, write_file
from reader.core.exchange.formats import ExportContext
from reader.core.exchange.records import Record, collect, now

if TYPE_CHECKING:
    from reader.core.workspace import Workspace

__all__ = [
    "FORMATS",
    "ExportExists",
    "Record",
    "collect",
    "default_name",
    "default_path",
    "export",
    "render",
]

FORMATS: tuple[str, ...] = formats.names()


def context(ws: Workspace) -> ExportContext:
    return ExportContext(ws=ws, exported=now(), stamp_id=str(uuid.uuid4()))


def render(records: list[Record], ws: Workspace, fmt: str) -> str | bytes:
    """The export of `records` in `fmt`, as text (or bytes for a binary format)."""
    return formats.get(fmt).render(records, context(ws))


def export(
    ws: Workspace,
    fmt: str,
    *,
    out: Path | None = None,
    tag: str | None = None,
    doc_id: str | None = None,
    lang: str | None = None,
    stream: IO[str] | None = None,
    force: bool = False,
) -> Path | None:
    """Export the tags (filtered) in `fmt` to `out`, or to `stream` (default stdout).

    Returns the path written, or None for a stream. A binary format (qdpx) needs a path.
    An existing `out` raises ExportExists unless `force`.
    """
    spec = formats.get(fmt)
    if spec.binary and out is None:
        raise ReaderError(f"the {fmt} format is a zip file: give a path with -o")
    if out is not None:
        out = Path(out).expanduser()
        if out.is_dir():
            raise ReaderError(f"cannot write the export to {out}: it is a folder")
        if out.exists() and not force:
            raise ExportExists(out)
    records = collect(ws, tag=tag, doc_id=doc_id, lang=lang)
    content = spec.render(records, context(ws))
    if out is None:
        (stream or sys.stdout).write(content if isinstance(content, str) else content.decode())
        return None
    data = content.encode("utf-8") if isinstance(content, str) else content
    return write_file(out, data, force=force)


def default_name(fmt: str) -> str:
    """A file name for an export made now, to the second: `tags-20261123-120501.md`."""
    return f"tags-{stamp()}{formats.get(fmt).extension}"


def default_path(ws: Workspace, fmt: str) -> Path:
    """A path in the exports folder that does not exist yet (`-2`, `-3` within a second)."""
    folder = ws.exports_dir
    return unique_path(folder, f"tags-{stamp()}", formats.get(fmt).extension)
