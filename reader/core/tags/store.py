"""The tag store interface: what a backend (SQLite, PostgreSQL) must do, and nothing more.

A store keeps tags, their links and the append-only event log. It holds no rules: validation,
the duplicate rule, re-anchoring, undo and event descriptions live in `TagService`
(service.py), which is the only caller of a store. A backend implements `TagStore`; the
shared suite in tests/unit/test_tag_store.py runs against every backend.

Contract of `commit(writes, events)`:
- all of it or nothing: the writes and the events land in one transaction;
- `Write(before=None, after=t)` inserts `t` (ConflictError if the id exists);
- `Write(before=b, after=t)` replaces the stored tag if its version is still `b.version`,
  else ConflictError; the stored version becomes `b.version + 1` (the `after.version` given
  is ignored);
- `Write(before=b, after=None)` deletes it under the same version check; links from and to it
  go with it (the event log keeps its state);
- `after.links` replaces the tag's outgoing links, in order, dropping targets that do not
  exist; `linked_from` re-creates links *to* the tag from those sources that exist (restoring
  a removed tag). Links to or from a tag do not change the other tag's version;
- the same kind twice on the same passage is refused by the store itself, inside the commit's
  transaction (DuplicateTagError, nothing written): a written tag that is not orphaned may not
  share (doc_id, start, end, tag) with another tag that is not orphaned. The service checks
  the rule too, but only the store can make it hold between two clients writing at once;
- events are appended in order; the store assigns `seq` (strictly increasing) and never
  updates or deletes an event;
- it returns each write's tag as stored (its new version, the links that held), None for a
  delete, so a caller needs no read-back.
Errors a user can act on are ReaderError subclasses with a message fit to print.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, runtime_checkable

from reader.core.errors import ReaderError
from reader.core.tags.model import Event, Tag


class ConflictError(ReaderError):
    """The tag changed (or appeared, or went) since it was read: nothing was written."""

    def __init__(self, message: str, tag_id: str = "") -> None:
        super().__init__(message)
        self.tag_id = tag_id

    def __reduce__(self) -> tuple:  # picklable (e.g. out of a worker process)
        return (type(self), (str(self), self.tag_id))


class DuplicateTagError(ReaderError):
    """The same kind of tag is already on the same passage."""

    def __init__(self, message: str, existing: Tag) -> None:
        super().__init__(message)
        self.existing = existing

    def __reduce__(self) -> tuple:  # picklable (e.g. out of a worker process)
        return (type(self), (str(self), self.existing))


def duplicate_error(existing: Tag) -> DuplicateTagError:
    """The refusal of a second `existing.tag` on `existing`'s passage (service and stores)."""
    return DuplicateTagError(
        f"already tagged as {existing.tag}: this passage of {existing.doc_id} is tag "
        f"{existing.id[:8]}",
        existing,
    )


class ReadOnlyError(ReaderError):
    """The store was opened read-only (or its folder is): tags can be read, not changed."""


class StoreFullError(ReaderError):
    """No space left on the device: nothing of the change was saved."""


class StoreUnavailableError(ReaderError):
    """A shared store's server cannot be reached (at start, or the connection was lost):
    nothing of the change was saved; the next call tries to reconnect."""


class DamagedStoreError(ReaderError):
    """The store's file is damaged. It is left as it is; `reader tags recover` repairs it."""


