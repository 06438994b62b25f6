"""The registry of export formats.

A format is one module in this package that defines `FORMATS`, a list of `Format`s, and one
line in `_MODULES` below. `render` turns the records into the file's content: `str` for
text formats (written as UTF-8), `bytes` for binary ones.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from reader.core.errors import ReaderError

if TYPE_CHECKING:
    from reader.core.exchange.records import Record
    from reader.core.workspace import Workspace

# One module per format family, in the order formats are listed to users.
_MODULES: tuple[str, ...] = ("md", "memo", "csv_", "jsonfmt", "w3c", "qdpx", "claimreview")


@dataclass(frozen=True)
class ExportContext:
    """What a format may know besides the records."""

    ws: Workspace
    exported: str  # ISO 8601 UTC time of the export
    stamp_id: str = field(default="")  # a unique id for this export (collection ids)


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    description: str
    render: Callable[[list[Record], ExportContext], str | bytes]
    binary: bool = False  # a zip or other bytes: needs a file, never stdout
    full_fidelity: bool = False  # carries every tag field, so an import gives the tag back


@cache
def registry() -> dict[str, Format]:
    """Every format by name, in the listing order."""
    formats: dict[str, Format] = {}
    for module in _MODULES:
        for fmt in importlib.import_module(f"reader.core.exchange.{module}").FORMATS:
            formats[fmt.name] = fmt
    return formats


def names() -> tuple[str, ...]:
    return tuple(registry())


def get(name: str) -> Format:
    """The format called `name`; ReaderError listing the formats otherwise."""
    try:
        return registry()[name]
    except KeyError:
        raise ReaderError(
            f"unknown export format {name!r}; use one of {', '.join(registry())}"
        ) from None
