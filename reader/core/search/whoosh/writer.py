"""Whoosh segment writers that index faster: one analysis pass per text, postings built with
numpy and written a block at a time in the array codec's layout.

Part of the index (`whoosh.index`). A field whose analyzer is a plain chain of the
parts `word_analysis` knows (all of ours) is indexed by looking each token up in a dict of
raw word -> term id: a document costs one `TOKEN.findall` (shared by the fields indexing the
same text) and a list of term ids per field. At commit the ids are sorted into postings with
numpy, and each block of postings is cut from byte buffers laid out with numpy in
`reader.core.search.whoosh.codec`'s array layout, so the Python work is per block, not per posting.
Other fields, and segments merged in, go through Whoosh's `field.index` / reader postings
(`SegmentPool.add`).

Pinned to whoosh3 3.54's writer internals (W3FieldWriter, OrderedHashWriter, the W3 block
info and term info layouts); `tests/unit/test_index.py` checks the result against Whoosh's
own writer.
"""

from __future__ import annotations

import os
import re
import signal
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from struct import Struct
from typing import TYPE_CHECKING, Any

from reader.core.errors import ReaderError

if TYPE_CHECKING:
    import numpy as np

# Whoosh's RegexTokenizer default pattern `[\w\*]+(\.?[\w\*]+)*`, rewritten to match the same
# tokens faster: the first run takes every word character, so a further run needs the dot.
TOKEN = re.compile(r"[\w*]+(?:\.[\w*]+)*")
PACK_TOKENS = 1 << 18  # term ids kept in a list (fast to extend) before packing them;
# packed arrays of 1 MB are mapped memory (`_return_freed_memory`), so those copied into one
# at a flush go back to the system at once instead of staying in the heap
CHUNK_TOKENS = 1 << 18  # tokens turned into postings at a time when writing a field
PASS_TOKENS = 1 << 19  # tokens sorted at a time (whole terms) when a field's postings are made
# Memory of a segment pool, calibrated on a worker indexing news articles (bench/scale.py):
# each token held costs about BYTES_PER_TOKEN (its term id, 4 bytes per field, and the
# growing vocabulary); writing the segment out adds, whatever its size, the arrays of one
# pass (PASS_TOKENS) and one chunk (CHUNK_TOKENS) and the heap they leave: FLUSH_BYTES.
# Postings added one at a time (`SegmentPool.add`, merges) cost about LISTED_BYTES each.
BYTES_PER_TOKEN = 8
FLUSH_BYTES = 96 << 20
LISTED_BYTES = 80

# W3TermInfo's struct, then the extent of the postings (pack_long + pack_int).
_TERMINFO = Struct("!BfIBBfIIqi")
_BLOCK_LENGTH = Struct("!i")
_LENGTHS = Struct("!ii")  # whoosh.filedb.filetables._lengths: a hash record's key/value sizes
_MAGIC = b"W3Bl"  # whoosh.codec.whoosh3.WHOOSH3_HEADER_MAGIC


def word_analysis(analyzer: Any) -> tuple[bool, Callable[[str], str | None], bool] | None:
    """How `analyzer` indexes a text, when it is a chain of the parts below: (whether the text
    is split into `TOKEN` matches, else taken whole; what the filters do to one token, None
    for a stop word; whether they drop stop words). None for any other analyzer."""
    from whoosh.analysis import (
        CharsetFilter,
        IDTokenizer,
        LowercaseFilter,
        RegexTokenizer,
        StemFilter,
        StopFilter,
    )
    from whoosh.analysis.tokenizers import default_pattern

    items = getattr(analyzer, "items", None) or [analyzer]
    first = items[0]
    if type(first) is RegexTokenizer:
        if first.gaps or first.expression.pattern != default_pattern.pattern:
            return None
        split = True
    elif type(first) is IDTokenizer:
        split = False
    else:
        return None
    steps: list[Callable[[str], str | None]] = []
    stops = False
    for item in items[1:]:
        if type(item) is LowercaseFilter:
            steps.append(str.lower)
        elif type(item) is StopFilter:
            words, low, high = item.stops, item.min, item.max
            stops = True

            def stop(t: str, words=words, low=low, high=high) -> str | None:
                if len(t) < low or (high is not None and len(t) > high) or t in words:
                    return None
                return t

            steps.append(stop)
        elif type(item) is StemFilter:
            ignore, stem = item.ignore, item._stem
            steps.append(lambda t, ignore=ignore, stem=stem: t if t in ignore else stem(t))
        elif type(item) is CharsetFilter:
            steps.append(lambda t, charmap=item.charmap: t.translate(charmap))
        else:
            return None

    def analyse(word: str) -> str | None:
        term: str | None = word
        for step in steps:
            term = step(term)  # type: ignore[arg-type]
            if term is None:
                return None
        return term

    return split, analyse, stops


# Collecting --------------------------------------------------------------------------------
class _WordIds(dict):
    """raw word -> term id in one field (-1: a stop word); a miss analyses the word."""

    def __init__(self, analyse: Callable[[str], str | None], terms: list[bytes]) -> None:
        super().__init__()
        self.analyse, self.terms = analyse, terms
        self.ids: dict[bytes, int] = {}

    def __missing__(self, word: str) -> int:
        text = self.analyse(word)
        if text is None:
            tid = -1
        else:
            term = text.encode("utf-8")
            tid = self.ids.get(term, -1)
            if tid < 0:
                tid = self.ids[term] = len(self.terms)
                self.terms.append(term)
        self[word] = tid
        return tid


class FieldWords:
    """One field's indexed words: every token's term id, document after document.

    `kind` is the field format's: "positions" (`CompactPositions`: positions are token
    numbers, so the analyzer must keep every token), "frequency" (`TermWeights`: no values)
    or "existence" (Existence: no values, weights are the field boost).
    """

    def __init__(
        self,
        split: bool,
        analyse: Callable[[str], str | None],
        stops: bool,
        kind: str,
        boost: float,
    ) -> None:
        self.split, self.stops, self.kind, self.boost = split, stops, kind, boost
        self.terms: list[bytes] = []  # term id -> term
        self.word_ids = _WordIds(analyse, self.terms)
        self.recent: list[int] = []  # the latest term ids (-1: a stop word), then packed:
        self.packed: list[np.ndarray] = []
        self.docs = array("I")  # the documents that have tokens
        self.counts = array("I")  # their numbers of tokens

    def add(self, docnum: int, tokens: Sequence[str]) -> int:
        """Add a document's tokens; return how many are indexed (not stop words)."""
        tids = list(map(self.word_ids.__getitem__, tokens))
        if not tids:
            return 0
        self.recent += tids
        self.docs.append(docnum)
        self.counts.append(len(tids))
        if len(self.recent) >= PACK_TOKENS:
            self._pack()
        return len(tids) - tids.count(-1) if self.stops else len(tids)

    def _pack(self) -> None:
        import numpy as np

        self.packed.append(np.fromiter(self.recent, np.int32, len(self.recent)))
        self.recent = []

    def tokens(self) -> int:
        """How many tokens are held."""
        return len(self.recent) + sum(len(p) for p in self.packed)

    def take_term_ids(self) -> np.ndarray:
        """Every token's term id, document after document (given away: this is the end)."""
        import numpy as np

        self._pack()
        packed, self.packed = self.packed, []
        ids = np.empty(sum(map(len, packed)), np.int32)
        at = 0
        for n, part in enumerate(packed):  # each part freed as it is copied: no second copy
            ids[at : at + len(part)] = part
            at += len(part)
            packed[n] = None  # type: ignore[call-overload]
        return ids


