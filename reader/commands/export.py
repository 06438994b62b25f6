"""`reader export`: the tags as Markdown, CSV, JSON, JSONL, W3C Web Annotation or REFI-QDA."""

from __future__ import annotations

import argparse
from contextlib import suppress
from pathlib import Path

from reader.commands._common import add_corpus_options, workspace
from reader.core.errors import ReaderError
from reader.core.exchange.export import FORMATS
from reader.core.tags.annotations import TAGS


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "export",
        help="export the tags (md, csv, json, jsonl, w3c, qdpx)",
        description="Export the tags with their passages, documents, notes, links and cached "
        "translations. Without -o the export goes to stdout (qdpx needs -o: it is a zip). "
        "Files are written to a temporary file and renamed, so nothing partial is left.",
    )
    parser.add_argument("--format", required=True, choices=FORMATS, help="the format")
    parser.add_argument("-o", "--output", metavar="PATH", help="the file to write")
    parser.add_argument("--tag", choices=TAGS, help="only this kind")
    parser.add_argument("--doc", metavar="ID", help="only this document")
    parser.add_argument("--lang", metavar="L", help="only documents in this language")
    add_corpus_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reader.core.exchange.export import export

    ws = workspace(args)
    if args.format == "qdpx" and not args.output:
        raise ReaderError("the qdpx format is a zip file: give a path with -o PATH")
    ws.corpus.scan()  # so re-anchoring sees files changed since the last scan
    doc_id = args.doc
    if doc_id is not None:
        with suppress(ReaderError):  # a document that is gone may still have (orphaned) tags
            doc_id = ws.corpus.resolve_id(doc_id)
    out = Path(args.output) if args.output else None
    written = export(ws, args.format, out=out, tag=args.tag, doc_id=doc_id, lang=args.lang)
    if written is not None:
        from rich.console import Console
        from rich.text import Text

        Console(stderr=True, highlight=False).print(Text(f"wrote {written}"))
    return 0
