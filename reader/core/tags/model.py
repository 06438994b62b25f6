"""The tag model: `Tag`, the one registry of tag kinds (`KINDS`) and of verdicts (`VERDICTS`).

Everything that names a kind of tag (the CLI's choices, the app's keys and colours, the export
formats) reads it from here, so a new kind is a change in this file only. Pure data: no
database, no textual.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from reader.core.display import clean_note
from reader.core.errors import ReaderError
from reader.core.tags.anchoring import ANCHORED, MOVED, ORPHANED, STATUSES
from reader.core.tags.anchoring import Selector as _Selector


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of tag, with what every surface needs to show it."""

    name: str  # stored and exported ("claim")
    keys: str  # the app's keys, Textual binding syntax ("c,1")
    mark: str  # one-letter gutter mark ("C")
    label: str  # "Claim"
    plural: str  # "Claims"
    colour: str  # hex colour for exports (REFI-QDA codes): theme_colour in textual-dark
    theme_colour: str  # the Textual theme variable the app tints it with
    description: str
    w3c_motivation: str  # the W3C Web Annotation motivation it is exported with


KINDS: tuple[Kind, ...] = (
    Kind(
        "claim",
        "c,1",
        "C",
        "Claim",
        "Claims",
        "#BA3C5B",
        "error",
        "A statement a source makes that can be checked.",
        "questioning",
    ),
    Kind(
        "rebuttal",
        "r,2",
        "R",
        "Rebuttal",
        "Rebuttals",
        "#4EBF71",
        "success",
        "A passage that answers or contradicts a claim.",
        "assessing",
    ),
    Kind(
        "context",
        "x,3",
        "X",
        "Context",
        "Context",
        "#004578",
        "secondary",
        "Background that helps read a claim or rebuttal.",
        "describing",
    ),
)
KIND_NAMES: tuple[str, ...] = tuple(kind.name for kind in KINDS)
TAGS = KIND_NAMES  # the name older modules used
_BY_NAME = {kind.name: kind for kind in KINDS}
# The kind a rebuttal answers, and the kind that answers it (the link rule).
CLAIM, REBUTTAL, CONTEXT = KIND_NAMES

VERDICTS: tuple[str, ...] = (
    "true",
    "mostly-true",
    "mixed",
    "mostly-false",
    "false",
    "unproven",
    "not-rated",
)
DEFAULT_VERDICT = "not-rated"

JSON_FIELDS: tuple[str, ...] = (
    "id",
    "doc_id",
    "tag",
    "start",
    "end",
    "exact",
    "prefix",
    "suffix",
    "note",
    "links",
    "author",
    "created",
    "updated",
    "status",
    "doc_sha256",
    "verdict",
    "labels",
)
_LABEL = re.compile(r"^[^\s,#\x00-\x1f\x7f-\x9f][^\s,\x00-\x1f\x7f-\x9f]{0,63}$")


