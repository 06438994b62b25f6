"""Copying tags between two stores (`reader tags copy`): SQLite to PostgreSQL and back.

The copy goes through the target's `TagService.import_tags`: one event in the target's log, ids,
authors, times, notes, links, verdicts and labels kept, and idempotent (a tag already there by
id, or by passage and kind, is skipped with the reason).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reader.core.errors import ReaderError
from reader.core.settings import is_postgres_url, redact_url
from reader.core.tags import open_store, open_tag_store, store_url
from reader.core.tags.model import ImportResult, now
from reader.core.tags.store import NewEvent, Write

if TYPE_CHECKING:
    from reader.core.tags.service import TagService
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


# The last local copy of a shared store (read-only when the server cannot be reached) --------
def last_copy_path(ws: Workspace, url: str | None = None) -> Path:
    """Where the app keeps its last copy of the shared store `url` (default: the workspace's)."""
    identity = "\0".join(_identity(ws, url))
    key = hashlib.sha256(redact_url(identity).encode()).hexdigest()[:16]
    return ws.data_dir / "shared-tags" / f"{key}.sqlite"


def save_last_copy(ws: Workspace, service: TagService) -> Path:
    """Copy every tag of a shared store into a local SQLite file, exactly (no rules applied),
    replacing the previous copy at once (temporary file, then rename)."""
    from reader.core.tags.sqlite import SQLiteTagStore, single_file

    target = last_copy_path(ws)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(f".{target.name}.{os.getpid()}.part")
    for leftover in (part, part.with_name(part.name + "-wal"), part.with_name(part.name + "-shm")):
        leftover.unlink(missing_ok=True)
    tags = service.list()
    store = SQLiteTagStore(part, backup_every=float("inf"))
    try:
        store.commit(
            [Write(tag.id, None, tag) for tag in tags],
            [
                NewEvent(
                    now(),
                    service.session,
                    service.author,
                    "copy",
                    "",
                    f"copy of {len(tags)} tags from {service.location}",
                    None,
                    {"source": service.location, "tags": []},
                )
            ],
        )
    finally:
        store.close()  # the last connection: SQLite folds the WAL into the file
    single_file(part)  # read later read-only: no -wal or -shm made beside it
    os.replace(part, target)
    for side in ("-wal", "-shm"):
        part.with_name(part.name + side).unlink(missing_ok=True)
    return target


def open_last_copy(ws: Workspace) -> TagService:
    """The last local copy of the shared store, read-only (empty if there is none)."""
    from reader.core.tags.service import TagService
    from reader.core.tags.sqlite import SQLiteTagStore

    store = SQLiteTagStore(last_copy_path(ws), readonly=True)
    return TagService(store, author=ws.author)


__all__ = ["CopyResult", "copy_tags", "last_copy_path", "open_last_copy", "save_last_copy"]
