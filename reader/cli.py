"""The `reader` command: `reader [PATH]` opens the app; subcommands script the core.

Kept light: importing this module imports neither textual nor argostranslate.
"""

from __future__ import annotations

import argparse
import importlib
import keyword
import logging
import sys
from collections.abc import Sequence

from reader import __version__
from reader.core.display import printable
from reader.core.errors import ReaderError

# Each name is a module in reader.commands with `register(subparsers)`.
COMMANDS: tuple[str, ...] = (
    "docs",
    "show",
    "info",
    "translate",
    "models",
    "index",
    "search",
    "tags",
    "export",
    "import",
)


def build_parser() -> argparse.ArgumentParser:
    """The parser for the subcommands."""
    parser = argparse.ArgumentParser(
        prog="reader",
        description="Read, search, translate and tag a multilingual corpus. "
        "`reader [PATH]` opens the app on PATH (default: the bundled corpus).",
    )
    parser.add_argument("--version", action="version", version=f"reader {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = f"{name}_" if keyword.iskeyword(name) else name  # `import` is import_.py
        importlib.import_module(f"reader.commands.{module}").register(sub)
    return parser


def build_open_parser() -> argparse.ArgumentParser:
    """The parser for `reader [PATH]`, which opens the app."""
    parser = argparse.ArgumentParser(
        prog="reader",
        usage="reader [PATH] [--data-dir DIR] [--tags-db URL] | reader COMMAND ...",
        description="Open the app on PATH (default: the bundled corpus). "
        f"Commands: {', '.join(COMMANDS)}; see `reader COMMAND --help`.",
    )
    parser.add_argument("path", nargs="?", help="the corpus folder")
    parser.add_argument("--data-dir", help="where the index, tags and caches live")
    from reader.commands._common import add_tags_db_option

    add_tags_db_option(parser)
    return parser


def open_app(args: argparse.Namespace) -> int:
    """Open the Textual app on a corpus."""
    from reader.core.workspace import Workspace

    workspace = Workspace.open(args.path, args.data_dir, tags_db=args.tags_db)
    from reader.tui.app import run

    return run(workspace)


class _Notices(logging.Handler):
    """The core's warnings (a damaged cache rebuilt, ...) as one `reader: notice:` line each
    on stderr (looked up at each message, so a test or the app may capture it)."""

    def emit(self, record: logging.LogRecord) -> None:
        from reader.core.display import printable

        print(f"reader: notice: {printable(record.getMessage())}", file=sys.stderr)


def _show_notices() -> None:
    logger = logging.getLogger("reader")
    if not any(isinstance(h, _Notices) for h in logger.handlers):
        logger.addHandler(_Notices(logging.WARNING))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 user or data error, 2 usage)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    _show_notices()
    try:
        if argv and (argv[0] in COMMANDS or argv[0] in ("-h", "--help", "--version")):
            args = build_parser().parse_args(argv)
            return int(args.func(args) or 0)
        return open_app(build_open_parser().parse_args(argv))
    except ReaderError as exc:
        print(f"reader: error: {printable(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("reader: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
