"""The tag store: persistence, filters, links, undo/redo, the event log, re-anchoring, CLI."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from reader.cli import main
from reader.core.documents import corpus_of
from reader.core.errors import ReaderError
from reader.core.tags import TagService, open_tag_store
from reader.core.tags.model import JSON_FIELDS, TAGS
from reader.core.tags.sqlite import SCHEMA_VERSION, integrity_check
from reader.core.workspace import Workspace

FIRST = "Elon Musk said the Roadster deposit was refunded within 24 hours."
CLAIM = "Sam Altman disputed this on social media, posting an email from Tesla."
LAST = "Analysts noted that refunds usually take several weeks to process."
ARTICLE = f"Refund row\n\n{FIRST} {CLAIM}\n\n{LAST}\n"
OTHER = "Le remboursement\n\nTesla affirme avoir remboursé le client en un jour.\n"


@pytest.fixture
def small(tmp_path: Path) -> Workspace:
    """A two-document corpus: story.txt (en) and autre.txt (fr)."""
    root = tmp_path / "small"
    root.mkdir()
    (root / "story.txt").write_text(ARTICLE, encoding="utf-8")
    (root / "autre.txt").write_text(OTHER, encoding="utf-8")
    ws = Workspace.open(root)
    corpus_of(ws).scan()
    return ws


@pytest.fixture
def store(small: Workspace):
    with open_tag_store(small) as opened:
        yield opened


def _span(ws: Workspace, doc_id: str, quote: str) -> tuple[int, int]:
    text = corpus_of(ws).load(doc_id).text
    start = text.index(quote)
    return start, start + len(quote)


def _tag(ws: Workspace, store: TagService, quote: str, tag: str = "claim", **kw):
    doc_id = "story.txt" if quote in ARTICLE else "autre.txt"
    doc = corpus_of(ws).load(doc_id)
    return store.add(doc, *_span(ws, doc_id, quote), tag, **kw)


# The store ---------------------------------------------------------------------------------
def test_add_stores_every_field_and_survives_reopening(small: Workspace, store) -> None:
    ann = _tag(small, store, CLAIM, note="check the email")
    doc = corpus_of(small).load("story.txt")
    assert ann.exact == CLAIM and doc.text[ann.start : ann.end] == CLAIM
    assert ann.prefix == doc.text[ann.start - 32 : ann.start]
    assert ann.suffix == doc.text[ann.end : ann.end + 32]
    assert ann.status == "anchored" and ann.doc_sha256 == doc.sha256 and ann.lang == "en"
    assert ann.author == small.author and ann.created.endswith("Z")
    store.close()
    with open_tag_store(small) as again:
        assert again.get(ann.id) == ann
    assert integrity_check(small.annotations_path) == "ok"


def test_to_json_has_exactly_the_issue_fields(small: Workspace, store) -> None:
    data = _tag(small, store, CLAIM).to_json()
    assert tuple(data) == JSON_FIELDS
    assert set(JSON_FIELDS) == {
        "id", "doc_id", "tag", "start", "end", "exact", "prefix", "suffix", "note",
        "links", "author", "created", "updated", "status", "doc_sha256", "verdict", "labels",
    }  # fmt: skip
    json.dumps(data)


def test_store_settings_wal_foreign_keys_and_schema_version(small: Workspace, store) -> None:
    db = store.store._db
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_bad_input_is_refused_and_nothing_is_stored(small: Workspace, store) -> None:
    doc = corpus_of(small).load("story.txt")
    with pytest.raises(ReaderError, match="unknown tag"):
        store.add(doc, 0, 5, "opinion")
    with pytest.raises(ReaderError, match="not inside"):
        store.add(doc, 5, 5, "claim")
    with pytest.raises(ReaderError, match="not inside"):
        store.add(doc, 0, len(doc.text) + 1, "claim")
    with pytest.raises(ReaderError, match="no tag"):
        store.add(doc, 0, 5, "rebuttal", links=["nope"])
    assert store.count() == 0


def test_list_filters_and_positions(small: Workspace, store) -> None:
    claim = _tag(small, store, CLAIM)
    first = _tag(small, store, FIRST, "context")
    french = _tag(small, store, "Tesla affirme avoir remboursé", "claim")
    assert [a.id for a in store.list()] == [french.id, first.id, claim.id]  # by doc, start
    assert [a.id for a in store.list(tag="claim")] == [french.id, claim.id]
    assert [a.id for a in store.list(lang="fr")] == [french.id]
    assert [a.id for a in store.list(doc_id="story.txt", tag="context")] == [first.id]
    assert store.list(status="orphaned") == []
    assert [a.id for a in store.for_doc("story.txt")] == [first.id, claim.id]
    assert store.doc_tag_counts() == {
        "story.txt": {"claim": 1, "context": 1},
        "autre.txt": {"claim": 1},
    }


def test_overlapping_and_nested_tags_innermost_first(small: Workspace, store) -> None:
    outer = _tag(small, store, f"{FIRST} {CLAIM}", "context")
    inner = _tag(small, store, "Sam Altman disputed this", "claim")
    overlap = _tag(small, store, "within 24 hours. Sam Altman", "rebuttal")
    offset = _span(small, "story.txt", "Altman")[0]
    assert [a.id for a in store.at("story.txt", offset)] == [inner.id, overlap.id, outer.id]
    assert store.at("story.txt", 0) == []


def test_edit_retag_and_links(small: Workspace, store) -> None:
    claim = _tag(small, store, CLAIM)
    rebuttal = _tag(small, store, LAST, "rebuttal", links=[claim.id])
    assert rebuttal.links == (claim.id,)
    edited = store.edit(rebuttal.id, note="weeks, not hours")
    assert edited.note == "weeks, not hours" and edited.updated >= edited.created
    assert store.edit(rebuttal.id, tag="context").tag == "context"
    other = _tag(small, store, FIRST, "context")
    assert store.link(rebuttal.id, other.id).links == (claim.id, other.id)
    assert store.unlink(rebuttal.id, claim.id).links == (other.id,)
    with pytest.raises(ReaderError, match="itself"):
        store.link(rebuttal.id, rebuttal.id)
    with pytest.raises(ReaderError, match="unknown tag"):
        store.edit(rebuttal.id, tag="bogus")
    assert store.get(rebuttal.id).tag == "context"


def test_resolve_id_by_unique_prefix(small: Workspace, store) -> None:
    ann = _tag(small, store, CLAIM)
    assert store.resolve_id(ann.id[:8]) == ann.id
    assert store.resolve_id(ann.id.upper()) == ann.id
    with pytest.raises(ReaderError, match="no tag"):
        store.resolve_id("zzzz")


# Undo, redo, and the event log -------------------------------------------------------------
def test_undo_and_redo_every_kind_of_change(small: Workspace, store) -> None:
    claim = _tag(small, store, CLAIM)
    rebuttal = _tag(small, store, LAST, "rebuttal", links=[claim.id])
    store.edit(claim.id, note="n1")
    store.edit(claim.id, tag="context")
    removed = store.remove(claim.id).tag
    assert store.get(claim.id) is None and store.get(rebuttal.id).links == ()

    assert store.undo().startswith("remove context")  # back, with the rebuttal's link
    assert store.get(claim.id) is not None and store.get(rebuttal.id).links == (claim.id,)
    assert store.get(claim.id).to_json() | {"updated": None} == removed.to_json() | {
        "updated": None
    }
    assert store.undo().startswith("retag claim → context")
    assert store.get(claim.id).tag == "claim"
    assert store.undo().startswith("edit")
    assert store.get(claim.id).note == ""
    assert store.redo().startswith("edit")
    assert store.get(claim.id).note == "n1"
    store.undo()
    store.undo()  # the rebuttal's add
    assert store.get(rebuttal.id) is None
    store.undo()  # the claim's add
    assert store.count() == 0 and store.undo() is None
    assert store.redo().startswith("add claim") and store.get(claim.id) is not None
    assert store.redo().startswith("add rebuttal")
    assert store.get(rebuttal.id).links == (claim.id,)


def test_a_new_change_clears_redo(small: Workspace, store) -> None:
    ann = _tag(small, store, CLAIM)
    store.edit(ann.id, note="a")
    store.undo()
    store.edit(ann.id, note="b")
    assert store.redo() is None and store.get(ann.id).note == "b"


def test_undo_is_per_session_and_the_log_is_the_audit_trail(small: Workspace, store) -> None:
    ann = _tag(small, store, CLAIM)
    store.remove(ann.id)
    store.close()
    with open_tag_store(small) as later:
        assert later.undo() is None  # another session
        events = later.events(ann.id)
        assert [e.kind for e in events] == ["add", "remove"]
        assert events[1].before["exact"] == CLAIM and events[1].after is None
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            later.store._db.execute("DELETE FROM events")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            later.store._db.execute("UPDATE events SET kind = 'x'")


def test_undo_and_redo_are_logged(small: Workspace, store) -> None:
    ann = _tag(small, store, CLAIM)
    store.undo()
    store.redo()
    assert [e.kind for e in store.events(ann.id)] == ["add", "undo", "redo"]


# Schema and damaged files ------------------------------------------------------------------
def test_newer_schema_is_refused_and_left_alone(small: Workspace) -> None:
    open_tag_store(small).close()
    db = sqlite3.connect(small.annotations_path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(ReaderError, match="newer version"):
        open_tag_store(small)
    db = sqlite3.connect(small.annotations_path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    db.close()


def test_damaged_store_is_a_clear_error_and_untouched(small: Workspace) -> None:
    small.annotations_path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ReaderError, match="damaged"):
        open_tag_store(small)
    assert small.annotations_path.read_bytes() == b"this is not a database" * 100


def test_migration_backs_up_an_older_store(small: Workspace, monkeypatch) -> None:
    from reader.core.tags import sqlite as backend

    with open_tag_store(small) as first:
        kept = _tag(small, first, CLAIM)
    extra = "ALTER TABLE annotations ADD COLUMN colour TEXT NOT NULL DEFAULT ''"
    monkeypatch.setattr(backend, "MIGRATIONS", (*backend.MIGRATIONS, extra))
    monkeypatch.setattr(backend, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with open_tag_store(small) as migrated:
        assert migrated.get(kept.id) == kept
        assert migrated.store._db.execute("PRAGMA user_version").fetchone()[0] == 3
    backup = small.annotations_path.with_name(f"annotations.sqlite.v{SCHEMA_VERSION}.bak")
    db = sqlite3.connect(backup)
    assert db.execute("SELECT id FROM annotations").fetchall() == [(kept.id,)]
    db.close()


# Re-anchoring ------------------------------------------------------------------------------
def _rewrite(ws: Workspace, doc_id: str, text: str) -> None:
    path = ws.corpus_root / doc_id
    path.write_text(text, encoding="utf-8")
    corpus_of(ws).scan()


def test_nothing_changed_is_cheap_and_silent(small: Workspace, store) -> None:
    _tag(small, store, CLAIM)
    events = len(store.events())
    assert not store.reconcile(corpus_of(small))
    assert len(store.events()) == events


def test_text_inserted_before_moves_the_tag(small: Workspace, store) -> None:
    ann = _tag(small, store, CLAIM)
    _rewrite(small, "story.txt", "Breaking\n\nA new first paragraph.\n\n" + ARTICLE)
    report = store.reconcile(corpus_of(small))
    assert report.moved == [ann.id] and not report.orphaned and not report.reanchored
    moved = store.get(ann.id)
    text = corpus_of(small).load("story.txt").text
    assert moved.status == "moved" and text[moved.start : moved.end] == CLAIM
    assert moved.start > ann.start and moved.doc_sha256 != ann.doc_sha256
    assert [e.kind for e in store.events(ann.id)] == ["add", "reanchor"]
    assert not store.reconcile(corpus_of(small))  # done once


def test_one_word_edited_is_re_anchored_by_fuzzy_match(small: Workspace, store) -> None:
    ann = _tag(small, store, CLAIM)
    _rewrite(small, "story.txt", ARTICLE.replace("disputed", "contested"))
    report = store.reconcile(corpus_of(small))
    assert report.reanchored == [ann.id]
    found = store.get(ann.id)
    assert found.status == "moved"
    assert found.exact == CLAIM.replace("disputed", "contested")
    assert corpus_of(small).load("story.txt").text[found.start : found.end] == found.exact


def test_removed_passage_is_orphaned_and_kept(small: Workspace, store) -> None:
    ann = _tag(small, store, CLAIM, note="keep me")
    _rewrite(small, "story.txt", ARTICLE.replace(" " + CLAIM, ""))
    assert store.reconcile(corpus_of(small)).orphaned == [ann.id]
    orphan = store.get(ann.id)
    assert orphan.status == "orphaned" and orphan.exact == CLAIM and orphan.note == "keep me"
    assert [a.id for a in store.list(status="orphaned")] == [ann.id]
    # The passage comes back: the tag re-anchors.
    _rewrite(small, "story.txt", ARTICLE)
    assert store.reconcile(corpus_of(small)).orphaned == []
    assert store.get(ann.id).status == "anchored"


def test_deleted_file_orphans_its_tags(small: Workspace, store) -> None:
    ann = _tag(small, store, CLAIM)
    other = _tag(small, store, "Tesla affirme avoir remboursé")
    (small.corpus_root / "story.txt").unlink()
    corpus_of(small).scan()
    report = store.reconcile(corpus_of(small))
    assert report.orphaned == [ann.id]
    assert store.get(ann.id).status == "orphaned" and store.get(ann.id).exact == CLAIM
    assert store.get(other.id).status == "anchored"
    assert not store.reconcile(corpus_of(small))


def test_lost_catalog_does_not_orphan_tags(small: Workspace, store) -> None:
    ann = _tag(small, store, CLAIM)
    small.catalog_path.unlink()
    assert not store.reconcile(corpus_of(small))
    assert store.get(ann.id).status == "anchored"


def test_undo_after_re_anchoring_keeps_the_new_position(small: Workspace, store) -> None:
    ann = _tag(small, store, CLAIM)
    store.edit(ann.id, note="n")
    _rewrite(small, "story.txt", "Breaking\n\n" + ARTICLE)
    store.reconcile(corpus_of(small))
    moved = store.get(ann.id)
    store.undo()
    after = store.get(ann.id)
    assert after.note == "" and (after.start, after.end) == (moved.start, moved.end)


# The CLI -----------------------------------------------------------------------------------
def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_add_by_quote_and_span_with_json(small: Workspace, capsys) -> None:
    corpus = str(small.corpus_root)
    code, out, _ = _run(
        capsys, "tags", "add", "story", "--quote", CLAIM, "--tag", "claim", "--json",
        "--note", "email?", "--corpus", corpus,
    )  # fmt: skip
    assert code == 0
    claim = json.loads(out)
    assert tuple(claim) == JSON_FIELDS and claim["exact"] == CLAIM and claim["note"] == "email?"
    start, end = _span(small, "story.txt", LAST)
    code, out, _ = _run(
        capsys, "tags", "add", "story.txt", "--span", str(start), str(end), "--tag",
        "rebuttal", "--rebuts", claim["id"][:8], "--json", "--corpus", corpus,
    )  # fmt: skip
    assert code == 0
    rebuttal = json.loads(out)
    assert rebuttal["exact"] == LAST and rebuttal["links"] == [claim["id"]]
    code, out, _ = _run(capsys, "tags", "list", "--json", "--corpus", corpus)
    listed = json.loads(out)
    assert code == 0 and [a["id"] for a in listed] == [claim["id"], rebuttal["id"]]
    assert all(tuple(a) == JSON_FIELDS for a in listed)


def test_cli_quote_not_in_text_is_exit_1(small: Workspace, capsys) -> None:
    corpus = str(small.corpus_root)
    code, _out, err = _run(
        capsys, "tags", "add", "story.txt", "--quote", "never said", "--tag", "claim",
        "--corpus", corpus,
    )  # fmt: skip
    assert code == 1 and "not in story.txt" in err and "Traceback" not in err
    code, _, err = _run(
        capsys, "tags", "add", "story.txt", "--quote", "refund", "--occurrence", "9",
        "--tag", "claim", "--corpus", corpus,
    )  # fmt: skip
    assert code == 1 and "out of range" in err
    code, _, err = _run(
        capsys, "tags", "add", "story.txt", "--span", "5", "99999", "--tag", "claim",
        "--corpus", corpus,
    )  # fmt: skip
    assert code == 1 and "not inside" in err
    with open_tag_store(small) as store:
        assert store.count() == 0


def test_cli_usage_errors_are_exit_2(small: Workspace, capsys) -> None:
    corpus = str(small.corpus_root)
    with pytest.raises(SystemExit) as raised:
        main(["tags", "add", "story.txt", "--quote", "x", "--tag", "opinion", "--corpus", corpus])
    assert raised.value.code == 2
    with pytest.raises(SystemExit) as raised:
        main(["tags", "add", "story.txt", "--tag", "claim", "--corpus", corpus])
    assert raised.value.code == 2


def test_cli_occurrence_picks_the_nth_match(small: Workspace, capsys) -> None:
    corpus = str(small.corpus_root)
    code, out, _ = _run(
        capsys, "tags", "add", "story.txt", "--quote", "refund", "--occurrence", "2",
        "--tag", "context", "--json", "--corpus", corpus,
    )  # fmt: skip
    text = corpus_of(small).load("story.txt").text
    second = text.index("refund", text.index("refund") + 1)
    assert code == 0 and json.loads(out)["start"] == second


def test_cli_rebuts_needs_a_rebuttal_and_a_claim(small: Workspace, capsys) -> None:
    corpus = str(small.corpus_root)
    with open_tag_store(small) as store:
        context = _tag(small, store, FIRST, "context")
    code, _, err = _run(
        capsys, "tags", "add", "story.txt", "--quote", LAST, "--tag", "claim",
        "--rebuts", context.id, "--corpus", corpus,
    )  # fmt: skip
    assert code == 1 and "--tag rebuttal" in err
    code, _, err = _run(
        capsys, "tags", "add", "story.txt", "--quote", LAST, "--tag", "rebuttal",
        "--rebuts", context.id, "--corpus", corpus,
    )  # fmt: skip
    assert code == 1 and "not a claim" in err


def test_cli_edit_remove_and_list_filters(small: Workspace, capsys) -> None:
    corpus = str(small.corpus_root)
    with open_tag_store(small) as store:
        claim = _tag(small, store, CLAIM)
        french = _tag(small, store, "Tesla affirme avoir remboursé", "context")
    code, out, _ = _run(
        capsys, "tags", "edit", french.id[:6], "--tag", "rebuttal", "--rebuts", claim.id,
        "--note", "contradicts", "--corpus", corpus,
    )  # fmt: skip
    assert code == 0 and "edited" in out
    code, out, _ = _run(capsys, "tags", "list", "--lang", "fr", "--json", "--corpus", corpus)
    (edited,) = json.loads(out)
    assert (edited["tag"], edited["note"], edited["links"]) == (
        "rebuttal",
        "contradicts",
        [claim.id],
    )
    code, out, _ = _run(capsys, "tags", "list", "--tag", "claim", "--corpus", corpus)
    assert code == 0 and claim.id[:8] in out and french.id[:8] not in out
    code, _, err = _run(capsys, "tags", "edit", claim.id, "--corpus", corpus)
    assert code == 1 and "nothing to change" in err
    code, out, _ = _run(capsys, "tags", "remove", claim.id, "--corpus", corpus)
    assert code == 0 and "removed" in out
    code, out, _ = _run(capsys, "tags", "list", "--json", "--corpus", corpus)
    assert [a["id"] for a in json.loads(out)] == [french.id]
    assert json.loads(out)[0]["links"] == []
    code, out, _ = _run(capsys, "tags", "log", claim.id, "--json", "--corpus", corpus)
    assert [e["kind"] for e in json.loads(out)] == ["add", "remove"]


def test_cli_list_reconciles_first(small: Workspace, capsys) -> None:
    corpus = str(small.corpus_root)
    with open_tag_store(small) as store:
        ann = _tag(small, store, CLAIM)
    (small.corpus_root / "story.txt").write_text("Intro.\n\n" + ARTICLE, encoding="utf-8")
    code, out, err = _run(capsys, "tags", "list", "--status", "moved", "--json", "--corpus", corpus)
    assert code == 0 and [a["id"] for a in json.loads(out)] == [ann.id]
    assert "1 moved" in err
    assert set(TAGS) == {"claim", "rebuttal", "context"}


# Migration from the schema-1 store (what the reader wrote before verdicts and labels) ---------
SCHEMA_1 = """
CREATE TABLE annotations (
    id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL,
    lang TEXT NOT NULL DEFAULT '',
    tag TEXT NOT NULL CHECK (tag IN ('claim', 'rebuttal', 'context')),
    start INTEGER NOT NULL CHECK (start >= 0),
    "end" INTEGER NOT NULL CHECK ("end" > start),
    exact TEXT NOT NULL,
    prefix TEXT NOT NULL DEFAULT '',
    suffix TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    author TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('anchored', 'moved', 'orphaned')),
    doc_sha256 TEXT NOT NULL,
    checked_sha256 TEXT NOT NULL
);
CREATE INDEX annotations_doc ON annotations (doc_id, start);
CREATE TABLE links (
    source TEXT NOT NULL REFERENCES annotations (id) ON DELETE CASCADE,
    target TEXT NOT NULL REFERENCES annotations (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    PRIMARY KEY (source, target),
    CHECK (source <> target)
);
CREATE INDEX links_target ON links (target);
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    session TEXT NOT NULL,
    author TEXT NOT NULL,
    kind TEXT NOT NULL,
    annotation TEXT NOT NULL,
    description TEXT NOT NULL,
    before TEXT,
    after TEXT
);
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
PRAGMA user_version = 1;
"""


def _schema_1_store(ws: Workspace) -> dict[str, tuple]:
    """A store as the previous reader wrote it: two tags, a link, their events."""
    doc = corpus_of(ws).load("story.txt")
    rows = {}
    for tag_id, kind, quote, note in (
        ("11111111-aaaa-4000-8000-000000000001", "claim", CLAIM, "line one\nline two"),
        ("22222222-bbbb-4000-8000-000000000002", "rebuttal", LAST, ""),
    ):
        start = doc.text.index(quote)
        end = start + len(quote)
        rows[tag_id] = (
            tag_id, "story.txt", "en", kind, start, end, quote,
            doc.text[max(0, start - 32) : start], doc.text[end : end + 32], note, "olduser",
            "2025-01-02T03:04:05.678Z", "2025-01-02T03:04:05.678Z", "anchored", doc.sha256,
            doc.sha256,
        )  # fmt: skip
    ws.data_dir.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(ws.annotations_path)
    db.executescript(SCHEMA_1)
    db.executemany(f"INSERT INTO annotations VALUES ({','.join('?' * 16)})", rows.values())
    claim_id, rebuttal_id = list(rows)
    db.execute("INSERT INTO links VALUES (?, ?, 0)", (rebuttal_id, claim_id))
    for tag_id in rows:
        db.execute(
            "INSERT INTO events (at, session, author, kind, annotation, description, before, "
            "after) VALUES ('2025-01-02T03:04:05.678Z', 's', 'olduser', 'add', ?, 'add', NULL, "
            "'{}')",
            (tag_id,),
        )
    db.commit()
    db.close()
    return rows


def test_a_schema_1_store_upgrades_with_a_backup_and_loses_nothing(small: Workspace) -> None:
    rows = _schema_1_store(small)
    claim_id, rebuttal_id = list(rows)
    with open_tag_store(small) as store:
        assert store.store._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        for tag_id, row in rows.items():
            tag = store.get(tag_id)
            assert (tag.id, tag.doc_id, tag.lang, tag.tag, tag.start, tag.end, tag.exact) == row[:7]
            assert (tag.prefix, tag.suffix, tag.note, tag.author, tag.created) == row[7:12]
            assert (tag.updated, tag.status, tag.doc_sha256, tag.checked_sha256) == row[12:]
            assert (tag.verdict, tag.labels, tag.version) == ("not-rated", (), 1)
        assert store.get(rebuttal_id).links == (claim_id,)
        assert [e.kind for e in store.events()] == ["add", "add"]
        # and it keeps working: the new fields are stored and versioned
        edited = store.set_verdict(claim_id, "false")
        assert (edited.verdict, edited.version) == ("false", 2)
        assert store.set_labels(claim_id, add=["old"]).labels == ("old",)
    backup = small.annotations_path.with_name("annotations.sqlite.v1.bak")
    db = sqlite3.connect(backup)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
        assert {r[0]: r for r in db.execute("SELECT * FROM annotations")} == rows
        assert db.execute("SELECT source, target FROM links").fetchall() == [
            (rebuttal_id, claim_id)
        ]
    finally:
        db.close()
    assert integrity_check(small.annotations_path) == "ok"
    with open_tag_store(small) as again:  # the second open migrates nothing
        assert again.get(claim_id).verdict == "false"


def test_a_schema_1_store_opened_read_only_is_listed_without_migrating(small: Workspace) -> None:
    rows = _schema_1_store(small)
    with open_tag_store(small, readonly=True) as store:
        assert store.readonly
        listed = store.list()
        assert [t.id for t in listed] == sorted(rows, key=lambda i: rows[i][4])
        assert all(t.verdict == "not-rated" and t.labels == () for t in listed)
        with pytest.raises(ReaderError, match="read-only"):
            store.set_verdict(listed[0].id, "true")
    db = sqlite3.connect(small.annotations_path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1  # untouched
    db.close()


# Verdicts, labels, careful removal (CLI) ---------------------------------------------------
def test_cli_verdict_and_labels(small: Workspace, capsys) -> None:
    corpus = str(small.corpus_root)
    with open_tag_store(small) as store:
        claim = _tag(small, store, CLAIM)
    code, out, _ = _run(capsys, "tags", "list", "--json", "--corpus", corpus)
    (listed,) = json.loads(out)
    assert (listed["verdict"], listed["labels"]) == ("not-rated", [])
    code, out, _ = _run(
        capsys, "tags", "edit", claim.id[:4], "--verdict", "mostly-false", "--label",
        "#Tesla-Refund", "--label", "money", "--json", "--corpus", corpus,
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert (data["verdict"], data["labels"]) == ("mostly-false", ["tesla-refund", "money"])
    code, out, _ = _run(
        capsys, "tags", "edit", claim.id[:4], "--unlabel", "money", "--json", "--corpus", corpus
    )
    assert json.loads(out)["labels"] == ["tesla-refund"]
    code, _, err = _run(capsys, "tags", "edit", claim.id, "--verdict", "fake", "--corpus", corpus)
    assert code == 1 and "unknown verdict 'fake'" in err
    assert "true, mostly-true, mixed, mostly-false, false, unproven, not-rated" in err
    code, out, _ = _run(
        capsys, "tags", "list", "--label", "tesla-refund", "--json", "--corpus", corpus
    )
    assert [t["id"] for t in json.loads(out)] == [claim.id]
    code, out, _ = _run(capsys, "tags", "list", "--verdict", "true", "--json", "--corpus", corpus)
    assert json.loads(out) == []
    code, out, _ = _run(capsys, "tags", "log", claim.id, "--json", "--corpus", corpus)
    assert [e["kind"] for e in json.loads(out)] == ["add", "verdict", "labels", "labels"]


def test_cli_add_refuses_the_same_tag_twice_on_a_passage(small: Workspace, capsys) -> None:
    corpus = str(small.corpus_root)
    argv = ("tags", "add", "story.txt", "--quote", CLAIM, "--tag", "claim", "--corpus", corpus)
    assert _run(capsys, *argv)[0] == 0
    code, _, err = _run(capsys, *argv)
    assert code == 1 and "already tagged as claim" in err
    with open_tag_store(small) as store:
        assert store.count() == 1


def test_cli_remove_needs_4_characters_prints_broken_links_and_restores(
    small: Workspace, capsys
) -> None:
    corpus = str(small.corpus_root)
    with open_tag_store(small) as store:
        claim = _tag(small, store, CLAIM, note="the claim")
        rebuttal = _tag(small, store, LAST, "rebuttal", links=[claim.id])
    for short in (claim.id[:1], claim.id[:3]):
        code, _, err = _run(capsys, "tags", "remove", short, "--corpus", corpus)
        assert code == 1 and "at least 4 characters" in err
    code, _, err = _run(capsys, "tags", "edit", claim.id[:3], "--note", "x", "--corpus", corpus)
    assert code == 1 and "at least 4 characters" in err
    with open_tag_store(small) as store:
        assert store.count() == 2
    code, out, _ = _run(capsys, "tags", "remove", claim.id[:4], "--corpus", corpus)
    assert code == 0
    assert f"removed claim {claim.id[:8]}" in out and "the claim" in out
    assert f"broken link: rebuttal {rebuttal.id[:8]}" in out
    assert f"reader tags restore {claim.id[:8]}" in out
    with open_tag_store(small) as store:
        assert store.get(claim.id) is None and store.get(rebuttal.id).links == ()
    code, out, _ = _run(capsys, "tags", "restore", claim.id[:4], "--corpus", corpus)
    assert code == 0 and f"restored claim {claim.id[:8]}" in out
    assert f"link from rebuttal {rebuttal.id[:8]} restored" in out
    with open_tag_store(small) as store:
        back = store.get(claim.id)
        assert back.note == "the claim" and store.get(rebuttal.id).links == (claim.id,)
    code, _, err = _run(capsys, "tags", "restore", claim.id[:4], "--corpus", corpus)
    assert code == 1 and "not removed" in err
    code, out, _ = _run(capsys, "tags", "remove", claim.id, "--json", "--corpus", corpus)
    assert json.loads(out)["broken_links"] == [rebuttal.id]


def test_cli_output_escapes_control_characters_in_notes(small: Workspace, capsys) -> None:
    corpus = str(small.corpus_root)
    code, out, _ = _run(
        capsys, "tags", "add", "story.txt", "--quote", CLAIM, "--tag", "claim", "--note",
        "osc\x1b]0;owned\x07 clip\x1b]52;c;aGk=\x07 csi\x1b[2J bidi\u202egnp.exe\nnext",
        "--corpus", corpus,
    )  # fmt: skip
    assert code == 0
    code, out, err = _run(capsys, "tags", "list", "--corpus", corpus)
    for text in (out, err):
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    code, out, _ = _run(capsys, "tags", "list", "--json", "--corpus", corpus)
    note = json.loads(out)[0]["note"]
    assert note == "osc]0;owned clip]52;c;aGk= csi[2J bidignp.exe\nnext"


def test_cli_list_piped_is_tab_separated_one_line_per_tag(small: Workspace, capsys) -> None:
    corpus = str(small.corpus_root)
    with open_tag_store(small) as store:
        claim = _tag(small, store, CLAIM, note="two\nlines\tand a tab " + "long " * 40)
        store.set_labels(claim.id, add=["a", "b"])
        other = _tag(small, store, "Tesla affirme avoir remboursé", "context")
    code, out, _ = _run(capsys, "tags", "list", "--corpus", corpus)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3  # header + one line per tag, however long
    header = lines[0].split("\t")
    assert header[:4] == ["id", "document", "lang", "tag"] and "─" not in out
    rows = {
        line.split("\t")[0]: dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]
    }
    assert set(rows) == {claim.id, other.id}
    row = rows[claim.id]
    assert row["labels"] == "a,b" and row["verdict"] == "not-rated" and row["passage"] == CLAIM
    assert row["span"] == f"{claim.start}-{claim.end}"
    assert row["note"].startswith("two\\x0alines\\x09and a tab long")


def test_reanchored_shows_current_positions_and_writes_nothing(small: Workspace, store) -> None:
    ann = _tag(small, store, CLAIM)
    french = _tag(small, store, "Tesla affirme avoir remboursé", "context")
    _rewrite(small, "story.txt", "Breaking\n\nA new first paragraph.\n\n" + ARTICLE)
    events = len(store.events())
    with open_tag_store(small, readonly=True) as reader_only:
        current = {t.id: t for t in reader_only.reanchored(corpus_of(small))}
        assert reader_only.reconcile(corpus_of(small)).moved == []  # read-only: nothing saved
    text = corpus_of(small).load("story.txt").text
    moved = current[ann.id]
    assert moved.status == "moved" and text[moved.start : moved.end] == CLAIM
    assert current[french.id] == french
    assert store.get(ann.id) == ann and len(store.events()) == events  # the store is untouched
    only = store.reanchored(corpus_of(small), doc_id="autre.txt")
    assert [t.id for t in only] == [french.id]
