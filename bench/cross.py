"""Benchmark: cross-language search (`search(ws, q, cross=True)`) and the `mt_en` field.

    python bench/cross.py [--docs 20000] [--queries 100] [--reps 10] [--seed 0] [--profile]
                          [--reuse]

The corpus is real English news (bench/news.py, as bench/search.py builds it), with 40% of
the documents relabelled into other languages (`.md` front matter `lang: fr|de|it`, 20/10/10%)
and "translated" word by word through a small news lexicon (company -> entreprise,
Unternehmen, azienda; ...), so the corpus has four languages and the translated queries find
documents. The tiny real test models (tests/support/tiny_argos.py: hand-wired one-layer
CTranslate2 transformers, int8) translate the queries en->fr, en->de and en->it.

Two query sets: the bench queries (bench/search.py's seeded one- and two-word queries; the
tiny models leave most of their words as they are, so most translations equal the query) and
the translating queries (each bench query's first word and a lexicon word, so the fr, de and
it queries all differ from the query and from each other: the costly case). Measures, in this
process:
1. plain search and `--cross` search (top 20 with snippets, total and facets), per query:
   - cold, once per query: memo and translation cache empty for the query, so the three
     model calls count (the models are loaded by a first query, reported apart);
   - from the translation cache, once per query: memo cleared;
   - warm (the in-process memo answers): every query `--reps` times after a warm-up round
     that is not counted, plain and cross of the same query back to back in alternating
     order; the extra latency is cross minus plain of each pair (median and p95), in wall
     and in CPU time (the machine may be shared: CPU time is less noisy). Again with the top
     hit only: the two searches' hits differ, and a `.txt` hit's text is read from its file
     while a `.md` hit's comes from the index, so at 20 hits the difference also holds which
     documents were shown; at 1 hit it is the cross-language ranking's own cost;
2. index growth from `mt_en`: the index without machine translations, then rebuilt with the
   English translations of every non-English document in the translation cache. These are
   put with `TranslationCache.put_many` (synthetic: each sentence's original English, the text
   the lexicon changed, so `mt_en` holds text of real length; no model runs), which is what
   `translate --all` would leave there with a perfect model;
3. search p95 (plain and cross, warm) with `mt_en` present.
With --profile, the warm cross searches are run again under cProfile and the top functions
printed. The corpus and data go to bench/.cache/cross-N/ (not committed); --reuse keeps them
and prints the index figures of the run that built them.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import shutil
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))

import news  # noqa: E402
import search as search_bench  # noqa: E402  (bench/search.py: queries and folder sizes)

from reader.core.documents import corpus_of  # noqa: E402

LANGS = ("fr", "fr", "de", "it")  # documents 6..9 of every 10 (0..5 stay English)
LEXICON: dict[str, tuple[str, str, str]] = {  # en -> (fr, de, it)
    "company": ("entreprise", "Unternehmen", "azienda"),
    "government": ("gouvernement", "Regierung", "governo"),
    "president": ("président", "Präsident", "presidente"),
    "police": ("police", "Polizei", "polizia"),
    "people": ("gens", "Leute", "persone"),
    "market": ("marché", "Markt", "mercato"),
    "state": ("État", "Staat", "stato"),
    "city": ("ville", "Stadt", "città"),
    "world": ("monde", "Welt", "mondo"),
    "country": ("pays", "Land", "paese"),
    "week": ("semaine", "Woche", "settimana"),
    "money": ("argent", "Geld", "denaro"),
    "election": ("élection", "Wahl", "elezione"),
    "news": ("nouvelles", "Nachrichten", "notizie"),
    "refund": ("remboursement", "Rückerstattung", "rimborso"),
    "customer": ("client", "Kunde", "cliente"),
    "court": ("tribunal", "Gericht", "tribunale"),
    "school": ("école", "Schule", "scuola"),
    "children": ("enfants", "Kinder", "bambini"),
    "water": ("eau", "Wasser", "acqua"),
}
COLUMN = {"fr": 0, "de": 1, "it": 2}
_WORD = re.compile(r"\b(" + "|".join(LEXICON) + r")\b")


def lang_of(i: int) -> str:
    return "en" if i % 10 < 6 else LANGS[i % 10 - 6]


def foreign(text: str, lang: str) -> str:
    """`text` with the lexicon's words in `lang`."""
    return _WORD.sub(lambda m: LEXICON[m.group(1)][COLUMN[lang]], text)


def write_corpus(folder: Path, n: int, seed: int) -> Path:
    """`n` news articles, 40% of them relabelled and lexicon-translated (reused when done)."""
    marker = folder / f".complete-{n}-{seed}-cross1"
    if marker.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    for i, (name, text) in enumerate(news.articles(n, seed)):
        lang = lang_of(i)
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if lang == "en":
            path.write_text(text, encoding="utf-8")
        else:
            md = path.with_suffix(".md")
            md.write_text(f"---\nlang: {lang}\n---\n\n{foreign(text, lang)}", encoding="utf-8")
    marker.write_text("ok")
    return folder


