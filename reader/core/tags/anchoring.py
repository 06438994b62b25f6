"""Anchoring passages in a text, and re-anchoring them when the text changes.

Pure functions over strings (no database). A passage is remembered by a selector pair, as in
the W3C Web Annotation model that Hypothesis uses: its position (`start`, `end`, code points)
and its quote (`exact`, with `prefix` and `suffix` of up to CONTEXT characters around it).
When the text changes, `reanchor` tries, in Hypothesis' order:

1. the old position, if the text there still equals the quote: `anchored`;
2. an exact search for the quote, disambiguated by prefix/suffix, then nearness to the old
   position; accepted alone only when its context agrees (score >= MIN_CONTEXT);
3. otherwise a bounded fuzzy match (Myers' bit-parallel edit distance) near the old position,
   scored on quote, prefix and suffix; the better of it and the exact match wins. Fuzzy ties
   go to the span closest to the quote's length, then to the old position;
4. otherwise nothing: the caller marks the passage orphaned and keeps it.

Offsets count Unicode code points (Python str indices), as the W3C model requires; JavaScript
tools such as Hypothesis count UTF-16 code units, which differ past U+FFFF (emoji).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

CONTEXT = 32
ANCHORED, MOVED, ORPHANED = "anchored", "moved", "orphaned"
STATUSES = (ANCHORED, MOVED, ORPHANED)
# The fuzzy match accepts at most this share of the quote's length as edits.
MAX_ERROR_RATE = 0.3
# Fuzzy search looks at most this many characters around the old position (bounded work).
FUZZY_WINDOW = 200_000
# Quotes shorter than this need their context to match too before a fuzzy match counts.
SHORT_QUOTE = 24
# At most this many fuzzy candidates are scored with their context.
MAX_CANDIDATES = 64
# An exact match away from the old position needs at least this context score to win alone.
MIN_CONTEXT = 0.5
# The weight of the quote's similarity in a candidate's score (the rest is its context's).
QUOTE_WEIGHT = 0.7


@dataclass(frozen=True, slots=True)
class Selector:
    """Where a passage was: its span and its quote with context."""

    start: int
    end: int
    exact: str
    prefix: str
    suffix: str


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where a passage is now. `method` is "position", "exact" or "fuzzy"."""

    start: int
    end: int
    status: str
    method: str
    score: float = 1.0  # 0.7 x quote similarity + 0.3 x context similarity
    context: float = 1.0  # how well the prefix/suffix agree (1.0: no context to compare)


def normalize_quote(quote: str) -> str:
    """A quote as the clean text has it: NFC, LF line ends."""
    return unicodedata.normalize("NFC", quote.replace("\r\n", "\n").replace("\r", "\n"))


def make_selector(text: str, start: int, end: int, context: int = CONTEXT) -> Selector:
    """The selector of `text[start:end]`; ValueError for a span outside the text or empty."""
    if not (0 <= start < end <= len(text)):
        raise ValueError(f"span {start}-{end} is not inside a text of {len(text)} characters")
    return Selector(
        start=start,
        end=end,
        exact=text[start:end],
        prefix=text[max(0, start - context) : start],
        suffix=text[end : end + context],
    )


def find_all(text: str, quote: str) -> list[int]:
    """Start offsets of every occurrence of `quote` in `text` (overlapping ones too)."""
    found: list[int] = []
    if not quote:
        return found
    index = text.find(quote)
    while index != -1:
        found.append(index)
        index = text.find(quote, index + 1)
    return found


def find_quote(text: str, quote: str, occurrence: int = 1) -> tuple[int, int, int] | None:
    """The span of the `occurrence`-th (1-based) match of `quote`, and how many matches exist.

    The quote is normalised (NFC, LF); if it is not found verbatim, runs of whitespace in it
    match any run of whitespace in the text (a quote pasted across a line break).
    Returns (start, end, count) or None when there is no such occurrence.
    """
    quote = normalize_quote(quote).strip()
    if not quote:
        return None
    spans = [(i, i + len(quote)) for i in find_all(text, quote)]
    if not spans:
        words = quote.split()
        pattern = re.compile(r"\s+".join(re.escape(w) for w in words))
        spans = [m.span() for m in pattern.finditer(text)]
    if not 1 <= occurrence <= len(spans):
        return None
    start, end = spans[occurrence - 1]
    return start, end, len(spans)


def _context_score(text: str, start: int, end: int, selector: Selector) -> float:
    """How well the text around `[start, end)` matches the selector's prefix and suffix (0..1).

    1.0 when the selector has no context to compare.
    """
    scores = []
    if selector.prefix:
        before = text[max(0, start - len(selector.prefix)) : start]
        scores.append(SequenceMatcher(None, before, selector.prefix, autojunk=False).ratio())
    if selector.suffix:
        after = text[end : end + len(selector.suffix)]
        scores.append(SequenceMatcher(None, after, selector.suffix, autojunk=False).ratio())
    return sum(scores) / len(scores) if scores else 1.0


def _combined(quote_score: float, context_score: float) -> float:
    """One score for a candidate: the quote weighs 0.7, its context 0.3."""
    return round(QUOTE_WEIGHT * quote_score + (1 - QUOTE_WEIGHT) * context_score, 3)


def _exact(text: str, selector: Selector, hint: int | None) -> Anchor | None:
    """Step 2: the occurrence with the best context, then the nearest to the hint."""
    starts = find_all(text, selector.exact)
    if not starts:
        return None
    length = len(selector.exact)
    near = 0 if hint is None else hint

    def rank(start: int) -> tuple[float, int]:
        return (
            round(_context_score(text, start, start + length, selector), 3),
            -abs(start - near),
        )

    best = max(starts, key=rank)
    context = rank(best)[0]
    status = ANCHORED if hint is not None and best == selector.start else MOVED
    return Anchor(best, best + length, status, "exact", _combined(1.0, context), context)


