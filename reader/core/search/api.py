"""Search, engine-neutral: ranked hits with highlighted snippets, language facets, paging,
"did you mean" for a query that finds nothing.

This module is the one owner of the index's life cycle: build the index if there is none,
update it first (`update_first=True`, what the CLI does), and rebuild it when it is damaged,
unreadable or of an older format (`update_index`, `update_paths`: the engine only reports
`RebuildNeeded`). An error while ranking leads to a rebuild only when the engine's
`check_index` finds the index files damaged; any other error is raised as it is, never
hidden by a rebuild.

The query language is in `reader.core.search.query` (words AND by default, OR, NOT, "phrases",
field:value, prefix*, fuzzy~, ranges, `-word`, `+word`, hyphenated words as phrases). Words
go across the title, the accent-folded body and the stemmed body of every language present,
so `refunds` finds "Refund" and `evolution` finds "évolution". Filters: `lang:fr`,
`author:name`, `date:[2025-01-01 TO 2025-12-31]`, `tag:claim` (documents with at least one
claim), `label:x` (documents with a tag labelled x). `tag:` and `label:` are resolved at
query time from the tag store, never from the index, so the filter is never stale.

The engine (`reader.core.search.whoosh.engine`, the only code that knows Whoosh) ranks; the
highlights are marked by `reader.core.search.highlight` in the stored clean text of the shown
hits only, with offsets in code points of `Document.text`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reader.core.errors import NoSpace, ReaderError
from reader.core.search import query as query_language
from reader.core.search.highlight import Snippet, make_snippets
from reader.core.search.whoosh import engine
from reader.core.search.whoosh.engine import (
    IndexLocked,
    IndexStats,
    RebuildNeeded,
    forget_index,
    index_exists,
    refresh_documents,
)

if TYPE_CHECKING:
    from reader.core.documents.model import Document
    from reader.core.workspace import Workspace

__all__ = [
    "Hit",
    "IndexLocked",
    "IndexStats",
    "SearchResult",
    "Snippet",
    "forget_index",
    "index_exists",
    "match_spans",
    "refresh_documents",
    "search",
    "syntax_error",
    "update_index",
    "update_paths",
]

syntax_error = query_language.syntax_error


@dataclass
class Hit:
    """One ranked document."""

    id: str
    title: str
    lang: str
    date: str | None
    score: float
    snippets: list[Snippet] = field(default_factory=list)
    # Cross-language search only: how the hit matched (None: the query as typed, in the
    # original text; else {"lang", "text", "field": "query" | "translation"}).
    via: dict | None = None
    cross: bool = False

    def to_json(self) -> dict:
        out = {
            "id": self.id,
            "title": self.title,
            "lang": self.lang,
            "date": self.date,
            "score": round(self.score, 4),
            "snippets": [s.to_json() for s in self.snippets],
        }
        if self.cross:
            out["via"] = self.via
        return out

    @classmethod
    def of(cls, found: Any, snippets: list[Snippet], **how: Any) -> Hit:
        """A hit from the engine's ranked document (`how`: `via` and `cross`)."""
        return cls(
            id=found.id,
            title=found.title,
            lang=found.lang,
            date=found.date,
            score=found.score,
            snippets=snippets,
            **how,
        )


@dataclass
class SearchResult:
    """The answer to a query: `total` matches, the `hits` from `offset` on, facet counts by
    language.

    `error` is the syntax-error message when the query fell back to plain terms; `notice`
    says when the index had to be built or rebuilt first (not part of the JSON).
    `did_you_mean` is set when the query found nothing and a respelling of its words did:
    `total`, `facets` and `hits` are then those of `did_you_mean`.
    """

    query: str
    total: int = 0
    facets: dict[str, dict[str, int]] = field(default_factory=lambda: {"lang": {}})
    hits: list[Hit] = field(default_factory=list)
    error: str | None = None
    notice: str | None = None
    offset: int = 0
    did_you_mean: str | None = None
    queries: list[dict] | None = None  # cross-language: [{"lang", "text", "source"}]
    missing_models: list[tuple[str, str]] = field(default_factory=list)  # (from, to) pairs

    def to_json(self) -> dict:
        out = {
            "query": self.query,
            "total": self.total,
            "facets": {"lang": dict(self.facets.get("lang", {}))},
            "hits": [h.to_json() for h in self.hits],
            "did_you_mean": self.did_you_mean,
        }
        if self.queries is not None:
            out["queries"] = self.queries
        return out


def search(
    ws: Workspace,
    query: str,
    *,
    limit: int = 20,
    offset: int = 0,
    update_first: bool = False,
    suggest: bool = True,
    cross: bool = False,
    from_lang: str | None = None,
) -> SearchResult:
    """Run `query` on the workspace's index: the hits ranked `offset` to `offset + limit`.

    The index is built first when there is none, brought up to date first with
    `update_first`, and rebuilt once when it is damaged (`notice` says so). A syntax error
    sets `error` and searches the plain words instead. When nothing is found and `suggest`,
    the query's unknown words are respelled as the closest words of the corpus and searched
    again (`did_you_mean`). With `cross`, the query is also translated into the corpus's
    other languages and matched in the machine translations (`reader.core.search.cross`;
    `from_lang` is the query's language). Never raises for a bad query; raises IndexLocked
    when there is no index and another process is writing one.
    """
    query = query.strip()
    notice = None
    if not index_exists(ws):
        notice = _build(ws)
    elif update_first:
        try:
            notice = update_index(ws, full_scan=False).notice  # folder mtimes, see Corpus.refresh
        except (IndexLocked, NoSpace) as exc:  # reading needs no room: search what is there
            notice = f"searching the index as it is: {exc}"
    languages = (cross, from_lang)
    result = _search(ws, query, limit, offset, languages)
    if suggest and not result.total and not result.error and query:
        retry = _did_you_mean(ws, query, limit, offset, languages)
        if retry is not None:
            result = retry
    result.notice = result.notice or notice  # a rebuild's notice first
    return result


