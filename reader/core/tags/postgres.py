"""`PostgresTagStore`: the tag store in a shared PostgreSQL database, for a team (psycopg 3).

- The connection string is handed to libpq as it is, so `sslmode`, `PGPASSFILE`/`.pgpass`,
  `PGHOST` and the other libpq settings work as they do for `psql`. Messages never show the
  password (`redact_url`).
- Everything lives in the `reader` schema; its layout is versioned (`reader.meta`) and migrated
  under an advisory lock, so two clients starting at once do not both migrate.
- Several corpora share one database: every row carries a corpus key (the `corpus_key`
  setting, else the corpus folder's name), and tags are keyed by the corpus-relative document
  id plus the document's sha256, so teammates with copies of the same folder share tags.
- The event log is append-only in the database itself: a trigger rejects UPDATE, DELETE and
  TRUNCATE on `reader.events`.
- Each tag has a version; a write based on an older version fails with `ConflictError` naming
  who changed it, and nothing is written. Each commit is one transaction: a client killed
  mid-write leaves nothing half-written.
- The same kind twice on the same passage is refused by the database (a deferred exclusion
  constraint over the tags that are not orphaned): two teammates adding it at once cannot both
  succeed; the second gets `DuplicateTagError` naming the first's tag.
- A commit is one round trip: a new tag is one CALL of `reader.add_tag` (row, event, NOTIFY);
  any other change is sent at once as a pipeline. The server checks versions and the
  duplicate rule, so nothing is read first, and the tags as stored are returned.
- After each commit, a NOTIFY on `reader_tags` in a transaction of its own (asynchronous
  commit); `TagListener` turns those into `TagChange`s for the app.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from reader.core.errors import ReaderError
from reader.core.settings import redact_url
from reader.core.tags.model import Event, Tag
from reader.core.tags.store import (
    ConflictError,
    NewEvent,
    ReadOnlyError,
    StoreUnavailableError,
    Write,
    duplicate_error,
    row_values,
    stored_state,
    tag_from_row,
)

if TYPE_CHECKING:
    import psycopg

CHANNEL = "reader_tags"
CONNECT_TIMEOUT = 4  # seconds per address libpq tries (localhost may be two): within 10 s
SCHEMA_VERSION = 5
# MIGRATIONS[n] takes the schema from version n to n + 1. Never edit a released step.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE reader.corpora (
        key TEXT PRIMARY KEY,
        created TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE TABLE reader.tags (
        corpus TEXT NOT NULL REFERENCES reader.corpora (key),
        id TEXT NOT NULL,
        doc_id TEXT NOT NULL,
        doc_sha256 TEXT NOT NULL,
        checked_sha256 TEXT NOT NULL,
        lang TEXT NOT NULL DEFAULT '',
        tag TEXT NOT NULL,
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
        verdict TEXT NOT NULL DEFAULT 'not-rated',
        labels TEXT[] NOT NULL DEFAULT '{}',
        version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
        PRIMARY KEY (corpus, id)
    );
    CREATE INDEX tags_doc ON reader.tags (corpus, doc_id, start);
    CREATE TABLE reader.links (
        corpus TEXT NOT NULL,
        source TEXT NOT NULL,
        target TEXT NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (corpus, source, target),
        FOREIGN KEY (corpus, source) REFERENCES reader.tags (corpus, id) ON DELETE CASCADE,
        FOREIGN KEY (corpus, target) REFERENCES reader.tags (corpus, id) ON DELETE CASCADE,
        CHECK (source <> target)
    );
    CREATE INDEX links_target ON reader.links (corpus, target);
    CREATE TABLE reader.events (
        seq BIGSERIAL PRIMARY KEY,
        corpus TEXT NOT NULL REFERENCES reader.corpora (key),
        at TEXT NOT NULL,
        session TEXT NOT NULL,
        author TEXT NOT NULL,
        kind TEXT NOT NULL,
        annotation TEXT NOT NULL,
        description TEXT NOT NULL,
        before JSONB,
        after JSONB,
        recorded TIMESTAMPTZ NOT NULL DEFAULT now(),
        db_user TEXT NOT NULL DEFAULT current_user
    );
    CREATE INDEX events_tag ON reader.events (corpus, annotation, seq);
    CREATE INDEX events_corpus ON reader.events (corpus, seq);
    CREATE FUNCTION reader.events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the event log is append-only' USING ERRCODE = 'insufficient_privilege';
    END $$;
    CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON reader.events
        FOR EACH ROW EXECUTE FUNCTION reader.events_append_only();
    CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON reader.events
        FOR EACH STATEMENT EXECUTE FUNCTION reader.events_append_only();
    """,
    # 2: a version check the server makes (so a commit is one round trip), and access for
    # every role that may connect to the database (the admin decides who may: CONNECT).
    """
    CREATE FUNCTION reader.expect_one(n_rows BIGINT, tag_id TEXT) RETURNS VOID
    LANGUAGE plpgsql AS $$
    BEGIN
        IF n_rows <> 1 THEN
            RAISE EXCEPTION 'tag % changed since it was read', tag_id
                USING ERRCODE = 'RDR01', DETAIL = tag_id;
        END IF;
    END $$;
    GRANT USAGE ON SCHEMA reader TO PUBLIC;
    GRANT SELECT, INSERT, UPDATE, DELETE ON reader.tags, reader.links TO PUBLIC;
    GRANT SELECT, INSERT ON reader.events, reader.corpora TO PUBLIC;
    GRANT SELECT ON reader.meta TO PUBLIC;
    GRANT USAGE ON SEQUENCE reader.events_seq_seq TO PUBLIC;
    """,
    # 3: the same kind twice on the same passage is refused by the database itself (an
    # exclusion constraint, like a unique index, over the tags that are not orphaned), so two
    # clients adding it at once cannot both succeed. Checked at commit (deferred), so a batch
    # may move tags through each other's passages (re-anchoring after text was inserted).
    # Pairs saved before (when the rule was the clients' alone) are kept as they are: `twin`
    # sets each later one of a pair apart (its own id; '' for every other tag).
    """
    ALTER TABLE reader.tags ADD COLUMN twin TEXT NOT NULL DEFAULT '';
    UPDATE reader.tags t SET twin = t.id
    FROM (
        SELECT corpus, id, row_number() OVER (
            PARTITION BY corpus, doc_id, start, "end", tag
            ORDER BY created COLLATE "C", id COLLATE "C"
        ) AS n
        FROM reader.tags WHERE status <> 'orphaned'
    ) d
    WHERE d.corpus = t.corpus AND d.id = t.id AND d.n > 1;
    ALTER TABLE reader.tags ADD CONSTRAINT tags_passage EXCLUDE USING btree (
        corpus WITH =, doc_id WITH =, start WITH =, "end" WITH =, tag WITH =, twin WITH =
    ) WHERE (status <> 'orphaned') DEFERRABLE INITIALLY DEFERRED;
    """,
    # 4: no foreign keys from tags and events to reader.corpora. Each checked insert locked
    # the corpus's one row (FOR KEY SHARE), so concurrent writers of a corpus queued on it and
    # made a multixact per write. A corpus row is made when a client opens the corpus and is
    # never deleted, so the keys guarded nothing a client does.
    """
    ALTER TABLE reader.tags DROP CONSTRAINT IF EXISTS tags_corpus_fkey;
    ALTER TABLE reader.events DROP CONSTRAINT IF EXISTS events_corpus_fkey;
    """,
    # 5: a new tag with its event, then the NOTIFY, in one statement (CALL): the write commits
    # (durably) inside the procedure, and the NOTIFY goes in a transaction of its own with an
    # asynchronous commit (see PostgresTagStore._notify for why). A full notification queue
    # costs only the live update: the tag is saved by then.
    """
    CREATE PROCEDURE reader.add_tag(
        p_corpus TEXT, p_id TEXT, p_doc_id TEXT, p_lang TEXT, p_tag TEXT, p_start INTEGER,
        p_end INTEGER, p_exact TEXT, p_prefix TEXT, p_suffix TEXT, p_note TEXT, p_author TEXT,
        p_created TEXT, p_updated TEXT, p_status TEXT, p_doc_sha256 TEXT,
        p_checked_sha256 TEXT, p_verdict TEXT, p_labels TEXT[], p_version INTEGER,
        e_at TEXT, e_session TEXT, e_author TEXT, e_kind TEXT, e_annotation TEXT,
        e_description TEXT, e_before JSONB, e_after JSONB, p_channel TEXT, p_payload TEXT
    ) LANGUAGE plpgsql AS $$
    DECLARE
        n BIGINT;
    BEGIN
        INSERT INTO reader.tags (corpus, id, doc_id, lang, tag, start, "end", exact, prefix,
            suffix, note, author, created, updated, status, doc_sha256, checked_sha256,
            verdict, labels, version)
        VALUES (p_corpus, p_id, p_doc_id, p_lang, p_tag, p_start, p_end, p_exact, p_prefix,
            p_suffix, p_note, p_author, p_created, p_updated, p_status, p_doc_sha256,
            p_checked_sha256, p_verdict, p_labels, p_version)
        ON CONFLICT (corpus, id) DO NOTHING;
        GET DIAGNOSTICS n = ROW_COUNT;
        PERFORM reader.expect_one(n, p_id);
        INSERT INTO reader.events (corpus, at, session, author, kind, annotation, description,
            before, after)
        VALUES (p_corpus, e_at, e_session, e_author, e_kind, e_annotation, e_description,
            e_before, e_after);
        COMMIT;
        PERFORM set_config('synchronous_commit', 'off', true);
        BEGIN
            PERFORM pg_notify(p_channel, p_payload);
        EXCEPTION WHEN program_limit_exceeded THEN
            RAISE WARNING 'tag % saved; the live update was not sent: %', p_id, SQLERRM;
        END;
    END $$;
    """,
)
_CONFLICT = "RDR01"  # the SQLSTATE of reader.expect_one
_PASSAGE_RULE = "tags_passage"  # the constraint of the duplicate rule
_MIGRATION_LOCK = 0x7265616465  # pg_advisory_xact_lock key ("reade")
_TAG_COLUMNS = (
    'id, doc_id, lang, tag, start, "end", exact, prefix, suffix, note, author, created, '
    "updated, status, doc_sha256, checked_sha256, verdict, labels, version"
)
_EVENT_COLUMNS = "seq, at, session, author, kind, annotation, description, before, after"
_ADD_TAG = f"CALL reader.add_tag({', '.join(['%s'] * 30)})"
_INSERT_EVENT = (
    "INSERT INTO reader.events (corpus, at, session, author, kind, annotation, description, "
    "before, after) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_ORDER = 'ORDER BY doc_id COLLATE "C", start, "end", created COLLATE "C", id COLLATE "C"'


@dataclass(frozen=True)
class TagChange:
    """A change someone committed to the shared store (from a NOTIFY)."""

    corpus: str
    session: str
    author: str
    tag_ids: tuple[str, ...]
    doc_ids: tuple[str, ...]


def _psycopg():
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - a dependency; kept for a clear message
        raise ReaderError(
            "the PostgreSQL tag store needs psycopg: pip install 'psycopg[binary]'"
        ) from exc
    return psycopg


def connect(url: str, *, autocommit: bool = True, timeout: int = CONNECT_TIMEOUT):
    """A psycopg connection; StoreUnavailableError (one line, no password) when unreachable."""
    psycopg = _psycopg()
    try:
        return psycopg.connect(
            url,
            autocommit=autocommit,
            connect_timeout=timeout,
            application_name="source-reader",
        )
    except psycopg.Error as exc:
        raise StoreUnavailableError(
            f"cannot reach the tag server {redact_url(url)}: {_first_line(exc, url)}"
        ) from None
    except ValueError as exc:  # a malformed URL
        raise ReaderError(f"bad tag store URL {redact_url(url)}: {_first_line(exc, url)}") from None


def _first_line(exc: BaseException, url: str = "") -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if url and url in text:
        text = text.replace(url, redact_url(url))
    return text


def _tag(row: Sequence[Any], links: tuple[str, ...]) -> Tag:
    return tag_from_row(row, links, tuple(row[17] or ()))


def _row_values(after: Tag) -> tuple:
    """A tag's columns from doc_id to labels, in _TAG_COLUMNS order."""
    values = row_values(replace(after, checked_sha256=after.checked_sha256 or after.doc_sha256))
    return (*values, list(after.labels))


def _a_new_tag(writes: Sequence[Write], events: Sequence[NewEvent]) -> bool:
    """One new tag without links, with one event: what reader.add_tag does in one CALL."""
    if len(writes) != 1 or len(events) != 1:
        return False
    write = writes[0]
    return (
        write.before is None
        and write.after is not None
        and not write.linked_from
        and not any(t != write.tag_id for t in write.after.links)
    )


def _held(write: Write, cursor: psycopg.Cursor | None) -> tuple[str, ...]:
    """The write's link targets that the store kept, in the tag's order."""
    if cursor is None:
        return ()
    kept = {row[0] for row in cursor.fetchall()}
    assert write.after is not None
    return tuple(t for t in dict.fromkeys(write.after.links) if t in kept)


class PostgresTagStore:
    """Tags of one corpus in a PostgreSQL database. Thread-safe (one connection behind a lock);
    reconnects by itself after a lost connection; close() when done."""

    def __init__(self, url: str, corpus: str, *, session: str = "", readonly: bool = False) -> None:
        if not corpus:
            raise ReaderError("a corpus key is needed for the shared tag store")
        self.url = url
        self.corpus = corpus
        self.session = session
        self.readonly = readonly
        self.location = f"{redact_url(url)} (corpus {corpus})"
        self._lock = threading.RLock()
        self._conn: psycopg.Connection | None = None
        with self._lock:
            self._conn = self._open()

    # Connecting and migrating -----------------------------------------------------------------
    def _open(self) -> psycopg.Connection:
        conn = connect(self.url, autocommit=True)  # writes take an explicit transaction
        try:
            self._migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _migrate(self, conn: psycopg.Connection) -> None:
        psycopg = _psycopg()
        try:
            with conn.transaction():
                version = self._version(conn)
                if version < SCHEMA_VERSION:  # set up or upgrade, one client at a time
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                    version = self._version(conn)
                    if version == 0:
                        conn.execute("CREATE SCHEMA IF NOT EXISTS reader")
                        conn.execute(
                            "CREATE TABLE IF NOT EXISTS reader.meta "
                            "(key TEXT PRIMARY KEY, value TEXT)"
                        )
                    for step in range(version, SCHEMA_VERSION):
                        conn.execute(MIGRATIONS[step])
                        conn.execute(
                            "INSERT INTO reader.meta VALUES ('schema_version', %s) "
                            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                            (str(step + 1),),
                        )
                if version > SCHEMA_VERSION:
                    raise ReaderError(
                        f"the tag database {redact_url(self.url)} was set up by a newer version "
                        f"of reader (schema {version}, this one knows {SCHEMA_VERSION}); "
                        "upgrade reader"
                    )
                conn.execute(
                    "INSERT INTO reader.corpora (key) VALUES (%s) ON CONFLICT DO NOTHING",
                    (self.corpus,),
                )
        except psycopg.errors.InsufficientPrivilege as exc:
            raise ReaderError(
                f"the tag database {redact_url(self.url)} cannot be set up by this user "
                f"({_first_line(exc)}); ask its owner to run reader once, or grant CREATE"
            ) from None
        except psycopg.OperationalError as exc:
            raise StoreUnavailableError(
                f"lost the tag server {redact_url(self.url)}: {_first_line(exc, self.url)}"
            ) from None

    @staticmethod
    def _version(conn: psycopg.Connection) -> int:
        """The schema version of the database (0: not set up)."""
        # pg_class read with the statement's snapshot (to_regclass may answer from a cache that
        # has not yet seen another client's set-up).
        exists = conn.execute(
            "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = 'reader' AND c.relname = 'meta'"
        ).fetchone()
        if exists is None:
            return 0
        row = conn.execute("SELECT value FROM reader.meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> PostgresTagStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _guard(self, action: str, *, retry: bool = False) -> Iterator[psycopg.Connection]:
        """The connection (reopened if it was lost), with errors turned into clear messages.

        A lost connection closes it, so the next call reconnects; nothing is retried here,
        except a read (`retry`) whose connection turned out to be dead before it started.
        """
        psycopg = _psycopg()
        with self._lock:
            if self._conn is None or self._conn.closed:
                self._conn = None
                self._conn = self._open()
            conn = self._conn
            try:
                yield conn
            except psycopg.OperationalError as exc:
                with suppress(psycopg.Error):
                    conn.close()
                self._conn = None
                raise StoreUnavailableError(
                    f"lost the tag server {redact_url(self.url)} while trying to {action}: "
                    f"{_first_line(exc, self.url)}. Nothing was saved; "
                    "reader reconnects on the next try"
                ) from None
            except psycopg.errors.InsufficientPrivilege as exc:
                raise ReadOnlyError(
                    f"the tag database refused to {action}: {_first_line(exc)}"
                ) from None
            except psycopg.Error as exc:
                raise ReaderError(
                    f"the tag database failed to {action}: {_first_line(exc)}"
                ) from None

    def _read(self, action: str, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run one read; once more on a fresh connection if the old one had died idle."""
        for attempt in (1, 2):
            try:
                with self._guard(action) as conn:
                    return conn.execute(sql, params).fetchall()
            except StoreUnavailableError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    # Reading --------------------------------------------------------------------------------
    def _query(self, where: str = "", params: Sequence[Any] = ()) -> list[Tag]:
        """Tags and their links in one query (one round trip)."""
        rows = self._read(
            "read the tags",
            f"SELECT {_TAG_COLUMNS}, ARRAY(SELECT l.target FROM reader.links l "
            "WHERE l.corpus = t.corpus AND l.source = t.id ORDER BY l.position) "
            f"FROM reader.tags t WHERE corpus = %s {where} {_ORDER}",
            (self.corpus, *params),
        )
        return [_tag(row[:-1], tuple(row[-1])) for row in rows]

    def get(self, tag_id: str) -> Tag | None:
        found = self._query("AND id = %s", (tag_id,))
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
        for column, value in (
            ("tag", tag),
            ("doc_id", doc_id),
            ("lang", lang),
            ("status", status),
            ("verdict", verdict),
        ):
            if value is not None:
                clauses.append(f"AND {column} = %s")
                params.append(value)
        if label is not None:
            clauses.append("AND %s = ANY(labels)")
            params.append(label)
        if span is not None:
            clauses.append('AND start = %s AND "end" = %s')
            params += [span[0], span[1]]
        return self._query(" ".join(clauses), params)

    def ids_with_prefix(self, prefix: str, limit: int = 6) -> list[str]:
        rows = self._read(
            "read the tags",
            "SELECT id FROM reader.tags WHERE corpus = %s AND starts_with(id, %s) "
            'ORDER BY id COLLATE "C" LIMIT %s',
            (self.corpus, prefix, limit),
        )
        return [r[0] for r in rows]

    def linked_from(self, tag_id: str) -> list[str]:
        rows = self._read(
            "read the tags",
            "SELECT source FROM reader.links WHERE corpus = %s AND target = %s "
            'ORDER BY source COLLATE "C"',
            (self.corpus, tag_id),
        )
        return [r[0] for r in rows]

    def tag_counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for doc_id, kind, count in self._read(
            "read the tags",
            "SELECT doc_id, tag, COUNT(*) FROM reader.tags WHERE corpus = %s GROUP BY doc_id, tag",
            (self.corpus,),
        ):
            counts.setdefault(doc_id, {})[kind] = count
        return counts

    def checked(self) -> list[tuple[str, str]]:
        rows = self._read(
            "read the tags",
            "SELECT DISTINCT doc_id, checked_sha256 FROM reader.tags WHERE corpus = %s "
            "ORDER BY doc_id",
            (self.corpus,),
        )
        return [(r[0], r[1]) for r in rows]

    def count(self) -> int:
        return self._read(
            "read the tags", "SELECT COUNT(*) FROM reader.tags WHERE corpus = %s", (self.corpus,)
        )[0][0]

    def events(
        self, tag_id: str | None = None, *, after_seq: int = 0, limit: int | None = None
    ) -> list[Event]:
        sql = f"SELECT {_EVENT_COLUMNS} FROM reader.events WHERE corpus = %s AND seq > %s"
        params: list[Any] = [self.corpus, after_seq]
        if tag_id:
            member = json.dumps({"tags": [{"id": tag_id}]})
            sql += (
                " AND (annotation = %s OR (annotation = '' AND "
                "(after @> %s::jsonb OR before @> %s::jsonb)))"
            )
            params += [tag_id, member, member]
        if limit is not None:
            sql = f"SELECT * FROM ({sql} ORDER BY seq DESC LIMIT %s) AS last"
            params.append(max(0, limit))
        rows = self._read("read the event log", sql + " ORDER BY seq", params)
        return [Event(*row) for row in rows]

    # Writing ----------------------------------------------------------------------------------
    def commit(self, writes: Sequence[Write], events: Sequence[NewEvent]) -> list[Tag | None]:
        """Apply every write and append every event in one transaction, then NOTIFY; the
        tags as stored. One round trip: a new tag with its event is one CALL; anything else is
        sent at once (a pipeline). The server checks versions and the duplicate rule and
        refuses the whole transaction."""
        if self.readonly:
            raise ReadOnlyError(
                f"the tag store {self.location} is open read-only: tags can be listed and "
                "exported, not changed"
            )
        psycopg = _psycopg()
        payload = self._payload(writes, events)
        held: list[tuple[Write, psycopg.Cursor | None]] = []
        with self._guard("save the change") as conn:
            threshold = conn.prepare_threshold
            try:
                if _a_new_tag(writes, events):
                    conn.execute(_ADD_TAG, self._add_params(writes[0], events[0], payload))
                else:
                    conn.prepare_threshold = None  # see _pipeline
                    held = self._pipeline(conn, writes, events, payload)
            except psycopg.OperationalError:
                raise  # the connection is gone: _guard says so
            except psycopg.Error as exc:
                self._rollback(conn)
                if getattr(exc, "sqlstate", None) == _CONFLICT:
                    tag_id = exc.diag.message_detail or ""
                    moved = next((w for w in writes if w.tag_id == tag_id), writes[0])
                    raise self._conflict(conn, moved) from None
                elif (
                    isinstance(exc, psycopg.errors.ExclusionViolation)
                    and exc.diag.constraint_name == _PASSAGE_RULE
                ):
                    raise self._duplicate(conn, writes) from None
                else:
                    raise
            finally:
                conn.prepare_threshold = threshold
        links = {write.tag_id: _held(write, cursor) for write, cursor in held}
        return [
            self._stored(write, links.get(write.tag_id, ())) if write.after else None
            for write in writes
        ]

    def _pipeline(
        self,
        conn: psycopg.Connection,
        writes: Sequence[Write],
        events: Sequence[NewEvent],
        payload: str,
    ) -> list[tuple[Write, psycopg.Cursor | None]]:
        """Send the change's transaction and the NOTIFY at once; (write, cursor of the links
        that held) for each write that keeps a tag. Raises the server's refusal, if any (the
        rest of the pipeline is then skipped).

        The caller turns preparing off: a statement whose preparation a refusal skipped would
        stay in psycopg's cache ("prepared statement _pg3_2 does not exist" later on)."""
        psycopg = _psycopg()
        refused: psycopg.Error | None = None
        held: list[tuple[Write, psycopg.Cursor | None]] = []
        committed: psycopg.Cursor | None = None
        try:
            with conn.pipeline():
                try:
                    conn.execute("BEGIN")
                    # One tag, one event (edit, remove): one statement for both.
                    single = None
                    if len(writes) == len(events) == 1 and (writes[0].before or writes[0].after):
                        single = events[0]
                    for write in writes:
                        self._apply(conn, write, single)
                    # Links after every row exists, so links within a batch hold.
                    held = [
                        (write, self._apply_links(conn, write))
                        for write in writes
                        if write.after is not None
                    ]
                    for e in events if single is None else ():
                        conn.execute(_INSERT_EVENT, self._event_row(e))
                    committed = conn.execute("COMMIT")
                    self._notify(conn, payload)
                except psycopg.Error as exc:
                    if isinstance(exc, psycopg.OperationalError):
                        raise
                    refused = exc  # answered while still sending: the rest is skipped
        except psycopg.errors.PipelineAborted:  # what is left after a refusal
            if refused is None:
                raise
        except psycopg.Error as exc:
            saved = committed is not None and committed.statusmessage == "COMMIT"
            if not saved or isinstance(exc, psycopg.OperationalError):
                raise
            self._rollback(conn)  # only the NOTIFY failed: the change is saved
        if refused is not None:
            raise refused
        return held

    def _add_params(self, write: Write, event: NewEvent, payload: str) -> tuple:
        """The arguments of reader.add_tag: the tag's row, its event, the NOTIFY."""
        after = write.after
        assert after is not None
        return (
            self.corpus,
            after.id,
            *_row_values(after),
            max(1, after.version),
            *self._event_row(event)[1:],
            CHANNEL,
            payload,
        )

    def _stored(self, write: Write, links: Sequence[str]) -> Tag | None:
        stored = stored_state(write, links)
        if stored is not None and not stored.checked_sha256:
            stored = replace(stored, checked_sha256=stored.doc_sha256)
        return stored

    def _event_row(self, e: NewEvent) -> tuple:
        from psycopg.types.json import Jsonb

        return (
            self.corpus,
            e.at,
            e.session,
            e.author,
            e.kind,
            e.annotation,
            e.description,
            Jsonb(e.before) if e.before is not None else None,
            Jsonb(e.after) if e.after is not None else None,
        )

    @staticmethod
    def _rollback(conn: psycopg.Connection) -> None:
        """End a transaction the pipeline left failed (a refused write)."""
        from psycopg.pq import TransactionStatus

        if conn.info.transaction_status in (TransactionStatus.INERROR, TransactionStatus.INTRANS):
            conn.execute("ROLLBACK")

    def _notify(self, conn: psycopg.Connection, payload: str) -> None:
        """Tell listeners, in a transaction of its own after the change's (same round trip).

        A NOTIFY holds a database-wide lock until its transaction has committed, so inside the
        write it would queue every writer behind each other's disk flush (about 200 writes a
        second on one disk, whatever the number of writers). On its own, with an asynchronous
        commit (a notification is never durable anyway), it holds the lock for microseconds.
        It is queued behind the change's COMMIT in the same pipeline, so it costs no extra
        round trip; if the change is refused, the pipeline skips it. Being the last statement
        before the pipeline's sync, it is a transaction of its own (an implicit one).
        """
        conn.execute(
            "SELECT set_config('synchronous_commit', 'off', true), pg_notify(%s, %s)",
            (CHANNEL, payload),
        )

    def _payload(self, writes: Sequence[Write], events: Sequence[NewEvent]) -> str:
        ids = [w.tag_id for w in writes]
        docs = sorted({t.doc_id for w in writes for t in (w.before, w.after) if t is not None})
        data = {
            "corpus": self.corpus,
            "session": events[0].session if events else self.session,
            "author": events[0].author if events else "",
            "ids": ids[:50],
            "docs": docs[:50],
        }
        text = json.dumps(data, ensure_ascii=False)
        if len(text.encode()) > 7000:  # NOTIFY payloads stop at 8000 bytes: say "everything"
            data.update(ids=[], docs=[])
            text = json.dumps(data, ensure_ascii=False)
        return text

    def _conflict(self, conn: psycopg.Connection, write: Write) -> ConflictError:
        short = write.tag_id[:8]
        row = conn.execute(
            "SELECT version FROM reader.tags WHERE corpus = %s AND id = %s",
            (self.corpus, write.tag_id),
        ).fetchone()
        last = conn.execute(
            "SELECT author, at FROM reader.events WHERE corpus = %s AND annotation = %s "
            "ORDER BY seq DESC LIMIT 1",
            (self.corpus, write.tag_id),
        ).fetchone()
        who = f" by {last[0]}" if last and last[0] else ""
        if write.before is None:
            return ConflictError(f"tag {short} already exists: nothing was saved", write.tag_id)
        if row is None:
            return ConflictError(
                f"tag {short} was removed{who} since it was read: nothing was saved; "
                "the list is refreshed",
                write.tag_id,
            )
        return ConflictError(
            f"tag {short} was changed{who} since it was read (version {write.before.version}, "
            f"now {row[0]}): nothing was saved; the list is refreshed, try again",
            write.tag_id,
        )

    def _apply(self, conn: psycopg.Connection, write: Write, event: NewEvent | None = None) -> None:
        """Queue one tag's row change; the server refuses it (RDR01) if the version moved."""
        after, before = write.after, write.before
        if after is None:
            if before is None:
                return
            change = (
                "DELETE FROM reader.tags WHERE corpus = %s AND id = %s AND version = %s RETURNING 1"
            )
            self._checked(conn, change, (self.corpus, write.tag_id, before.version), write, event)
            return
        values = _row_values(after)
        if before is None:
            change = (
                f"INSERT INTO reader.tags (corpus, {_TAG_COLUMNS}) VALUES "
                f"({', '.join(['%s'] * 20)}) ON CONFLICT (corpus, id) DO NOTHING RETURNING 1"
            )
            params: tuple = (self.corpus, after.id, *values, max(1, after.version))
        else:
            change = (
                "UPDATE reader.tags SET doc_id = %s, lang = %s, tag = %s, start = %s, "
                '"end" = %s, exact = %s, prefix = %s, suffix = %s, note = %s, author = %s, '
                "created = %s, updated = %s, status = %s, doc_sha256 = %s, "
                "checked_sha256 = %s, verdict = %s, labels = %s, version = version + 1 "
                "WHERE corpus = %s AND id = %s AND version = %s RETURNING 1"
            )
            params = (*values, self.corpus, after.id, before.version)
        self._checked(conn, change, params, write, event)

    def _checked(
        self,
        conn: psycopg.Connection,
        change: str,
        params: tuple,
        write: Write,
        event: NewEvent | None,
    ) -> None:
        """Queue `change` (RETURNING 1 per row) so that the server refuses the transaction
        (RDR01) unless it touched exactly one row; with `event` appended by the same statement."""
        sql = f"WITH done AS ({change})"
        if event is not None:
            sql += f", logged AS ({_INSERT_EVENT})"
            params = (*params, *self._event_row(event))
        conn.execute(
            f"{sql} SELECT reader.expect_one((SELECT count(*) FROM done), %s)",
            (*params, write.tag_id),
        )

    def _apply_links(self, conn: psycopg.Connection, write: Write) -> psycopg.Cursor | None:
        """Queue the tag's outgoing links (and links to it from `linked_from`); the cursor of
        the targets that held (None: no links)."""
        after = write.after
        assert after is not None
        targets = [t for t in dict.fromkeys(after.links) if t != after.id]
        if write.before is not None:
            conn.execute(
                "DELETE FROM reader.links WHERE corpus = %s AND source = %s",
                (self.corpus, after.id),
            )
        held = None
        if targets:
            held = conn.execute(
                "INSERT INTO reader.links (corpus, source, target, position) "
                "SELECT %s, %s, u.target, u.position - 1 "
                "FROM unnest(%s::text[]) WITH ORDINALITY AS u(target, position) "
                "WHERE EXISTS (SELECT 1 FROM reader.tags t "
                "WHERE t.corpus = %s AND t.id = u.target) RETURNING target",
                (self.corpus, after.id, targets, self.corpus),
            )
        for source in write.linked_from:
            if source == after.id:
                continue
            conn.execute(
                "INSERT INTO reader.links (corpus, source, target, position) "
                "SELECT %s, %s, %s, COALESCE((SELECT MAX(position) + 1 FROM reader.links "
                "WHERE corpus = %s AND source = %s), 0) "
                "WHERE EXISTS (SELECT 1 FROM reader.tags WHERE corpus = %s AND id = %s) "
                "ON CONFLICT DO NOTHING",
                (self.corpus, source, after.id, self.corpus, source, self.corpus, source),
            )
        return held

    def _duplicate(self, conn: psycopg.Connection, writes: Sequence[Write]) -> ReaderError:
        """The refusal of a write that put a second tag of a kind on a passage (the database's
        constraint said so): which tag is already there."""
        for write in writes:
            after = write.after
            if after is None or after.status == "orphaned":
                continue
            row = conn.execute(
                f"SELECT {_TAG_COLUMNS} FROM reader.tags WHERE corpus = %s AND doc_id = %s "
                'AND start = %s AND "end" = %s AND tag = %s AND id <> %s '
                "AND status <> 'orphaned' LIMIT 1",
                (self.corpus, after.doc_id, after.start, after.end, after.tag, after.id),
            ).fetchone()
            if row is not None:
                return duplicate_error(_tag(row, ()))
        return ConflictError(
            "someone else tagged the same passage meanwhile: nothing was saved; "
            "the list is refreshed, try again"
        )

    # Live updates ---------------------------------------------------------------------------
    def listener(self, on_change: Callable[[TagChange], None]) -> TagListener:
        """A `TagListener` for this store's corpus (start() it; own session's changes skipped)."""
        return TagListener(self.url, self.corpus, on_change, skip_session=self.session)


class TagListener:
    """LISTENs on its own connection in a thread and calls `on_change` for every change to the
    corpus made by another session. Reconnects with a back-off when the server goes away;
    `on_state(connected: bool)` is told when the connection is lost and found again."""

    def __init__(
        self,
        url: str,
        corpus: str,
        on_change: Callable[[TagChange], None],
        *,
        skip_session: str = "",
        on_state: Callable[[bool], None] | None = None,
    ) -> None:
        self.url = url
        self.corpus = corpus
        self.on_change = on_change
        self.on_state = on_state
        self.skip_session = skip_session
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()

    def start(self) -> TagListener:
        self._thread = threading.Thread(target=self.run, name="tag-listener", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        """Listen until stop() (the thread's body; also usable in a worker thread)."""
        psycopg = _psycopg()
        delay = 0.2
        was_connected = False
        while not self._stop.is_set():
            try:
                conn = connect(self.url, autocommit=True)
            except ReaderError:
                if was_connected and self.on_state:
                    self.on_state(False)
                was_connected = False
                self._stop.wait(delay)
                delay = min(delay * 2, 5.0)
                continue
            try:
                conn.execute(f"LISTEN {CHANNEL}")
                self.connected.set()
                if not was_connected and self.on_state:
                    self.on_state(True)
                was_connected, delay = True, 0.2
                while not self._stop.is_set():
                    for note in conn.notifies(timeout=0.25):
                        self._deliver(note.payload)
            except psycopg.Error:
                self.connected.clear()
                if self.on_state:
                    self.on_state(False)
                was_connected = False
                self._stop.wait(delay)
            finally:
                with suppress(psycopg.Error):
                    conn.close()
        self.connected.clear()

    def _deliver(self, payload: str) -> None:
        try:
            data = json.loads(payload)
        except ValueError:
            return
        if not isinstance(data, dict) or data.get("corpus") != self.corpus:
            return
        if self.skip_session and data.get("session") == self.skip_session:
            return
        self.on_change(
            TagChange(
                corpus=self.corpus,
                session=str(data.get("session", "")),
                author=str(data.get("author", "")),
                tag_ids=tuple(data.get("ids") or ()),
                doc_ids=tuple(data.get("docs") or ()),
            )
        )


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll `condition` until true or `timeout` seconds pass (tests and the bench)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def corpus_key(ws: Any) -> str:
    """The corpus's key in a shared database: the `corpus_key` setting, else the folder name."""
    return ws.settings.corpus_key or ws.corpus_root.name


def open_store(url: str, ws: Any, *, readonly: bool = False) -> PostgresTagStore:
    """The shared store of `ws`'s corpus at `url` (the factory in reader.core.tags uses it)."""
    return PostgresTagStore(url, corpus_key(ws), readonly=readonly)


__all__ = [
    "CHANNEL",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "PostgresTagStore",
    "StoreUnavailableError",
    "TagChange",
    "TagListener",
    "connect",
    "corpus_key",
    "open_store",
]
