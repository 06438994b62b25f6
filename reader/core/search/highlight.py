"""Highlights and snippets, engine-neutral.

A search engine hands over what a query marks (`HighlightTerms`: exact terms, term tests and
phrases per analysis, where an analysis is `None` for the accent-folded unstemmed words or a
language code for that language's stemmed words) and how it analyses words (`Analysis`). The
`Highlighter` then finds those words in a document's clean text at query time, for the shown
hits only: each distinct word of the text goes through the same (cached) analysis as the
index, so stemmed, folded, prefix, wildcard and fuzzy matches are all marked, and every offset
is a code point of `Document.text`. For plain words only the tokens that start like a query
term are looked at (stemming rewrites endings, except for `Analysis.prefix_stemmers`).

`make_snippets` cuts up to three passages around the densest groups of highlights.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import repeat
from typing import Protocol

MAX_SNIPPETS = 3
SNIPPET_BEFORE = 70  # characters of context before the first highlight of a snippet
SNIPPET_LENGTH = 220  # longest snippet, in characters


@dataclass
class Snippet:
    """A passage `text == Document.text[start:end]` with its highlights (absolute offsets)."""

    text: str
    start: int
    end: int
    highlights: list[tuple[int, int]] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "highlights": [[s, e] for s, e in self.highlights],
        }


class TermCache(Protocol):
    """raw token -> its term (UTF-8 bytes) in one analysis, None for a stop word; `variants`
    maps a term to the raw words seen for it so far."""

    variants: Mapping[bytes, list[str]]

    def __getitem__(self, word: str) -> bytes | None: ...

    def __contains__(self, word: object) -> bool: ...


class Analysis(Protocol):
    """How an engine splits and analyses text, as the highlighter needs it."""

    token: re.Pattern  # one token of the text fields
    stem_langs: frozenset[str]  # languages with a stemmed analysis
    prefix_stemmers: frozenset[str]  # stemmers that may change how a word starts

    def term_cache(self, lang: str | None) -> TermCache: ...

    def raw_chars(self, folded: str) -> set[str]:
        """The single characters whose lowercased, accent-folded form is `folded`."""
        ...


Key = str | None  # an analysis: None for folded words, else a language's stemmed words


@dataclass
class HighlightTerms:
    """What a query marks, per analysis: exact terms, tests on terms (prefix, wildcard, fuzzy)
    and phrases (their terms in order, and how many positions a next word may be away)."""

    exact: dict[Key, set[bytes]] = field(default_factory=dict)
    tests: dict[Key, list[Callable[[str], bool]]] = field(default_factory=dict)
    phrases: dict[Key, list[tuple[list[bytes], int]]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.exact or self.tests or self.phrases)


class Highlighter:
    """Finds the spans of a query's words in a text, with the engine's own analysis.

    `spans(text, lang)` looks at the folded terms and those of `lang`'s stemmed analysis.
    Each distinct word of the text is analysed once (cached per process), candidate words
    are found with one regular expression, and only phrases need the token sequence.
    """

    def __init__(self, terms: HighlightTerms, analysis: Analysis) -> None:
        self.terms, self.analysis = terms, analysis
        self.exact, self.tests, self.phrases = terms.exact, terms.tests, terms.phrases

    def __bool__(self) -> bool:
        return bool(self.terms)

    def _starts(self, keys: list[Key]) -> frozenset[str] | None:
        """For words only (no phrase, prefix, wildcard or fuzzy word): how the words' terms
        start (their first two letters). Analysis keeps how a token starts (stemming only
        rewrites endings, but for prefix stemmers), so only the tokens of a text that
        start so need analysing. None when every token must be looked at."""
        if any(k in self.tests or k in self.phrases for k in keys) or any(
            k in self.analysis.prefix_stemmers for k in keys
        ):
            return None
        return frozenset(t.decode("utf-8")[:2] for k in keys for t in self.exact.get(k, ()))

    def spans(self, text: str, lang: str | None) -> list[tuple[int, int]]:
        """Sorted, merged spans of `text` (a document in `lang`) that the query marks."""
        if not text or not self:
            return []
        analysis = self.analysis
        keys: list[Key] = [None]
        if lang in analysis.stem_langs:
            keys.append(lang)
        starts = self._starts(keys)
        if starts is not None:
            checks = [(analysis.term_cache(k), self.exact[k]) for k in keys if k in self.exact]
            if text.isascii() and all(map(str.isascii, starts)):  # str.find is much faster
                tokens = map(
                    analysis.token.match, repeat(text), _token_starts(text.lower(), starts)
                )
            else:
                tokens = _token_pattern(starts, analysis).finditer(text)
            return merge_spans(
                m.span()
                for m in tokens
                if any(cache[m.group()] in exact for cache, exact in checks)
            )
        words = set(analysis.token.findall(text))
        marked: set[str] = set()
        phrases = []
        for key in keys:
            cache = analysis.term_cache(key)
            exact, tests = self.exact.get(key, ()), self.tests.get(key, ())
            if exact or tests:
                for word in itertools.filterfalse(cache.__contains__, words):
                    cache[word]  # analyse the words this process has not seen yet
                for term in exact:  # the raw words known to give `term`
                    marked.update(words.intersection(cache.variants.get(term, ())))
                for word in words if tests else ():
                    term = cache[word]
                    if term is not None and _any_test(tests, term.decode("utf-8")):
                        marked.add(word)
            phrases.extend((cache, w, slop) for w, slop in self.phrases.get(key, ()))
        spans: set[tuple[int, int]] = set()
        for word in marked:
            spans.update(_token_spans(text, word))
        if phrases:
            tokens = [(m.group(), m.start(), m.end()) for m in analysis.token.finditer(text)]
            for cache, phrase, slop in phrases:
                if not all(_has_term(cache, words, w) for w in phrase):
                    continue
                occurrences = [
                    [(pos, s, e) for pos, (t, s, e) in enumerate(tokens) if cache[t] == w]
                    for w in phrase
                ]
                spans.update(phrase_spans(occurrences, slop))
        return merge_spans(spans)


def phrase_spans(occurrences: list[list[tuple[int, int, int]]], slop: int = 1):
    """Spans of a phrase from its words' (position, start, end) lists: each next word at most
    `slop` positions after the previous one, in order."""
    if not occurrences or not all(occurrences):
        return []
    later = [{pos: (start, end) for pos, start, end in occ} for occ in occurrences[1:]]
    spans = []
    for pos, start, end in occurrences[0]:
        current, last_end = pos, end
        for positions in later:
            step = next((p for p in range(current + 1, current + slop + 1) if p in positions), None)
            if step is None:
                break
            current, last_end = step, positions[step][1]
        else:
            spans.append((start, last_end))
    return spans


def _token_starts(lowered: str, prefixes: frozenset[str]) -> list[int]:
    """Where the tokens of a lowercased ASCII text that start with one of `prefixes` begin."""
    out = []
    for prefix in prefixes:
        i = lowered.find(prefix)
        while i != -1:
            if not i or not (
                _is_token_char(lowered[i - 1])
                or (lowered[i - 1] == "." and i >= 2 and _is_token_char(lowered[i - 2]))
            ):
                out.append(i)
            i = lowered.find(prefix, i + 1)
    return out


@functools.lru_cache(maxsize=256)
def _token_pattern(prefixes: frozenset[str], analysis: Analysis) -> re.Pattern:
    """The token pattern, for the tokens whose lowercased, accent-folded form starts with one
    of the one- or two-letter `prefixes`: each letter in either case or accented."""
    alternatives = []
    for prefix in sorted(prefixes):
        whole = analysis.raw_chars(prefix)  # one raw character folding to the whole prefix (æ)
        if len(prefix) == 1:
            alternatives.append(_char_class(whole))
            continue
        pair = _char_class(analysis.raw_chars(prefix[0])) + _char_class(
            analysis.raw_chars(prefix[1])
        )
        alternatives.append(f"{pair}|{_char_class(whole)}" if whole else pair)
    if not alternatives:
        return re.compile(r"(?!)")
    # a token starts after a non-token character that is not a joining dot
    start = r"(?<![\w*])(?<![\w*]\.)"
    return re.compile(start + "(?:" + "|".join(alternatives) + r")[\w*]*(?:\.?[\w*]+)*")


def _char_class(chars: set[str]) -> str:
    return "[" + "".join(re.escape(c) for c in sorted(chars)) + "]" if chars else "(?!)"


def _any_test(tests: list, term: str) -> bool:
    return any(test(term) for test in tests)


def _has_term(cache: TermCache, words: set[str], term: bytes) -> bool:
    return any(cache[w] == term for w in words)


def _token_spans(text: str, word: str) -> list[tuple[int, int]]:
    """The spans of `text` where `word` (a token) occurs as a whole token: a token's match,
    which word characters and `*` extend and a `.` between two of them joins."""
    out = []
    size, width = len(text), len(word)
    start = text.find(word)
    while start != -1:
        end = start + width
        before = start and (
            _is_token_char(text[start - 1])
            or (text[start - 1] == "." and start >= 2 and _is_token_char(text[start - 2]))
        )
        after = end < size and (
            _is_token_char(text[end])
            or (text[end] == "." and end + 1 < size and _is_token_char(text[end + 1]))
        )
        if not before and not after:
            out.append((start, end))
        start = text.find(word, start + 1)
    return out


def _is_token_char(char: str) -> bool:
    """Whether `char` matches `[\\w*]` (re's \\w: alphanumeric or underscore)."""
    return char.isalnum() or char in "_*"


def merge_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans with overlapping ones merged."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


# Snippets ----------------------------------------------------------------------------------
def _snap_start(text: str, start: int, first: int) -> int:
    """A snippet start at or after `start`, at a word or paragraph boundary before `first`."""
    para = text.rfind("\n", 0, first) + 1
    if para >= start:
        return para
    space = text.find(" ", start, first)
    return space + 1 if space != -1 else start


def _snap_end(text: str, end: int, last: int) -> int:
    """A snippet end at or before `end`, at a word or paragraph boundary after `last`."""
    para = text.find("\n", last)
    if para != -1 and para <= end:
        return para
    if end >= len(text):
        return len(text)
    space = text.rfind(" ", last, end)
    return space if space != -1 else end


def make_snippets(
    text: str, spans: list[tuple[int, int]], count: int = MAX_SNIPPETS
) -> list[Snippet]:
    """One to `count` passages of `text` around the densest groups of `spans`.

    Without spans (a filter-only query), the opening of the text.
    """
    if not spans:
        end = _snap_end(text, SNIPPET_LENGTH, 0) if len(text) > SNIPPET_LENGTH else len(text)
        return [Snippet(text[:end], 0, end, [])] if text else []
    starts = [s for s, _ in spans]
    windows = []
    for i, (first, _) in enumerate(spans):
        limit = first + SNIPPET_LENGTH - SNIPPET_BEFORE
        j = bisect.bisect_right(starts, limit, lo=i)
        inside = [sp for sp in spans[i:j] if sp[1] <= limit + 40]
        words = {text[s:e].lower() for s, e in inside}
        windows.append((len(words) * 10 + len(inside), -first, inside))
    windows.sort(reverse=True)
    chosen: list[tuple[int, int, list]] = []
    for _score, _neg, inside in windows:
        lo = max(0, inside[0][0] - SNIPPET_BEFORE)
        hi = min(len(text), lo + SNIPPET_LENGTH)
        hi = max(hi, inside[-1][1])
        if any(lo < c_hi and c_lo < hi for c_lo, c_hi, _ in chosen):
            continue
        chosen.append((lo, hi, inside))
        if len(chosen) == count:
            break
    snippets = []
    for lo, hi, _inside in sorted(chosen):
        first = next(s for s, _ in spans if s >= lo)
        last_end = max(e for s, e in spans if lo <= s < hi)
        start = _snap_start(text, lo, first)
        end = _snap_end(text, max(hi, last_end), last_end)
        marks = [(s, e) for s, e in spans if s >= start and e <= end]
        snippets.append(Snippet(text[start:end], start, end, marks))
    return snippets
