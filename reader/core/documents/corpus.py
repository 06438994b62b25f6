"""A corpus folder with a catalog cache, so listing 20,000 documents needs no file reads."""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import os
import sqlite3
import stat as stat_module
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from reader.core.documents.model import Document, DocumentInfo, Skipped
from reader.core.errors import NoSpace, ReaderError
from reader.core.repair import is_damaged, is_full, is_read_only, remove_database
from reader.core.settings import DEFAULT_RESCAN_SECONDS
from reader.core.workspace import DATA_DIR_NAME

if TYPE_CHECKING:
    from reader.core.documents.corrections import Corrections
    from reader.core.documents.ingest import Candidate
    from reader.core.workspace import Workspace

log = logging.getLogger(__name__)


def _ingest():
    """`reader.core.documents.ingest`, imported when files are read or walked: a search that
    finds the corpus unchanged (folder mtimes) must not pay for the readers' imports."""
    from reader.core.documents import ingest

    return ingest


# Bump when ingestion would read a file differently: every cached entry is then re-read.
INGEST_VERSION = 9  # 2: url, site, lang_confidence; 3: wire copy unwrapped, quotations split;
# 4: UTF-16 CJK without BOM, invisible characters out of the language sample; 5: legacy code
# pages ranked, lying charsets overruled, JSON-LD citation, no footer-year dates; 6: stray
# windows-1252 bytes in UTF-8, wire slugs and bylines; 7: head tags after 64 KB, page titles
# without their outlet; 8: format by content (a page saved as .txt is HTML); 9: no table
# header rules
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, path TEXT NOT NULL, mtime_ns INTEGER NOT NULL, size INTEGER NOT NULL,
    sha256 TEXT NOT NULL, title TEXT NOT NULL, lang TEXT NOT NULL, date TEXT, author TEXT,
    paragraphs INTEGER NOT NULL, sentences INTEGER NOT NULL,
    url TEXT, site TEXT, lang_confidence REAL
);
CREATE TABLE IF NOT EXISTS folders (path TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL);
"""
_COLUMNS = (
    "id, path, sha256, title, lang, date, author, paragraphs, sentences, url, site, lang_confidence"
)
_LOADED_KEEP = 8  # documents kept in memory
_BATCH = 256  # files a full scan compares with the catalog at a time (one query)
_KNOWN = "SELECT id, mtime_ns, size, sha256 FROM documents"
_SEEN = "temp.scan_seen"  # the ids a full scan found (a temporary table: not kept in memory)
_UNSEEN = "SELECT id FROM documents WHERE id NOT IN (SELECT id FROM temp.scan_seen) ORDER BY id"
_COMMIT_EVERY = 1.0  # seconds between catalog commits during a scan
# How long after a full scan (stat of every file) a refresh trusts the folders' mtimes
# alone (files added, removed or renamed), unless the `rescan_seconds` setting says
# otherwise. An edit in place changes no folder's mtime: within the window only `reader
# index`, the app's folder watcher (`refresh_paths`) or opening the document notices it.
RESCAN_SECONDS = DEFAULT_RESCAN_SECONDS


class Ids(Sequence[str]):
    """Document ids held compactly: UTF-8, NUL-separated, a block of IDS_BLOCK at a time
    (about an id's length in bytes each, against ~80 more for a str in a list), so the
    ids a scan of 80,000 new files reports cost 1.5 MB, not 6. Appends in order; reads
    decode a block at a time. Equal to any sequence of the same ids in the same order."""

    __slots__ = ("_blocks", "_count", "_tail")

    def __init__(self, ids: Iterable[str] = ()) -> None:
        self._blocks: list[bytes] = []
        self._tail: list[str] = []
        self._count = 0
        for doc_id in ids:
            self.append(doc_id)

    def append(self, doc_id: str) -> None:
        self._tail.append(doc_id)
        self._count += 1
        if len(self._tail) >= IDS_BLOCK:
            self._blocks.append("\0".join(self._tail).encode("utf-8", "surrogatepass"))
            self._tail = []

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[str]:
        for block in self._blocks:
            yield from block.decode("utf-8", "surrogatepass").split("\0")
        yield from list(self._tail)

    def __getitem__(self, index):  # type: ignore[override]
        return list(self)[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Ids | list | tuple):
            return len(self) == len(other) and all(map(str.__eq__, self, other))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Ids({list(self)!r})"


IDS_BLOCK = 1024


@dataclass
class ScanResult:
    """The corpus after a scan: its documents, skipped files, and what changed."""

    skipped: list[Skipped]
    changed: Sequence[str] = field(default_factory=Ids)  # `Ids`: compact
    removed: list[str] = field(default_factory=list)
    load: Callable[[], list[DocumentInfo]] = field(default=list, repr=False)
    # Which scan: "full" (every file's stat), "folders" (only changed folders listed) or
    # "paths" (only given paths); `generation` is the catalog's after it (see Corpus).
    kind: str = "full"
    generation: str = ""  # the catalog's version after the scan (Corpus.version)
    load_sha256s: Callable[[], dict[str, str]] = field(default=dict, repr=False)
    added: Sequence[str] = field(default_factory=Ids)  # the new ones among `changed`
    stream_sha256s: Callable[[], Iterable[tuple[str, str]]] = field(default=tuple, repr=False)

    @cached_property
    def sha256s(self) -> dict[str, str]:
        """id -> sha256 of every document, read from the catalog on first use."""
        return self.load_sha256s()

    def iter_sha256s(self) -> Iterator[tuple[str, str]]:
        """(id, sha256) of every document, streamed from the catalog: no map of them all
        (the index compares them with its own map, which it holds already)."""
        return iter(self.stream_sha256s())

    @cached_property
    def documents(self) -> list[DocumentInfo]:
        """The documents by id, read from the catalog on first use (a rescan that only
        looks for changes need not build 20,000 objects)."""
        return self.load()


class _Repaired(ReaderError):
    """The catalog was found damaged and deleted during an operation (tried once more)."""


def _repairing(method):
    """Run a Corpus method once more after the catalog was found damaged and deleted."""

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except _Repaired:
            return method(self, *args, **kwargs)

    return run


def _writable(path: Path) -> bool:
    """Whether the catalog can be written (its folder, and the file when it exists)."""
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return False
    return not path.exists() or os.access(path, os.W_OK)


def _generation(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
    return int(row[0]) if row else 0


def _version(db: sqlite3.Connection) -> str:
    row = db.execute("SELECT value FROM meta WHERE key='catalog_id'").fetchone()
    return f"{row[0] if row else ''}:{_generation(db)}"


def _bump(db: sqlite3.Connection) -> None:
    db.execute("INSERT OR REPLACE INTO meta VALUES ('generation', ?)", (str(_generation(db) + 1),))


def _seconds(value: object, default: float) -> float:
    try:
        return float(value) if value is not None else default  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


def _rows(ids: Iterable[str]) -> Iterator[tuple[str]]:
    return ((i,) for i in ids)


def _parent(doc_id: str) -> str:
    return doc_id.rpartition("/")[0]


def _under(folder: str) -> tuple[str, str]:
    """The bounds of the ids (paths) under `folder`: `folder/` <= id < `folder0` ("0" comes
    right after "/"), a range the primary key answers, case-sensitive unlike LIKE."""
    return folder + "/", folder + "0"


def _skip_dir(entry: os.DirEntry, skip: str | None) -> bool:
    return entry.name.startswith(".") or entry.name == DATA_DIR_NAME or entry.path == skip


def _folder_mtimes(root: Path, data_dir: Path | None) -> dict[str, int]:
    """relative path ("" for the root) -> mtime_ns of every folder `walk` goes into."""
    skip = str(data_dir.resolve()) if data_dir else None
    out: dict[str, int] = {}
    stack = [(str(root), "")]
    while stack:
        folder, rel = stack.pop()
        try:
            out[rel] = os.stat(folder).st_mtime_ns
            with os.scandir(folder) as it:
                for entry in it:
                    if entry.is_dir(follow_symlinks=False) and not _skip_dir(entry, skip):
                        stack.append((entry.path, f"{rel}/{entry.name}" if rel else entry.name))
        except OSError:
            continue
    return out


def _walk_folder(
    root: Path, rel: str, data_dir: Path | None, follow: bool
) -> tuple[list[Candidate], list[Skipped], dict[str, int]]:
    """`walk` of the folder `rel` and what is under it, ids relative to `root`, with the
    mtimes of its folders."""
    folder = Path(root, rel) if rel else Path(root)
    prefix = f"{rel}/" if rel else ""
    files: list[Candidate] = []
    skipped: list[Skipped] = []
    ingest = _ingest()
    for found in ingest.walk(folder, data_dir, follow_symlinks_outside=follow):
        if isinstance(found, Skipped):
            skipped.append(found)
        else:
            files.append(ingest.Candidate(prefix + found.id, found.path, found.stat))
    folders = {f"{prefix}{k}" if k else rel: v for k, v in _folder_mtimes(folder, data_dir).items()}
    return files, skipped, folders


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
        self._memory: sqlite3.Connection | None = None  # the catalog of a read-only folder
        self.notice: str | None = None  # set when the catalog had to be rebuilt

    @cached_property
    def corrections(self) -> Corrections:
        """The user's metadata corrections (read on first use)."""
        from reader.core.documents.corrections import Corrections

        return Corrections.of(self.workspace)

    @property
    def read_only(self) -> bool:
        """Whether the catalog lives in memory because the data folder is read-only."""
        return self._memory is not None

    def _connect(self) -> sqlite3.Connection:
        path = self.workspace.catalog_path
        if self._memory is None and not _writable(path):
            self._memory = self._memory_copy(path)
        if self._memory is not None:
            return self._memory
        try:
            db = sqlite3.connect(path, timeout=10, check_same_thread=False)
        except sqlite3.OperationalError as exc:
            if not is_read_only(exc):
                raise
            self._memory = self._memory_copy(path)
            return self._memory
        try:
            db.execute("PRAGMA journal_mode=WAL")
            self._setup(db)
        except sqlite3.Error as exc:
            db.close()
            if not is_read_only(exc):
                raise
            self._memory = self._memory_copy(path)  # a read-only file or folder
            return self._memory
        return db

    @staticmethod
    def _memory_copy(path: Path) -> sqlite3.Connection:
        """The catalog of a read-only data folder, copied into memory (changes are not
        saved); empty when the file cannot be read."""
        db = sqlite3.connect(":memory:", check_same_thread=False)
        if path.is_file():
            try:
                source = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
                try:
                    source.backup(db)
                finally:
                    source.close()
            except sqlite3.Error as exc:  # damaged or unreadable: start empty, in memory
                log.warning("cannot read the catalog %s (%s); reading the files instead", path, exc)
                db.close()
                db = sqlite3.connect(":memory:", check_same_thread=False)
        Corpus._setup(db)
        return db

    @staticmethod
    def _setup(db: sqlite3.Connection) -> None:
        db.executescript(_SCHEMA)
        if db.execute("SELECT 1 FROM meta WHERE key='catalog_id'").fetchone() is None:
            with db:
                db.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('catalog_id', ?)", (os.urandom(8).hex(),)
                )
        version = db.execute("SELECT value FROM meta WHERE key='ingest_version'").fetchone()
        if version is None or int(version[0]) != INGEST_VERSION:
            with db:  # the columns may have changed too: a new table
                db.execute("DROP TABLE documents")
                db.executescript(_SCHEMA)
                db.execute("DELETE FROM folders")
                db.execute("DELETE FROM meta WHERE key IN ('scanned', 'scanned_at')")
                _bump(db)
                db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('ingest_version', ?)",
                    (str(INGEST_VERSION),),
                )

    @contextmanager
    def _db(self):
        """This thread's connection to the catalog (opened and set up once per thread).

        A damaged catalog (not a database, malformed) is deleted and started afresh, once,
        with a notice: it is a cache of the corpus folder. A full disk gives NO_SPACE.
        """
        db = self._open()
        try:
            yield db
        except sqlite3.Error as exc:
            self._rollback(db)
            if is_damaged(exc):
                self._repair(exc)
                raise _Repaired(str(exc)) from exc  # the public method tries once more
            raise self._error(exc) from exc
        except BaseException:
            self._rollback(db)
            raise

    def _open(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is not None:
            return db
        try:
            db = self._connect()
        except sqlite3.Error as exc:
            if not is_damaged(exc):
                raise self._error(exc) from exc
            self._repair(exc)
            try:
                db = self._connect()
            except sqlite3.Error as again:
                raise self._error(again) from again
        self._local.db = db
        return db

    def _error(self, exc: sqlite3.Error) -> ReaderError:
        if is_full(exc):
            return NoSpace()
        if not self.workspace.data_dir.is_dir():
            return ReaderError(f"the data folder {self.workspace.data_dir} was removed")
        return ReaderError(f"the catalog {self.workspace.catalog_path} failed: {exc}")

    @staticmethod
    def _rollback(db: sqlite3.Connection) -> None:
        with contextlib.suppress(sqlite3.Error):  # an unusable connection is dropped later
            db.rollback()

    def _repair(self, exc: sqlite3.Error) -> None:
        """Delete a damaged catalog so the next connection starts a new one (with a notice);
        the next scan reads the files again."""
        db = getattr(self._local, "db", None)
        self._local.db = None
        if db is not None and db is not self._memory:
            db.close()
        path = self.workspace.catalog_path
        if self._memory is not None:
            self._memory.close()
            self._memory = None
        else:
            try:
                remove_database(path)
            except OSError:  # a read-only folder: work on an empty catalog in memory
                self._memory = sqlite3.connect(":memory:", check_same_thread=False)
                self._setup(self._memory)
        self.notice = f"the catalog {path} was damaged ({exc}); rebuilt it from the files"
        log.warning("%s", self.notice)

    # Reading the catalog ------------------------------------------------------------------
    @_repairing
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

    @_repairing
    def info(self, doc_id: str) -> DocumentInfo | None:
        """One document's catalog entry, or None."""
        with self._db() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM documents WHERE id=?", (doc_id,)).fetchone()
        return _info(row) if row else None

    @_repairing
    def version(self) -> str:
        """Which state of the catalog this is: its own random id (a rebuilt catalog has a new
        one) and a number that grows whenever its documents change. The index notes the one
        it is in step with, so an update that finds nothing new reads no index at all."""
        with self._db() as db:
            return _version(db)

    def count(self) -> int:
        """How many documents the catalog holds."""
        with self._db() as db:
            return int(db.execute("SELECT count(*) FROM documents").fetchone()[0])

    def count_files(self) -> int:
        """About how many files a scan will look at, for a progress total or to size a job:
        the names with a document extension under the corpus folder (not hidden, not in the
        data folder, symlinked folders not followed), counted without a stat or a read
        (0.04 s for 80,000 files, against 0.4 s for the scan's walk)."""
        formats = _ingest().FORMATS
        skip = str(self.workspace.data_dir.resolve())
        count, stack = 0, [str(self.root)]
        while stack:
            try:
                with os.scandir(stack.pop()) as it:
                    for entry in it:
                        if entry.name.startswith("."):
                            continue
                        if entry.is_dir(follow_symlinks=False):
                            if not _skip_dir(entry, skip):
                                stack.append(entry.path)
                        elif os.path.splitext(entry.name)[1].lower() in formats:
                            count += 1
            except OSError:
                continue
        return count

    def sha256s(self) -> dict[str, str]:
        """id -> sha256 of every document in the catalog."""
        with self._db() as db:
            return dict(db.execute("SELECT id, sha256 FROM documents"))

    def iter_sha256s(self) -> Iterator[tuple[str, str]]:
        """(id, sha256) of every document in the catalog, row by row (a cursor, not a map)."""
        with self._db() as db:
            yield from db.execute("SELECT id, sha256 FROM documents")

    # Scanning -----------------------------------------------------------------------------
    @_repairing
    def scan(
        self,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
        on_document: Callable[[Document], None] | None = None,
    ) -> ScanResult:
        """Walk the folder; read only new or changed files (by mtime and size); drop deleted ones.

        `progress(done, total)` is called per file; when `cancelled()` turns true the scan stops
        and the catalog keeps what was done. Bad files are reported in `skipped`, never raised.
        `on_document(doc)` is called with each document read whose text is new or changed
        (by sha256), so a caller such as the index can use it without reading the file again.
        Records every folder's mtime, for `refresh`.
        """
        follow = self._follow_outside
        ingest = _ingest()
        skipped: list[Skipped] = []
        # the folders' mtimes before their files are listed: a file added meanwhile changes
        # one after it, so `refresh` notices it
        folders = _folder_mtimes(self.root, self.workspace.data_dir)
        total = self.count_files() if progress else None

        def files() -> Iterator[Candidate]:
            """The walk, streamed: memory does not grow with the number of files."""
            data_dir = self.workspace.data_dir
            for e in ingest.walk(self.root, data_dir, follow_symlinks_outside=follow):
                if isinstance(e, ingest.Candidate):
                    yield e
                elif isinstance(e, Skipped):
                    skipped.append(e)

        result = self._apply(
            files(), skipped, None, progress, cancelled, on_document, "full", total
        )
        if not (cancelled and cancelled()):
            with self._db() as db:
                db.execute("DELETE FROM folders")
                db.executemany("INSERT INTO folders VALUES (?, ?)", folders.items())
                db.execute("INSERT OR REPLACE INTO meta VALUES ('scanned', '1')")
                db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('scanned_at', ?)", (str(time.time()),)
                )
                db.commit()
        return result

    @_repairing
    def refresh(
        self,
        max_age: float | None = None,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
        on_document: Callable[[Document], None] | None = None,
    ) -> ScanResult:
        """Bring the catalog up to date without statting every file when it can.

        Within `max_age` seconds (default: the `rescan_seconds` setting, else RESCAN_SECONDS)
        of the last full scan, only the folders are statted: the files of a folder whose
        mtime changed (a file added, removed or renamed) are statted and read as `scan` does,
        new folders are walked, removed ones dropped. Later, or when no scan was recorded,
        it is a full `scan`.
        """
        if max_age is None:
            max_age = _seconds(self.workspace.setting("rescan_seconds"), RESCAN_SECONDS)
        with self._db() as db:
            row = db.execute("SELECT value FROM meta WHERE key='scanned_at'").fetchone()
            known = dict(db.execute("SELECT path, mtime_ns FROM folders"))
        age = time.time() - float(row[0]) if row else None
        if age is None or not known or age < 0 or age > max_age:
            return self.scan(progress, cancelled, on_document)
        changed = []
        for rel, mtime in known.items():
            try:
                now = os.stat(os.path.join(self.root, rel) if rel else self.root).st_mtime_ns
            except OSError:
                continue  # removed: its parent folder's mtime changed too
            if now != mtime:
                changed.append(rel)
        # the folders to walk again: the changed ones not inside another changed one
        tops = [
            rel
            for rel in sorted(changed)
            if not any(not o or rel.startswith(o + "/") for o in changed if o != rel)
        ]
        files: list[Candidate] = []
        skipped: list[Skipped] = []
        folders: dict[str, int] = {}
        for rel in tops:
            found = _walk_folder(self.root, rel, self.workspace.data_dir, self._follow_outside)
            files += found[0]
            skipped += found[1]
            folders.update(found[2])

        scope = (set[str](), tops)
        result = self._apply(files, skipped, scope, progress, cancelled, on_document, "folders")
        if tops and not (cancelled and cancelled()):
            with self._db() as db:
                for rel in tops:
                    if rel:
                        db.execute("DELETE FROM folders WHERE path=?", (rel,))
                        db.execute("DELETE FROM folders WHERE path >= ? AND path < ?", _under(rel))
                    else:
                        db.execute("DELETE FROM folders")
                db.executemany("INSERT OR REPLACE INTO folders VALUES (?, ?)", folders.items())
                db.commit()
        return result

    @_repairing
    def refresh_paths(
        self,
        paths: Iterable[str | Path],
        on_document: Callable[[Document], None] | None = None,
    ) -> ScanResult:
        """Update the catalog for these files or folders only (a watcher's changes): each
        existing file is read if its mtime or size changed, each missing one is dropped, and
        a folder is walked. Paths outside the corpus or in the data folder are ignored."""
        root = str(self.root)
        data = str(self.workspace.data_dir)
        files: list[Candidate] = []
        skipped: list[Skipped] = []
        ids: set[str] = set()
        prefixes: list[str] = []  # folders
        for given in paths:
            path = os.path.abspath(os.fspath(given))
            if not path.startswith(root + os.sep) or path == data or path.startswith(data + os.sep):
                continue
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            if any(part.startswith(".") for part in rel.split("/")):
                continue
            if os.path.isdir(path):
                prefixes.append(rel)
                found = _walk_folder(self.root, rel, self.workspace.data_dir, self._follow_outside)
                files += found[0]
                skipped += found[1]
                continue
            ids.add(rel)
            if os.path.splitext(path)[1].lower() not in _ingest().FORMATS:
                continue
            try:
                info = os.lstat(path)
                if stat_module.S_ISLNK(info.st_mode):  # as `walk` does: inside, or allowed
                    real = os.path.realpath(path)
                    inside = real.startswith(os.path.realpath(root) + os.sep)
                    if not (inside or self._follow_outside):
                        skipped.append(Skipped(Path(path), "symlink outside the corpus"))
                        continue
                    info = os.stat(path)
            except FileNotFoundError:
                continue  # removed (or a broken symlink): dropped below
            except OSError as exc:
                skipped.append(Skipped(Path(path), f"unreadable: {exc.strerror or exc}"))
                continue
            kind = _ingest().file_kind(info.st_mode)
            if kind:  # never open a pipe or a device
                skipped.append(Skipped(Path(path), f"not a regular file: {kind}"))
                continue
            files.append(_ingest().Candidate(rel, path, info))

        files = list({f.id: f for f in files}.values())  # a file given and in a folder given
        return self._apply(files, skipped, (ids, prefixes), None, None, on_document, "paths")

    def _apply(
        self,
        files: Iterable[Candidate],
        skipped: list[Skipped],
        scope: tuple[set[str], list[str]] | None,
        progress: Callable[[int, int], None] | None,
        cancelled: Callable[[], bool] | None,
        on_document: Callable[[Document], None] | None,
        kind: str,
        total: int | None = None,
    ) -> ScanResult:
        """Compare `files` with the catalog: read the new and changed ones, drop the known
        documents in `scope` that are not among them. `scope`: (ids, folders) of the
        documents looked at (every document under a folder; "" is the root), None for all.
        `files` may be a stream (`total`: about how many, for `progress`).

        Memory: for the whole catalog (`scope` None or the root folder), what the catalog
        knows of the files is looked up a batch of files at a time and the files seen are
        noted in a temporary table, so nothing held grows with the number of files but the
        lists of changed and removed ids; a smaller scope's documents are loaded at once."""
        whole = scope is None or "" in scope[1]
        if total is None:
            total = len(files) if isinstance(files, list) else 0
        with self._db() as db:
            known = self._known(db, files, scope) if not whole else {}
            # a catalog that has documents, compared with the whole folder: batch lookups
            batched = whole and db.execute("SELECT 1 FROM documents LIMIT 1").fetchone()
            if batched:
                db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_SEEN} (id TEXT PRIMARY KEY)")
                db.execute(f"DELETE FROM {_SEEN}")
            stored = False
            seen: set[str] = set()  # (a smaller scope's)
            changed, added = Ids(), Ids()
            last_commit = time.monotonic()
            done = 0
            stream = iter(files)
            while batch := list(itertools.islice(stream, _BATCH)):
                if whole:  # the ids seen go to the temporary table batch by batch (if any)
                    known = self._known_batch(db, batch) if batched else {}
                    seen = set()
                for file in batch:
                    if cancelled and cancelled():
                        break
                    done += 1
                    stat = file.stat
                    old = known.get(file.id)
                    if old and old[0] == stat.st_mtime_ns and old[1] == stat.st_size:
                        seen.add(file.id)
                    else:
                        try:
                            doc = self._read(Path(file.path), file.id)
                        except _ingest().SkipFile as exc:
                            skipped.append(Skipped(Path(file.path), str(exc)))
                        else:
                            seen.add(file.id)
                            self._store(db, doc, stat.st_mtime_ns, stat.st_size)
                            stored = True
                            if not old or old[2] != doc.sha256:
                                changed.append(file.id)
                                if not old:
                                    added.append(file.id)
                                if on_document:
                                    on_document(doc)
                            if time.monotonic() - last_commit > _COMMIT_EVERY:
                                _bump(db)
                                db.commit()  # never hold the catalog's write lock for long
                                last_commit = time.monotonic()
                    if progress:
                        progress(done, max(total, done))
                if batched:
                    db.executemany(f"INSERT OR IGNORE INTO {_SEEN} VALUES (?)", _rows(seen))
                if cancelled and cancelled():
                    break
            removed: list[str] = []
            if not (cancelled and cancelled()):
                if batched:
                    removed = [r[0] for r in db.execute(_UNSEEN)]
                elif not whole:
                    removed = sorted(set(known) - seen)
                db.executemany("DELETE FROM documents WHERE id=?", _rows(removed))
            if batched:
                db.execute(f"DELETE FROM {_SEEN}")
            if stored or removed:
                _bump(db)
            db.commit()
            if (stored or removed) and not self.read_only:
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")  # keep the main file complete
            version = _version(db)
        skipped.sort(key=lambda s: str(s.path))
        self.last_scan = ScanResult(
            skipped,
            changed,
            removed,
            self._catalog_infos,
            kind=kind,
            generation=version,
            load_sha256s=self.sha256s,
            stream_sha256s=self.iter_sha256s,
            added=added,
        )
        return self.last_scan

    @staticmethod
    def _known(
        db: sqlite3.Connection, files: Iterable[Candidate], scope: tuple[set[str], list[str]]
    ) -> dict[str, tuple[int, int, str]]:
        """id -> (mtime_ns, size, sha256) of the catalog's documents in `scope` (ids and
        folders, not the root) and of `files` (a list)."""
        known: dict[str, tuple[int, int, str]] = {}
        ids, folders = scope
        for rel in folders:
            found = db.execute(f"{_KNOWN} WHERE id >= ? AND id < ?", _under(rel))
            known.update((r[0], r[1:]) for r in found)
        for doc_id in {*ids, *(f.id for f in files)}:
            known.update((r[0], r[1:]) for r in db.execute(f"{_KNOWN} WHERE id=?", (doc_id,)))
        return known

    @staticmethod
    def _known_batch(
        db: sqlite3.Connection, batch: list[Candidate]
    ) -> dict[str, tuple[int, int, str]]:
        """id -> (mtime_ns, size, sha256) of the catalog's documents among `batch`."""
        marks = ",".join("?" * len(batch))
        found = db.execute(f"{_KNOWN} WHERE id IN ({marks})", [f.id for f in batch])
        return {r[0]: r[1:] for r in found}

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
            path = _ingest().document_path(
                self.root, doc_id
            )  # absolute or escaping ids are refused
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
        except _ingest().SkipFile as exc:
            raise ReaderError(f"cannot read {doc_id}: {exc}") from exc
        info = self.info(doc_id)
        if info != doc.info:  # changed text, or a correction made since the scan
            with self._db() as db:
                self._store(db, doc, stat.st_mtime_ns, stat.st_size)
                _bump(db)
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
        from reader.core.documents.corrections import apply

        doc = _ingest().read_document(
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
                return _ingest().document_id(candidate.resolve(), self.root)
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
