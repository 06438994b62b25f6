"""Copying tags between two stores (`reader tags copy`): SQLite to PostgreSQL and back.

The copy goes through the target's `TagService.import_tags`: one event in the target's log, ids,
authors, times, notes, links, verdicts and labels kept, and idempotent (a tag already there by
id, or by passage and kind, is skipped with the reason).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reader.core.errors import ReaderError
from reader.core.settings import is_postgres_url
from reader.core.tags import open_store, open_tag_store, store_url
from reader.core.tags.model import ImportResult

if TYPE_CHECKING:
    from reader.core.workspace import Workspace


@dataclass
class CopyResult(ImportResult):
    """What a copy did: the tags added to the target, and those skipped with the reason."""

    target: str = ""

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "target": self.target, "copied": len(self.added)}


def copy_tags(ws: Workspace, source_url: str | None, target_url: str | None) -> CopyResult:
    """Copy every tag of `ws`'s corpus from one store to another (None: the workspace's own
    store, as `open_tag_store` chooses it)."""
    if _identity(ws, source_url) == _identity(ws, target_url):
        raise ReaderError("the source and the target are the same store")
    with open_store(ws, source_url, readonly=True) as source:
        tags = source.list()
        where = source.location
    with open_tag_store(ws, target_url) as target:
        found = target.import_tags(tags, source=where)
        result = CopyResult(source=found.source, target=target.location)
    result.added, result.skipped = found.added, found.skipped
    return result


def _identity(ws: Workspace, url: str | None) -> tuple[str, ...]:
    """What makes two store choices the same store: the SQLite file, or URL and corpus."""
    chosen = store_url(ws, url)
    if chosen is None:
        return ("sqlite", str(ws.annotations_path.resolve()))
    if is_postgres_url(chosen):
        from reader.core.tags.postgres import corpus_key

        return ("postgres", chosen, corpus_key(ws))
    path = chosen.removeprefix("sqlite://")
    return ("sqlite", str(Path(path).expanduser().resolve()))


__all__ = ["CopyResult", "copy_tags"]
