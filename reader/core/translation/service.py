"""Sentence-aligned offline translation of documents (argostranslate + CTranslate2), cached.

We translate our own sentences: each paragraph's sentences go to the model in one CTranslate2
batch and come back one translation per sentence, so source and translation align by offsets.
No sentence-boundary model is involved (argostranslate's MiniSBD would download one, Stanza
fetches resources online): the sentence splitter handed to the argos pipeline is
`GivenSentences`, which returns our sentences unchanged.

Nothing here imports argostranslate or ctranslate2 at module import time: they are imported
by the first real translation (`translate_document`), never by the cache-only readers
`cached_translation` and `passage_translation`.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from reader.core.documents import corpus_of
from reader.core.documents.model import Document, Paragraph, Sentence
from reader.core.errors import ReaderError
from reader.core.translation.cache import TranslationCache, sentence_key
from reader.core.translation.models import ModelInfo, argos, installed_models
from reader.core.workspace import Workspace

PIVOT = "en"
UNKNOWN_LANGS = ("", "und")

_NAMES = {
    "ar": "Arabic", "az": "Azerbaijani", "bg": "Bulgarian", "bn": "Bengali", "ca": "Catalan",
    "cs": "Czech", "da": "Danish", "de": "German", "el": "Greek", "en": "English",
    "eo": "Esperanto", "es": "Spanish", "et": "Estonian", "eu": "Basque", "fa": "Persian",
    "fi": "Finnish", "fr": "French", "ga": "Irish", "gl": "Galician", "he": "Hebrew",
    "hi": "Hindi", "hu": "Hungarian", "id": "Indonesian", "it": "Italian", "ja": "Japanese",
    "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian", "ms": "Malay", "nb": "Norwegian",
    "nl": "Dutch", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian",
    "sk": "Slovak", "sl": "Slovenian", "sq": "Albanian", "sv": "Swedish", "th": "Thai",
    "tl": "Tagalog", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese",
    "zh": "Chinese", "zt": "Chinese (traditional)", "und": "an unknown language",
}  # fmt: skip


def language_name(code: str) -> str:
    """The English name of a language code ("fr" -> "French"); the code itself if unknown."""
    return _NAMES.get(code.lower(), code)


# Errors ------------------------------------------------------------------------------------
class TranslationError(ReaderError):
    """A document cannot be translated."""


class ModelMissing(TranslationError):
    """No installed model (direct or through English) translates from_code -> to_code."""

    def __init__(self, from_code: str, to_code: str) -> None:
        self.from_code, self.to_code = from_code, to_code
        pivot = (
            f"; {from_code}→{PIVOT} plus {PIVOT}→{to_code} works too"
            if PIVOT not in (from_code, to_code)
            else ""
        )
        super().__init__(
            f"no {language_name(from_code)}→{language_name(to_code)} translation model is "
            f"installed. Install one with `reader models install {from_code} {to_code}` "
            f"(needs network) or `reader models install FILE.argosmodel` (a downloaded "
            f"package){pivot}."
        )


class SameLanguage(TranslationError):
    """The document is already in the target language."""

    def __init__(self, doc_id: str, lang: str) -> None:
        self.doc_id, self.lang = doc_id, lang
        super().__init__(f"{doc_id} is already in {language_name(lang)}: nothing to translate")


# Results -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SentenceTranslation:
    """One source sentence `text[start:end]` and its translation (None: not cached yet)."""

    start: int
    end: int
    source: str
    translation: str | None
    cached: bool
    index: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "source": self.source,
            "translation": self.translation,
            "cached": self.cached,
        }


@dataclass(frozen=True, slots=True)
class ParagraphTranslation:
    """A paragraph's sentences, aligned one to one with the document's sentences."""

    start: int
    end: int
    sentences: tuple[SentenceTranslation, ...]
    index: int = 0

    @property
    def text(self) -> str:
        """The translated paragraph (sentences not translated yet are left out)."""
        return " ".join(s.translation for s in self.sentences if s.translation)

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "sentences": [s.to_json() for s in self.sentences],
        }


@dataclass
class DocumentTranslation:
    """A document's translation; `paragraphs` may stop short when `cancelled`."""

    doc: str
    from_code: str
    to_code: str
    model: str
    paragraphs: list[ParagraphTranslation] = field(default_factory=list)
    cancelled: bool = False

    @property
    def sentences(self) -> list[SentenceTranslation]:
        return [s for p in self.paragraphs for s in p.sentences]

    def to_json(self) -> dict[str, Any]:
        return {
            "doc": self.doc,
            "from": self.from_code,
            "to": self.to_code,
            "model": self.model,
            "paragraphs": [p.to_json() for p in self.paragraphs],
        }


