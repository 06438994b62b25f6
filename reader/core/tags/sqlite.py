"""`SQLiteTagStore`: the tag store in one SQLite file of the workspace (the default store).

Every commit is one transaction (WAL, synchronous=FULL). The schema is versioned
(`PRAGMA user_version`); an older store is copied to `<name>.v<N>.bak` before it is migrated,
and nothing in it is dropped. A damaged file is never deleted or rebuilt: every access to it
fails with `DamagedStoreError`, naming the newest backup, until `recover()` (`reader tags
recover`) rebuilds a store from that backup plus the event log, and moves the damaged file
aside. Backups are taken when a store is opened for writing and the newest is older than
BACKUP_EVERY; each backup is one self-contained file (rollback-journal mode, read with
`immutable=1`), so nothing is left beside it. A folder that cannot be written opens the store
read-only (`mode=ro`).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from reader.core.display import printable
from reader.core.errors import ReaderError
from reader.core.tags.model import DEFAULT_VERDICT, Event, Tag, now
from reader.core.tags.store import (
    ConflictError,
    DamagedStoreError,
    NewEvent,
    ReadOnlyError,
    StoreFullError,
    Write,
    duplicate_error,
    row_values,
    stored_state,
    tag_from_row,
)

SCHEMA_VERSION = 2
# MIGRATIONS[n] takes the schema from version n to n + 1. Never edit a released step.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE annotations (
        id TEXT PRIMARY KEY,
        doc_id TEXT NOT NULL,
        lang TEXT NOT NULL DEFAULT '',
        tag TEXT NOT NULL CHECK (tag IN ('claim', 'rebuttal', 'context')),
        start INTEGER NOT NULL CHECK (start >= 0),
        "end" INTEGER NOT NULL CHECK ("end" > start),
        exact TEXT NOT NULL,
        prefix TEXT NOT NULL DEFAULT '',
        suffix TEXT NOT NULL DEFAULT '',
        note TEXT NOT NULL DEFAULT '',
        author TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('anchored', 'moved', 'orphaned')),
        doc_sha256 TEXT NOT NULL,
        checked_sha256 TEXT NOT NULL
    );
    CREATE INDEX annotations_doc ON annotations (doc_id, start);
    CREATE TABLE links (
        source TEXT NOT NULL REFERENCES annotations (id) ON DELETE CASCADE,
        target TEXT NOT NULL REFERENCES annotations (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        PRIMARY KEY (source, target),
        CHECK (source <> target)
    );
    CREATE INDEX links_target ON links (target);
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        session TEXT NOT NULL,
        author TEXT NOT NULL,
        kind TEXT NOT NULL,
        annotation TEXT NOT NULL,
        description TEXT NOT NULL,
        before TEXT,
        after TEXT
    );
    CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
    CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
    """,
    # 2: verdicts, labels (a JSON array) and a version per tag for conflict checks.
    """
    ALTER TABLE annotations ADD COLUMN verdict TEXT NOT NULL DEFAULT 'not-rated';
    ALTER TABLE annotations ADD COLUMN labels TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE annotations ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
    """,
)
_BASE_COLUMNS = (
    "id",
    "doc_id",
    "lang",
    "tag",
    "start",
    '"end"',
    "exact",
    "prefix",
    "suffix",
    "note",
    "author",
    "created",
    "updated",
    "status",
    "doc_sha256",
    "checked_sha256",
)
_NEW_COLUMNS = {"verdict": f"'{DEFAULT_VERDICT}'", "labels": "'[]'", "version": "1"}
_ALL_COLUMNS = ", ".join((*_BASE_COLUMNS, *_NEW_COLUMNS))
_ORDER = 'ORDER BY doc_id, start, "end", created, id'
BACKUP_EVERY = 3600.0  # seconds: a store opened for writing is backed up at most this often
BACKUPS_KEPT = 5
LOW_SPACE = 256 * 1024  # bytes free under which an I/O error is reported as a full disk
FULL_MESSAGE = "no space left on device: nothing was saved, free space and retry"


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (triggers keep their inner semicolons)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


def _errname(exc: sqlite3.Error) -> str:
    return getattr(exc, "sqlite_errorname", "") or ""


