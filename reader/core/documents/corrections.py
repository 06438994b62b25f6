"""Corrections: the user's own values for a document's language, title, date, URL, outlet
and author, kept in the workspace (`corrections.json`) and laid over what ingest found.

They are the user's work, like tags: never rebuilt, written atomically, and applied wherever
a document is read (catalog, index, search, translation, exports), so they survive rescans
and re-indexing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from reader.core.display import printable
from reader.core.documents import corpus_of
from reader.core.documents.model import Document
from reader.core.documents.webmeta import web_url
from reader.core.errors import ReaderError

if TYPE_CHECKING:
    from reader.core.workspace import Workspace

FIELDS = ("lang", "title", "date", "url", "site", "author")
FILE_NAME = "corrections.json"
# ISO 639-1: the two-letter codes a document's language may be corrected to.
ISO_639_1 = frozenset(
    """aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu
    cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi
    ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks
    ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl
    nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl
    sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve
    vi vo wa wo xh yi yo za zh zu""".split()  # noqa: SIM905
)
_MAX_TEXT = 1000


class BadCorrection(ReaderError):
    """A correction value that is not valid for its field; the message says why."""


def validate(field: str, value: str) -> str:
    """`value` checked and normalised for `field`; raises BadCorrection."""
    value = " ".join(value.split())
    if field not in FIELDS:
        raise BadCorrection(f"unknown field {field!r}; fields: {', '.join(FIELDS)}")
    if not value:
        raise BadCorrection(f"{field}: empty value; use `reader docs unset` to remove it")
    if field == "lang":
        code = value.lower()
        if code not in ISO_639_1:
            raise BadCorrection(f"lang: {printable(value)!r} is not an ISO 639-1 code (e.g. en)")
        return code
    if field == "date":
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            raise BadCorrection(f"date: {printable(value)!r} is not a date (YYYY-MM-DD)") from None
    if field == "url":
        url = web_url(value)
        if url is None:
            raise BadCorrection(f"url: {printable(value)!r} is not an http(s) URL")
        return url
    if len(value) > _MAX_TEXT or value != printable(value):
        raise BadCorrection(f"{field}: too long or holds control characters")
    return value


class Corrections:
    """The corrections of one workspace: `{doc_id: {field: value}}`, reread when the file
    changes (another process, or the app and the CLI side by side)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._data: dict[str, dict[str, str]] = {}

    @classmethod
    def of(cls, ws: Workspace) -> Corrections:
        return cls(ws.data_dir / FILE_NAME)

    def all(self) -> dict[str, dict[str, str]]:
        """Every document's corrections (a damaged file is an error, never ignored)."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._data = None, {}
            return self._data
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ReaderError(f"cannot read the corrections {self.path}: {exc}") from exc
            if not isinstance(data, dict):
                raise ReaderError(f"cannot read the corrections {self.path}: not an object")
            self._data = {
                str(doc_id): {k: str(v) for k, v in fields.items() if k in FIELDS}
                for doc_id, fields in data.items()
                if isinstance(fields, dict)
            }
            self._stamp = stamp
        return self._data

    def get(self, doc_id: str) -> dict[str, str]:
        return self.all().get(doc_id, {})

    def update(self, doc_id: str, set_: dict[str, str], unset: tuple[str, ...] = ()) -> dict:
        """Set and unset fields of one document (values validated first); returns its
        corrections. Nothing is written when a value is bad."""
        clean = {field: validate(field, value) for field, value in set_.items()}
        for field in unset:
            if field not in FIELDS:
                raise BadCorrection(f"unknown field {field!r}; fields: {', '.join(FIELDS)}")
        data = {k: dict(v) for k, v in self.all().items()}
        fields = data.setdefault(doc_id, {})
        fields.update(clean)
        for field in unset:
            fields.pop(field, None)
        if not fields:
            del data[doc_id]
        self._write(data)
        return data.get(doc_id, {})

    def _write(self, data: dict) -> None:
        text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".corrections-", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            if "tmp" in locals():
                Path(tmp).unlink(missing_ok=True)
            raise ReaderError(f"cannot save the corrections {self.path}: {exc.strerror}") from exc
        self._stamp = None


def apply(doc: Document, fields: dict[str, str]) -> Document:
    """`doc` with its corrections; a corrected language re-splits the sentences."""
    if not fields:
        return doc
    changes: dict = {k: v for k, v in fields.items() if k != "lang"}
    lang = fields.get("lang")
    if lang and lang != doc.lang:
        from reader.core.documents.segment import assemble

        paragraphs = [doc.text[p.start : p.end] for p in doc.paragraphs]
        _text, paras = assemble(paragraphs, lang)
        changes.update(
            lang=lang,
            paragraphs=paras,
            sentences=tuple(s for p in paras for s in p.sentences),
        )
    if lang:
        changes["lang_confidence"] = None  # declared by the user: certain
    return replace(doc, **changes)


def correct(
    ws: Workspace, doc_id: str, set_: dict[str, str], unset: tuple[str, ...] = ()
) -> Document:
    """Correct a document everywhere at once: the corrections file, the catalog and the
    search index (so search, translation and exports see the new values)."""
    from reader.core.search import refresh_documents

    doc = corpus_of(ws).correct(doc_id, set_, unset)
    refresh_documents(ws, [doc])
    return doc
