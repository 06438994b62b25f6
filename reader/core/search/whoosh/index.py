"""The Whoosh full-text index of a workspace: schema, analyzers, incremental updates, locking.

The index is derived data: it can always be rebuilt from the corpus. Whoosh stays behind the
search modules: this one, `index_writer` and `index_codec` (writing), `search` and `ranking`
(querying); nothing else imports it.

Every body is indexed twice: in `body` (accent-folded, lowercased, unstemmed, with positions
for phrases, like `title` and `author`) and in `body_<lang>` (its language's Snowball
stemmer, then accent folding; term frequencies only), one field per language that
`whoosh.lang` can stem. Snippets and highlights are found at query time in the hit's clean
text (see `reader.core.search.api`; offsets in code points of `Document.text`): the index
stores that text only for Markdown and HTML files, whose reading costs 0.2-50 ms; a plain text
file's is read again from the file (about 0.1 ms for 3 KB, `document_text`), which keeps
about 1.8 KB per document (zlib-compressed text) out of the index.

Indexing speed: the writer (`reader.core.search.whoosh.writer`) splits a text once for all the
fields that index it and maps each raw word to its term through a dict (built from the field
analyzer's own filters, so the terms are exactly the analyzer's); postings are sorted with
numpy and written a block at a time, as arrays (`reader.core.search.whoosh.codec`, which ranking
reads straight into numpy), positions in a compact encoding (`CompactPositions`). Documents
are indexed as the corpus scan reads them, and a full build of 4,000+ documents uses a
worker process, which writes a segment whenever its postings reach the memory budget
(`index_memory_mb`, default INDEX_MEMORY_MB); the build then merges its segments into one
(`writer.merge_segments`: streamed, blocks copied), so the index has one term dictionary,
not one per segment (half its size at 80,000 documents). Term files are written from typed
arrays (`reader.core.search.whoosh.termfile`: Whoosh's bytes, ~20 bytes held a term instead of
~120), so neither a segment's flush nor the merge holds much per term. Updates add small
segments, which are merged as they pile up (`merge_small`).

Tags are not indexed: `tag:claim` is resolved at query time from the annotation store, so the
filter is never stale (see `reader.core.search.api`).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import sys
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from reader.core.documents import corpus_of
from reader.core.errors import NoSpace, ReaderError
from reader.core.repair import is_full
from reader.core.search.whoosh.writer import TOKEN as TOKEN  # the tokens of the text fields
from reader.core.search.whoosh.writer import (
    fast_writer_class,
    merge_small,
    mp_writer_class,
    pool_budget,
    word_analysis,
)
from reader.core.settings import DEFAULT_INDEX_MEMORY_MB

if TYPE_CHECKING:
    from whoosh.index import Index

    from reader.core.documents.model import Document
    from reader.core.workspace import Workspace

# Bump when the schema or an analyzer changes: existing indexes are then rebuilt.
SCHEMA_VERSION = 7  # 7: compact posting blocks (codec); 6: mt_<lang> fields
STATE_FILE = "reader-index.json"
LOCK_WAIT = 3.0  # seconds a second writer waits for the lock before giving up
MULTIPROC_MIN = 4000  # documents to (re)index before a worker process pays off
# Worker processes of a full build: one writes the index while this process reads and parses
# the files (two cores busy); two more would each need their own share of the memory
# budget, so smaller segments (a bigger index, slower searches) for little speed.
WORKERS = 1
MP_BATCH = 250  # documents per job file handed to a worker process
STOCK_WRITER_ENV = "READER_STOCK_WRITER"  # "1": index with Whoosh's own writer and W3 codec
# Memory for the postings of the segment being written (all writer processes together),
# unless the `index_memory_mb` setting says otherwise; a segment is written out at this.
INDEX_MEMORY_MB = DEFAULT_INDEX_MEMORY_MB  # the setting's default: one source of truth
MIN_MEMORY_MB = 16
# Languages with a Snowball stemmer in whoosh.lang; each gets its own `body_<lang>` field.
STEM_LANGS: tuple[str, ...] = (
    "ar", "da", "de", "en", "es", "fi", "fr", "hu", "it", "nl", "no", "pt", "ro", "ru", "sv",
)  # fmt: skip
# Formats whose clean text the index stores: reading it again costs 0.2-50 ms (front matter,
# HTML extraction), against 0.1 ms for plain text, which is read from the file instead.
STORED_KINDS = frozenset({"markdown", "html"})
FOLDED_FIELDS: tuple[str, ...] = ("title", "body")
BODY_FIELDS: tuple[str, ...] = ("body", *(f"body_{lang}" for lang in STEM_LANGS))


class IndexLocked(ReaderError):
    """Another process holds the index's writer lock."""