def is_damage(exc: sqlite3.Error) -> bool:
    """True when SQLite says the file is damaged or not a database."""
    name = _errname(exc)
    return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or (
        not name and "malformed" in str(exc)
    )


# Backups --------------------------------------------------------------------------------------
def backups_dir(path: Path) -> Path:
    return path.parent / "backups"


def list_backups(path: Path) -> list[Path]:
    """The store's backups, newest first."""
    folder = backups_dir(path)
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob(f"{path.stem}-*.sqlite") if p.is_file()]
    return sorted(found, key=lambda p: p.name, reverse=True)


def latest_backup(path: Path) -> Path | None:
    backups = list_backups(path)
    return backups[0] if backups else None


def _connect_ro(path: str | Path, *, immutable: bool = False) -> sqlite3.Connection:
    """A read-only connection. `immutable` for a file that never changes (a backup): SQLite then
    makes no -wal or -shm beside it, even for a copy an older version left in WAL mode."""
    flags = "mode=ro&immutable=1" if immutable else "mode=ro"
    return sqlite3.connect(f"file:{quote(str(path))}?{flags}", uri=True)


def copy_database(
    source: Path | str | sqlite3.Connection, target: Path, *, immutable: bool = False
) -> None:
    """Copy a SQLite database consistently (backup API) into one self-contained file.

    `source` is a path (opened read-only; `immutable` for a backup) or an open connection.
    The copy is written through a temporary file and left in rollback-journal mode, so it
    is a single file: opening it later, even read-only, puts no -wal or -shm beside it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    src = (
        source
        if isinstance(source, sqlite3.Connection)
        else _connect_ro(source, immutable=immutable)
    )
    try:
        dest = sqlite3.connect(part)
        try:
            src.backup(dest)
            dest.execute("PRAGMA journal_mode = DELETE")  # a WAL source's copy says WAL
        finally:
            dest.close()
        os.replace(part, target)
    except BaseException:
        for leftover in (part, *_sides(part)):
            with suppress(OSError):
                leftover.unlink()
        raise
    finally:
        if src is not source:
            src.close()


def _sides(path: Path) -> tuple[Path, Path]:
    """The -wal and -shm files SQLite keeps beside a database in WAL mode."""
    return path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


def single_file(path: Path) -> None:
    """Fold a closed store's WAL into its file and leave it in rollback-journal mode: one
    self-contained file (a copy to keep, read later perhaps read-only)."""
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA journal_mode = DELETE")
    finally:
        db.close()


def integrity_check(path: str | Path, *, immutable: bool = False) -> str:
    """SQLite's `PRAGMA integrity_check` of a store file ("ok" when sound); `immutable` for a
    backup (nothing is made beside it)."""
    db = _connect_ro(path, immutable=immutable)
    try:
        return "; ".join(r[0] for r in db.execute("PRAGMA integrity_check"))
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        db.close()


def damaged_message(path: Path, detail: str) -> str:
    backup = latest_backup(path)
    where = (
        f"the last backup is {backup}"
        if backup
        else "there is no backup yet; recovery replays the event log"
    )
    return (
        f"the tag store {printable(str(path))} is damaged ({detail}); it was left as it is. "
        f"{where}. Run `reader tags recover` to restore it from the backup plus the event log"
    )


def _row_tag(row: Sequence[Any], links: tuple[str, ...]) -> Tag:
    return tag_from_row(row, links, tuple(json.loads(row[17])) if row[17] != "[]" else ())


def _row_event(row: Sequence[Any]) -> Event:
    return Event(
        *row[:7],
        json.loads(row[7]) if row[7] else None,
        json.loads(row[8]) if row[8] else None,
    )


_EVENT_COLUMNS = "seq, at, session, author, kind, annotation, description, before, after"


class SQLiteTagStore:
    """Tags in a SQLite file. Thread-safe (one connection behind a lock); close() when done."""

    def __init__(
        self, path: str | Path, *, readonly: bool = False, backup_every: float | None = None
    ) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        self.readonly = readonly
        # Why it is read-only when it was not asked to be (shown in notes and refusals).
        self.readonly_reason = "opened read-only" if readonly else ""
        self._write_error: ReaderError | None = None
        self._lock = threading.RLock()
        self._db = self._open(BACKUP_EVERY if backup_every is None else backup_every)

    # Opening ----------------------------------------------------------------------------------
    def _open(self, backup_every: float) -> sqlite3.Connection:
        if not self.readonly and not self._writable():
            self.readonly = True
            self.readonly_reason = "its folder cannot be written"
        if self.readonly:
            return self._open_readonly()
        try:
            db = sqlite3.connect(
                self.path, timeout=15, check_same_thread=False, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise ReaderError(f"cannot open the tag store {self.path}: {exc}") from exc
        try:
            db.execute("PRAGMA busy_timeout = 15000")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
            db.execute("PRAGMA foreign_keys = ON")
            self._migrate(db)
            self._maybe_backup(db, backup_every)
        except sqlite3.Error as exc:
            db.close()
            error = self._translate(exc, "open")
            if isinstance(error, (ReadOnlyError, StoreFullError)) or (
                _errname(exc) == "SQLITE_CANTOPEN"
            ):
                # Tags stay readable: open read-only, and refuse writes with the reason.
                self.readonly = True
                self.readonly_reason = (
                    "no space left on device"
                    if isinstance(error, StoreFullError)
                    else "its folder cannot be written"
                )
                self._write_error = error if isinstance(error, StoreFullError) else None
                return self._open_readonly()
            raise error from exc
        except BaseException:
            db.close()
            raise
        return db

    def _writable(self) -> bool:
        folder = self.path.parent
        if not folder.exists():
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError:
                return False
        if not os.access(folder, os.W_OK):
            return False
        return not self.path.exists() or os.access(self.path, os.W_OK)

    def _open_readonly(self) -> sqlite3.Connection:
        if not self.path.exists():  # nothing tagged yet: an empty store in memory
            db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            for step in MIGRATIONS:
                for statement in _statements(step):
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            return db
        last: sqlite3.Error | None = None
        # mode=ro reads a WAL store when its -shm can be made; immutable=1 when not even that.
        for flags in ("mode=ro", "mode=ro&immutable=1"):
            try:
                db = sqlite3.connect(
                    f"file:{quote(str(self.path))}?{flags}",
                    uri=True,
                    check_same_thread=False,
                    isolation_level=None,
                )
                version = db.execute("PRAGMA user_version").fetchone()[0]
                db.execute("SELECT COUNT(*) FROM annotations").fetchone()
            except sqlite3.Error as exc:
                last = exc
                with suppress(UnboundLocalError, sqlite3.Error):
                    db.close()
                if is_damage(exc):
                    break
                continue
            if version > SCHEMA_VERSION:
                db.close()
                raise self._newer(version)
            return db
        assert last is not None
        raise self._translate(last, "open")

    def _newer(self, version: int) -> ReaderError:
        return ReaderError(
            f"the tag store {self.path} was written by a newer version of reader "
            f"(schema {version}, this one knows {SCHEMA_VERSION}); it was left as it is"
        )

    def _migrate(self, db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise self._newer(version)
        if version == SCHEMA_VERSION:
            return
        if version > 0:  # keep a copy of the user's tags before changing their layout
            copy_database(db, self.path.with_name(f"{self.path.name}.v{version}.bak"))
        db.execute("BEGIN IMMEDIATE")
        try:
            current = db.execute("PRAGMA user_version").fetchone()[0]
            for step in range(current, SCHEMA_VERSION):
                for statement in _statements(MIGRATIONS[step]):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {step + 1}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _maybe_backup(self, db: sqlite3.Connection, every: float) -> None:
        """Back the store up if the newest backup is older than `every` (best effort); never
        when `every` is infinite (a working copy: recovery, the last copy of a shared store)."""
        if every == float("inf"):
            return
        newest = latest_backup(self.path)
        if newest is not None and time.time() - newest.stat().st_mtime < every:
            return
        if db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0:
            return
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise DamagedStoreError(damaged_message(self.path, check))
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"{time.time() % 1:.3f}"[1:]
        target = backups_dir(self.path) / f"{self.path.stem}-{stamp}Z.sqlite"
        try:
            copy_database(db, target)
        except (OSError, sqlite3.Error):
            return  # a full or read-only disk: the store itself is untouched
        for old in list_backups(self.path)[BACKUPS_KEPT:]:
            with suppress(OSError):
                old.unlink()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SQLiteTagStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Errors -----------------------------------------------------------------------------------
    def _translate(self, exc: sqlite3.Error, action: str) -> ReaderError:
        name = _errname(exc)
        if is_damage(exc):
            return DamagedStoreError(damaged_message(self.path, str(exc)))
        if name == "SQLITE_FULL" or (name.startswith("SQLITE_IOERR") and self._low_space()):
            return StoreFullError(FULL_MESSAGE)
        if name.startswith("SQLITE_READONLY"):
            return ReadOnlyError(
                f"the tag store {self.path} cannot be written ({exc}): tags can be listed "
                "and exported, not changed"
            )
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            return ReaderError(f"the tag store is busy (another reader is writing): {exc}")
        if name.startswith("SQLITE_CONSTRAINT"):
            return ReaderError(f"the tag store refused the change: {exc}")
        return ReaderError(f"the tag store {self.path} could not {action}: {exc}")

    def _low_space(self) -> bool:
        try:
            return shutil.disk_usage(self.path.parent).free < LOW_SPACE
        except OSError:
            return False

    @contextmanager
    def _guard(self, action: str) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise self._translate(exc, action) from exc

    # Reading ----------------------------------------------------------------------------------
    def _links(self, db: sqlite3.Connection, ids: list[str]) -> dict[str, tuple[str, ...]]:
        links: dict[str, list[str]] = {i: [] for i in ids}
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            marks = ",".join("?" * len(part))
            for source, target in db.execute(
                f"SELECT source, target FROM links WHERE source IN ({marks}) "
                "ORDER BY source, position",
                part,
            ):
                links[source].append(target)
        return {k: tuple(v) for k, v in links.items()}

    def _columns(self, db: sqlite3.Connection) -> str:
        """The select list; an old store opened read-only lacks the new columns."""
        if self.readonly:
            have = {row[1] for row in db.execute("PRAGMA table_info(annotations)")}
            missing = [name for name in _NEW_COLUMNS if name not in have]
            if missing:
                return ", ".join(
                    (*_BASE_COLUMNS, *(c if c in have else v for c, v in _NEW_COLUMNS.items()))
                )
        return _ALL_COLUMNS

    def _query(self, where: str = "", params: Sequence[Any] = ()) -> list[Tag]:
        with self._guard("read the tags") as db:
            rows = db.execute(
                f"SELECT {self._columns(db)} FROM annotations {where} {_ORDER}", params
            ).fetchall()
            links = self._links(db, [row[0] for row in rows])
        return [_row_tag(row, links[row[0]]) for row in rows]

    def get(self, tag_id: str) -> Tag | None:
        found = self._query("WHERE id = ?", (tag_id,))
        return found[0] if found else None

    def list(
        self,
        *,
        tag: str | None = None,
        doc_id: str | None = None,
        lang: str | None = None,
        status: str | None = None,
        verdict: str | None = None,
        label: str | None = None,
        span: tuple[int, int] | None = None,
    ) -> list[Tag]:
        clauses, params = [], []
        if span is not None:
            clauses.append('start = ? AND "end" = ?')
            params += [span[0], span[1]]
        for column, value in (
            ("tag", tag),
            ("doc_id", doc_id),
            ("lang", lang),
            ("status", status),
            ("verdict", verdict),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if label is not None:
            clauses.append("EXISTS (SELECT 1 FROM json_each(labels) WHERE value = ?)")
            params.append(label)
        return self._query(("WHERE " + " AND ".join(clauses)) if clauses else "", params)

    def ids_with_prefix(self, prefix: str, limit: int = 6) -> list[str]:
        with self._guard("read the tags") as db:
            rows = db.execute(
                "SELECT id FROM annotations WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
                (prefix, prefix + "\U0010ffff", limit),
            ).fetchall()
        return [r[0] for r in rows]

    def linked_from(self, tag_id: str) -> list[str]:
        with self._guard("read the tags") as db:
            rows = db.execute(
                "SELECT source FROM links WHERE target = ? ORDER BY source", (tag_id,)
            ).fetchall()
        return [r[0] for r in rows]

    def tag_counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        with self._guard("read the tags") as db:
            rows = db.execute(
                "SELECT doc_id, tag, COUNT(*) FROM annotations GROUP BY doc_id, tag"
            ).fetchall()
        for doc_id, kind, count in rows:
            counts.setdefault(doc_id, {})[kind] = count
        return counts

    def checked(self) -> list[tuple[str, str]]:
        with self._guard("read the tags") as db:
            return [
                (r[0], r[1])
                for r in db.execute(
                    "SELECT DISTINCT doc_id, checked_sha256 FROM annotations ORDER BY doc_id"
                )
            ]

    def count(self) -> int:
        with self._guard("read the tags") as db:
            return db.execute("SELECT COUNT(*) FROM annotations").fetchone()[0]

    def events(
        self, tag_id: str | None = None, *, after_seq: int = 0, limit: int | None = None
    ) -> list[Event]:
        sql = f"SELECT {_EVENT_COLUMNS} FROM events WHERE seq > ?"
        params: list[Any] = [after_seq]
        if tag_id:
            sql += (
                " AND (annotation = ? OR (annotation = '' AND "
                "(instr(after, ?) > 0 OR instr(before, ?) > 0)))"
            )
            params += [tag_id, f'"{tag_id}"', f'"{tag_id}"']
        if limit is not None:
            sql = f"SELECT * FROM ({sql} ORDER BY seq DESC LIMIT ?)"
            params.append(max(0, limit))
        with self._guard("read the event log") as db:
            rows = db.execute(sql + " ORDER BY seq", params).fetchall()
        events = [_row_event(row) for row in rows]
        if tag_id:  # instr() may match a mention of the id inside a batch; keep real members
            events = [e for e in events if tag_id in e.tag_ids()]
        return events

    # Writing ----------------------------------------------------------------------------------
    def commit(self, writes: Sequence[Write], events: Sequence[NewEvent]) -> list[Tag | None]:
        if self._write_error is not None:
            raise self._write_error
        if self.readonly:
            raise ReadOnlyError(
                f"the tag store {self.path} is open read-only ({self.readonly_reason}): "
                "tags can be listed and exported, not changed"
            )
        with self._guard("save the change") as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                for write in writes:  # rows first, then links: a batch may link within itself
                    self._apply(db, write, links=False)
                held = {write.tag_id: self._apply_links(db, write) for write in writes}
                # The duplicate rule, once every row is written (a batch may move tags through
                # each other's passages), inside the write lock: no other client can slip in.
                for write in writes:
                    self._check_passage(db, write)
                for event in events:
                    self._append(db, event)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        return [stored_state(write, held[write.tag_id]) for write in writes]

    def _check_passage(self, db: sqlite3.Connection, write: Write) -> None:
        after = write.after
        if after is None or after.status == "orphaned":
            return
        row = db.execute(
            f"SELECT {_ALL_COLUMNS} FROM annotations WHERE doc_id = ? AND start = ? "
            "AND \"end\" = ? AND tag = ? AND id <> ? AND status <> 'orphaned' LIMIT 1",
            (after.doc_id, after.start, after.end, after.tag, after.id),
        ).fetchone()
        if row is not None:
            raise duplicate_error(_row_tag(row, ()))

    def _conflict(self, db: sqlite3.Connection, write: Write, current: int | None) -> ConflictError:
        short = write.tag_id[:8]
        row = db.execute(
            "SELECT author FROM events WHERE annotation = ? ORDER BY seq DESC LIMIT 1",
            (write.tag_id,),
        ).fetchone()
        who = f" by {row[0]}" if row and row[0] else ""
        if write.before is None:
            return ConflictError(f"tag {short} already exists: nothing was saved", write.tag_id)
        if current is None:
            return ConflictError(
                f"tag {short} was removed{who} since it was read: nothing was saved; "
                "the list is refreshed",
                write.tag_id,
            )
        return ConflictError(
            f"tag {short} was changed{who} since it was read (version {write.before.version}, "
            f"now {current}): nothing was saved; the list is refreshed, try again",
            write.tag_id,
        )

    def _apply(self, db: sqlite3.Connection, write: Write, *, links: bool = True) -> None:
        row = db.execute("SELECT version FROM annotations WHERE id = ?", (write.tag_id,)).fetchone()
        current = row[0] if row else None
        if write.before is None:
            if current is not None:
                raise self._conflict(db, write, current)
        elif current != write.before.version:
            raise self._conflict(db, write, current)
        after = write.after
        if after is None:
            db.execute("DELETE FROM annotations WHERE id = ?", (write.tag_id,))
            return
        version = max(1, after.version) if write.before is None else write.before.version + 1
        labels = json.dumps(list(after.labels), ensure_ascii=False)
        values = [after.id, *row_values(after), labels, version]
        if write.before is None:
            db.execute(
                f"INSERT INTO annotations ({_ALL_COLUMNS}) VALUES ({','.join('?' * 19)})", values
            )
        else:
            sets = ", ".join(f"{c} = ?" for c in (*_BASE_COLUMNS[1:], *_NEW_COLUMNS))
            db.execute(f"UPDATE annotations SET {sets} WHERE id = ?", [*values[1:], after.id])
        if links:
            self._apply_links(db, write)

    def _apply_links(self, db: sqlite3.Connection, write: Write) -> tuple[str, ...]:
        """Write the tag's links (and those to it from `linked_from`); the targets kept."""
        after = write.after
        if after is None:
            return ()
        kept: list[str] = []
        db.execute("DELETE FROM links WHERE source = ?", (after.id,))
        for position, target in enumerate(dict.fromkeys(after.links)):
            if (
                target != after.id
                and db.execute("SELECT 1 FROM annotations WHERE id = ?", (target,)).fetchone()
            ):
                db.execute("INSERT INTO links VALUES (?, ?, ?)", (after.id, target, position))
                kept.append(target)
        for source in write.linked_from:
            if (
                source != after.id
                and db.execute("SELECT 1 FROM annotations WHERE id = ?", (source,)).fetchone()
            ):
                position = db.execute(
                    "SELECT COALESCE(MAX(position) + 1, 0) FROM links WHERE source = ?", (source,)
                ).fetchone()[0]
                db.execute(
                    "INSERT OR IGNORE INTO links VALUES (?, ?, ?)", (source, after.id, position)
                )
        return tuple(kept)

    def _append(self, db: sqlite3.Connection, event: NewEvent, seq: int | None = None) -> None:
        db.execute(
            "INSERT INTO events (seq, at, session, author, kind, annotation, description, "
            "before, after) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                seq,
                event.at,
                event.session,
                event.author,
                event.kind,
                event.annotation,
                event.description,
                json.dumps(event.before, ensure_ascii=False) if event.before is not None else None,
                json.dumps(event.after, ensure_ascii=False) if event.after is not None else None,
            ),
        )


