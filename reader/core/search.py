"""Queries over the index: parsing, ranked hits with highlighted snippets, language facets.

The query language is Whoosh's: AND by default, OR, NOT, "phrases", field:value, prefix*,
fuzzy~, ranges. Words go across the title, the accent-folded body and the stemmed body of
every language present in the index, so `refunds` finds "Refund" and `evolution` finds
"évolution". Filters: `lang:fr`, `author:name`, `date:[2025-01-01 TO 2025-12-31]`,
`tag:claim` (documents with at least one claim).

`tag:` is resolved at query time from the annotation store, never from the index, so the
filter is never stale: tagging a passage needs no reindex.

Highlights come from the character offsets stored in the index postings and snippets are cut
from the clean text stored in the index, so every offset is a code point of `Document.text`.
"""

from __future__ import annotations

import bisect
import pickle
import re
import struct
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reader.core.errors import ReaderError
from reader.core.index import (
    BODY_FIELDS,
    STEM_LANGS,
    IndexLocked,
    folding_analyzer,
    forget_index,
    index_exists,
    searching,
    stemming_analyzer,
    update_index,
)

if TYPE_CHECKING:
    from reader.core.documents import Document
    from reader.core.workspace import Workspace

FILTER_FIELDS = ("lang", "date", "author", "tag", "id", "title")
TEXT_FIELDS = ("title", *BODY_FIELDS)
MAX_SNIPPETS = 3
SNIPPET_BEFORE = 70  # characters of context before the first highlight of a snippet
SNIPPET_LENGTH = 220  # longest snippet, in characters
MAX_HIGHLIGHT_TERMS = 200  # expansions of prefix*/fuzzy~ looked up for highlighting
_FIELD_PREFIX = re.compile(r"(?<![\w\"])([A-Za-z_]\w*):")
_WORD = re.compile(r"\w+")


@dataclass
class Snippet:
    """A passage `text == Document.text[start:end]` with its highlights (absolute offsets)."""

    text: str
    start: int
    end: int
    highlights: list[tuple[int, int]] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "highlights": [[s, e] for s, e in self.highlights],
        }


@dataclass
class Hit:
    """One ranked document."""

    id: str
    title: str
    lang: str
    date: str | None
    score: float
    snippets: list[Snippet] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "lang": self.lang,
            "date": self.date,
            "score": round(self.score, 4),
            "snippets": [s.to_json() for s in self.snippets],
        }


@dataclass
class SearchResult:
    """The answer to a query: `total` matches, the top `hits`, facet counts by language.

    `error` is the syntax-error message when the query fell back to plain terms; `notice`
    says when the index had to be built or rebuilt first (not part of the JSON).
    """

    query: str
    total: int = 0
    facets: dict[str, dict[str, int]] = field(default_factory=lambda: {"lang": {}})
    hits: list[Hit] = field(default_factory=list)
    error: str | None = None
    notice: str | None = None

    def to_json(self) -> dict:
        return {
            "query": self.query,
            "total": self.total,
            "facets": {"lang": dict(self.facets.get("lang", {}))},
            "hits": [h.to_json() for h in self.hits],
        }


# Parsing -----------------------------------------------------------------------------------
def syntax_error(query: str) -> str | None:
    """Why `query` is not valid query syntax, or None. (Whoosh itself never refuses a query.)"""
    plain = re.sub(r'"[^"]*"', '""', query)
    if query.count('"') % 2:
        return 'unclosed quote: add the closing "'
    depth = 0
    for char in plain:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return "a ')' has no matching '('"
    if depth:
        return "unclosed '(': add the closing ')'"
    if plain.count("[") != plain.count("]") or plain.count("{") != plain.count("}"):
        return "unbalanced range brackets: write date:[2025-01-01 TO 2025-12-31]"
    for match in _FIELD_PREFIX.finditer(plain):
        name, rest = match.group(1), plain[match.end() :]
        if name.lower() not in FILTER_FIELDS and not name.startswith("body"):
            return f"unknown field {name!r}; fields: {', '.join(FILTER_FIELDS)}"
        if not rest or rest[0].isspace() or rest[0] == ")":
            return f"{name}: needs a value, e.g. {name}:word"
    return None


