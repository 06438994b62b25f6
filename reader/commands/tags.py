"""`reader tags add|list|edit|remove|log`: tag passages as claim, rebuttal or context."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from contextlib import suppress

from reader.commands._common import add_corpus_options, print_json, workspace
from reader.core.errors import ReaderError
from reader.core.tags.anchoring import STATUSES, find_quote
from reader.core.tags.annotations import TAGS, Annotation, AnnotationStore
from reader.core.workspace import Workspace


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "tags",
        help="tag passages as claim, rebuttal or context; list, edit, remove tags",
        description="Tag passages of a document and manage the tags. Offsets are code points "
        "into the document's clean text (see `reader docs`). Tag ids may be shortened to a "
        "unique prefix.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = actions.add_parser(
        "add",
        help="tag a passage",
        description="Tag a passage, found by its text (--quote) or its offsets (--span).",
    )
    add.add_argument("doc", metavar="DOC_ID", help="the document (id, unique prefix or path)")
    where = add.add_mutually_exclusive_group(required=True)
    where.add_argument("--quote", metavar="TEXT", help="the passage's exact text")
    where.add_argument(
        "--span", nargs=2, type=int, metavar=("START", "END"), help="the passage's offsets"
    )
    add.add_argument(
        "--occurrence", type=int, metavar="N", help="with --quote: the Nth match (default 1)"
    )
    add.add_argument("--tag", required=True, choices=TAGS, help="the kind of tag")
    add.add_argument("--note", default="", metavar="TEXT", help="a note on the passage")
    add.add_argument(
        "--rebuts",
        action="append",
        default=[],
        metavar="ID",
        help="with --tag rebuttal: a claim it answers (repeatable)",
    )
    add.add_argument("--json", action="store_true", help="print the created tag as JSON")
    add_corpus_options(add)
    add.set_defaults(func=run_add)

    listing = actions.add_parser(
        "list",
        help="list tags",
        description="List tags, re-anchoring first those whose document changed.",
    )
    listing.add_argument("--tag", choices=TAGS, help="only this kind")
    listing.add_argument("--doc", metavar="ID", help="only this document")
    listing.add_argument("--lang", metavar="L", help="only documents in this language")
    listing.add_argument("--status", choices=STATUSES, help="only this status")
    listing.add_argument("--json", action="store_true", help="print JSON")
    add_corpus_options(listing)
    listing.set_defaults(func=run_list)

    edit = actions.add_parser("edit", help="change a tag's kind, note or rebutted claims")
    edit.add_argument("id", metavar="ID", help="the tag id (or a unique prefix)")
    edit.add_argument("--tag", choices=TAGS, help="the new kind")
    edit.add_argument("--note", metavar="TEXT", help="the new note ('' clears it)")
    edit.add_argument(
        "--rebuts",
        action="append",
        metavar="ID",
        help="the claims it answers, replacing the current links (repeatable)",
    )
    edit.add_argument("--json", action="store_true", help="print the tag as JSON")
    add_corpus_options(edit)
    edit.set_defaults(func=run_edit)

    remove = actions.add_parser(
        "remove", help="remove a tag", description="Remove a tag; the event log keeps it."
    )
    remove.add_argument("id", metavar="ID", help="the tag id (or a unique prefix)")
    remove.add_argument("--json", action="store_true", help="print the removed tag as JSON")
    add_corpus_options(remove)
    remove.set_defaults(func=run_remove)

    log = actions.add_parser(
        "log", help="show the event log", description="The append-only log of tag changes."
    )
    log.add_argument("id", metavar="ID", nargs="?", help="only this tag's events")
    log.add_argument("--limit", type=int, default=50, metavar="N", help="last N events (50)")
    log.add_argument("--json", action="store_true", help="print JSON")
    add_corpus_options(log)
    log.set_defaults(func=run_log)


# Helpers -----------------------------------------------------------------------------------
def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _reconciled(ws: Workspace, store: AnnotationStore) -> None:
    """Bring statuses up to date: rescan changed files, re-anchor, say what moved."""
    from rich.text import Text

    ws.corpus.scan()
    report = store.reconcile(ws.corpus)
    if report:
        parts = [
            f"{len(ids)} {label}"
            for ids, label in (
                (report.moved, "moved"),
                (report.reanchored, "re-anchored by fuzzy match"),
                (report.orphaned, "orphaned (kept; see --status orphaned)"),
            )
            if ids
        ]
        _console(stderr=True).print(Text("note: tags " + ", ".join(parts), style="yellow"))


def _short(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _rebutted(store: AnnotationStore, ids: Sequence[str], tag: str) -> list[str]:
    """Resolve `--rebuts` ids; they must be claims, and the tag a rebuttal."""
    if ids and tag != "rebuttal":
        raise ReaderError("--rebuts is for rebuttals: add --tag rebuttal")
    targets = []
    for given in ids:
        target = store.get(store.resolve_id(given))
        assert target is not None
        if target.tag != "claim":
            raise ReaderError(f"{given} is a {target.tag}, not a claim: a rebuttal answers claims")
        targets.append(target.id)
    return targets


def _print_one(verb: str, ann: Annotation) -> None:
    from rich.text import Text

    line = Text.assemble(
        f"{verb} ",
        (ann.tag, "bold"),
        f" {ann.id[:8]} in {ann.doc_id} [{ann.start}–{ann.end}] ",
        (f"“{_short(ann.exact)}”", "italic"),
    )
    if ann.note:
        line.append(f"  note: {_short(ann.note, 50)}")
    if ann.links:
        line.append("  links: " + ", ".join(link[:8] for link in ann.links))
    _console().print(line)


# Actions -----------------------------------------------------------------------------------
def run_add(args: argparse.Namespace) -> int:
    ws = workspace(args)
    doc = ws.corpus.load(ws.corpus.resolve_id(args.doc))
    if args.quote is not None:
        occurrence = 1 if args.occurrence is None else args.occurrence
        found = find_quote(doc.text, args.quote, occurrence)
        if found is None:
            first = find_quote(doc.text, args.quote)
            if first is not None:
                raise ReaderError(
                    f"the quote occurs {first[2]} times in {doc.id}; --occurrence {occurrence} "
                    "is out of range"
                )
            raise ReaderError(f"the quote is not in {doc.id}: {_short(args.quote, 60)!r}")
        start, end, matches = found
    else:
        if args.occurrence is not None:
            raise ReaderError("--occurrence goes with --quote, not --span")
        start, end = args.span
        matches = 1
        if not 0 <= start < end <= len(doc.text):
            raise ReaderError(
                f"--span {start} {end} is not inside {doc.id} (0–{len(doc.text)}, START < END)"
            )
    with AnnotationStore(ws) as store:
        links = _rebutted(store, args.rebuts, args.tag)
        ann = store.add(doc, start, end, args.tag, note=args.note, links=links)
    if args.json:
        print_json(ann.to_json())
        return 0
    _print_one("added", ann)
    if matches > 1 and args.occurrence is None:
        from rich.text import Text

        _console(stderr=True).print(
            Text(
                f"note: the quote occurs {matches} times; tagged the first "
                "(use --occurrence N for another)",
                style="yellow",
            )
        )
    return 0


def run_list(args: argparse.Namespace) -> int:
    ws = workspace(args)
    doc_id = args.doc
    if doc_id is not None:
        with suppress(ReaderError):  # a document that is gone may still have (orphaned) tags
            doc_id = ws.corpus.resolve_id(doc_id)
    with AnnotationStore(ws) as store:
        _reconciled(ws, store)
        found = store.list(tag=args.tag, doc_id=doc_id, lang=args.lang, status=args.status)
    if args.json:
        print_json([ann.to_json() for ann in found])
        return 0
    from rich.table import Table
    from rich.text import Text

    console = _console()
    if not found:
        console.print(Text("no tags" + (" match" if _filtered(args) else " yet")))
        return 0
    title = f"{len(found)} tag{'s' if len(found) != 1 else ''}"
    wide = console.width >= 110  # narrow terminals drop the language and span columns
    table = Table(title=title, title_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("document", no_wrap=True, max_width=18 if wide else 12, overflow="ellipsis")
    for name in ("lang", "tag", "status", "span") if wide else ("tag", "status"):
        table.add_column(name, no_wrap=True)
    table.add_column("passage", ratio=2)
    table.add_column("note", ratio=1)
    styles = {"moved": "yellow", "orphaned": "red", "anchored": ""}
    for ann in found:
        cells = [Text(ann.id[:8]), Text(ann.doc_id)]
        if wide:
            cells.append(Text(ann.lang))
        cells += [Text(ann.tag), Text(ann.status, style=styles.get(ann.status, ""))]
        if wide:
            cells.append(Text(f"{ann.start}–{ann.end}"))
        cells += [Text(_short(ann.exact, 120)), Text(_short(ann.note, 60))]
        table.add_row(*cells)
    console.print(table)
    return 0


def _filtered(args: argparse.Namespace) -> bool:
    return any(getattr(args, name) for name in ("tag", "doc", "lang", "status"))


def run_edit(args: argparse.Namespace) -> int:
    if args.tag is None and args.note is None and args.rebuts is None:
        raise ReaderError("nothing to change: give --tag, --note or --rebuts")
    ws = workspace(args)
    with AnnotationStore(ws) as store:
        ann_id = store.resolve_id(args.id)
        current = store.get(ann_id)
        assert current is not None
        links = None
        if args.rebuts is not None:
            links = _rebutted(store, args.rebuts, args.tag or current.tag)
        ann = store.edit(ann_id, tag=args.tag, note=args.note, links=links)
    if args.json:
        print_json(ann.to_json())
    else:
        _print_one("edited" if ann != current else "unchanged", ann)
    return 0


def run_remove(args: argparse.Namespace) -> int:
    ws = workspace(args)
    with AnnotationStore(ws) as store:
        ann = store.remove(store.resolve_id(args.id))
    if args.json:
        print_json(ann.to_json())
    else:
        _print_one("removed", ann)
    return 0


def run_log(args: argparse.Namespace) -> int:
    ws = workspace(args)
    with AnnotationStore(ws) as store:
        ann_id = None
        if args.id:
            try:
                ann_id = store.resolve_id(args.id)
            except ReaderError:
                ann_id = args.id  # a removed tag still has its events
        events = store.events(ann_id, limit=max(1, args.limit))
    if args.json:
        print_json([event.to_json() for event in events])
        return 0
    from rich.text import Text

    console = _console()
    if not events:
        console.print("no events")
    for event in events:
        console.print(
            Text.assemble((event.at, "dim"), f"  {event.author}  ", (event.kind, "bold"), "  ")
            + Text(event.description)
        )
    return 0
