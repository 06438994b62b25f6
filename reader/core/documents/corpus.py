"""A corpus folder with a catalog cache, so listing 20,000 documents needs no file reads."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from reader.core.documents.corrections import Corrections, apply
from reader.core.documents.ingest import (
    Candidate,
    SkipFile,
    document_id,
    document_path,
    read_document,
    walk,
)
from reader.core.documents.model import Document, DocumentInfo, Skipped
from reader.core.errors import ReaderError

if TYPE_CHECKING:
    from reader.core.workspace import Workspace

# Bump when ingestion would read a file differently: every cached entry is then re-read.
INGEST_VERSION = 3  # 2: url, site, lang_confidence; 3: wire copy unwrapped, quotations split
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, path TEXT NOT NULL, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL,
    sha256 TEXT NOT NULL, title TEXT NOT NULL, lang TEXT NOT NULL, date TEXT, author TEXT,
    paragraphs INTEGER NOT NULL, sentences INTEGER NOT NULL,
    url TEXT, site TEXT, lang_confidence REAL
);
"""
_COLUMNS = (
    "id, path, sha256, title, lang, date, author, paragraphs, sentences, url, site, lang_confidence"
)
_LOADED_KEEP = 8  # documents kept in memory
_COMMIT_EVERY = 1.0  # seconds between catalog commits during a scan


@dataclass
class ScanResult:
    """The corpus after a scan: its documents, skipped files, and what changed."""

    sha256s: dict[str, str]  # id -> sha256 of every document
    skipped: list[Skipped]
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    load: Callable[[], list[DocumentInfo]] = field(default=list, repr=False)

    @cached_property
    def documents(self) -> list[DocumentInfo]:
        """The documents by id, read from the catalog on first use (a rescan that only
        looks for changes need not build 20,000 objects)."""
        return self.load()


def _info(row: tuple) -> DocumentInfo:
    doc_id, path, sha, title, lang, date, author, paragraphs, sentences, *extra = row
    return DocumentInfo(doc_id, path, title, lang, date, author, sha, paragraphs, sentences, *extra)