def _parser(fields: list[str], schema, plain: bool = False):
    from whoosh import qparser

    parser = qparser.MultifieldParser(fields, schema, group=qparser.AndGroup)
    if plain:
        for plugin in (
            qparser.FieldsPlugin,
            qparser.WildcardPlugin,
            qparser.PhrasePlugin,
            qparser.RangePlugin,
            qparser.GroupPlugin,
            qparser.OperatorsPlugin,
            qparser.BoostPlugin,
            qparser.EveryPlugin,
            qparser.SingleQuotePlugin,
        ):
            parser.remove_plugin_class(plugin)
    else:
        parser.add_plugin(qparser.FuzzyTermPlugin())
    return parser


def parse_query(query: str, fields: list[str], schema) -> tuple[Any, str | None]:
    """The Whoosh query for `query` over `fields`, and the syntax error if it fell back."""
    error = syntax_error(query)
    if error is None:
        try:
            return _parser(fields, schema).parse(query), None
        except Exception as exc:  # whoosh is lenient; this is a last resort
            error = str(exc) or type(exc).__name__
    words = " ".join(
        w for w in _WORD.findall(_FIELD_PREFIX.sub(" ", query)) if w not in ("AND", "OR", "NOT")
    )
    return _parser(fields, schema, plain=True).parse(words), error


def _positive_leaves(q) -> list:
    """The leaf queries of `q` that are not under a NOT."""
    from whoosh.query import Not

    if isinstance(q, Not):
        return []
    if q.is_leaf():
        return [q]
    return [leaf for child in q.children() for leaf in _positive_leaves(child)]


def _resolve_tags(q, tag_docs: dict[str, list[str]]):
    """`q` with every `tag:x` term replaced by the documents that carry tag x."""
    from whoosh.query import NullQuery, Or, Term

    if isinstance(q, Term) and q.fieldname == "tag":
        ids = tag_docs.get(str(q.text).lower(), [])
        return Or([Term("id", doc_id) for doc_id in ids]) if ids else NullQuery
    if q.is_leaf():
        return q
    return q.apply(lambda child: _resolve_tags(child, tag_docs))


def _tag_docs(ws: Workspace) -> dict[str, list[str]]:
    """tag kind -> ids of documents with at least one such tag, from the annotation store."""
    try:
        from reader.core.annotations import AnnotationStore
    except ImportError:  # the tag store is not part of this installation
        return {}
    out: dict[str, list[str]] = {}
    store = AnnotationStore(ws)
    try:
        tag_counts = store.doc_tag_counts()
    finally:
        getattr(store, "close", lambda: None)()
    for doc_id, counts in tag_counts.items():
        for tag, count in counts.items():
            if count:
                out.setdefault(tag.lower(), []).append(doc_id)
    return out


def _uses_field(q, name: str) -> bool:
    return any(leaf.field() == name for leaf in q.leaves())


# Searching ---------------------------------------------------------------------------------
_INDEX_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    ValueError,
    KeyError,
    IndexError,
    struct.error,
    pickle.UnpicklingError,
    zlib.error,
)


def search(ws: Workspace, query: str, *, limit: int = 20) -> SearchResult:
    """Run `query` on the workspace's index (built first if there is none).

    A syntax error sets `error` and searches the plain words instead; an unreadable index
    is rebuilt once (`notice` says so). Never raises for a bad query.
    """
    query = query.strip()
    notice = None
    if not index_exists(ws):
        notice = _build(ws)
    from whoosh.index import IndexError as WhooshIndexError
    from whoosh.reading import CorruptIndexError

    try:
        result = _search(ws, query, limit)
    except (*_INDEX_ERRORS, WhooshIndexError, CorruptIndexError) as exc:
        forget_index(ws)
        stats = update_index(ws, rebuild=True)
        notice = stats.notice or f"the search index was unreadable ({exc}); rebuilt it"
        result = _search(ws, query, limit)
    result.notice = notice
    return result


def _build(ws: Workspace) -> str | None:
    try:
        stats = update_index(ws)
    except IndexLocked as exc:
        raise ReaderError(f"no search index yet and {exc}") from None
    return stats.notice or f"built the search index ({stats.total} documents)"


