"""Helpers shared by the subcommands: common options, the workspace, JSON output."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from reader.core.display import printable
from reader.core.workspace import Workspace


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
    """Print `data` as pretty UTF-8 JSON on stdout."""
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
