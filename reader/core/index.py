"""The Whoosh full-text index of a workspace: schema, analyzers, incremental updates, locking.

The index is derived data: it can always be rebuilt from the corpus. Nothing outside this
module and `reader.core.search` imports whoosh.

Every body is indexed twice: in `body` (accent-folded, lowercased, unstemmed) and in
`body_<lang>` (its language's Snowball stemmer, then accent folding), one field per language
that `whoosh.lang` can stem. Both keep positions and character offsets, so phrases work and
hits can be highlighted from the postings without re-reading the document. The clean text is
stored, so snippets need no file read and their offsets are code points of `Document.text`.

Tags are not indexed: `tag:claim` is resolved at query time from the annotation store, so the
filter is never stale (see `reader.core.search`).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reader.core.errors import ReaderError

if TYPE_CHECKING:
    from whoosh.index import Index

    from reader.core.documents import Document
    from reader.core.workspace import Workspace

# Bump when the schema or an analyzer changes: existing indexes are then rebuilt.
SCHEMA_VERSION = 1
STATE_FILE = "reader-index.json"
LOCK_WAIT = 3.0  # seconds a second writer waits for the lock before giving up
MULTIPROC_MIN = 4000  # documents to (re)index before the multiprocess writer pays off
# Languages with a Snowball stemmer in whoosh.lang; each gets its own `body_<lang>` field.
STEM_LANGS: tuple[str, ...] = (
    "ar", "da", "de", "en", "es", "fi", "fr", "hu", "it", "nl", "no", "pt", "ro", "ru", "sv",
)  # fmt: skip
FOLDED_FIELDS: tuple[str, ...] = ("title", "body")
BODY_FIELDS: tuple[str, ...] = ("body", *(f"body_{lang}" for lang in STEM_LANGS))


class IndexLocked(ReaderError):
    """Another process holds the index's writer lock."""


@dataclass
class IndexStats:
    """What an index update did."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    total: int = 0
    rebuilt: bool = False
    notice: str | None = None
    seconds: float = 0.0


# Analyzers ---------------------------------------------------------------------------------
def folding_analyzer():
    """Lowercase, accent-folded, unstemmed words (`évolution` == `evolution`)."""
    from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer
    from whoosh.support.charset import accent_map

    return RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)


def stemming_analyzer(lang: str):
    """`lang`'s stop words removed, Snowball stems, then accent folding."""
    from whoosh.analysis import (
        CharsetFilter,
        LowercaseFilter,
        RegexTokenizer,
        StemFilter,
        StopFilter,
    )
    from whoosh.lang import has_stopwords
    from whoosh.support.charset import accent_map

    chain = RegexTokenizer() | LowercaseFilter()
    if has_stopwords(lang):
        chain = chain | StopFilter(lang=lang)
    return chain | StemFilter(lang=lang, cachesize=50000) | CharsetFilter(accent_map)


def build_schema():
    """The index schema (see the module docstring)."""
    from whoosh.analysis import IDTokenizer, LowercaseFilter
    from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema

    folded = folding_analyzer()
    lowered_id = IDTokenizer() | LowercaseFilter()
    fields: dict[str, Any] = {
        "id": ID(stored=True, unique=True, sortable=True),
        "sha256": ID(sortable=True),
        "path": STORED(),
        "title": TEXT(analyzer=folded, stored=True, field_boost=2.0),
        "lang": ID(analyzer=lowered_id, stored=True, sortable=True),
        "date": ID(stored=True),
        "author": TEXT(analyzer=folded, stored=True),
        # Never filled: `tag:` terms are replaced at query time (reader.core.search).
        "tag": KEYWORD(lowercase=True),
        "text": STORED(),
        "body": TEXT(analyzer=folded, phrase=True, chars=True),
    }
    for lang in STEM_LANGS:
        fields[f"body_{lang}"] = TEXT(analyzer=stemming_analyzer(lang), phrase=True, chars=True)
    return Schema(**fields)