def _search(ws: Workspace, query: str, limit: int) -> SearchResult:
    result = SearchResult(query)
    if not query:
        return result
    with searching(ws) as searcher:
        reader = searcher.reader()
        present = sorted(_text(t) for t in reader.lexicon("lang") if _text(t) in STEM_LANGS)
        fields = ["title", "body", *(f"body_{lang}" for lang in present)]
        q, result.error = parse_query(query, fields, searcher.schema)
        if _uses_field(q, "tag"):
            q = _resolve_tags(q, _tag_docs(ws))
        matched = _docset(searcher, q)
        result.total = len(matched)
        langs = _lang_sets(searcher)
        counts = {lang: len(matched & docs) for lang, docs in langs.items()}
        result.facets = {"lang": {lang: n for lang, n in sorted(counts.items()) if n}}
        top = []
        if matched:
            page = min(max(1, limit), len(matched))
            fielded = per_field_conjunction(q)
            results = searcher.search(fielded, limit=page) if fielded is not None else None
            if results is None or results.scored_length() < page:
                results = searcher.search(q, limit=page)
            top = [results[i] for i in range(min(limit, results.scored_length()))]
        spans = _hit_spans(reader, q, [hit.docnum for hit in top])
        for hit in top:
            stored = hit.fields()
            text = stored.get("text", "")
            result.hits.append(
                Hit(
                    id=stored["id"],
                    title=stored.get("title", ""),
                    lang=stored.get("lang", ""),
                    date=stored.get("date"),
                    score=float(hit.score or 0.0),
                    snippets=make_snippets(text, spans.get(hit.docnum, [])),
                )
            )
    return result


# Counting matches: sets of document numbers read block by block (much faster than stepping
# a matcher through every posting), combined with set operations.
_lang_cache: dict[int, tuple[Any, dict[str, set[int]]]] = {}


def _lang_sets(searcher) -> dict[str, set[int]]:
    """lang -> document numbers, cached for this searcher (i.e. this index generation)."""
    cached = _lang_cache.get(id(searcher))
    if cached is not None and cached[0] is searcher:
        return cached[1]
    reader = searcher.reader()
    sets = {_text(t): _term_ids(reader, "lang", t) for t in reader.lexicon("lang")}
    _lang_cache.clear()
    _lang_cache[id(searcher)] = (searcher, sets)
    return sets


def _leaf_ids(matcher) -> set[int]:
    """Every document number of a fresh leaf matcher."""
    if not (hasattr(matcher, "_read_ids") and hasattr(matcher, "_next_block")):
        return set(matcher.all_ids())
    ids: set[int] = set()
    while matcher.is_active():
        if matcher._ids is None:
            matcher._read_ids()
        ids.update(matcher._ids[matcher._i :])
        matcher._next_block()
    return ids


def _term_ids(reader, fieldname: str, btext: bytes) -> set[int]:
    """The (live) document numbers holding a term."""
    from whoosh.matching.wrappers import FilterMatcher

    out: set[int] = set()
    for leaf, offset in reader.leaf_readers():
        if (fieldname, btext) not in leaf:
            continue
        matcher = leaf.postings(fieldname, btext)
        deleted: Any = ()
        if isinstance(matcher, FilterMatcher):
            deleted, matcher = leaf.deleted_docs_set, matcher.child
        ids = _leaf_ids(matcher)
        ids.difference_update(deleted)
        out.update(i + offset for i in ids) if offset else out.update(ids)
    return out


TERM_CACHE_SIZE = 64  # per-term document sets kept per searcher (live search retypes words)


def _cached_term_ids(searcher, fieldname: str, btext: bytes) -> frozenset[int]:
    """`_term_ids`, remembered for this searcher (a new index generation gets a new one)."""
    cache = getattr(searcher, "_reader_term_ids", None)
    if cache is None:
        cache = OrderedDict()
        searcher._reader_term_ids = cache
    key = (fieldname, btext)
    found = cache.get(key)
    if found is None:
        found = cache[key] = frozenset(_term_ids(searcher.reader(), fieldname, btext))
        while len(cache) > TERM_CACHE_SIZE:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    return found


