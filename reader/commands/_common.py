"""Helpers shared by the subcommands: common options, the workspace, JSON output."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from reader.core.workspace import Workspace


def add_corpus_options(parser: argparse.ArgumentParser) -> None:
    """`--corpus PATH` and `--data-dir DIR`, shared by every subcommand."""
    parser.add_argument(
        "--corpus", metavar="PATH", help="the corpus folder (default: the bundled corpus)"
    )
    parser.add_argument("--data-dir", metavar="DIR", help="where the index, tags and caches live")


def workspace(args: argparse.Namespace) -> Workspace:
    """The workspace named by `--corpus` and `--data-dir`."""
    return Workspace.open(getattr(args, "corpus", None), getattr(args, "data_dir", None))


def print_json(data: Any) -> None:
    """Print `data` as pretty UTF-8 JSON on stdout."""
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
