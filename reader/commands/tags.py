"""`reader tags add|list|edit|remove|restore|log|recover`: tag passages and manage the tags."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

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
from reader.core.tags import open_tag_store
from reader.core.tags.anchoring import STATUSES, find_quote
from reader.core.tags.model import CLAIM, KIND_NAMES, REBUTTAL, VERDICTS, Tag, check_verdict
from reader.core.tags.service import MIN_PREFIX, TagService
from reader.core.tags.store import ReadOnlyError, StoreFullError
from reader.core.workspace import Workspace

KINDS_TEXT = ", ".join(KIND_NAMES[:-1]) + " or " + KIND_NAMES[-1]


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "tags",
        help=f"tag passages as {KINDS_TEXT}; list, edit, remove, restore tags",
        description="Tag passages of a document and manage the tags. Offsets are code points "
        "into the document's clean text (see `reader docs`). Tag ids may be shortened to a "
        f"unique prefix (at least {MIN_PREFIX} characters for edit, remove and restore).",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = actions.add_parser(
        "add",
        help="tag a passage",
        description="Tag a passage, found by its text (--quote) or its offsets (--span). The "
        "same kind of tag twice on the same passage is refused.",
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
    add.add_argument("--tag", required=True, choices=KIND_NAMES, help="the kind of tag")
    add.add_argument("--note", default="", metavar="TEXT", help="a note on the passage")
    add.add_argument(
        "--rebuts",
        action="append",
        default=[],
        metavar="ID",
        help=f"with --tag {REBUTTAL}: a {CLAIM} it answers (repeatable)",
    )
    add.add_argument("--label", action="append", default=[], metavar="X", help="a label")
    add.add_argument("--json", action="store_true", help="print the created tag as JSON")
    add_corpus_options(add)
    add.set_defaults(func=run_add)

    listing = actions.add_parser(
        "list",
        help="list tags",
        description="List tags, re-anchoring first those whose document changed.",
    )
    listing.add_argument("--tag", choices=KIND_NAMES, help="only this kind")
    listing.add_argument("--doc", metavar="ID", help="only this document")
    listing.add_argument("--lang", metavar="L", help="only documents in this language")
    listing.add_argument("--status", choices=STATUSES, help="only this status")
    listing.add_argument("--verdict", metavar="V", help="only this verdict")
    listing.add_argument("--label", metavar="X", help="only tags with this label")
    listing.add_argument("--json", action="store_true", help="print JSON")
    add_corpus_options(listing)
    listing.set_defaults(func=run_list)

    edit = actions.add_parser("edit", help="change a tag's kind, note, links, verdict or labels")
    edit.add_argument("id", metavar="ID", help=f"the tag id (or a prefix of {MIN_PREFIX}+)")
    edit.add_argument("--tag", choices=KIND_NAMES, help="the new kind")
    edit.add_argument("--note", metavar="TEXT", help="the new note ('' clears it)")
    edit.add_argument(
        "--rebuts",
        action="append",
        metavar="ID",
        help=f"the {CLAIM}s it answers, replacing the current links (repeatable)",
    )
    edit.add_argument("--verdict", metavar="V", help=f"one of: {', '.join(VERDICTS)}")
    edit.add_argument("--label", action="append", default=[], metavar="X", help="add a label")
    edit.add_argument("--unlabel", action="append", default=[], metavar="X", help="remove a label")
    edit.add_argument("--json", action="store_true", help="print the tag as JSON")
    add_corpus_options(edit)
    edit.set_defaults(func=run_edit)

    remove = actions.add_parser(
        "remove",
        help="remove a tag",
        description="Remove a tag; the event log keeps it, and `reader tags restore` brings "
        "it back. Prints what was removed, including the links that broke.",
    )
    remove.add_argument("id", metavar="ID", help=f"the tag id (or a prefix of {MIN_PREFIX}+)")
    remove.add_argument("--json", action="store_true", help="print the removed tag as JSON")
    add_corpus_options(remove)
    remove.set_defaults(func=run_remove)

    restore = actions.add_parser(
        "restore",
        help="bring back a removed tag",
        description="Restore a removed tag from the event log, with its links.",
    )
    restore.add_argument(
        "id", metavar="ID", help=f"the removed tag's id (a prefix of {MIN_PREFIX}+)"
    )
    restore.add_argument("--json", action="store_true", help="print the restored tag as JSON")
    add_corpus_options(restore)
    restore.set_defaults(func=run_restore)

    log = actions.add_parser(
        "log", help="show the event log", description="The append-only log of tag changes."
    )
    log.add_argument("id", metavar="ID", nargs="?", help="only this tag's events")
    log.add_argument("--limit", type=int, default=50, metavar="N", help="last N events (50)")
    log.add_argument("--json", action="store_true", help="print JSON")
    add_corpus_options(log)
    log.set_defaults(func=run_log)

    cite = actions.add_parser(
        "cite",
        help="print a tag's passage as a citation",
        description='Print the passage as a citation: «quote» — Outlet, "Title", date, URL; '
        "when the document is not in your language (target_lang), the cached translation "
        "follows on its own line.",
    )
    cite.add_argument("id", metavar="ID", help=f"the tag id (or a prefix of {MIN_PREFIX}+)")
    cite.add_argument(
        "--format", dest="cite_format", choices=("text", "md"), default="text", help="the form"
    )
    add_corpus_options(cite)
    cite.set_defaults(func=run_cite)

    copy = actions.add_parser(
        "copy",
        help="copy tags to or from another store (e.g. a team's PostgreSQL)",
        description="Copy every tag between this corpus's store and another one: --to URL "
        "copies from here to there, --from URL from there to here. A URL is postgresql://... "
        "or the path of a SQLite file. Idempotent: tags already there (same id, or same "
        "passage and kind) are skipped and reported.",
    )
    direction = copy.add_mutually_exclusive_group(required=True)
    direction.add_argument("--to", metavar="URL", help="copy this store's tags to URL")
    direction.add_argument("--from", dest="source", metavar="URL", help="copy URL's tags here")
    copy.add_argument("--json", action="store_true", help="print what was done as JSON")
    add_corpus_options(copy)
    copy.set_defaults(func=run_copy)

    recover = actions.add_parser(
        "recover",
        help="repair a damaged tag store",
        description="Rebuild a damaged tag store from its newest sound backup plus the changes "
        "in its event log. The damaged file is kept beside it, renamed; nothing is deleted.",
    )
    recover.add_argument("--json", action="store_true", help="print what was done as JSON")
    add_corpus_options(recover)
    recover.set_defaults(func=run_recover)


# Helpers -----------------------------------------------------------------------------------
def _console(stderr: bool = False):
    return console(stderr=stderr)


def _open(ws: Workspace, args: argparse.Namespace, *, readonly: bool = False) -> TagService:
    return open_tag_store(ws, getattr(args, "tags_db", None), readonly=readonly)


def _warn(message: str) -> None:
    from rich.text import Text

    _console(stderr=True).print(Text(printable(message), style="yellow"))


def _reconciled(ws: Workspace, store: TagService) -> None:
    """Bring statuses up to date: rescan changed files, re-anchor, say what moved.

    A read-only store or a full disk leaves the tags as last saved, with a note."""
    if store.readonly:
        why = getattr(store.store, "readonly_reason", "") or "read-only"
        _warn(f"reader: notice: the tag store is read-only ({why}); positions are as last saved")
        return
    try:
        corpus_of(ws).scan()
        report = store.reconcile(corpus_of(ws))
    except (StoreFullError, ReadOnlyError) as exc:
        _warn(f"reader: notice: tags not re-anchored ({exc}); positions are as last saved")
        return
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
        _warn("reader: notice: tags " + ", ".join(parts))


def _short(text: str, limit: int = 70) -> str:
    text = " ".join(printable(text, keep="\n\t").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _rebutted(store: TagService, ids: Sequence[str], tag: str) -> list[str]:
    """Resolve `--rebuts` ids; they must be claims, and the tag a rebuttal."""
    if ids and tag != REBUTTAL:
        raise ReaderError(f"--rebuts is for {REBUTTAL}s: add --tag {REBUTTAL}")
    targets = []
    for given in ids:
        target = store.must(store.resolve_id(given))
        if target.tag != CLAIM:
            raise ReaderError(
                f"{printable(given)} is a {target.tag}, not a {CLAIM}: a {REBUTTAL} answers "
                f"{CLAIM}s"
            )
        targets.append(target.id)
    return targets


def _line(verb: str, tag: Tag):
    from rich.text import Text

    line = Text.assemble(
        f"{verb} ",
        (tag.tag, "bold"),
        f" {tag.id[:8]} in {printable(tag.doc_id)} [{tag.start}–{tag.end}] ",
        (f"“{_short(tag.exact)}”", "italic"),
    )
    if tag.note:
        line.append(f"  note: {_short(tag.note, 50)}")
    if tag.links:
        line.append("  links: " + ", ".join(link[:8] for link in tag.links))
    if tag.verdict != "not-rated":
        line.append(f"  verdict: {tag.verdict}")
    if tag.labels:
        line.append("  labels: " + " ".join(f"#{x}" for x in tag.labels))
    return line


def _print_one(verb: str, tag: Tag) -> None:
    _console().print(_line(verb, tag))


# Actions -----------------------------------------------------------------------------------
def run_add(args: argparse.Namespace) -> int:
    ws = workspace(args)
    doc = corpus_of(ws).load(corpus_of(ws).resolve_id(args.doc))
    if args.quote is not None:
        occurrence = 1 if args.occurrence is None else args.occurrence
        found = find_quote(doc.text, args.quote, occurrence)
        if found is None:
            first = find_quote(doc.text, args.quote)
            if first is not None:
                raise ReaderError(
                    f"the quote occurs {first[2]} times in {printable(doc.id)}; --occurrence "
                    f"{occurrence} is out of range"
                )
            raise ReaderError(
                f"the quote is not in {printable(doc.id)}: {_short(args.quote, 60)!r}"
            )
        start, end, matches = found
    else:
        if args.occurrence is not None:
            raise ReaderError("--occurrence goes with --quote, not --span")
        start, end = args.span
        matches = 1
        if not 0 <= start < end <= len(doc.text):
            raise ReaderError(
                f"--span {start} {end} is not inside {printable(doc.id)} "
                f"(0–{len(doc.text)}, START < END)"
            )
    with _open(ws, args) as store:
        links = _rebutted(store, args.rebuts, args.tag)
        tag = store.add(doc, start, end, args.tag, note=args.note, links=links, labels=args.label)
    if args.json:
        print_json(tag.to_json())
        return 0
    _print_one("added", tag)
    if matches > 1 and args.occurrence is None:
        _warn(
            f"reader: notice: the quote occurs {matches} times; tagged the first "
            "(use --occurrence N for another)"
        )
    return 0


def run_list(args: argparse.Namespace) -> int:
    if args.verdict is not None:
        check_verdict(args.verdict)
    ws = workspace(args)
    doc_id = args.doc
    unknown: ReaderError | None = None
    if doc_id is not None:
        try:
            doc_id = corpus_of(ws).resolve_id(doc_id)
        except ReaderError as exc:  # a document that is gone may still have (orphaned) tags
            unknown = exc
    with _open(ws, args) as store:
        _reconciled(ws, store)
        if unknown is not None and not store.list(doc_id=doc_id):
            raise unknown  # as `export --doc`: no such document, and no tags of one
        found = store.list(
            tag=args.tag,
            doc_id=doc_id,
            lang=args.lang,
            status=args.status,
            verdict=args.verdict,
            label=args.label,
        )
    if args.json:
        print_json([tag.to_json() for tag in found])
        return 0
    from rich.table import Table
    from rich.text import Text

    console = _console()
    if not found:
        console.print(Text("no tags" + (" match" if _filtered(args) else " yet")))
        return 0
    if not stdout_is_terminal():  # piped: whole values in tab-separated lines, never wrapped
        _print_plain(found)
        return 0
    title = f"{len(found)} tag{'s' if len(found) != 1 else ''}"
    wide = console.width >= 110  # narrow terminals drop the language and span columns
    table = Table(title=title, title_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("document", no_wrap=True, max_width=18 if wide else 12, overflow="ellipsis")
    for name in ("lang", "tag", "status", "span") if wide else ("tag", "status"):
        table.add_column(name, no_wrap=True)
    if wide:
        table.add_column("verdict", no_wrap=True)
    table.add_column("passage", ratio=2)
    table.add_column("note", ratio=1)
    styles = {"moved": "yellow", "orphaned": "red", "anchored": ""}
    for tag in found:
        cells = [Text(tag.id[:8]), Text(printable(tag.doc_id))]
        if wide:
            cells.append(Text(printable(tag.lang)))
        cells += [Text(tag.tag), Text(tag.status, style=styles.get(tag.status, ""))]
        if wide:
            cells.append(Text(f"{tag.start}–{tag.end}"))
            cells.append(Text("" if tag.verdict == "not-rated" else tag.verdict))
        note = _short(tag.note, 60)
        if tag.labels:
            note = (note + " " if note else "") + " ".join(f"#{x}" for x in tag.labels)
        cells += [Text(_short(tag.exact, 120)), Text(note)]
        table.add_row(*cells)
    print_table(table, console)
    return 0


# The table's columns, whole: full ids, `start-end` spans, untruncated passages and notes.
PLAIN_COLUMNS = (
    "id", "document", "lang", "tag", "status", "span", "verdict", "labels", "passage", "note"
)  # fmt: skip


def _print_plain(found: Sequence[Tag]) -> None:
    """One tab-separated line per tag, after a header line; tabs, newlines and other control
    characters inside a field are escaped (`\\x09`, `\\x0a`), so a line is always one tag."""
    import sys

    lines = ["\t".join(PLAIN_COLUMNS)]
    for tag in found:
        values = [
            tag.id, tag.doc_id, tag.lang, tag.tag, tag.status, f"{tag.start}-{tag.end}",
            tag.verdict, ",".join(tag.labels), tag.exact, tag.note,
        ]  # fmt: skip
        lines.append("\t".join(printable(value) for value in values))
    sys.stdout.write("\n".join(lines) + "\n")


def _filtered(args: argparse.Namespace) -> bool:
    return any(getattr(args, name) for name in ("tag", "doc", "lang", "status", "verdict", "label"))


def run_edit(args: argparse.Namespace) -> int:
    if args.verdict is not None:
        check_verdict(args.verdict)
    if (
        args.tag is None
        and args.note is None
        and args.rebuts is None
        and args.verdict is None
        and not args.label
        and not args.unlabel
    ):
        raise ReaderError(
            "nothing to change: give --tag, --note, --rebuts, --verdict, --label or --unlabel"
        )
    ws = workspace(args)
    with _open(ws, args) as store:
        tag_id = store.resolve_id(args.id, min_length=MIN_PREFIX)
        current = store.must(tag_id)
        links = None
        if args.rebuts is not None:
            links = _rebutted(store, args.rebuts, args.tag or current.tag)
        tag = store.edit(tag_id, tag=args.tag, note=args.note, links=links)
        if args.verdict is not None:
            tag = store.set_verdict(tag_id, args.verdict)
        if args.label or args.unlabel:
            tag = store.set_labels(tag_id, add=args.label, remove=args.unlabel)
    if args.json:
        print_json(tag.to_json())
    else:
        _print_one("edited" if tag.version != current.version else "unchanged", tag)
    return 0


def run_cite(args: argparse.Namespace) -> int:
    from reader.core.citation import citation
    from reader.core.tags.story import records_for

    ws = workspace(args)
    with _open(ws, args, readonly=True) as store:
        tag = store.must(store.resolve_id(args.id, min_length=MIN_PREFIX))
    record = records_for(ws, [tag])[0]
    print(citation(record, user_lang=ws.target_lang, fmt=args.cite_format))
    return 0


def run_remove(args: argparse.Namespace) -> int:
    ws = workspace(args)
    with _open(ws, args) as store:
        removal = store.remove(store.resolve_id(args.id, min_length=MIN_PREFIX))
    if args.json:
        print_json(
            {
                **removal.tag.to_json(),
                "broken_links": [t.id for t in removal.broken_links],
            }
        )
        return 0
    console = _console()
    console.print(_line("removed", removal.tag))
    for other in removal.broken_links:
        console.print(_broken(other))
    console.print(f"(restore it with: reader tags restore {removal.tag.id[:8]})")
    return 0


def _broken(other: Tag):
    from rich.text import Text

    return Text.assemble(
        "  broken link: ",
        (other.tag, "bold"),
        f" {other.id[:8]} in {printable(other.doc_id)} ",
        (f"“{_short(other.exact, 50)}”", "italic"),
        " no longer links to it",
    )


def run_restore(args: argparse.Namespace) -> int:
    ws = workspace(args)
    with _open(ws, args) as store:
        tag = store.restore(args.id)
        relinked = store.broken_by_removing(tag.id)
    if args.json:
        print_json(tag.to_json())
        return 0
    console = _console()
    console.print(_line("restored", tag))
    for other in relinked:
        console.print(f"  link from {other.tag} {other.id[:8]} restored")
    return 0


def run_log(args: argparse.Namespace) -> int:
    ws = workspace(args)
    with _open(ws, args, readonly=True) as store:
        tag_id = None
        if args.id:
            try:
                tag_id = store.resolve_id(args.id)
            except ReaderError:
                tag_id = args.id  # a removed tag still has its events
        events = store.events(tag_id, limit=max(1, args.limit))
    if args.json:
        print_json([event.to_json() for event in events])
        return 0
    from rich.text import Text

    console = _console()
    if not events:
        console.print("no events")
    for event in events:
        console.print(
            Text.assemble(
                (event.at, "dim"), f"  {printable(event.author)}  ", (event.kind, "bold"), "  "
            )
            + Text(printable(event.description))
        )
    return 0


def run_copy(args: argparse.Namespace) -> int:
    from reader.core.tags.copy import copy_tags

    ws = workspace(args)
    here = getattr(args, "tags_db", None)
    source_url, target_url = (here, args.to) if args.to else (args.source, here)
    result = copy_tags(ws, source_url, target_url)
    if args.json:
        print_json(result.to_json())
        return 0
    console = _console()
    console.print(
        f"copied {len(result.added)} tag{'s' if len(result.added) != 1 else ''} "
        f"from {printable(result.source)} to {printable(result.target)}; "
        f"skipped {len(result.skipped)}"
    )
    reasons: dict[str, int] = {}
    for _tag, why in result.skipped:
        reason = why.split(" (")[0]  # "already there (same id)" -> "already there"
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in sorted(reasons.items()):
        console.print(f"  {count} {printable(reason)}")
    return 0


def run_recover(args: argparse.Namespace) -> int:
    from reader.core.tags.sqlite import recover

    if getattr(args, "tags_db", None):
        raise ReaderError("recover repairs the workspace's SQLite tag store, not a server")
    ws = workspace(args)
    report = recover(ws.annotations_path, author=ws.author, session="recover")
    data = {
        "backup": str(report.backup) if report.backup else None,
        "damaged_copy": str(report.damaged_copy) if report.damaged_copy else None,
        "tags_from_backup": report.from_backup,
        "events_replayed": report.replayed,
        "unreadable": report.unreadable,
        "tags": report.tags,
    }
    if args.json:
        print_json(data)
        return 0
    console = _console()
    source = printable(str(report.backup)) if report.backup else "no backup (empty start)"
    console.print(f"recovered the tag store {printable(str(ws.annotations_path))}")
    console.print(f"  from {source}: {report.from_backup} tags")
    console.print(f"  plus {report.replayed} changes from the event log: {report.tags} tags now")
    if report.damaged_copy:
        console.print(f"  the damaged file is kept as {printable(str(report.damaged_copy))}")
    for problem in report.unreadable:
        _warn(f"  could not read: {problem}")
    return 0
