"""Passage tags: the model (model.py), the rules (service.py), the store interface (store.py)
and its backends (sqlite.py, postgres.py), and anchoring (anchoring.py).

Every caller gets tags through `open_tag_store(ws)`, which returns a `TagService`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from reader.core.errors import ReaderError
from reader.core.settings import is_postgres_url
from reader.core.tags.model import KINDS, VERDICTS, ImportResult, Tag
from reader.core.tags.service import TagService
from reader.core.tags.store import (
    ConflictError,
    DamagedStoreError,
    DuplicateTagError,
    ReadOnlyError,
    StoreFullError,
    TagStore,
    UnavailableStore,
)

if TYPE_CHECKING:
    from reader.core.workspace import Workspace

TAGS_DB_ENV = "READER_TAGS_DB"


def store_url(ws: Workspace, url: str | None = None) -> str | None:
    """The store chosen: `url`, else the workspace's `tags_db` (--tags-db, $READER_TAGS_DB, the
    settings files); None means the workspace's SQLite file."""
    chosen = url or getattr(ws, "tags_db", None) or os.environ.get(TAGS_DB_ENV)
    return str(chosen) if chosen else None


def open_store(ws: Workspace, url: str | None = None, *, readonly: bool = False) -> TagStore:
    """The bare store backend for `url` (see `store_url`)."""
    chosen = store_url(ws, url)
    if chosen is None:
        from reader.core.tags.sqlite import SQLiteTagStore

        return SQLiteTagStore(ws.annotations_path, readonly=readonly)
    if is_postgres_url(chosen):
        from reader.core.tags import postgres  # written by the team mode work

        return postgres.open_store(chosen, ws, readonly=readonly)
    path = chosen.removeprefix("sqlite://") if chosen.startswith("sqlite://") else chosen
    if "://" in path:
        raise ReaderError(
            f"unknown tag store {chosen.split('://')[0]}://; use postgresql:// or a path"
        )
    from reader.core.tags.sqlite import SQLiteTagStore

    return SQLiteTagStore(Path(path).expanduser(), readonly=readonly)


def unavailable(ws: Workspace, error: ReaderError) -> TagService:
    """A service with no tags that refuses every change with `error` (for the app, when the
    store cannot be opened: documents stay readable while the error is shown)."""
    return TagService(UnavailableStore(error, str(ws.annotations_path)), author=ws.author)


def open_tag_store(
    ws: Workspace, url: str | None = None, *, readonly: bool = False, author: str | None = None
) -> TagService:
    """The tags of `ws`, through the rules of `TagService`. Close it when done (or use `with`).

    `readonly=True` opens the store for reading only (export, listing); a data folder that
    cannot be written opens read-only by itself."""
    store = open_store(ws, url, readonly=readonly)
    return TagService(store, author=author or ws.author)


__all__ = [
    "KINDS",
    "TAGS_DB_ENV",
    "VERDICTS",
    "ConflictError",
    "DamagedStoreError",
    "DuplicateTagError",
    "ImportResult",
    "ReadOnlyError",
    "StoreFullError",
    "Tag",
    "TagService",
    "TagStore",
    "open_store",
    "open_tag_store",
    "store_url",
    "unavailable",
]