def _docset(searcher, q) -> set[int]:
    """The document numbers that `q` matches, without scoring."""
    from whoosh import query as wq

    reader = searcher.reader()
    if isinstance(q, wq.Term):
        try:
            btext = searcher.schema[q.fieldname].to_bytes(q.text)
        except (KeyError, ValueError):
            return set()
        return set(_cached_term_ids(searcher, q.fieldname, btext))
    if isinstance(q, (wq.Or, wq.DisjunctionMax)):
        out: set[int] = set()
        for child in q.children():
            out |= _docset(searcher, child)
        return out
    if isinstance(q, wq.And):
        children = list(q.children())
        if not children:
            return set()
        out = _docset(searcher, children[0])
        for child in children[1:]:
            if not out:
                break
            out &= _docset(searcher, child)
        return out
    if isinstance(q, wq.AndNot):
        return _docset(searcher, q.a) - _docset(searcher, q.b)
    if isinstance(q, wq.AndMaybe):
        return _docset(searcher, q.a)
    if isinstance(q, wq.Require):
        return _docset(searcher, q.a) & _docset(searcher, q.b)
    if isinstance(q, wq.Not):
        return set(reader.all_doc_ids()) - _docset(searcher, q.query)
    if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
        return set()
    return set(q.docs(searcher))


def per_field_conjunction(q):
    """For ranking `a b` (And of per-word Ors over fields): Or over fields of And of words.

    `And(Or(body:a, body_en:a'), Or(body:b, body_en:b'))` becomes
    `Or(And(body:a, body:b), And(body_en:a', body_en:b'))`, which Whoosh ranks 2-3x faster
    (each conjunction skips within one field) and scores by fields holding every word. A word
    a stemmed field lacks (a stop word) is required through its `body` term. Every document
    it matches matches `q`; it is used for ranking only when it still fills the page, so
    totals and facets always come from `q`. None when `q` has another shape.
    """
    from whoosh.query import And, Or, Term

    if not isinstance(q, And):
        return None
    groups: list[dict[str, Any]] = []
    filters = []
    for child in q.children():
        if isinstance(child, Or) and all(
            isinstance(t, Term) and t.fieldname in TEXT_FIELDS for t in child.children()
        ):
            groups.append({t.fieldname: t for t in child.children()})
        elif isinstance(child, Term) and child.fieldname in TEXT_FIELDS:
            groups.append({child.fieldname: child})
        elif not any(leaf.field() in TEXT_FIELDS for leaf in child.leaves()):
            filters.append(child)
        else:
            return None
    if len(groups) < 2:
        return None
    fields = sorted({name for group in groups for name in group})
    branches = []
    for name in fields:
        terms = [group.get(name) or group.get("body") for group in groups]
        if any(t is None for t in terms) or all(t.fieldname != name for t in terms):
            continue
        branches.append(And(terms))
    if not branches:
        return None
    return And([Or(branches), *filters]) if filters else Or(branches)


def _text(term: Any) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else str(term)


def _highlight_targets(q):
    """The positive leaves of `q` on text fields, with `title:` leaves moved to `body`.

    Title words are highlighted in the body: the title field has the body's folding analyzer
    and the title is (nearly always) the first line of the text.
    """
    out = []
    for leaf in _positive_leaves(q):
        name = leaf.field()
        if name == "title":
            leaf = leaf.copy()
            leaf.fieldname = "body"
        elif name not in BODY_FIELDS:
            continue
        out.append(leaf)
    return out


def _highlight_terms(reader, q) -> tuple[list[tuple[str, bytes]], list[tuple[str, list, int]]]:
    """The (field, term) pairs to highlight for `q`, and its phrases as (field, terms, slop)."""
    from whoosh.query import Phrase

    terms: set[tuple[str, bytes]] = set()
    phrases = []
    for leaf in _highlight_targets(q):
        name = leaf.field()
        if isinstance(leaf, Phrase):
            field = reader.schema[name]
            words = [field.to_bytes(w) for w in leaf.words]
            if words and all((name, w) in reader for w in words):
                phrases.append((name, words, max(1, leaf.slop)))
            continue
        try:
            found = leaf.existing_terms(reader, phrases=True, expand=True)
        except Exception:  # an odd leaf (e.g. a range on text) is not worth highlighting
            continue
        for fname, btext in sorted(found):
            if fname == name and len(terms) < MAX_HIGHLIGHT_TERMS:
                terms.add((fname, btext))
    return sorted(terms), phrases


