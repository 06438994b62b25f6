"""Queries over the index: parsing, ranked hits with highlighted snippets, language facets.

The query language is Whoosh's: AND by default, OR, NOT, "phrases", field:value, prefix*,
fuzzy~, ranges. Words go across the title, the accent-folded body and the stemmed body of
every language present in the index, so `refunds` finds "Refund" and `evolution` finds
"évolution". Filters: `lang:fr`, `author:name`, `date:[2025-01-01 TO 2025-12-31]`,
`tag:claim` (documents with at least one claim).

Phrases match in the unstemmed `body` (and the title): the stemmed fields keep no positions.

`tag:` is resolved at query time from the annotation store, never from the index, so the
filter is never stale: tagging a passage needs no reindex.

Matching, ranking (Whoosh's BM25F), totals and facets come from `whoosh.ranking`, which
scores whole posting lists at once with numpy.

Highlights are found at query time in the clean text stored in the index, for the shown hits
only: the words of the text go through the same (cached) analysis as the index, so stemmed,
folded, prefix, wildcard and fuzzy matches are all marked, and every offset is a code point
of `Document.text`. For plain words only the tokens that start like a query term are looked
at. (Storing character offsets in the postings instead made indexing several times slower
and the index much larger.)
"""

from __future__ import annotations

import bisect
import functools
import itertools
import pickle
import re
import struct
import threading
import zlib
from dataclasses import dataclass, field
from itertools import repeat
from typing import TYPE_CHECKING, Any

from reader.core.errors import ReaderError
from reader.core.search.whoosh.index import (
    BODY_FIELDS,
    STEM_LANGS,
    TOKEN,
    IndexLocked,
    forget_index,
    index_exists,
    searching,
    term_cache,
    update_index,
)

if TYPE_CHECKING:
    from reader.core.documents.model import Document
    from reader.core.workspace import Workspace

FILTER_FIELDS = ("lang", "date", "author", "tag", "id", "title")
# Stemmers that may change how a word starts (Arabic strips prefixes); the others only
# rewrite endings, which lets the highlighter skip the words that start otherwise.
PREFIX_STEMMERS = frozenset({"ar"})
MAX_SNIPPETS = 3
SNIPPET_BEFORE = 70  # characters of context before the first highlight of a snippet
SNIPPET_LENGTH = 220  # longest snippet, in characters
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


_parsers: dict[tuple, Any] = {}


def _parser(fields: list[str], schema, plain: bool = False):
    """A query parser over `fields` (kept: building one costs more than parsing a query)."""
    key = (tuple(fields), id(schema), plain, threading.get_ident())  # one per thread
    parser = _parsers.get(key)
    if parser is None or parser.schema is not schema:
        if len(_parsers) > 32:
            _parsers.clear()
        parser = _parsers[key] = _new_parser(fields, schema, plain)
    return parser


def _new_parser(fields: list[str], schema, plain: bool = False):
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


def _without_stemmed_phrases(q):
    """`q` without phrases on the stemmed body fields, which keep no positions: a phrase
    matches through `body` (and `title`), word for word after accent folding."""
    from whoosh.query import NullQuery, Phrase

    if isinstance(q, Phrase) and q.fieldname.startswith("body_"):
        return NullQuery
    if q.is_leaf():
        return q
    return q.apply(_without_stemmed_phrases).normalize()


def _tag_docs(ws: Workspace) -> dict[str, list[str]]:
    """tag kind -> ids of documents with at least one such tag, from the annotation store."""
    try:
        from reader.core.tags.annotations import AnnotationStore
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
    from reader.core.search.whoosh import ranking

    result = SearchResult(query)
    if not query:
        return result
    with searching(ws) as searcher:
        ctx = ranking.context(searcher)
        present = [lang for lang in sorted(ctx.langs) if lang in STEM_LANGS]
        fields = ["title", "body", *(f"body_{lang}" for lang in present)]
        shown, result.error = parse_query(query, fields, searcher.schema)
        q = _without_stemmed_phrases(shown)
        if _uses_field(q, "tag"):
            q = _resolve_tags(q, _tag_docs(ws))
        found = ranking.evaluate(ctx, q)
        result.total = int(found.mask.sum())
        result.facets = {"lang": ctx.facets(found.mask)}
        highlighter = Highlighter(shown)
        for docnum, score in ctx.top(found, max(1, limit)):
            stored = searcher.stored_fields(docnum)
            text = stored.get("text", "")
            spans = highlighter.spans(text, stored.get("lang"))
            result.hits.append(
                Hit(
                    id=stored["id"],
                    title=stored.get("title", ""),
                    lang=stored.get("lang", ""),
                    date=stored.get("date"),
                    score=score,
                    snippets=make_snippets(text, spans),
                )
            )
    return result


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