class RebuildNeeded(ReaderError):
    """The index cannot be updated in place: there is none, or it is damaged, unreadable or
    of an older format. `notice` says why (None for a first build). Whether and when to
    rebuild is the search API's decision (`reader.core.search.api.update_index`)."""

    def __init__(self, notice: str | None) -> None:
        super().__init__(notice or "there is no search index yet")
        self.notice = notice


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
TERM_CACHE_MAX = 500_000  # distinct raw words remembered per analyzer before starting over


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


class TermCache(dict):
    """raw token -> its indexed term (UTF-8 bytes), or None for a stop word.

    A miss applies the field analyzer's own filters to the token (or runs the analyzer on
    it), so highlights find exactly the terms the index has (and that queries are analysed
    into); tests compare the two on real text.
    """

    def __init__(self, analyzer) -> None:
        super().__init__()
        self.analyzer = analyzer
        analysis = word_analysis(analyzer)
        self.analyse = analysis[1] if analysis is not None else None
        self.variants: dict[bytes, list[str]] = {}  # term -> the raw words seen for it

    def __missing__(self, word: str) -> bytes | None:
        if len(self) >= TERM_CACHE_MAX:
            self.clear()
            self.variants.clear()
        if self.analyse is not None:
            text = self.analyse(word)
        else:
            texts = [t.text for t in self.analyzer(word, mode="index")]
            text = texts[0] if texts else None
        term = text.encode("utf-8") if text is not None else None
        self[word] = term
        if term is not None:
            self.variants.setdefault(term, []).append(word)
        return term


_term_caches: dict[str, TermCache] = {}


def term_cache(lang: str | None) -> TermCache:
    """The cache of the folding analyzer (`lang` None) or of `lang`'s stemming analyzer."""
    key = lang or ""
    cache = _term_caches.get(key)
    if cache is None:
        analyzer = stemming_analyzer(lang) if lang else folding_analyzer()
        cache = _term_caches.setdefault(key, TermCache(analyzer))
    return cache


_WIDTH_TYPES = {1: "B", 2: "H", 4: "I"}  # array typecodes of CompactPositions' delta widths


def _classes() -> tuple[type, type, type, type]:
    """The index's own format and field types (whoosh is imported lazily): accent-folded text
    with `CompactPositions`, and one language's stemmed text with `TermWeights`."""
    global _CLASSES
    if _CLASSES is not None:
        return _CLASSES
    from whoosh.fields import TEXT
    from whoosh.formats import Format, Positions, tokens

    class CompactPositions(Positions):
        """Whoosh's Positions with a compact value: a byte giving the width (1, 2 or 4) of
        the little-endian position deltas that follow, instead of a pickled list (the fast
        writer lays these out with numpy)."""

        def encode(self, poslist: Any) -> bytes:
            deltas = [b - a for a, b in zip([0, *poslist[:-1]], poslist, strict=True)]
            top = max(deltas)
            width = 1 if top < 1 << 8 else 2 if top < 1 << 16 else 4
            packed = array(_WIDTH_TYPES[width], deltas)
            if sys.byteorder == "big":
                packed.byteswap()
            return bytes((width,)) + packed.tobytes()

        def decode_positions(self, valuestring: bytes) -> list[int]:
            deltas = array(_WIDTH_TYPES[valuestring[0]])
            deltas.frombytes(memoryview(valuestring)[1:])
            if sys.byteorder == "big":
                deltas.byteswap()
            return list(accumulate(deltas))

        def decode_frequency(self, valuestring: bytes) -> int:
            return (len(valuestring) - 1) // valuestring[0]

    class TermWeights(Format):
        """Whoosh's Frequency without its values (which repeat the frequency): a posting
        keeps its weight, the term's frequency times the field boost."""

        posting_size = 0

        def word_values(self, value: Any, analyzer: Any, **kwargs: Any):
            counts: dict[str, list[float]] = {}
            kwargs["boosts"] = True
            for t in tokens(value, analyzer, kwargs):
                found = counts.setdefault(t.text, [0, 0.0])
                found[0] += 1
                found[1] += t.boost
            boost = self.field_boost
            return ((w, n, weight * boost, b"") for w, (n, weight) in counts.items())

    class FoldedText(TEXT):
        """Accent-folded, unstemmed words with positions (phrases)."""

        def __init__(self, stored: bool = False, field_boost: float = 1.0) -> None:
            super().__init__(
                analyzer=folding_analyzer(), phrase=True, stored=stored, field_boost=field_boost
            )
            self.format = CompactPositions(field_boost=field_boost)

    class StemmedText(TEXT):
        """One language's stemmed words, frequencies only (highlights come from the text)."""

        def __init__(self, lang: str) -> None:
            super().__init__(analyzer=stemming_analyzer(lang), phrase=False)
            self.format = TermWeights()
            self.lang = lang

    _CLASSES = (CompactPositions, TermWeights, FoldedText, StemmedText)
    for cls in _CLASSES:  # picklable as reader.core.search.whoosh.index.<name>
        cls.__module__, cls.__qualname__ = __name__, cls.__name__
    return _CLASSES


