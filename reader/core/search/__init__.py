"""Full-text search: `search(ws, query, limit=..., offset=...) -> SearchResult`.

The engine-neutral parts are `api` (the entry points and the index's life cycle), `query`
(the query language) and `highlight` (snippets); `whoosh/` holds everything that imports
Whoosh. Names are loaded on first use, so importing this package stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Hit",
    "IndexLocked",
    "IndexStats",
    "SearchResult",
    "Snippet",
    "index_exists",
    "match_spans",
    "refresh_documents",
    "search",
    "syntax_error",
    "update_index",
    "update_paths",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from reader.core.search import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
