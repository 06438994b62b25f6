"""Translation benchmarks, with the tiny test model (built here, offline).

1. Pipeline overhead: `translate_document` on an empty cache (our sentences, tokenizing,
   one batch per paragraph, decoding, cache writes) against raw
   `ctranslate2.Translator.translate_batch` on the same pre-tokenized paragraphs with the same
   options. Target: <= 1.2x.
2. A 50-paragraph article from the cache (`cached_translation`, and `translate_document` when
   everything is cached). Target: <= 20 ms.
3. The import time the first translation pays (fresh process): argostranslate + CTranslate2
   import, model load, first paragraph.

Usage: python bench/translate.py [--paragraphs 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from support.tiny_argos import build  # noqa: E402

WORDS = (
    "le",
    "chat",
    "dort",
    "sur",
    "la",
    "table",
    "les",
    "journaux",
    "publient",
    "des",
    "articles",
    "la",
    "ville",
    "est",
    "belle",
    "et",
    "le",
    "soleil",
    "brille",
    "nous",
    "lisons",
    "les",
    "nouvelles",
    "du",
    "matin",
    "Bonjour",
    "monde",
)


def article(paragraphs: int, seed: int = 7) -> str:
    """A French-looking article: paragraphs of 3-5 sentences of 6-14 words."""
    rng = random.Random(seed)
    out = []
    for _ in range(paragraphs):
        sentences = []
        for _ in range(rng.randint(3, 5)):
            words = [rng.choice(WORDS) for _ in range(rng.randint(6, 14))]
            sentences.append(" ".join(words).capitalize() + ".")
        out.append(" ".join(sentences))
    return "\n\n".join(out) + "\n"


def best(func, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return min(times)


FIRST_TRANSLATION = """
import json, sys, time
started = time.perf_counter()
from reader.core.workspace import Workspace
from reader.core.documents.ingest import document_from_text
ws = Workspace.open(sys.argv[1])
doc = document_from_text("Bonjour le monde. Le chat dort sur la table.", "x.txt")
ready = time.perf_counter()
from reader.core.translation.models import argos, installed_models
argos(ws)
import ctranslate2
imported = time.perf_counter()
from reader.core.translation.service import backend_for, translate_document
backend_for(ws, installed_models(ws)[0]).load()
loaded = time.perf_counter()
translate_document(ws, doc)
first = time.perf_counter()
doc2 = document_from_text("Les journaux publient des articles. La ville est belle.", "y.txt")
translate_document(ws, doc2)
second = time.perf_counter()
print(json.dumps({"import": imported - ready, "load": loaded - imported,
                  "first": first - loaded, "warm": second - first, "startup": ready - started}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import ctranslate2

    from reader.core.documents.ingest import document_from_text
    from reader.core.translation.models import install_model_file
    from reader.core.translation.service import (
        backend_for,
        cached_translation,
        clear_cache,
        passage_translation,
        translate_document,
    )
    from reader.core.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        corpus = tmp / "corpus"
        corpus.mkdir()
        ws = Workspace.open(corpus)
        info = install_model_file(ws, build(tmp / "fr_en.argosmodel"))
        text = article(args.paragraphs)
        doc = document_from_text(text, "article.txt")
        n_sent = len(doc.sentences)
        print(f"article: {len(doc.paragraphs)} paragraphs, {n_sent} sentences, {len(text)} chars")

        # 1. overhead against raw CTranslate2 ------------------------------------------------
        backend = backend_for(ws, info)
        backend.load()
        tokenizer = backend._pkg.tokenizer
        options = dict(backend._options)
        import argostranslate.settings as settings

        raw = ctranslate2.Translator(  # the same threads as the pipeline's (argos' settings)
            str(info.path / "model"),
            device=settings.device,
            inter_threads=settings.inter_threads,
            intra_threads=settings.intra_threads,
        )
        print(f"CTranslate2 intra_threads={settings.intra_threads} (ARGOS_INTRA_THREADS)")
        batches = [
            [tokenizer.encode(" ".join(doc.text[s.start : s.end].split())) for s in p.sentences]
            for p in doc.paragraphs
        ]

        def run_raw() -> None:
            for batch in batches:
                raw.translate_batch(batch, **options)

        def run_pipeline() -> None:
            translate_document(ws, doc)

        run_raw()  # warm up both
        run_pipeline()
        t_raw, t_pipe = [], []
        for _ in range(args.repeat):  # interleaved, so load changes hit both alike
            t_raw.append(best(run_raw, 1))
            clear_cache(ws)  # not timed
            t_pipe.append(best(run_pipeline, 1))
        raw_s, pipe_s = min(t_raw), min(t_pipe)
        print(
            f"raw translate_batch: {raw_s * 1000:.1f} ms; pipeline (empty cache): "
            f"{pipe_s * 1000:.1f} ms; overhead ratio {pipe_s / raw_s:.3f}x (target <= 1.2x)"
        )

        # 2. from the cache ------------------------------------------------------------------
        translate_document(ws, doc)
        cached_times = []
        for _ in range(20):
            started = time.perf_counter()
            result = cached_translation(ws, doc)
            cached_times.append(time.perf_counter() - started)
        assert all(s.cached for s in result.sentences)
        full_cached = best(lambda: translate_document(ws, doc), 10)
        mid = doc.paragraphs[len(doc.paragraphs) // 2]
        passage = best(lambda: passage_translation(ws, doc, mid.start, mid.end), 20)
        print(
            f"cached_translation of {len(doc.paragraphs)} paragraphs: median "
            f"{statistics.median(cached_times) * 1000:.2f} ms, max {max(cached_times) * 1000:.2f}"
            f" ms (target <= 20 ms); translate_document all cached: {full_cached * 1000:.2f} ms;"
            f" passage_translation of a paragraph: {passage * 1000:.2f} ms"
        )

        # 3. the first translation in a fresh process -----------------------------------------
        runs = []
        for _ in range(args.repeat):
            clear_cache(ws)
            out = subprocess.run(
                [sys.executable, "-c", FIRST_TRANSLATION, str(corpus)],
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(out.stdout))
        first = {key: min(r[key] for r in runs) for key in runs[0]}
        print(
            f"first translation in a fresh process: import argostranslate+ctranslate2 "
            f"{first['import'] * 1000:.0f} ms, model load {first['load'] * 1000:.0f} ms, "
            f"first 2-sentence document {first['first'] * 1000:.0f} ms; a second uncached "
            f"document {first['warm'] * 1000:.0f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
