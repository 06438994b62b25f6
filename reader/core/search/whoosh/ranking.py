"""Matching and ranking a parsed query with numpy over the index's postings.

Part of the search (`reader.core.search.api`), one of the modules that know Whoosh. Whoosh's
collector scores one posting at a time in Python; here each term's postings are read a block
at a time into arrays (document numbers and weights), scored with BM25F in one vectorised
step, and combined over the query tree as dense per-document arrays: a boolean match mask
and a float score. Totals, language facets and the top hits then come from the same arrays.

The scores are Whoosh's own BM25F (B 0.75, K1 1.2, its idf and average field lengths, the
field boosts folded into the posting weights, query boosts), so the ranking is the one
`searcher.search(q)` gives; `tests/unit/test_search.py` checks them against each other.
Phrases and other leaves without a term list are matched by Whoosh; a phrase scores as the
sum of its words in its field.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

B, K1 = 0.75, 1.2  # whoosh.scoring.BM25F's defaults
POSTINGS_CACHE = 4_000_000  # postings kept per searcher (live search retypes words)
MAX_EXPANSION = 2000  # terms a prefix, wildcard or fuzzy word expands to at most


@dataclass
class Match:
    """What a query matches: `mask[d]` for every global document number, and its score."""

    mask: np.ndarray
    score: np.ndarray


@dataclass
class Context:
    """What ranking needs of one searcher (one index generation), built once and kept."""

    searcher_ref: weakref.ref  # not the searcher itself: that would keep it alive forever
    size: int  # document numbers 0..size-1, deleted ones included
    live: np.ndarray
    langs: list[str]
    lang_of: np.ndarray  # index into `langs` per document, -1 for none
    lengths: dict[str, np.ndarray] = field(default_factory=dict)
    postings: OrderedDict = field(default_factory=OrderedDict)
    cached: int = 0  # postings held in `postings`

    @property
    def searcher(self) -> Any:
        return self.searcher_ref()

    def empty(self) -> Match:
        return Match(np.zeros(self.size, bool), np.zeros(self.size))

    def facets(self, mask: np.ndarray) -> dict[str, int]:
        """Matching documents per language."""
        codes = self.lang_of[mask]
        counts = np.bincount(codes[codes >= 0], minlength=len(self.langs))
        return {lang: int(n) for lang, n in zip(self.langs, counts, strict=True) if n}

    def top(self, found: Match, page: int) -> list[tuple[int, float]]:
        """The `page` best (docnum, score) pairs, best first, ties by document number."""
        docs = np.flatnonzero(found.mask)
        if not len(docs) or page <= 0:
            return []
        scores = found.score[docs]
        if len(docs) > page:  # the page's last score, and every hit tied with it
            last = -np.partition(-scores, page - 1)[page - 1]
            keep = scores >= last
            docs, scores = docs[keep], scores[keep]
        order = np.lexsort((docs, -scores))[:page]
        return [(int(d), float(s)) for d, s in zip(docs[order], scores[order], strict=True)]


_contexts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def context(searcher) -> Context:
    """The ranking context of `searcher`, cached while the searcher lives."""
    found = _contexts.get(searcher)
    if found is None:
        found = _contexts[searcher] = _new_context(searcher)
    return found


def _new_context(searcher) -> Context:
    reader = searcher.reader()
    size = reader.doc_count_all()
    live = np.ones(size, bool)
    for leaf, offset in reader.leaf_readers():
        if leaf.has_deletions():
            gone = np.fromiter(leaf.deleted_docs_set, np.int64)
            live[gone + offset] = False
    ctx = Context(weakref.ref(searcher), size, live, [], np.full(size, -1, np.int32))
    for btext in reader.lexicon("lang"):
        docs, _ = term_postings(ctx, "lang", btext)
        ctx.lang_of[docs] = len(ctx.langs)
        ctx.langs.append(btext.decode("utf-8") if isinstance(btext, bytes) else str(btext))
    return ctx


# Postings -----------------------------------------------------------------------------------
def term_postings(ctx: Context, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(global document numbers, weights) of one term, deleted documents included."""
    key = (fieldname, btext)
    found = ctx.postings.get(key)
    if found is not None:
        ctx.postings.move_to_end(key)
        return found
    parts = []
    for leaf, offset in ctx.searcher.reader().leaf_readers():
        if key in leaf:
            docs, weights = _leaf_postings(leaf.postings(fieldname, btext))
            parts.append((docs + offset, weights))
    if len(parts) == 1:
        found = parts[0]
    elif parts:
        found = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    else:
        found = (np.zeros(0, np.int64), np.zeros(0, np.float32))
    ctx.postings[key] = found
    ctx.cached += len(found[0])
    while ctx.cached > POSTINGS_CACHE and len(ctx.postings) > 1:
        _key, (docs, _weights) = ctx.postings.popitem(last=False)
        ctx.cached -= len(docs)
    return found