def update_index(
    ws: Workspace,
    *,
    rebuild: bool = False,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    procs: int | None = None,
    full_scan: bool = True,
) -> IndexStats:
    """Bring the index up to date with the corpus folder (the engine's `update_index`, which
    reads only what changed), building it when there is none and rebuilding it, with a
    `notice`, when it is damaged, unreadable or of an older format. Raises IndexLocked when
    another process writes the index, ReaderError on a full disk or a read-only folder."""
    options = {"progress": progress, "cancelled": cancelled, "procs": procs}
    try:
        return engine.update_index(ws, rebuild=rebuild, full_scan=full_scan, **options)
    except RebuildNeeded as why:
        return _rebuilt(ws, why, options)


def update_paths(ws: Workspace, paths: Iterable[str | os.PathLike[str]]) -> IndexStats:
    """Index the changes of these files or folders only (a folder watcher's events); like
    `update_index`, a missing or damaged index is built or rebuilt from the whole corpus."""
    try:
        return engine.update_paths(ws, paths)
    except RebuildNeeded as why:
        return _rebuilt(ws, why, {})


def _rebuilt(ws: Workspace, why: RebuildNeeded, options: dict) -> IndexStats:
    forget_index(ws)
    stats = engine.update_index(ws, rebuild=True, **options)
    stats.notice = why.notice
    return stats


def _build(ws: Workspace) -> str:
    try:
        stats = update_index(ws)
    except IndexLocked as exc:
        raise IndexLocked(f"no search index yet and {exc}") from None
    return stats.notice or f"built the search index ({stats.total} documents)"


Languages = tuple[bool, str | None]  # (cross-language, the query's language)


def _search(
    ws: Workspace, query: str, limit: int, offset: int, languages: Languages = (False, None)
) -> SearchResult:
    """One query on the index; a damaged index is rebuilt once (`notice`), and any error the
    engine raises on an index that reads back whole is raised as it is."""
    try:
        return _ranked(ws, query, limit, offset, languages)
    except ReaderError:
        raise
    except Exception as exc:  # re-raised as it is unless the index files are damaged
        damage = engine.check_index(ws)
        if damage is None:
            raise
        forget_index(ws)
        stats = update_index(ws, rebuild=True)
        result = _ranked(ws, query, limit, offset, languages)
        result.notice = stats.notice or (
            f"the search index was unreadable ({damage}; {type(exc).__name__}); rebuilt it"
        )
        return result


def _ranked(
    ws: Workspace, query: str, limit: int, offset: int, languages: Languages = (False, None)
) -> SearchResult:
    result = SearchResult(query, offset=offset)
    if not query:
        return result
    if languages[0]:
        from reader.core.search import cross

        result, missing = cross.ranked(
            ws,
            query,
            limit=limit,
            offset=offset,
            from_lang=languages[1],
            tag_docs=lambda: _tag_docs(ws),
        )
        result.missing_models = missing
        return result
    ranked = engine.run(
        ws, query, limit=max(1, limit), offset=max(0, offset), tag_docs=lambda: _tag_docs(ws)
    )
    result.total, result.error = ranked.total, ranked.error
    result.facets = {"lang": ranked.facets}
    for found in ranked.found:
        spans = ranked.highlighter.spans(found.text, found.lang)
        result.hits.append(Hit.of(found, make_snippets(found.text, spans)))
    return result


def _did_you_mean(
    ws: Workspace, query: str, limit: int, offset: int, languages: Languages
) -> SearchResult | None:
    """The result of `query` with its unknown words respelled, if that finds something."""
    words = query_language.free_words(query)
    if not words:
        return None
    respelled = engine.suggest(ws, words)
    if not respelled:
        return None
    suggestion = query_language.replace_words(query, respelled)
    if suggestion == query:
        return None
    result = _search(ws, suggestion, limit, offset, languages)
    if not result.total:
        return None
    result.query, result.did_you_mean = query, suggestion
    return result


def _tag_docs(ws: Workspace) -> dict[str, list[str]]:
    """tag kind -> ids of documents with at least one such tag, from the tag store."""
    from reader.core.tags import open_tag_store

    out: dict[str, list[str]] = {}
    with open_tag_store(ws, readonly=True) as store:
        tag_counts = store.doc_tag_counts()
        labelled = [(tag.doc_id, tag.labels) for tag in store.list() if tag.labels]
    for doc_id, counts in tag_counts.items():
        for tag, count in counts.items():
            if count:
                out.setdefault(tag.lower(), []).append(doc_id)
    for doc_id, labels in labelled:  # `label:x` is parsed as `tag:#x`
        for label in labels:
            docs = out.setdefault(f"#{label}", [])
            if doc_id not in docs:
                docs.append(doc_id)
    return out


def match_spans(query: str, doc: Document) -> list[tuple[int, int]]:
    """Every span of `doc.text` that the query's words match, sorted and merged.

    Uses the index's analysis, so `refunds` marks "Refunds" and "refund"; `title:` words
    are marked in the text too; words under NOT and filters (lang:, date:, tag:) are not.
    """
    query = query.strip()
    if not query or not doc.text:
        return []
    return engine.highlighter(query, doc.lang).spans(doc.text, doc.lang)