class Highlighter:
    """Finds the spans of a query's words in a text, with the index's own analysis.

    Built once per query from its positive leaves on text fields (`title:` leaves count as
    `body`); `spans(text, lang)` looks at the `body` leaves and those of `body_<lang>`.
    Each distinct word of the text is analysed once (cached per process), candidate words
    are found with one regular expression, and only phrases need the token sequence.
    """

    def __init__(self, q) -> None:
        from whoosh.query import FuzzyTerm, Phrase, Prefix, Term, Wildcard

        self.exact: dict[str, set[bytes]] = {}
        self.tests: dict[str, list] = {}
        self.phrases: dict[str, list[tuple[list[bytes], int]]] = {}
        for leaf in _highlight_targets(q):
            name = leaf.field()
            if isinstance(leaf, Phrase):
                words = [str(w).encode("utf-8") for w in leaf.words]
                if words:
                    self.phrases.setdefault(name, []).append((words, max(1, leaf.slop)))
            elif isinstance(leaf, FuzzyTerm):
                test = _fuzzy_test(str(leaf.text), leaf.maxdist, leaf.prefixlength)
                self.tests.setdefault(name, []).append(test)
            elif isinstance(leaf, Prefix):
                prefix = str(leaf.text)
                self.tests.setdefault(name, []).append(lambda t, p=prefix: t.startswith(p))
            elif isinstance(leaf, Wildcard):
                test = re.compile(_wildcard_regex(str(leaf.text))).fullmatch
                self.tests.setdefault(name, []).append(test)
            elif isinstance(leaf, Term):
                self.exact.setdefault(name, set()).add(str(leaf.text).encode("utf-8"))

    def __bool__(self) -> bool:
        return bool(self.exact or self.tests or self.phrases)

    def _starts(self, fields: list[tuple[str, str | None]]) -> frozenset[str] | None:
        """For words only (no phrase, prefix, wildcard or fuzzy word): how the words' terms
        start (their first two letters). Analysis keeps how a token starts (stemming only
        rewrites endings, but for PREFIX_STEMMERS), so only the tokens of a text that
        start so need analysing. None when every token must be looked at."""
        names = [name for name, _ in fields]
        if any(n in self.tests or n in self.phrases for n in names) or any(
            lang in PREFIX_STEMMERS for _, lang in fields
        ):
            return None
        return frozenset(t.decode("utf-8")[:2] for n in names for t in self.exact.get(n, ()))

    def spans(self, text: str, lang: str | None) -> list[tuple[int, int]]:
        """Sorted, merged spans of `text` (a document in `lang`) that the query marks."""
        if not text or not self:
            return []
        fields = [("body", None)]
        if lang in STEM_LANGS:
            fields.append((f"body_{lang}", lang))
        starts = self._starts(fields)
        if starts is not None:
            checks = [(term_cache(fl), self.exact[n]) for n, fl in fields if n in self.exact]
            if text.isascii() and all(map(str.isascii, starts)):  # str.find is much faster
                tokens = map(TOKEN.match, repeat(text), _token_starts(text.lower(), starts))
            else:
                tokens = _token_pattern(starts).finditer(text)
            return merge_spans(
                m.span()
                for m in tokens
                if any(cache[m.group()] in exact for cache, exact in checks)
            )
        words = set(TOKEN.findall(text))
        marked: set[str] = set()
        phrases = []
        for name, field_lang in fields:
            cache = term_cache(field_lang)
            exact, tests = self.exact.get(name, ()), self.tests.get(name, ())
            if exact or tests:
                for word in itertools.filterfalse(cache.__contains__, words):
                    cache[word]  # analyse the words this process has not seen yet
                for term in exact:  # the raw words known to give `term`
                    marked.update(words.intersection(cache.variants.get(term, ())))
                for word in words if tests else ():
                    term = cache[word]
                    if term is not None and _any_test(tests, term.decode("utf-8")):
                        marked.add(word)
            phrases.extend((cache, w, slop) for w, slop in self.phrases.get(name, ()))
        spans: set[tuple[int, int]] = set()
        for word in marked:
            spans.update(_token_spans(text, word))
        if phrases:
            tokens = [(m.group(), m.start(), m.end()) for m in TOKEN.finditer(text)]
            for cache, phrase, slop in phrases:
                if not all(_has_term(cache, words, w) for w in phrase):
                    continue
                occurrences = [
                    [(pos, s, e) for pos, (t, s, e) in enumerate(tokens) if cache[t] == w]
                    for w in phrase
                ]
                spans.update(phrase_spans(occurrences, slop))
        return merge_spans(spans)