# Backends ----------------------------------------------------------------------------------
class Translator(Protocol):
    """Translates a batch of sentences, one output per input, in order."""

    model: str  # the cache key: package code and version

    def translate_batch(self, sentences: Sequence[str]) -> list[str]: ...


class GivenSentences:
    """argostranslate's sentence-splitter interface (`split_sentences`), returning our sentences.

    It hands each sentence through unchanged, so no sentence-boundary model is loaded.
    """

    def split_sentences(self, text: str | Sequence[str]) -> list[str]:
        return [text] if isinstance(text, str) else list(text)


class ArgosTranslator:
    """One installed Argos package: its tokenizer (argostranslate's `Package`) and CTranslate2.

    `translate_batch` does what argostranslate's `apply_packaged_translation` does (same
    tokenizer, the same `translate_batch` options from argos' settings, the same clean-up),
    but decodes each sentence on its own: argos joins a paragraph's sentences into one string.
    """

    def __init__(self, ws: Workspace, info: ModelInfo, splitter: GivenSentences | None = None):
        self.info = info
        self.model = info.key
        self.splitter = splitter or GivenSentences()
        self._ws = ws
        self._lock = threading.Lock()
        self._pkg: Any = None
        self._ct2: Any = None
        self._options: dict[str, Any] = {}
        self.workers = 1
        self._turns = threading.Condition()  # background work waits while _foreground > 0
        self._foreground = 0
        self._last_foreground = float("-inf")  # time.monotonic() when the last one ended

    def load(self) -> None:
        """Import argostranslate and CTranslate2 and load the model (once)."""
        with self._lock:
            if self._ct2 is not None:
                return
            package = argos(self._ws)
            import argostranslate.settings as settings
            import ctranslate2

            self.workers, threads = thread_plan(settings)
            try:
                pkg = package.Package(self.info.path)
                params: dict[str, Any] = {
                    "model_path": str(self.info.path / "model"),
                    "device": settings.device,
                    "inter_threads": self.workers,
                    "intra_threads": threads,
                }
                if settings.compute_type != "auto":
                    params["compute_type"] = settings.compute_type
                self._ct2 = ctranslate2.Translator(**params)
            except (OSError, ValueError, RuntimeError) as exc:
                raise TranslationError(
                    f"cannot load the {self.info.name} model at {self.info.path}: {exc}. "
                    f"Reinstall it with `reader models install {self.info.from_code} "
                    f"{self.info.to_code}` or from a file."
                ) from None
            self._pkg = pkg
            self._options = {
                "replace_unknowns": True,
                "batch_type": "examples",
                "beam_size": beam_size(settings),
                "num_hypotheses": 1,
                "length_penalty": 0.2,
            }

    def translate_batch(self, sentences: Sequence[str]) -> list[str]:
        """Translate sentences; one output per sentence, in order.

        Sentences are sorted by length and cut into groups of at most GROUP, as many groups as
        keep every worker busy and of even sizes; every group goes to CTranslate2 as its own
        batch with its own decoding cap (twice its longest source plus ten tokens, so one
        runaway sentence cannot cost seconds), submitted together so no worker waits for
        another's group. `Phrases` (a query's words) are one batch capped at `phrase_cap`.
        `Background` sentences (translate --all) go one group per worker at a time, and wait
        while a reading pane or a query is being translated: those never queue behind more
        than the groups already running.
        """
        self.load()
        pieces = self.splitter.split_sentences(sentences)
        tokenizer, prefix = self._pkg.tokenizer, self._pkg.target_prefix
        tokenized = [tokenizer.encode(s) for s in pieces]
        if isinstance(sentences, Phrases):
            waves: Iterable[list[list[int]]] = [[list(range(len(tokenized)))]] if tokenized else []
            cap = phrase_cap
        else:
            order = sorted(range(len(tokenized)), key=lambda i: len(tokenized[i]))
            cap = decoding_cap
            waves = [[order[a:b] for a, b in even_groups(len(order), self.workers)]]
        background = isinstance(sentences, Background)
        if background:
            waves = self._waves(order)
        out: list[str] = [""] * len(tokenized)
        with contextlib.nullcontext() if background else self.foreground():
            for wave in waves:
                pending = [self._submit([tokenized[i] for i in group], cap) for group in wave]
                for group, results in zip(wave, pending, strict=True):
                    for i, result in zip(group, results, strict=True):
                        value = tokenizer.decode(result.result().hypotheses[0])
                        if prefix and value.startswith(prefix):
                            value = value[len(prefix) :]
                        out[i] = value[1:] if value.startswith(" ") else value
        return out

    def _waves(self, order: list[int]) -> Iterator[list[list[int]]]:
        """Background groups, one per worker at a time, each wave once no foreground call is
        in flight; of at most SHARING sentences while someone reads (a foreground call in the
        last READING seconds), so that a reading pane waits less for the wave in flight."""
        start = 0
        while start < len(order):
            with self._turns:
                self._turns.wait_for(lambda: self._foreground == 0)
                reading = time.monotonic() - self._last_foreground < READING
            rest = order[start:]
            bounds = even_groups(len(rest), self.workers, SHARING if reading else GROUP)
            bounds = bounds[: self.workers]
            start += bounds[-1][1]
            yield [rest[a:b] for a, b in bounds]

    @contextlib.contextmanager
    def foreground(self) -> Iterator[None]:
        """While inside, `Background` work submits nothing new (the reading pane holds it for
        a whole article, so bulk work does not slip in between its batches)."""
        with self._turns:
            self._foreground += 1
        try:
            yield
        finally:
            with self._turns:
                self._foreground -= 1
                self._last_foreground = time.monotonic()
                self._turns.notify_all()

    def _submit(self, batch: list[list[str]], cap: Callable[[int], int]) -> list[Any]:
        """One batch to CTranslate2's queue; its results, to wait for."""
        prefix = self._pkg.target_prefix
        return self._ct2.translate_batch(
            batch,
            target_prefix=[[prefix]] * len(batch) if prefix else None,
            max_batch_size=len(batch),
            max_decoding_length=cap(max(map(len, batch))),
            asynchronous=True,
            **self._options,
        )