def kind(name: str) -> Kind:
    """The registered kind `name`; ReaderError naming the kinds otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ReaderError(f"unknown tag {name!r}; use one of {', '.join(KIND_NAMES)}") from None


def check_verdict(verdict: str) -> str:
    """`verdict` if it is one of VERDICTS; ReaderError with the list otherwise."""
    if verdict not in VERDICTS:
        raise ReaderError(f"unknown verdict {verdict!r}; use one of {', '.join(VERDICTS)}")
    return verdict


def clean_label(label: str) -> str:
    """A label as stored: trimmed, without a leading `#`, lower case; ReaderError if unusable.

    Labels are single words of up to 64 characters (`tesla-refund`), no spaces or commas.
    """
    text = label.strip().lstrip("#").lower()
    if not _LABEL.match(text):
        raise ReaderError(
            f"bad label {label!r}: one word of at most 64 characters, no spaces or commas"
        )
    return text


def now() -> str:
    """The current UTC time, ISO 8601 with milliseconds and a Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Tag:
    """A tagged passage `[start, end)` of a document (code points into its clean text).

    `version` starts at 1 and grows by one with every stored change of this tag: a write that
    was based on an older version is refused (`ConflictError`), never silently applied.
    """

    id: str
    doc_id: str
    tag: str
    start: int
    end: int
    exact: str
    prefix: str
    suffix: str
    note: str
    links: tuple[str, ...]
    author: str
    created: str
    updated: str
    status: str
    doc_sha256: str
    verdict: str = DEFAULT_VERDICT
    labels: tuple[str, ...] = ()
    version: int = 1
    lang: str = ""
    checked_sha256: str = field(default="", repr=False)

    def to_json(self) -> dict[str, Any]:
        """The public JSON shape: exactly JSON_FIELDS."""
        data = {name: getattr(self, name) for name in JSON_FIELDS}
        data["links"] = list(self.links)
        data["labels"] = list(self.labels)
        return data

    def snapshot(self) -> dict[str, Any]:
        """Everything stored about the tag (the event log's before/after states)."""
        data = self.to_json()
        data.update(lang=self.lang, checked_sha256=self.checked_sha256, version=self.version)
        return data

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> Tag:
        """A tag from `snapshot()` or `to_json()` output (missing new fields get defaults)."""
        return cls(
            id=data["id"],
            doc_id=data["doc_id"],
            tag=data["tag"],
            start=int(data["start"]),
            end=int(data["end"]),
            exact=data["exact"],
            prefix=data.get("prefix", ""),
            suffix=data.get("suffix", ""),
            note=clean_note(data.get("note") or ""),
            links=tuple(data.get("links") or ()),
            author=data.get("author", ""),
            created=data["created"],
            updated=data.get("updated", data["created"]),
            status=data.get("status", ANCHORED),
            doc_sha256=data.get("doc_sha256", ""),
            verdict=data.get("verdict") or DEFAULT_VERDICT,
            labels=tuple(data.get("labels") or ()),
            version=int(data.get("version") or 1),
            lang=data.get("lang", ""),
            checked_sha256=data.get("checked_sha256", data.get("doc_sha256", "")),
        )

    @property
    def selector(self) -> _Selector:
        return _Selector(self.start, self.end, self.exact, self.prefix, self.suffix)

    @property
    def kind(self) -> Kind:
        return _BY_NAME[self.tag]


@dataclass(frozen=True)
class Event:
    """One change, as logged: `before`/`after` are snapshots (None: did not exist).

    A batch event (an import) has `annotation` = "" and `after` = {"source": ..., "tags":
    [snapshots]} (and `before` = {"tags": [...]} when it is undone).
    """

    seq: int
    at: str
    session: str
    author: str
    kind: str
    annotation: str
    description: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def tag_ids(self) -> list[str]:
        """The ids of the tags this event changed."""
        if self.annotation:
            return [self.annotation]
        ids: list[str] = []
        for state in (self.before, self.after):
            for snap in (state or {}).get("tags", ()):
                if snap["id"] not in ids:
                    ids.append(snap["id"])
        return ids


@dataclass
class ReconcileReport:
    """What `reconcile` changed: ids moved by exact search, re-anchored by fuzzy match, orphaned."""

    moved: list[str] = field(default_factory=list)
    orphaned: list[str] = field(default_factory=list)
    reanchored: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.moved or self.orphaned or self.reanchored)


@dataclass
class ImportResult:
    """What `TagService.import_tags` did: tags added, and those skipped with the reason."""

    source: str
    added: list[Tag] = field(default_factory=list)
    skipped: list[tuple[Tag, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "added": [tag.id for tag in self.added],
            "skipped": [{"id": tag.id, "reason": why} for tag, why in self.skipped],
        }


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(tag: Tag | dict[str, Any]) -> str:
    """`claim "Musk said…" in 000.txt` for messages."""
    data = tag if isinstance(tag, dict) else tag.to_json()
    return f'{data["tag"]} "{_short(data["exact"])}" in {data["doc_id"]}'


__all__ = [
    "ANCHORED",
    "CLAIM",
    "CONTEXT",
    "DEFAULT_VERDICT",
    "JSON_FIELDS",
    "KINDS",
    "KIND_NAMES",
    "MOVED",
    "ORPHANED",
    "REBUTTAL",
    "STATUSES",
    "TAGS",
    "VERDICTS",
    "Event",
    "ImportResult",
    "Kind",
    "ReconcileReport",
    "Tag",
    "check_verdict",
    "clean_label",
    "describe",
    "kind",
    "now",
]
