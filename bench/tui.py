"""TUI benchmark: launch to the first library frame, opening an article, key-to-repaint.

    python bench/tui.py [--docs 20000] [--runs 5]

1. Launch: the installed `reader` starts in a tmux window (a real terminal); we time from
   spawning it to the library list being on screen (`N documents` in the title and the first
   title row drawn). The catalog is scanned beforehand (indexing excluded: the app scans and
   indexes in a worker after the first frame). Bundled corpus and a news corpus of --docs
   documents (bench/news.py). Without tmux, a headless in-process run is timed instead.
2. Opening a 50-paragraph article (bench/news.py `article_of_paragraphs(50)`): from the call to
   the article screen drawn, headless Pilot; first open (file read, clean, segment) and re-open.
3. Key press to repaint while a translation runs: the tiny test model (tests/support) translates
   a long French article in its worker while `j` is pressed; per key, the time `Pilot.press`
   takes to deliver the key, move the cursor and refresh the screen.

4. The library at --docs documents (indexed): back from an article to the library drawn
   (with one tag count changed), a sort (`s`) drawn, and a keystroke to its hits drawn.
   `measure_back_to_library(n)`, `measure_sort(n)`, `measure_keystroke_to_hits(n)` return
   the seconds of each run (bench/scale.py calls them).
5. Large documents (tests/tui/large_docs.py, built in memory so the view is measured, not the
   reading of the file): a 10 MB article, a 5 MB single line, a million lines: open to the
   article drawn, then `j`, `G` and page down to repaint. `measure_large()`.

Targets: launch <= 1.0 s (bundled) / <= 1.5 s (20,000 docs); open <= 100 ms; key <= 50 ms;
back to the library <= 100 ms; sort <= 200 ms; keystroke to hits <= 150 ms (20,000 docs);
a large document open <= 1 s, a key in it <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "tui"))
import news  # noqa: E402

from reader.core.documents import corpus_of  # noqa: E402
from reader.core.workspace import Workspace, bundled_corpus  # noqa: E402

READER = Path(sys.executable).parent / "reader"
TARGETS = {
    "watch": 2.0,
    "launch_bundled": 1.0,
    "launch_large": 1.5,
    "open": 0.100,
    "key": 0.050,
    "back": 0.100,
    "sort": 0.200,
    "hits": 0.150,
    "open_large": 1.0,
}


def _row(name: str, seconds: float, target: float, extra: str = "") -> str:
    ratio = seconds / target
    verdict = "ok" if ratio <= 1 else "SLOW"
    return (
        f"{name:<44} {seconds * 1000:9.1f} ms  target {target * 1000:7.0f} ms  "
        f"ratio {ratio:5.2f}  {verdict} {extra}"
    )


# 1. Launch ---------------------------------------------------------------------------------
def launch_tmux(corpus: Path, data: Path, expect: str, runs: int) -> list[float]:
    """Seconds from spawning `reader CORPUS` in tmux to the library list on screen."""
    tmux = shutil.which("tmux")
    assert tmux is not None
    socket = f"reader-bench-{os.getpid()}"
    times = []
    for _ in range(runs):
        run_data = Path(tempfile.mkdtemp(prefix="reader-bench-data-"))
        shutil.copy(data / "catalog.sqlite", run_data / "catalog.sqlite")
        env = {**os.environ, "READER_DATA_DIR": str(run_data), "LANG": "C.UTF-8"}
        base = [tmux, "-u", "-L", socket]
        subprocess.run([*base, "kill-server"], capture_output=True, env=env)
        start = time.perf_counter()
        subprocess.run(
            [
                *base,
                "new-session",
                "-d",
                "-s",
                "b",
                "-x",
                "120",
                "-y",
                "40",
                str(READER),
                str(corpus),
            ],
            check=True,
            env=env,
        )
        seen = None
        while time.perf_counter() - start < 30:
            screen = subprocess.run(
                [*base, "capture-pane", "-p", "-t", "b"], capture_output=True, text=True, env=env
            ).stdout
            if expect in screen and "Title" in screen and screen.count("\n") > 8:
                lines = screen.splitlines()
                header = next(i for i, line in enumerate(lines) if " Title " in line)
                if header + 1 < len(lines) and lines[header + 1].strip():
                    seen = time.perf_counter() - start
                    break
            time.sleep(0.005)
        subprocess.run([*base, "kill-server"], capture_output=True, env=env)
        shutil.rmtree(run_data, ignore_errors=True)
        if seen is None:
            raise RuntimeError(f"the library never showed; last screen:\n{screen}")
        times.append(seen)
    return times


async def _launch_headless(ws: Workspace) -> float:
    from textual.widgets import DataTable

    from reader.tui.app import ReaderApp

    start = time.perf_counter()
    app = ReaderApp(ws, index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        while not app.screen.query(DataTable) or not app.screen.query_one(DataTable).row_count:
            await pilot.pause()
        await pilot.pause()
        return time.perf_counter() - start


def measure_launch(corpus: Path, runs: int) -> tuple[list[float], str]:
    data = Path(tempfile.mkdtemp(prefix="reader-bench-catalog-"))
    ws = Workspace.open(corpus, data)
    count = len(corpus_of(ws).scan().documents)
    expect = f"{count} documents"
    if shutil.which("tmux") and READER.exists():
        times, how = launch_tmux(corpus, data, expect, runs), "tmux, spawn to list drawn"
    else:
        times = [asyncio.run(_launch_headless(ws)) for _ in range(runs)]
        how = "headless in-process"
    shutil.rmtree(data, ignore_errors=True)
    return times, how


# 2. Opening an article --------------------------------------------------------------------
class FrameSpy:
    """Times the first frame sent to the display once `ready()` holds (key/open -> repaint)."""

    def __init__(self, app) -> None:
        self.app = app
        self.ready = lambda: False
        self.seen: float | None = None
        original = app._display

        def display(screen, renderable) -> None:
            original(screen, renderable)
            if renderable is not None and self.seen is None and self.ready():
                self.seen = time.perf_counter()

        app._display = display

    def arm(self, ready) -> float:
        self.ready, self.seen = ready, None
        return time.perf_counter()

    async def wait(self, pilot, start: float, timeout: float = 10.0) -> float:
        while self.seen is None:
            if time.perf_counter() - start > timeout:
                raise RuntimeError("no frame came")
            await asyncio.sleep(0.001)
        return self.seen - start


async def _open_article(ws: Workspace, doc_id: str, runs: int) -> tuple[float, list[float]]:
    from reader.tui.app import ReaderApp
    from reader.tui.screens.article import ArticleScreen

    app = ReaderApp(ws, index_on_start=False)
    times = []
    async with app.run_test(size=(120, 40)) as pilot:
        spy = FrameSpy(app)
        await pilot.pause()

        def drawn() -> bool:
            screen = app.screen
            return isinstance(screen, ArticleScreen) and len(screen.view._starts) > 0

        for _ in range(runs + 1):
            start = spy.arm(drawn)
            app.open_article(doc_id)
            times.append(await spy.wait(pilot, start))
            await pilot.press("q")
            await pilot.pause()
    return times[0], times[1:]


def measure_open(runs: int) -> tuple[float, list[float], int]:
    folder = Path(tempfile.mkdtemp(prefix="reader-bench-open-"))
    (folder / "long.txt").write_text(news.article_of_paragraphs(50), encoding="utf-8")
    ws = Workspace.open(folder, folder / ".data")
    corpus_of(ws).scan()
    paragraphs = corpus_of(ws).info("long.txt").paragraphs
    corpus_of(ws)._loaded.clear()  # the first open reads the file like a fresh session
    first, rest = asyncio.run(_open_article(ws, "long.txt", runs))
    shutil.rmtree(folder, ignore_errors=True)
    return first, rest, paragraphs


# 3. Key press while translating -------------------------------------------------------------
def _french(paragraphs: int) -> str:
    words = "le chat dort sur la table nous lisons les nouvelles du matin la ville est belle"
    words = words.split()
    body = [
        " ".join(
            f"{words[(i + j) % len(words)].capitalize()} {words[(i * j + 3) % len(words)]} "
            f"{words[(i + 2 * j) % len(words)]} {words[(3 * i + j) % len(words)]} {i}-{j}."
            for j in range(4)
        )
        for i in range(paragraphs)
    ]
    return "Un long article\n\n" + "\n\n".join(body) + "\n"


async def _keys(ws: Workspace, doc_id: str, presses: int) -> tuple[list[float], int, bool]:
    from reader.tui.app import ReaderApp

    app = ReaderApp(ws, index_on_start=False)
    times = []
    async with app.run_test(size=(120, 40)) as pilot:
        spy = FrameSpy(app)
        app.open_article(doc_id)
        await pilot.pause()
        await pilot.pause()
        screen = app.screen
        view = screen.view
        await pilot.press("t")
        while not any(s.translation for p in view.translations.values() for s in p.sentences):
            await asyncio.sleep(0.005)  # the worker is translating now
        for _ in range(presses):
            target = view.cursor + 1
            start = spy.arm(lambda target=target: view.cursor == target)
            await pilot.press("j")
            latency = await spy.wait(pilot, start)
            if screen.translation_state == "running":  # count only keys during translation
                times.append(latency)
        running = screen.translation_state == "running"
        done = sum(1 for p in view.translations.values() for s in p.sentences if s.translation)
        await pilot.press("q")
    return times, done, running


def measure_keys(presses: int) -> tuple[list[float], int, bool]:
    from support.tiny_argos import build

    from reader.core.translation.models import install_model_file

    folder = Path(tempfile.mkdtemp(prefix="reader-bench-keys-"))
    (folder / "long_fr.txt").write_text(_french(2000), encoding="utf-8")
    ws = Workspace.open(folder, folder / ".data")
    corpus_of(ws).scan()
    install_model_file(ws, build(folder / "tiny-fr_en.argosmodel"))
    result = asyncio.run(_keys(ws, "long_fr.txt", presses))
    shutil.rmtree(folder, ignore_errors=True)
    return result


# 4. The library at scale ---------------------------------------------------------------
def library_workspace(n: int) -> Workspace:
    """A news corpus of `n` documents with its catalog and index (built once, then kept in
    bench/.cache/data-N)."""
    from reader.core.search import update_index

    folder = news.CACHE / f"corpus-{n}"
    news.write_corpus(folder, n)
    ws = Workspace.open(folder, news.CACHE / f"data-{n}")
    corpus_of(ws).scan()
    update_index(ws)
    return ws


async def _library(ws: Workspace, runs: int, what: str) -> list[float]:
    from reader.tui.app import ReaderApp
    from reader.tui.screens.library import LibraryScreen
    from reader.tui.widgets.document_table import COLUMNS, DocumentTable

    app = ReaderApp(ws, index_on_start=False)
    times: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        spy = FrameSpy(app)
        await pilot.pause()
        library = app.screen
        assert isinstance(library, LibraryScreen)
        table = library.query_one("#documents", DocumentTable)
        while table.row_count < 2:
            await pilot.pause()
        words = ["oil", "police", "market", "election", "bank", "school", "court", "fire"]
        for run in range(runs):
            if what == "back":
                doc_id = table.rows[run % table.row_count].id
                doc = corpus_of(ws).load(doc_id)
                app.open_article(doc_id)
                await pilot.pause()
                await pilot.pause()
                tag = app.store.add(doc, doc.sentences[0].start, doc.sentences[0].end, "context")
                start = spy.arm(lambda: app.screen is library)
                await pilot.press("q")
                times.append(await spy.wait(pilot, start))
                app.store.remove(tag.id)  # the bench leaves the store as it found it
                await pilot.pause()
                continue
            elif what == "sort":
                column = COLUMNS[(library._sort_column + 1) % len(COLUMNS)].key
                start = spy.arm(lambda column=column: table.sort_column == column)
                await pilot.press("s")
            else:
                await pilot.press("escape", "slash", *words[run % len(words)][:-1])
                word = words[run % len(words)]

                def shown(word: str = word) -> bool:
                    last = library._last_result
                    return last is not None and last.query == word and bool(library.hits)

                start = spy.arm(shown)
                await pilot.press(word[-1])
            times.append(await spy.wait(pilot, start))
            await pilot.pause()
    return times


def measure_back_to_library(n: int, runs: int = 5) -> list[float]:
    """Seconds from `q` on an article (a tag added there) to the library drawn, at n docs."""
    return asyncio.run(_library(library_workspace(n), runs, "back"))


def measure_sort(n: int, runs: int = 5) -> list[float]:
    """Seconds from `s` to the library drawn sorted by the next column, at n docs."""
    return asyncio.run(_library(library_workspace(n), runs, "sort"))


def measure_keystroke_to_hits(n: int, runs: int = 5) -> list[float]:
    """Seconds from the last key of a word typed in the search box to its hits drawn."""
    return asyncio.run(_library(library_workspace(n), runs, "hits"))


# 5. Large documents ----------------------------------------------------------------------
async def _large(doc, keys: tuple[str, ...]) -> tuple[float, dict[str, float], int]:
    from reader.tui.app import ReaderApp
    from reader.tui.screens.article import ArticleScreen

    folder = Path(tempfile.mkdtemp(prefix="reader-bench-large-"))
    ws = Workspace.open(folder, folder / ".data")
    corpus_of(ws).load = lambda doc_id: doc  # the view is measured, not the reading of the file
    app = ReaderApp(ws, index_on_start=False)
    keys_times: dict[str, float] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        spy = FrameSpy(app)
        await pilot.pause()

        def drawn() -> bool:
            screen = app.screen
            return isinstance(screen, ArticleScreen) and len(screen.view._starts) > 0

        start = spy.arm(drawn)
        app.open_article(doc.id)
        opened = await spy.wait(pilot, start, timeout=60)
        await pilot.pause()
        view = app.screen.view
        for key in keys:
            before = (view.cursor, view.scroll_y)
            start = spy.arm(lambda before=before: (view.cursor, view.scroll_y) != before)
            await pilot.press(key)
            try:
                keys_times[key] = await spy.wait(pilot, start, timeout=3)
            except RuntimeError:  # nothing to move (e.g. `j` in a one-sentence document)
                keys_times[key] = float("nan")
            await pilot.pause()
        built = sum(block is not None for block in view._blocks)
        await pilot.press("q")
    shutil.rmtree(folder, ignore_errors=True)
    return opened, keys_times, built


def measure_large() -> list[tuple[str, float, dict[str, float], int]]:
    """(name, open seconds, {key: seconds}, blocks wrapped) for each large document."""
    import large_docs  # tests/tui

    out = []
    for name, make in (
        ("10 MB article (20,000 paragraphs)", large_docs.ten_megabytes),
        ("5 MB single line", large_docs.single_line),
        ("5 MB single line without spaces", lambda: large_docs.single_line(spaces=False)),
        ("1,000,000 lines", large_docs.million_lines),
    ):
        doc = make()
        opened, keys, built = asyncio.run(_large(doc, ("j", "G", "pageup", "g", "pagedown")))
        out.append((name, opened, keys, built))
    return out


# 6. The folder watcher -------------------------------------------------------------------
async def _watch(ws: Workspace, runs: int) -> list[float]:
    from reader.tui.app import ReaderApp
    from reader.tui.widgets.document_table import DocumentTable

    app = ReaderApp(ws, index_on_start=False, watch=True)
    times = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.5)  # the watcher starts
        table = app.screen.query_one("#documents", DocumentTable)
        for run in range(runs):
            name = f"zz_watch_{run}.txt"
            start = time.perf_counter()
            (ws.corpus_root / name).write_text(
                f"Watched story {run}\n\nA new file in the folder.\n", encoding="utf-8"
            )
            while name not in table.ids:
                if time.perf_counter() - start > 30:
                    raise RuntimeError("the watcher never indexed the new file")
                await asyncio.sleep(0.01)
            times.append(time.perf_counter() - start)
    return times


def measure_watch(n: int, runs: int = 3) -> list[float]:
    """Seconds from a new file written in the corpus to its row in the library (indexed)."""
    ws = library_workspace(n)
    try:
        return asyncio.run(_watch(ws, runs))
    finally:
        for path in ws.corpus_root.glob("zz_watch_*.txt"):
            path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    bundled, how = measure_launch(bundled_corpus(), args.runs)
    large_folder = news.CACHE / f"corpus-{args.docs}"
    news.write_corpus(large_folder, args.docs)
    large, _ = measure_launch(large_folder, args.runs)
    first, reopen, paragraphs = measure_open(args.runs)
    keys, translated, _running = measure_keys(40)
    back = measure_back_to_library(args.docs, args.runs)
    sort = measure_sort(args.docs, args.runs)
    hits = measure_keystroke_to_hits(args.docs, args.runs)
    watch = measure_watch(args.docs, 3)
    large_docs = measure_large()

    print(f"# reader TUI benchmark ({how}; median of {args.runs} runs)")
    print(
        _row(
            "launch to library, bundled corpus (4 docs)",
            statistics.median(bundled),
            TARGETS["launch_bundled"],
        )
    )
    print(
        _row(
            f"launch to library, {args.docs:,} docs",
            statistics.median(large),
            TARGETS["launch_large"],
        )
    )
    print(_row(f"open a {paragraphs}-paragraph article (first)", first, TARGETS["open"]))
    print(
        _row(
            f"open a {paragraphs}-paragraph article (again)",
            statistics.median(reopen),
            TARGETS["open"],
        )
    )
    if not keys:  # the translation ended before the first key: time the keys after it
        keys = [float("nan")]
    p95 = sorted(keys)[max(0, int(len(keys) * 0.95) - 1)]
    print(
        _row("key to repaint during translation (median)", statistics.median(keys), TARGETS["key"])
    )
    print(
        _row(
            "key to repaint during translation (p95)",
            p95,
            TARGETS["key"],
            f"({len(keys)} keys during translation; {translated} sentences translated)",
        )
    )
    n = f"{args.docs:,} docs"
    for name, times, target in (
        (f"back to the library ({n}, median)", back, "back"),
        (f"back to the library ({n}, max)", [max(back)], "back"),
        (f"sort ({n}, median)", sort, "sort"),
        (f"sort ({n}, max)", [max(sort)], "sort"),
        (f"keystroke to hits ({n}, median)", hits, "hits"),
        (f"keystroke to hits ({n}, max)", [max(hits)], "hits"),
        (f"new file to its row, watcher ({n}, median)", watch, "watch"),
    ):
        print(_row(name, statistics.median(times), TARGETS[target]))
    for name, opened, key_times, built in large_docs:
        print(_row(f"open: {name}", opened, TARGETS["open_large"], f"({built} chunks wrapped)"))
        moved = {k: v for k, v in key_times.items() if v == v}  # nan: the key moved nothing
        slowest = max(moved, key=moved.__getitem__)
        print(_row(f"  slowest key ({slowest}): {name}", moved[slowest], TARGETS["key"]))


if __name__ == "__main__":
    main()
