"""`TagService`: the one layer every caller (CLI, app, export, import) uses for tags.

It holds the rules, whatever the store: kinds and verdicts from the registry, the duplicate
rule (the same kind twice on the same passage is refused), clean notes, links, re-anchoring
(through tags/anchoring.py), the event log's descriptions, and undo/redo. Undo is per
author: the stack holds this service's author's own changes, and undoing a tag that someone
else changed since fails with `ConflictError` instead of overwriting their work.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from reader.core.display import clean_note
from reader.core.errors import ReaderError
from reader.core.tags.anchoring import ANCHORED, ORPHANED, make_selector, reanchor
from reader.core.tags.model import (
    DEFAULT_VERDICT,
    Event,
    ImportResult,
    ReconcileReport,
    Tag,
    check_verdict,
    clean_label,
    describe,
    kind,
    now,
)
from reader.core.tags.store import (
    ConflictError,
    DuplicateTagError,
    NewEvent,
    ReadOnlyError,
    TagStore,
    Write,
    duplicate_error,
)

if TYPE_CHECKING:
    from reader.core.documents.corpus import Corpus
    from reader.core.documents.model import Document

MIN_PREFIX = 4  # destructive commands need at least this many characters of a tag id


@dataclass(frozen=True)
class _Step:
    """One undoable change: the writes' before/after states, and what to call it."""

    author: str
    description: str
    states: tuple[tuple[str, Tag | None, Tag | None, tuple[str, ...]], ...]
    batch: bool = False  # an import: logged as one batch event


@dataclass(frozen=True)
class Removal:
    """What `remove` took away: the tag and the links to it that broke."""

    tag: Tag
    broken_links: tuple[Tag, ...]


