"""`reader info`: the corpus, its data folder, counts and translation models."""

from __future__ import annotations

import argparse
import json

from reader.commands._common import add_corpus_options, console, print_json, workspace
from reader.core.display import printable
from reader.core.documents import corpus_of
from reader.core.workspace import Workspace


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "info",
        help="show the corpus, its data folder, counts and models",
        description="Show where the corpus and its data live, what it holds, and which "
        "translation models are installed.",
    )
    add_corpus_options(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def gather(ws: Workspace) -> dict:
    """What `reader info` reports, as a dict."""
    from reader.core.tags import open_tag_store
    from reader.core.translation.models import list_models

    scan = corpus_of(ws).scan()
    langs: dict[str, int] = {}
    for doc in scan.documents:
        langs[doc.lang] = langs.get(doc.lang, 0) + 1
    with open_tag_store(ws, readonly=True) as store:
        tags = store.list()
    by_tag: dict[str, int] = {}
    for ann in tags:
        by_tag[ann.tag] = by_tag.get(ann.tag, 0) + 1
    return {
        "corpus": str(ws.corpus_root),
        "data_dir": str(ws.data_dir),
        "documents": len(scan.documents),
        "languages": dict(sorted(langs.items())),
        "skipped": len(scan.skipped),
        "tags": by_tag,
        "target_lang": ws.target_lang,
        "models": [m.to_json() for m in list_models(ws)],
        "settings": settings_report(ws),
    }


def settings_report(ws: Workspace) -> dict:
    """Both settings files and the effective values (secrets redacted), with their sources."""
    settings = ws.settings
    return {
        "user_file": str(ws.user_settings_path),
        "corpus_file": str(ws.settings_path),
        "values": settings.shown(),
        "sources": {name: settings.source(name) for name in settings.shown()},
        "problems": list(settings.problems),
    }


def run(args: argparse.Namespace) -> int:
    info = gather(workspace(args))
    if args.json:
        print_json(info)
        return 0
    from rich.text import Text

    langs = ", ".join(f"{k} {v}" for k, v in info["languages"].items()) or "—"
    tags = ", ".join(f"{k} {v}" for k, v in info["tags"].items()) or "none"
    models = ", ".join(f"{m['from']}→{m['to']} {m['version']}" for m in info["models"])
    out = console()
    for key, value in (
        ("corpus", info["corpus"]),
        ("data folder", info["data_dir"]),
        ("documents", f"{info['documents']} ({langs})"),
        ("skipped files", str(info["skipped"])),
        ("tags", tags),
        ("translate to", info["target_lang"]),
        ("models", models or "none installed (see `reader models --help`)"),
        ("user settings", info["settings"]["user_file"]),
        ("corpus settings", info["settings"]["corpus_file"]),
    ):
        out.print(Text.assemble((f"{key:<16}", "bold"), printable(value)), soft_wrap=True)
    sources = info["settings"]["sources"]
    width = max(map(len, info["settings"]["values"]), default=0) + 2
    for name, value in info["settings"]["values"].items():
        if value in (None, {}):
            shown = "—"
        else:
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        out.print(
            Text.assemble(
                (f"  {name:<{width}}", "dim"), printable(shown), (f"  ({sources[name]})", "dim")
            ),
            soft_wrap=True,
        )
    return 0
