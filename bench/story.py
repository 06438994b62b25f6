"""Story map bench: building the map, filtering, the memo and claimreview exports, and the
app's story map screen, on a synthetic corpus.

    python bench/story.py                     # 200 documents, 1000 tags
    python bench/story.py --docs 500 --claims 3

Per document: one claim, three rebuttals linked to earlier claims and one context passage
sharing a label with ten other documents' claims. Reported: the records read cold and warm
(the screen keeps the documents it read), build, a filter, both exports, and the screen at
80x24: opening (F4), a refresh (a tag change) and a filter change. Targets: a refresh
<= 1 s and a filter <= 0.2 s at 1000 tags.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

WORDS = [
    "tesla",
    "refund",
    "musk",
    "altman",
    "deposit",
    "roadster",
    "customer",
    "company",
    "said",
    "hours",
    "week",
    "money",
]


def _ms(start: float) -> int:
    return round((time.perf_counter() - start) * 1000)


def make(root: Path, docs: int, rebuttals: int):
    from reader.core.documents import corpus_of
    from reader.core.tags import open_tag_store
    from reader.core.workspace import Workspace

    rng = random.Random(1)
    root.mkdir(parents=True)
    for i in range(docs):
        paras = [
            " ".join(
                " ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + "." for _ in range(5)
            )
            for _ in range(6)
        ]
        (root / f"d{i:04}.md").write_text(
            f"---\ntitle: Doc {i}\ndate: 2025-{1 + i % 12:02}-{1 + i % 28:02}\n"
            f"site: Outlet {i % 7}\nurl: https://x{i % 7}.example/{i}\n---\n\n" + "\n\n".join(paras)
        )
    ws = Workspace.open(root)
    corpus = corpus_of(ws)
    corpus.scan()
    claims: list[str] = []
    with open_tag_store(ws) as store:
        for i in range(docs):
            doc = corpus.load(f"d{i:04}.md")
            s = doc.sentences
            claims.append(store.add(doc, s[0].start, s[0].end, "claim", labels=[f"l{i % 10}"]).id)
            for j in range(1, 1 + rebuttals):
                store.add(doc, s[j].start, s[j].end, "rebuttal", links=[rng.choice(claims)])
            k = 1 + rebuttals
            store.add(doc, s[k].start, s[k].end, "context", labels=[f"l{i % 10}"])
    return ws


async def screen(ws) -> dict[str, int]:
    from reader.tui.app import ReaderApp

    out = {}
    app = ReaderApp(ws, index_on_start=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        start = time.perf_counter()
        await pilot.press("f4")
        await pilot.pause()
        out["screen: open (F4)"] = _ms(start)
        story = app.screen
        start = time.perf_counter()
        story.reload()
        await pilot.pause()
        out["screen: refresh"] = _ms(start)
        start = time.perf_counter()
        story.query_one("#story-verdict").value = "false"
        await pilot.pause()
        out["screen: filter"] = _ms(start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--rebuttals", type=int, default=3, help="rebuttals per document")
    args = parser.parse_args()
    os.environ.setdefault("HOME", tempfile.mkdtemp())
    from reader.core.exchange.export import export
    from reader.core.tags import open_tag_store
    from reader.core.tags.story import StoryFilter, apply, build, records_for

    with tempfile.TemporaryDirectory() as tmp:
        ws = make(Path(tmp) / "corpus", args.docs, args.rebuttals)
        with open_tag_store(ws) as store:
            tags = store.list()
        print(f"{args.docs} documents, {len(tags)} tags")
        cache: dict = {}
        start = time.perf_counter()
        records = records_for(ws, tags, cache=cache)
        print(f"records, cold: {_ms(start)} ms")
        start = time.perf_counter()
        records = records_for(ws, tags, cache=cache)
        print(f"records, warm: {_ms(start)} ms")
        start = time.perf_counter()
        story = build(records)
        print(f"build: {_ms(start)} ms ({len(story.claims)} claims)")
        start = time.perf_counter()
        apply(story, StoryFilter(text="refund", lang="en"))
        print(f"filter: {_ms(start)} ms")
        for fmt in ("memo", "claimreview"):
            start = time.perf_counter()
            export(ws, fmt, stream=io.StringIO())
            print(f"export {fmt}: {_ms(start)} ms")
        for name, ms in asyncio.run(screen(ws)).items():
            print(f"{name}: {ms} ms")


if __name__ == "__main__":
    main()
