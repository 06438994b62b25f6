"""Telling damage from other failures in the derived SQLite files (catalog, translation cache).

They are caches of the corpus folder and of the models: a damaged file is deleted and started
afresh, with a notice. A full disk or a read-only folder is a different thing, and said so.
Stdlib only, so any module can use it cheaply.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

NO_SPACE = "no space left on device: nothing was saved, free space and retry"
# SQLite's primary result codes (sqlite3.Error.sqlite_errorcode & 0xFF).
SQLITE_READONLY, SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN = 8, 10, 11, 13, 14
SQLITE_NOTADB = 26
# SQLite's Unix VFS could not grow the -shm file of a WAL database: the disk is full (it is
# recreated by the first process that opens the database, so a full disk fails every open).
SQLITE_IOERR_SHMSIZE = SQLITE_IOERR | (19 << 8)


def sqlite_code(exc: sqlite3.Error) -> int:
    """The primary SQLite result code of an error (0 when unknown)."""
    return (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


def is_damaged(exc: sqlite3.Error) -> bool:
    """Whether the error says the database file is damaged (not a database, malformed)."""
    code = sqlite_code(exc)
    return code in (SQLITE_CORRUPT, SQLITE_NOTADB) or (not code and "malformed" in str(exc))


def _no_room_to_open(exc: sqlite3.Error) -> bool:
    return getattr(exc, "sqlite_errorcode", 0) == SQLITE_IOERR_SHMSIZE


def is_read_only(exc: sqlite3.Error) -> bool:
    """Whether the error says the file or its folder cannot be written (read-only, or too full
    to open a WAL database for writing): its callers then read the file as it is."""
    return sqlite_code(exc) in (SQLITE_READONLY, SQLITE_CANTOPEN) or _no_room_to_open(exc)


def is_full(exc: BaseException) -> bool:
    """Whether the error is a full disk (SQLite's SQLITE_FULL or SQLITE_IOERR_SHMSIZE, an
    OSError ENOSPC/EDQUOT)."""
    if isinstance(exc, sqlite3.Error):
        return sqlite_code(exc) == SQLITE_FULL or _no_room_to_open(exc)
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def remove_database(path: Path) -> None:
    """Delete an SQLite database file and its -wal/-shm/-journal files (those present)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