@dataclass(frozen=True, slots=True)
class Write:
    """One tag's change inside a commit: `before` as read (None: new), `after` (None: delete)."""

    tag_id: str
    before: Tag | None
    after: Tag | None
    linked_from: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append (the store gives it its `seq`)."""

    at: str
    session: str
    author: str
    kind: str
    annotation: str  # the tag id, or "" for a batch (import) event
    description: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@runtime_checkable
class TagStore(Protocol):
    """A backend for tags. Reads return tags sorted by (doc_id, start, end, created, id)."""

    location: str  # where it is, for messages (a path, or a URL without its password)
    readonly: bool

    def close(self) -> None: ...

    # Reading
    def get(self, tag_id: str) -> Tag | None: ...

    def list(
        self,
        *,
        tag: str | None = None,
        doc_id: str | None = None,
        lang: str | None = None,
        status: str | None = None,
        verdict: str | None = None,
        label: str | None = None,
        span: tuple[int, int] | None = None,
    ) -> list[Tag]:
        """Tags matching every filter given (None: any); `span` = exactly (start, end)."""
        ...

    def ids_with_prefix(self, prefix: str, limit: int = 6) -> list[str]:
        """Up to `limit` ids starting with `prefix`, sorted."""
        ...

    def linked_from(self, tag_id: str) -> list[str]:
        """Ids of the tags that link to `tag_id`."""
        ...

    def tag_counts(self) -> dict[str, dict[str, int]]:
        """{doc_id: {kind: count}}."""
        ...

    def checked(self) -> list[tuple[str, str]]:
        """Distinct (doc_id, checked_sha256) pairs: what re-anchoring last saw per document."""
        ...

    def events(
        self, tag_id: str | None = None, *, after_seq: int = 0, limit: int | None = None
    ) -> list[Event]:
        """The log, oldest first: events with seq > after_seq, of one tag if given (batch
        events that contain it included), the last `limit` of them if given."""
        ...

    # Writing
    def commit(self, writes: Sequence[Write], events: Sequence[NewEvent]) -> list[Tag | None]:
        """Apply every write and append every event atomically (see the module docstring);
        each write's tag as stored."""
        ...


class UnavailableStore:
    """A stand-in when the real store cannot be opened (damaged, server down): it holds no
    tags and refuses every write with the error that stopped the real one, so an app can keep
    reading and searching documents while it shows that error."""

    readonly = True

    def __init__(self, error: ReaderError, location: str = "") -> None:
        self.error = error
        self.location = location
        self.readonly_reason = str(error)

    def close(self) -> None:
        pass

    def get(self, tag_id: str) -> Tag | None:
        return None

    def list(self, **filters: Any) -> list[Tag]:
        return []

    def ids_with_prefix(self, prefix: str, limit: int = 6) -> list[str]:
        return []

    def linked_from(self, tag_id: str) -> list[str]:
        return []

    def tag_counts(self) -> dict[str, dict[str, int]]:
        return {}

    def checked(self) -> list[tuple[str, str]]:
        return []

    def events(
        self, tag_id: str | None = None, *, after_seq: int = 0, limit: int | None = None
    ) -> list[Event]:
        return []

    def commit(self, writes: Sequence[Write], events: Sequence[NewEvent]) -> list[Tag | None]:
        raise self.error


def stored_state(write: Write, links: Sequence[str]) -> Tag | None:
    """`write`'s tag as a store keeps it: version 1 when new (or the version given), else the
    version read + 1; `links` (those that held)."""
    after = write.after
    if after is None:
        return None
    version = max(1, after.version) if write.before is None else write.before.version + 1
    return replace(
        after,
        version=version,
        links=tuple(links),
        labels=tuple(after.labels),
    )


def row_values(tag: Tag) -> tuple:
    """A tag's columns from doc_id to verdict, in the order both stores write and select
    (`tag_from_row`); each store adds its labels (and SQLite the id and version)."""
    return (
        tag.doc_id,
        tag.lang,
        tag.tag,
        tag.start,
        tag.end,
        tag.exact,
        tag.prefix,
        tag.suffix,
        tag.note,
        tag.author,
        tag.created,
        tag.updated,
        tag.status,
        tag.doc_sha256,
        tag.checked_sha256,
        tag.verdict,
    )


def tag_from_row(row: Sequence[Any], links: tuple[str, ...], labels: tuple[str, ...]) -> Tag:
    """A tag from a store's row (the column order both stores select), its links and its
    labels (decoded by the store: JSON text in SQLite, an array in PostgreSQL)."""
    (tag_id, doc_id, lang, kind, start, end, exact, prefix, suffix, note, author) = row[:11]
    created, updated, status, doc_sha, checked, verdict, _labels, version = row[11:]
    return Tag(
        id=tag_id,
        doc_id=doc_id,
        tag=kind,
        start=start,
        end=end,
        exact=exact,
        prefix=prefix,
        suffix=suffix,
        note=note,
        links=links,
        author=author,
        created=created,
        updated=updated,
        status=status,
        doc_sha256=doc_sha,
        verdict=verdict,
        labels=labels,
        version=version,
        lang=lang,
        checked_sha256=checked,
    )