def _postings_chars(reader, fieldname: str, btext: bytes, wanted: list[int]) -> dict[int, list]:
    """docnum -> [(position, start, end), ...] of a term, for the sorted `wanted` docnums."""
    out: dict[int, list] = {}
    try:
        matcher = reader.postings(fieldname, btext)
    except Exception:
        return out
    for docnum in wanted:
        if not matcher.is_active():
            break
        if matcher.id() < docnum:
            matcher.skip_to(docnum)
            if not matcher.is_active():
                break
        if matcher.id() == docnum:
            out[docnum] = matcher.value_as("characters")
    return out


def phrase_spans(occurrences: list[list[tuple[int, int, int]]], slop: int = 1):
    """Spans of a phrase from its words' (position, start, end) lists: each next word at most
    `slop` positions after the previous one, in order."""
    if not occurrences or not all(occurrences):
        return []
    later = [{pos: (start, end) for pos, start, end in occ} for occ in occurrences[1:]]
    spans = []
    for pos, start, end in occurrences[0]:
        current, last_end = pos, end
        for positions in later:
            step = next((p for p in range(current + 1, current + slop + 1) if p in positions), None)
            if step is None:
                break
            current, last_end = step, positions[step][1]
        else:
            spans.append((start, last_end))
    return spans


def _hit_spans(reader, q, docnums: list[int]) -> dict[int, list[tuple[int, int]]]:
    """docnum -> sorted, merged character spans of the query's terms, from the postings."""
    spans: dict[int, set[tuple[int, int]]] = {d: set() for d in docnums}
    wanted = sorted(set(docnums))
    if not wanted:
        return {}
    terms, phrases = _highlight_terms(reader, q)
    for fieldname, btext in terms:
        for docnum, chars in _postings_chars(reader, fieldname, btext, wanted).items():
            spans[docnum].update((start, end) for _pos, start, end in chars)
    for fieldname, words, slop in phrases:
        per_word = [_postings_chars(reader, fieldname, w, wanted) for w in words]
        for docnum in wanted:
            occurrences = [found.get(docnum, []) for found in per_word]
            spans[docnum].update(phrase_spans(occurrences, slop))
    return {d: merge_spans(s) for d, s in spans.items()}


