"""No file name, title, note, skipped path or error reaches the terminal with its control
characters: OSC 0 (window title), OSC 52 (clipboard), CSI (screen control, 7- and 8-bit) and
bidi controls are shown as visible escapes in every human-readable CLI output. Piped output
is plain tab-separated lines, never a table wrapped at 80 columns.

The bytes written to stdout and stderr are checked, piped (as tests run) and as a terminal
(rich forced to colour: its own SGR codes are then the only escape sequences allowed).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from reader.cli import main
from reader.commands import _common
from reader.core.documents import corpus_of
from reader.core.workspace import Workspace, bundled_corpus

OSC_TITLE = "\x1b]0;pwned\x07"
OSC_CLIPBOARD = "\x1b]52;c;ZXZpbA==\x07"
CSI = "\x1b[2J"
CSI_8BIT = "\x9b2J"
BIDI = "\u202e\u2066"
HOSTILE = OSC_TITLE + OSC_CLIPBOARD + CSI + CSI_8BIT + BIDI
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\u2066")  # none of these may be written raw
SGR = re.compile(r"\x1b\[[0-9;]*m")  # rich's own styling, on a terminal only


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """The bundled corpus in a folder named with an OSC 0, plus a document whose file name
    and title hold every attack, and an unsupported file whose name does too (it is listed as
    skipped)."""
    root = tmp_path / f"corpus{OSC_TITLE}"
    shutil.copytree(bundled_corpus(), root, ignore=shutil.ignore_patterns(".reader"))
    name = f"evil{HOSTILE}.md"
    (root / name).write_text(
        f"# Zebra report {BIDI}{CSI_8BIT}\n\nThe zebra crossed the road at dawn.\n",
        encoding="utf-8",
    )
    (root / f"skip{OSC_TITLE}.bin").write_bytes(b"\x00\x01")
    return root


def _tag_the_hostile_document(root: Path) -> str:
    from reader.core.tags import open_tag_store

    ws = Workspace.open(root)
    doc_id = next(i.id for i in corpus_of(ws).infos() if i.id.startswith("evil"))
    doc = corpus_of(ws).load(doc_id)
    with open_tag_store(ws) as store:
        sentence = doc.sentences[-1]
        store.add(doc, sentence.start, sentence.end, "claim", note=f"see {HOSTILE} here")
    return doc_id


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _assert_safe(text: str, *, terminal: bool = False) -> None:
    if terminal:
        text = SGR.sub("", text)
    for char in RAW:
        assert char not in text, (char, text[:2000])


COMMANDS = [
    ("docs",),
    ("search", "zebra"),
    ("search", "zebrra"),  # did you mean
    ("tags", "list"),
    ("tags", "log"),
    ("info",),  # the corpus folder's name
    ("show", f"evil{HOSTILE}-missing"),  # an error naming the document
    ("search", f"title:{OSC_TITLE}("),  # a query syntax error quoting the query
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a)[:20])
@pytest.mark.parametrize("terminal", [False, True], ids=["piped", "terminal"])
def test_cli_output_escapes_control_characters(
    capsys, monkeypatch, hostile: Path, argv: tuple[str, ...], terminal: bool
) -> None:
    _tag_the_hostile_document(hostile)
    if terminal:
        monkeypatch.setattr(_common, "stdout_is_terminal", lambda: True)
        monkeypatch.setenv("FORCE_COLOR", "1")
        monkeypatch.setenv("COLUMNS", "160")
    capsys.readouterr()
    code, out, err = _run(capsys, *argv, "--corpus", str(hostile))
    assert code in (0, 1)
    _assert_safe(out, terminal=terminal)
    _assert_safe(err, terminal=terminal)
    if argv != ("tags", "log"):  # the log names no document
        assert "\\x1b" in out + err  # the attack is shown, escaped


def test_names_titles_notes_and_skipped_paths_are_shown_escaped(capsys, hostile: Path) -> None:
    _tag_the_hostile_document(hostile)
    capsys.readouterr()
    _code, out, err = _run(capsys, "docs", "--corpus", str(hostile))
    assert "evil\\x1b]0;pwned\\x07\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J\\x9b2J\\u202e\\u2066.md" in out
    assert "skip\\x1b]0;pwned\\x07.bin" in err  # the skipped file (piped: on stderr)
    _code, out, _ = _run(capsys, "tags", "list", "--corpus", str(hostile))
    note = [line for line in out.splitlines() if line.startswith(tuple("0123456789abcdef"))]
    assert len(note) == 1 and "evil\\x1b]0;pwned" in note[0]
    assert "\x1b" not in note[0] and "\u202e" not in note[0]
    _code, out, _ = _run(capsys, "search", "zebra", "--corpus", str(hostile))
    assert "evil\\x1b]0;pwned" in out and out.startswith("1 document for 'zebra'")


def test_piped_tables_are_tab_separated_lines(capsys, hostile: Path) -> None:
    _tag_the_hostile_document(hostile)
    capsys.readouterr()
    _code, out, err = _run(capsys, "docs", "--corpus", str(hostile))
    lines = out.splitlines()
    header = lines[0].split("\t")
    assert header[:4] == ["id", "lang", "date", "title"]
    rows = [line.split("\t") for line in lines[1:]]  # every line of stdout is a row
    assert len(rows) == 5 and all(len(row) == len(header) for row in rows)
    assert "skipped" in err
    assert not any("│" in line or "─" in line for line in lines)  # no table drawing
    long_title = max(rows, key=lambda row: len(row[3]))[3]
    assert long_title in {r[3] for r in rows} and len(lines[1]) > 0  # one line per document
    _code, out, _ = _run(capsys, "tags", "list", "--corpus", str(hostile))
    header, *rows = (line.split("\t") for line in out.splitlines())
    assert {"id", "document", "lang", "span", "passage", "note"} <= set(header)
    assert len(rows) == 1 and len(rows[0]) == len(header)
    assert rows[0][header.index("note")].startswith("see ]0;pwned")  # cleaned when stored


def test_piped_long_lines_are_not_wrapped(capsys, corpus_dir: Path) -> None:
    long_title = ("Wombats " * 9).strip()
    (corpus_dir / "long.md").write_text(f"# {long_title}\n\nWombats dig.\n", encoding="utf-8")
    _code, out, _ = _run(capsys, "docs", "--corpus", str(corpus_dir))
    (line,) = [line for line in out.splitlines() if long_title in line]
    assert len(line) > 80 and line.startswith("long.md\t")
    _code, out, _ = _run(capsys, "search", "wombats", "--corpus", str(corpus_dir))
    (line,) = [line for line in out.splitlines() if line.startswith("1. ")]
    assert len(line) > 80 and long_title in line and "long.md" in line


def test_print_table_on_a_terminal_is_a_table(capsys, monkeypatch) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="t")
    table.add_column("a")
    table.add_column("b")
    table.add_row(Text("x\ty"), "z\nw")
    _common.print_table(table)
    out = capsys.readouterr()[0]
    assert out == "a\tb\nx\\x09y\tz\\x0aw\n"  # tabs and newlines inside values escaped
    monkeypatch.setattr(_common, "stdout_is_terminal", lambda: True)
    _common.print_table(table)
    out = capsys.readouterr()[0]
    assert "┃" in out or "│" in out


def test_json_output_holds_no_raw_controls_and_parses_back(capsys, hostile: Path) -> None:
    _code, out, _ = _run(capsys, "search", "zebra", "--json", "--corpus", str(hostile))
    for char in RAW:
        assert char not in out
    import json

    (hit,) = json.loads(out)["hits"]
    assert hit["id"] == f"evil{HOSTILE}.md"  # the same value once parsed
    assert BIDI in hit["title"]


def test_piped_messages_of_every_command_are_not_wrapped(
    capsys, workspace: Workspace, tiny_argosmodel: Path
) -> None:
    """Every command's messages, not only the tables: a path cut at 80 columns breaks scripts."""
    where = ("--corpus", str(workspace.corpus_root), "--data-dir", str(workspace.data_dir))
    capsys.readouterr()
    code, out, err = _run(capsys, "models", "install", str(tiny_argosmodel), *where)
    assert code == 0, err
    (line,) = out.splitlines()
    assert line.startswith("Installed French → English") and line.endswith("translate-fr_en-0_1")
    code, out, err = _run(capsys, "translate", "--all", *where)
    assert code == 0, err
    assert any(line.endswith("the rest from the cache.") for line in err.splitlines()), err
    code, out, err = _run(capsys, "index", *where)
    assert code == 0 and len(out.splitlines()) == 1, out


