"""`reader search QUERY`: ranked hits with highlighted snippets (or `--json`)."""

from __future__ import annotations

import argparse

from reader.commands._common import add_corpus_options, print_json, workspace


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "search",
        help="full-text search the corpus",
        description="Search the corpus. Syntax: words (AND by default), OR, NOT, "
        '"a phrase", prefix*, fuzzy~, lang:fr, author:name, tag:claim, '
        "date:[2025-01-01 TO 2025-12-31]. Put a query that starts with '-' after `--`.",
    )
    parser.add_argument("query", metavar="QUERY", help="the query")
    add_corpus_options(parser)
    parser.add_argument("--limit", type=_positive, default=20, metavar="N", help="hits (20)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--no-update",
        action="store_true",
        help="search the index as it is, without first indexing changed files",
    )
    parser.set_defaults(func=run)


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.text import Text

    from reader.core.search.api import search
    from reader.core.search.whoosh.index import IndexLocked, index_exists, update_index

    ws = workspace(args)
    err = Console(stderr=True, highlight=False)
    if not args.no_update and index_exists(ws):
        try:
            stats = update_index(ws)
        except IndexLocked as exc:
            err.print(Text(f"note: searching the index as it is: {exc}", style="yellow"))
        else:
            if stats.notice:
                err.print(Text(f"notice: {stats.notice}", style="yellow"))
    result = search(ws, args.query, limit=args.limit)
    if result.notice:
        err.print(Text(f"notice: {result.notice}", style="yellow"))
    if result.error:
        err.print(Text(f"query syntax: {result.error}; searched the plain words instead", "yellow"))
    if args.json:
        print_json(result.to_json())
        return 0
    console = Console(highlight=False)
    facets = ", ".join(f"{lang} {n}" for lang, n in result.facets.get("lang", {}).items())
    console.print(
        Text.assemble(
            (f"{result.total} document{'s' if result.total != 1 else ''}", "bold"),
            f" for {result.query!r}",
            f"  ({facets})" if facets else "",
        )
    )
    for rank, hit in enumerate(result.hits, 1):
        console.print()
        console.print(
            Text.assemble(
                (f"{rank}. ", "dim"),
                (hit.title, "bold"),
                ("  ", ""),
                (f"{hit.id} · {hit.lang} · {hit.date or 'no date'} · {hit.score:.2f}", "dim"),
            )
        )
        for snippet in hit.snippets:
            line = Text("   … ")
            line.append_text(_snippet_text(snippet))
            line.append(" …")
            console.print(line)
    return 0


def _snippet_text(snippet):
    """The snippet as rich Text (data, not markup) with its highlights in reverse bold."""
    from rich.text import Text

    text = Text(snippet.text.replace("\n", " "))
    for start, end in snippet.highlights:
        text.stylize("bold reverse", start - snippet.start, end - snippet.start)
    return text
