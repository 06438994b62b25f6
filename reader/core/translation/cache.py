"""The translation cache: SQLite in the workspace, one row per translated sentence.

Key: (model = package code and version, e.g. "translate-fr_en 1.9"; target language;
sha256 of the source sentence). A pivot translation stores each leg under its own model.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from reader.core.errors import NoSpace, ReaderError
from reader.core.repair import is_damaged, is_full, is_read_only, remove_database

log = logging.getLogger(__name__)
T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS translations (
    model TEXT NOT NULL,
    target TEXT NOT NULL,
    source_sha TEXT NOT NULL,
    translation TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (model, target, source_sha)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS translations_by_text ON translations (target, source_sha);
"""
_BATCH = 400  # parameters per IN (...) query, under SQLite's limit


def sentence_key(text: str) -> str:
    """The sha256 (hex) of a source sentence."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class TranslationCache:
    """A connection to the cache file; use as a context manager or call close().

    The cache is derived data: a damaged file (not a database, malformed) is deleted and
    started afresh with a notice (`notice`, and a warning in the log), whenever it is found.
    In a read-only folder the cache is read as it is and nothing is stored. A full disk gives
    NO_SPACE.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.notice: str | None = None
        self.read_only = False
        self._lock = threading.RLock()  # one connection, shared by a query's language threads
        self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        try:
            return self._connect()
        except sqlite3.DatabaseError as exc:
            if not is_damaged(exc):
                raise self._error(exc) from exc
            self._reset(exc)
            try:
                return self._connect()
            except sqlite3.DatabaseError as again:
                raise self._error(again) from again

    def _connect(self) -> sqlite3.Connection:
        path = self.path
        writable = os.access(path.parent, os.W_OK | os.X_OK) if path.parent.is_dir() else True
        if not writable or (path.exists() and not os.access(path, os.W_OK)):
            return self._read_only()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=10, check_same_thread=False)
        except OSError as exc:
            raise ReaderError(f"cannot create {path}: {exc.strerror or exc}") from exc
        except sqlite3.OperationalError as exc:
            if is_read_only(exc):
                return self._read_only()
            raise
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            db.execute("SELECT 1 FROM translations LIMIT 1").fetchone()  # fails if damaged
        except sqlite3.DatabaseError as exc:
            db.close()
            if is_read_only(exc):
                return self._read_only()
            raise
        return db

    def _read_only(self) -> sqlite3.Connection:
        """The cache of a read-only folder: read as it is (empty when there is none)."""
        self.read_only = True
        if not self.path.exists():
            db = sqlite3.connect(":memory:", check_same_thread=False)
            db.executescript(_SCHEMA)
            return db
        uri = f"{self.path.as_uri()}?mode=ro&immutable=1"
        db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        db.execute("SELECT 1 FROM translations LIMIT 1").fetchone()  # fails if damaged
        return db

    def _error(self, exc: sqlite3.Error) -> ReaderError:
        if is_full(exc):
            return NoSpace()
        return ReaderError(f"the translation cache {self.path} failed: {exc}")

    def _reset(self, exc: sqlite3.Error) -> None:
        """Delete a damaged cache file (with a notice); the caller connects again."""
        if self.read_only:  # cannot delete it: an empty cache in memory instead
            raise ReaderError(f"the translation cache {self.path} is damaged ({exc})")
        try:
            remove_database(self.path)
        except OSError as err:
            raise ReaderError(
                f"the translation cache {self.path} is damaged and cannot be removed: {err}"
            ) from err
        self.notice = f"the translation cache {self.path} was damaged ({exc}); started a new one"
        log.warning("%s", self.notice)

    def _run(self, action: Callable[[sqlite3.Connection], T]) -> T:
        """Run `action` on the connection; a damaged file is replaced and `action` run once
        more on the new (empty) cache. One action at a time: a transaction is never shared
        between threads."""
        with self._lock:
            return self._locked(action)

    def _locked(self, action: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return action(self._db)
        except sqlite3.DatabaseError as exc:
            if not is_damaged(exc):
                raise self._error(exc) from exc
            self._db.close()
            self._reset(exc)
            self._db = self._open()
            try:
                return action(self._db)
            except sqlite3.DatabaseError as again:
                raise self._error(again) from again

    def __enter__(self) -> TranslationCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def get_many(self, model: str, target: str, keys: Iterable[str]) -> dict[str, str]:
        """The cached translations among `keys` (sha256 of sources) for this model and target."""
        return self._lookup("model = ? AND target = ?", (model, target), keys)

    def get_any(self, target: str, keys: Iterable[str]) -> dict[str, str]:
        """Cached translations into `target` by any model, the newest first wins."""
        return self._lookup("target = ?", (target,), keys, order=" ORDER BY created")

    def _lookup(
        self, where: str, params: tuple[str, ...], keys: Iterable[str], order: str = ""
    ) -> dict[str, str]:
        wanted = list(dict.fromkeys(keys))

        def lookup(db: sqlite3.Connection) -> dict[str, str]:
            found: dict[str, str] = {}
            for i in range(0, len(wanted), _BATCH):
                chunk = wanted[i : i + _BATCH]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    "SELECT source_sha, translation FROM translations "
                    f"WHERE {where} AND source_sha IN ({marks}){order}",
                    (*params, *chunk),
                )
                found.update(rows)
            return found

        return self._run(lookup)

    def has_target(self, target: str) -> bool:
        """Whether anything is cached in `target`."""
        return self._run(
            lambda db: (
                db.execute(
                    "SELECT 1 FROM translations WHERE target = ? LIMIT 1", (target,)
                ).fetchone()
                is not None
            )
        )

    def put_many(self, model: str, target: str, pairs: Sequence[tuple[str, str]]) -> None:
        """Store (source sentence, translation) pairs and commit (nothing when read-only)."""
        if self.read_only:
            return
        now = time.time()
        rows = [(model, target, sentence_key(src), out, now) for src, out in pairs]

        def put(db: sqlite3.Connection) -> None:
            with db:
                db.executemany("INSERT OR REPLACE INTO translations VALUES (?, ?, ?, ?, ?)", rows)

        self._run(put)

    def count(self) -> int:
        return self._run(
            lambda db: int(db.execute("SELECT count(*) FROM translations").fetchone()[0])
        )

    def clear(self) -> int:
        """Delete every cached translation; return how many there were. A damaged cache is
        simply deleted (0)."""
        if self.read_only:
            raise ReaderError(f"the translation cache {self.path} is in a read-only folder")

        def clear(db: sqlite3.Connection) -> int:
            with db:
                deleted = db.execute("DELETE FROM translations").rowcount
            db.execute("VACUUM")
            return int(deleted)

        return self._run(clear)
