"""`reader show DOC_ID [--json]`: a document's clean text, with its paragraph and sentence
offsets in JSON."""

from __future__ import annotations

import argparse
import sys

from reader.commands._common import add_corpus_options, print_json, workspace
from reader.core.display import printable
from reader.core.documents import corpus_of
from reader.core.documents.model import Document


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "show",
        help="print a document's clean text",
        description="Print a document's clean text, as the reader segments, translates and "
        "tags it. With --json: the text plus the paragraph and sentence offsets "
        "(code points, end exclusive).",
    )
    parser.add_argument("doc", metavar="DOC_ID", help="a document id, path or unique id prefix")
    add_corpus_options(parser)
    parser.add_argument("--json", action="store_true", help="print JSON with the offsets")
    parser.set_defaults(func=run)


def to_json(doc: Document) -> dict:
    """`{"id", "text", "paragraphs": [{"start", "end", "sentences": [{"start", "end"}]}]}`."""
    return {
        "id": doc.id,
        "text": doc.text,
        "paragraphs": [
            {
                "start": p.start,
                "end": p.end,
                "sentences": [{"start": s.start, "end": s.end} for s in p.sentences],
            }
            for p in doc.paragraphs
        ],
    }


def run(args: argparse.Namespace) -> int:
    ws = workspace(args)
    doc = corpus_of(ws).load(corpus_of(ws).resolve_id(args.doc))
    if args.json:
        print_json(to_json(doc))
        return 0
    # The clean text has no control characters; bidi controls and any stray escape are
    # still shown as visible escapes, never sent to the terminal.
    sys.stdout.write(printable(doc.text, keep="\n\t") + "\n")
    return 0