_CLASSES: tuple[type, type, type, type] | None = None
_CLASS_NAMES = ("CompactPositions", "TermWeights", "FoldedText", "StemmedText")


def __getattr__(name: str) -> Any:
    """The `_classes`, created on first use (whoosh is imported lazily); unpickling an index
    schema finds them here."""
    if name in _CLASS_NAMES:
        return _classes()[_CLASS_NAMES.index(name)]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_schema():
    """The index schema (see the module docstring)."""
    from whoosh.analysis import IDTokenizer, LowercaseFilter
    from whoosh.columns import VarBytesColumn
    from whoosh.fields import COLUMN, ID, KEYWORD, STORED, Schema

    *_formats, folded_text, stemmed_text = _classes()
    lowered_id = IDTokenizer() | LowercaseFilter()
    fields: dict[str, Any] = {
        "id": ID(stored=True, unique=True, sortable=True),
        "sha256": COLUMN(VarBytesColumn()),  # the 32 bytes, in a column only (never searched)
        "path": STORED(),
        "title": folded_text(stored=True, field_boost=2.0),
        "lang": ID(analyzer=lowered_id, stored=True, sortable=True),
        "date": ID(stored=True),
        "author": folded_text(stored=True),
        # Never filled: `tag:` terms are replaced at query time (reader.core.search.api).
        "tag": KEYWORD(lowercase=True),
        "text": STORED(),
        "body": folded_text(),
    }
    for lang in STEM_LANGS:
        fields[f"body_{lang}"] = stemmed_text(lang)
        fields[f"mt_{lang}"] = stemmed_text(lang)  # the machine translation into lang
    return Schema(**fields)


def document_fields(doc: Document, translated: dict[str, str] | None = None) -> dict[str, Any]:
    """The fields to index for one document; `translated` holds its cached machine
    translations by language (indexed in `mt_<lang>`, analysed with that language's
    stemmer, so an English query finds a French article through its translation)."""
    fields: dict[str, Any] = {
        "id": doc.id,
        "sha256": bytes.fromhex(doc.sha256),
        "path": str(doc.path),
        "title": doc.title,
        "lang": doc.lang,
        "body": doc.text,
    }
    if stores_text(doc.path):
        fields["text"] = doc.text
    if doc.date:
        fields["date"] = doc.date
    if doc.author:
        fields["author"] = doc.author
    if doc.lang in STEM_LANGS:
        fields[f"body_{doc.lang}"] = doc.text
    for lang, text in (translated or {}).items():
        if lang in STEM_LANGS and lang != doc.lang and text:
            fields[f"mt_{lang}"] = text
    return fields


def stores_text(path: Any) -> bool:
    """Whether the index keeps the clean text of the file at `path` (for snippets): only for
    formats whose text costs more to read again than a plain text file's (`STORED_KINDS`)."""
    from reader.core.documents.ingest import FORMATS

    return FORMATS.get(os.path.splitext(str(path))[1].lower()) in STORED_KINDS


def document_text(stored: dict[str, Any], root: Any = None) -> str:
    """A hit's clean text (`Document.text`) from its stored fields: the stored text, else the
    file read again (`ingest.read_text`, about 0.1 ms for a plain text file of 3 KB): its id
    under the corpus folder `root` (the searcher's `corpus_root`), else its stored path.
    Empty when the file is gone or unreadable (the next update drops or re-indexes it)."""
    text = stored.get("text")
    if text is not None:
        return text
    from pathlib import Path

    from reader.core.documents.ingest import SkipFile, document_path, read_text

    try:
        if root is not None:
            path = document_path(Path(root), stored["id"])
        elif stored.get("path"):
            path = Path(stored["path"])
        else:
            return ""
        return read_text(path)
    except (SkipFile, ValueError, KeyError):
        return ""


def machine_translations(ws: Workspace) -> Callable[[Document], dict[str, str]] | None:
    """What `document_fields` needs of the translation cache: each document's cached
    translation into the target language. None (no cost) when nothing is cached for it."""
    from reader.core.translation.cache import TranslationCache
    from reader.core.translation.service import machine_text

    target = ws.settings.target_lang
    if target not in STEM_LANGS or not ws.translations_path.exists():
        return None
    cache = TranslationCache(ws.translations_path)
    if not cache.has_target(target):
        cache.close()
        return None

    def translated(doc: Document) -> dict[str, str]:
        text = machine_text(cache, doc, target)
        return {target: text} if text else {}

    return translated


# Opening -----------------------------------------------------------------------------------
_cache_lock = threading.RLock()
_open_indexes: dict[str, Index] = {}
_searchers: dict[str, Any] = {}


