"""`reader index [PATH] [--rebuild]`: bring the search index up to date, with a progress bar."""

from __future__ import annotations

import argparse

from reader.commands._common import add_corpus_options, console, print_json, warn_settings
from reader.core.workspace import Workspace


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "index",
        help="build or update the search index",
        description="Index new and changed documents of a corpus and drop deleted ones "
        "(by content hash). The index is rebuilt when its format changed or it is unreadable.",
    )
    parser.add_argument("path", nargs="?", metavar="PATH", help="the corpus folder")
    add_corpus_options(parser)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the index from scratch")
    parser.add_argument("--json", action="store_true", help="print the update's numbers as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
    from rich.text import Text

    from reader.core.display import printable
    from reader.core.search import update_index

    ws = Workspace.open(args.path or args.corpus, args.data_dir, tags_db=args.tags_db)
    warn_settings(ws)
    err = console(stderr=True)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=args.json,
    ) as bar:
        task = bar.add_task("scanning the corpus", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, description="indexing", completed=done, total=total)

        stats = update_index(ws, rebuild=args.rebuild, progress=progress)
    if args.json:
        print_json(
            {
                "added": stats.added,
                "updated": stats.updated,
                "removed": stats.removed,
                "total": stats.total,
                "rebuilt": stats.rebuilt,
                "notice": stats.notice,
                "seconds": round(stats.seconds, 3),
            }
        )
        return 0
    if stats.notice:
        err.print(Text(f"reader: notice: {printable(stats.notice)}", style="yellow"))
    verb = "rebuilt" if stats.rebuilt else "updated"
    console().print(
        f"index {verb}: {stats.added} added, {stats.updated} updated, {stats.removed} removed; "
        f"{stats.total} documents ({stats.seconds:.2f} s)",
        highlight=False,
        markup=False,
    )
    return 0
