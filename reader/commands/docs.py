"""`reader docs`: the documents of a corpus and the files it skipped."""

from __future__ import annotations

import argparse

from reader.commands._common import add_corpus_options, print_json, workspace


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "docs",
        help="list the documents of a corpus",
        description="List the documents of a "
        "corpus, with their metadata, and the files that were skipped and why.",
    )
    add_corpus_options(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = workspace(args).corpus.scan()
    if args.json:
        print_json(
            {
                "documents": [doc.to_json() for doc in result.documents],
                "skipped": [skip.to_json() for skip in result.skipped],
            }
        )
        return 0
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    table = Table(title=f"{len(result.documents)} documents", title_justify="left")
    table.add_column("id", no_wrap=True, max_width=28)
    for name in ("lang", "date"):
        table.add_column(name, no_wrap=True)
    table.add_column("title", ratio=1)
    for name in ("¶", "sentences"):
        table.add_column(name, justify="right", no_wrap=True)
    for doc in result.documents:
        table.add_row(
            Text(doc.id),
            Text(doc.lang),
            Text(doc.date or "—"),
            Text(doc.title),
            str(doc.paragraphs),
            str(doc.sentences),
        )
    console.print(table)
    for skip in result.skipped:
        console.print(Text.assemble(("skipped ", "yellow"), str(skip.path), ": ", skip.reason))
    return 0