def edit_distances(pattern: str, text: str) -> list[int]:
    """For each j, the least edit distance between `pattern` and a substring of `text` ending
    at j (exclusive end j+1). Myers' (1999) bit-parallel algorithm, Hyyrö's formulation."""
    m = len(pattern)
    if m == 0:
        return [0] * len(text)
    full = (1 << m) - 1
    high = 1 << (m - 1)
    peq: dict[str, int] = {}
    for i, char in enumerate(pattern):
        peq[char] = peq.get(char, 0) | (1 << i)
    pv, mv, score = full, 0, m
    out: list[int] = []
    append = out.append
    for char in text:
        eq = peq.get(char, 0)
        xv = eq | mv
        xh = ((((eq & pv) + pv) & full) ^ pv) | eq
        ph = (mv | ~(xh | pv)) & full
        mh = pv & xh
        if ph & high:
            score += 1
        elif mh & high:
            score -= 1
        ph = (ph << 1) & full
        mh = (mh << 1) & full
        pv = (mh | ~(xv | ph)) & full
        mv = ph & xv
        append(score)
    return out


def _best_start(text: str, quote: str, end: int, max_errors: int) -> int:
    """Where the best match of `quote` ending at `end` begins (Myers over the reversed strings).

    Among starts with the same (least) distance, the span whose length is closest to the
    quote's wins: "some years later" matches "Many years later", not " years later".
    """
    lo = max(0, end - len(quote) - max_errors)
    window = text[lo:end][::-1]
    distances = edit_distances(quote[::-1], window)
    least = min(distances)
    best = min(
        (j for j, d in enumerate(distances) if d == least),
        key=lambda j: (abs((j + 1) - len(quote)), j),
    )
    return end - (best + 1)


def _fuzzy(text: str, selector: Selector, hint: int | None) -> Anchor | None:
    """Step 3: a bounded approximate search for the quote, scored with its context.

    Candidates are ranked by score, then by how close their length is to the quote's, then
    by how close they start to the hint (the old position).
    """
    quote = selector.exact
    if not quote or not text:
        return None
    max_errors = int(len(quote) * MAX_ERROR_RATE)
    if max_errors < 1:
        return None
    near = 0 if hint is None else hint
    lo = max(0, near - FUZZY_WINDOW)
    hi = min(len(text), near + len(quote) + FUZZY_WINDOW)
    region = text[lo:hi]
    distances = edit_distances(quote, region)
    # Candidate ends: local minima within the error bound.
    ends = [
        j
        for j, d in enumerate(distances)
        if d <= max_errors
        and (j == 0 or distances[j - 1] >= d)
        and (j + 1 == len(distances) or distances[j + 1] > d)
    ]
    best: Anchor | None = None
    best_rank: tuple[float, int, int] | None = None
    # The best-scoring, then nearest, candidates first; bounded work on repetitive text.
    ends.sort(key=lambda j: (distances[j], abs(lo + j + 1 - len(quote) - near)))
    for j in ends[:MAX_CANDIDATES]:
        end = lo + j + 1
        start = _best_start(text, quote, end, max_errors)
        if start >= end:
            continue
        quote_score = 1.0 - distances[j] / len(quote)
        context_score = _context_score(text, start, end, selector)
        if len(quote) < SHORT_QUOTE and context_score < MIN_CONTEXT:
            continue  # a short quote alone matches too much by chance
        score = _combined(quote_score, context_score)
        rank = (score, -abs((end - start) - len(quote)), -abs(start - near))
        if best_rank is None or rank > best_rank:
            best_rank = rank
            best = Anchor(start, end, MOVED, "fuzzy", score, round(context_score, 3))
    return best


def match_quote(
    text: str, exact: str, *, prefix: str = "", suffix: str = "", hint: int | None = None
) -> Anchor | None:
    """Find a quote (with optional context) in `text`, near `hint` if given; None if absent.

    Like Hypothesis' `matchQuote`: an exact occurrence is taken when its context agrees
    (score >= MIN_CONTEXT) or when no fuzzy match scores better; otherwise the best fuzzy
    match. Without a hint, ties go to the earliest occurrence.
    """
    if not exact or not text:
        return None
    start = 0 if hint is None else hint
    selector = Selector(start, start + len(exact), exact, prefix, suffix)
    return _search(text, selector, hint)


def _search(text: str, selector: Selector, hint: int | None) -> Anchor | None:
    exact = _exact(text, selector, hint)
    if exact is not None and (exact.status == ANCHORED or exact.context >= MIN_CONTEXT):
        return exact
    fuzzy = _fuzzy(text, selector, hint)
    if exact is None or (fuzzy is not None and fuzzy.score > exact.score):
        return fuzzy
    return exact


def reanchor(text: str, selector: Selector) -> Anchor | None:
    """Find the passage of `selector` in `text`; None when it is gone (orphaned).

    1. At its old offsets, the same quote: `anchored`.
    2. The quote elsewhere, with context that agrees (>= MIN_CONTEXT): `moved`.
    3. Otherwise the better of that exact match and the best fuzzy match near the old
       position (a wrong-context exact match loses to an edited passage in its old place).
    """
    start, end = selector.start, selector.end
    if 0 <= start < end <= len(text) and text[start:end] == selector.exact:
        return Anchor(start, end, ANCHORED, "position")
    return _search(text, selector, start)
