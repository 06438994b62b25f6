"""Cross-language queries, engine-neutral: which language a query is in, and the query
translated into every other language of the corpus that a model reaches.

Only the free text is translated. Field filters (`lang:`, `date:`, `tag:`, `title:`, …),
operators (AND OR NOT, `-`, `+`), parentheses, prefixes (`refu*`), wildcards and fuzzy words
(`tesla~`) are kept as they are in every translated query; a run of plain words is translated
as one piece (context helps the model), and a "quoted phrase" as a phrase. Translations come
from the translation cache (so retyping costs nothing) or from the installed models, directly
or through English, and are memoised in this process too.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from reader.core.documents import corpus_of

if TYPE_CHECKING:
    from reader.core.workspace import Workspace

DETECT_MIN_WORDS = 4  # shorter queries are never guessed: the `query_lang` setting applies
DETECT_MIN_LETTERS = 20
DETECT_MIN_SCORE = 0.8
_TOKEN = re.compile(
    r'[-+]?"[^"]*"'  # a phrase, maybe marked
    r"|[-+]?[A-Za-z_]\w*:(?:\[[^\]]*\]|\{[^}]*\}|\([^()]*\)|\"[^\"]*\"|\S+)"  # a field filter
    r"|[()]"  # parentheses
    r"|[^\s()]+"  # a word or anything else
)
_PLAIN = re.compile(r"[-+]?[^\W_][\w'’.-]*")  # a word (no *, ?, ~, ^ or field)
OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"})


@dataclass(frozen=True)
class Piece:
    """A part of a query: `text` to translate (a run of words, or a phrase's inside) or
    `kept` verbatim; `mark` is "-" or "+" before a word or phrase."""

    text: str = ""
    kept: str = ""
    phrase: bool = False
    mark: str = ""


def pieces(query: str) -> list[Piece]:
    """`query` cut into translatable text and verbatim parts (see the module docstring)."""
    out: list[Piece] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            out.append(Piece(text=" ".join(run)))
            run.clear()

    for token in _TOKEN.findall(query):
        mark = token[0] if token[0] in "-+" and len(token) > 1 else ""
        body = token[len(mark) :]
        if body.startswith('"') and body.endswith('"') and len(body) >= 2:
            flush()
            out.append(Piece(text=body[1:-1], phrase=True, mark=mark))
        elif _PLAIN.fullmatch(token) and body not in OPERATORS and ":" not in body:
            if mark:  # `-musk`: its own piece, so the mark stays on the translation
                flush()
                out.append(Piece(text=body, mark=mark))
            else:
                run.append(body)
        else:
            flush()
            out.append(Piece(kept=token))
    flush()
    return out


def texts(parts: Sequence[Piece]) -> list[str]:
    """The texts a query's pieces need translated, in order."""
    return [p.text for p in parts if p.text]


def matched_words(query: str) -> str:
    """What a translated query looks for, as a hit's `via` shows it: its words and phrases,
    without filters, operators or excluded words ("remboursement", not
    "remboursement lang:fr -tribunal")."""
    return " ".join(
        f'"{p.text}"' if p.phrase else p.text for p in pieces(query) if p.text and p.mark != "-"
    )


def assemble(parts: Sequence[Piece], translated: dict[str, str]) -> str:
    """The query again, each text replaced by its translation (kept parts as they were)."""
    out = []
    for part in parts:
        if not part.text:
            out.append(part.kept)
            continue
        text = " ".join(translated.get(part.text, part.text).replace('"', " ").split())
        if not text:
            continue
        if part.phrase:
            out.append(f'{part.mark}"{text}"')
        elif part.mark:
            out.append(" ".join(f"{part.mark}{word}" for word in text.split()))
        else:
            out.append(text)
    return " ".join(out)


def query_language(ws: Workspace, query: str, given: str | None = None) -> str:
    """The language `query` is written in: `given` (--from), else detection when the free text
    is long enough to be reliable, else the `query_lang` setting (default en)."""
    if given:
        return given.lower()
    free = " ".join(texts(pieces(query)))
    letters = sum(ch.isalpha() for ch in free)
    if len(free.split()) >= DETECT_MIN_WORDS and letters >= DETECT_MIN_LETTERS:
        from reader.core.documents.language import detect

        found = detect(free)
        if found.confidence is not None and found.confidence >= DETECT_MIN_SCORE:
            return found.lang
    return ws.settings.query_lang or "en"


@dataclass
class Translated:
    """One query's versions: the language it is in, each reachable language's translation,
    and the language pairs no installed model reaches."""

    source: str
    queries: dict[str, str] = field(default_factory=dict)  # lang -> translated query
    missing: list[tuple[str, str]] = field(default_factory=list)


_memo: dict[tuple[str, str, str, str], str] = {}  # (models key, from, to, text) -> text
_memo_lock = threading.Lock()


def translate_query(
    ws: Workspace,
    query: str,
    langs: Sequence[str],
    *,
    given: str | None = None,
    translate: Callable[[Workspace, str, str, list[str]], list[str] | None] | None = None,
    cache: OpenCache | None = None,
) -> Translated:
    """`query` translated into each of `langs` (other than its own) that a model reaches.

    `translate(ws, from, to, texts)` defaults to the installed models through the
    translation cache (`cache`, else one opened here when a translation is not memoised);
    it returns None when no route exists.
    """
    if translate is not None:
        return _translated(ws, query, langs, given, translate, cache, None)
    models_key, models = _installed_keyed(ws)  # read once for every language
    key = (models_key, query, given, ws.settings.query_lang, tuple(langs))
    with _memo_lock:
        known = _queries.get(key)
        if known is not None:
            _queries.move_to_end(key)
    if known is None:
        known = _translated(ws, query, langs, given, None, cache, models)
        with _memo_lock:
            _queries[key] = known
            while len(_queries) > QUERIES_KEEP:
                _queries.popitem(last=False)
    return Translated(known.source, dict(known.queries), list(known.missing))


QUERIES_KEEP = 4096  # whole queries whose translations are remembered (retyping, paging)
_queries: OrderedDict[tuple, Translated] = OrderedDict()


def _translated(
    ws: Workspace,
    query: str,
    langs: Sequence[str],
    given: str | None,
    translate: Callable[[Workspace, str, str, list[str]], list[str] | None] | None,
    cache: OpenCache | None,
    models: list | None,
) -> Translated:
    source = query_language(ws, query, given)
    result = Translated(source)
    parts = pieces(query)
    wanted = list(dict.fromkeys(texts(parts)))
    if not wanted:
        return result
    opened = cache or OpenCache(ws)
    try:
        targets = [lang for lang in langs if lang != source and lang and lang != "und"]
        ready: dict[str, list[str] | None] = {}
        routed = _routed(ws, source, targets, models) if translate is None else []
        if len(routed) > 1:  # each language's model on its own core
            pool = _pool()
            jobs = [pool.submit(translate_texts, ws, source, lang, wanted, cache=opened,
                                models=models) for lang in routed]  # fmt: skip
            ready = dict(zip(routed, [job.result() for job in jobs], strict=True))
        for lang in targets:
            if lang in ready:
                done = ready[lang]
            elif translate is None:
                done = translate_texts(ws, source, lang, wanted, cache=opened, models=models)
            else:
                done = translate(ws, source, lang, wanted)
            if done is None:
                result.missing.append((source, lang))
                continue
            result.queries[lang] = assemble(parts, dict(zip(wanted, done, strict=True)))
    finally:
        if cache is None:
            opened.close()
    return result


_pools: list[ThreadPoolExecutor] = []
_pools_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """The threads that translate a query's languages side by side, one per core, kept
    between queries: starting them for each query costs about 1 ms, more than a query whose
    translations the translation cache has. The jobs never wait on one another."""
    with _pools_lock:
        if not _pools:
            _pools.append(ThreadPoolExecutor(os.cpu_count() or 1, "query-translation"))
        return _pools[0]


def _forget_pool() -> None:  # a forked child has none of the parent's threads
    global _pools_lock
    _pools.clear()
    _pools_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


def _routed(ws: Workspace, source: str, targets: list[str], models: list | None) -> list[str]:
    """The targets that an installed model reaches from `source`."""
    from reader.core.translation.service import find_route

    models = _installed(ws) if models is None else models
    return [lang for lang in targets if find_route(models, source, lang) is not None]


def installs_for(ws: Workspace, pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The models to install so that every (from, to) pair in `pairs` is reached: through
    English when neither side is English (Argos publishes models to and from English), less
    the ones installed; in order, each once."""
    from reader.core.translation.service import PIVOT

    have = {(m.from_code, m.to_code) for m in _installed(ws)}
    out: list[tuple[str, str]] = []
    for a, b in pairs:
        legs = [(a, b)] if PIVOT in (a, b) else [(a, PIVOT), (PIVOT, b)]
        out += [leg for leg in legs if leg not in have and leg not in out]
    return out


class OpenCache:
    """The translation cache, opened on first use (once per search, not once per language or
    per hit; a query translated before opens nothing) and closed by `close()`."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._cache: Any = None
        self._lock = threading.Lock()  # a query's languages may open it from two threads

    def __call__(self) -> Any:
        with self._lock:
            if self._cache is None:
                from reader.core.translation.cache import TranslationCache

                self._cache = TranslationCache(self.ws.translations_path)
            return self._cache

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None


_models_seen: dict[tuple, list] = {}  # package folders and their mtimes -> installed models


def _installed(ws: Workspace) -> list:
    """The installed models, read again only when a package folder changed (installing or
    removing a package adds or removes a folder in it): a query does not re-read every
    package's metadata.json for each target language."""
    return _installed_keyed(ws)[1]


def _installed_keyed(ws: Workspace) -> tuple[tuple, list]:
    """The package folders with their modification times, and the installed models."""
    from reader.core.translation.models import installed_models

    seen = []
    for folder in _package_folders(ws):
        try:
            seen.append((folder, os.stat(folder).st_mtime_ns))
        except OSError:  # not there (yet): creating it changes the key
            seen.append((folder, None))
    key = tuple(seen)
    with _memo_lock:
        found = _models_seen.get(key)
    if found is None:
        found = installed_models(ws)
        with _memo_lock:
            _models_seen.clear()
            _models_seen[key] = found
    return key, found


_folders: dict[tuple, list[str]] = {}


def _package_folders(ws: Workspace) -> list[str]:
    """Every folder that may hold installed packages (`package_dirs`, with argos' own folder
    whether it exists or not), worked out once per data folder and environment: a query only
    stats them."""
    from reader.core.translation.models import packages_dir, user_argos_packages_dir

    env = tuple(os.environ.get(name) for name in ("ARGOS_PACKAGES_DIR", "XDG_DATA_HOME", "HOME"))
    key = (str(ws.argos_dir), *env)
    found = _folders.get(key)
    if found is None:
        if len(_folders) > 64:
            _folders.clear()
        found = _folders[key] = [str(packages_dir(ws)), str(user_argos_packages_dir())]
    return found


def translate_texts(
    ws: Workspace,
    source: str,
    target: str,
    items: list[str],
    *,
    cache: OpenCache | None = None,
    models: list | None = None,
) -> list[str] | None:
    """Texts translated from `source` into `target` by the installed models (`models`, else
    those installed now; cache first, memoised per process), or None when no model route
    exists."""
    from reader.core.translation.service import find_route

    route = find_route(_installed(ws) if models is None else models, source, target)
    if route is None:
        return None
    key = "|".join(leg.key for leg in route.legs)  # model ids and versions
    with _memo_lock:
        known = {t: _memo.get((key, source, target, t)) for t in items}
    todo = [t for t, v in known.items() if v is None]
    if todo:
        from reader.core.translation.service import translate_inputs

        opened = cache or OpenCache(ws)
        try:
            outputs, _cached = translate_inputs(ws, opened(), route, todo, phrases=True)
        finally:
            if cache is None:
                opened.close()
        with _memo_lock:
            for text, out in zip(todo, outputs, strict=True):
                _memo[(key, source, target, text)] = known[text] = out
    return [known[t] or t for t in items]


def forget_memo() -> None:
    """Drop memoised query translations (tests; after models change)."""
    with _memo_lock:
        _memo.clear()
        _queries.clear()
        _models_seen.clear()


# Searching -------------------------------------------------------------------------------
def ranked(
    ws: Workspace,
    query: str,
    *,
    limit: int,
    offset: int,
    from_lang: str | None,
    tag_docs: Callable[[], dict[str, list[str]]],
) -> tuple[Any, list[tuple[str, str]]]:
    """The cross-language SearchResult of `query` (hits with `via`), and the language pairs
    no model reached. The query as typed searches every document; its translation into a
    language searches that language's documents with that language's analysis; the query
    as typed also searches the machine translations into its own language (`mt_<lang>`)."""
    from reader.core.search.whoosh import crossrank

    opened = OpenCache(ws)  # one connection for the query's translations and the vias
    try:
        # the languages the last search saw (no look at the index files); should the index
        # now hold others, the search says so and runs again with the query translated anew
        langs = crossrank.languages(ws, seen=True)
        return _ranked(ws, query, langs, limit, offset, from_lang, tag_docs, opened)
    finally:
        opened.close()


def _ranked(
    ws: Workspace,
    query: str,
    langs: list[str],
    limit: int,
    offset: int,
    from_lang: str | None,
    tag_docs: Callable[[], dict[str, list[str]]],
    opened: OpenCache,
) -> tuple[Any, list[tuple[str, str]]]:
    from reader.core.search.api import Hit, SearchResult
    from reader.core.search.highlight import make_snippets
    from reader.core.search.whoosh import crossrank

    page = {"limit": max(1, limit), "offset": max(0, offset), "tag_docs": tag_docs}
    for _attempt in range(2):
        versions = translate_query(ws, query, langs, given=from_lang, cache=opened)
        source = versions.source
        subs = [crossrank.Sub(query)]
        subs += [crossrank.Sub(text, lang=lang) for lang, text in sorted(versions.queries.items())]
        subs.append(crossrank.Sub(query, mt=source))
        found = crossrank.run(ws, subs, **page)
        if found.langs == langs:
            break
        langs = found.langs  # the index changed since the languages were read: again
    result = SearchResult(query, offset=offset, total=found.total, error=found.error)
    result.facets = {"lang": found.facets}
    result.queries = [{"lang": source, "text": query, "source": "original"}] + [
        {"lang": lang, "text": text, "source": "translated"}
        for lang, text in sorted(versions.queries.items())
    ]
    for hit, best, original in zip(found.found, found.best, found.original, strict=True):
        sub = subs[best]
        via, snippets = None, None
        if original:
            spans = _marker(query, hit.lang).spans(hit.text, hit.lang)
        elif sub.mt is None:
            via = {"lang": sub.lang, "text": matched_words(sub.query), "field": "query"}
            spans = _marker(sub.query, hit.lang).spans(hit.text, hit.lang)
        else:
            key = (str(ws.index_dir), found.generation, hit.id, query, source)
            with _memo_lock:
                known = _vias.get(key)
                if known is not None:
                    _vias.move_to_end(key)
            if known is None:
                known = _through_translation(ws, hit, query, source, opened())
                with _memo_lock:
                    _vias[key] = known
                    while len(_vias) > VIAS_KEEP:
                        _vias.popitem(last=False)
            via, snippets = dict(known[0]), [replace(s) for s in known[1]]
            spans = []
        if snippets is None:
            snippets = make_snippets(hit.text, spans)
        result.hits.append(Hit.of(hit, snippets, via=via, cross=True))
    return result, versions.missing


VIAS_KEEP = 2048  # hits found through a translation whose `via` is remembered, by
# (index folder, index generation, document, query, language): a new generation (a changed
# document, a refreshed `mt_<lang>`) misses
_vias: OrderedDict[tuple, tuple[dict, list]] = OrderedDict()


@lru_cache(maxsize=4096)
def _marker(query: str, lang: str | None) -> Any:
    """The highlighter of `query` for a document in `lang` (parsed once per process)."""
    from reader.core.search.whoosh import engine

    return engine.highlighter(query, lang)


def _through_translation(
    ws: Workspace, hit: Any, query: str, source: str, cache: Any
) -> tuple[dict, list]:
    """`via` for a hit found in its machine translation: the translated sentence that
    matched, and a snippet of the original sentence it translates. The translation is the
    one the index holds (`machine_text`: the newest cached translation by any model)."""
    from reader.core.search.highlight import Snippet
    from reader.core.translation.cache import sentence_key

    doc = corpus_of(ws).load(hit.id)
    marker = _marker(query, source)
    # keyed as the translation service keys a sentence: its words on one line
    keys = [sentence_key(" ".join(doc.text[s.start : s.end].split())) for s in doc.sentences]
    found = cache.get_any(source, keys)
    first = None
    for sentence, key in zip(doc.sentences, keys, strict=True):
        translation = found.get(key)
        if not translation:
            continue
        first = first or (sentence, translation)
        if marker.spans(translation, source):
            first = (sentence, translation)
            break
    if first is None:
        return {"lang": source, "text": "", "field": "translation"}, []
    sentence, translation = first
    snippet = Snippet(doc.text[sentence.start : sentence.end], sentence.start, sentence.end, [])
    return {"lang": source, "text": translation, "field": "translation"}, [snippet]
