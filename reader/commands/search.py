"""`reader search QUERY`: ranked hits with highlighted snippets (or `--json`)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from reader.commands._common import add_corpus_options, console, print_json, workspace

if TYPE_CHECKING:
    from reader.core.workspace import Workspace


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "search",
        help="full-text search the corpus",
        description="Search the corpus. Syntax: words (AND by default), OR, NOT, -word "
        '(excluded), +word (required), "a phrase", a hyphenated-word (a phrase), prefix*, '
        "fuzzy~, lang:fr, author:name, tag:claim, date:2025 (or date:2025-11, or "
        "date:[2025-01-01 TO 2025-03-31]). A query that finds nothing is retried with its "
        "unknown words respelled (did you mean). "
        "Put a query that starts with '-' after `--`.",
    )
    parser.add_argument("query", metavar="QUERY", help="the query")
    add_corpus_options(parser)
    parser.add_argument("--limit", type=_positive, default=20, metavar="N", help="hits (20)")
    parser.add_argument(
        "--offset", type=_not_negative, default=0, metavar="N", help="skip the first N hits"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--cross",
        action="store_true",
        help="also search the other languages: the query translated into each (installed "
        "models, through English if needed) and the documents' machine translations",
    )
    parser.add_argument(
        "--from",
        dest="from_lang",
        metavar="LANG",
        type=_language,
        help="with --cross: the query's language (default: detected when the query is long "
        "enough, else the query_lang setting)",
    )
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


def _not_negative(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError("must be at least 0")
    return number


def _language(value: str) -> str:
    """--from: an ISO 639-1 code (en, fr, de, ...), as document languages are."""
    from reader.core.display import printable
    from reader.core.documents.corrections import ISO_639_1

    code = value.strip().lower()
    if code not in ISO_639_1:
        raise argparse.ArgumentTypeError(
            f"'{printable(value)}' is not a language code; use ISO 639-1, e.g. en, fr, de"
        )
    return code


def run(args: argparse.Namespace) -> int:
    from rich.text import Text

    from reader.core.display import printable
    from reader.core.search import search

    ws = workspace(args)
    err = console(stderr=True)
    if args.from_lang and not args.cross:
        err.print(Text("reader: warning: --from only applies with --cross; searched as typed"))
    result = search(
        ws,
        args.query,
        limit=args.limit,
        offset=args.offset,
        update_first=not args.no_update,
        cross=args.cross,
        from_lang=args.from_lang,
    )
    if result.missing_models:
        err.print(Text(printable(missing_models_hint(ws, result.missing_models)), style="yellow"))
    if result.notice:
        err.print(Text(f"reader: notice: {printable(result.notice)}", style="yellow"))
    if result.error:
        message = f"query syntax: {printable(result.error)}; searched the plain words instead"
        err.print(Text(message, "yellow"))
    if args.json:
        print_json(result.to_json())
        return 0
    out = console()
    facets = ", ".join(f"{lang} {n}" for lang, n in result.facets.get("lang", {}).items())
    shown = len(result.hits)
    header = Text.assemble(
        (f"{result.total} document{'s' if result.total != 1 else ''}", "bold"),
        f" for {printable(result.did_you_mean or result.query)!r}",
        f"  ({printable(facets)})" if facets else "",
    )
    if result.did_you_mean is not None:
        err.print(
            Text(
                f"nothing for {printable(result.query)!r}; did you mean "
                f"{printable(result.did_you_mean)!r}?",
                style="yellow",
            )
        )
    if shown and (result.offset or shown < result.total):
        first = result.offset + 1
        header.append(f"  showing {first}–{result.offset + shown} of {result.total}", "dim")
    out.print(header)
    for rank, hit in enumerate(result.hits, result.offset + 1):
        out.print()
        out.print(
            Text.assemble(
                (f"{rank}. ", "dim"),
                (printable(hit.title), "bold"),
                ("  ", ""),
                (
                    f"{printable(hit.id)} · {printable(hit.lang)} · "
                    f"{printable(hit.date or 'no date')} · {hit.score:.2f}",
                    "dim",
                ),
            )
        )
        if hit.via is not None:
            label = "via translation" if hit.via["field"] == "translation" else "via"
            lang, text = printable(hit.via["lang"]), printable(hit.via["text"])
            if not text:  # found in the index's machine translation, no longer in the cache
                text = "(no longer cached: `reader translate --all` shows it again)"
                out.print(Text(f"   {label} {lang} {text}", "italic"))
            else:
                out.print(Text(f"   {label} {lang}: {text}", "italic"))
        for snippet in hit.snippets:
            line = Text("   … ")
            line.append_text(_snippet_text(snippet))
            line.append(" …")
            out.print(line)
    return 0


def _snippet_text(snippet):
    """The snippet on one line as rich Text (data, not markup; control characters escaped)
    with its highlights in reverse bold."""
    from rich.text import Text

    from reader.core.display import printable

    def piece(start: int, end: int) -> str:
        part = snippet.text[start - snippet.start : end - snippet.start]
        return printable(part.replace("\n", " "))

    text = Text()
    pos = snippet.start
    for start, end in snippet.highlights:
        text.append(piece(pos, start))
        text.append(piece(start, end), "bold reverse")
        pos = end
    text.append(piece(pos, snippet.end))
    return text


def missing_models_hint(ws: Workspace, pairs: list[tuple[str, str]]) -> str:
    """One line naming the language pairs no model reaches, and the models to install."""
    from reader.core.search.cross import installs_for

    names = ", ".join(f"{a}→{b}" for a, b in pairs)
    commands = ", ".join(f"`reader models install {a} {b}`" for a, b in installs_for(ws, pairs))
    return (
        f"no translation model for {names}: those languages were searched without a "
        f"translated query; install with {commands}"
    )