def tiny_models(folder: Path) -> list[Path]:
    """en->fr, en->de, en->it tiny models whose lexicon is LEXICON (built once)."""
    from support.tiny_argos import build

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for lang in ("fr", "de", "it"):
        path = folder / f"translate-en_{lang}-0_1.argosmodel"
        if not path.exists():
            lexicon = {en: words[COLUMN[lang]] for en, words in LEXICON.items()}
            build(path, "en", lang, lexicon=lexicon)
        out.append(path)
    return out


def fill_mt_en(ws) -> tuple[int, float]:
    """Put the English "translation" of every sentence of the non-English documents into the
    translation cache (synthetic, see the module docstring); (sentences, seconds)."""
    from reader.core.translation.cache import TranslationCache

    reverse = {words[COLUMN[lang]]: en for en, words in LEXICON.items() for lang in COLUMN}
    back = re.compile(r"\b(" + "|".join(map(re.escape, reverse)) + r")\b")
    started, count = time.perf_counter(), 0
    with TranslationCache(ws.translations_path) as cache:
        for info in corpus_of(ws).infos():
            if info.lang == "en":
                continue
            doc = corpus_of(ws).load(info.id)
            inputs = [" ".join(doc.text[s.start : s.end].split()) for s in doc.sentences]
            pairs = [(s, back.sub(lambda m: reverse[m.group(1)], s)) for s in inputs]
            cache.put_many(f"synthetic-{info.lang}_en 0", "en", pairs)
            count += len(pairs)
    return count, time.perf_counter() - started


