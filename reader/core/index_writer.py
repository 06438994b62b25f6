"""Whoosh segment writers that index faster: postings pooled per term, written per block.

Part of the index (`reader.core.index`): the same on-disk format, written with fewer Python
calls per posting. Pinned to whoosh3 3.54's writer internals; `tests/unit/test_index.py`
checks the result against Whoosh's own writer.
"""

from __future__ import annotations

import operator
from array import array
from collections.abc import Iterator
from typing import Any


class TermPool:
    """Postings kept in memory grouped by field and term, in compact arrays.

    Whoosh's PostingPool keeps one tuple per posting, sorts them all at commit and, past its
    memory limit, pickles every posting to temporary runs and merges them back. Documents
    arrive in document-number order, so grouping by term as they come leaves only the terms
    to sort, with no temporary files and a fraction of the memory (the posting values of
    single positions and small frequencies are shared bytes objects).
    """

    def __init__(self) -> None:
        self.fields: dict[str, dict[bytes, tuple]] = {}
        self.fieldnames: set[str] = set()
        self.unsorted: set[tuple[str, bytes]] = set()
        self._shared: dict[bytes, bytes] = {}  # one object per short value (merges)

    def _terms(self, fieldname: str) -> dict[bytes, tuple]:
        terms = self.fields.get(fieldname)
        if terms is None:
            terms = self.fields[fieldname] = {}
            self.fieldnames.add(fieldname)
        return terms

    def add(self, item: tuple) -> None:
        """Add one (fieldname, btext, docnum, weight, value) posting (Whoosh's pool API)."""
        fieldname, btext, docnum, weight, value = item
        if docnum < 0:  # a spelling word: these fields have none
            return
        terms = self._terms(fieldname)
        entry = terms.get(btext)
        if entry is None:
            entry = terms[btext] = (array("I"), array("d"), [])
        if entry[0] and docnum <= entry[0][-1]:
            self.unsorted.add((fieldname, btext))
        entry[0].append(docnum)
        entry[1].append(weight)
        value = value or b""
        entry[2].append(self._shared.setdefault(value, value) if len(value) <= 12 else value)

    def add_document_postings(self, fieldname: str, docnum: int, items: list[tuple]) -> None:
        """Add one new document's (btext, freq, weight, value) postings of a field; `docnum`
        is higher than every document number added so far."""
        terms = self._terms(fieldname)
        get = terms.get
        for btext, _freq, weight, value in items:
            entry = get(btext)
            if entry is None:
                entry = terms[btext] = (array("I"), array("d"), [])
            entry[0].append(docnum)
            entry[1].append(weight)
            entry[2].append(value)

    def term(self, fieldname: str, btext: bytes) -> tuple[array, array, list[bytes]]:
        """(docnums, weights, values) of one term, by document number."""
        docs, weights, values = self.fields[fieldname][btext]
        if (fieldname, btext) in self.unsorted:
            rows = sorted(zip(docs, weights, values, strict=True), key=operator.itemgetter(0))
            docs = array("I", (r[0] for r in rows))
            weights = array("d", (r[1] for r in rows))
            values = [r[2] for r in rows]
        return docs, weights, values

    def iter_postings(self) -> Iterator[tuple]:
        """Every posting as Whoosh's (fieldname, btext, docnum, weight, value), sorted."""
        for fieldname in sorted(self.fields):
            for btext in sorted(self.fields[fieldname]):
                docs, weights, values = self.term(fieldname, btext)
                for docnum, weight, value in zip(docs, weights, values, strict=True):
                    yield fieldname, btext, docnum, weight, value

    def cleanup(self) -> None:
        self.fields.clear()