def _leaf_postings(matcher) -> tuple[np.ndarray, np.ndarray]:
    """A segment's postings of one term: a block at a time straight into arrays for the
    index's own codec (`reader.core.search.whoosh.codec`), through the matcher otherwise."""
    from whoosh.matching.wrappers import FilterMatcher

    from reader.core.search.whoosh.codec import block_arrays, codec_classes

    if isinstance(matcher, FilterMatcher):  # deletions: applied with the live mask instead
        matcher = matcher.child
        matcher.reset()  # the filter has already moved it past the deleted documents
    if isinstance(matcher, codec_classes()[2]):
        blocks = []
        while not matcher._atend:
            matcher._read_data()
            blocks.append(block_arrays(matcher._data, matcher._blocklength))
            matcher._next_block()
        if len(blocks) == 1:
            return blocks[0]
        return np.concatenate([b[0] for b in blocks]), np.concatenate([b[1] for b in blocks])
    docs, weights = [], []
    while matcher.is_active():
        docs.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return np.array(docs, np.int64), np.array(weights, np.float32)


def _field_lengths(ctx: Context, fieldname: str) -> np.ndarray:
    """Every document's length in `fieldname` (Whoosh's byte-encoded lengths, decoded)."""
    found = ctx.lengths.get(fieldname)
    if found is not None:
        return found
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
    from whoosh.util.numeric import byte_to_length

    table = np.array([byte_to_length(b) for b in range(256)], np.float32)
    codes = np.zeros(ctx.size, np.uint8)
    for leaf, offset in ctx.searcher.reader().leaf_readers():
        column = leaf._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        if column is None:
            continue
        raw = column._dbfile.get(column._basepos, column._count)
        codes[offset : offset + len(raw)] = np.frombuffer(raw, np.uint8)
    found = ctx.lengths[fieldname] = table[codes]
    return found


# Evaluating a query -------------------------------------------------------------------------
def evaluate(ctx: Context, q) -> Match:
    """The documents `q` matches (live ones only) and their scores."""
    found = _evaluate(ctx, q)
    found.mask &= ctx.live
    return found


