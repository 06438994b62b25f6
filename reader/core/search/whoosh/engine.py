"""The Whoosh engine behind `reader.core.search.api`: ranking a query, spelling suggestions,
checking the index files.

`api.py` decides when to build, update or rebuild the index; this module only answers a
query on the index as it is, and says whether the index files read back whole
(`check_index`), so that an error while ranking becomes a rebuild only when the index is
really damaged, never to hide a bug.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from reader.core.search.highlight import Highlighter
from reader.core.search.whoosh.index import (
    STEM_LANGS,
    TOKEN,
    IndexLocked,
    IndexStats,
    RebuildNeeded,
    build_schema,
    document_text,
    forget_index,
    index_errors,
    index_exists,
    missing_files,
    open_index,
    refresh_documents,
    searching,
    term_cache,
    update_index,
    update_paths,
)
from reader.core.search.whoosh.parse import (
    highlight_terms,
    parse_query,
    resolve_tags,
    uses_field,
    without_stemmed_phrases,
)

if TYPE_CHECKING:
    from reader.core.workspace import Workspace

__all__ = [
    "ANALYSIS",
    "IndexLocked",
    "IndexStats",
    "Ranked",
    "RebuildNeeded",
    "check_index",
    "forget_index",
    "highlighter",
    "index_exists",
    "refresh_documents",
    "run",
    "suggest",
    "update_index",
    "update_paths",
]

# Stemmers that may change how a word starts (Arabic strips prefixes); the others only
# rewrite endings, which lets the highlighter skip the words that start otherwise.
PREFIX_STEMMERS = frozenset({"ar"})
SUGGEST_FIELDS = ("body", "title")  # a word in either is known (folded, unstemmed)
SUGGEST_LONGEST = 24  # longer "words" are not respelled
SUGGEST_FAR = 7  # words of this many letters or more may be two edits off


class _Analysis:
    """The index's analysis, as `reader.core.search.highlight` needs it."""

    token = TOKEN
    stem_langs = frozenset(STEM_LANGS)
    prefix_stemmers = PREFIX_STEMMERS

    def term_cache(self, lang: str | None):
        return term_cache(lang)

    def raw_chars(self, folded: str) -> set[str]:
        from whoosh.support.charset import accent_map

        chars = {folded, *(chr(k) for k, v in accent_map.items() if v.lower() == folded)}
        chars.update([c.upper() for c in chars if len(c) == 1 and len(c.upper()) == 1])
        return {c for c in chars if len(c) == 1 and c.lower().translate(accent_map) == folded}


ANALYSIS = _Analysis()


@dataclass
class Found:
    """One ranked document with the stored fields a hit needs; its `text` is read when first
    asked for (`document_text`: from the index for formats costly to read, else the file)."""

    id: str
    title: str
    lang: str
    date: str | None
    score: float
    fields: dict[str, Any] = field(default_factory=dict, repr=False)  # all its stored fields
    root: Any = field(default=None, repr=False)  # the corpus folder

    @classmethod
    def stored(cls, searcher: Any, docnum: int, score: float) -> Found:
        """The hit `docnum` from the index's stored fields."""
        fields = searcher.stored_fields(docnum)
        return cls(
            id=fields["id"],
            title=fields.get("title", ""),
            lang=fields.get("lang", ""),
            date=fields.get("date"),
            score=score,
            fields=fields,
            root=getattr(searcher, "corpus_root", None),
        )

    @cached_property
    def text(self) -> str:
        """The document's clean text (`Document.text`)."""
        return document_text(self.fields, self.root)


@dataclass
class Ranked:
    """What a query matches: the total, language facets and the requested page of hits."""

    total: int
    facets: dict[str, int]
    found: list[Found]
    error: str | None
    highlighter: Highlighter


def run(
    ws: Workspace,
    query: str,
    *,
    limit: int,
    offset: int = 0,
    tag_docs: Callable[[], dict[str, list[str]]],
) -> Ranked:
    """Rank `query` on the index as it is: hits `offset` to `offset + limit`, best first.

    `tag_docs()` gives the documents per tag kind, asked only when the query uses `tag:`.
    """
    from reader.core.search.whoosh import ranking

    with searching(ws) as searcher:
        ctx = ranking.context(searcher)
        present = [lang for lang in sorted(ctx.langs) if lang in STEM_LANGS]
        fields = ["title", "body", *(f"body_{lang}" for lang in present)]
        shown, error = parse_query(query, fields, searcher.schema)
        q = without_stemmed_phrases(shown)
        if uses_field(q, "tag"):
            q = resolve_tags(q, tag_docs())
        found = ranking.evaluate(ctx, q)
        page = ctx.top(found, offset + limit)[offset:]
        out = [Found.stored(searcher, docnum, score) for docnum, score in page]
        return Ranked(
            total=int(found.mask.sum()),
            facets=ctx.facets(found.mask),
            found=out,
            error=error,
            highlighter=Highlighter(highlight_terms(shown), ANALYSIS),
        )


