"""The shared tag store suite: every backend (SQLite, PostgreSQL) passes the same tests.

A backend joins by adding an entry to BACKENDS: a function (request, tmp_path) -> a callable
that opens a NEW store instance on one shared database each time it is called (two
instances are two clients, e.g. two authors). Everything below runs against each backend,
at the store level (the `TagStore` contract in reader/core/tags/store.py) and through
`TagService` (the rules: duplicates, undo per author, conflicts, import, verdicts, labels).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from reader.core.errors import ReaderError
from reader.core.tags.model import VERDICTS, Tag, now
from reader.core.tags.service import TagService
from reader.core.tags.sqlite import SQLiteTagStore
from reader.core.tags.store import (
    ConflictError,
    DuplicateTagError,
    NewEvent,
    TagStore,
    Write,
)

Opener = Callable[[], TagStore]


def _sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    return lambda: SQLiteTagStore(tmp_path / "tags.sqlite")


BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], Opener]] = {"sqlite": _sqlite}
try:  # the PostgreSQL backend registers itself when its support module exists
    from support.postgres import tag_store_backend  # type: ignore[import-not-found]
except ImportError:
    pass
else:
    BACKENDS["postgres"] = tag_store_backend


@pytest.fixture(params=sorted(BACKENDS))
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    opened: list[TagStore] = []
    make = BACKENDS[request.param](request, tmp_path)

    def opener() -> TagStore:
        opened.append(make())
        return opened[-1]

    yield opener
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: Opener) -> TagStore:
    return open_store()


@pytest.fixture
def service(store: TagStore) -> TagService:
    return TagService(store, author="alice")


TEXT = (
    "Elon Musk said the Roadster deposit was refunded within 24 hours. "
    "Sam Altman disputed this on social media, posting an email from Tesla. "
    "Analysts noted that refunds usually take several weeks to process.\n"
)
DOC = SimpleNamespace(
    id="story.txt", text=TEXT, lang="en", sha256=hashlib.sha256(TEXT.encode()).hexdigest()
)
OTHER = SimpleNamespace(
    id="autre.txt",
    text="Tesla affirme avoir remboursé le client en un jour.\n",
    lang="fr",
    sha256="f" * 64,
)


def _span(quote: str, doc=DOC) -> tuple[int, int]:
    start = doc.text.index(quote)
    return start, start + len(quote)


def _tag(tag_id: str = "aaaa1111", *, kind: str = "claim", doc=DOC, quote="Elon Musk", **kw) -> Tag:
    start, end = _span(quote, doc)
    stamp = now()
    fields = dict(
        id=tag_id,
        doc_id=doc.id,
        tag=kind,
        start=start,
        end=end,
        exact=quote,
        prefix="",
        suffix="",
        note="",
        links=(),
        author="alice",
        created=stamp,
        updated=stamp,
        status="anchored",
        doc_sha256=doc.sha256,
        lang=doc.lang,
        checked_sha256=doc.sha256,
    )
    fields.update(kw)
    return Tag(**fields)


def _event(kind: str, tag_id: str, after=None, before=None) -> NewEvent:
    return NewEvent(now(), "s1", "alice", kind, tag_id, f"{kind} {tag_id}", before, after)


# The store contract -----------------------------------------------------------------------------
def test_insert_and_read_back_every_field(store: TagStore) -> None:
    tag = _tag(note="line one\nline two\tend", verdict="mostly-false", labels=("tesla", "refund"))
    store.commit([Write(tag.id, None, tag)], [_event("add", tag.id, tag.snapshot())])
    got = store.get(tag.id)
    assert got == tag and got.version == 1
    assert store.get("nope") is None
    assert store.list() == [tag]


def test_every_write_bumps_the_version_and_a_stale_one_is_refused(store: TagStore) -> None:
    tag = _tag()
    store.commit([Write(tag.id, None, tag)], [])
    first = store.get(tag.id)
    store.commit([Write(tag.id, first, replace(first, note="one"))], [])
    second = store.get(tag.id)
    assert (second.version, second.note) == (2, "one")
    with pytest.raises(ConflictError, match=r"changed.*since it was read") as raised:
        store.commit([Write(tag.id, first, replace(first, note="stale"))], [_event("edit", tag.id)])
    assert raised.value.tag_id == tag.id
    assert store.get(tag.id) == second  # nothing written
    assert store.events() == []  # nor logged
    with pytest.raises(ConflictError, match="already exists"):
        store.commit([Write(tag.id, None, tag)], [])
    with pytest.raises(ConflictError):
        store.commit([Write(tag.id, first, None)], [])  # a delete checks the version too
    store.commit([Write(tag.id, second, None)], [])
    assert store.get(tag.id) is None
    with pytest.raises(ConflictError, match="removed"):
        store.commit([Write(tag.id, second, replace(second, note="x"))], [])


def test_a_commit_is_all_or_nothing(store: TagStore) -> None:
    a, b = _tag("aaaa1111"), _tag("bbbb2222", kind="context")
    store.commit([Write(b.id, None, b)], [])
    with pytest.raises(ConflictError):
        store.commit([Write(a.id, None, a), Write(b.id, None, b)], [_event("import", "")])
    assert store.get(a.id) is None and store.events() == []


def test_links_in_order_cascade_on_delete_and_come_back_with_linked_from(store: TagStore) -> None:
    claim = _tag("c1aim000")
    other = _tag("c1aim001", quote="Sam Altman")
    rebuttal = _tag(
        "rebut000", kind="rebuttal", quote="Analysts noted", links=("c1aim001", "c1aim000")
    )
    store.commit([Write(t.id, None, t) for t in (claim, other, rebuttal)], [])
    assert store.get("rebut000").links == ("c1aim001", "c1aim000")
    assert store.linked_from("c1aim000") == ["rebut000"]
    dangling = _tag("dang0000", kind="context", quote="Tesla", links=("missing0",))
    store.commit([Write(dangling.id, None, dangling)], [])
    assert store.get("dang0000").links == ()  # a target that does not exist is dropped
    stored = store.get("c1aim000")
    store.commit([Write("c1aim000", stored, None)], [])
    assert store.get("rebut000").links == ("c1aim001",)
    assert store.get("rebut000").version == 1  # a broken link does not touch the other tag
    store.commit([Write("c1aim000", None, claim, linked_from=("rebut000", "gone0000"))], [])
    assert store.get("rebut000").links == ("c1aim001", "c1aim000")


def test_list_filters_and_order(store: TagStore) -> None:
    a = _tag("a0000000", quote="Sam Altman", verdict="false", labels=("tesla",))
    b = _tag("b0000000", kind="context", quote="Elon Musk", labels=("tesla", "money"))
    c = _tag("c0000000", doc=OTHER, quote="Tesla affirme")
    store.commit([Write(t.id, None, t) for t in (a, b, c)], [])
    ids = lambda tags: [t.id for t in tags]  # noqa: E731
    assert ids(store.list()) == ["c0000000", "b0000000", "a0000000"]  # doc, then start
    assert ids(store.list(tag="claim")) == ["c0000000", "a0000000"]
    assert ids(store.list(doc_id="story.txt", tag="context")) == ["b0000000"]
    assert ids(store.list(lang="fr")) == ["c0000000"]
    assert ids(store.list(verdict="false")) == ["a0000000"]
    assert ids(store.list(label="tesla")) == ["b0000000", "a0000000"]
    assert ids(store.list(label="money")) == ["b0000000"]
    assert store.list(label="tes") == []
    assert store.list(status="orphaned") == []
    assert ids(store.list(doc_id="story.txt", span=(a.start, a.end))) == ["a0000000"]
    assert store.list(doc_id="story.txt", span=(a.start, a.end + 1)) == []
    assert store.tag_counts() == {
        "story.txt": {"claim": 1, "context": 1},
        "autre.txt": {"claim": 1},
    }
    assert sorted(store.checked()) == [("autre.txt", "f" * 64), ("story.txt", DOC.sha256)]
    assert store.ids_with_prefix("b0") == ["b0000000"]
    assert store.ids_with_prefix("0") == []
    assert store.ids_with_prefix("", 2) == ["a0000000", "b0000000"]


def test_events_append_in_order_and_filter_by_tag(store: TagStore) -> None:
    a, b = _tag("a0000000"), _tag("b0000000", kind="context")
    store.commit([Write(a.id, None, a)], [_event("add", a.id, a.snapshot())])
    batch = {"source": "file.json", "tags": [b.snapshot()]}
    store.commit([Write(b.id, None, b)], [_event("import", "", batch)])
    store.commit([], [_event("edit", a.id, a.snapshot(), a.snapshot())])
    events = store.events()
    assert [e.kind for e in events] == ["add", "import", "edit"]
    assert [e.seq for e in events] == sorted({e.seq for e in events})
    assert events[0].after["id"] == a.id and events[0].before is None
    assert [e.kind for e in store.events(a.id)] == ["add", "edit"]
    assert [e.kind for e in store.events(b.id)] == ["import"]  # a batch that holds it
    assert [e.kind for e in store.events(limit=2)] == ["import", "edit"]
    assert [e.kind for e in store.events(after_seq=events[0].seq)] == ["import", "edit"]


def test_commit_returns_the_tags_as_stored(store: TagStore) -> None:
    """What commit returns is what a read-back would give (no read-back needed)."""
    target = _tag("bbbb2222", quote="Sam Altman")
    assert store.commit([Write(target.id, None, target)], []) == [store.get(target.id)]
    source = _tag("aaaa1111", links=(target.id, "no-such-tag"), labels=("x", "y"), version=7)
    (added,) = store.commit([Write(source.id, None, source)], [_event("add", source.id)])
    assert added == store.get(source.id)
    assert added.links == (target.id,) and added.version == 7 and added.labels == ("x", "y")
    changed = replace(added, note="changed", links=(), updated=now())
    (edited,) = store.commit([Write(added.id, added, changed)], [])
    assert edited == store.get(added.id) and edited.version == 8 and edited.links == ()
    assert store.commit([Write(edited.id, edited, None)], []) == [None]


def test_the_store_refuses_a_second_tag_on_a_passage(store: TagStore) -> None:
    """The duplicate rule holds inside the store's commit, whoever calls it."""
    first = _tag("aaaa1111")
    store.commit([Write(first.id, None, first)], [_event("add", first.id)])
    again = _tag("bbbb2222")
    with pytest.raises(DuplicateTagError, match="already tagged as claim") as caught:
        store.commit([Write(again.id, None, again)], [_event("add", again.id)])
    assert caught.value.existing.id == first.id
    assert store.get(again.id) is None and len(store.events()) == 1  # nothing written
    # Another kind, or an orphaned tag (it is on no passage), is not a duplicate.
    other_kind = _tag("cccc3333", kind="context")
    orphan = _tag("dddd4444", status="orphaned")
    store.commit([Write(t.id, None, t) for t in (other_kind, orphan)], [])
    # A write that moves a tag onto a taken passage is refused too.
    elsewhere = _tag("eeee5555", quote="Sam Altman")
    (elsewhere,) = store.commit([Write(elsewhere.id, None, elsewhere)], [])
    moved = replace(elsewhere, start=first.start, end=first.end, exact=first.exact)
    with pytest.raises(DuplicateTagError):
        store.commit([Write(elsewhere.id, elsewhere, moved)], [])
    assert store.get(elsewhere.id) == elsewhere


