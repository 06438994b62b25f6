"""Ranking several queries as one: a query, its translations and its match in the machine
translations, for cross-language search (`reader.core.search.cross` builds them).

Each sub-query is evaluated on its own (with its own fields: the original words over every
language, a translation over its language's documents, the original over the `mt_<lang>`
translation field). Scores are normalised per sub-query and per document language (the best
match of each language scores 1.0), so each language's best hits compete fairly whatever its
share of the corpus and whatever a translated query's length; a document's score is its best
normalised score, and it says which sub-query gave it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from reader.core.search.whoosh.engine import Found
from reader.core.search.whoosh.index import STEM_LANGS, searching
from reader.core.search.whoosh.parse import (
    parse_query,
    resolve_tags,
    uses_field,
    without_stemmed_phrases,
)

if TYPE_CHECKING:
    from reader.core.workspace import Workspace


@dataclass(frozen=True)
class Sub:
    """One sub-query: `query` over the documents in `lang` (all when None), on their text,
    or on their machine translation into `mt` when set."""

    query: str
    lang: str | None = None
    mt: str | None = None


@dataclass
class CrossRanked:
    """The merged ranking: total, language facets, the page, and per hit which sub-query
    (index into the subs) matched it best; `original[i]` says the first sub-query (the
    query as typed) matched hit i too."""

    total: int
    facets: dict[str, int]
    found: list[Found]
    best: list[int]
    original: list[bool]
    error: str | None
    generation: int = -1  # of the index searched
    langs: list[str] = field(default_factory=list)  # the languages of its documents


def _words_only(q):
    """`q` with phrases on an `mt_` field (no positions kept) turned into their words."""
    from whoosh.query import And, Phrase, Term

    if isinstance(q, Phrase) and q.fieldname.startswith("mt_"):
        return And([Term(q.fieldname, w) for w in q.words])
    if q.is_leaf():
        return q
    return q.apply(_words_only).normalize()


PARSED_KEEP = 4096  # parsed sub-queries kept: retyping a query does not parse it again
_parsed_memo: OrderedDict[tuple, tuple[Any, str | None]] = OrderedDict()
_parsed_lock = threading.Lock()


_schema_names: dict[int, tuple[Any, tuple[str, ...]]] = {}


def _names(schema: Any) -> tuple[str, ...]:
    """The field names of `schema` (a searcher's schema lives as long as the searcher)."""
    found = _schema_names.get(id(schema))
    if found is None or found[0] is not schema:
        if len(_schema_names) > 32:
            _schema_names.clear()
        found = _schema_names[id(schema)] = (schema, tuple(schema.names()))
    return found[1]


def _parsed(query: str, fields: list[str], schema: Any) -> tuple[Any, str | None]:
    """`parse_query` of `query` over `fields`, phrases made searchable (memoised: a Whoosh
    query is only read by the ranking, never changed)."""
    key = (query, tuple(fields), _names(schema))
    with _parsed_lock:
        found = _parsed_memo.get(key)
        if found is not None:
            _parsed_memo.move_to_end(key)
            return found
    q, problem = parse_query(query, fields, schema)
    found = (_words_only(without_stemmed_phrases(q)), problem)
    with _parsed_lock:
        _parsed_memo[key] = found
        while len(_parsed_memo) > PARSED_KEEP:
            _parsed_memo.popitem(last=False)
    return found


def run(
    ws: Workspace,
    subs: list[Sub],
    *,
    limit: int,
    offset: int = 0,
    tag_docs: Callable[[], dict[str, list[str]]],
) -> CrossRanked:
    """Rank the union of `subs` (the first is the query as typed), page `offset` on.

    Sub-queries with the same text are evaluated once, over the union of their fields, and
    then cut by language: a document has no `body_<lang>` but its own language's, so that
    gives each of them what evaluating it alone gives. A translation equal to the query as
    typed (a name, a word both languages share) is the first sub-query cut to its language,
    normalised alike: it cannot beat the first, and is not evaluated at all."""
    from reader.core.search.whoosh import ranking

    with searching(ws) as searcher:
        ctx = ranking.context(searcher)
        present = [lang for lang in sorted(ctx.langs) if lang in STEM_LANGS]
        groups: dict[tuple[str, str | None], list[int]] = {}
        for i, sub in enumerate(subs):
            if i and sub.mt is None and sub.query == subs[0].query and subs[0] == Sub(sub.query):
                continue  # the first sub-query cut to its language (see above)
            groups.setdefault((sub.query, sub.mt), []).append(i)
        parts: list[tuple[int, np.ndarray, np.ndarray]] = []  # (sub, documents, normalised)
        error = None
        for (text, mt), members in groups.items():
            if mt is not None:
                fields = [f"mt_{mt}"]
            elif any(subs[i].lang is None for i in members):
                fields = ["title", "body", *(f"body_{lang}" for lang in present)]
            else:
                wanted = {subs[i].lang for i in members}
                fields = ["title", "body", *(f"body_{lang}" for lang in present if lang in wanted)]
            q, problem = _parsed(text, fields, searcher.schema)
            if members[0] == 0:
                error = problem
            if uses_field(q, "tag"):
                q = resolve_tags(q, tag_docs())
            found = ranking.evaluate(ctx, q)
            docs = np.flatnonzero(found.mask)
            codes = ctx.lang_of[docs]
            for i in members:
                sub, keep = subs[i], None
                if sub.lang is not None:
                    keep = codes == (ctx.langs.index(sub.lang) if sub.lang in ctx.langs else -2)
                if sub.mt is not None and sub.mt in ctx.langs:  # its own language has the text
                    keep = codes != ctx.langs.index(sub.mt)
                mine, mine_codes = (docs, codes) if keep is None else (docs[keep], codes[keep])
                score = found.score[mine]
                parts.append((i, mine, _normalised(len(ctx.langs), mine_codes, score)))
        parts.sort(key=lambda part: part[0])
        mask_all, combined, best = _merged(ctx.size, parts)
        page = ctx.top(ranking.Match(mask_all, combined), offset + limit)[offset:]
        first = parts[0][1] if parts and parts[0][0] == 0 else np.zeros(0, np.intp)
        out, best_of, original = [], [], []
        for docnum, score in page:
            out.append(Found.stored(searcher, docnum, score))
            best_of.append(int(best[docnum]))
            at = int(np.searchsorted(first, docnum))  # `first` is sorted
            original.append(at < len(first) and int(first[at]) == docnum)
        _remember_langs(ws, ctx.langs)
        return CrossRanked(
            total=int(mask_all.sum()),
            facets=ctx.facets(mask_all),
            found=out,
            best=best_of,
            original=original,
            error=error,
            generation=searcher.reader().generation(),
            langs=sorted(ctx.langs),
        )


LANGS_KEEP = 64  # index folders whose languages are remembered
_langs_seen: OrderedDict[str, list[str]] = OrderedDict()


def _remember_langs(ws: Workspace, langs: list[str]) -> None:
    key = str(ws.index_dir)
    with _parsed_lock:
        _langs_seen[key] = sorted(langs)
        _langs_seen.move_to_end(key)
        while len(_langs_seen) > LANGS_KEEP:
            _langs_seen.popitem(last=False)


def languages(ws: Workspace, *, seen: bool = False) -> list[str]:
    """The languages of the indexed documents. With `seen`, those the last search of this
    index found (no look at the index files), when there was one: `run` says which languages
    it found (`CrossRanked.langs`), so a caller whose guess was stale can search again."""
    from reader.core.search.whoosh import ranking

    if seen:
        with _parsed_lock:
            known = _langs_seen.get(str(ws.index_dir))
        if known is not None:
            return list(known)
    with searching(ws) as searcher:
        langs = sorted(ranking.context(searcher).langs)
    _remember_langs(ws, langs)
    return langs


def _merged(size: int, parts: list[tuple[int, np.ndarray, np.ndarray]]):
    """Which documents some sub-query matches, their best normalised score among the
    sub-queries that match them, and which sub-query gave it (the first on a tie); `parts`
    in sub-query order, each (sub-query, its documents, their normalised scores)."""
    matched = np.zeros(size, bool)
    combined = np.full(size, -np.inf)
    best = np.zeros(size, np.intp)
    for i, docs, score in parts:
        matched[docs] = True
        better = score > combined[docs]
        won = docs[better]
        combined[won] = score[better]
        best[won] = i
    combined[~matched] = 0.0
    return matched, combined, best


def _normalised(groups: int, codes: np.ndarray, score: np.ndarray) -> np.ndarray:
    """`score` (of matched documents whose language codes are `codes`, -1 for none) divided
    by the best score among them of the same language (documents without a language form a
    group of their own); 1.0 where that best is not positive."""
    if not len(score):
        return score.astype(np.float64)
    first = codes[0]
    if (codes == first).all():  # one language (a translated query): one group
        top = score.max()
        return score / top if top > 0 else np.ones(len(score))
    best = np.zeros(groups + 1)
    np.maximum.at(best, codes + 1, score)
    group_best = best[codes + 1]
    return np.where(group_best > 0, score / np.where(group_best > 0, group_best, 1), 1.0)


__all__ = ["CrossRanked", "Sub", "languages", "run"]
