"""Ingestion benchmark: docs/s and peak memory on 10,000 real news articles.

    python bench/ingest.py [--docs 10000]

Each measurement runs in a fresh process, so peak RSS is that step's own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import news

CHILD = """
import json, resource, sys, time
from reader.core.workspace import Workspace
ws = Workspace.open(sys.argv[1], data_dir=sys.argv[2])
t = time.perf_counter()
result = ws.corpus.scan()
seconds = time.perf_counter() - t
print(json.dumps({"docs": len(result.documents), "skipped": len(result.skipped),
                  "seconds": seconds,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def scan(corpus: Path, data: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(corpus), str(data)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def reader_docs_seconds(runs: int = 5) -> float:
    """Median wall time of `reader docs --json` on the bundled corpus (warm catalog)."""
    with tempfile.TemporaryDirectory() as data:
        cmd = [sys.executable, "-m", "reader", "docs", "--json", "--data-dir", data]
        subprocess.run(cmd, check=True, capture_output=True)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=10_000)
    args = parser.parse_args()
    corpus = news.write_corpus(news.CACHE / f"corpus-{args.docs}", args.docs)
    with tempfile.TemporaryDirectory() as data:
        cold = scan(corpus, Path(data))
        warm = scan(corpus, Path(data))
    print(f"documents                 {cold['docs']} ({cold['skipped']} skipped)")
    print(
        f"first ingestion           {cold['seconds']:.1f} s = "
        f"{cold['docs'] / cold['seconds']:.0f} docs/s, peak RSS {cold['peak_rss_mb']:.0f} MB"
    )
    print(
        f"rescan, nothing changed   {warm['seconds']:.2f} s = "
        f"{warm['docs'] / warm['seconds']:.0f} docs/s, peak RSS {warm['peak_rss_mb']:.0f} MB"
    )
    print(
        f"`reader docs --json` on the bundled corpus: {reader_docs_seconds() * 1000:.0f} ms "
        "(median of 5, warm catalog)"
    )


if __name__ == "__main__":
    main()