_schema_cache: list = []


def highlighter(query: str, lang: str | None) -> Highlighter:
    """The highlighter of `query` for a document in `lang`, without opening an index."""
    if not _schema_cache:
        _schema_cache.append(build_schema())
    stem_field = f"body_{lang}" if lang in STEM_LANGS else None
    fields = ["title", "body", *([stem_field] if stem_field else [])]
    q, _error = parse_query(query, fields, _schema_cache[0])
    return Highlighter(highlight_terms(q), ANALYSIS)


# Spelling ------------------------------------------------------------------------------------
def suggest(ws: Workspace, words: list[str]) -> dict[str, str]:
    """word -> the closest word of the corpus, for the `words` no document holds.

    Closest: one edit away (a letter deleted, inserted, replaced, or two swapped), else, for
    words of SUGGEST_FAR letters or more, two edits away with the first two letters kept;
    among those, the one in most documents. The suggestion is spelled as a document spells
    it (accents kept), in lower or upper case when the word was.
    """
    fold = term_cache(None)
    out: dict[str, str] = {}
    with searching(ws) as searcher:
        reader = searcher.reader()
        leaves = [leaf for leaf, _offset in reader.leaf_readers()]
        for word in words:
            term = fold[word]
            if term is None or not 2 <= len(word) <= SUGGEST_LONGEST:
                continue
            if any((f, term) in reader for f in SUGGEST_FIELDS):
                continue
            text = term.decode("utf-8")
            found = [c for c in _edits(text) if any(("body", c.encode()) in x for x in leaves)]
            if not found and len(text) >= SUGGEST_FAR:
                found = list({c for x in leaves for c in x.terms_within("body", text, 2, prefix=2)})
            if found:
                best = max(sorted(found), key=lambda c: reader.doc_frequency("body", c))
                raw = _spelled(searcher, "body", best) or best
                out[word] = _case_like(word, raw)
    return out


def _case_like(word: str, raw: str) -> str:
    """`raw` in lower or upper case when `word` is so, else as a document spells it."""
    if word.islower():
        return raw.lower()
    if word.isupper() and len(word) > 1:
        return raw.upper()
    return raw


_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def _edits(word: str) -> set[str]:
    """The strings one edit from `word` (a deletion, a swap of neighbours, a replacement or an
    insertion of a letter, from a-z, the digits and the word's own letters)."""
    letters = _ALPHABET + "".join(sorted(set(word) - set(_ALPHABET)))
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out.update(a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1)
    out.update(a + c + b[1:] for a, b in splits if b for c in letters)
    out.update(a + c + b for a, b in splits for c in letters)
    out.discard(word)
    out.discard("")
    return out


def _spelled(searcher: Any, fieldname: str, term: str) -> str | None:
    """How a document that holds `term` spells it (its first token folding to `term`)."""
    fold = term_cache(None)
    btext = term.encode("utf-8")
    root = getattr(searcher, "corpus_root", None)
    for docnum in searcher.reader().postings(fieldname, btext).all_ids():
        stored = searcher.stored_fields(docnum)
        for source in (stored.get("title", ""), document_text(stored, root)):
            for token in TOKEN.findall(source):
                if fold[token] == btext:
                    return token
        return None
    return None


# Checking ------------------------------------------------------------------------------------
_EXTENT = struct.Struct("!qi")  # a term's postings: offset, length (after W3TermInfo's struct)


def check_index(ws: Workspace) -> str | None:
    """What is wrong with the index files, or None when they read back whole: the table of
    contents, every segment's files (`missing_files`), its stored fields to the last
    document, and its postings file long enough for every term's postings. Reads the files
    afresh (this process's cached handles are dropped first). About 1 s at 20,000 documents:
    for after an error, not before every search."""
    from whoosh.codec.whoosh3 import W3TermInfo

    forget_index(ws)
    try:
        missing = missing_files(ws)
        if missing is not None:
            return f"{missing} is missing or empty"
        reader = open_index(ws).reader()
        try:
            storage = open_index(ws).storage
            for leaf, _offset in reader.leaf_readers():
                if leaf.doc_count_all():
                    leaf.stored_fields(leaf.doc_count_all() - 1)
                terms = getattr(leaf, "_terms", None)
                if terms is None:
                    continue
                posts = leaf._segment.make_filename(".pst")
                size = storage.file_length(posts)
                head = W3TermInfo._struct.size
                for value in terms._tindex.values():
                    if value[0]:  # postings inlined in the term info
                        continue
                    offset, length = _EXTENT.unpack_from(value, head)
                    if offset + length > size:
                        return f"{posts} is truncated"
        finally:
            reader.close()
    except index_errors() as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        forget_index(ws)
    return None
