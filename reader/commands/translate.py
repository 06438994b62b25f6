"""`reader translate`: a document's translation, sentence by sentence, from the cache or a model."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from reader.commands._common import add_corpus_options, print_json, workspace
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
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from reader.core.translation.service import (
        SameLanguage,
        clear_cache,
        language_name,
        translate_document,
    )

    ws = workspace(args)
    err = Console(stderr=True, highlight=False)
    if args.clear_cache:
        count = clear_cache(ws)
        err.print(f"Cleared the translation cache ({count} sentences).", markup=False)
        if not args.doc_id:
            return 0
    if not args.doc_id:
        raise ReaderError("give a DOC_ID to translate (see `reader docs`), or --clear-cache")
    doc = ws.corpus.load(ws.corpus.resolve_id(args.doc_id))
    out = Console(highlight=False)
    printer = None if args.json else _printer(out)
    try:
        result = translate_document(ws, doc, args.to, on_paragraph=printer)
    except SameLanguage as exc:
        err.print(str(exc), markup=False)
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
            f"{doc.id}: {language_name(result.from_code)} → {language_name(result.to_code)} "
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
            console.print(Text(sentence.source, style="dim"))
            console.print(Text("  " + (sentence.translation or "")))

    return show
