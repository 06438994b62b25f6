"""Sentence splitting: boundary F1 per language on the hand-checked reference, and speed.

    python bench/sentences.py [--splitter NAME ...] [--heldout] [--errors]

The reference is `tests/data/sentences/{lang}.txt`: paragraphs separated by a blank line, one
gold sentence per line; a paragraph's text is its sentences joined by one space. A boundary is
the start of every sentence but a paragraph's first, so F1 counts only real decisions.

Splitters compared: `sentencex` (the raw library, as the reader used it before), `syntok`
(only if installed) and `reader` (`reader.core.documents.segment.split_sentences`, what the
reader uses now: sentencex on the text with its quotation marks masked, so it splits inside
quotations, with a few filters; see the module).
`bench/ingest.py` imports `f1_per_language()` to report the reader's F1. `--heldout` scores
`tests/data/sentences/heldout/` (en, de), paragraphs set aside and never looked at while
the splitter was tuned.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REFERENCE = ROOT / "tests" / "data" / "sentences"
LANGS = ("en", "fr", "de", "it", "es")
Splitter = Callable[[str, str], list[tuple[int, int]]]


HELDOUT_LANGS = ("en", "de")


def load(lang: str, heldout: bool = False) -> list[tuple[str, list[tuple[int, int]]]]:
    """The reference of `lang` (or its held-out set, never used to tune the splitter):
    (paragraph text, gold sentence spans) per paragraph."""
    out = []
    folder = REFERENCE / "heldout" if heldout else REFERENCE
    raw = (folder / f"{lang}.txt").read_text(encoding="utf-8")
    for block in raw.strip().split("\n\n"):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        spans, offset = [], 0
        for line in lines:
            spans.append((offset, offset + len(line)))
            offset += len(line) + 1
        out.append((" ".join(lines), spans))
    return out


def boundaries(spans: list[tuple[int, int]]) -> set[int]:
    """The starts of every sentence but the first."""
    return {start for start, _ in spans[1:]}


@dataclass(frozen=True)
class Score:
    lang: str
    tp: int
    fp: int
    fn: int
    chars: int
    seconds: float

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def chars_per_second(self) -> float:
        return self.chars / self.seconds if self.seconds else float("inf")


_WARM_UP = 'Warm up. "The splitter loads here," he said. It is ready.'


def score(split: Splitter, lang: str, heldout: bool = False) -> Score:
    """Boundary counts of `split` on the reference of `lang`, and the time of one pass.

    One pass only: sentencex remembers texts it has seen, so a second pass over the same
    paragraphs would time its cache. A warm-up on other text loads the splitter first.
    """
    data = load(lang, heldout)
    split(_WARM_UP, lang)
    t = time.perf_counter()
    found = [split(text, lang) for text, _ in data]
    seconds = time.perf_counter() - t
    tp = fp = fn = 0
    for (_, gold), spans in zip(data, found, strict=True):
        g, s = boundaries(gold), boundaries(spans)
        tp += len(g & s)
        fp += len(s - g)
        fn += len(g - s)
    return Score(lang, tp, fp, fn, sum(len(text) for text, _ in data), seconds)


def errors(split: Splitter, lang: str, heldout: bool = False) -> list[str]:
    """Each paragraph the splitter gets wrong, with its sentences and the gold ones."""
    out = []
    for text, gold in load(lang, heldout):
        spans = split(text, lang)
        if boundaries(spans) != boundaries(gold):
            got = " | ".join(text[a:b] for a, b in spans)
            want = " | ".join(text[a:b] for a, b in gold)
            out.append(f"GOT  {got}\nWANT {want}")
    return out


# Splitters ----------------------------------------------------------------------------------
def sentencex_raw(text: str, lang: str) -> list[tuple[int, int]]:
    """The sentencex library alone, its pieces mapped back to offsets."""
    import sentencex

    spans, cursor = [], 0
    for piece in sentencex.segment(lang, text):
        piece = piece.strip()
        if not piece:
            continue
        start = text.find(piece, cursor)
        if start < 0:
            break
        spans.append((start, start + len(piece)))
        cursor = start + len(piece)
    return spans


def syntok_split(text: str, lang: str) -> list[tuple[int, int]]:
    """syntok's segmenter (language-independent), its tokens mapped back to offsets."""
    from syntok import segmenter

    spans = []
    for paragraph in segmenter.analyze(text):
        for sentence in paragraph:
            last = sentence[-1]
            spans.append((sentence[0].offset, last.offset + len(last.value)))
    return spans


def reader_split(text: str, lang: str) -> list[tuple[int, int]]:
    from reader.core.documents.segment import split_sentences

    return split_sentences(text, lang)


SPLITTERS: dict[str, Splitter] = {
    "sentencex": sentencex_raw,
    "syntok": syntok_split,
    "reader": reader_split,
}


def f1_per_language(split: Splitter = reader_split, heldout: bool = False) -> dict[str, float]:
    """Boundary F1 of `split` (default: the reader's) per language of the reference."""
    return {lang: score(split, lang, heldout=heldout).f1 for lang in _langs(heldout)}


def _langs(heldout: bool) -> tuple[str, ...]:
    return HELDOUT_LANGS if heldout else LANGS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--splitter", action="append", choices=sorted(SPLITTERS))
    parser.add_argument("--errors", action="store_true", help="print the wrong paragraphs")
    parser.add_argument(
        "--heldout", action="store_true", help="score the held-out set (en, de) instead"
    )
    args = parser.parse_args()
    names = args.splitter or list(SPLITTERS)
    print(f"{'splitter':10} {'lang':4} {'P':>6} {'R':>6} {'F1':>6} {'chars/s':>11}")
    for name in names:
        split = SPLITTERS[name]
        if name == "syntok":
            try:
                import syntok  # noqa: F401
            except ImportError:
                print("syntok      not installed (pip install syntok)")
                continue
        total = Score("all", 0, 0, 0, 0, 0.0)
        for lang in _langs(args.heldout):
            s = score(split, lang, args.heldout)
            total = Score(
                "all",
                total.tp + s.tp,
                total.fp + s.fp,
                total.fn + s.fn,
                total.chars + s.chars,
                total.seconds + s.seconds,
            )
            print(
                f"{name:10} {lang:4} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f} "
                f"{s.chars_per_second:11,.0f}"
            )
            if args.errors:
                for line in errors(split, lang, args.heldout):
                    print(line)
        print(
            f"{name:10} {'all':4} {total.precision:6.3f} {total.recall:6.3f} {total.f1:6.3f} "
            f"{total.chars_per_second:11,.0f}"
        )


if __name__ == "__main__":
    main()