def test_store_errors_survive_a_trip_between_processes(store: TagStore) -> None:
    """Errors with extra arguments pickle (a worker process hands them back, e.g. the bench)."""
    import pickle

    first = _tag("aaaa1111")
    store.commit([Write(first.id, None, first)], [])
    for write in (Write(first.id, None, first), Write("bbbb2222", None, _tag("bbbb2222"))):
        with pytest.raises((ConflictError, DuplicateTagError)) as caught:
            store.commit([write], [])
        again = pickle.loads(pickle.dumps(caught.value))
        assert type(again) is type(caught.value) and str(again) == str(caught.value)
        assert vars(again) == vars(caught.value)


def test_a_batch_may_move_tags_through_each_others_passages(store: TagStore) -> None:
    """Checked once the whole batch is written: two tags may swap passages (re-anchoring
    after text was inserted moves each tag where the next one was)."""
    a, b = _tag("aaaa1111"), _tag("bbbb2222", quote="Sam Altman")
    a, b = store.commit([Write(a.id, None, a), Write(b.id, None, b)], [])
    a2 = replace(a, start=b.start, end=b.end, exact=b.exact)
    b2 = replace(b, start=a.start, end=a.end, exact=a.exact)
    store.commit([Write(a.id, a, a2), Write(b.id, b, b2)], [])
    assert (store.get(a.id).start, store.get(b.id).start) == (b.start, a.start)


