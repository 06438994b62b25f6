"""The tag store: passages tagged claim/rebuttal/context, in SQLite, with an event log and undo.

Tags are the users' own work: every change is one transaction (WAL, synchronous=FULL) that
writes the new state and an event in the append-only `events` table, which is the audit
trail. Undo and redo replay the events of this store's session. Nothing is ever deleted by
re-anchoring: a passage that cannot be found is marked `orphaned` and kept.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from reader.core.documents.model import Document
from reader.core.errors import ReaderError
from reader.core.tags.anchoring import ANCHORED, MOVED, ORPHANED, STATUSES, make_selector, reanchor
from reader.core.tags.anchoring import Selector as _Selector

if TYPE_CHECKING:
    from reader.core.documents.corpus import Corpus
    from reader.core.workspace import Workspace

TAGS: tuple[str, ...] = ("claim", "rebuttal", "context")
JSON_FIELDS: tuple[str, ...] = (
    "id",
    "doc_id",
    "tag",
    "start",
    "end",
    "exact",
    "prefix",
    "suffix",
    "note",
    "links",
    "author",
    "created",
    "updated",
    "status",
    "doc_sha256",
)
SCHEMA_VERSION = 1
# MIGRATIONS[n] takes the schema from version n to n + 1.
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
)
_COLUMNS = (
    'id, doc_id, lang, tag, start, "end", exact, prefix, suffix, note, author, created, '
    "updated, status, doc_sha256, checked_sha256"
)
_EDITABLE = ("tag", "note", "links")


def now() -> str:
    """The current UTC time, ISO 8601 with milliseconds and a Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Annotation:
    """A tagged passage `[start, end)` of a document (code points into its clean text)."""

    id: str
    doc_id: str
    tag: str
    start: int
    end: int
    exact: str
    prefix: str
    suffix: str
    note: str
    links: tuple[str, ...]
    author: str
    created: str
    updated: str
    status: str
    doc_sha256: str
    lang: str = ""
    checked_sha256: str = field(default="", repr=False)

    def to_json(self) -> dict[str, Any]:
        """The public JSON shape: exactly JSON_FIELDS."""
        data = {name: getattr(self, name) for name in JSON_FIELDS}
        data["links"] = list(self.links)
        return data

    @property
    def selector(self) -> _Selector:
        return _Selector(self.start, self.end, self.exact, self.prefix, self.suffix)


@dataclass
class ReconcileReport:
    """What `reconcile` changed: ids moved by exact search, re-anchored by fuzzy match, orphaned."""

    moved: list[str] = field(default_factory=list)
    orphaned: list[str] = field(default_factory=list)
    reanchored: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.moved or self.orphaned or self.reanchored)


@dataclass(frozen=True)
class Event:
    """One change, as logged: `before`/`after` are snapshots (None: did not exist)."""

    seq: int
    at: str
    session: str
    author: str
    kind: str
    annotation: str
    description: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _row(row: Sequence[Any], links: tuple[str, ...]) -> Annotation:
    (ann_id, doc_id, lang, tag, start, end, exact, prefix, suffix, note, author) = row[:11]
    created, updated, status, doc_sha, checked = row[11:]
    return Annotation(
        ann_id,
        doc_id,
        tag,
        start,
        end,
        exact,
        prefix,
        suffix,
        note,
        links,
        author,
        created,
        updated,
        status,
        doc_sha,
        lang,
        checked,
    )


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(ann: Annotation | dict[str, Any]) -> str:
    """`claim "Musk said…" in 000.txt` for messages."""
    data = ann if isinstance(ann, dict) else ann.to_json()
    return f'{data["tag"]} "{_short(data["exact"])}" in {data["doc_id"]}'


