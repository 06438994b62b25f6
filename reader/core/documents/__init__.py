"""Documents: ingest, segmentation, language, and the corpus catalog.

`corpus_of(ws)` is a workspace's one `Corpus` (its catalog connections and loaded documents are
shared by everything that works on that workspace).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reader.core.documents.corpus import Corpus
    from reader.core.workspace import Workspace

_lock = threading.Lock()
_ATTRIBUTE = "_reader_corpus"


def corpus_of(ws: Workspace) -> Corpus:
    """The workspace's corpus, made on first use and kept with the workspace."""
    found = ws.__dict__.get(_ATTRIBUTE)
    if found is not None:
        return found
    from reader.core.documents.corpus import Corpus

    with _lock:
        found = ws.__dict__.get(_ATTRIBUTE)
        if found is None:
            found = Corpus(ws)
            ws.__dict__[_ATTRIBUTE] = found
    return found


__all__ = ["corpus_of"]