class Phrases(list[str]):
    """Short texts (a search query's words and phrases) for `translate_batch`: decoded in one
    batch on one worker with the tighter `phrase_cap`, not spread over the workers."""


class Background(list[str]):
    """Sentences of background work (translate --all) for `translate_batch`: they give way to
    the reading pane and to queries."""


READING = 30.0  # seconds after a reading pane's or a query's translation that someone reads
SHARING = 8  # the most sentences in a background batch meanwhile (a wave then takes ~1/4)
GROUP = 32  # the most sentences in one CTranslate2 batch (one worker, one thread): decoding
# reads every weight once per step whatever the batch, so bigger batches cost less per token
# (bench/translate_real.py on 2 cores: 0.96 ms/token in batches of 8, 0.57 in batches of 32)


def even_groups(count: int, workers: int, most: int | None = None) -> list[tuple[int, int]]:
    """[start, end) bounds cutting `count` sorted items into a multiple of `workers` groups of
    at most `most` (GROUP) items, sizes differing by one at most: every worker gets as much
    decoding as the others (on 2 workers: 3 sentences 2 + 1; 70: 18 + 18 + 17 + 17)."""
    most = most or GROUP
    if count <= 0:
        return []
    groups = -(-count // most)
    groups = min(count, -(-groups // workers) * workers)
    size, extra = divmod(count, groups)
    bounds, start = [], 0
    for g in range(groups):
        end = start + size + (g < extra)
        bounds.append((start, end))
        start = end
    return bounds


def decoding_cap(source_tokens: int) -> int:
    """The most target tokens decoded for a source sentence of this length."""
    return 2 * source_tokens + 10


def phrase_cap(source_tokens: int) -> int:
    """The most target tokens decoded for a query phrase of this length: a query is a few
    words whose translation is a few words too (fr "service client" -> en "customer
    service"), so five tokens more than the source is room enough, and a runaway decode of a
    short query stops at a third of `decoding_cap`'s length."""
    return source_tokens + 5


def beam_size(settings: Any) -> int:
    """Greedy decoding (1) unless ARGOS_BEAM_SIZE says otherwise: argos' default beam of 4
    costs 3-4x the time per token (bench/translate_real.py), which a reading pane and a
    corpus-wide run cannot afford on a laptop."""
    import os

    return max(1, settings.beam_size) if "ARGOS_BEAM_SIZE" in os.environ else 1


def thread_plan(settings: Any) -> tuple[int, int]:
    """CTranslate2 workers and threads per worker: one single-thread worker per core (up to
    four, then more threads each), which measured 2-4x faster than argos' default of one
    worker using every core. ARGOS_INTER_THREADS / ARGOS_INTRA_THREADS override it."""
    import os

    if "ARGOS_INTER_THREADS" in os.environ or "ARGOS_INTRA_THREADS" in os.environ:
        return max(1, settings.inter_threads), max(0, settings.intra_threads)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    workers = max(1, min(cores or 1, 4))
    return workers, max(1, (cores or 1) // workers)


_backends: dict[tuple[str, str], ArgosTranslator] = {}
_backends_lock = threading.Lock()


def backend_for(ws: Workspace, info: ModelInfo) -> ArgosTranslator:
    """The (process-wide, loaded once) translator of an installed package."""
    key = (str(info.path), info.version)
    with _backends_lock:
        backend = _backends.get(key)
        if backend is None:
            backend = _backends[key] = ArgosTranslator(ws, info)
        return backend


def forget_backends() -> None:
    """Unload every translator (after a package was installed or removed)."""
    with _backends_lock:
        _backends.clear()


# Routes ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    """The models that take from_code to to_code: one, or two through English."""

    legs: tuple[ModelInfo, ...]

    @property
    def label(self) -> str:
        if len(self.legs) == 1:
            return self.legs[0].key
        return "→".join([self.legs[0].from_code, *(leg.to_code for leg in self.legs)])


def find_route(models: Sequence[ModelInfo], from_code: str, to_code: str) -> Route | None:
    """A direct model, else from_code→en→to_code, else None."""
    by_pair = {(m.from_code, m.to_code): m for m in models}
    direct = by_pair.get((from_code, to_code))
    if direct is not None:
        return Route((direct,))
    first, second = by_pair.get((from_code, PIVOT)), by_pair.get((PIVOT, to_code))
    if first is not None and second is not None:
        return Route((first, second))
    return None


# Translating -------------------------------------------------------------------------------
def _model_input(source: str) -> str:
    """What the model sees of a sentence: its words on one line."""
    return " ".join(source.split())


def _check_languages(doc: Document, to: str) -> None:
    if doc.lang in UNKNOWN_LANGS:
        raise TranslationError(f"cannot translate {doc.id}: its language is unknown")
    if doc.lang == to:
        raise SameLanguage(doc.id, to)


def _target(ws: Workspace, to: str | None) -> str:
    return (to or ws.target_lang).strip().lower()


def _from_cache(
    cache: TranslationCache | None, route: Route | None, to: str, inputs: Sequence[str]
) -> list[str | None]:
    """Cached final translations of `inputs` (None where missing), chaining pivot legs."""
    if cache is None:
        return [None] * len(inputs)
    if route is None:  # no model installed now: what any model cached into `to`
        hits = cache.get_any(to, [sentence_key(s) for s in inputs])
        return [hits.get(sentence_key(s)) if s else "" for s in inputs]
    current: list[str | None] = list(inputs)
    for leg in route.legs:
        keys = [sentence_key(s) for s in current if s]
        hits = cache.get_many(leg.key, leg.to_code, keys)
        current = [None if s is None else (hits.get(sentence_key(s)) if s else "") for s in current]
    return current


def translate_inputs(
    ws: Workspace,
    cache: TranslationCache,
    route: Route,
    inputs: Sequence[str],
    *,
    phrases: bool = False,
    background: bool = False,
) -> tuple[list[str], list[bool]]:
    """Translate through each leg: cached sentences from the cache, the rest in one batch.

    `phrases`: the inputs are a query's words and phrases (`Phrases`: one batch, tighter
    decoding cap). `background`: bulk work that gives way to the rest (`Background`).
    """
    current = list(inputs)
    cached = [True] * len(inputs)
    for leg in route.legs:
        keys = [sentence_key(s) for s in current]
        hits = cache.get_many(leg.key, leg.to_code, keys)
        outputs = [hits.get(k, "") if s else "" for s, k in zip(current, keys, strict=True)]
        missing = [
            i for i, (s, k) in enumerate(zip(current, keys, strict=True)) if s and k not in hits
        ]
        if missing:
            todo = [current[i] for i in missing]
            batch = Phrases(todo) if phrases else Background(todo) if background else todo
            translated = backend_for(ws, leg).translate_batch(batch)
            for i, text in zip(missing, translated, strict=True):
                outputs[i] = text
                cached[i] = False
            cache.put_many(leg.key, leg.to_code, [(current[i], outputs[i]) for i in missing])
        current = outputs
    return current, cached


def _paragraph(
    doc: Document, paragraph: Paragraph, translations: Sequence[str | None], cached: Sequence[bool]
) -> ParagraphTranslation:
    sentences = tuple(
        SentenceTranslation(s.start, s.end, doc.text[s.start : s.end], text, ok, s.index)
        for s, text, ok in zip(paragraph.sentences, translations, cached, strict=True)
    )
    return ParagraphTranslation(paragraph.start, paragraph.end, sentences, paragraph.index)


def translate_document(
    ws: Workspace,
    doc: Document,
    to: str | None = None,
    *,
    on_paragraph: Callable[[ParagraphTranslation, int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    first: int = 0,
) -> DocumentTranslation:
    """Translate `doc` into `to` (default: the workspace's target language): cached
    sentences from the cache, the others by the model.

    Paragraph `first` (the one under the reader's cursor) goes first and alone, so it shows
    soonest; then those after it, then those before, several paragraphs per model call (at
    least PANE_BATCH sentences: batching keeps every CTranslate2 worker busy, about twice as
    fast as a call per paragraph). `result.paragraphs` stays in document order. Calls
    `on_paragraph(paragraph, done, total)` for each paragraph as it is done and stops early
    (with `cancelled=True` on the result) when `cancelled()` turns true between calls.
    Raises SameLanguage, ModelMissing, or TranslationError. Run it off the UI thread: the
    first call loads models.
    """
    to = _target(ws, to)
    _check_languages(doc, to)
    route = find_route(installed_models(ws), doc.lang, to)
    if route is None:
        raise ModelMissing(doc.lang, to)
    result = DocumentTranslation(doc.id, doc.lang, to, route.label)
    total = len(doc.paragraphs)
    with TranslationCache(ws.translations_path) as cache, contextlib.ExitStack() as turns:
        for leg in route.legs:  # bulk work waits until this article is done
            turns.enter_context(backend_for(ws, leg).foreground())
        first = min(max(first, 0), max(total - 1, 0))
        order = [*doc.paragraphs[first:], *reversed(doc.paragraphs[:first])]
        for batch in _pane_batches(order):
            if cancelled is not None and cancelled():
                result.cancelled = True
                break
            inputs = [_model_input(doc.text[s.start : s.end]) for p in batch for s in p.sentences]
            translations, cached = translate_inputs(ws, cache, route, inputs)
            at = 0
            for paragraph in batch:
                size = len(paragraph.sentences)
                item = _paragraph(
                    doc, paragraph, translations[at : at + size], cached[at : at + size]
                )
                at += size
                result.paragraphs.append(item)
                if on_paragraph is not None:
                    on_paragraph(item, len(result.paragraphs), total)
    result.paragraphs.sort(key=lambda p: p.index)
    return result


PANE_BATCH = 16  # sentences per model call after the first paragraph


def _pane_batches(order: Sequence[Paragraph]) -> list[list[Paragraph]]:
    """The first paragraph alone, then the others in runs of at least PANE_BATCH sentences."""
    batches: list[list[Paragraph]] = [list(order[:1])] if order else []
    current: list[Paragraph] = []
    for paragraph in order[1:]:
        current.append(paragraph)
        if sum(len(p.sentences) for p in current) >= PANE_BATCH:
            batches.append(current)
            current = []
    if current:
        batches.append(current)
    return batches


@dataclass
class BulkReport:
    """What `translate_all` did: documents and sentences, and the pairs it had no model for."""

    documents: int = 0  # documents in another language than the target
    sentences: int = 0  # sentences of the documents that have a model route
    translated: int = 0  # sentences translated now (the rest came from the cache)
    missing: dict[str, list[str]] = field(default_factory=dict)  # "fr->en": [doc ids]
    updated: list[str] = field(default_factory=list)  # documents with new translations
    cancelled: bool = False


BULK_CHUNK = 256  # sentences per model call in bulk work, across paragraphs and documents


def translate_all(
    ws: Workspace,
    to: str | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> BulkReport:
    """Translate every document of the corpus into `to` and keep the result in the cache.

    Only sentences the cache lacks are translated (new and changed documents; an interrupted
    run resumes where it stopped, since every chunk is cached as soon as it is done).
    Sentences are batched across paragraphs and documents, BULK_CHUNK per model call.
    `progress(done, total)` counts sentences. Documents with no model route are listed in
    `missing`, not raised. Ctrl-C stops it like `cancelled()`: what was done is reported
    (`cancelled`, `updated`) and kept.
    """
    to = _target(ws, to)
    report = BulkReport()
    models = installed_models(ws)
    todo: dict[str, tuple[Route, list[str]]] = {}
    for info in corpus_of(ws).infos():
        if info.lang == to or info.lang in UNKNOWN_LANGS:
            continue
        report.documents += 1
        route = find_route(models, info.lang, to)
        if route is None:
            report.missing.setdefault(f"{info.lang}->{to}", []).append(info.id)
            continue
        report.sentences += info.sentences
        todo.setdefault(route.label, (route, []))[1].append(info.id)

    def stop() -> bool:
        report.cancelled = cancelled is not None and cancelled()
        return report.cancelled

    try:
        _translate_todo(ws, to, todo, report, progress, stop)
    except KeyboardInterrupt:
        report.cancelled = True
    return report


def _translate_todo(
    ws: Workspace,
    to: str,
    todo: dict[str, tuple[Route, list[str]]],
    report: BulkReport,
    progress: Callable[[int, int], None] | None,
    stop: Callable[[], bool],
) -> None:
    done = 0
    with TranslationCache(ws.translations_path) as cache:
        for route, doc_ids in todo.values():
            pending: list[str] = []
            for position, doc_id in enumerate(doc_ids, start=1):
                if stop():
                    return
                doc = corpus_of(ws).load(doc_id)
                inputs = [_model_input(doc.text[s.start : s.end]) for s in doc.sentences]
                found = _from_cache(cache, route, to, inputs)
                fresh = [text for text, hit in zip(inputs, found, strict=True) if hit is None]
                if fresh:
                    report.updated.append(doc_id)
                pending += fresh
                done += sum(hit is not None for hit in found)
                last = position == len(doc_ids)
                while len(pending) >= BULK_CHUNK or (pending and last):
                    chunk, pending = pending[:BULK_CHUNK], pending[BULK_CHUNK:]
                    translate_inputs(ws, cache, route, chunk, background=True)
                    report.translated += len(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, report.sentences)
                    if stop():
                        return
                if progress:
                    progress(done, report.sentences)


def machine_text(cache: TranslationCache, doc: Document, to: str) -> str | None:
    """`doc` as the cache has it translated into `to` by any model (paragraphs on their own
    lines, untranslated sentences left out), or None when nothing is cached. For the index's
    `mt_<lang>` fields: cache only, no model, no argos import."""
    if doc.lang == to or not doc.sentences:
        return None
    inputs = [_model_input(doc.text[s.start : s.end]) for s in doc.sentences]
    found = cache.get_any(to, [sentence_key(text) for text in inputs])
    if not found:
        return None
    lines = []
    for paragraph in doc.paragraphs:
        words = [found.get(sentence_key(inputs[s.index]), "") for s in paragraph.sentences]
        lines.append(" ".join(w for w in words if w))
    return "\n\n".join(lines)


def _open_cache(ws: Workspace) -> TranslationCache | None:
    return TranslationCache(ws.translations_path) if ws.translations_path.exists() else None


def cached_translation(ws: Workspace, doc: Document, to: str | None = None) -> DocumentTranslation:
    """The document's translation as far as the cache has it (no model, no argos import).

    Sentences not cached have `translation=None`. Raises SameLanguage like translate_document;
    with no model installed it still returns what any model cached (`model` is then "").
    """
    to = _target(ws, to)
    if doc.lang == to:
        raise SameLanguage(doc.id, to)
    route = find_route(installed_models(ws), doc.lang, to)
    result = DocumentTranslation(doc.id, doc.lang, to, route.label if route else "")
    inputs = [_model_input(doc.text[s.start : s.end]) for s in doc.sentences]
    cache = _open_cache(ws)
    try:
        found = _from_cache(cache, route, to, inputs)
    finally:
        if cache is not None:
            cache.close()
    by_index = dict(zip((s.index for s in doc.sentences), found, strict=True))
    for paragraph in doc.paragraphs:
        texts = [by_index[s.index] for s in paragraph.sentences]
        result.paragraphs.append(_paragraph(doc, paragraph, texts, [t is not None for t in texts]))
    return result


def _overlapping(doc: Document, start: int, end: int) -> list[Sentence]:
    return [s for s in doc.sentences if s.start < end and s.end > start]


def passage_translation(
    ws: Workspace, doc: Document, start: int, end: int, to: str | None = None
) -> str | None:
    """The cached translations of the sentences overlapping `[start, end)`, joined by spaces;
    None when none is cached or the document is already in `to`. Cache only, no model."""
    to = _target(ws, to)
    sentences = _overlapping(doc, start, end)
    if doc.lang == to or not sentences:
        return None
    cache = _open_cache(ws)
    if cache is None:
        return None
    try:
        route = find_route(installed_models(ws), doc.lang, to)
        found = _from_cache(
            cache, route, to, [_model_input(doc.text[s.start : s.end]) for s in sentences]
        )
    finally:
        cache.close()
    parts = [text for text in found if text]
    return " ".join(parts) if parts else None


def clear_cache(ws: Workspace) -> int:
    """Empty the translation cache; return how many sentences it held."""
    cache = _open_cache(ws)
    if cache is None:
        return 0
    with cache:
        return cache.clear()
