"""The translation cache: SQLite in the workspace, one row per translated sentence.

Key: (model = package code and version, e.g. "translate-fr_en 1.9"; target language;
sha256 of the source sentence). A pivot translation stores each leg under its own model.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from reader.core.errors import ReaderError

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
    """A connection to the cache file; use as a context manager or call close()."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=10, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ReaderError(f"cannot open the translation cache {path}: {exc}") from exc

    def __enter__(self) -> TranslationCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
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
        found: dict[str, str] = {}
        for i in range(0, len(wanted), _BATCH):
            chunk = wanted[i : i + _BATCH]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                "SELECT source_sha, translation FROM translations "
                f"WHERE {where} AND source_sha IN ({marks}){order}",
                (*params, *chunk),
            )
            found.update(rows)
        return found

    def put_many(self, model: str, target: str, pairs: Sequence[tuple[str, str]]) -> None:
        """Store (source sentence, translation) pairs and commit."""
        now = time.time()
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO translations VALUES (?, ?, ?, ?, ?)",
                [(model, target, sentence_key(src), out, now) for src, out in pairs],
            )

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM translations").fetchone()[0])

    def clear(self) -> int:
        """Delete every cached translation; return how many there were."""
        with self._db:
            deleted = self._db.execute("DELETE FROM translations").rowcount
        self._db.execute("VACUUM")
        return int(deleted)