class Corpus:
    """The documents of a workspace's corpus folder, cached in `catalog.sqlite`."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.root = workspace.corpus_root
        self._loaded: OrderedDict[tuple[str, str], Document] = OrderedDict()
        self._lock = threading.Lock()
        self._local = threading.local()
        self.last_scan: ScanResult | None = None
        self.corrections = Corrections.of(workspace)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.workspace.catalog_path, timeout=10)
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(_SCHEMA)
        version = db.execute("SELECT value FROM meta WHERE key='ingest_version'").fetchone()
        if version is None or int(version[0]) != INGEST_VERSION:
            with db:  # the columns may have changed too: a new table
                db.execute("DROP TABLE documents")
                db.executescript(_SCHEMA)
                db.execute("DELETE FROM meta WHERE key='scanned'")
                db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('ingest_version', ?)",
                    (str(INGEST_VERSION),),
                )
        return db

    @contextmanager
    def _db(self):
        """This thread's connection to the catalog (opened and set up once per thread)."""
        try:
            db = getattr(self._local, "db", None) or self._connect()
        except sqlite3.Error as exc:
            path = self.workspace.catalog_path
            raise ReaderError(f"cannot open the catalog {path}: {exc}") from exc
        self._local.db = db
        try:
            yield db
        except sqlite3.Error as exc:
            db.rollback()
            raise ReaderError(f"the catalog {self.workspace.catalog_path} failed: {exc}") from exc
        except BaseException:
            db.rollback()
            raise

    # Reading the catalog ------------------------------------------------------------------
    def infos(self) -> list[DocumentInfo]:
        """The documents of the last scan, by id, without reading any file (scans if never)."""
        with self._db() as db:
            scanned = db.execute("SELECT 1 FROM meta WHERE key='scanned'").fetchone()
        if scanned is None:
            return self.scan().documents
        return self._catalog_infos()

    def _catalog_infos(self) -> list[DocumentInfo]:
        with self._db() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM documents ORDER BY id").fetchall()
        return [_info(row) for row in rows]

    def info(self, doc_id: str) -> DocumentInfo | None:
        """One document's catalog entry, or None."""
        with self._db() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM documents WHERE id=?", (doc_id,)).fetchone()
        return _info(row) if row else None

    # Scanning -----------------------------------------------------------------------------
    def scan(
        self,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
        on_document: Callable[[Document], None] | None = None,
    ) -> ScanResult:
        """Walk the folder; read only new or changed files (by mtime and size); drop deleted ones.

        `progress(done, total)` is called per file; when `cancelled()` turns true the scan stops
        and the catalog keeps what was done. Bad files are reported in `skipped`, never raised.
        `on_document(doc)` is called with each document read (new or changed by mtime/size),
        so a caller such as the index can use it without reading the file again.
        """
        follow = self._follow_outside
        entries = list(walk(self.root, self.workspace.data_dir, follow_symlinks_outside=follow))
        skipped = [e for e in entries if isinstance(e, Skipped)]
        files = [e for e in entries if isinstance(e, Candidate)]
        with self._db() as db:
            rows = db.execute("SELECT id, mtime_ns, size, sha256 FROM documents").fetchall()
            known = {row[0]: row[1:] for row in rows}
            shas = {row[0]: row[3] for row in rows}
            stored = False
            seen: set[str] = set()
            changed: list[str] = []
            last_commit = time.monotonic()
            for done, file in enumerate(files, 1):
                if cancelled and cancelled():
                    break
                stat = file.stat
                old = known.get(file.id)
                if old and old[0] == stat.st_mtime_ns and old[1] == stat.st_size:
                    seen.add(file.id)
                else:
                    try:
                        doc = self._read(Path(file.path), file.id)
                    except SkipFile as exc:
                        skipped.append(Skipped(Path(file.path), str(exc)))
                    else:
                        seen.add(file.id)
                        self._store(db, doc, stat.st_mtime_ns, stat.st_size)
                        shas[doc.id] = doc.sha256
                        stored = True
                        if not old or old[2] != doc.sha256:
                            changed.append(file.id)
                        if on_document:
                            on_document(doc)
                        if time.monotonic() - last_commit > _COMMIT_EVERY:
                            db.commit()  # never hold the catalog's write lock for long
                            last_commit = time.monotonic()
                if progress:
                    progress(done, len(files))
            removed = []
            if not (cancelled and cancelled()):
                removed = sorted(set(known) - seen)
                db.executemany("DELETE FROM documents WHERE id=?", [(i,) for i in removed])
                db.execute("INSERT OR REPLACE INTO meta VALUES ('scanned', '1')")
            for doc_id in removed:
                del shas[doc_id]
            db.commit()
            if stored or removed:
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")  # keep the main file complete
        skipped.sort(key=lambda s: str(s.path))
        self.last_scan = ScanResult(shas, skipped, changed, removed, self._catalog_infos)
        return self.last_scan

    @staticmethod
    def _store(db: sqlite3.Connection, doc: Document, mtime_ns: int, size: int) -> None:
        info = doc.info
        db.execute(
            f"INSERT OR REPLACE INTO documents ({_COLUMNS}, mtime_ns, size) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                info.id,
                str(info.path),
                info.sha256,
                info.title,
                info.lang,
                info.date,
                info.author,
                info.paragraphs,
                info.sentences,
                info.url,
                info.site,
                info.lang_confidence,
                mtime_ns,
                size,
            ),
        )

    # Loading ------------------------------------------------------------------------------
    def load(self, doc_id: str) -> Document:
        """Read one document; the catalog is refreshed if the file changed since the scan."""
        try:
            path = document_path(self.root, doc_id)  # absolute or escaping ids are refused
        except ValueError as exc:
            raise ReaderError(str(exc)) from exc
        try:
            stat = path.stat()
        except OSError as exc:
            raise ReaderError(f"no document {doc_id!r} in {self.root}") from exc
        fixes = self.corrections.get(doc_id)
        key = (doc_id, f"{stat.st_mtime_ns}:{stat.st_size}", tuple(sorted(fixes.items())))
        with self._lock:
            if key in self._loaded:
                self._loaded.move_to_end(key)
                return self._loaded[key]
        try:
            doc = self._read(path, doc_id)
        except SkipFile as exc:
            raise ReaderError(f"cannot read {doc_id}: {exc}") from exc
        info = self.info(doc_id)
        if info != doc.info:  # changed text, or a correction made since the scan
            with self._db() as db:
                self._store(db, doc, stat.st_mtime_ns, stat.st_size)
                db.commit()
        with self._lock:
            self._loaded[key] = doc
            while len(self._loaded) > _LOADED_KEEP:
                self._loaded.popitem(last=False)
        return doc

    def correct(self, doc_id: str, set_: dict[str, str], unset: tuple[str, ...] = ()) -> Document:
        """Save corrections of one document and return it corrected (catalog updated)."""
        if self.info(doc_id) is None:
            raise ReaderError(f"no document {doc_id!r} in {self.root}; see `reader docs`")
        self.corrections.update(doc_id, set_, unset)
        return self.load(doc_id)

    @property
    def _follow_outside(self) -> bool:
        return bool(self.workspace.setting("follow_symlinks_outside"))

    def _read(self, path: Path, doc_id: str) -> Document:
        """Read and clean one file, with the user's corrections laid over it."""
        doc = read_document(
            path,
            self.root,
            self.workspace.max_file_bytes,
            follow_symlinks_outside=self._follow_outside,
        )
        return apply(doc, self.corrections.get(doc_id))

    def resolve_id(self, name: str) -> str:
        """A document id from an id, a path, or a unique id prefix (`001` for `001_....txt`)."""
        candidate = Path(name)
        if candidate.is_absolute() or candidate.exists():
            try:
                return document_id(candidate.resolve(), self.root)
            except ValueError:
                raise ReaderError(f"{name} is not inside the corpus {self.root}") from None
        ids = [info.id for info in self.infos()]
        if name in ids:
            return name
        matches = [i for i in ids if i.startswith(name)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise ReaderError(f"{name!r} matches several documents: {', '.join(matches[:5])}")
        raise ReaderError(f"no document {name!r} in {self.root}; see `reader docs`")