def merge_spans(spans) -> list[tuple[int, int]]:
    """Sorted spans with overlapping ones merged."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


# Snippets ----------------------------------------------------------------------------------
def _snap_start(text: str, start: int, first: int) -> int:
    """A snippet start at or after `start`, at a word or paragraph boundary before `first`."""
    para = text.rfind("\n", 0, first) + 1
    if para >= start:
        return para
    space = text.find(" ", start, first)
    return space + 1 if space != -1 else start


def _snap_end(text: str, end: int, last: int) -> int:
    """A snippet end at or before `end`, at a word or paragraph boundary after `last`."""
    para = text.find("\n", last)
    if para != -1 and para <= end:
        return para
    if end >= len(text):
        return len(text)
    space = text.rfind(" ", last, end)
    return space if space != -1 else end


def make_snippets(
    text: str, spans: list[tuple[int, int]], count: int = MAX_SNIPPETS
) -> list[Snippet]:
    """One to `count` passages of `text` around the densest groups of `spans`.

    Without spans (a filter-only query), the opening of the text.
    """
    if not spans:
        end = _snap_end(text, SNIPPET_LENGTH, 0) if len(text) > SNIPPET_LENGTH else len(text)
        return [Snippet(text[:end], 0, end, [])] if text else []
    starts = [s for s, _ in spans]
    windows = []
    for i, (first, _) in enumerate(spans):
        limit = first + SNIPPET_LENGTH - SNIPPET_BEFORE
        j = bisect.bisect_right(starts, limit, lo=i)
        inside = [sp for sp in spans[i:j] if sp[1] <= limit + 40]
        words = {text[s:e].lower() for s, e in inside}
        windows.append((len(words) * 10 + len(inside), -first, inside))
    windows.sort(reverse=True)
    chosen: list[tuple[int, int, list]] = []
    for _score, _neg, inside in windows:
        lo = max(0, inside[0][0] - SNIPPET_BEFORE)
        hi = min(len(text), lo + SNIPPET_LENGTH)
        hi = max(hi, inside[-1][1])
        if any(lo < c_hi and c_lo < hi for c_lo, c_hi, _ in chosen):
            continue
        chosen.append((lo, hi, inside))
        if len(chosen) == count:
            break
    snippets = []
    for lo, hi, _inside in sorted(chosen):
        first = next(s for s, _ in spans if s >= lo)
        last_end = max(e for s, e in spans if lo <= s < hi)
        start = _snap_start(text, lo, first)
        end = _snap_end(text, max(hi, last_end), last_end)
        marks = [(s, e) for s, e in spans if s >= start and e <= end]
        snippets.append(Snippet(text[start:end], start, end, marks))
    return snippets


# Highlighting one document -----------------------------------------------------------------
def match_spans(query: str, doc: Document) -> list[tuple[int, int]]:
    """Every span of `doc.text` that the query's words match, sorted and merged.

    Uses the index's analyzers, so `refunds` marks "Refunds" and "refund"; `title:` words
    are marked in the text too; words under NOT and filters (lang:, date:, tag:) are not.
    """
    from whoosh.query import FuzzyTerm, Phrase, Prefix, Term, Wildcard

    from reader.core.index import build_schema

    query = query.strip()
    if not query or not doc.text:
        return []
    stem_field = f"body_{doc.lang}" if doc.lang in STEM_LANGS else None
    fields = ["body", *([stem_field] if stem_field else [])]
    q, _error = parse_query(query, ["title", *fields], _schema(build_schema))
    wanted: dict[str, list] = {name: [] for name in fields}
    for leaf in _highlight_targets(q):
        if leaf.field() in wanted:
            wanted[leaf.field()].append(leaf)
    analyzers = {"body": folding_analyzer()}
    if stem_field:
        analyzers[stem_field] = stemming_analyzer(doc.lang)
    spans: set[tuple[int, int]] = set()
    for name, leaves in wanted.items():
        if not leaves:
            continue
        tokens = [
            (t.text, t.pos, t.startchar, t.endchar)
            for t in analyzers[name](doc.text, positions=True, chars=True, mode="index")
        ]
        exact: set[str] = set()
        tests = []
        for leaf in leaves:
            if isinstance(leaf, Phrase):
                words = [str(w) for w in leaf.words]
                occurrences = [[(p, s, e) for t, p, s, e in tokens if t == w] for w in words]
                spans.update(phrase_spans(occurrences, max(1, leaf.slop)))
            elif isinstance(leaf, FuzzyTerm):
                tests.append(_fuzzy_test(str(leaf.text), leaf.maxdist, leaf.prefixlength))
            elif isinstance(leaf, Prefix):
                tests.append(lambda t, p=str(leaf.text): t.startswith(p))
            elif isinstance(leaf, Wildcard):
                tests.append(re.compile(_wildcard_regex(str(leaf.text))).fullmatch)
            elif isinstance(leaf, Term):
                exact.add(str(leaf.text))
        for text, _pos, start, end in tokens:
            if text in exact or any(test(text) for test in tests):
                spans.add((start, end))
    return merge_spans(spans)


_schema_cache: list = []


def _schema(build):
    if not _schema_cache:
        _schema_cache.append(build())
    return _schema_cache[0]


def _wildcard_regex(pattern: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


def _fuzzy_test(word: str, maxdist: int, prefixlength: int):
    from whoosh.support.levenshtein import distance

    def test(token: str) -> bool:
        return token[:prefixlength] == word[:prefixlength] and (
            abs(len(token) - len(word)) <= maxdist and distance(token, word) <= maxdist
        )

    return test