def _token_starts(lowered: str, prefixes: frozenset[str]) -> list[int]:
    """Where the tokens of a lowercased ASCII text that start with one of `prefixes` begin."""
    out = []
    for prefix in prefixes:
        i = lowered.find(prefix)
        while i != -1:
            if not i or not (
                _is_token_char(lowered[i - 1])
                or (lowered[i - 1] == "." and i >= 2 and _is_token_char(lowered[i - 2]))
            ):
                out.append(i)
            i = lowered.find(prefix, i + 1)
    return out


@functools.lru_cache(maxsize=256)
def _token_pattern(prefixes: frozenset[str]) -> re.Pattern:
    """TOKEN, for the tokens whose lowercased, accent-folded form starts with one of the
    one- or two-letter `prefixes`: each letter in either case or accented."""
    alternatives = []
    for prefix in sorted(prefixes):
        whole = _raw_chars(prefix)  # one raw character folding to the whole prefix (æ)
        if len(prefix) == 1:
            alternatives.append(_char_class(whole))
            continue
        pair = _char_class(_raw_chars(prefix[0])) + _char_class(_raw_chars(prefix[1]))
        alternatives.append(f"{pair}|{_char_class(whole)}" if whole else pair)
    if not alternatives:
        return re.compile(r"(?!)")
    # a token starts after a non-token character that is not a joining dot
    start = r"(?<![\w*])(?<![\w*]\.)"
    return re.compile(start + "(?:" + "|".join(alternatives) + r")[\w*]*(?:\.?[\w*]+)*")


def _raw_chars(folded: str) -> set[str]:
    """The characters whose lowercased, accent-folded form is `folded`."""
    from whoosh.support.charset import accent_map

    chars = {folded, *(chr(k) for k, v in accent_map.items() if v.lower() == folded)}
    chars.update([c.upper() for c in chars if len(c) == 1 and len(c.upper()) == 1])
    return {c for c in chars if len(c) == 1 and _fold(c) == folded}


def _char_class(chars: set[str]) -> str:
    return "[" + "".join(re.escape(c) for c in sorted(chars)) + "]" if chars else "(?!)"


def _fold(char: str) -> str:
    from whoosh.support.charset import accent_map

    return char.lower().translate(accent_map)


def _any_test(tests: list, term: str) -> bool:
    return any(test(term) for test in tests)


def _has_term(cache, words: set[str], term: bytes) -> bool:
    return any(cache[w] == term for w in words)


def _token_spans(text: str, word: str) -> list[tuple[int, int]]:
    """The spans of `text` where `word` (a token) occurs as a whole token: TOKEN's match,
    which word characters and `*` extend and a `.` between two of them joins."""
    out = []
    size, width = len(text), len(word)
    start = text.find(word)
    while start != -1:
        end = start + width
        before = start and (
            _is_token_char(text[start - 1])
            or (text[start - 1] == "." and start >= 2 and _is_token_char(text[start - 2]))
        )
        after = end < size and (
            _is_token_char(text[end])
            or (text[end] == "." and end + 1 < size and _is_token_char(text[end + 1]))
        )
        if not before and not after:
            out.append((start, end))
        start = text.find(word, start + 1)
    return out


def _is_token_char(char: str) -> bool:
    """Whether `char` matches `[\\w*]` (re's \\w: alphanumeric or underscore)."""
    return char.isalnum() or char in "_*"


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

    Uses the index's analysis, so `refunds` marks "Refunds" and "refund"; `title:` words
    are marked in the text too; words under NOT and filters (lang:, date:, tag:) are not.
    """
    from reader.core.search.whoosh.index import build_schema

    query = query.strip()
    if not query or not doc.text:
        return []
    stem_field = f"body_{doc.lang}" if doc.lang in STEM_LANGS else None
    fields = ["title", "body", *([stem_field] if stem_field else [])]
    q, _error = parse_query(query, fields, _schema(build_schema))
    return Highlighter(q).spans(doc.text, doc.lang)


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