def document_fields(doc: Document) -> dict[str, Any]:
    """The fields to index for one document."""
    fields: dict[str, Any] = {
        "id": doc.id,
        "sha256": doc.sha256,
        "path": str(doc.path),
        "title": doc.title,
        "lang": doc.lang,
        "text": doc.text,
        "body": doc.text,
    }
    if doc.date:
        fields["date"] = doc.date
    if doc.author:
        fields["author"] = doc.author
    if doc.lang in STEM_LANGS:
        fields[f"body_{doc.lang}"] = doc.text
    return fields


# Opening -----------------------------------------------------------------------------------
_cache_lock = threading.RLock()
_open_indexes: dict[str, Index] = {}
_searchers: dict[str, Any] = {}


def _state_path(ws: Workspace):
    return ws.index_dir / STATE_FILE


def _stored_version(ws: Workspace) -> int | None:
    try:
        return int(json.loads(_state_path(ws).read_text(encoding="utf-8"))["schema_version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_state(ws: Workspace) -> None:
    tmp = _state_path(ws).with_suffix(".tmp")
    tmp.write_text(json.dumps({"schema_version": SCHEMA_VERSION}), encoding="utf-8")
    tmp.replace(_state_path(ws))


def index_exists(ws: Workspace) -> bool:
    """Whether the workspace has an index of the current schema version (maybe stale)."""
    from whoosh.index import exists_in

    try:
        return _stored_version(ws) == SCHEMA_VERSION and exists_in(str(ws.index_dir))
    except Exception:
        return False


def open_index(ws: Workspace) -> Index:
    """The workspace's index (cached per process); raises if it is missing or unreadable."""
    from whoosh.index import open_dir

    key = str(ws.index_dir)
    with _cache_lock:
        ix = _open_indexes.get(key)
        if ix is None:
            if _stored_version(ws) != SCHEMA_VERSION:
                raise ReaderError("the index is missing or of an older schema")
            ix = open_dir(key)
            _open_indexes[key] = ix
        return ix


@contextmanager
def searching(ws: Workspace) -> Iterator[Any]:
    """A Whoosh searcher on the latest committed index, kept open between calls.

    Readers see a committed snapshot, so searching works while another process writes.
    One search at a time per process (a lock serialises callers from several threads).
    """
    key = str(ws.index_dir)
    with _cache_lock:
        current = _searchers.get(key)
        ix = open_index(ws)
        if current is not None and ix.latest_generation() != current.reader().generation():
            # A fresh reader, not Searcher.refresh(): whoosh's reader reuse keeps the old
            # segments' deletion sets (deleted documents would still be found).
            with suppress(Exception):
                current.close()
            current = None
        if current is None:
            current = ix.searcher()
        _searchers[key] = current
        yield current


def forget_index(ws: Workspace) -> None:
    """Drop the cached handles (after a rebuild, or when the index turned out unreadable)."""
    with _cache_lock:
        _open_indexes.pop(str(ws.index_dir), None)
        current = _searchers.pop(str(ws.index_dir), None)
        if current is not None:
            with suppress(Exception):
                current.close()


def _create(ws: Workspace) -> Index:
    """A new empty index, replacing whatever was in the index folder."""
    from whoosh.index import create_in

    forget_index(ws)
    shutil.rmtree(ws.index_dir, ignore_errors=True)
    ws.index_dir.mkdir(parents=True, exist_ok=True)
    ix = create_in(str(ws.index_dir), build_schema())
    _write_state(ws)
    return ix


def _indexed(reader: Any) -> dict[str, str]:
    """id -> sha256 of every live document in the index, read from the columns."""
    ids = reader.column_reader("id")
    shas = reader.column_reader("sha256")
    return {_str(ids[docnum]): _str(shas[docnum]) for docnum in reader.all_doc_ids()}


def _str(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _writer(ix: Index, procs: int = 1):
    from whoosh.index import LockError

    try:
        if procs > 1:
            return ix.writer(procs=procs, multisegment=True, timeout=LOCK_WAIT, limitmb=128)
        return ix.writer(timeout=LOCK_WAIT, limitmb=128)
    except LockError:
        raise IndexLocked(
            "the search index is being updated by another process "
            f"(waited {LOCK_WAIT:g} s); try again when it has finished"
        ) from None


def _holds_lock(ws: Workspace) -> bool:
    """Whether another process holds the writer lock of an existing index folder."""
    from whoosh.filedb.filestore import FileStorage

    if not ws.index_dir.is_dir():
        return False
    lock = FileStorage(str(ws.index_dir)).lock("MAIN_WRITELOCK")
    deadline = time.monotonic() + LOCK_WAIT
    while not lock.acquire(blocking=False):
        if time.monotonic() > deadline:
            return True
        time.sleep(0.1)
    lock.release()
    return False


# Updating ----------------------------------------------------------------------------------
def update_index(
    ws: Workspace,
    *,
    rebuild: bool = False,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    procs: int | None = None,
) -> IndexStats:
    """Bring the index up to date with the corpus folder.

    Scans the corpus, (re)indexes new and changed documents (by sha256), removes deleted ones.
    A missing index, a schema version change, `rebuild=True` or an unreadable index gives a
    full rebuild (the last one with `notice` set). `progress(done, total)` is called per
    document; when `cancelled()` turns true the work done so far is committed and kept.
    `procs` > 1 uses Whoosh's multiprocess writer (default: 2 for 4,000+ documents, when
    called from the main thread, since forking a threaded process is unsafe).
    Raises IndexLocked when another process keeps the writer lock.
    """
    started = time.perf_counter()
    stats = IndexStats()
    scan = ws.corpus.scan(cancelled=cancelled)
    if cancelled and cancelled():
        stats.seconds = time.perf_counter() - started
        return stats
    ix, indexed = None, {}
    version = _stored_version(ws)
    if not rebuild and version == SCHEMA_VERSION:
        try:
            ix = open_index(ws)
            with searching(ws) as searcher:  # reuses this process's open reader if any
                indexed = _indexed(searcher.reader())
        except Exception as exc:  # any failure to read it means it must be rebuilt
            forget_index(ws)
            ix, indexed = None, {}
            stats.notice = (
                f"the search index was unreadable ({type(exc).__name__}: {exc}); rebuilt it"
            )
    elif version is not None and version != SCHEMA_VERSION and not rebuild:
        stats.notice = f"the search index format changed (v{version} -> v{SCHEMA_VERSION}); rebuilt"
    if ix is None:
        if _holds_lock(ws):
            raise IndexLocked(
                "the search index is being updated by another process; try again later"
            )
        ix = _create(ws)
        stats.rebuilt = True

    wanted = {info.id: info.sha256 for info in scan.documents}
    todo = [doc_id for doc_id, sha in wanted.items() if indexed.get(doc_id) != sha]
    gone = sorted(set(indexed) - set(wanted))
    if not todo and not gone:
        stats.total = len(wanted)
        stats.seconds = time.perf_counter() - started
        return stats

    if procs is None:  # forking from a worker thread (the TUI) is not safe: main thread only
        main = threading.current_thread() is threading.main_thread()
        procs = 2 if main and len(todo) >= MULTIPROC_MIN and (os.cpu_count() or 1) > 1 else 1
    writer = _writer(ix, procs)
    try:
        for doc_id in gone:
            writer.delete_by_term("id", doc_id)
            stats.removed += 1
        for done, doc_id in enumerate(todo, 1):
            if cancelled and cancelled():
                break
            try:
                doc = ws.corpus.load(doc_id)
            except ReaderError:
                doc = None
            if doc is None:
                if doc_id in indexed:  # vanished or unreadable since the scan
                    writer.delete_by_term("id", doc_id)
                    stats.removed += 1
            elif doc_id in indexed:
                writer.update_document(**document_fields(doc))
                stats.updated += 1
            else:
                writer.add_document(**document_fields(doc))
                stats.added += 1
            if progress:
                progress(done, len(todo))
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    stats.total = ix.doc_count()
    stats.seconds = time.perf_counter() - started
    return stats


def optimize_index(ws: Workspace) -> int:
    """Merge the index into one segment; return the number of segments before."""
    ix = open_index(ws)
    before = len(ix._segments())
    if before > 1:
        writer = _writer(ix)
        writer.commit(optimize=True)
        forget_index(ws)
    return before