# A term's postings added one at a time or from a segment: documents, weights, the values
# back to back and their sizes.
Listed = tuple[array, array, bytearray, array]


def _blocks(matcher: Any) -> Iterator[tuple[Sequence[int], Sequence[float], Sequence[Any]]]:
    """A segment's postings of a term as (ids, weights, values) a block at a time, deleted
    documents included (the W3 leaf matcher's block decoding)."""
    from whoosh.matching.wrappers import FilterMatcher

    if isinstance(matcher, FilterMatcher):  # deletions: the caller's docmap drops them
        matcher = matcher.child
    while not matcher._atend:
        matcher._read_ids()
        matcher._read_weights()
        matcher._read_values()
        yield matcher._ids, matcher._weights, matcher._values
        matcher._next_block()


class SegmentPool:
    """The postings of the segment being written (Whoosh's pool API: `add`, `fieldnames`,
    `cleanup`): `FieldWords` of the fields analysed in one pass, and the postings of the
    others (and of merged segments) per field and term."""

    def __init__(self) -> None:
        self.words: dict[str, FieldWords | None] = {}
        self.listed: dict[str, dict[bytes, Listed]] = {}
        self.listed_count = 0  # postings in `listed`
        self.fieldnames: set[str] = set()

    def field_words(self, name: str, field: Any) -> FieldWords | None:
        """The one-pass collector of `field`, or None when Whoosh's analysis is needed."""
        try:
            return self.words[name]
        except KeyError:
            pass
        from whoosh.formats import Existence

        from reader.core.search.whoosh.index import CompactPositions, TermWeights

        words = None
        analysis = word_analysis(getattr(field, "analyzer", None))
        kinds = {CompactPositions: "positions", TermWeights: "frequency", Existence: "existence"}
        fkind = kinds.get(type(field.format))
        if analysis is not None and fkind is not None:
            split, analyse, stops = analysis
            if not (
                (fkind == "positions" and stops)  # Whoosh renumbers positions around them
                or (fkind == "existence" and field.scorable)  # its length counts words
            ):
                words = FieldWords(split, analyse, stops, fkind, field.format.field_boost)
        self.words[name] = words
        return words

    def _listed(self, fieldname: str, btext: bytes) -> Listed:
        terms = self.listed.get(fieldname)
        if terms is None:
            terms = self.listed[fieldname] = {}
            self.fieldnames.add(fieldname)
        entry = terms.get(btext)
        if entry is None:
            entry = terms[btext] = (array("I"), array("f"), bytearray(), array("I"))
        return entry

    def add(self, item: tuple) -> None:
        """Add one (fieldname, btext, docnum, weight, value) posting."""
        fieldname, btext, docnum, weight, value = item
        if docnum < 0:  # a spelling word: these fields have none
            return
        docs, weights, values, sizes = self._listed(fieldname, btext)
        self.listed_count += 1
        docs.append(docnum)
        weights.append(weight)
        if value:
            values += value
        sizes.append(len(value) if value else 0)

    def add_reader(self, reader: Any, schema: Any, startdoc: int, docmap: Any) -> None:
        """Add the postings of a segment's `reader` (its documents numbered from `startdoc`,
        or by `docmap` when it has deletions), a block at a time: what Whoosh's writer does
        one posting at a time (SegmentWriter.add_postings_to_pool)."""
        for fieldname, btext in reader.all_terms():
            if fieldname not in schema:
                continue
            docs, weights, values, sizes = self._listed(fieldname, btext)
            for ids, block_weights, block_values in _blocks(reader.postings(fieldname, btext)):
                if docmap is None:
                    docs.extend(map(startdoc.__add__, ids))
                else:  # deleted documents are not in docmap
                    live = [i for i, docnum in enumerate(ids) if docnum in docmap]
                    if len(live) < len(ids):
                        block_weights = [block_weights[i] for i in live]
                        block_values = [block_values[i] for i in live]
                    docs.extend(docmap[ids[i]] for i in live)
                weights.extend(block_weights)
                self.listed_count += len(block_weights)
                if block_values and block_values[0] is not None:
                    values += b"".join(block_values)
                    sizes.extend(map(len, block_values))
                else:  # no values
                    sizes.extend([0] * len(block_weights))

    def postings(self, name: str, fixed: int | None) -> Iterable[Postings]:
        """Field `name`'s postings by term and document, in parts of whole terms (`fixed`:
        the size of the format's values, None when it varies)."""
        words, listed = self.words.get(name), self.listed.get(name)
        found = _listed_postings(listed, fixed) if listed is not None else None
        if found is None:
            return _word_postings(words) if words is not None else []
        for part in _word_postings(words, whole=True) if words is not None else ():
            found = _merged(part, found, fixed)
        return [found]

    def memory(self) -> int:
        """An estimate of the bytes that writing this pool as a segment will take at its
        peak, above FLUSH_BYTES (see BYTES_PER_TOKEN), so a writer can flush a segment at a
        memory budget (`pool_budget`)."""
        tokens = sum(w.tokens() for w in self.words.values() if w is not None)
        return tokens * BYTES_PER_TOKEN + self.listed_count * LISTED_BYTES

    def forget(self, name: str) -> None:
        """Drop a field's postings (written)."""
        self.words.pop(name, None)
        self.listed.pop(name, None)

    def cleanup(self) -> None:
        self.words.clear()
        self.listed.clear()
        self.listed_count = 0