# The service's rules, on each store --------------------------------------------------------------
def test_the_duplicate_rule_holds_for_add_retag_and_import(service: TagService) -> None:
    claim = service.add(DOC, *_span("Sam Altman"), "claim")
    with pytest.raises(DuplicateTagError, match="already tagged as claim"):
        service.add(DOC, *_span("Sam Altman"), "claim")
    context = service.add(DOC, *_span("Sam Altman"), "context")  # another kind is fine
    with pytest.raises(DuplicateTagError):
        service.edit(context.id, tag="claim")
    result = service.import_tags([replace(claim, id="other-id")], source="x.json")
    assert result.added == [] and "same passage" in result.skipped[0][1]
    assert service.count() == 2


def test_notes_are_cleaned_of_control_characters(service: TagService) -> None:
    tag = service.add(DOC, *_span("Elon Musk"), "claim", note="a\x1b]0;pwned\x07b\nc\td\u202e")
    assert tag.note == "a]0;pwnedb\nc\td"
    assert service.edit(tag.id, note="x\x9by\r\nz").note == "xy\nz"


def test_verdicts_and_labels_are_events_with_undo(service: TagService) -> None:
    tag = service.add(DOC, *_span("Elon Musk"), "claim")
    assert tag.verdict == "not-rated" and tag.labels == ()
    with pytest.raises(ReaderError) as raised:
        service.set_verdict(tag.id, "pants-on-fire")
    assert all(v in str(raised.value) for v in VERDICTS)
    assert service.set_verdict(tag.id, "mostly-false").verdict == "mostly-false"
    labelled = service.set_labels(tag.id, add=["#Tesla-Refund", "money"])
    assert labelled.labels == ("tesla-refund", "money")
    assert service.set_labels(tag.id, remove=["money"]).labels == ("tesla-refund",)
    with pytest.raises(ReaderError, match="bad label"):
        service.set_labels(tag.id, add=["two words"])
    kinds = [e.kind for e in service.events(tag.id)]
    assert kinds == ["add", "verdict", "labels", "labels"]
    assert service.undo().startswith("labels")
    assert service.get(tag.id).labels == ("tesla-refund", "money")
    service.undo()
    service.undo()
    assert service.get(tag.id).verdict == "not-rated"
    service.redo()
    assert service.get(tag.id).verdict == "mostly-false"