def _state_path(ws: Workspace):
    return ws.index_dir / STATE_FILE


def _read_state(ws: Workspace) -> dict[str, Any]:
    """The index's state file: its schema version, and the catalog state it is in step with
    (see `_catalog_key`; None when unknown)."""
    try:
        state = json.loads(_state_path(ws).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(state, dict):
        return {}
    try:
        state["schema_version"] = int(state["schema_version"])
    except (KeyError, TypeError, ValueError):
        return {}
    return state


def _stored_version(ws: Workspace) -> int | None:
    return _read_state(ws).get("schema_version")


def _write_state(ws: Workspace, catalog: str | None = None) -> None:
    tmp = _state_path(ws).with_suffix(".tmp")
    state = {"schema_version": SCHEMA_VERSION, "catalog": catalog}
    tmp.write_text(json.dumps(state), encoding="utf-8")
    tmp.replace(_state_path(ws))


def index_exists(ws: Workspace) -> bool:
    """Whether the workspace has an index of the current schema version (maybe stale)."""
    from whoosh.index import exists_in

    if _stored_version(ws) != SCHEMA_VERSION:
        return False
    with _cache_lock:
        ix = _open_indexes.get(str(ws.index_dir))
    try:
        if ix is not None:  # already open here: no need to read its table of contents again
            return ix.latest_generation() > -1
        return exists_in(str(ws.index_dir))
    except index_errors():
        return False


# Files every segment with documents has: terms, postings, stored fields, id/sha256 columns.
SEGMENT_FILES = (".trm", ".pst", "._stored.col", ".id.col", ".sha256.col")


def missing_files(ws: Workspace) -> str | None:
    """The first file the index's table of contents needs that is missing or empty, or None
    (a few stats per segment: cheap enough to check before every update)."""
    ix = open_index(ws)
    storage = ix.storage
    for segment in ix._segments():
        if not segment.doc_count_all():
            continue
        for ext in SEGMENT_FILES:
            name = segment.make_filename(ext)
            if not storage.file_exists(name) or not storage.file_length(name):
                return name
    return None


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
            current.corpus_root = ws.corpus_root  # where `document_text` reads hits' files
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
    """id -> sha256 of every live document in the index, read from the columns in bulk."""
    out: dict[str, str] = {}
    for leaf, _offset in reader.leaf_readers():
        if not leaf.doc_count_all():  # an empty index's reader has no columns
            continue
        ids = [v.decode("utf-8") for v in _column_values(leaf, "id")]
        shas = [v.hex() for v in _column_values(leaf, "sha256")]
        deleted = getattr(leaf, "deleted_docs_set", None) if leaf.has_deletions() else ()
        if deleted is None:  # a reader without the set: ask it document by document
            deleted = {d for d in range(len(ids)) if leaf.is_deleted(d)}
        pairs = zip(ids, shas, strict=True)
        if deleted:
            pairs = (pair for docnum, pair in enumerate(pairs) if docnum not in deleted)
        out.update(pairs)
    return out


def _column_values(leaf: Any, fieldname: str) -> list[bytes]:
    """A segment's column of bytes, read as one block (a VarBytes column: the values one
    after another, then their lengths), or value by value for another column type."""
    column = leaf.column_reader(fieldname, translate=False)
    lengths = getattr(column, "_lengths", None)
    if lengths is None or not hasattr(column, "_basepos"):
        values = list(column)
    else:
        ends = list(itertools.accumulate(lengths))
        data = column._dbfile.get(column._basepos, ends[-1]) if ends else b""
        values = list(map(data.__getitem__, map(slice, [0, *ends[:-1]], ends)))
    return [v if isinstance(v, bytes) else str(v).encode("utf-8") for v in values]


def _writer(ix: Index, workers: int = 0, budget: int | None = None):
    """A writer on `ix` for a caller that already holds its lock (see `_write_lock`).

    Segments are left as separate files, not assembled into a compound file: Whoosh opens a
    compound file's parts by copying each into memory (BytesIO), so every reader of a 20,000
    document index held a copy of the postings (>1 GB of RSS) and took ~0.2 s to open.
    Segments use the array codec (`reader.core.search.whoosh.codec`), which ranking reads fast;
    with READER_STOCK_WRITER=1, Whoosh's own single-process writer and W3 codec instead (slower,
    a fallback for a Whoosh release that breaks the fast writer).
    """
    from reader.core.search.whoosh.codec import codec_classes

    if os.environ.get(STOCK_WRITER_ENV) == "1":  # Whoosh's own writer and W3 codec (fallback)
        from whoosh.codec.whoosh3 import W3Codec
        from whoosh.writing import SegmentWriter

        return SegmentWriter(ix, _lk=False, compound=False, codec=W3Codec())
    codec = codec_classes()[0]()
    if workers > 0:  # documents go to worker processes; this one reads and parses them
        return mp_writer_class()(
            ix,
            budget=budget or INDEX_MEMORY_MB << 20,
            procs=workers,
            batchsize=MP_BATCH,
            _lk=False,
            compound=False,
            codec=codec,
            subargs={"compound": False, "codec": codec},  # the workers' writers (no lock)
        )
    return fast_writer_class()(ix, _lk=False, compound=False, codec=codec)


@contextmanager
def _write_lock(ix: Index) -> Iterator[None]:
    """Hold the index's writer lock (waiting LOCK_WAIT seconds at most) or raise IndexLocked."""
    from whoosh.util.filelock import try_for

    lock = ix.lock("WRITELOCK")
    if not try_for(lock.acquire, timeout=LOCK_WAIT, delay=0.1):
        raise IndexLocked(
            "the search index is being updated by another process "
            f"(waited {LOCK_WAIT:g} s); try again when it has finished"
        )
    try:
        yield
    finally:
        lock.release()


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
def _corpus_size(ws: Workspace) -> int:
    """About how many candidate files the corpus folder holds (names only: no stat, no read)."""
    return corpus_of(ws).count_files()


def memory_budget(ws: Workspace) -> int:
    """Bytes the segment being written may take before it is written out (the
    `index_memory_mb` setting, else INDEX_MEMORY_MB); for all writer processes together."""
    value = ws.setting("index_memory_mb")
    try:
        mb = float(value) if value is not None else INDEX_MEMORY_MB
    except (TypeError, ValueError):
        mb = INDEX_MEMORY_MB
    return int(max(MIN_MEMORY_MB, mb) * 1024 * 1024)


ScanFn = Callable[..., Any]  # a corpus scan: (progress=, cancelled=, on_document=) -> ScanResult


class _Update:
    """One update run: the lazily opened writer and what it did.

    `synced`: the index holds exactly the catalog's documents as they were before this scan
    (the catalog generation it noted matches), so only the documents the scan reads or
    drops need work; else `indexed` (id -> sha256 from the index) is compared with the
    whole catalog.
    """

    def __init__(
        self,
        ix: Index,
        indexed: dict[str, str],
        stats: IndexStats,
        procs: int,
        budget: int = INDEX_MEMORY_MB << 20,
        synced: bool = False,
    ):
        self.ix, self.indexed, self.stats = ix, indexed, stats
        # worker processes: `procs` > 1 asks for that many, 1 for none (this process writes)
        self.workers = procs if procs > 1 else 0
        self.budget, self.synced = budget, synced
        self.writer: Any = None
        # how many documents were written: each comes once from a scan (the corpus reports an
        # id once), and the catch-up skips the ones the scan reported (`scan.changed`), so
        # no set of ids is held while writing
        self.written = 0
        self._since_check = 0
        self.lock: Any = None  # the writer lock, when this update took it itself
        self.translated: Callable[[Document], dict[str, str]] | None = None  # mt_<lang>

    def _open(self) -> Any:
        if self.writer is None:
            self.writer = _writer(self.ix, self.workers, self.budget)
        return self.writer

    def write(self, doc: Document) -> None:
        """(Re)index `doc` unless the index already has this version of it."""
        if not self.synced and self.indexed.get(doc.id) == doc.sha256:
            return
        writer = self._open()
        fields = document_fields(doc, self.translated(doc) if self.translated else None)
        if self.synced or doc.id in self.indexed:
            writer.update_document(**fields)  # drops the old version, if any
            if not self.synced:
                self.stats.updated += 1
        else:
            writer.add_document(**fields)
            self.stats.added += 1
        self.written += 1
        self._since_check += 1
        if not self.workers and self._since_check >= 32:
            self._since_check = 0
            memory = getattr(writer.pool, "memory", None)  # not Whoosh's own writer's pool
            if memory is not None and memory() >= pool_budget(self.budget):  # write it out
                self.writer = None
                writer.commit(mergetype=_no_merge)

    def delete(self, doc_id: str) -> None:
        self._open().delete_by_term("id", doc_id)
        if not self.synced:
            self.stats.removed += 1

    def commit(self) -> None:
        if self.writer is not None:  # a failed commit closes the writer itself
            writer, self.writer = self.writer, None
            writer.commit(mergetype=merge_small)

    def cancel(self) -> None:
        if self.writer is not None:
            writer, self.writer = self.writer, None
            if not writer.is_closed:
                writer.cancel()

    def run(
        self,
        ws: Workspace,
        scan_fn: ScanFn,
        progress: Callable[[int, int], None] | None,
        cancelled: Callable[[], bool] | None,
    ) -> Any:
        """Scan, indexing the documents the scan reads; then (unless `synced`) load and index
        the documents the catalog knew but the index lacks, remove the ones it lost; commit.
        Returns the scan."""
        reported = 0

        def scan_progress(_done: int, total: int) -> None:
            nonlocal reported
            if progress and self.written > reported:  # a file the scan read went in
                reported = self.written
                progress(reported, total)

        try:
            scan = scan_fn(
                progress=scan_progress if progress else None,
                cancelled=cancelled,
                on_document=self.write,
            )
            if cancelled and cancelled():
                pass
            elif self.synced:
                for doc_id in scan.removed:
                    self.delete(doc_id)
                self.stats.added += len(scan.added)
                self.stats.updated += len(scan.changed) - len(scan.added)
                self.stats.removed += len(scan.removed)
            else:
                self._catch_up(ws, scan, progress, cancelled)
            self.commit()
        except BaseException:
            self.cancel()
            raise
        return scan

    def _catch_up(self, ws: Workspace, scan: Any, progress: Any, cancelled: Any) -> None:
        """Compare the index's map (`indexed`, id -> sha256) with the catalog's documents,
        streamed row by row (not a second map of them all), then index what the index lacks
        or holds in another version, and remove what the catalog lost. Consumes `indexed`:
        what is left in it are the documents the index holds in another version."""
        indexed = self.indexed
        if not indexed and self.written >= corpus_of(ws).count():
            return  # a first build that indexed every document as the scan read it
        read = set(scan.changed)  # what the scan read went in then (or was in: same sha256)
        todo: list[str] = []
        stale: dict[str, str] = {}  # of `todo`, those the index holds in another version
        for doc_id, sha in scan.iter_sha256s():
            old = indexed.pop(doc_id, None)
            if doc_id in read or old == sha:
                continue
            todo.append(doc_id)
            if old is not None:
                stale[doc_id] = old
        del read
        gone = sorted(indexed)  # in the index, no longer in the catalog
        indexed.clear()
        indexed.update(stale)
        for doc_id in gone:
            self.delete(doc_id)
        for done, doc_id in enumerate(todo, 1):
            if cancelled and cancelled():
                break
            try:
                self.write(corpus_of(ws).load(doc_id))
            except ReaderError:  # vanished or unreadable since the scan
                if doc_id in indexed:
                    self.delete(doc_id)
            if progress:
                progress(done, len(todo))


def _no_merge(_writer: Any, segments: list) -> list:
    return list(segments)


def index_errors() -> tuple[type[BaseException], ...]:
    """The errors that mean an index folder is damaged or unreadable (so: rebuild it)."""
    import pickle
    import struct
    import zlib

    from whoosh.index import IndexError as WhooshIndexError
    from whoosh.reading import CorruptIndexError

    return (
        OSError,
        EOFError,
        ValueError,
        KeyError,
        IndexError,
        AttributeError,
        ImportError,
        struct.error,
        pickle.UnpicklingError,
        zlib.error,
        WhooshIndexError,
        CorruptIndexError,
    )


def _writable_dir(path: Any) -> bool:
    return os.access(path, os.W_OK | os.X_OK)


def update_index(
    ws: Workspace,
    *,
    rebuild: bool = False,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    procs: int | None = None,
    full_scan: bool = True,
) -> IndexStats:
    """Bring the index up to date with the corpus folder.

    Scans the corpus (`full_scan`, the default: every file is statted, as `reader index`
    does; with `full_scan=False`, `Corpus.refresh`: within `rescan_seconds` of the last
    full scan only the folders are statted, which `reader search` uses) and (re)indexes
    new and changed documents (by sha256) as it reads them. With `full_scan=False`, an index
    whose state file says it is in step with the catalog (`Corpus.version`) needs nothing
    else, and nothing new means no index reading at all; otherwise the index's documents
    are compared with the catalog's: the missing ones are indexed, the lost ones removed.
    `rebuild=True` builds it anew; a missing index, a schema version change or an
    unreadable index raise RebuildNeeded (the search API decides: `api.update_index`).
    `progress(done, total)` is called per document indexed; when `cancelled()` turns true
    the work done so far is committed.
    Segments are written whenever the postings in memory reach `memory_budget(ws)`.
    `procs` > 1 writes in that many worker processes while this one reads and parses the
    files; by default a full build of MULTIPROC_MIN+ documents uses WORKERS of them.
    Raises IndexLocked when another process keeps the writer lock; ReaderError with
    NO_SPACE on a full disk, or when the data folder is removed meanwhile.
    """

    def scan_fn(**kwargs: Any) -> Any:
        if full_scan:
            return corpus_of(ws).scan(**kwargs)
        return corpus_of(ws).refresh(**kwargs)

    return _update(ws, scan_fn, rebuild=rebuild, progress=progress, cancelled=cancelled,
                   procs=procs, trust=not full_scan)  # fmt: skip


_writer_locks: dict[str, threading.Lock] = {}


@contextmanager
def _in_process_writer(ws: Workspace) -> Iterator[None]:
    """One writer per index in this process: the index's file lock keeps other processes
    out, but not this process's other threads (the app's indexer and a search building
    the index at first launch would each write the whole corpus: duplicated documents)."""
    with _cache_lock:
        lock = _writer_locks.setdefault(str(ws.index_dir), threading.Lock())
    with lock:
        yield


def update_paths(ws: Workspace, paths: Iterable[str | os.PathLike[str]]) -> IndexStats:
    """Index the changes of these files or folders only (for a folder watcher): a file that
    exists is read if its mtime or size changed and indexed if its text did; a missing one
    is dropped; a folder is walked. No other file is statted. Builds the index when there
    is none. Raises like `update_index`."""
    wanted = list(paths)

    def scan_fn(progress: Any = None, cancelled: Any = None, on_document: Any = None) -> Any:
        return corpus_of(ws).refresh_paths(wanted, on_document=on_document)

    return _update(ws, scan_fn, procs=1, trust=True)


def _update(
    ws: Workspace,
    scan_fn: ScanFn,
    *,
    rebuild: bool = False,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    procs: int | None = None,
    trust: bool = False,
) -> IndexStats:
    """An update with `scan_fn`; `trust`: believe the state file when it says the index is in
    step with the catalog (else the index's documents are read and compared)."""

    started = time.perf_counter()
    stats = IndexStats()
    if not ws.data_dir.is_dir():  # the workspace made it: removed since (mid-index)
        raise ReaderError(f"the data folder {ws.data_dir} was removed; nothing was indexed")
    if not _writable_dir(ws.data_dir) or (
        ws.index_dir.is_dir() and not _writable_dir(ws.index_dir)
    ):
        if index_exists(ws):
            stats.notice = f"the data folder {ws.data_dir} is read-only: the index was not updated"
            return stats
        raise ReaderError(f"no search index yet, and the data folder {ws.data_dir} is read-only")
    try:
        with _in_process_writer(ws):
            return _update_in(
                ws, scan_fn, stats, started, rebuild, progress, cancelled, procs, trust
            )
    except OSError as exc:
        if is_full(exc):
            raise NoSpace() from exc
        if not ws.data_dir.is_dir():
            raise ReaderError(
                f"the data folder {ws.data_dir} was removed while indexing; nothing more was saved"
            ) from exc
        raise ReaderError(f"cannot write the search index in {ws.index_dir}: {exc}") from exc


def _update_in(
    ws: Workspace,
    scan_fn: ScanFn,
    stats: IndexStats,
    started: float,
    rebuild: bool,
    progress: Callable[[int, int], None] | None,
    cancelled: Callable[[], bool] | None,
    procs: int | None,
    trust: bool,
) -> IndexStats:
    ix, indexed, generation = None, {}, None
    state = _read_state(ws)
    version = state.get("schema_version")
    synced = False
    if not rebuild and version == SCHEMA_VERSION:
        try:
            missing = missing_files(ws)
            damage = f"{missing} is missing" if missing else None
        except index_errors() as exc:
            missing = damage = f"unreadable: {type(exc).__name__}: {exc}"
        if missing is not None:
            forget_index(ws)
            raise RebuildNeeded(
                f"the search index was damaged or unreadable ({damage}); rebuilt it"
            )
        else:
            synced = (
                trust
                and state.get("catalog") is not None
                and state.get("catalog") == _catalog_key(ws)
            )
        if missing is None and not synced:
            try:
                ix = open_index(ws)
                with searching(ws) as searcher:  # reuses this process's open reader if any
                    indexed = _indexed(searcher.reader())
                    generation = searcher.reader().generation()
            except index_errors() as exc:  # any failure to read it means it must be rebuilt
                forget_index(ws)
                raise RebuildNeeded(
                    f"the search index was unreadable ({type(exc).__name__}: {exc}); rebuilt it"
                ) from exc
    elif not rebuild:
        raise RebuildNeeded(
            None
            if version is None
            else f"the search index format changed (v{version} -> v{SCHEMA_VERSION}); rebuilt"
        )
    if ix is None and not synced:
        if _holds_lock(ws):
            raise IndexLocked(
                "the search index is being updated by another process; try again later"
            )
        ix = _create(ws)
        stats.rebuilt = True

    workers = None
    if procs is None:  # workers pay off for a full build only
        procs = 1
        if not synced and not indexed and (os.cpu_count() or 1) > 1:
            workers = WORKERS if _corpus_size(ws) >= MULTIPROC_MIN else None
    budget = memory_budget(ws)
    if synced:
        scan = _run_synced(ws, scan_fn, stats, progress, cancelled, budget)
        stats.total = corpus_of(ws).count()
    else:
        assert ix is not None
        with _write_lock(ix):
            if not stats.rebuilt and ix.latest_generation() != generation:
                # another process wrote while this one waited for the lock: what is indexed
                # now (else its documents would be written twice)
                with searching(ws) as searcher:
                    indexed = _indexed(searcher.reader())
            update = _Update(ix, indexed, stats, procs, budget)
            if workers is not None:
                update.workers = workers
            update.translated = machine_translations(ws)
            held = len(indexed)  # before the catch-up consumes the map
            scan = update.run(ws, scan_fn, progress, cancelled)
        stats.total = held + stats.added - stats.removed  # without a new reader
    if not (cancelled and cancelled()):
        _write_state(ws, catalog=_catalog_key(ws, scan.generation))
    stats.seconds = time.perf_counter() - started
    return stats


def _run_synced(
    ws: Workspace,
    scan_fn: ScanFn,
    stats: IndexStats,
    progress: Callable[[int, int], None] | None,
    cancelled: Callable[[], bool] | None,
    budget: int,
) -> Any:
    """The update of an index in step with the catalog: only what the scan finds changed.
    The index is opened only when there is something to write. Raises RebuildNeeded when
    it turns out unreadable."""
    docs: list[Document] = []
    pending: dict[str, Any] = {}

    def on_index(action: Callable[[], None]) -> None:
        """Run an index operation; remember the index as broken when it fails as a damaged
        index fails (a full disk or a removed data folder is raised as it is)."""
        if "broken" in pending:
            return
        try:
            action()
        except index_errors() as exc:
            if is_full(exc) or (isinstance(exc, OSError) and not ws.data_dir.is_dir()):
                raise
            pending["broken"] = exc

    def start() -> None:
        pending["update"] = _start_synced(ws, stats, budget)

    def keep(doc: Document) -> None:  # index them after the scan, if there are any
        if "update" in pending:
            on_index(lambda: pending["update"].write(doc))
            return
        docs.append(doc)
        if len(docs) >= 64:  # many changes: open the index now, keep memory flat
            on_index(start)
            for held in docs:
                if "update" in pending:
                    on_index(lambda held=held: pending["update"].write(held))
            docs.clear()

    def finish(scan: Any) -> None:
        if "update" not in pending:
            start()
        update = pending["update"]
        for doc in docs:
            update.write(doc)
        for doc_id in scan.removed:
            update.delete(doc_id)
        update.commit()

    try:
        scan = scan_fn(progress=progress, cancelled=cancelled, on_document=keep)
        if not (docs or scan.removed or pending):
            return scan
        on_index(lambda: finish(scan))
        broken = pending.get("broken")
        if broken is None:
            stats.added += len(scan.added)
            stats.updated += len(scan.changed) - len(scan.added)
            stats.removed += len(scan.removed)
            return scan
        update = pending.get("update")
        if update is not None:
            update.cancel()
        forget_index(ws)
        _write_state(ws, catalog=None)  # what the catalog just read must go in too
        raise RebuildNeeded(
            f"the search index was unreadable ({type(broken).__name__}: {broken}); rebuilt it"
        )
    finally:
        update = pending.get("update")
        if update is not None and update.lock is not None:
            update.lock.release()
            update.lock = None


def _start_synced(ws: Workspace, stats: IndexStats, budget: int) -> _Update:
    ix = open_index(ws)
    lock = ix.lock("WRITELOCK")
    from whoosh.util.filelock import try_for

    if not try_for(lock.acquire, timeout=LOCK_WAIT, delay=0.1):
        raise IndexLocked(
            "the search index is being updated by another process "
            f"(waited {LOCK_WAIT:g} s); try again when it has finished"
        )
    update = _Update(ix, {}, stats, 1, budget, synced=True)
    update.lock = lock
    update.translated = machine_translations(ws)
    return update


def _catalog_key(ws: Workspace, version: str | None = None) -> str:
    """Which catalog state the index is in step with (`Corpus.version`)."""
    return version if version is not None else corpus_of(ws).version()


def refresh_documents(ws: Workspace, docs: list[Document]) -> int:
    """Re-index `docs` now even when their text is unchanged: a metadata correction changes
    their title, language or date, a new machine translation their `mt_<lang>` field.
    Without an index there is nothing to do: the next update builds it from the corrected
    catalog. Returns how many were re-indexed."""
    if not docs or not index_exists(ws):
        return 0
    docs = list({doc.id: doc for doc in docs}.values())  # each once (the last given)
    ix = open_index(ws)
    with _in_process_writer(ws), _write_lock(ix):
        update = _Update(ix, {doc.id: "" for doc in docs}, IndexStats(), 1)
        update.translated = machine_translations(ws)
        try:
            for doc in docs:
                update.write(doc)
            update.commit()
        except BaseException:
            update.cancel()
            raise
    return len(docs)
