"""`reader translate`: a document's translation, sentence by sentence, from the cache or a model."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from reader.commands._common import add_corpus_options, console, print_json, workspace
from reader.core.display import printable
from reader.core.documents import corpus_of
from reader.core.errors import ReaderError

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console

    from reader.core.translation.service import ParagraphTranslation


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "translate",
        help="translate a document offline, sentence by sentence",
        description="Translate a document with the installed models (offline), printing each "
        "source sentence and its translation. Translations are cached.",
    )
    parser.add_argument(
        "doc_id", nargs="?", metavar="DOC_ID", help="the document (see `reader docs`)"
    )
    add_corpus_options(parser)
    parser.add_argument("--to", metavar="LANG", help="target language (default: the setting, en)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--clear-cache",
        action="store_true",
        help="empty the translation cache (then translate DOC_ID, if given)",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="translate every document into the cache (only what is not cached yet; "
        "an interrupted run resumes)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from reader.core.translation.service import (
        SameLanguage,
        clear_cache,
        language_name,
        translate_document,
    )

    ws = workspace(args)
    err = console(stderr=True)
    if args.clear_cache:
        count = clear_cache(ws)
        err.print(f"Cleared the translation cache ({count} sentences).", markup=False)
        if not args.doc_id and not args.all:
            return 0
    if args.all:
        return _run_all(ws, args, err)
    if not args.doc_id:
        raise ReaderError("give a DOC_ID to translate (see `reader docs`), or --clear-cache")
    doc = corpus_of(ws).load(corpus_of(ws).resolve_id(args.doc_id))
    out = console()
    printer = None if args.json else _printer(out)
    try:
        result = translate_document(ws, doc, args.to, on_paragraph=printer)
    except SameLanguage as exc:
        err.print(printable(str(exc)), markup=False)
        if args.json:
            print_json(
                {"doc": doc.id, "from": doc.lang, "to": exc.lang, "model": None, "paragraphs": []}
            )
        return 0
    if args.json:
        print_json(result.to_json())
    else:
        cached = sum(s.cached for s in result.sentences)
        err.print(
            f"{printable(doc.id)}: {language_name(result.from_code)} → "
            f"{language_name(result.to_code)} "
            f"with {result.model}; {len(result.sentences)} sentences, {cached} from the cache.",
            markup=False,
        )
    sys.stdout.flush()
    return 0


def _printer(console: Console) -> Callable[[ParagraphTranslation, int, int], None]:
    """Print each paragraph as it is translated: source (dim), then its translation."""
    from rich.text import Text

    def show(paragraph: ParagraphTranslation, done: int, total: int) -> None:
        if done > 1:
            console.print()
        for sentence in paragraph.sentences:
            console.print(Text(printable(sentence.source), style="dim"))
            console.print(Text("  " + printable(sentence.translation or "")))

    return show


def _run_all(ws, args: argparse.Namespace, err: Console) -> int:
    """`translate --all`: the whole corpus into the cache, with progress on stderr."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from reader.core.translation.service import translate_all

    if args.doc_id:
        raise ReaderError("give either DOC_ID or --all, not both")
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True, disable=args.json) as bar:
        task = bar.add_task("translating sentences", total=None)
        report = translate_all(
            ws, args.to, progress=lambda done, total: bar.update(task, completed=done, total=total)
        )
    if report.updated:  # their translations are searchable (mt_<lang>) from now on
        from reader.core.search import refresh_documents

        refresh_documents(ws, [corpus_of(ws).load(doc_id) for doc_id in report.updated])
    for pair, doc_ids in sorted(report.missing.items()):
        source, target = pair.split("->")
        err.print(
            f"no model for {pair} ({len(doc_ids)} documents): "
            f"`reader models install {source} {target}`",
            markup=False,
        )
    if report.cancelled:
        err.print(
            f"interrupted: {report.translated} sentences translated and kept; "
            "run `reader translate --all` again to go on",
            markup=False,
        )
        return 130
    if args.json:
        print_json(
            {
                "documents": report.documents,
                "sentences": report.sentences,
                "translated": report.translated,
                "missing": {pair: len(ids) for pair, ids in sorted(report.missing.items())},
            }
        )
    else:
        err.print(
            f"{report.documents} documents, {report.sentences} sentences with a model: "
            f"{report.translated} translated now, the rest from the cache.",
            markup=False,
        )
    return 0
