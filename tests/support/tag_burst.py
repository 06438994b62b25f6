"""A burst of tags for the durability test: `python tag_burst.py CORPUS DOC_ID COUNT`.

Prints each tag's id once `TagService.add` has returned (the tag is committed), then
keeps going until COUNT; the test kills it with SIGKILL part way through.
"""

from __future__ import annotations

import sys

from reader.core.documents import corpus_of
from reader.core.tags import open_tag_store
from reader.core.tags.model import TAGS
from reader.core.tags.store import DuplicateTagError
from reader.core.workspace import Workspace


def main(corpus: str, doc_id: str, count: int) -> None:
    ws = Workspace.open(corpus)
    doc = corpus_of(ws).load(doc_id)
    with open_tag_store(ws) as store:
        for i in range(count):
            start = (i * 7) % (len(doc.text) - 40)
            try:
                ann = store.add(doc, start, start + 20 + i % 20, TAGS[i % 3], note=f"burst {i}")
            except DuplicateTagError:  # the same passage and kind came round again
                continue
            if i % 5 == 4:
                store.edit(ann.id, note=f"edited {i}")
            print(ann.id, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