def test_output_cut_short_by_the_reader_of_a_pipe_exits_0(corpus_dir: Path) -> None:
    """`reader search x | head -1`: the reader goes away; rich turned that into exit 1."""
    import subprocess
    import sys

    for i in range(60):
        (corpus_dir / f"w{i}.md").write_text(f"# Wombat {i}\n\n" + "Wombats dig. " * 400)
    argv = [sys.executable, "-m", "reader", "search", "wombats", "--limit", "60"]
    proc = subprocess.Popen(
        [*argv, "--corpus", str(corpus_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith("60 documents for 'wombats'")
    proc.stdout.close()  # as `head -1` does
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0, err
    assert "Traceback" not in err


@pytest.mark.parametrize("fmt", ["json", "jsonl", "w3c", "claimreview"])
def test_json_exports_to_stdout_hold_no_raw_controls(capsys, hostile: Path, fmt: str) -> None:
    """A JSON export shown on a terminal cannot drive it: C1 controls (an 8-bit CSI) and bidi
    controls are written as \\u escapes, as `--json` does (the parsed values are the same)."""
    import json

    doc_id = _tag_the_hostile_document(hostile)
    capsys.readouterr()
    code, out, err = _run(capsys, "export", "--format", fmt, "--corpus", str(hostile))
    assert code == 0, err
    _assert_safe(out)
    if fmt == "json":
        assert json.loads(out)["annotations"][0]["doc_id"] == doc_id  # the same value


@pytest.mark.parametrize("terminal", [False, True], ids=["piped", "terminal"])
def test_csv_export_to_stdout(capsys, monkeypatch, hostile: Path, terminal: bool) -> None:
    """CSV has no escapes: piped, the values are exact; on a terminal they are shown escaped."""
    import csv
    import io
    import sys

    doc_id = _tag_the_hostile_document(hostile)
    capsys.readouterr()
    if terminal:
        monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, out, err = _run(capsys, "export", "--format", "csv", "--corpus", str(hostile))
    assert code == 0, err
    (row,) = csv.DictReader(io.StringIO(out.lstrip("\ufeff")))
    if terminal:
        _assert_safe(out)
        assert row["doc_id"] == _common.printable(doc_id)
    else:
        assert row["doc_id"] == doc_id
