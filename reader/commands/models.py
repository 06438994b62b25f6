"""`reader models`: list, install (from the Argos index or a file) and remove translation models."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from reader.commands._common import (
    add_corpus_options,
    console,
    print_json,
    print_table,
    workspace,
)
from reader.core.display import printable
from reader.core.errors import ReaderError

if TYPE_CHECKING:
    from rich.console import Console

    from reader.core.translation.models import ModelInfo
    from reader.core.workspace import Workspace


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "models",
        help="list, install and remove translation models",
        description="Manage the offline translation models (Argos packages) of a corpus.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser(
        "list",
        help="list installed models",
        description="List installed models; with --available, every model the Argos "
        "package index offers (needs network).",
    )
    listing.add_argument("--available", action="store_true", help="ask the Argos index")
    listing.add_argument("--json", action="store_true", help="print JSON")
    add_corpus_options(listing)
    listing.set_defaults(func=run_list)

    install = actions.add_parser(
        "install",
        help="install a model: FROM TO, or a .argosmodel file",
        description="`reader models install FROM TO` downloads a model from the Argos package "
        "index (needs network); `reader models install FILE.argosmodel` installs a local file.",
    )
    install.add_argument("target", nargs="+", metavar="FROM TO | FILE.argosmodel")
    add_corpus_options(install)
    install.set_defaults(func=run_install)

    remove = actions.add_parser("remove", help="remove a model", description="Remove a model.")
    remove.add_argument("from_code", metavar="FROM")
    remove.add_argument("to_code", metavar="TO")
    add_corpus_options(remove)
    remove.set_defaults(func=run_remove)
    _parsers["install"] = install


_parsers: dict[str, argparse.ArgumentParser] = {}


def run_list(args: argparse.Namespace) -> int:
    from reader.core.translation.models import list_models

    models = list_models(workspace(args), available=args.available)
    if args.json:
        print_json([m.to_json() for m in models])
        return 0
    from rich.table import Table
    from rich.text import Text

    out = console()
    if not models:
        out.print(
            "No translation models installed. Install one with `reader models install FROM TO` "
            "or `reader models install FILE.argosmodel`.",
            markup=False,
            highlight=False,
        )
        return 0
    title = "available models" if args.available else "installed models"
    table = Table(title=title, title_justify="left")
    for name in ("from", "to", "version", "name", "installed"):
        table.add_column(name)
    for m in models:
        table.add_row(
            Text(printable(m.from_code)), Text(printable(m.to_code)),
            Text(printable(m.version)), Text(printable(m.name)),
            "yes" if m.installed else "",
        )  # fmt: skip
    print_table(table, out)
    return 0


def run_install(args: argparse.Namespace) -> int:
    from reader.core.translation.models import install_model_file

    target = args.target
    ws = workspace(args)
    err = console(stderr=True)
    if len(target) == 1:
        path = Path(target[0]).expanduser()
        if not path.is_file() and path.suffix != ".argosmodel":
            raise ReaderError(
                f"{target[0]} is not a file: give two language codes (`reader models install "
                "fr en`) or a package file (`reader models install FILE.argosmodel`)"
            )
        info = install_model_file(ws, path)
    elif len(target) == 2:
        if target[0].endswith(".argosmodel"):
            raise ReaderError("give one .argosmodel file, or two language codes FROM TO")
        info = _install_with_progress(ws, target[0].lower(), target[1].lower(), err)
    else:
        _parsers["install"].error("give FROM TO, or one FILE.argosmodel")
        return 2
    console().print(
        printable(
            f"Installed {info.name} ({info.from_code}→{info.to_code}, version {info.version}) "
            f"in {info.path}"
        ),
        markup=False,
        highlight=False,
    )
    return 0


def _install_with_progress(ws: Workspace, from_code: str, to_code: str, err: Console) -> ModelInfo:
    """Download and install, with a progress bar when stderr is a terminal."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    from reader.core.translation.models import install_model

    if not err.is_terminal:
        return install_model(ws, from_code, to_code)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(f"{from_code}→{to_code}", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        return install_model(ws, from_code, to_code, progress=progress)


def run_remove(args: argparse.Namespace) -> int:
    from reader.core.translation.models import remove_model

    remove_model(workspace(args), args.from_code.lower(), args.to_code.lower())
    removed = printable(f"{args.from_code}→{args.to_code}")
    console().print(f"Removed the {removed} model.", markup=False)
    return 0