def _evaluate(ctx: Context, q) -> Match:
    from whoosh import query as wq

    if isinstance(q, wq.Term):
        return _term(ctx, q.fieldname, q.text, q.boost)
    if isinstance(q, (wq.Or, wq.DisjunctionMax)):
        out = ctx.empty()
        for child in q.children():
            found = _evaluate(ctx, child)
            out.mask |= found.mask
            if isinstance(q, wq.DisjunctionMax):
                np.maximum(out.score, found.score, out=out.score)
            else:
                out.score += found.score
        return _boosted(out, q.boost)
    if isinstance(q, wq.And):
        children = list(q.children())
        if not children:
            return ctx.empty()
        out = _evaluate(ctx, children[0])
        for child in children[1:]:
            if not out.mask.any():
                break
            found = _evaluate(ctx, child)
            out.mask &= found.mask
            out.score += found.score
        out.score[~out.mask] = 0.0
        return _boosted(out, q.boost)
    if isinstance(q, wq.AndNot):
        out = _evaluate(ctx, q.a)
        out.mask &= ~_evaluate(ctx, q.b).mask
        return out
    if isinstance(q, wq.AndMaybe):
        out, maybe = _evaluate(ctx, q.a), _evaluate(ctx, q.b)
        out.score += np.where(out.mask & maybe.mask, maybe.score, 0.0)
        return out
    if isinstance(q, wq.Require):
        out = _evaluate(ctx, q.a)
        out.mask &= _evaluate(ctx, q.b).mask
        return out
    if isinstance(q, wq.Not):
        mask = ~_evaluate(ctx, q.query).mask
        return Match(mask, np.where(mask, float(q.boost), 0.0))  # Whoosh scores it so
    if isinstance(q, wq.Every):
        return Match(np.ones(ctx.size, bool), np.full(ctx.size, float(q.boost)))
    if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
        return ctx.empty()
    if isinstance(q, wq.Phrase):
        return _phrase(ctx, q)
    if isinstance(q, wq.MultiTerm):
        return _expanded(ctx, q)
    return _by_whoosh(ctx, q)


def _boosted(found: Match, boost: float) -> Match:
    if boost != 1.0:
        found.score *= boost
    return found


def _term(ctx: Context, fieldname: str, text: Any, boost: float = 1.0) -> Match:
    """One term: BM25F on a scorable field, the posting weight on the others."""
    out = ctx.empty()
    schema = ctx.searcher.schema
    if fieldname not in schema:
        return out
    fieldobj = schema[fieldname]
    try:
        btext = fieldobj.to_bytes(text)
    except (ValueError, TypeError):
        return out
    docs, weights = term_postings(ctx, fieldname, btext)
    if not len(docs):
        return out
    out.mask[docs] = True
    if not fieldobj.scorable:  # an ID or keyword: its weight, as Whoosh scores it
        out.score[docs] = boost * weights
    else:
        searcher = ctx.searcher
        idf = searcher.idf(fieldname, text)
        avg = searcher.avg_field_length(fieldname) or 1
        lengths = _field_lengths(ctx, fieldname)[docs]
        tf = weights.astype(np.float64)
        out.score[docs] = boost * idf * (tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * lengths / avg))
    return out


def _phrase(ctx: Context, q) -> Match:
    """A phrase: Whoosh finds the documents (it needs positions); the score is the sum of
    its words' scores in its field."""
    out = _by_whoosh(ctx, q)
    if out.mask.any():
        for word in q.words:
            out.score += _term(ctx, q.fieldname, word).score
        out.score[~out.mask] = 0.0
    return _boosted(out, q.boost)


def _expanded(ctx: Context, q) -> Match:
    """A prefix, wildcard, fuzzy word or range: the terms it stands for, each scored as a
    term, or all with the query's boost as a constant score (prefixes and wildcards)."""
    out = ctx.empty()
    if q.fieldname not in ctx.searcher.schema:
        return out
    to_bytes = ctx.searcher.schema[q.fieldname].to_bytes
    constant = getattr(q, "constantscore", False)
    for count, term in enumerate(q._btexts(ctx.searcher.reader())):
        if count >= MAX_EXPANSION:
            break
        btext = term if isinstance(term, bytes) else to_bytes(term)
        if constant:
            out.mask[term_postings(ctx, q.fieldname, btext)[0]] = True
        else:
            found = _term(ctx, q.fieldname, btext.decode("utf-8"), q.boost)
            out.mask |= found.mask
            out.score += found.score
    if constant:
        out.score[out.mask] = float(q.boost)
    return out


def _by_whoosh(ctx: Context, q) -> Match:
    """Any other query: the documents Whoosh's own matcher finds, unscored."""
    out = ctx.empty()
    docs = np.fromiter(q.docs(ctx.searcher), np.int64)
    out.mask[docs] = True
    return out