def pool_budget(budget: int) -> int:
    """What `SegmentPool.memory` may reach under a memory budget of `budget` bytes."""
    return max(budget - FLUSH_BYTES, budget // 4)


# Postings arrays ---------------------------------------------------------------------------
@dataclass
class Postings:
    """One field's postings in term then document order.

    `values` holds the posting values back to back; when their size varies, `offsets` gives
    where each starts (then the end), else each has the format's fixed size (maybe 0).
    """

    terms: list[bytes]  # sorted
    term: np.ndarray  # per posting: index in `terms`
    doc: np.ndarray
    weight: np.ndarray  # float32, as Whoosh keeps them
    values: bytes
    offsets: np.ndarray | None


def _word_postings(words: FieldWords, whole: bool = False) -> Iterator[Postings]:
    """A `FieldWords`' tokens grouped into postings (frequencies, weights, values), in parts
    of about CHUNK_TOKENS tokens (or `whole`).

    Memory: the term ids are ranked in place; the tokens are then sorted a range of terms at
    a time (about PASS_TOKENS tokens), so the peak is the ids plus a pass's arrays, not a
    sort of every token (BYTES_PER_TOKEN)."""
    import numpy as np

    if not words.docs:
        return
    nterms = len(words.terms)
    order = sorted(range(nterms), key=words.terms.__getitem__)
    terms = [words.terms[i] for i in order]
    rank = np.empty(nterms + 1, np.int32)
    rank[order] = np.arange(nterms, dtype=np.int32)
    rank[-1] = -1  # stop words (-1) stay -1
    ranks = words.take_term_ids()
    np.take(rank, ranks, out=ranks, mode="wrap")  # in place (-1 wraps to the last: -1)
    sizes = np.zeros(nterms, np.int64)  # tokens per term
    for a in range(0, len(ranks), PASS_TOKENS):
        part = ranks[a : a + PASS_TOKENS]
        sizes += np.bincount(part[part >= 0] if words.stops else part, minlength=nterms)
    ends = np.cumsum(sizes)  # where each term's tokens end, in term order
    total = int(ends[-1]) if nterms else 0
    if not total:
        return
    counts = np.frombuffer(words.counts, np.uint32)
    doc_ends = np.cumsum(counts, dtype=np.int64)  # each document's tokens end here
    first = doc_ends - counts  # each document's first token
    docnums = np.frombuffer(words.docs, np.uint32).astype(np.int64)
    boost = np.float32(words.boost)
    chunk = total if whole else CHUNK_TOKENS
    step = max(chunk, PASS_TOKENS)
    bounds = np.unique(np.searchsorted(ends, np.arange(step, total, step)) + 1).tolist()
    for ra, rb in pairwise([0, *[b for b in bounds if 0 < b < nterms], nterms]):
        if ra == 0 and rb == nterms and not words.stops:
            tokens = np.arange(len(ranks), dtype=np.int64)
        else:  # the tokens of these terms, found a slice at a time (small masks)
            tokens = np.concatenate([
                np.flatnonzero((part >= ra) & (part < rb)) + a
                for a in range(0, len(ranks), PASS_TOKENS)
                for part in (ranks[a : a + PASS_TOKENS],)
            ])  # fmt: skip
        tokens = tokens[_stable_argsort(ranks[tokens] - ra, rb - ra)]  # by term, then place
        rs = ranks[tokens]
        n = len(tokens)
        term_ends = np.append(np.flatnonzero(rs[1:] != rs[:-1]) + 1, n)
        cuts = term_ends[np.searchsorted(term_ends, np.arange(chunk, n, chunk))]
        for a, b in pairwise([0, *np.unique(cuts).tolist(), n]):
            if b <= a:
                continue
            tok, r = tokens[a:b], rs[a:b]
            d = np.searchsorted(doc_ends, tok, side="right")  # the token's document (index)
            new = np.empty(len(r), bool)
            new[0] = True
            np.not_equal(r[1:], r[:-1], out=new[1:])
            new[1:] |= d[1:] != d[:-1]
            start = np.flatnonzero(new)
            freq = np.diff(start, append=len(r))
            weight = np.full(len(start), boost) if words.kind == "existence" else freq * boost
            values, offsets = b"", None
            if words.kind == "positions":  # token numbers (this kind keeps every token)
                values, offsets = _positions_values(tok - first[d], start, freq)
            yield Postings(
                terms, r[start], docnums[d[start]], weight.astype(np.float32), values, offsets
            )


def _listed_postings(terms: dict[bytes, Listed], fixed: int | None) -> Postings | None:
    """The postings of `SegmentPool.add` / `add_reader` as arrays, by term and document."""
    import numpy as np

    keys = sorted(key for key, found in terms.items() if found[0])  # not all deleted
    if not keys:
        return None
    docs, weights, values, sizes = zip(*map(terms.__getitem__, keys), strict=True)
    offsets = None
    if fixed is None:
        lengths = np.frombuffer(b"".join(sizes), np.uint32)
        offsets = np.zeros(len(lengths) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
    found = Postings(
        keys,
        np.repeat(np.arange(len(keys), dtype=np.int32), list(map(len, docs))),
        np.frombuffer(b"".join(docs), np.uint32).astype(np.int64),
        np.frombuffer(b"".join(weights), np.float32),
        b"".join(values) if fixed != 0 else b"",
        offsets,
    )
    return _in_order(found, fixed)


def _merged(a: Postings, b: Postings, fixed: int | None) -> Postings:
    """Two sets of postings of a field as one, by term and document."""
    import numpy as np

    terms = sorted(set(a.terms) | set(b.terms))
    index = {t: i for i, t in enumerate(terms)}
    both = Postings(
        terms,
        np.concatenate([np.array([index[t] for t in p.terms], np.int32)[p.term] for p in (a, b)]),
        np.concatenate([a.doc, b.doc]),
        np.concatenate([a.weight, b.weight]),
        a.values + b.values,
        None
        if a.offsets is None or b.offsets is None
        else np.concatenate([a.offsets[:-1], b.offsets + a.offsets[-1]]),
    )
    return _in_order(both, fixed)


def _in_order(p: Postings, fixed: int | None) -> Postings:
    """`p` sorted by term, then document (stable), unless it is already."""
    import numpy as np

    same = p.term[1:] == p.term[:-1]
    if (p.term[1:] >= p.term[:-1]).all() and not (same & (p.doc[1:] <= p.doc[:-1])).any():
        return p
    order = np.lexsort((p.doc, p.term))
    raw = np.frombuffer(p.values, np.uint8)
    offsets = None
    if p.offsets is not None:
        starts, sizes = p.offsets[:-1][order], np.diff(p.offsets)[order]
        offsets = np.zeros(len(order) + 1, np.int64)
        np.cumsum(sizes, out=offsets[1:])
        values = raw[np.repeat(starts - offsets[:-1], sizes) + np.arange(offsets[-1])].tobytes()
    elif fixed:
        values = raw.reshape(len(order), fixed)[order].tobytes()
    else:
        values = b""
    return Postings(p.terms, p.term[order], p.doc[order], p.weight[order], values, offsets)


def _stable_argsort(keys: np.ndarray, bound: int) -> np.ndarray:
    """np.argsort(keys, kind="stable") for keys in [0, bound), as one or two radix passes
    (int32 indices: this sorts every token of a field)."""
    import numpy as np

    perm = np.argsort(keys.astype(np.uint16), kind="stable").astype(np.int32)
    if bound > 1 << 16:
        high = (keys[perm] >> 16).astype(np.uint16)
        perm = perm[np.argsort(high, kind="stable")]
    return perm


def _positions_values(
    positions: np.ndarray, start: np.ndarray, freq: np.ndarray
) -> tuple[bytes, np.ndarray]:
    """Every posting's `CompactPositions` value (a width byte, then its position deltas of
    that width, little-endian), back to back, and where each starts (then the end)."""
    import numpy as np

    delta = positions.astype(np.int64)
    delta[1:] -= positions[:-1]
    delta[start] = positions[start]
    top = np.maximum.reduceat(delta, start)
    width = np.where(top < 1 << 8, 1, np.where(top < 1 << 16, 2, 4))
    offsets = np.zeros(len(start) + 1, np.int64)
    np.cumsum(1 + freq * width, out=offsets[1:])
    out = np.zeros(offsets[-1], np.uint8)
    out[offsets[:-1]] = width
    each = np.repeat(width, freq)
    where = np.repeat(offsets[:-1] + 1 - start * width, freq) + np.arange(len(delta)) * each
    for byte in range(4):
        some = each > byte if byte else slice(None)
        out[where[some] + byte] = (delta[some] >> (8 * byte)) & 0xFF
    return out.tobytes(), offsets


# Writing -----------------------------------------------------------------------------------
def _length_bytes(pdr: Any, fieldname: str, field: Any, doccount: int) -> np.ndarray:
    """Every document's byte-encoded length in the field (0: none), from the segment's
    length column, as Whoosh's writer reads them."""
    import numpy as np

    if pdr is None or not field.scorable:
        return np.zeros(doccount, np.uint8)
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

    column = pdr._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if column is None:
        return np.zeros(doccount, np.uint8)
    return np.fromiter(map(column.__getitem__, range(doccount)), np.uint8, doccount)


def _check_codec(codec: Any) -> None:
    """The writer lays out blocks as `reader.core.search.whoosh.codec`'s ArrayCodec does."""
    from reader.core.search.whoosh.codec import codec_classes

    if type(codec) is not codec_classes()[0]:
        raise TypeError(f"the fast writer writes ArrayCodec segments, not {type(codec).__name__}")


def write_field(
    fw: Any, fieldname: str, field: Any, parts: Iterable[Postings], lengths: np.ndarray
) -> None:
    """Write a field's postings (in parts of whole terms) through Whoosh's W3FieldWriter."""
    started = False
    for part in parts:
        if not started:  # Whoosh starts a field at its first posting
            fw.start_field(fieldname, field)
            started = True
        for p in _pieces(part, field.format.fixed_value_size()):
            _write_postings(fw, p, field.format.fixed_value_size(), lengths)
    if started:
        fw.finish_field()


def _pieces(p: Postings, fixed: int | None) -> Iterator[Postings]:
    """`p` in pieces of whole terms and about CHUNK_TOKENS postings (bounded memory)."""
    import numpy as np

    n = len(p.doc)
    if n <= CHUNK_TOKENS:
        yield p
        return
    ends = np.append(np.flatnonzero(p.term[1:] != p.term[:-1]) + 1, n)  # where terms end
    cuts = ends[np.searchsorted(ends, np.arange(CHUNK_TOKENS, n, CHUNK_TOKENS))]
    for a, b in pairwise([0, *np.unique(np.append(cuts, n)).tolist()]):
        if p.offsets is not None:
            offsets = p.offsets[a : b + 1]
            values = p.values[offsets[0] : offsets[-1]]
            offsets = offsets - offsets[0]
        else:
            offsets, values = None, p.values[a * (fixed or 0) : b * (fixed or 0)]
        yield Postings(p.terms, p.term[a:b], p.doc[a:b], p.weight[a:b], values, offsets)


def _write_postings(fw: Any, p: Postings, fixed: int | None, lengths: np.ndarray) -> None:
    """Write postings as the codec's postings writer would (`codec.encode_block`): per term,
    blocks of up to its block limit, each its header struct then its data (compact arrays,
    zlib-compressed when that pays); then the term's W3TermInfo (total weight, document
    frequency, min/max length, max weight, first/last document, the extent of its
    postings)."""
    import numpy as np
    from whoosh.system import pack_ushort

    from reader.core.search.whoosh.codec import BLOCK_HEADER, W_F32, W_ONES, W_SAME, W_U8, W_U16

    n = len(p.doc)
    limit, level = fw._codec._blocklimit, fw._codec._compression
    tstart = np.flatnonzero(np.concatenate([[True], p.term[1:] != p.term[:-1]]))
    tend = np.append(tstart[1:], n)
    nblocks = (tend - tstart + limit - 1) // limit
    bterm = np.repeat(np.arange(len(tstart)), nblocks)
    bnum = np.arange(len(bterm)) - np.repeat(np.cumsum(nblocks) - nblocks, nblocks)
    bstart = tstart[bterm] + bnum * limit
    bend = np.minimum(bstart + limit, tend[bterm])
    w = p.weight
    wmin, wmax = np.minimum.reduceat(w, bstart), np.maximum.reduceat(w, bstart)
    whole = np.logical_and.reduceat((w == np.floor(w)) & (w >= 0), bstart)
    kinds = np.where(
        wmin == wmax,
        np.where(wmax == 1.0, W_ONES, W_SAME),
        np.where(whole & (wmax < 1 << 8), W_U8, np.where(whole & (wmax < 1 << 16), W_U16, W_F32)),
    )
    delta = p.doc.copy()
    delta[1:] -= p.doc[:-1]
    delta[bstart] = 0  # a block's first document is in its header
    idw = _widths(np.maximum.reduceat(delta, bstart))
    idw[bend - bstart == 1] = 0
    sizes = np.diff(p.offsets) if fixed is None else None  # type: ignore[arg-type]
    lenw = _widths(np.maximum.reduceat(sizes, bstart)) if sizes is not None else 0 * bstart
    lb = lengths[p.doc]
    nonzero = np.where(lb == 0, 256, lb.astype(np.int16))  # the min skips missing lengths
    bmin, tmin = np.minimum.reduceat(nonzero, bstart), np.minimum.reduceat(nonzero, tstart)
    bmin[bmin == 256] = 0
    tmin[tmin == 256] = 0
    blocks = zip(
        _block_data(p, fixed, level, (bstart, bend, kinds, idw, lenw), delta, sizes),
        (bnum == nblocks[bterm] - 1).tolist(),  # the term's last block
        (bend - bstart).tolist(),
        p.doc[bstart].tolist(),
        p.doc[bend - 1].tolist(),
        wmax.tolist(),
        bmin.tolist(),
        np.maximum.reduceat(lb, bstart).tolist(),
        idw.tolist(),
        kinds.tolist(),
        lenw.tolist(),
        strict=True,
    )
    postfile = fw._postfile
    pos = postfile.tell()
    records: list[bytes] = []
    extents: list[tuple[int, int]] = []
    parts = [_MAGIC]
    pack_header, pack_length = BLOCK_HEADER.pack, _BLOCK_LENGTH.pack
    for (data, comp), last, count, first, final, top, low, high, iw, kind, lw in blocks:
        header = pack_header(count, first, final, top, comp, low, high, iw, kind, lw)
        size = len(header) + len(data)
        parts += (pack_length(-size if last else size), header, data)
        if last:
            record = b"".join(parts)
            records.append(record)
            extents.append((pos, len(record)))
            pos += len(record)
            parts = [_MAGIC]
    postfile.write(b"".join(records))
    del records
    infos = zip(
        np.add.reduceat(w.astype(np.float64), tstart).tolist(),
        (tend - tstart).tolist(),
        tmin.tolist(),
        np.maximum.reduceat(lb, tstart).tolist(),
        np.maximum.reduceat(w, tstart).tolist(),
        p.doc[tstart].tolist(),
        p.doc[tend - 1].tolist(),
        extents,
        strict=True,
    )
    prefix = pack_ushort(fw._fieldid)
    _add_terms(
        fw._tindex,
        [prefix + p.terms[t] for t in p.term[tstart].tolist()],
        [_TERMINFO.pack(0, *stats, *extent) for *stats, extent in infos],
    )


def _widths(top: np.ndarray) -> np.ndarray:
    """Bytes of the smallest unsigned integers that hold 0..top, elementwise."""
    import numpy as np

    return np.where(top < 1 << 8, 1, np.where(top < 1 << 16, 2, 4))


def _block_data(
    p: Postings,
    fixed: int | None,
    level: int,
    layout: tuple[np.ndarray, ...],
    delta: np.ndarray,
    sizes: np.ndarray | None,
) -> Iterator[tuple[bytes, int]]:
    """Each block's data as `codec.encode_block` lays it out (the document deltas after the
    first, the weights, the value lengths, the values), compressed when that pays, and its
    compression. `layout`: each block's start, end, weight kind and widths of deltas and
    value lengths."""
    import numpy as np

    from reader.core.search.whoosh.codec import W_F32, W_SAME, W_U8, W_U16, compress

    bstart, bend, kinds, idw, lenw = layout

    def cast(a: np.ndarray, used: np.ndarray, dtypes: dict[int, str]) -> dict[int, bytes]:
        return {k: a.astype(t).tobytes() for k, t in dtypes.items() if (used == k).any()}

    ints = {1: "<u1", 2: "<u2", 4: "<u4"}
    deltas = cast(delta, idw, ints)
    weights = cast(p.weight, kinds, {W_U8: "<u1", W_U16: "<u2", W_SAME: "<f4", W_F32: "<f4"})
    lens = cast(sizes, lenw, ints) if sizes is not None else {}
    step = {W_U8: 1, W_U16: 2, W_F32: 4}
    values = p.values
    voff = p.offsets if fixed is None else np.arange(len(p.doc) + 1) * fixed
    for a, b, kind, iw, lw, va, vb in zip(
        bstart.tolist(), bend.tolist(), kinds.tolist(), idw.tolist(), lenw.tolist(),
        voff[bstart].tolist(), voff[bend].tolist(), strict=True
    ):  # fmt: skip
        parts = [deltas[iw][iw * (a + 1) : iw * b] if iw else b""]
        if kind == W_SAME:
            parts.append(weights[kind][4 * a : 4 * a + 4])
        elif kind in step:
            parts.append(weights[kind][step[kind] * a : step[kind] * b])
        if lw:
            parts.append(lens[lw][lw * a : lw * b])
        if fixed != 0:
            parts.append(values[va:vb])
        yield compress(b"".join(parts), level)


def _add_terms(tindex: Any, keys: list[bytes], values: list[bytes]) -> None:
    """Add each key (in increasing order) and value to a term file, in one write: through
    `termfile.CompactHashWriter.add_many` (the array codec's), else OrderedHashWriter.add."""
    add_many = getattr(tindex, "add_many", None)
    if add_many is not None:
        add_many(keys, values)
        return
    for key, value in zip(keys, values, strict=True):
        tindex.add(key, value)


def fast_writer_class():
    """A SegmentWriter that analyses most fields in one pass (`FieldWords`) and writes the
    postings with `write_field`."""
    global _FAST_WRITER
    if _FAST_WRITER is not None:
        return _FAST_WRITER
    from whoosh.writing import SegmentWriter

    class FastSegmentWriter(SegmentWriter):
        def __init__(self, ix: Any, **kwargs: Any) -> None:
            from reader.core.search.whoosh.codec import codec_classes

            _check_codec(kwargs.setdefault("codec", codec_classes()[0]()))
            super().__init__(ix, **kwargs)
            self.pool = SegmentPool()
            self.merging: list[tuple[Any, int]] | None = None  # see `merge_segments`

        def add_document(self, **fields: Any) -> None:
            """SegmentWriter.add_document, with the fields that `SegmentPool.field_words`
            takes analysed in one pass (a text indexed by several fields is split once)."""
            schema = self.schema
            names = sorted(name for name in fields if not name.startswith("_"))
            self._check_state()
            self._check_fields(schema, names)
            if any(schema[n].separate_spelling() or schema[n].vector for n in names):
                return super().add_document(**fields)
            perdoc, pool, docnum = self.perdocwriter, self.pool, self.docnum
            docboost = self._doc_boost(fields)
            split: tuple[Any, list[str]] = (None, [])  # the last text split, its tokens
            perdoc.start_doc(docnum)
            try:
                for name in names:
                    value = fields.get(name)
                    if value is None:
                        continue
                    field = schema[name]
                    length = 0
                    if field.indexed:
                        boost = self._field_boost(fields, name, docboost)
                        words = pool.field_words(name, field) if boost == 1.0 else None
                        if words is not None and isinstance(value, str):
                            if not words.split:
                                tokens: Sequence[str] = (value,)
                            elif split[0] is value:
                                tokens = split[1]
                            else:
                                tokens = TOKEN.findall(value)
                                split = (value, tokens)
                            kept = words.add(docnum, tokens)
                            length = kept if field.scorable else 0
                            pool.fieldnames.add(name)
                        else:
                            for tbytes, freq, weight, vbytes in field.index(value):
                                if field.scorable:
                                    length += freq
                                pool.add((name, tbytes, docnum, weight * boost, vbytes))
                    stored = fields.get(f"_stored_{name}", value)
                    perdoc.add_field(name, field, stored if field.stored else None, length)
                    if field.column_type and stored is not None:
                        perdoc.add_column_value(
                            name, field.column_type, field.to_column_value(stored)
                        )
            except ValueError:
                perdoc.cancel_doc()
                raise
            perdoc.finish_doc()
            self._added = True
            self.docnum += 1
            return None

        def add_postings_to_pool(self, reader: Any, startdoc: int, docmap: Any) -> None:
            self.pool.add_reader(reader, self.schema, startdoc, docmap)

        def _flush_segment(self) -> None:
            self.perdocwriter.close()
            if self.merging is not None:  # `merge_segments`: postings copied from segments
                try:
                    _merge_postings(self.fieldwriter, self.schema, self.storage, self.merging)
                finally:
                    self.fieldwriter.close()
                return
            pdr = self.per_document_reader() if self.codec.length_stats else None
            pool, fw, schema = self.pool, self.fieldwriter, self.schema
            try:
                for name in sorted(pool.fieldnames):
                    field = schema[name]
                    parts = pool.postings(name, field.format.fixed_value_size())
                    lengths = _length_bytes(pdr, name, field, self.docnum)
                    write_field(fw, name, field, parts, lengths)
                    pool.forget(name)
            finally:
                fw.close()
                if pdr is not None:
                    pdr.close()

    _FAST_WRITER = FastSegmentWriter
    return _FAST_WRITER


_FAST_WRITER: Any = None


# Merging segments --------------------------------------------------------------------------
MERGE_FLUSH = 4 << 20  # bytes of merged postings buffered before they are written
MERGE_TERMS = 4096  # terms buffered before they are written (~200 bytes each while held)


def merge_segments(ix: Any, segments: list, codec: Any = None) -> Any:
    """One new segment holding the documents of `segments` (our own array-codec segments,
    without deletions), in their order; returns it (the caller commits it in their place).

    Streams, with memory bounded by the buffers, not the index: the stored fields, lengths
    and columns are copied document by document; the terms of all segments are read in order
    from their term files and merged, and each term's postings are copied block by block,
    only the first and last document of each block shifted by its segment's base (the
    document deltas inside a block do not change). A term in k segments has at least k
    blocks. Whoosh's own merge decodes every posting into the pool of the new segment (the
    whole index in memory). `codec`: the new segment's (an ArrayCodec; by default one with
    the default block size)."""
    from whoosh.reading import SegmentReader

    from reader.core.search.whoosh.codec import codec_classes

    codec = codec if codec is not None else codec_classes()[0]()
    writer = fast_writer_class()(ix, _lk=False, compound=False, codec=codec)
    sources = []
    totals: dict[str, int] = {}  # exact field lengths (a document's is kept as one byte)
    try:
        for segment in segments:
            if segment.has_deletions():
                raise ValueError("merge_segments copies segments without deletions only")
            reader = SegmentReader(ix.storage, ix.schema, segment)
            try:
                names = set(reader.indexed_field_names()) & set(ix.schema.names())
                names |= {n for n in ix.schema.names() if reader.has_column(n)}
                sources.append((segment, writer.docnum))
                writer.write_per_doc(names, reader)
                for name, total in segment._fieldlengths.items():
                    totals[name] = totals.get(name, 0) + total
            finally:
                reader.close()
        writer.perdocwriter._fieldlengths.update(totals)
        writer.merging = sources
        writer._added = True
        merged = writer._finalize_segment()
    except BaseException:
        writer.cancel()
        raise
    writer.is_closed = True  # its temporary folder is the index's, the committing writer's
    return merged


def _segment_terms(storage: Any, segment: Any, source: int) -> Iterator[tuple]:
    """A segment's terms in order as (field name, term, `source`, term info bytes), read
    through its term file from start to end (Whoosh's hash file: a header, then records of
    key and value lengths, key, value; the key is the field number then the term)."""
    from whoosh.filedb.filetables import OrderedHashReader

    name = segment.make_filename(".trm")
    table = OrderedHashReader.open(storage, name)
    try:
        start, end = table.startofdata, table.endofdata
        fields = {pack_id: fieldname for fieldname, pack_id in table.extras["fieldmap"].items()}
    finally:
        table.close()
    with open(os.path.join(storage.folder, name), "rb", buffering=1 << 16) as f:
        f.seek(start)
        pos, unpack, size = start, _LENGTHS.unpack, _LENGTHS.size
        while pos < end:
            keylen, datalen = unpack(f.read(size))
            key = f.read(keylen)
            yield fields[int.from_bytes(key[:2], "big")], key[2:], source, f.read(datalen)
            pos += size + keylen + datalen


def _merge_postings(fw: Any, schema: Any, storage: Any, sources: list) -> None:
    """Write the terms and postings of `sources` ((segment, first document number) pairs)
    through `fw`, term by term (see `merge_segments`)."""
    import heapq
    from contextlib import ExitStack
    from itertools import groupby
    from operator import itemgetter

    from whoosh.system import pack_ushort

    from reader.core.search.whoosh.codec import BLOCK_HEADER

    head, unpack_len, pack_len = BLOCK_HEADER.size, _BLOCK_LENGTH.unpack_from, _BLOCK_LENGTH.pack
    unpack_head, pack_head = BLOCK_HEADER.unpack_from, BLOCK_HEADER.pack
    bases = [base for _segment, base in sources]
    postfile = fw._postfile
    limit, level = fw._codec._blocklimit, fw._codec._compression
    with ExitStack() as stack:
        posts = [
            stack.enter_context(
                open(os.path.join(storage.folder, s.make_filename(".pst")), "rb", buffering=1 << 16)
            )
            for s, _base in sources
        ]
        streams = [_segment_terms(storage, s, i) for i, (s, _base) in enumerate(sources)]
        terms = groupby(heapq.merge(*streams), key=itemgetter(0, 1))
        for fieldname, group in groupby(terms, key=lambda found: found[0][0]):
            fw.start_field(fieldname, schema[fieldname])
            prefix = pack_ushort(fw._fieldid)
            fixed = schema[fieldname].format.fixed_value_size()
            keys: list[bytes] = []
            values: list[bytes] = []
            out: list[bytes] = []
            buffered = 0
            pos = postfile.tell()
            for (_field, term), found in group:
                weight, df, minlen, maxlen, maxweight = 0.0, 0, 255, 0, 0.0
                first = last = 0
                pieces: list[tuple[int, int, int]] = []  # (source, offset, length) each
                for n, (_f, _t, source, info) in enumerate(found):
                    flags, w, d, lo, hi, top, low, high, offset, length = _TERMINFO.unpack(info)
                    if flags:
                        raise ValueError(f"inlined postings in {fieldname}:{term!r}: not ours")
                    base = bases[source]
                    weight, df = weight + w, df + d
                    minlen, maxlen = min(minlen, lo), max(maxlen, hi)
                    maxweight = max(maxweight, top)
                    if not n:
                        first = low + base
                    last = high + base
                    pieces.append((source, offset, length))
                start = pos
                if len(pieces) > 1 and df <= limit:  # one block, not one per segment
                    joined = []
                    for source, offset, length in pieces:
                        f = posts[source]
                        f.seek(offset)
                        joined.append((bases[source], f.read(length)))
                    block = _joined_block(joined, fixed, level, df)
                    record = b"".join((_MAGIC, pack_len(-len(block)), block))
                    out.append(record)
                    pos += len(record)
                    buffered += len(record)
                else:  # the blocks copied one at a time (a frequent term: many megabytes)
                    out.append(_MAGIC)
                    pos += len(_MAGIC)
                    for k, (source, offset, length) in enumerate(pieces):
                        f, base, final = posts[source], bases[source], k == len(pieces) - 1
                        f.seek(offset + 4)  # after the term's tag
                        at = 4
                        while at < length:
                            (size,) = unpack_len(f.read(4))
                            size = -size if size < 0 else size
                            data = f.read(size)
                            count, one, end, *rest = unpack_head(data)
                            at += 4 + size
                            out.append(pack_len(-size if final and at >= length else size))
                            out.append(pack_head(count, one + base, end + base, *rest))
                            out.append(data[head:])
                            pos += 4 + size
                            buffered += 4 + size
                            if buffered >= MERGE_FLUSH:  # within a term too
                                postfile.write(b"".join(out))
                                out, buffered = [], 0
                keys.append(prefix + term)
                values.append(
                    _TERMINFO.pack(
                        0, weight, df, minlen, maxlen, maxweight, first, last, start, pos - start
                    )
                )
                if buffered >= MERGE_FLUSH or len(keys) >= MERGE_TERMS:
                    postfile.write(b"".join(out))
                    _add_terms(fw._tindex, keys, values)
                    out, keys, values, buffered = [], [], [], 0
            if out:
                postfile.write(b"".join(out))
            if keys:
                _add_terms(fw._tindex, keys, values)
            fw.finish_field()


def _joined_block(
    pieces: list[tuple[int, bytes]], fixed: int | None, level: int, count: int
) -> bytes:
    """One block of a term's postings records (in document order, each with its base
    document number) that hold `count` postings, at most a block's: decoded and encoded as
    Python lists when there are few (`codec.decode_lists`), else as arrays."""
    from reader.core.search.whoosh.codec import BLOCK_HEADER, Block, decode_lists, encode_lists

    if count > SMALL_JOIN:
        return _joined_arrays(pieces, fixed, level)

    docs: list[int] = []
    weights: list[float] = []
    sizes: list[int] | None = [] if fixed is None else None
    joined: list[bytes] = []
    low, high, top = 255, 0, 0.0
    unpack_length, unpack_head, head = (
        _BLOCK_LENGTH.unpack_from,
        BLOCK_HEADER.unpack_from,
        4 + BLOCK_HEADER.size,
    )
    for base, piece in pieces:
        at = 4  # after the term's tag
        while at < len(piece):
            (size,) = unpack_length(piece, at)
            size = -size if size < 0 else size
            count, one, _end, most, comp, lo, hi, idw, kind, lenw = unpack_head(piece, at + 4)
            data = piece[at + head : at + 4 + size]
            at += 4 + size
            if comp:
                data = zlib.decompress(data)
            found = decode_lists(Block(count, one + base, idw, kind, lenw, data), fixed)
            docs += found[0]
            weights += found[1]
            if sizes is not None:
                sizes += found[2]  # type: ignore[arg-type]
            joined.append(found[3])
            low, high, top = min(low, lo), max(high, hi), max(top, most)
    return encode_lists(docs, weights, sizes, b"".join(joined), level, (low, high), top)


SMALL_JOIN = 48  # postings of a joined block up to which Python lists beat numpy


def _joined_arrays(pieces: list[tuple[int, bytes]], fixed: int | None, level: int) -> bytes:
    """`_joined_block` with numpy arrays (`codec.encode_arrays`)."""
    import numpy as np

    from reader.core.search.whoosh.codec import BLOCK_HEADER, Block, encode_arrays, raw_values

    docs, weights, sizes, joined = [], [], [], []
    low, high, top = 255, 0, 0.0
    for base, piece in pieces:
        at = 4  # after the term's tag
        while at < len(piece):
            (size,) = _BLOCK_LENGTH.unpack_from(piece, at)
            size = abs(size)
            count, one, _end, most, comp, lo, hi, idw, kind, lenw = BLOCK_HEADER.unpack_from(
                piece, at + 4
            )
            data = piece[at + 4 + BLOCK_HEADER.size : at + 4 + size]
            at += 4 + size
            if comp:
                data = zlib.decompress(data)
            block = Block(count, one + base, idw, kind, lenw, data)
            docs.append(block.docs())
            weights.append(block.weights())
            found, values = raw_values(block, fixed)
            if found is not None:
                sizes.append(found)
            joined.append(values)
            low, high, top = min(low, lo), max(high, hi), max(top, most)
    return encode_arrays(
        np.concatenate(docs),
        np.concatenate(weights),
        np.concatenate(sizes) if sizes else None,
        b"".join(joined),
        level,
        (low, high),
        top,
    )


def merge_small(writer: Any, segments: list) -> list:
    """A merge policy that merges the small segments (one-document updates pile them up)
    once there are MAX_SMALL of them, into the writer's new segment, and never touches the
    big ones: Whoosh's MERGE_SMALL merges every segment of a many-segment index (all of
    80,000 documents for a one-document update)."""
    from whoosh.reading import SegmentReader

    small = [s for s in segments if s.doc_count_all() < SMALL_SEGMENT_DOCS]
    if len(small) < MAX_SMALL:
        return list(segments)
    for segment in small:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        try:
            writer.add_reader(reader)
        finally:
            reader.close()
    return [s for s in segments if s not in small]


SMALL_SEGMENT_DOCS = 500  # segments with fewer documents count as small
MAX_SMALL = 6  # small segments before a commit merges them


def _subwriter(
    storage: Any, indexname: str, jobs: Any, results: Any, kwargs: dict, budget: int
) -> None:
    """A worker process of `BudgetMpWriter`: index the documents of each job file, writing a
    segment whenever the pooled postings reach `budget` bytes; then send the parent the
    list of segments (or ("error", errno, message) for an OSError such as a full disk)."""
    import pickle

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it stops us
    _stderr_to_log(storage)
    _return_freed_memory()
    try:
        ix = storage.open_index(indexname)
        cls = fast_writer_class()
        writer = cls(ix, _lk=False, **kwargs)
        segments = []
        while (job := jobs.get()) is not None:
            filename, count = job
            tempstorage = writer.temp_storage()
            with tempstorage.open_file(filename).raw_file() as f:
                for _ in range(count):
                    _code, fields = pickle.load(f)
                    writer.add_document(**fields)
            tempstorage.delete_file(filename)
            if writer.pool.memory() >= pool_budget(budget):
                segments.append(writer._finalize_segment())
                writer = cls(ix, _lk=False, **kwargs)
        if writer._added:
            segments.append(writer._finalize_segment())
        else:
            writer._close_segment()
        results.put(segments)
    except OSError as exc:
        results.put(("error", exc.errno, str(exc)))


WORKER_LOG = "index-worker.log"  # in the data folder: what a worker process printed


def _worker_log(storage: Any) -> str:
    return os.path.join(os.path.dirname(os.path.abspath(storage.folder)), WORKER_LOG)


def _stderr_to_log(storage: Any) -> None:
    """Send this worker's stderr (a traceback, a library's warning) to WORKER_LOG instead of
    the terminal, where it would write over the app or the command's output."""
    try:
        fd = os.open(_worker_log(storage), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError:  # a read-only or full data folder: the parent says what went wrong
        return
    os.dup2(fd, 2)
    os.close(fd)


def _check_workers(tasks: list, storage: Any) -> None:
    """Raise the one line for a worker process that stopped (a crash, or the system's
    out-of-memory killer): nothing of this update is written."""
    for task in tasks:
        code = task.exitcode
        if code not in (None, 0):
            how = f"was killed ({signal.Signals(-code).name})" if code < 0 else f"exited ({code})"
            raise ReaderError(
                f"an index worker process {how}; nothing of this update was written (what "
                f"it printed is in {_worker_log(storage)}); run the command again"
            )


class _Jobs:
    """The worker processes' job queue (bounded): a put that waits for room gives up with
    `_check_workers`' line when a worker has stopped, whose jobs nobody would take."""

    def __init__(self, jobs: Any, tasks: list, storage: Any) -> None:
        self.queue, self.tasks, self.storage = jobs, tasks, storage

    def put(self, item: Any) -> None:
        import queue

        while True:
            try:
                self.queue.put(item, timeout=0.5)
                return
            except queue.Full:
                _check_workers(self.tasks, self.storage)


def _return_freed_memory() -> None:
    """Have glibc's malloc give big freed blocks (a segment's arrays) back to the system at
    once: by default it raises its mmap threshold after such a free, so the next arrays come
    from a heap that does not shrink, and a worker keeps the peak of its biggest segment.
    Does nothing where there is no glibc."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    except (OSError, AttributeError):  # not glibc
        return


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MMAP_THRESHOLD = 1 << 20  # blocks from this size are mapped, and unmapped when freed


@contextmanager
def _without_main() -> Iterator[None]:
    """Start a spawned process without the caller's `__main__` module: multiprocessing
    would import it again in the worker (as `__mp_main__`), running an unguarded script a
    second time. The worker needs only this module, which it imports by name."""
    import sys
    import types

    main = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if main is not None:
            sys.modules["__main__"] = main


def mp_writer_class():
    """Whoosh's multiprocess writer, with worker processes that are spawned (not forked: a
    forked worker starts with the parent's whole memory, and forking a threaded process is
    unsafe), use FastSegmentWriter, and write a segment whenever their pool reaches their
    share of the memory budget (`budget=` bytes for all workers together)."""
    global _MP_WRITER
    if _MP_WRITER is not None:
        return _MP_WRITER
    import queue

    from whoosh.multiproc import MpWriter

    class BudgetMpWriter(MpWriter):
        def __init__(self, ix: Any, *, budget: int, **kwargs: Any) -> None:
            kwargs.setdefault("start_method", "spawn")
            super().__init__(ix, multisegment=True, **kwargs)
            self.budget = budget
            self.jobqueue = _Jobs(self.jobqueue, self.tasks, self.storage)

        def _new_task(self) -> Any:
            args = (
                self.storage,
                self.indexname,
                self.jobqueue.queue,
                self.resultqueue,
                self.subargs,
                max(1, self.budget // self.procs),
            )
            task = self._mpctx.Process(target=_subwriter, args=args, daemon=True)
            self.tasks.append(task)
            with _without_main():
                task.start()
            return task

        def _results(self) -> list:
            """Each worker's segments, waiting for all of them (a worker that died is an
            error, not a hang)."""
            out: list = []
            received = 0
            while received < len(self.tasks):
                try:
                    found = self.resultqueue.get(timeout=0.5)
                except queue.Empty:
                    _check_workers(self.tasks, self.storage)
                    continue
                if isinstance(found, tuple) and found and found[0] == "error":
                    raise OSError(found[1], found[2])
                received += 1
                out.extend(found)
            return out

        def _commit(self, mergetype: Any, optimize: Any, merge: Any) -> None:
            if self.docbuffer:
                self._enqueue()
            try:
                for _task in self.tasks:
                    self.jobqueue.put(None)
                finalsegments = self._merge_segments(mergetype, optimize, merge)
                written = self._results()
            except BaseException:
                self._stop_tasks()
                raise
            for task in self.tasks:
                task.join()
            if len(written) > 1:  # one segment: smaller (one term dictionary), faster search
                written = [merge_segments(self.storage.open_index(self.indexname), written)]
            finalsegments += written
            if self._added:
                finalsegments.append(self._finalize_segment())
            else:
                self._close_segment()
            self._commit_toc(finalsegments)
            self._finish()

        def _stop_tasks(self) -> None:
            for task in self.tasks:
                if task.is_alive():
                    task.terminate()
                task.join()

        def cancel(self) -> None:
            try:
                self._stop_tasks()
            finally:
                from whoosh.writing import SegmentWriter

                SegmentWriter.cancel(self)

    _MP_WRITER = BudgetMpWriter
    return _MP_WRITER


_MP_WRITER: Any = None