class TagService:
    """Tags of one corpus in one store. Thread-safe; close() when done."""

    def __init__(self, store: TagStore, *, author: str, session: str | None = None) -> None:
        self.store = store
        self.author = author
        self.session = session or str(uuid.uuid4())
        self._lock = threading.RLock()
        self._undo: list[_Step] = []
        self._redo: list[_Step] = []

    @property
    def readonly(self) -> bool:
        return self.store.readonly

    @property
    def location(self) -> str:
        return self.store.location

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> TagService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Reading ----------------------------------------------------------------------------------
    def get(self, tag_id: str) -> Tag | None:
        """The tag with this id, or None."""
        return self.store.get(tag_id)

    def must(self, tag_id: str) -> Tag:
        found = self.store.get(tag_id)
        if found is None:
            raise ReaderError(f"no tag {tag_id!r}; see `reader tags list`")
        return found

    def list(
        self,
        *,
        tag: str | None = None,
        doc_id: str | None = None,
        lang: str | None = None,
        status: str | None = None,
        verdict: str | None = None,
        label: str | None = None,
    ) -> list[Tag]:
        """Tags by document and position, filtered by every argument given."""
        if tag is not None:
            kind(tag)
        if verdict is not None:
            check_verdict(verdict)
        if label is not None:
            label = clean_label(label)
        return self.store.list(
            tag=tag, doc_id=doc_id, lang=lang, status=status, verdict=verdict, label=label
        )

    def for_doc(self, doc_id: str) -> list[Tag]:
        """One document's tags, sorted by start."""
        return self.store.list(doc_id=doc_id)

    def at(self, doc_id: str, offset: int) -> list[Tag]:
        """The tags covering `offset` in a document, innermost (shortest) first."""
        found = [t for t in self.store.list(doc_id=doc_id) if t.start <= offset < t.end]
        return sorted(found, key=lambda t: (t.end - t.start, t.start, t.created))

    def doc_tag_counts(self) -> dict[str, dict[str, int]]:
        """{doc_id: {kind: count}} over all tags."""
        return self.store.tag_counts()

    def count(self) -> int:
        return sum(sum(c.values()) for c in self.store.tag_counts().values())

    def events(self, tag_id: str | None = None, limit: int | None = None) -> list[Event]:
        """The event log (the audit trail), oldest first; of one tag if given."""
        return self.store.events(tag_id, limit=limit)

    def resolve_id(self, prefix: str, *, min_length: int = 1) -> str:
        """A tag id from the id or a unique prefix of it (`3f2a`), at least `min_length` long."""
        prefix = prefix.strip().lower()
        if not prefix:
            raise ReaderError("a tag id is empty")
        ids = self.store.ids_with_prefix(prefix, 6)
        if prefix in ids:
            return prefix
        if len(prefix) < min_length:
            raise ReaderError(
                f"{prefix!r} is too short to name a tag for this: give at least {min_length} "
                "characters of its id (see `reader tags list`)"
            )
        if len(ids) == 1:
            return ids[0]
        if ids:
            raise ReaderError(f"{prefix!r} matches several tags: {', '.join(i[:8] for i in ids)}")
        raise ReaderError(f"no tag {prefix!r}; see `reader tags list`")

    def broken_by_removing(self, tag_id: str) -> list[Tag]:
        """The tags whose links to `tag_id` a removal would break."""
        return [t for t in (self.store.get(i) for i in self.store.linked_from(tag_id)) if t]

    # Rules ------------------------------------------------------------------------------------
    def _check_duplicate(
        self, doc_id: str, start: int, end: int, kind_name: str, ignore: str = ""
    ) -> None:
        """DuplicateTagError if a tag of this kind (other than `ignore`) is on exactly this
        passage. Orphaned tags are on no passage. The store enforces the same rule inside each
        commit (two clients at once); checking first gives the error before any other work."""
        for other in self.store.list(doc_id=doc_id, tag=kind_name, span=(start, end)):
            if other.id != ignore and other.status != ORPHANED:
                raise duplicate_error(other)

    def is_duplicate(self, doc_id: str, start: int, end: int, kind_name: str) -> Tag | None:
        """The tag of this kind already on exactly this passage, or None."""
        try:
            self._check_duplicate(doc_id, start, end, kind_name)
        except DuplicateTagError as exc:
            return exc.existing
        return None

    def _check_links(self, tag_id: str, links: Iterable[str]) -> tuple[str, ...]:
        targets = tuple(dict.fromkeys(links))
        for target in targets:
            if target == tag_id:
                raise ReaderError("a tag cannot link to itself")
            if self.store.get(target) is None:
                raise ReaderError(f"no tag {target!r} to link to")
        return targets

    def _writable(self) -> None:
        if self.store.readonly:
            self.store.commit([], [])  # a read-only store refuses, saying why
            raise ReadOnlyError(
                f"the tag store {self.store.location} is open read-only: tags can be listed "
                "and exported, not changed"
            )

    # Committing -------------------------------------------------------------------------------
    def _event(self, kind_name: str, tag_id: str, description: str, before, after) -> NewEvent:
        return NewEvent(
            now(), self.session, self.author, kind_name, tag_id, description, before, after
        )

    def _snap(self, tag: Tag | None, linked_from: Sequence[str] = ()) -> dict[str, Any] | None:
        if tag is None:
            return None
        data = tag.snapshot()
        data["linked_from"] = list(linked_from)
        return data

    def _commit_step(self, kind_name: str, step: _Step, *, source: str = "") -> list[Tag | None]:
        """Write a step's after-states (checked against their before-versions) and log it;
        the after-states as stored (their new versions)."""
        writes = [Write(i, b, a, lf) for i, b, a, lf in step.states]
        if step.batch:
            befores = [self._snap(b) for _, b, _, _ in step.states if b is not None]
            afters = [self._snap(a, lf) for _, _, a, lf in step.states if a is not None]
            before = {"tags": befores} if befores else None
            after = {"source": source, "tags": afters} if (afters or source) else {"tags": []}
            events = [self._event(kind_name, "", step.description, before, after)]
        else:
            events = [
                self._event(
                    kind_name,
                    i,
                    step.description,
                    self._snap(b, self.store.linked_from(i) if b is not None else ()),
                    self._snap(a, lf),
                )
                for i, b, a, lf in step.states
            ]
        return self.store.commit(writes, events)

    def _do(self, kind_name: str, step: _Step, *, source: str = "") -> list[Tag | None]:
        """Commit a step, remember it for undo; the after-states as stored."""
        with self._lock:
            self._writable()
            stored = self._commit_step(kind_name, step, source=source)
            states = tuple(
                (i, b, after, lf) for (i, b, _, lf), after in zip(step.states, stored, strict=True)
            )
            self._undo.append(replace(step, states=states))
            self._redo.clear()
            return stored

    # Writing ----------------------------------------------------------------------------------
    def add(
        self,
        doc: Document,
        start: int,
        end: int,
        tag: str,
        *,
        note: str = "",
        links: Iterable[str] = (),
        verdict: str = DEFAULT_VERDICT,
        labels: Iterable[str] = (),
    ) -> Tag:
        """Tag `doc.text[start:end]`; the tag returned is committed. DuplicateTagError when the
        same kind is already on exactly this passage (the store checks it inside the commit,
        so it holds between clients too, and an add is one round trip to a server)."""
        kind(tag)
        check_verdict(verdict)
        try:
            selector = make_selector(doc.text, start, end)
        except ValueError as exc:
            raise ReaderError(f"{doc.id}: {exc}") from exc
        with self._lock:
            tag_id = str(uuid.uuid4())
            stamp = now()
            new = Tag(
                id=tag_id,
                doc_id=doc.id,
                tag=tag,
                start=start,
                end=end,
                exact=selector.exact,
                prefix=selector.prefix,
                suffix=selector.suffix,
                note=clean_note(note),
                links=self._check_links(tag_id, links),
                author=self.author,
                created=stamp,
                updated=stamp,
                status=ANCHORED,
                doc_sha256=doc.sha256,
                verdict=verdict,
                labels=tuple(dict.fromkeys(clean_label(x) for x in labels)),
                lang=doc.lang,
                checked_sha256=doc.sha256,
            )
            step = _Step(self.author, f"add {describe(new)}", ((tag_id, None, new, ()),))
            return _one(self._do("add", step))

    def _change(
        self,
        tag_id: str,
        make: Callable[[Tag], dict[str, Any]],
        kind_name: str | Callable[[dict[str, Any]], str],
        description: Callable[[Tag, dict[str, Any]], str],
        expected_version: int | None,
    ) -> Tag:
        """Change one tag: `make(current)` gives the new field values, worked out from the
        tag as read inside the change (so a concurrent change is never silently undone: the
        store's version check refuses a write based on an older read)."""
        with self._lock:
            current = self.must(tag_id)
            if expected_version is not None and current.version != expected_version:
                raise ConflictError(
                    f"tag {tag_id[:8]} was changed since it was read (version "
                    f"{expected_version}, now {current.version}): nothing was saved; the list "
                    "is refreshed, try again",
                    tag_id,
                )
            changes = {k: v for k, v in make(current).items() if getattr(current, k) != v}
            if not changes:
                return current
            if "tag" in changes:
                self._check_duplicate(
                    current.doc_id, current.start, current.end, changes["tag"], ignore=tag_id
                )
            new = replace(current, **changes, updated=now())
            step = _Step(self.author, description(current, changes), ((tag_id, current, new, ()),))
            return _one(
                self._do(kind_name if isinstance(kind_name, str) else kind_name(changes), step)
            )

    def edit(
        self,
        tag_id: str,
        *,
        tag: str | None = None,
        note: str | None = None,
        links: Iterable[str] | None = None,
        expected_version: int | None = None,
    ) -> Tag:
        """Change a tag's kind, note or links (None: unchanged).

        `expected_version`: the version the caller showed the user; a tag changed since then
        is not overwritten (ConflictError)."""
        changes: dict[str, Any] = {}
        if tag is not None:
            changes["tag"] = kind(tag).name
        if note is not None:
            changes["note"] = clean_note(note)
        if links is not None:
            changes["links"] = self._check_links(tag_id, links)
        return self._change(
            tag_id, lambda _: changes, _edit_kind, _edit_description, expected_version
        )

    def link(self, tag_id: str, target_id: str, *, expected_version: int | None = None) -> Tag:
        """Add a link from one tag to another (e.g. a rebuttal to the claim it answers)."""
        self._check_links(tag_id, (target_id,))
        return self._change(
            tag_id,
            lambda cur: {"links": tuple(dict.fromkeys((*cur.links, target_id)))},
            "link",
            _edit_description,
            expected_version,
        )

    def unlink(self, tag_id: str, target_id: str, *, expected_version: int | None = None) -> Tag:
        """Remove a link."""
        return self._change(
            tag_id,
            lambda cur: {"links": tuple(t for t in cur.links if t != target_id)},
            "link",
            _edit_description,
            expected_version,
        )

    def set_verdict(self, tag_id: str, verdict: str, *, expected_version: int | None = None) -> Tag:
        """Set a tag's verdict (one of VERDICTS); an event with undo and redo."""
        check_verdict(verdict)
        return self._change(
            tag_id,
            lambda _: {"verdict": verdict},
            "verdict",
            lambda cur, _: f"verdict {cur.verdict} → {verdict} {describe(cur)}",
            expected_version,
        )

    def set_labels(
        self,
        tag_id: str,
        *,
        add: Iterable[str] = (),
        remove: Iterable[str] = (),
        expected_version: int | None = None,
    ) -> Tag:
        """Add and remove labels (cleaned: `#Tesla-Refund` is `tesla-refund`); a label both
        added and removed is added."""
        adding = [clean_label(x) for x in add]
        removing = {clean_label(x) for x in remove} - set(adding)

        def make(cur: Tag) -> dict[str, Any]:
            kept = [x for x in cur.labels if x not in removing]
            return {"labels": tuple(dict.fromkeys((*kept, *adding)))}

        def description(cur: Tag, changes: dict[str, Any]) -> str:
            new = changes["labels"]
            parts = [f"+{x}" for x in new if x not in cur.labels]
            parts += [f"-{x}" for x in cur.labels if x not in new]
            return f"labels {' '.join(parts)} {describe(cur)}"

        return self._change(tag_id, make, "labels", description, expected_version)

    def remove(self, tag_id: str, *, expected_version: int | None = None) -> Removal:
        """Delete a tag (its full state stays in the event log; undo or `restore` bring it
        back). Returns it with the tags whose links to it broke."""
        with self._lock:
            current = self.must(tag_id)
            if expected_version is not None and current.version != expected_version:
                raise ConflictError(
                    f"tag {tag_id[:8]} was changed since it was read: nothing was removed; "
                    "the list is refreshed",
                    tag_id,
                )
            broken = tuple(self.broken_by_removing(tag_id))
            linked_from = tuple(t.id for t in broken)
            step = _Step(
                self.author, f"remove {describe(current)}", ((tag_id, current, None, linked_from),)
            )
            self._do("remove", step)
            return Removal(current, broken)

    def restore(self, tag_id: str) -> Tag:
        """Bring back a removed tag from the event log, with its links (an event, undoable).

        `tag_id` may be a prefix of at least MIN_PREFIX characters of a removed tag's id."""
        prefix = tag_id.strip().lower()
        if len(prefix) < MIN_PREFIX:
            raise ReaderError(f"give at least {MIN_PREFIX} characters of the removed tag's id")
        candidates: dict[str, dict[str, Any]] = {}
        for event in self.store.events():
            for snapshot, gone in _removals(event):
                if snapshot["id"].startswith(prefix):
                    if gone:
                        candidates[snapshot["id"]] = snapshot
                    else:
                        candidates.pop(snapshot["id"], None)
        live = [i for i in candidates if self.store.get(i) is not None]
        for i in live:
            candidates.pop(i)
        if not candidates:
            if self.store.ids_with_prefix(prefix, 1):
                raise ReaderError(f"tag {prefix!r} is not removed: nothing to restore")
            raise ReaderError(f"no removed tag {prefix!r} in the event log (`reader tags log`)")
        if len(candidates) > 1:
            raise ReaderError(
                f"{prefix!r} matches several removed tags: {', '.join(i[:8] for i in candidates)}"
            )
        snapshot = next(iter(candidates.values()))
        old = Tag.from_snapshot(snapshot)
        with self._lock:
            self._check_duplicate(old.doc_id, old.start, old.end, old.tag)
            links = tuple(t for t in old.links if self.store.get(t) is not None)
            new = replace(old, links=links, version=old.version + 1, updated=now())
            linked_from = tuple(snapshot.get("linked_from", ()))
            step = _Step(
                self.author, f"restore {describe(old)}", ((old.id, None, new, linked_from),)
            )
            return _one(self._do("restore", step))

    def import_tags(self, tags: Iterable[Tag], *, source: str) -> ImportResult:
        """Add tags from elsewhere (an import file, another store) as ONE event and one undo.

        Idempotent: a tag whose id is already stored, or whose document, span and kind are
        (the duplicate rule), is skipped with the reason. Kinds, verdicts, labels and notes are
        checked and cleaned as for `add`; ids, authors and times are kept."""
        result = ImportResult(source=source)
        with self._lock:
            self._writable()
            chosen: list[Tag] = []
            seen: dict[tuple[str, int, int, str], str] = {}
            for given in tags:
                try:
                    kind(given.tag)
                    check_verdict(given.verdict)
                    labels = tuple(dict.fromkeys(clean_label(x) for x in given.labels))
                    if not (0 <= given.start < given.end):
                        raise ReaderError(f"bad span {given.start}-{given.end}")
                except ReaderError as exc:
                    result.skipped.append((given, str(exc)))
                    continue
                key = (given.doc_id, given.start, given.end, given.tag)
                if self.store.get(given.id) is not None or given.id in {t.id for t in chosen}:
                    result.skipped.append((given, "already there (same id)"))
                    continue
                existing = self.is_duplicate(*key)
                if existing is not None or key in seen:
                    other = existing.id if existing is not None else seen[key]
                    result.skipped.append(
                        (given, f"already there (same passage and kind: {other[:8]})")
                    )
                    continue
                seen[key] = given.id
                chosen.append(
                    replace(
                        given,
                        note=clean_note(given.note),
                        labels=labels,
                        version=1,
                        checked_sha256=given.checked_sha256 or given.doc_sha256,
                    )
                )
            if not chosen:
                return result
            ids = {t.id for t in chosen}
            targets = {x for t in chosen for x in t.links}
            known = ids | {x for x in targets if self.store.get(x) is not None}
            fixed = [replace(t, links=tuple(x for x in t.links if x in known)) for t in chosen]
            step = _Step(
                self.author,
                f"import {len(fixed)} tag{'s' if len(fixed) != 1 else ''} from {source}",
                tuple((t.id, None, t, ()) for t in fixed),
                batch=True,
            )
            result.added = [t for t in self._do("import", step, source=source) if t is not None]
        return result

    # Undo and redo ----------------------------------------------------------------------------
    def undo(self) -> str | None:
        """Undo this author's last change here; its description, or None if there is none.

        ConflictError (and nothing changed) if a tag of it was changed since, by someone else
        or elsewhere: their work is never overwritten."""
        with self._lock:
            if not self._undo:
                return None
            self._writable()
            step = self._undo[-1]
            done = self._apply_states("undo", step, [(i, a, b, lf) for i, b, a, lf in step.states])
            self._undo.pop()
            self._redo.append(
                replace(step, states=tuple((i, now_, a, lf) for i, a, now_, lf in done))
            )
            return step.description

    def redo(self) -> str | None:
        """Redo the last undone change; its description, or None if there is none."""
        with self._lock:
            if not self._redo:
                return None
            self._writable()
            step = self._redo[-1]
            done = self._apply_states("redo", step, list(step.states))
            self._redo.pop()
            self._undo.append(replace(step, states=tuple(done)))
            return step.description

    def _apply_states(self, kind_name: str, step: _Step, states: Sequence[tuple]) -> list[tuple]:
        """Move tags from `expected` to `wanted` for each (id, expected, wanted, linked_from),
        checking that each is still as expected; returns (id, expected, stored now, lf)."""
        writes = []
        coming = {i for i, _, wanted, _ in states if wanted is not None}
        for tag_id, expected, wanted, linked_from in states:
            current = self.store.get(tag_id)
            if (current is None) != (expected is None) or (
                current is not None
                and expected is not None
                and current.version != expected.version
                and _user_fields(current) != _user_fields(expected)
            ):
                raise ConflictError(
                    f"cannot {kind_name} “{step.description}”: tag {tag_id[:8]} was "
                    "changed since (by someone else or elsewhere); nothing was changed",
                    tag_id,
                )
            if wanted is not None:
                links = tuple(
                    x for x in wanted.links if x in coming or self.store.get(x) is not None
                )
                wanted = replace(wanted, links=links, updated=now())
                if current is not None:  # keep where re-anchoring put it; restore what users edit
                    wanted = replace(current, **_user_fields(wanted), updated=wanted.updated)
                self._check_duplicate(
                    wanted.doc_id, wanted.start, wanted.end, wanted.tag, ignore=tag_id
                )
            writes.append((tag_id, current, wanted, linked_from if wanted is not None else ()))
        stored = self._commit_step(
            kind_name,
            _Step(step.author, f"{kind_name} {step.description}", tuple(writes), step.batch),
        )
        return [
            (i, expected, after, lf)
            for (i, expected, _, lf), after in zip(writes, stored, strict=True)
        ]

    # Re-anchoring -----------------------------------------------------------------------------
    def reconcile(self, corpus: Corpus) -> ReconcileReport:
        """Re-anchor (and save) every tag whose document changed since it was last checked.

        Cheap when nothing changed (one catalog query, no file reads). A document that is
        gone, or a passage that cannot be found, makes the tag `orphaned`; it is kept.
        Read-only stores are left as they are (use `reanchored` to see current positions).
        """
        report = ReconcileReport()
        if self.store.readonly:
            return report
        for doc_id, doc in self._stale(corpus):
            self._reconcile_doc(doc_id, doc, report)
        return report

    def _stale(
        self, corpus: Corpus, doc_ids: set[str] | None = None
    ) -> list[tuple[str, Document | None]]:
        """(doc_id, document now or None if gone) for documents whose text changed since their
        tags were last anchored (of `doc_ids` only, if given)."""
        rows = self.store.checked()
        if doc_ids is not None:
            rows = [(d, checked) for d, checked in rows if d in doc_ids]
        if not rows:
            return []
        catalog = {info.id: info.sha256 for info in corpus.infos()}  # one query
        stale = dict.fromkeys(d for d, checked in rows if catalog.get(d) != checked)
        out = []
        for doc_id in stale:
            try:
                out.append((doc_id, corpus.load(doc_id)))  # the file is the truth
            except ReaderError:
                out.append((doc_id, None))
        return out

    def reconcile_doc(self, doc: Document) -> ReconcileReport:
        """Re-anchor one loaded document's tags if its text changed (the article view)."""
        report = ReconcileReport()
        if not self.store.readonly:
            self._reconcile_doc(doc.id, doc, report)
        return report

    def reanchored(
        self,
        corpus: Corpus,
        *,
        tag: str | None = None,
        doc_id: str | None = None,
        lang: str | None = None,
    ) -> list[Tag]:
        """The tags with positions and statuses as of the current files, WITHOUT saving
        anything (what export uses: it reads, never writes)."""
        found = self.list(tag=tag, doc_id=doc_id, lang=lang)
        stale = dict(self._stale(corpus, {t.doc_id for t in found}))
        out = []
        for item in found:
            if item.doc_id in stale:
                doc = stale[item.doc_id]
                sha = doc.sha256 if doc is not None else ""
                if item.checked_sha256 != sha:
                    item, _, _ = _reanchor_one(item, doc)
            out.append(item)
        return out

    def _reconcile_doc(self, doc_id: str, doc: Document | None, report: ReconcileReport) -> None:
        sha = doc.sha256 if doc is not None else ""
        with self._lock:
            tags = self.store.list(doc_id=doc_id)
            todo = [t for t in tags if t.checked_sha256 != sha]
            if not todo:
                return
            # Passages taken (the duplicate rule): by the tags already checked, then by each
            # re-anchored one in turn; a tag that lands on a taken passage is orphaned.
            taken = {
                (t.start, t.end, t.tag): t.id
                for t in tags
                if t.checked_sha256 == sha and t.status != ORPHANED
            }
            writes, events = [], []
            for current in todo:
                new, outcome, description = _reanchor_one(current, doc)
                key = (new.start, new.end, new.tag)
                if new.status != ORPHANED and key in taken:
                    new = replace(current, status=ORPHANED, checked_sha256=sha)
                    outcome = "orphaned"
                    description = (
                        f"orphaned (its passage is already tag {taken[key][:8]}) "
                        f"{describe(current)}"
                    )
                elif new.status != ORPHANED:
                    taken[key] = new.id
                if new == current:
                    continue
                if outcome:
                    getattr(report, outcome).append(current.id)
                writes.append(Write(current.id, current, new))
                events.append(
                    self._event(
                        "reanchor",
                        current.id,
                        description,
                        self._snap(current),
                        self._snap(replace(new, version=current.version + 1)),
                    )
                )
            if writes:
                try:
                    self.store.commit(writes, events)
                except (ConflictError, DuplicateTagError):
                    return  # someone else re-anchored or tagged it meanwhile: next time


