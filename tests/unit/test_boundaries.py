"""Package boundaries, checked on the source: every import statement of every module under
`reader/` (at any depth: inside functions too, since the heavy libraries are imported lazily)
is read with `ast`, relative imports resolved.

- only `reader/core/search/whoosh/` imports `whoosh`;
- only the translation backend (the modules named in TRANSLATION_BACKEND) imports
  `argostranslate` or `ctranslate2`;
- `reader/core` never imports `textual`;
- outside `reader/core/search/`, code reaches search through `reader.core.search` (the
  engine-neutral API), never `reader.core.search.whoosh` directly.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "reader"
# The modules that may import argostranslate / ctranslate2. A new backend module adds itself.
TRANSLATION_BACKEND = frozenset(
    {"reader.core.translation.service", "reader.core.translation.models"}
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, is_package: bool = False) -> set[str]:
    """The absolute names of the modules that `source` (module `module`) imports: `from a
    import b` gives `a` and `a.b`, since b may be a module."""
    tree = ast.parse(source)
    package = module if is_package else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            out.add(target)
            out.update(f"{target}.{alias.name}" for alias in node.names)
    return out


def _modules() -> dict[str, set[str]]:
    return {
        _module_name(p): imports_of(
            p.read_text(encoding="utf-8"), _module_name(p), p.stem == "__init__"
        )
        for p in sorted(PACKAGE.rglob("*.py"))
    }


def _importers(top: str, modules: dict[str, set[str]]) -> set[str]:
    return {
        name
        for name, imported in modules.items()
        if any(i == top or i.startswith(top + ".") for i in imported)
    }


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


@pytest.fixture(scope="module")
def modules() -> dict[str, set[str]]:
    found = _modules()
    assert len(found) > 40 and "reader.core.search.api" in found  # the walk sees the code
    return found


def test_only_the_whoosh_subpackage_imports_whoosh(modules) -> None:
    importers = _importers("whoosh", modules)
    assert importers, "nothing imports whoosh: the check looks at the wrong names"
    outside = sorted(n for n in importers if not _within(n, "reader.core.search.whoosh"))
    assert not outside, f"only reader/core/search/whoosh/ may import whoosh: {outside}"


@pytest.mark.parametrize("library", ["argostranslate", "ctranslate2"])
def test_only_the_translation_backend_imports_argos(modules, library: str) -> None:
    importers = _importers(library, modules)
    assert importers, f"nothing imports {library}: the check looks at the wrong names"
    outside = sorted(importers - TRANSLATION_BACKEND)
    assert not outside, f"only {sorted(TRANSLATION_BACKEND)} may import {library}: {outside}"


def test_core_never_imports_textual(modules) -> None:
    inside = sorted(n for n in _importers("textual", modules) if _within(n, "reader.core"))
    assert not inside, f"reader/core must not import textual: {inside}"


def test_search_is_reached_through_its_api(modules) -> None:
    importers = _importers("reader.core.search.whoosh", modules)
    outside = sorted(n for n in importers if not _within(n, "reader.core.search"))
    assert not outside, f"use reader.core.search, not its whoosh/ subpackage: {outside}"


def test_engine_neutral_search_modules_do_not_import_whoosh(modules) -> None:
    for name in ("reader.core.search.query", "reader.core.search.highlight"):
        assert not _importers("reader.core.search.whoosh", {name: modules[name]}), name


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import whoosh.index", {"whoosh.index"}),
        ("def f():\n    from whoosh import qparser", {"whoosh", "whoosh.qparser"}),
        (
            "from .whoosh import engine",
            {"reader.core.search.whoosh", "reader.core.search.whoosh.engine"},
        ),
        ("from .. import errors", {"reader.core", "reader.core.errors"}),
    ],
)
def test_the_walk_finds_lazy_and_relative_imports(source: str, expected: set[str]) -> None:
    """The checker itself: imports inside functions and relative ones are seen."""
    assert imports_of(source, "reader.core.search.api") == expected
