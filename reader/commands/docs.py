"""`reader docs`: the documents of a corpus and the files it skipped; `docs set|unset`
correct a document's metadata."""

from __future__ import annotations

import argparse

from reader.commands._common import (
    add_corpus_options,
    console,
    print_json,
    print_table,
    stdout_is_terminal,
    workspace,
)
from reader.core.display import printable
from reader.core.documents import corpus_of
from reader.core.errors import ReaderError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "docs",
        help="list the documents of a corpus, or correct their metadata",
        description="List the documents of a corpus, with their metadata, and the files that "
        "were skipped and why. `docs set` and `docs unset` correct a document's language, "
        "title, date, URL, outlet or author; corrections are kept in the workspace.",
    )
    add_corpus_options(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)
    actions = parser.add_subparsers(dest="action", metavar="{set,unset}")
    setter = actions.add_parser(
        "set",
        help="correct a document's metadata",
        description="Correct a document's metadata. The correction takes effect at once in "
        "the index, search, translation and exports, and survives rescans.",
    )
    _sub_corpus_options(setter)
    setter.add_argument("doc", metavar="DOC_ID", help="a document id, unique prefix or path")
    setter.add_argument("--lang", help="ISO 639-1 language code, e.g. en")
    setter.add_argument("--title")
    setter.add_argument("--date", help="YYYY-MM-DD")
    setter.add_argument("--url", help="the source's http(s) URL")
    setter.add_argument("--site", help="the outlet")
    setter.add_argument("--author")
    setter.set_defaults(func=run_set)
    unsetter = actions.add_parser(
        "unset",
        help="remove corrections",
        description="Remove corrections of a document: FIELD is lang, title, date, url, site "
        "or author; the values found in the file apply again.",
    )
    _sub_corpus_options(unsetter)
    unsetter.add_argument("doc", metavar="DOC_ID", help="a document id, unique prefix or path")
    unsetter.add_argument("fields", metavar="FIELD", nargs="+")
    unsetter.set_defaults(func=run_unset)


def _sub_corpus_options(parser: argparse.ArgumentParser) -> None:
    """`--corpus`/`--data-dir` after the action too, without hiding those given before it."""
    add_corpus_options(parser)
    for action in parser._actions:
        if action.dest in ("corpus", "data_dir"):
            action.default = argparse.SUPPRESS


def _lang(doc) -> str:
    return f"{doc.lang}?" if doc.lang_uncertain else doc.lang


def run(args: argparse.Namespace) -> int:
    result = corpus_of(workspace(args)).scan()
    if args.json:
        print_json(
            {
                "documents": [doc.to_json() for doc in result.documents],
                "skipped": [skip.to_json() for skip in result.skipped],
            }
        )
        return 0
    from rich.table import Table
    from rich.text import Text

    out = console()
    table = Table(title=f"{len(result.documents)} documents", title_justify="left")
    table.add_column("id", no_wrap=True, max_width=28)
    for name in ("lang", "date"):
        table.add_column(name, no_wrap=True)
    table.add_column("title", ratio=1)
    for name in ("¶", "sentences"):
        table.add_column(name, justify="right", no_wrap=True)
    for doc in result.documents:
        table.add_row(
            Text(printable(doc.id)),
            Text(_lang(doc)),
            Text(printable(doc.date or "—")),
            Text(printable(doc.title)),
            str(doc.paragraphs),
            str(doc.sentences),
        )
    print_table(table, out)
    if not stdout_is_terminal():  # piped: stdout holds the rows only; the notes go to stderr
        out = console(stderr=True)
    if any(doc.lang_uncertain for doc in result.documents):
        out.print(
            Text("lang? : the language is uncertain; correct it with `reader docs set ID --lang`")
        )
    for skip in result.skipped:
        out.print(
            Text.assemble(
                ("skipped ", "yellow"), printable(str(skip.path)), ": ", printable(skip.reason)
            )
        )
    return 0


def _report(doc, fields) -> None:
    from reader.core.documents.corrections import FIELDS

    values = {name: getattr(doc, name) for name in FIELDS}
    shown = ", ".join(f"{k}={printable(str(v))}" for k, v in values.items() if k in fields)
    print(f"{printable(doc.id)}: {shown or 'no corrections'}")


def run_set(args: argparse.Namespace) -> int:
    from reader.core.documents.corrections import FIELDS, correct

    values = {f: getattr(args, f) for f in FIELDS if getattr(args, f) is not None}
    if not values:
        raise ReaderError("docs set: give at least one of --" + ", --".join(FIELDS))
    ws = workspace(args)
    doc = correct(ws, corpus_of(ws).resolve_id(args.doc), values)
    _report(doc, values)
    return 0


def run_unset(args: argparse.Namespace) -> int:
    from reader.core.documents.corrections import correct

    ws = workspace(args)
    doc = correct(ws, corpus_of(ws).resolve_id(args.doc), {}, tuple(args.fields))
    _report(doc, args.fields)
    return 0