def _one(stored: list[Tag | None]) -> Tag:
    """The one tag a single-tag step stored."""
    assert stored and stored[0] is not None
    return stored[0]


def _edit_kind(changes: dict[str, Any]) -> str:
    if "tag" in changes:
        return "retag"
    return "link" if list(changes) == ["links"] else "edit"


def _edit_description(current: Tag, changes: dict[str, Any]) -> str:
    name = _edit_kind(changes)
    if name == "retag":
        return f"retag {current.tag} → {describe({**current.to_json(), **changes})}"
    return f"{name} ({', '.join(sorted(changes))}) {describe(current)}"


USER_FIELDS = ("tag", "note", "links", "verdict", "labels")


def _user_fields(tag: Tag) -> dict[str, Any]:
    """What users edit (re-anchoring changes only the position, quote and status)."""
    return {name: getattr(tag, name) for name in USER_FIELDS}


def _reanchor_one(current: Tag, doc: Document | None) -> tuple[Tag, str, str]:
    """(the tag as of `doc`, "moved"/"reanchored"/"orphaned"/"", the log description)."""
    anchor = reanchor(doc.text, current.selector) if doc is not None else None
    if anchor is None or doc is None:
        sha = doc.sha256 if doc else ""
        if current.status == ORPHANED and current.checked_sha256 == sha:
            return current, "", ""
        why = "passage not found" if doc is not None else "document gone"
        new = replace(current, status=ORPHANED, checked_sha256=sha)
        return new, "orphaned", f"orphaned ({why}) {describe(current)}"
    selector = make_selector(doc.text, anchor.start, anchor.end)
    status = anchor.status  # anchored at its stored offsets, moved when found elsewhere
    new = replace(
        current,
        start=selector.start,
        end=selector.end,
        exact=selector.exact,
        prefix=selector.prefix,
        suffix=selector.suffix,
        status=status,
        doc_sha256=doc.sha256,
        checked_sha256=doc.sha256,
        lang=doc.lang,
    )
    outcome = ""
    if anchor.method == "fuzzy":
        outcome = "reanchored"
    elif (new.start, new.end) != (current.start, current.end):
        outcome = "moved"
    return new, outcome, f"re-anchored ({anchor.method}) {describe(current)}"


def _removals(event: Event) -> list[tuple[dict[str, Any], bool]]:
    """(snapshot, removed?) for each tag an event removed (True) or brought back (False)."""
    out: list[tuple[dict[str, Any], bool]] = []
    if event.annotation:
        if event.before is not None and event.after is None:
            out.append((event.before, True))
        elif event.after is not None and event.before is None:
            out.append((event.after, False))
        return out
    before = {s["id"]: s for s in (event.before or {}).get("tags", ())}
    after = {s["id"]: s for s in (event.after or {}).get("tags", ())}
    out += [(s, True) for i, s in before.items() if i not in after]
    out += [(s, False) for i, s in after.items() if i not in before]
    return out


__all__ = ["MIN_PREFIX", "USER_FIELDS", "Removal", "TagService"]