def test_import_is_one_event_one_undo_and_idempotent(service: TagService) -> None:
    claim = _tag("1mp0rt-claim", quote="Elon Musk", note="bad\x1bnote", verdict="false")
    rebuttal = _tag("1mp0rt-rebut", kind="rebuttal", quote="Analysts noted", links=(claim.id,))
    events_before = len(service.events())
    result = service.import_tags([claim, rebuttal], source="memo.json")
    assert [t.id for t in result.added] == [claim.id, rebuttal.id] and result.skipped == []
    assert service.get(claim.id).note == "badnote" and service.get(claim.id).verdict == "false"
    assert service.get(rebuttal.id).links == (claim.id,)
    log = service.events()[events_before:]
    assert [e.kind for e in log] == ["import"] and log[0].after["source"] == "memo.json"
    again = service.import_tags([claim, rebuttal], source="memo.json")
    assert again.added == [] and [why for _, why in again.skipped] == [
        "already there (same id)",
        "already there (same id)",
    ]
    assert len(service.events()) == events_before + 1  # nothing imported, nothing logged
    assert service.undo().startswith("import 2 tags")
    assert service.count() == 0
    service.redo()
    assert service.count() == 2 and service.get(rebuttal.id).links == (claim.id,)
    bad = service.import_tags([_tag("bad00000", kind="opinion")], source="x")
    assert bad.added == [] and "unknown tag" in bad.skipped[0][1]


def test_undo_is_per_author_and_never_overwrites_someone_else(open_store: Opener) -> None:
    alice = TagService(open_store(), author="alice")
    bob = TagService(open_store(), author="bob")
    tag = alice.add(DOC, *_span("Elon Musk"), "claim")
    alice.edit(tag.id, note="alice's note")
    mine = bob.add(DOC, *_span("Sam Altman"), "context")
    assert bob.get(tag.id).note == "alice's note"
    # Bob's undo undoes Bob's change, not Alice's later ones.
    assert bob.undo().startswith("add context")
    assert alice.get(mine.id) is None and alice.get(tag.id).note == "alice's note"
    # Bob edits Alice's tag; Alice's undo of her note would overwrite Bob's: refused.
    bob.edit(tag.id, note="bob's note")
    with pytest.raises(ConflictError, match="changed since"):
        alice.undo()
    assert alice.get(tag.id).note == "bob's note"
    assert [e.author for e in alice.events(tag.id)] == ["alice", "alice", "bob"]


def test_a_stale_edit_is_a_conflict_with_a_clear_message(open_store: Opener) -> None:
    alice = TagService(open_store(), author="alice")
    bob = TagService(open_store(), author="bob")
    tag = alice.add(DOC, *_span("Elon Musk"), "claim")
    seen_by_bob = bob.get(tag.id)
    alice.edit(tag.id, note="first")
    with pytest.raises(ConflictError, match=f"tag {tag.id[:8]} was changed") as raised:
        bob.edit(tag.id, note="second", expected_version=seen_by_bob.version)
    assert "nothing was saved" in str(raised.value)
    assert bob.get(tag.id).note == "first"
    assert bob.edit(tag.id, note="second", expected_version=bob.get(tag.id).version).note == (
        "second"
    )


