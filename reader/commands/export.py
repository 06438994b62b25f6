"""`reader export`: the tags as Markdown, CSV, JSON, JSONL, W3C Web Annotation or REFI-QDA."""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from reader.commands._common import (
    add_corpus_options,
    console,
    json_safe,
    stdout_is_terminal,
    workspace,
)
from reader.core.documents import corpus_of
from reader.core.errors import ReaderError
from reader.core.exchange.export import FORMATS
from reader.core.exchange.records import tag_kinds


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "export",
        help=f"export the tags ({', '.join(FORMATS)})",
        description="Export the tags with their passages, documents, notes, links and cached "
        "translations. Without -o the export goes to stdout (qdpx needs -o: it is a zip). "
        "Files are written to a temporary file and renamed, so nothing partial is left; "
        "an existing file is replaced only with --force.",
    )
    parser.add_argument("--format", required=True, choices=FORMATS, help="the format")
    parser.add_argument("-o", "--output", metavar="PATH", help="the file to write")
    parser.add_argument("--force", action="store_true", help="replace an existing file")
    parser.add_argument("--tag", choices=tag_kinds(), help="only this kind")
    parser.add_argument("--doc", metavar="ID", help="only this document")
    parser.add_argument("--lang", metavar="L", help="only documents in this language")
    add_corpus_options(parser)
    parser.set_defaults(func=run)


JSON_FORMATS = ("json", "jsonl", "w3c", "claimreview")


def _doc_id(ws, name: str) -> str:
    """The document's id; a removed document still counts when it has (orphaned) tags."""
    try:
        return corpus_of(ws).resolve_id(name)
    except ReaderError:
        from reader.core.exchange.records import open_store

        with open_store(ws) as store:
            if store.list(doc_id=name):
                return name
        raise


def run(args: argparse.Namespace) -> int:
    from reader.core.display import printable
    from reader.core.exchange.export import export

    ws = workspace(args)
    if args.format == "qdpx" and not args.output:
        raise ReaderError("the qdpx format is a zip file: give a path with -o PATH")
    out = Path(args.output) if args.output else None
    if out is not None and out.exists() and not args.force:
        raise ReaderError(f"{printable(str(out))} exists; give --force to replace it")
    corpus_of(ws).scan()  # so the documents' text and metadata are current
    doc_id = _doc_id(ws, args.doc) if args.doc is not None else None
    stream = io.StringIO() if out is None else None
    written = export(
        ws, args.format, out=out, tag=args.tag, doc_id=doc_id, lang=args.lang,
        stream=stream, force=args.force,
    )  # fmt: skip
    if stream is not None:  # to stdout, perhaps a terminal: nothing may drive it
        text = stream.getvalue()
        if args.format in JSON_FORMATS:
            text = json_safe(text)  # the same values
        elif stdout_is_terminal():  # CSV has no escapes: shown escaped, exact when piped
            text = printable(text, keep="\n\t\r")
        sys.stdout.write(text)
    if written is not None:
        from rich.text import Text

        console(stderr=True).print(Text(f"wrote {printable(str(written))}"))
    return 0
