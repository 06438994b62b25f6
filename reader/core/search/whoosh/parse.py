"""Whoosh queries from the query language (`reader.core.search.query`), and what they mark.

`parse_query` checks the query and rewrites its web-style operators (engine-neutral, in
`query.py`), then parses the result with Whoosh's parser over the given fields; a query with a
syntax error falls back to its plain words. `highlight_terms` turns a parsed query into the
engine-neutral `HighlightTerms` that `reader.core.search.highlight` marks in a text.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from reader.core.search import query as query_language
from reader.core.search.highlight import HighlightTerms
from reader.core.search.whoosh.index import BODY_FIELDS

_parsers: dict[tuple, Any] = {}
# `label:x` is searched as `tag:#x`: resolved from the tag store like `tag:claim` (resolve_tags)
_LABEL_FIELD = re.compile(r'(?<![\w"])label:#?(?=[^\s()"])', re.IGNORECASE)


def _labels_as_tags(query: str) -> str:
    """`label:x` -> `tag:#x`, outside phrases."""
    parts = query.split('"')
    parts[::2] = [_LABEL_FIELD.sub("tag:#", part) for part in parts[::2]]
    return '"'.join(parts)


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
    from whoosh.qparser.common import QueryParserError

    error = query_language.syntax_error(query)
    if error is None:
        try:
            rewritten = _labels_as_tags(query_language.rewrite(query))
            return _parser(fields, schema).parse(rewritten), None
        except (QueryParserError, ValueError) as exc:  # the checks above should catch these
            error = str(exc) or type(exc).__name__
    return _parser(fields, schema, plain=True).parse(query_language.plain_words(query)), error


def positive_leaves(q) -> list:
    """The leaf queries of `q` that are not under a NOT (or the excluded side of AndNot)."""
    from whoosh.query import AndNot, Not

    if isinstance(q, Not):
        return []
    if isinstance(q, AndNot):
        return positive_leaves(q.a)
    if q.is_leaf():
        return [q]
    return [leaf for child in q.children() for leaf in positive_leaves(child)]


def resolve_tags(q, tag_docs: dict[str, list[str]]):
    """`q` with every `tag:x` term replaced by the documents that carry tag x (`tag:#x`, from
    `label:x`: the documents with a tag labelled x)."""
    from whoosh.query import NullQuery, Or, Term

    if isinstance(q, Term) and q.fieldname == "tag":
        ids = tag_docs.get(str(q.text).lower(), [])
        return Or([Term("id", doc_id) for doc_id in ids]) if ids else NullQuery
    if q.is_leaf():
        return q
    return q.apply(lambda child: resolve_tags(child, tag_docs))


def without_stemmed_phrases(q):
    """`q` without phrases on the stemmed body fields, which keep no positions: a phrase
    matches through `body` (and `title`), word for word after accent folding."""
    from whoosh.query import NullQuery, Phrase

    if isinstance(q, Phrase) and q.fieldname.startswith("body_"):
        return NullQuery
    if q.is_leaf():
        return q
    return q.apply(without_stemmed_phrases).normalize()


def uses_field(q, name: str) -> bool:
    return any(leaf.field() == name for leaf in q.leaves())


def highlight_terms(q) -> HighlightTerms:
    """What `q` marks in a text: its positive leaves on text fields, `title:` leaves counted
    as `body` (the title field has the body's folding analyzer and the title is nearly always
    the first line of the text). `body` is the folded analysis (key None), `body_<lang>`
    that language's stemmed one."""
    from whoosh.query import FuzzyTerm, Phrase, Prefix, Term, Wildcard

    out = HighlightTerms()
    for leaf in positive_leaves(q):
        name = leaf.field()
        if name == "title":
            name = "body"
        elif name not in BODY_FIELDS:
            continue
        key = None if name == "body" else name.removeprefix("body_")
        if isinstance(leaf, Phrase):
            words = [str(w).encode("utf-8") for w in leaf.words]
            if words:
                out.phrases.setdefault(key, []).append((words, max(1, leaf.slop)))
        elif isinstance(leaf, FuzzyTerm):
            test = _fuzzy_test(str(leaf.text), leaf.maxdist, leaf.prefixlength)
            out.tests.setdefault(key, []).append(test)
        elif isinstance(leaf, Prefix):
            prefix = str(leaf.text)
            out.tests.setdefault(key, []).append(lambda t, p=prefix: t.startswith(p))
        elif isinstance(leaf, Wildcard):
            test = re.compile(_wildcard_regex(str(leaf.text))).fullmatch
            out.tests.setdefault(key, []).append(test)
        elif isinstance(leaf, Term):
            out.exact.setdefault(key, set()).add(str(leaf.text).encode("utf-8"))
    return out


def _wildcard_regex(pattern: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)


def _fuzzy_test(word: str, maxdist: int, prefixlength: int):
    from whoosh.support.levenshtein import distance

    def test(token: str) -> bool:
        return token[:prefixlength] == word[:prefixlength] and (
            abs(len(token) - len(word)) <= maxdist and distance(token, word) <= maxdist
        )

    return test