def test_remove_reports_broken_links_and_restore_brings_all_back(service: TagService) -> None:
    claim = service.add(DOC, *_span("Elon Musk"), "claim", note="n", verdict="false")
    rebuttal = service.add(DOC, *_span("Analysts noted"), "rebuttal", links=[claim.id])
    removal = service.remove(claim.id)
    assert removal.tag == claim and [t.id for t in removal.broken_links] == [rebuttal.id]
    assert service.get(rebuttal.id).links == ()
    with pytest.raises(ReaderError, match="at least 4"):
        service.restore(claim.id[:3])
    back = service.restore(claim.id[:4])
    assert back.id == claim.id and (back.note, back.verdict) == ("n", "false")
    assert service.get(rebuttal.id).links == (claim.id,)
    with pytest.raises(ReaderError, match="not removed"):
        service.restore(claim.id)
    assert [e.kind for e in service.events(claim.id)] == ["add", "remove", "restore"]


def test_resolve_id_needs_a_long_enough_prefix_when_asked(service: TagService) -> None:
    tag = service.add(DOC, *_span("Elon Musk"), "claim")
    assert service.resolve_id(tag.id[:1]) == tag.id
    with pytest.raises(ReaderError, match="at least 4"):
        service.resolve_id(tag.id[:3], min_length=4)
    assert service.resolve_id(tag.id[:4], min_length=4) == tag.id
    assert service.resolve_id(tag.id, min_length=40) == tag.id  # the whole id always works


def test_undo_and_restore_keep_the_duplicate_rule(open_store: Opener) -> None:
    alice = TagService(open_store(), author="alice")
    bob = TagService(open_store(), author="bob")
    first = alice.add(DOC, *_span("Elon Musk"), "claim")
    alice.remove(first.id)
    second = bob.add(DOC, *_span("Elon Musk"), "claim")  # the passage is free again
    with pytest.raises(DuplicateTagError):
        alice.undo()  # bringing `first` back would tag the passage twice
    with pytest.raises(DuplicateTagError):
        alice.restore(first.id)
    assert [t.id for t in alice.list()] == [second.id]
    bob.undo()
    assert alice.undo().startswith("remove claim")  # now it may come back
    assert [t.id for t in alice.list()] == [first.id]


FISH = "One fish. Two fish. Red fish. Blue fish.\n"


def _fish(text: str) -> SimpleNamespace:
    return SimpleNamespace(
        id="fish.txt", text=text, lang="en", sha256=hashlib.sha256(text.encode()).hexdigest()
    )


def test_reanchoring_moves_tags_through_each_others_passages(service: TagService) -> None:
    """Text inserted before tagged sentences of equal length moves each tag exactly where the
    next one was: one batch, accepted (the rule is checked on the result)."""
    old = _fish(FISH)
    one = service.add(old, *_span("One fish.", old), "claim")
    two = service.add(old, *_span("Two fish.", old), "claim")
    new = _fish("Old fish. " + FISH)  # 10 characters: "One fish." lands on [10, 19]
    assert (one.start, one.end) == (0, 9) and (two.start, two.end) == (10, 19)
    report = service.reconcile_doc(new)
    assert sorted(report.moved) == sorted([one.id, two.id]) and report.orphaned == []
    assert [(t.exact, t.start) for t in service.for_doc("fish.txt")] == [
        ("One fish.", 10),
        ("Two fish.", 20),
    ]


def test_two_tags_reanchored_onto_one_passage_leave_one_orphaned(service: TagService) -> None:
    """Two claims quoting the same words; the first occurrence is deleted, so both would
    land on the second: one keeps it, the other is orphaned (kept, and said so)."""
    old = _fish("Red fish. Blue fish. Red fish. Old fish.\n")
    first = service.add(old, 0, 9, "claim")
    second = service.add(old, 21, 30, "claim")
    assert first.exact == second.exact == "Red fish."
    new = _fish("Blue fish. Red fish. Old fish.\n")
    report = service.reconcile_doc(new)
    tags = {t.id: t for t in service.for_doc("fish.txt")}
    assert len(tags) == 2 and len(report.orphaned) == 1
    kept = next(t for t in tags.values() if t.status != "orphaned")
    assert (kept.start, kept.end) == (11, 20)
    orphan = tags[report.orphaned[0]]
    assert orphan.status == "orphaned" and orphan.checked_sha256 == new.sha256
    assert "already tag" in service.events(orphan.id)[-1].description
    # An orphaned tag is on no passage: the passage may be tagged again only by another kind
    # while `kept` is there, and the orphan does not block anything.
    with pytest.raises(DuplicateTagError):
        service.add(new, 11, 20, "claim")
