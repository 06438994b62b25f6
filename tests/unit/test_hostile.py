"""Hostile input never hangs and never crashes: tests/hostile/ and its manifest.

Ingestion runs in a child process with a timeout, so a file that hangs (a named pipe, a
"billion laughs" front matter, a page nested 100,000 deep) fails its test instead of
hanging the suite.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reader.core.documents import corpus_of
from reader.core.documents.ingest import (
    SkipFile,
    check_document_id,
    document_from_text,
    front_matter,
    html_depth,
    read_bytes,
)
from reader.core.errors import ReaderError

HOSTILE = Path(__file__).resolve().parents[1] / "hostile"
sys.path.insert(0, str(HOSTILE))
import hostile_files as build  # noqa: E402  (tests/hostile/hostile_files.py)

MANIFEST = json.loads((HOSTILE / "manifest.json").read_text(encoding="utf-8"))
TIMEOUT = 120  # seconds for the whole folder: today it takes a few
MEMORY = 4 << 30  # address space of a child: a regression fails fast instead of eating 14 GB


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


INGEST = """
import json, sys
from pathlib import Path
from reader.core.documents.ingest import ingest
docs, skipped = ingest(Path(sys.argv[1]), max_bytes=int(sys.argv[2]),
                       follow_symlinks_outside=sys.argv[3] == "1")
print(json.dumps({
    "documents": {d.id: {"lang": d.lang, "title": d.title, "text": d.text, "date": d.date,
                         "author": d.author} for d in docs},
    "skipped": {s.path.name: s.reason for s in skipped},
}))
"""


def _ingest(folder: Path, follow: bool = False, timeout: float = TIMEOUT) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", INGEST, str(folder), str(build.MAX_BYTES), "1" if follow else "0"],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
        preexec_fn=_limit_memory,
    )
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Path, dict, float]:
    root = tmp_path_factory.mktemp("hostile")
    build.materialise(root / "corpus", root / "outside")
    start = time.monotonic()
    result = _ingest(root / "corpus")
    return root / "corpus", result, time.monotonic() - start


def test_manifest_is_complete():
    assert len(MANIFEST) >= 60
    committed = {p.name for p in (HOSTILE / "files").iterdir()}
    assert committed == {name for name, e in MANIFEST.items() if not e.get("made")}
    assert all(("skipped" in e) != ("document" in e) for e in MANIFEST.values())


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_hostile_file(hostile, name):
    _, result, _ = hostile
    expect = MANIFEST[name]
    if "skipped" in expect:
        assert name not in result["documents"], name
        assert expect["skipped"] in result["skipped"].get(name, "(not skipped)"), (
            name,
            result["skipped"].get(name),
        )
        return
    assert name in result["documents"], (name, result["skipped"].get(name))
    doc = result["documents"][name]
    wanted = expect["document"]
    for field in ("lang", "title", "date", "author"):
        if field in wanted:
            assert doc[field] == wanted[field], (name, field, doc[field])
    for part in wanted.get("contains", []):
        assert part in doc["text"], (name, part, doc["text"][:200])
    for part in wanted.get("absent", []):
        assert part not in doc["text"] and part not in doc["title"], (name, part)
    assert not any(0x80 <= ord(c) <= 0x9F or (ord(c) < 32 and c not in "\t\n") for c in doc["text"])


def test_hostile_folder_is_quick(hostile):
    _, _, seconds = hostile
    assert seconds < 60, seconds  # a few seconds today; a hang is caught by the timeout


# One test per kind of file that hung or could hang, through the real CLI ---------------------
CLI_CASES = {
    "named-pipe.txt": "not a regular file: a named pipe (FIFO)",
    "socket.txt": "not a regular file: a socket",
    "billion-laughs.md": None,  # read, front matter ignored
    "yaml-deep-nesting.md": None,
    "nested-100000.html": "HTML nested too deep",
    "tag-flood.html": None,
    "front-matter-over-64kb.md": None,
    "random-bytes-no-nul.txt": "binary: many control bytes",
    "link-loop.txt": "symlink loop",
}


def _cli(corpus: Path, data: Path, env: dict | None = None, timeout: float = 60) -> dict:
    command = ["docs", "--json", "--corpus", str(corpus), "--data-dir", str(data)]
    out = subprocess.run(
        [sys.executable, "-m", "reader", *command],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=True,
        preexec_fn=_limit_memory,
    )
    return json.loads(out.stdout)


@pytest.mark.parametrize("name", sorted(CLI_CASES))
def test_cli_never_hangs_on(tmp_path, name):
    build.materialise(tmp_path / "all", tmp_path / "outside")
    corpus = tmp_path / "one"
    corpus.mkdir()
    source = tmp_path / "all" / name
    if source.is_symlink():
        os.symlink(os.readlink(source), corpus / name)
    elif source.is_fifo():
        os.mkfifo(corpus / name)
    elif source.is_socket():
        os.rename(source, corpus / name)
    else:
        (corpus / name).write_bytes(source.read_bytes())
    result = _cli(corpus, tmp_path / "data")
    reasons = {Path(s["path"]).name: s["reason"] for s in result["skipped"]}
    if CLI_CASES[name] is None:
        assert [d["id"] for d in result["documents"]] == [name], reasons
    else:
        assert CLI_CASES[name] in reasons[name]


def test_device_is_never_opened_even_when_links_may_leave(tmp_path):
    """/dev/zero behind a symlink: refused as outside the corpus, and with the setting that
    allows such links, skipped as a device (reading it would never end)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    os.symlink("/dev/zero", corpus / "zero.txt")
    (corpus / "ok.txt").write_text(build.ENGLISH)
    result = _cli(corpus, tmp_path / "data")
    assert "outside the corpus" in result["skipped"][0]["reason"]
    config = tmp_path / "config"
    env = {**os.environ, "XDG_CONFIG_HOME": str(config)}
    from reader.core.settings import user_settings_path

    real_home = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(config)
    try:
        settings = user_settings_path()
    finally:
        if real_home is None:
            del os.environ["XDG_CONFIG_HOME"]
        else:
            os.environ["XDG_CONFIG_HOME"] = real_home
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(json.dumps({"follow_symlinks_outside": True}))
    result = _cli(corpus, tmp_path / "data2", env=env)
    assert [s["reason"] for s in result["skipped"]] == ["not a regular file: a character device"]
    assert [d["id"] for d in result["documents"]] == ["ok.txt"]


