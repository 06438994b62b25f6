"""`reader import FILE`: bring tags back from our exports or in from other tools' files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reader.commands._common import add_corpus_options, workspace
from reader.core.documents import corpus_of


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "import",
        help="import tags (our json, jsonl, csv, w3c, qdpx or claimreview exports; other "
        "tools' W3C annotations, Hypothesis exports, QDA projects, fact checks)",
        description="Import tags from FILE: a json, jsonl, csv (also as a spreadsheet saves it "
        "again), W3C Web Annotation, .qdpx or ClaimReview export of reader; another tool's W3C "
        "annotations or Hypothesis export (a comment without our kinds becomes context); a "
        "REFI-QDA .qdpx project from a QDA tool; schema.org ClaimReview JSON-LD, also embedded "
        "in a fact-check page's HTML (claims with their verdicts). Documents are matched by "
        "content (sha256), then id, URL or file name, then the passage's text; passages are "
        "re-anchored by their quotes. Importing the same file again adds nothing. The import "
        "is one event in the tag log and one undo. Prints: imported N, already present N, "
        "orphaned N, skipped N (reason).",
    )
    parser.add_argument("file", metavar="FILE", help="the file to import")
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would be imported; write nothing"
    )
    add_corpus_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reader.core.display import printable
    from reader.core.exchange.importer import import_file

    ws = workspace(args)
    corpus_of(ws).scan()  # match against the documents as they are now
    report = import_file(ws, Path(args.file), dry_run=args.dry_run)
    print(printable(report.line()))
    if args.dry_run:
        print("dry run: nothing was written", file=sys.stderr)
    return 0