# Recovery -------------------------------------------------------------------------------------
@dataclass
class RecoverReport:
    """What `recover` did."""

    backup: Path | None
    damaged_copy: Path | None
    from_backup: int = 0  # tags in the backup
    replayed: int = 0  # events after the backup applied from the damaged store's log
    unreadable: list[str] = field(default_factory=list)  # what could not be read
    tags: int = 0  # tags in the recovered store


def salvage_events(path: Path, after_seq: int) -> tuple[list[Event], list[str]]:
    """Every readable event with seq > after_seq of a (damaged) store; and what failed."""
    problems: list[str] = []
    try:
        db = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return [], [f"the damaged store cannot be opened: {exc}"]
    events: list[Event] = []
    try:
        try:
            top = db.execute("SELECT MAX(seq) FROM events").fetchone()[0] or 0
        except sqlite3.Error as exc:
            return [], [f"its event log cannot be read: {exc}"]
        seq, step = after_seq, 256
        while seq < top:
            try:
                rows = db.execute(
                    f"SELECT {_EVENT_COLUMNS} FROM events WHERE seq > ? AND seq <= ? ORDER BY seq",
                    (seq, seq + step),
                ).fetchall()
                events += [_row_event(row) for row in rows]
                seq += step
            except (sqlite3.Error, ValueError) as exc:
                if step > 1:
                    step = max(1, step // 16)
                    continue
                problems.append(f"event {seq + 1}: {exc}")
                seq += 1
                step = 256
    finally:
        db.close()
    return events, problems


def replay(store: SQLiteTagStore, event: Event) -> None:
    """Apply one logged event's after-state to `store` (recovery), keeping the event."""
    db = store._db
    targets: list[tuple[str, dict[str, Any] | None]] = []
    if event.annotation:
        targets.append((event.annotation, event.after))
    else:
        before_ids = {s["id"] for s in (event.before or {}).get("tags", ())}
        after = {s["id"]: s for s in (event.after or {}).get("tags", ())}
        targets += [(i, after.get(i)) for i in before_ids if i not in after]
        targets += list(after.items())
    for tag_id, state in targets:
        row = db.execute("SELECT version FROM annotations WHERE id = ?", (tag_id,)).fetchone()
        current = store.get(tag_id) if row else None
        if state is None:
            if current is not None:
                store._apply(db, Write(tag_id, current, None))
            continue
        tag = Tag.from_snapshot(state)
        if current is not None:  # keep the logged version: replace, then set it
            store._apply(db, Write(tag_id, current, tag, tuple(state.get("linked_from", ()))))
        else:
            store._apply(db, Write(tag_id, None, tag, tuple(state.get("linked_from", ()))))
        db.execute("UPDATE annotations SET version = ? WHERE id = ?", (tag.version, tag_id))
    store._append(
        db,
        NewEvent(
            event.at,
            event.session,
            event.author,
            event.kind,
            event.annotation,
            event.description,
            event.before,
            event.after,
        ),
        seq=event.seq,
    )


def recover(path: Path, *, author: str, session: str) -> RecoverReport:
    """Rebuild a damaged store from its newest sound backup plus its readable event log.

    The damaged file is moved aside (`<name>.damaged-<time>`), never deleted; the recovered
    store takes its place. With no backup, the whole event log is replayed from empty.
    """
    path = Path(path)
    if path.exists() and integrity_check(path) == "ok":
        raise ReaderError(
            f"the tag store {printable(str(path))} is not damaged (its integrity check passes): "
            "nothing to recover"
        )
    backup = next(
        (b for b in list_backups(path) if integrity_check(b, immutable=True) == "ok"), None
    )
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    work = path.with_name(f"{path.name}.recovering")
    for leftover in (work, *_sides(work)):
        with suppress(FileNotFoundError):
            leftover.unlink()
    if backup is not None:
        copy_database(backup, work, immutable=True)
    store = SQLiteTagStore(work, backup_every=float("inf"))
    report = RecoverReport(backup=backup, damaged_copy=None)
    try:
        report.from_backup = store.count()
        last = store._db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
        events, report.unreadable = (
            salvage_events(path, last) if path.exists() else ([], ["no store file"])
        )
        db = store._db
        db.execute("BEGIN IMMEDIATE")
        try:
            for event in events:
                replay(store, event)
                report.replayed += 1
            store._append(
                db,
                NewEvent(
                    now(),
                    session,
                    author,
                    "recover",
                    "",
                    f"recovered from {backup.name if backup else 'the event log'} "
                    f"+ {report.replayed} logged events",
                    None,
                    None,
                ),
            )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        report.tags = store.count()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        store.close()
    if path.exists():
        damaged = path.with_name(f"{path.name}.damaged-{stamp}")
        os.replace(path, damaged)
        wal, shm = _sides(path)
        # A -wal with frames may hold the last changes: it goes with the damaged copy. An empty
        # one (left by the read-only checks above) and the -shm (an index SQLite rebuilds) go.
        if wal.exists() and wal.stat().st_size > 0:
            os.replace(wal, _sides(damaged)[0])
        for side in (wal, shm):
            with suppress(FileNotFoundError):
                side.unlink()
        report.damaged_copy = damaged
    os.replace(work, path)
    for side in _sides(work):
        with suppress(FileNotFoundError):
            side.unlink()
    return report


__all__ = [
    "FULL_MESSAGE",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "RecoverReport",
    "SQLiteTagStore",
    "copy_database",
    "integrity_check",
    "latest_backup",
    "list_backups",
    "recover",
    "single_file",
]
