"""The corpus scan, streamed: the same documents, changes and removals as comparing the whole
walk with the whole catalog, without holding either (batches, a temporary table)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reader.core.documents import corpus as corpus_module
from reader.core.documents import corpus_of
from reader.core.documents import ingest as ingest_module
from reader.core.workspace import Workspace


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _tree(root: Path) -> None:
    """Nested folders, hidden and unsupported files, names that sort around "/"."""
    for k in range(7):
        _write(root / f"a{k}.txt", f"Title a{k}\n\nThe text of a{k}, with some words.")
        _write(root / "a" / f"x{k}.md", f"# X {k}\n\nMarkdown body number {k} here.")
        _write(root / "a-b" / "deep" / f"y{k}.txt", f"Y {k}\n\nA deeper text {k}.")
    _write(root / "a.txt", "A\n\nThe a file, next to the a folder.")
    _write(root / ".hidden" / "h.txt", "hidden")
    _write(root / ".h.txt", "hidden")
    _write(root / "notes.pdf", "not a document")
    _write(root / "empty.txt", "")  # read, maybe skipped as empty: as before


def _walked(ws: Workspace) -> list[str]:
    """The candidate ids of the walk (what a scan compares with the catalog)."""
    return [
        e.id
        for e in ingest_module.walk(ws.corpus_root, ws.data_dir)
        if isinstance(e, ingest_module.Candidate)
    ]


@pytest.fixture
def ws(tmp_path: Path, monkeypatch) -> Workspace:
    monkeypatch.setattr(corpus_module, "_BATCH", 4)  # many batches for a few files
    root = tmp_path / "corpus"
    _tree(root)
    return Workspace.open(root, tmp_path / "data")


def test_first_scan_reads_every_candidate_once(ws: Workspace) -> None:
    seen: list[int] = []
    scan = corpus_of(ws).scan(progress=lambda done, total: seen.append((done, total)))
    skipped = {str(s.path.relative_to(ws.corpus_root)) for s in scan.skipped}
    expected = [i for i in _walked(ws) if i not in skipped]
    assert sorted(scan.changed) == sorted(expected) == sorted(scan.added)
    assert len(expected) == 7 * 3 + 1 and scan.removed == []
    assert [d.id for d in scan.documents] == sorted(expected)
    assert "notes.pdf" in skipped and not any(".h" in s for s in skipped)
    total = len(_walked(ws))
    assert [d for d, _t in seen] == list(range(1, total + 1))
    assert {t for _d, t in seen} == {total} == {corpus_of(ws).count_files()}


def test_rescan_finds_edits_additions_and_removals_across_batches(ws: Workspace) -> None:
    root = ws.corpus_root
    corpus_of(ws).scan()
    assert corpus_of(ws).scan().changed == []  # nothing new: nothing read
    _write(root / "a3.txt", "Title a3\n\nAn edited text, longer than it was.")
    os.utime(root / "a4.txt")  # touched, same text: read again, not changed
    (root / "a5.txt").unlink()
    for k in range(7):
        (root / "a-b" / "deep" / f"y{k}.txt").unlink()
    (root / "a-b" / "deep").rmdir()  # a whole folder gone
    _write(root / "a" / "zz" / "new.txt", "New\n\nA new text in a new folder.")
    (root / "a" / "x1.md").rename(root / "a" / "x1-renamed.md")
    scan = corpus_of(ws).scan()
    assert sorted(scan.changed) == ["a/x1-renamed.md", "a/zz/new.txt", "a3.txt"]
    assert sorted(scan.added) == ["a/x1-renamed.md", "a/zz/new.txt"]
    expected_removed = ["a-b/deep/" + f"y{k}.txt" for k in range(7)] + ["a/x1.md", "a5.txt"]
    assert scan.removed == sorted(expected_removed)
    assert [d.id for d in corpus_of(ws).infos()] == sorted(
        i for i in _walked(ws) if i != "empty.txt" or corpus_of(ws).info(i)
    )
    again = corpus_of(ws).scan()
    assert again.changed == [] and again.removed == []


def test_the_scan_streams_the_walk(ws: Workspace, monkeypatch) -> None:
    """The first document is read before the walk has listed every file: the walk is not
    collected into a list first."""
    walked: list[str] = []
    real_walk = ingest_module.walk

    def counting_walk(*args, **kwargs):
        for entry in real_walk(*args, **kwargs):
            walked.append(getattr(entry, "id", ""))
            yield entry

    monkeypatch.setattr(ingest_module, "walk", counting_walk)
    when_first: list[int] = []
    corpus_of(ws).scan(on_document=lambda doc: when_first.append(len(walked)))
    assert when_first and when_first[0] < len(walked) / 2


def test_a_cancelled_scan_removes_nothing_and_keeps_what_it_read(ws: Workspace) -> None:
    corpus_of(ws).scan()
    for name in ("a0.txt", "a1.txt"):
        (ws.corpus_root / name).unlink()
    _write(ws.corpus_root / "b" / "late.txt", "Late\n\nA file read late.")
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 5

    scan = corpus_of(ws).scan(cancelled=cancelled)
    assert scan.removed == []
    assert corpus_of(ws).info("a0.txt") is not None  # not dropped by a partial scan
    scan = corpus_of(ws).scan()
    assert scan.removed == ["a0.txt", "a1.txt"] and scan.changed == ["b/late.txt"]


def test_count_files_counts_what_the_walk_finds(ws: Workspace) -> None:
    assert corpus_of(ws).count_files() == len(_walked(ws)) == 7 * 3 + 2


def test_refresh_of_the_root_folder_uses_the_same_comparison(ws: Workspace) -> None:
    """`refresh` walking the root again (its mtime changed) compares with the whole catalog
    in batches too: removals and additions come out the same."""
    corpus_of(ws).scan()
    (ws.corpus_root / "a2.txt").unlink()
    _write(ws.corpus_root / "c.txt", "C\n\nA new text at the top.")
    scan = corpus_of(ws).refresh(max_age=3600)
    assert scan.kind == "folders"
    assert scan.changed == ["c.txt"] and scan.removed == ["a2.txt"]


def test_ids_hold_any_file_name_in_order(monkeypatch) -> None:
    """`Ids` (the scan's changed and added ids) give back exactly what went in, across
    blocks: non-ASCII names, names undecodable as UTF-8 (surrogate escapes), spaces."""
    monkeypatch.setattr(corpus_module, "IDS_BLOCK", 3)
    names = [
        "a.txt",
        "ünï/cödé.md",
        os.fsdecode(b"bad-\xff\xfe.txt"),
        "\udcc3\udca9.txt",  # escaped bytes that together would be valid UTF-8
        "日本/記事.txt",
        "with space/x y.txt",
        "z.txt",
    ]
    ids = corpus_module.Ids(names)
    assert list(ids) == names and len(ids) == len(names)
    assert ids == names and ids == tuple(names) and ids != names[:-1]
    assert ids != [*names[:-1], "other"]
    assert ids[2] == names[2] and ids[-1] == "z.txt" and ids[1:3] == names[1:3]
    assert sorted(ids) == sorted(names)
    assert corpus_module.Ids() == [] and not corpus_module.Ids()


def test_a_first_scan_holds_little_per_file(tmp_path: Path) -> None:
    """Between the 1,024th and the 3,072nd file read, a first scan's traced memory grows by
    less than 100 bytes a file: the compact ids of what changed and was added (~20 bytes
    each), not a set or list of every id or candidate (~150 bytes a file or more)."""
    import tracemalloc

    root = tmp_path / "corpus"
    for k in range(3100):
        _write(root / f"f{k // 100:02}" / f"doc{k:05}.txt", f"Doc {k}\n\nSome words of text {k}.")
    ws = Workspace.open(root, tmp_path / "data")
    marks: dict[int, int] = {}
    read = iter(range(1, 10_000))

    def on_document(doc) -> None:
        count = next(read)
        if count in (1024, 3072):
            marks[count] = tracemalloc.get_traced_memory()[0]

    tracemalloc.start()
    try:
        scan = corpus_of(ws).scan(on_document=on_document)
    finally:
        tracemalloc.stop()
    assert len(scan.changed) == 3100
    grown = marks[3072] - marks[1024]
    assert grown < 2048 * 100, grown