def test_symlinks_outside_followed_only_with_the_setting(tmp_path):
    root = tmp_path / "h"
    build.materialise(root / "corpus", root / "outside")
    result = _ingest(root / "corpus", follow=True)
    assert "link-outside.txt" in result["documents"]
    assert "link-to-outside-folder/secret.txt" in result["documents"]
    assert "link-to-corpus-folder" in result["skipped"]  # never walked twice
    # The device behind /dev/zero is still never opened.
    assert result["skipped"]["dev-zero.txt"] == "not a regular file: a character device"


def test_read_bytes_never_opens_a_fifo(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with pytest.raises(SkipFile, match="named pipe"):
        read_bytes(fifo)  # would block forever if it opened the pipe without a writer


# Document ids -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "doc_id", ["/etc/passwd", "//server/share/x.txt", "C:\\x.txt", "c:/x.txt", "../x.txt", ""]
)
def test_absolute_and_escaping_ids_are_refused(doc_id):
    with pytest.raises(ValueError, match="not a document id"):
        check_document_id(doc_id)


def test_corpus_load_refuses_absolute_ids(workspace):
    with pytest.raises(ReaderError, match="absolute"):
        corpus_of(workspace).load("/etc/hostname")
    with pytest.raises(ReaderError, match="leaves the corpus"):
        corpus_of(workspace).load("../etc/hostname")
    assert check_document_id("sub/a.txt") == "sub/a.txt"


# Front matter and nesting, directly ---------------------------------------------------------
def test_billion_laughs_is_refused_at_once():
    text = (HOSTILE / "files" / "billion-laughs.md").read_text()
    assert len(text.encode()) < 700
    start = time.monotonic()
    meta, end, problem = front_matter(text)
    assert time.monotonic() - start < 1
    assert meta == {} and "aliases are not allowed" in problem
    assert text[end:].startswith("# Laughing matters")
    doc = document_from_text(text, "laughs.md")
    assert doc.title == "Laughing matters" and "lol" not in doc.text


def test_front_matter_keeps_only_plain_scalars_of_known_keys():
    meta, _, problem = front_matter(
        "---\ntitle: T\ndate: 2024-01-02\nauthor: [a, b]\nlang: 12\nother: x\n---\nbody"
    )
    assert problem is None
    assert meta == {"title": "T", "date": meta["date"], "lang": "12"}
    assert str(meta["date"]) == "2024-01-02"


def test_html_depth():
    assert html_depth("<html><body><div><p>a<p>b</div></body></html>") == 3
    assert html_depth("<div>" * 100_000) == 100_000
    assert html_depth("<script>if (a<b) { x('<div>') }</script><div></div>") == 1
    assert html_depth("<!-- <div><div> --><br/><img src=x><div/>") == 0
    start = time.monotonic()
    html_depth("<a" * 200_000)  # no closing ">": linear, not quadratic
    assert time.monotonic() - start < 2