def _write_term(pw: Any, docs: array, weights: array, values: list, lengths: list) -> None:
    """Write one term's postings through Whoosh's W3PostingsWriter a block at a time.

    The same block contents that `add_posting` (one call per posting) builds: ids, float
    weights, the non-empty values, the max weight and the min/max non-zero field lengths.
    """
    limit = pw._blocklimit
    total = len(docs)
    for start in range(0, total, limit):
        if pw._ids:
            pw._write_block()
        stop = min(start + limit, total)
        ids = docs[start:stop]
        pw._ids = ids
        pw._weights = array("f", weights[start:stop])
        pw._maxweight = max(0, max(pw._weights))
        chunk = values[start:stop]
        pw._values = chunk if all(chunk) else [v for v in chunk if v]
        found = [n for n in map(lengths.__getitem__, ids) if n]
        pw._minlength = min(found) if found else None
        pw._maxlength = max(found) if found else 0


def fast_writer_class():
    """A SegmentWriter that collects postings in a TermPool and writes them directly."""
    global _FAST_WRITER
    if _FAST_WRITER is not None:
        return _FAST_WRITER
    from whoosh.writing import SegmentWriter

    class FastSegmentWriter(SegmentWriter):
        def __init__(self, ix: Any, **kwargs: Any) -> None:
            super().__init__(ix, **kwargs)
            self.pool = TermPool()

        def add_document(self, **fields: Any) -> None:
            """SegmentWriter.add_document; fields whose `index` returns a list (the body
            fields) have their postings added to the pool in bulk."""
            schema = self.schema
            names = sorted(name for name in fields if not name.startswith("_"))
            if any(schema[n].separate_spelling() or schema[n].vector for n in names if n in schema):
                return super().add_document(**fields)
            self._check_state()
            self._check_fields(schema, names)
            perdoc, pool, docnum = self.perdocwriter, self.pool, self.docnum
            docboost = self._doc_boost(fields)
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
                        items = field.index(value)
                        if isinstance(items, list) and boost == 1.0:
                            if field.scorable:
                                length = sum(map(operator.itemgetter(1), items))
                            pool.add_document_postings(name, docnum, items)
                        else:
                            for tbytes, freq, weight, vbytes in items:
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

        def _flush_segment(self) -> None:
            self.perdocwriter.close()
            pdr = self.per_document_reader() if self.codec.length_stats else None
            pool, fw, schema = self.pool, self.fieldwriter, self.schema
            try:
                for fieldname in sorted(pool.fields):
                    terms = pool.fields[fieldname]
                    if pdr is not None:
                        get = pdr.doc_field_length_reader(fieldname)
                        lengths = [get(d) for d in range(self.docnum)]
                    else:
                        lengths = [0] * self.docnum
                    fw.start_field(fieldname, schema[fieldname])
                    for btext in sorted(terms):
                        fw.start_term(btext)
                        _write_term(fw._postwriter, *pool.term(fieldname, btext), lengths)
                        fw.finish_term()
                    fw.finish_field()
            finally:
                fw.close()
                if pdr is not None:
                    pdr.close()

    _FAST_WRITER = FastSegmentWriter
    return _FAST_WRITER


_FAST_WRITER: Any = None


def mp_writer_class():
    """Whoosh's multiprocess writer whose worker processes use FastSegmentWriter."""
    global _MP_WRITER
    if _MP_WRITER is not None:
        return _MP_WRITER
    from whoosh.multiproc import MpWriter, SubWriterTask

    class FastSubWriterTask(SubWriterTask):
        def run(self) -> None:
            import whoosh.multiproc

            # This runs in the forked worker process only.
            whoosh.multiproc.SegmentWriter = fast_writer_class()
            super().run()

    class FastMpWriter(MpWriter):
        def _new_task(self) -> Any:
            task = FastSubWriterTask(
                self.storage,
                self.indexname,
                self.jobqueue,
                self.resultqueue,
                self.subargs,
                self.multisegment,
            )
            self.tasks.append(task)
            task.start()
            return task

    _MP_WRITER = FastMpWriter
    return _MP_WRITER


_MP_WRITER: Any = None
