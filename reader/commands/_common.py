"""Helpers shared by the subcommands: common options, the workspace, JSON output, terminal-safe
human-readable output (rich consoles that do not wrap piped lines, tables that become
tab-separated lines when stdout is not a terminal)."""

from __future__ import annotations

import argparse
import errno
import json
import re
import sys
from typing import TYPE_CHECKING, Any

from reader.core.display import BIDI_CONTROLS, printable
from reader.core.workspace import Workspace

_JSON_UNSAFE = re.compile(f"[\x7f-\x9f{BIDI_CONTROLS}]")  # raw in JSON text, but not safe

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


def add_corpus_options(parser: argparse.ArgumentParser) -> None:
    """`--corpus PATH` and `--data-dir DIR`, shared by every subcommand."""
    parser.add_argument(
        "--corpus", metavar="PATH", help="the corpus folder (default: the bundled corpus)"
    )
    parser.add_argument("--data-dir", metavar="DIR", help="where the index, tags and caches live")
    add_tags_db_option(parser)


def add_tags_db_option(parser: argparse.ArgumentParser) -> None:
    """`--tags-db URL`: the tag store (a PostgreSQL URL; default: the settings, else SQLite)."""
    parser.add_argument(
        "--tags-db",
        metavar="URL",
        help="the tag store: postgresql://user@host/db shares tags with a team "
        "(default: $READER_TAGS_DB, the tags_db setting, else the local SQLite store)",
    )


def workspace(args: argparse.Namespace) -> Workspace:
    """The workspace named by `--corpus`, `--data-dir` and `--tags-db`; settings problems are
    printed as warnings on stderr."""
    ws = Workspace.open(
        getattr(args, "corpus", None),
        getattr(args, "data_dir", None),
        tags_db=getattr(args, "tags_db", None),
    )
    warn_settings(ws)
    return ws


def warn_settings(ws: Workspace) -> None:
    """Print each problem of the settings files (file, key, what was wrong) on stderr."""
    for problem in ws.settings.problems:
        print(f"reader: warning: {printable(problem)}", file=sys.stderr)


def print_json(data: Any) -> None:
    """Print `data` as pretty UTF-8 JSON on stdout. JSON escapes C0 controls itself; DEL, C1
    controls (an 8-bit CSI) and bidi controls are written as `\\uXXXX` escapes too, so JSON
    shown on a terminal cannot drive it either (the parsed values are the same)."""
    sys.stdout.write(json_safe(json.dumps(data, ensure_ascii=False, indent=2)) + "\n")


def json_safe(text: str) -> str:
    """JSON text with DEL, C1 and bidi controls written as `\\uXXXX` escapes (C0 controls
    are escaped by JSON itself): the same values, nothing that drives a terminal."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def stdout_is_terminal() -> bool:
    """Whether stdout is a terminal (else: a pipe or a file, which get plain lines)."""
    return sys.stdout.isatty()


def console(*, stderr: bool = False) -> Console:
    """A rich console for human-readable output: no highlighting; when the stream is not a
    terminal, long lines are not wrapped at 80 columns. Print `rich.text.Text` with the
    values passed through `printable`, never markup built from data. When the reader of a
    pipe goes away (`reader search x | head -1`) the command ends as `main` ends it (exit 0),
    not with rich's exit 1."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            try:
                super().on_broken_pipe()  # stdout to /dev/null, so the exit flush cannot fail
            except SystemExit:
                raise BrokenPipeError(errno.EPIPE, "the output's reader went away") from None

    stream = sys.stderr if stderr else sys.stdout
    return _Console(stderr=stderr, highlight=False, soft_wrap=not stream.isatty())


def print_table(table: Table, out: Console | None = None) -> None:
    """`table` as a rich table on a terminal; otherwise as tab-separated lines (a header line,
    then one line per row, no title), every value escaped by `printable`, tabs and newlines
    included, so that each row stays one line with one tab between fields."""
    if stdout_is_terminal():
        (out or console()).print(table)
        return
    from rich.text import Text

    def plain(cell: Any) -> str:
        text = cell.plain if isinstance(cell, Text) else str(cell)
        return printable(text)

    columns = table.columns
    lines = ["\t".join(plain(c.header) for c in columns)]
    lines.extend(
        "\t".join(plain(cell) for cell in row)
        for row in zip(*(c.cells for c in columns), strict=True)
    )
    sys.stdout.write("\n".join(lines) + "\n")
