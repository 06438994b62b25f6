"""Keys while the app translates the corpus (issue 11: key-press p95 <= 50 ms during it).

    python bench/tui_cross.py [--docs N] [--presses 300] [--standin]

A corpus of --docs French articles (20 distinct sentences each; default 1,000 with the tiny
model, 24 with the stand-in) is indexed, then the library's translate-all action (`A`) starts
`translate_all` in its worker; while it runs, `down`/`up` move the document cursor (a key
every 30 ms), and per key we time from the key event handed to the driver (as a terminal's
input thread does; `Pilot.press` would wait for the CPU to be idle) to the cursor moved and
the next frame reaching the display (headless, 120x40). Only keys pressed while the worker
was at work count. The model is the tiny test model (tests/support/tiny_argos.py) by default,
or with --standin the real-size stand-in of bench/standin.py (a CTranslate2 int8 transformer
base, the work of a real Argos package; built into bench/.cache/ on first use, which takes a
minute).

The tiny model translates ~1,500 sentences/s, so its run is bound by Python work (reading
documents, the cache, the index refresh) that competes with the UI for the GIL: a stress
case. A real model spends its time in CTranslate2, outside the GIL.

Measured on 2 cores shared with other work (load average 3-8): stand-in, 24 articles, 300
keys: median 1.6 ms, p95 9.9 ms, max 31 ms (5.7 sentences/s). Tiny model, 1,000 articles,
204 keys: median 12 ms, p95 40 ms, max 176 ms; 2,000 articles: p95 89 ms.

Also reported: sentences translated per second, the index refresh included.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests"))

from reader.core.documents import corpus_of  # noqa: E402
from reader.core.workspace import Workspace  # noqa: E402

TARGET_KEY = 0.050
PACE = 0.03  # seconds between key presses (a fast typist)
WORDS_TEXT = """le chat dort sur la table nous lisons les nouvelles du matin la ville est belle
un maire parle aux habitants pendant que les journaux publient des articles"""


def french(n: int, sentences: int = 20) -> str:
    """A French article of distinct sentences (none comes from the cache of another)."""
    words = WORDS_TEXT.split()
    count = len(words)
    body = [
        " ".join(
            f"{words[(n + i) % count].capitalize()} {words[(n * i + 3) % count]} "
            f"{words[(i + 2 * n) % count]} {words[(3 * i + n) % count]} {n}-{i}-{j}."
            for j in range(4)
        )
        for i in range(sentences // 4)
    ]
    return f"Article {n}\n\n" + "\n\n".join(body) + "\n"


class FrameSpy:
    """The first frame sent to the display once `ready()` holds."""

    def __init__(self, app) -> None:
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

    async def wait(self, start: float, timeout: float = 10.0) -> float:
        while self.seen is None:
            if time.perf_counter() - start > timeout:
                raise RuntimeError("no frame came")
            await asyncio.sleep(0.001)
        return self.seen - start


async def _run(ws: Workspace, presses: int) -> dict:
    from textual import events

    from reader.tui.app import ReaderApp
    from reader.tui.widgets.document_table import DocumentTable
    from reader.tui.widgets.translate_all import TranslateAll

    app = ReaderApp(ws, index_on_start=True, **_no_watch())
    out: dict = {"keys": [], "finished": None}
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        table = screen.query_one("#documents", DocumentTable)
        bar = screen.query_one("#translate-all", TranslateAll)
        notes: list[str] = []
        real = app.notify

        def notify(message: str, **kw) -> None:
            notes.append(message)
            real(message, **kw)

        app.notify = notify
        spy = FrameSpy(app)
        started = time.perf_counter()
        await pilot.press("A")
        step = 1
        while bar.running and len(out["keys"]) < presses:
            if table.cursor_row + step not in range(table.row_count):
                step = -step
            target = table.cursor_row + step
            start = spy.arm(lambda target=target: table.cursor_row == target)
            key = events.Key("down" if step > 0 else "up", None)
            key.set_sender(app)
            app._driver.send_message(key)  # as a terminal would: Pilot.press waits for idle
            latency = await spy.wait(start)
            if bar.running:
                out["keys"].append(latency)
            await asyncio.sleep(PACE)
        while bar.running:
            await asyncio.sleep(0.01)
        await pilot.pause()
        out["seconds"] = time.perf_counter() - started
        out["report"], out["notes"] = bar.last_report, notes
    return out


def _no_watch() -> dict:
    """Switch the folder watcher off where the app has one (nothing changes here)."""
    import inspect

    from reader.tui.app import ReaderApp

    return {"watch": False} if "watch" in inspect.signature(ReaderApp.__init__).parameters else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=None, help="articles (1000; 24 --standin)")
    parser.add_argument("--presses", type=int, default=300, help="at most")
    parser.add_argument("--standin", action="store_true", help="the real-size stand-in model")
    args = parser.parse_args()
    args.docs = args.docs or (24 if args.standin else 1000)

    folder = Path(tempfile.mkdtemp(prefix="reader-bench-cross-"))
    try:
        corpus = folder / "corpus"
        corpus.mkdir()
        for n in range(args.docs):
            (corpus / f"fr_{n:04}.txt").write_text(french(n), encoding="utf-8")
        if args.standin:
            import standin

            package = standin.build(standin.DEFAULT)
            os.environ["ARGOS_PACKAGES_DIR"] = str(package.parent)
            model = "real-size stand-in (bench/standin.py)"
        ws = Workspace.open(corpus, folder / "data")
        corpus_of(ws).scan()
        if not args.standin:
            from support.tiny_argos import build

            from reader.core.translation.models import install_model_file

            install_model_file(ws, build(folder / "translate-fr_en-0_1.argosmodel"))
            model = "tiny test model"
        result = asyncio.run(_run(ws, args.presses))
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    keys = sorted(result["keys"])
    report = result.get("report")
    print(f"# keys while translating the corpus ({args.docs} French articles, {model})")
    for note in result["notes"]:
        print(f"app: {note}")
    if not keys:
        print("no key was pressed while translating (the corpus was translated too fast)")
        return
    p95 = keys[max(0, int(len(keys) * 0.95) - 1)]
    verdict = "ok" if p95 <= TARGET_KEY else "OVER"
    print(f"key to repaint, median        {statistics.median(keys) * 1000:7.1f} ms")
    print(
        f"key to repaint, p95           {p95 * 1000:7.1f} ms  (target <= "
        f"{TARGET_KEY * 1000:.0f} ms: {verdict}; {len(keys)} keys during the translation)"
    )
    print(f"key to repaint, max           {keys[-1] * 1000:7.1f} ms")
    if report is not None:
        rate = report.translated / result["seconds"] if result["seconds"] else 0.0
        print(
            f"translated {report.translated} sentences in {result['seconds']:.1f} s "
            f"({rate:.1f} sentences/s, the index refresh included)"
        )


if __name__ == "__main__":
    main()