class AnnotationStore:
    """The tags of a workspace, in `ws.annotations_path`. Thread-safe; close() when done."""

    def __init__(self, ws: Workspace, *, author: str | None = None) -> None:
        self.path = ws.annotations_path
        self.author = author or ws.author
        self.session = str(uuid.uuid4())
        self._lock = threading.RLock()
        self._undo: list[tuple[str, dict | None, dict | None, str]] = []
        self._redo: list[tuple[str, dict | None, dict | None, str]] = []
        self._db = self._open()

    # Opening and migrating ------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
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
        except sqlite3.DatabaseError as exc:
            db.close()
            raise ReaderError(
                f"the tag store {self.path} is unreadable ({exc}); it was left as it is"
            ) from exc
        except ReaderError:
            db.close()
            raise
        return db

    def _migrate(self, db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise ReaderError(
                f"the tag store {self.path} was written by a newer version of reader "
                f"(schema {version}, this one knows {SCHEMA_VERSION}); it was left as it is"
            )
        if version == SCHEMA_VERSION:
            return
        if version > 0:  # keep a copy of the user's tags before changing their layout
            backup = self.path.with_name(f"{self.path.name}.v{version}.bak")
            target = sqlite3.connect(backup)
            try:
                db.backup(target)
            finally:
                target.close()
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

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> AnnotationStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Reading --------------------------------------------------------------------------------
    def _links(self, ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
        ids = list(ids)
        links: dict[str, list[str]] = {i: [] for i in ids}
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            marks = ",".join("?" * len(part))
            for source, target in self._db.execute(
                f"SELECT source, target FROM links WHERE source IN ({marks}) "
                "ORDER BY source, position",
                part,
            ):
                links[source].append(target)
        return {k: tuple(v) for k, v in links.items()}

    def _query(self, where: str = "", params: Sequence[Any] = ()) -> list[Annotation]:
        with self._lock:
            rows = self._db.execute(
                f'SELECT {_COLUMNS} FROM annotations {where} ORDER BY doc_id, start, "end", '
                "created, id",
                params,
            ).fetchall()
            links = self._links(row[0] for row in rows)
        return [_row(row, links[row[0]]) for row in rows]

    def get(self, ann_id: str) -> Annotation | None:
        """The annotation with this id, or None."""
        found = self._query("WHERE id = ?", (ann_id,))
        return found[0] if found else None

    def resolve_id(self, prefix: str) -> str:
        """An annotation id from the id or a unique prefix of it (`3f2a`)."""
        prefix = prefix.strip().lower()
        if not prefix:
            raise ReaderError("an annotation id is empty")
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM annotations WHERE id >= ? AND id < ? ORDER BY id LIMIT 6",
                (prefix, prefix + "\U0010ffff"),
            ).fetchall()
        ids = [r[0] for r in rows]
        if prefix in ids or len(ids) == 1:
            return prefix if prefix in ids else ids[0]
        if ids:
            raise ReaderError(f"{prefix!r} matches several tags: {', '.join(i[:8] for i in ids)}")
        raise ReaderError(f"no tag {prefix!r}; see `reader tags list`")

    def list(
        self,
        *,
        tag: str | None = None,
        doc_id: str | None = None,
        lang: str | None = None,
        status: str | None = None,
    ) -> list[Annotation]:
        """Annotations by document and position, filtered by tag, document, language, status."""
        clauses, params = [], []
        for column, value in (("tag", tag), ("doc_id", doc_id), ("lang", lang), ("status", status)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        return self._query(("WHERE " + " AND ".join(clauses)) if clauses else "", params)

    def for_doc(self, doc_id: str) -> list[Annotation]:
        """One document's annotations, sorted by start."""
        return self.list(doc_id=doc_id)

    def at(self, doc_id: str, offset: int) -> list[Annotation]:
        """The annotations covering `offset` in a document, innermost (shortest) first."""
        found = self._query(
            'WHERE doc_id = ? AND start <= ? AND "end" > ?', (doc_id, offset, offset)
        )
        return sorted(found, key=lambda a: (a.end - a.start, a.start, a.created))

    def doc_tag_counts(self) -> dict[str, dict[str, int]]:
        """{doc_id: {tag: count}} over all annotations."""
        counts: dict[str, dict[str, int]] = {}
        with self._lock:
            rows = self._db.execute(
                "SELECT doc_id, tag, COUNT(*) FROM annotations GROUP BY doc_id, tag"
            ).fetchall()
        for doc_id, tag, count in rows:
            counts.setdefault(doc_id, {})[tag] = count
        return counts

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM annotations").fetchone()[0]

    def events(self, ann_id: str | None = None, limit: int | None = None) -> list[Event]:
        """The event log (the audit trail), oldest first; of one annotation if given."""
        sql = "SELECT seq, at, session, author, kind, annotation, description, before, after "
        sql += "FROM events" + (" WHERE annotation = ?" if ann_id else "") + " ORDER BY seq"
        params: list[Any] = [ann_id] if ann_id else []
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        if limit is not None:
            rows = rows[-limit:]
        return [
            Event(
                *row[:7],
                json.loads(row[7]) if row[7] else None,
                json.loads(row[8]) if row[8] else None,
            )
            for row in rows
        ]

    # Writing --------------------------------------------------------------------------------
    def _snapshot(self, ann_id: str) -> dict[str, Any] | None:
        ann = self.get(ann_id)
        if ann is None:
            return None
        data = ann.to_json()
        data["lang"] = ann.lang
        data["checked_sha256"] = ann.checked_sha256
        data["linked_from"] = [
            r[0] for r in self._db.execute("SELECT source FROM links WHERE target = ?", (ann_id,))
        ]
        return data

    def _write(
        self, ann_id: str, state: dict[str, Any] | None, fields: Sequence[str] | None
    ) -> None:
        """Make the stored annotation match `state` (None: absent); only `fields` if given."""
        db = self._db
        if state is None:
            db.execute("DELETE FROM annotations WHERE id = ?", (ann_id,))
            return
        if fields is not None and self.get(ann_id) is not None:
            names = [name for name in fields if name in ("tag", "note")]
            sets = "".join(f"{name} = ?, " for name in names)
            db.execute(
                f"UPDATE annotations SET {sets}updated = ? WHERE id = ?",
                [*(state[name] for name in names), state["updated"], ann_id],
            )
            if "links" in fields:
                self._set_links(ann_id, state["links"])
            return
        db.execute(
            f"INSERT INTO annotations ({_COLUMNS}) VALUES ({','.join('?' * 16)})",
            [
                state["id"],
                state["doc_id"],
                state.get("lang", ""),
                state["tag"],
                state["start"],
                state["end"],
                state["exact"],
                state["prefix"],
                state["suffix"],
                state["note"],
                state["author"],
                state["created"],
                state["updated"],
                state["status"],
                state["doc_sha256"],
                state.get("checked_sha256", state["doc_sha256"]),
            ],
        )
        self._set_links(ann_id, state["links"])
        for source in state.get("linked_from", ()):
            if db.execute("SELECT 1 FROM annotations WHERE id = ?", (source,)).fetchone():
                position = db.execute(
                    "SELECT COALESCE(MAX(position) + 1, 0) FROM links WHERE source = ?", (source,)
                ).fetchone()[0]
                db.execute(
                    "INSERT OR IGNORE INTO links VALUES (?, ?, ?)", (source, ann_id, position)
                )

    def _set_links(self, ann_id: str, targets: Iterable[str]) -> None:
        self._db.execute("DELETE FROM links WHERE source = ?", (ann_id,))
        for position, target in enumerate(dict.fromkeys(targets)):
            if self._db.execute("SELECT 1 FROM annotations WHERE id = ?", (target,)).fetchone():
                self._db.execute("INSERT INTO links VALUES (?, ?, ?)", (ann_id, target, position))

    def _log(self, kind: str, ann_id: str, description: str, before: Any, after: Any) -> None:
        self._db.execute(
            "INSERT INTO events (at, session, author, kind, annotation, description, before, "
            "after) VALUES (?,?,?,?,?,?,?,?)",
            (
                now(),
                self.session,
                self.author,
                kind,
                ann_id,
                description,
                json.dumps(before, ensure_ascii=False) if before is not None else None,
                json.dumps(after, ensure_ascii=False) if after is not None else None,
            ),
        )

    def _change(
        self,
        kind: str,
        ann_id: str,
        description: str,
        after: dict[str, Any] | None,
        fields: Sequence[str] | None = None,
    ) -> None:
        """Apply one user change in a transaction, log it, and push it on the undo stack."""
        with self._lock:
            done: list[tuple[str, dict | None, dict | None, str]] = []
            self._transaction(
                lambda: done.append(self._apply_logged(kind, ann_id, description, after, fields))
            )
            self._undo.extend(done)
            self._redo.clear()

    def _apply_logged(
        self,
        kind: str,
        ann_id: str,
        description: str,
        after: dict[str, Any] | None,
        fields: Sequence[str] | None,
    ) -> tuple[str, dict | None, dict | None, str]:
        before = self._snapshot(ann_id)
        self._write(ann_id, after, fields)
        written = self._snapshot(ann_id)
        self._log(kind, ann_id, description, before, written)
        return (ann_id, before, written, description)

    def _transaction(self, work) -> None:
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise ReaderError(f"the tag store is busy or unwritable: {exc}") from exc
        try:
            work()
            db.execute("COMMIT")
        except sqlite3.IntegrityError as exc:
            db.execute("ROLLBACK")
            raise ReaderError(f"the tag store refused the change: {exc}") from exc
        except sqlite3.OperationalError as exc:
            db.execute("ROLLBACK")
            raise ReaderError(f"the tag store could not save the change: {exc}") from exc
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _check_tag(self, tag: str) -> None:
        if tag not in TAGS:
            raise ReaderError(f"unknown tag {tag!r}; use one of {', '.join(TAGS)}")

    def _check_links(self, ann_id: str, links: Iterable[str]) -> tuple[str, ...]:
        targets = tuple(dict.fromkeys(links))
        for target in targets:
            if target == ann_id:
                raise ReaderError("a tag cannot link to itself")
            if self.get(target) is None:
                raise ReaderError(f"no tag {target!r} to link to")
        return targets

    def add(
        self,
        doc: Document,
        start: int,
        end: int,
        tag: str,
        *,
        note: str = "",
        links: Iterable[str] = (),
    ) -> Annotation:
        """Tag `doc.text[start:end]`; the annotation returned is committed to disk."""
        self._check_tag(tag)
        try:
            selector = make_selector(doc.text, start, end)
        except ValueError as exc:
            raise ReaderError(f"{doc.id}: {exc}") from exc
        ann_id = str(uuid.uuid4())
        targets = self._check_links(ann_id, links)
        stamp = now()
        state = {
            "id": ann_id,
            "doc_id": doc.id,
            "tag": tag,
            "start": start,
            "end": end,
            "exact": selector.exact,
            "prefix": selector.prefix,
            "suffix": selector.suffix,
            "note": note,
            "links": list(targets),
            "author": self.author,
            "created": stamp,
            "updated": stamp,
            "status": ANCHORED,
            "doc_sha256": doc.sha256,
            "lang": doc.lang,
            "checked_sha256": doc.sha256,
        }
        self._change("add", ann_id, f"add {describe(state)}", state)
        return self._must(ann_id)

    def _must(self, ann_id: str) -> Annotation:
        ann = self.get(ann_id)
        if ann is None:
            raise ReaderError(f"no tag {ann_id!r}; see `reader tags list`")
        return ann

    def edit(
        self,
        ann_id: str,
        *,
        tag: str | None = None,
        note: str | None = None,
        links: Iterable[str] | None = None,
    ) -> Annotation:
        """Change a tag's kind, note or links (None: unchanged)."""
        ann = self._must(ann_id)
        changes: dict[str, Any] = {}
        if tag is not None and tag != ann.tag:
            self._check_tag(tag)
            changes["tag"] = tag
        if note is not None and note != ann.note:
            changes["note"] = note
        if links is not None:
            targets = self._check_links(ann_id, links)
            if targets != ann.links:
                changes["links"] = list(targets)
        if not changes:
            return ann
        kind = "retag" if "tag" in changes else ("link" if list(changes) == ["links"] else "edit")
        if kind == "retag":
            description = f"retag {ann.tag} → {describe({**ann.to_json(), **changes})}"
        else:
            description = f"{kind} ({', '.join(sorted(changes))}) {describe(ann)}"
        state = {**ann.to_json(), **changes, "updated": now()}
        self._change(kind, ann_id, description, state, tuple(changes))
        return self._must(ann_id)

    def link(self, ann_id: str, target_id: str) -> Annotation:
        """Add a link from one tag to another (e.g. a rebuttal to the claim it answers)."""
        ann = self._must(ann_id)
        return self.edit(ann_id, links=(*ann.links, target_id))

    def unlink(self, ann_id: str, target_id: str) -> Annotation:
        """Remove a link."""
        ann = self._must(ann_id)
        return self.edit(ann_id, links=tuple(t for t in ann.links if t != target_id))

    def remove(self, ann_id: str) -> Annotation:
        """Delete a tag (its full state stays in the event log; undo brings it back)."""
        ann = self._must(ann_id)
        self._change("remove", ann_id, f"remove {describe(ann)}", None)
        return ann

    # Undo and redo --------------------------------------------------------------------------
    def undo(self) -> str | None:
        """Undo this session's last change; its description, or None if there is none."""
        with self._lock:
            if not self._undo:
                return None
            ann_id, before, _after, description = self._undo[-1]
            self._transaction(lambda: self._restore("undo", ann_id, before, description))
            self._redo.append(self._undo.pop())
            return description

    def redo(self) -> str | None:
        """Redo the last undone change; its description, or None if there is none."""
        with self._lock:
            if not self._redo:
                return None
            ann_id, _before, after, description = self._redo[-1]
            self._transaction(lambda: self._restore("redo", ann_id, after, description))
            self._undo.append(self._redo.pop())
            return description

    def _restore(self, kind: str, ann_id: str, state: dict | None, description: str) -> None:
        current = self._snapshot(ann_id)
        if state is not None and current is not None:
            # Keep the position (re-anchoring may have moved it since); restore what users edit.
            self._write(ann_id, {**state, "updated": now()}, _EDITABLE)
        else:
            self._write(ann_id, state, None)
        self._log(kind, ann_id, f"{kind} {description}", current, self._snapshot(ann_id))

    # Re-anchoring ---------------------------------------------------------------------------
    def reconcile(self, corpus: Corpus) -> ReconcileReport:
        """Re-anchor every annotation whose document changed since it was last checked.

        Cheap when nothing changed (one catalog query, no file reads). A document
        that is gone, or a passage that cannot be found, makes the tag `orphaned`; it is kept.
        """
        report = ReconcileReport()
        with self._lock:
            rows = self._db.execute(
                "SELECT doc_id, checked_sha256 FROM annotations GROUP BY doc_id, checked_sha256"
            ).fetchall()
        if not rows:
            return report
        catalog = {info.id: info.sha256 for info in corpus.infos()}  # one query
        stale: dict[str, None] = {}
        for doc_id, checked in rows:
            if catalog.get(doc_id) != checked:
                stale[doc_id] = None
        for doc_id in stale:
            doc: Document | None
            try:
                doc = corpus.load(doc_id)  # the file is the truth, not a stale catalog
            except ReaderError:
                doc = None
            self._reconcile_doc(doc_id, doc, report)
        return report

    def reconcile_doc(self, doc: Document) -> ReconcileReport:
        """Re-anchor one loaded document's annotations if its text changed (the article view)."""
        report = ReconcileReport()
        self._reconcile_doc(doc.id, doc, report)
        return report

    def _reconcile_doc(self, doc_id: str, doc: Document | None, report: ReconcileReport) -> None:
        sha = doc.sha256 if doc is not None else ""
        with self._lock:
            todo = [a for a in self.for_doc(doc_id) if a.checked_sha256 != sha]
            if not todo:
                return

            def work() -> None:
                for ann in todo:
                    self._reanchor_one(ann, doc, report)

            self._transaction(work)

    def _reanchor_one(self, ann: Annotation, doc: Document | None, report: ReconcileReport) -> None:
        anchor = reanchor(doc.text, ann.selector) if doc is not None else None
        before = self._snapshot(ann.id)
        if anchor is None or doc is None:
            if ann.status == ORPHANED and ann.checked_sha256 == (doc.sha256 if doc else ""):
                return
            new = replace(ann, status=ORPHANED, checked_sha256=doc.sha256 if doc else "")
            report.orphaned.append(ann.id)
            why = "passage not found" if doc is not None else "document gone"
            description = f"orphaned ({why}) {describe(ann)}"
        else:
            selector = make_selector(doc.text, anchor.start, anchor.end)
            status = ANCHORED if (anchor.status == ANCHORED and ann.status != MOVED) else MOVED
            new = replace(
                ann,
                start=selector.start,
                end=selector.end,
                exact=selector.exact,
                prefix=selector.prefix,
                suffix=selector.suffix,
                status=status,
                doc_sha256=doc.sha256,
                checked_sha256=doc.sha256,
                lang=doc.lang,
            )
            if anchor.method == "fuzzy":
                report.reanchored.append(ann.id)
            elif (new.start, new.end) != (ann.start, ann.end):
                report.moved.append(ann.id)
            description = f"re-anchored ({anchor.method}) {describe(ann)}"
        state = new.to_json()
        state["lang"] = new.lang
        state["checked_sha256"] = new.checked_sha256
        self._db.execute(
            'UPDATE annotations SET start = ?, "end" = ?, exact = ?, prefix = ?, suffix = ?, '
            "status = ?, doc_sha256 = ?, checked_sha256 = ?, lang = ? WHERE id = ?",
            (
                new.start,
                new.end,
                new.exact,
                new.prefix,
                new.suffix,
                new.status,
                new.doc_sha256,
                new.checked_sha256,
                new.lang,
                ann.id,
            ),
        )
        self._log("reanchor", ann.id, description, before, self._snapshot(ann.id))


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


def integrity_check(path: str | Any) -> str:
    """SQLite's `PRAGMA integrity_check` of a store file ("ok" when sound)."""
    db = sqlite3.connect(path)
    try:
        return "; ".join(r[0] for r in db.execute("PRAGMA integrity_check"))
    finally:
        db.close()


def backup(ws: Workspace, target: Any) -> None:
    """Copy the tag store to `target` consistently (SQLite backup API)."""
    source = sqlite3.connect(ws.annotations_path)
    try:
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
        finally:
            dest.close()
    finally:
        source.close()


__all__ = [
    "ANCHORED",
    "MOVED",
    "ORPHANED",
    "STATUSES",
    "TAGS",
    "Annotation",
    "AnnotationStore",
    "Event",
    "ReconcileReport",
    "backup",
    "integrity_check",
    "now",
]