def english(ws) -> list[str]:
    """The texts of the English documents among the first 3,000 (where queries come from)."""
    corpus = corpus_of(ws)
    return [corpus.load(i.id).text for i in corpus.infos()[:3000] if i.lang == "en"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values):7.2f}  p95 {pct(values, 0.95):7.2f}"


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return value, (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def translating(queries: list[str], seed: int) -> list[str]:
    """The queries again, each made to need translating: its first word and a seeded word of
    LEXICON (`market`: fr `marché`, de `Markt`, it `mercato`). Most of the plain queries are
    names or words the tiny models leave as they are, so their translations equal the query
    and cost little; these measure the price of three really different translated queries."""
    import random

    rng = random.Random(seed)
    words = sorted(LEXICON)
    return [f"{query.split()[0]} {rng.choice(words)}" for query in queries]


def measure_cold(ws, queries: list[str]) -> dict[str, tuple[list[float], list[float]]]:
    """Wall and CPU ms per query, once each: plain (warm), cross cold (memo and translation
    cache empty for the query) and cross from the translation cache (memo cleared)."""
    from reader.core.search import cross, search

    out: dict[str, tuple[list[float], list[float]]] = {}

    def add(name: str, wall: float, cpu: float) -> None:
        out.setdefault(name, ([], []))[0].append(wall)
        out[name][1].append(cpu)

    for query in queries:
        search(ws, query, limit=20)  # postings of the original words cached, as for a warm plain
        _, wall, cpu = timed(lambda q=query: search(ws, q, limit=20))
        add("plain", wall, cpu)
        result, wall, cpu = timed(lambda q=query: search(ws, q, limit=20, cross=True))
        assert result.error is None and len(result.queries or []) == 4, (query, result.queries)
        add("cold", wall, cpu)
        cross.forget_memo()
        _, wall, cpu = timed(lambda q=query: search(ws, q, limit=20, cross=True))
        add("cache", wall, cpu)
    return out


def measure_warm(
    ws, queries: list[str], reps: int, limit: int = 20
) -> dict[str, tuple[list[float], list[float]]]:
    """Wall and CPU ms of plain and warm cross search (the in-process memo answers), `reps`
    times each query after a warm-up round that is not counted; plain and cross of the same
    query run back to back, in alternating order, so drift and load hit both alike. "extra"
    is cross minus plain of each pair. Their hits differ, and so does what a hit costs (the
    text of a `.txt` hit is read from its file, a `.md` hit's from the index): with `limit`
    1 that difference shrinks to one hit, and what is left is the cost of the cross-language
    ranking itself."""
    import gc

    from reader.core.search import search

    def plain(q: str):
        return search(ws, q, limit=limit)

    def crossed(q: str):
        return search(ws, q, limit=limit, cross=True)

    for query in queries:  # warm-up, not counted
        plain(query), crossed(query), plain(query), crossed(query)
    gc.collect()
    out: dict[str, tuple[list[float], list[float]]] = {
        name: ([], []) for name in ("plain", "warm", "extra")
    }
    for rep in range(reps):
        for i, query in enumerate(queries):
            order = (plain, crossed) if (rep + i) % 2 else (crossed, plain)
            got = {}
            for fn in order:
                _, wall, cpu = timed(lambda f=fn, q=query: f(q))
                got[fn] = (wall, cpu)
            for name, fn in (("plain", plain), ("warm", crossed)):
                out[name][0].append(got[fn][0])
                out[name][1].append(got[fn][1])
            out["extra"][0].append(got[crossed][0] - got[plain][0])
            out["extra"][1].append(got[crossed][1] - got[plain][1])
    return out


def report_cold(title: str, times: dict[str, tuple[list[float], list[float]]]) -> None:
    print(f"\n{title} (ms; {len(times['plain'][0])} queries, once each)")
    plain_w, plain_c = times["plain"]
    print(f"  plain search           wall {summary(plain_w)}   cpu {summary(plain_c)}")
    for name, label in (("cold", "cross cold"), ("cache", "cross (translation cache)")):
        wall, cpu = times[name]
        print(f"  {label:25} wall {summary(wall)}   cpu {summary(cpu)}")
        extra_w = [a - b for a, b in zip(wall, plain_w, strict=True)]
        extra_c = [a - b for a, b in zip(cpu, plain_c, strict=True)]
        print(f"    extra over plain        wall {summary(extra_w)}   cpu {summary(extra_c)}")


def report_warm(title: str, times: dict[str, tuple[list[float], list[float]]], reps: int) -> None:
    pairs = len(times["plain"][0])
    print(f"\n{title} (ms; {pairs // reps} queries x {reps} repetitions, warm-up not counted)")
    for name, label in (("plain", "plain search"), ("warm", "cross warm (memo)"),
                        ("extra", "extra (cross - plain)")):  # fmt: skip
        wall, cpu = times[name]
        print(f"  {label:25} wall {summary(wall)}   cpu {summary(cpu)}")


def profile_warm(ws, queries: list[str]) -> None:
    from reader.core.search import search

    for query in queries:
        search(ws, query, limit=20, cross=True)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(3):
        for query in queries:
            search(ws, query, limit=20, cross=True)
    profiler.disable()
    calls = 3 * len(queries)
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    print(f"\ncProfile of warm cross searches ({calls} calls, {1000 * total / calls:.2f} ms each)")
    rows = []
    for (file, line, func), (_cc, _nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((ct, tt, f"{Path(file).name}:{line}:{func}"))
    print("  cumulative ms/call  own ms/call  function")
    for ct, tt, name in sorted(rows, reverse=True)[:28]:
        print(f"  {1000 * ct / calls:10.3f}  {1000 * tt / calls:10.3f}  {name}")


def build_all(work: Path, args: argparse.Namespace):
    """The corpus, the index without and with mt_en (sizes, plain p95); (ws, queries, the
    lines printed about the index, which a later --reuse run prints again)."""
    from reader.core.search import search, update_index
    from reader.core.search.whoosh.index import forget_index
    from reader.core.translation.models import install_model_file
    from reader.core.workspace import Workspace

    started = time.perf_counter()
    lines: list[str] = []

    def say(line: str) -> None:
        print(line)
        lines.append(line)

    corpus = write_corpus(work / "corpus", args.docs, args.seed)
    data = work / "data"
    shutil.rmtree(data, ignore_errors=True)
    ws = Workspace.open(corpus, data)
    for path in tiny_models(HERE / ".cache" / "cross-models"):
        install_model_file(ws, path)
    print(f"corpus: {args.docs} news articles (60% en, 20% fr, 10% de, 10% it) in {corpus}")
    print(f"  (corpus and models ready in {time.perf_counter() - started:.1f} s)")

    stats = update_index(ws)
    size_plain = search_bench.folder_mb(ws.index_dir)
    say(f"index without mt_en: {stats.seconds:.1f} s, {size_plain:.1f} MB")
    queries = search_bench.make_queries(english(ws), args.queries, args.seed)
    plain_w, plain_p95, _ = search_bench.timings(search_bench.whoosh_search(ws), queries)
    say(f"plain search, no mt_en: median {plain_w:.2f} ms  p95 {plain_p95:.2f} ms")

    sentences, fill_s = fill_mt_en(ws)
    say(f"translation cache: {sentences} English sentences put in {fill_s:.1f} s (put_many)")
    forget_index(ws)
    stats = update_index(ws, rebuild=True)
    size_mt = search_bench.folder_mb(ws.index_dir)
    non_en = sum(1 for i in corpus_of(ws).infos() if i.lang != "en")
    say(
        f"index with mt_en ({non_en} documents translated): {stats.seconds:.1f} s, "
        f"{size_mt:.1f} MB: +{size_mt - size_plain:.1f} MB "
        f"(+{100 * (size_mt / size_plain - 1):.0f}%)"
    )
    plain_w, plain_p95, _ = search_bench.timings(search_bench.whoosh_search(ws), queries)
    say(f"plain search, with mt_en: median {plain_w:.2f} ms  p95 {plain_p95:.2f} ms")
    result = search(ws, "refund", limit=5, cross=True)
    print(f"  check: `refund --cross` queries {[q['text'] for q in result.queries or []]}, "
          f"{result.total} hits, facets {result.facets['lang']}")  # fmt: skip
    vias = {h.via["field"] if h.via else None for h in search(ws, "company", cross=True).hits}
    print(f"  check: `company --cross` hits matched via {sorted(map(str, vias))}")

    return ws, queries, lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reps", type=int, default=10, help="warm repetitions per query")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the index with mt_en of the last run: queries only",
    )
    parser.add_argument("--work", type=Path, default=None, help="default bench/.cache/cross-N")
    args = parser.parse_args()

    work = args.work or HERE / ".cache" / f"cross-{args.docs}"
    home = work / "home"  # argos and XDG folders of this run only
    os.environ["HOME"] = str(home)
    os.environ["XDG_DATA_HOME"] = str(home / ".local" / "share")
    os.environ["XDG_CACHE_HOME"] = str(home / ".cache")
    for name in ("READER_DATA_DIR", "ARGOS_PACKAGES_DIR", "ARGOS_INTER_THREADS",
                 "ARGOS_INTRA_THREADS"):  # fmt: skip
        os.environ.pop(name, None)

    from reader.core.search import cross, search
    from reader.core.workspace import Workspace

    data = work / "data"
    ready = data / ".cross-mt-ready"
    if args.reuse and ready.exists():
        ws = Workspace.open(work / "corpus", data)
        print(f"reusing the corpus and the index with mt_en of the last run in {work}")
        for line in ready.read_text(encoding="utf-8").splitlines()[1:]:
            print(f"  (that run) {line}")
        queries = search_bench.make_queries(english(ws), args.queries, args.seed)
    else:
        ws, queries, lines = build_all(work, args)
        ready.write_text("\n".join(["ok", *lines]), encoding="utf-8")
    tried = translating(queries, args.seed)
    fresh = search_bench.timings(search_bench.whoosh_search(ws), queries + tried)
    print(f"plain search, each query the first time in this process: median {fresh[0]:.2f} ms"
          f"  p95 {fresh[1]:.2f} ms")  # fmt: skip
    cross.forget_memo()
    _, first_ms, first_cpu = timed(lambda: search(ws, "first query", limit=20, cross=True))
    print(f"first cross query of the process (three tiny models loaded): {first_ms:.0f} ms "
          f"wall, {first_cpu:.0f} ms cpu")  # fmt: skip
    title = f"cross-language search with mt_en, {args.docs} documents"
    cold = measure_cold(ws, queries)
    report_cold(f"{title}, bench queries", cold)
    cold_t = measure_cold(ws, tried)
    report_cold(f"{title}, translating queries", cold_t)
    warm = measure_warm(ws, queries, args.reps)
    report_warm(f"{title}, bench queries", warm, args.reps)
    warm_t = measure_warm(ws, tried, args.reps)
    report_warm(f"{title}, translating queries", warm_t, args.reps)
    one = measure_warm(ws, queries, args.reps, limit=1)
    report_warm(f"{title}, bench queries, top 1 only", one, args.reps)
    one_t = measure_warm(ws, tried, args.reps, limit=1)
    report_warm(f"{title}, translating queries, top 1 only", one_t, args.reps)

    print("\ntargets: warm --cross at most 1 ms over plain search; search p95 with mt_en <= 20 ms")
    for label, times in (("bench queries", warm), ("translating queries", warm_t),
                         ("bench, top 1", one), ("translating, top 1", one_t)):  # fmt: skip
        extra = statistics.median(times["extra"][0])
        print(
            f"  {label:20} warm extra median {extra:5.2f} ms "
            f"(p95 {pct(times['extra'][0], 0.95):.2f}) {'ok' if extra <= 1 else 'MISSED'}"
        )
    p95 = pct(warm["plain"][0] + warm_t["plain"][0], 0.95)
    print(
        f"  plain p95 with mt_en: {fresh[1]:.1f} ms a new query "
        f"{'ok' if fresh[1] <= 20 else 'MISSED'}, {p95:.1f} ms again "
        f"{'ok' if p95 <= 20 else 'MISSED'}; "
        f"cross warm p95 {pct(warm['warm'][0] + warm_t['warm'][0], 0.95):.1f} ms; "
        f"cross cold p95 {pct(cold['cold'][0] + cold_t['cold'][0], 0.95):.1f} ms"
    )
    if args.profile:
        profile_warm(ws, queries[:50] + tried[:50])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
