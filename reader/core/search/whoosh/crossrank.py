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
from dataclasses import dataclass
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


def _parsed(query: str, fields: list[str], schema: Any) -> tuple[Any, str | None]:
    """`parse_query` of `query` over `fields`, phrases made searchable (memoised: a Whoosh
    query is only read by the ranking, never changed)."""
    key = (query, tuple(fields), tuple(schema.names()))
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
    """Rank the union of `subs` (the first is the query as typed), page `offset` on."""
    from reader.core.search.whoosh import ranking

    with searching(ws) as searcher:
        ctx = ranking.context(searcher)
        present = [lang for lang in sorted(ctx.langs) if lang in STEM_LANGS]
        masks, scores, error = [], [], None
        for i, sub in enumerate(subs):
            if sub.mt is not None:
                fields = [f"mt_{sub.mt}"]
            else:
                langs = present if sub.lang is None else [sub.lang] if sub.lang in present else []
                fields = ["title", "body", *(f"body_{lang}" for lang in langs)]
            q, problem = _parsed(sub.query, fields, searcher.schema)
            error = error or (problem if i == 0 else None)
            if uses_field(q, "tag"):
                q = resolve_tags(q, tag_docs())
            found = ranking.evaluate(ctx, q)
            mask = found.mask.copy()
            if sub.lang is not None:
                code = ctx.langs.index(sub.lang) if sub.lang in ctx.langs else -2
                mask &= ctx.lang_of == code
            if sub.mt is not None and sub.mt in ctx.langs:  # its own language has the text
                mask &= ctx.lang_of != ctx.langs.index(sub.mt)
            masks.append(mask)
            scores.append(_normalised(ctx, mask, found.score))
        mask_all = np.logical_or.reduce(masks)
        best, combined = _best_of(scores)
        page = ctx.top(ranking.Match(mask_all, combined), offset + limit)[offset:]
        out, best_of, original = [], [], []
        for docnum, score in page:
            out.append(Found.stored(searcher, docnum, score))
            best_of.append(int(best[docnum]))
            original.append(bool(masks[0][docnum]))
        return CrossRanked(
            total=int(mask_all.sum()),
            facets=ctx.facets(mask_all),
            found=out,
            best=best_of,
            original=original,
            error=error,
            generation=searcher.reader().generation(),
        )


def languages(ws: Workspace) -> list[str]:
    """The languages of the indexed documents."""
    from reader.core.search.whoosh import ranking

    with searching(ws) as searcher:
        return sorted(ranking.context(searcher).langs)


def _best_of(scores: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per document, which of `scores` is highest (the first on a tie) and that score: what
    `np.vstack(scores).argmax(axis=0)` and `.max(axis=0)` give, without their strided passes
    (those cost about 1 ms each at 20,000 documents and five sub-queries)."""
    combined = scores[0].copy()
    best = np.zeros(len(combined), np.intp)
    for i, score in enumerate(scores[1:], start=1):
        better = score > combined
        combined[better] = score[better]
        best[better] = i
    return best, combined


def _normalised(ctx: Any, mask: np.ndarray, score: np.ndarray) -> np.ndarray:
    """`score` divided by the best score among matched documents of the same language
    (documents without a language form a group of their own); 0 where not matched."""
    codes = ctx.lang_of + 1  # -1 (no language) -> 0
    best = np.zeros(len(ctx.langs) + 1)
    np.maximum.at(best, codes[mask], score[mask])
    out = np.zeros(len(score))
    group_best = best[codes[mask]]
    out[mask] = np.where(group_best > 0, score[mask] / np.where(group_best > 0, group_best, 1), 1)
    return out


__all__ = ["CrossRanked", "Sub", "languages", "run"]
