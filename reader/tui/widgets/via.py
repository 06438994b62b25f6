"""Cross-language hits in the library: how a hit matched ("via fr: remboursement", "via
translation") and, for a match in a document's machine translation, the original sentence
with the translated sentence that matched beside it (under it on narrow terminals), the
matched words highlighted in both.

Every piece is data (rich.text.Text), its control characters escaped. The words to mark are
found with `reader.core.search.match_spans` (the index's analysis of a language); that costs
about a millisecond a sentence, so the search worker calls `prepare` on its result and the
UI thread finds the marks memoised.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from reader.core.display import printable
from reader.tui.widgets.hit_list import HangingText

BESIDE = 100  # columns of the hit list from which the translation sits beside the original
MARK = "reverse bold"
UNCACHED = "no longer cached: translate the corpus again, A"
_MEMO_SIZE = 4096

Spans = list[tuple[int, int]]


@dataclass(frozen=True)
class _Passage:
    """What `match_spans` reads of a document."""

    text: str
    lang: str


_memo: dict[tuple[str, str, str], Spans] = {}
_memo_lock = threading.Lock()


def marks(query: str, lang: str, text: str) -> Spans:
    """The spans of `text` (a sentence in `lang`) that the words of `query` match; memoised."""
    if not query.strip() or not text:
        return []
    key = (query, lang, text)
    with _memo_lock:
        found = _memo.get(key)
    if found is not None:
        return found
    from reader.core.search import match_spans

    found = match_spans(query, _Passage(text, lang))  # type: ignore[arg-type]
    with _memo_lock:
        if len(_memo) >= _MEMO_SIZE:
            _memo.clear()
        _memo[key] = found
    return found


def translated_queries(queries: Sequence[dict] | None) -> dict[str, str]:
    """lang -> the query translated into it, from a result's `queries`."""
    return {q["lang"]: q["text"] for q in queries or () if q.get("source") == "translated"}


def original_marks(hit: Any, query: str, queries: Sequence[dict] | None) -> Spans:
    """Marks in the original sentence of a hit found through its translation: the words of
    the query as typed and of its translation into the hit's language (offsets into the
    snippet's text)."""
    if not hit.snippets:
        return []
    text = str(hit.snippets[0].text)
    spans = list(marks(query, hit.lang, text))
    other = translated_queries(queries).get(hit.lang)
    if other:
        spans += marks(other, hit.lang, text)
    return _merge(spans)


def translation_marks(hit: Any, query: str) -> Spans:
    """Marks in the translated sentence that matched: the query's words in `via.lang`."""
    via = hit.via or {}
    return marks(query, str(via.get("lang") or ""), str(via.get("text") or ""))


def prepare(result: Any, query: str) -> None:
    """Work out the marks of a result's hits found through translation (in a worker), so
    that drawing them on the UI thread costs nothing."""
    for hit in result.hits:
        if is_translation(hit):
            original_marks(hit, query, result.queries)
            translation_marks(hit, query)


def is_translation(hit: Any) -> bool:
    return bool(hit.via) and hit.via.get("field") == "translation"


def via_label(hit: Any) -> Text | None:
    """'via fr: remboursement' for a translated query, 'via translation' for a match in
    the machine translation, None for a match as typed."""
    via = hit.via
    if not via:
        return None
    if via.get("field") == "translation":
        if not via.get("text"):  # in the index's machine translation, not in the cache
            return Text(
                "via translation (no longer cached: translate the corpus again, A)", "italic"
            )
        return Text("via translation", style="italic")
    label = Text(f"via {printable(str(via.get('lang', '')))}: ", style="italic")
    label.append(printable(str(via.get("text", ""))), style="bold italic")
    return label


def marked(text: str, spans: Iterable[tuple[int, int]], base: int = 0) -> Text:
    """`text` on one line with `spans` (offsets from `base`) highlighted; escaped."""
    line = Text()
    at = 0
    for start, end in spans:
        start, end = max(start - base, at), min(end - base, len(text))
        if start >= end:
            continue
        line.append(printable(" ".join(text[at:start].split("\n"))))
        line.append(printable(text[start:end]), style=MARK)
        at = end
    line.append(printable(" ".join(text[at:].split("\n"))))
    return line


def _merge(spans: Iterable[tuple[int, int]]) -> Spans:
    out: Spans = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


class CrossHit:
    """A hit found through a document's machine translation, as a Rich renderable: the
    title line, 'via translation', then the original sentence with the translated sentence
    beside it (from BESIDE columns) or under it, the matched words highlighted in both."""

    def __init__(self, head: Text, original: Text, translation: Text, lang: str) -> None:
        self.head = head
        self.original = original
        self.translation = translation
        self.lang = lang

    @property
    def plain(self) -> str:
        """The text as drawn on a narrow terminal (for tests and the screen reader)."""
        return "\n".join(line.plain for line in self._under())

    def _under(self) -> list[Text]:
        return [self.head, Text("  ").append_text(self.original), Text("  ") + self._translated()]

    def _translated(self) -> Text:
        """The translated sentence after its language ("fr: ...")."""
        return Text(f"{printable(self.lang)}: ", style="dim").append_text(self.translation)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        # The sentences keep their indent where they wrap (a hanging indent, as snippets do).
        translated = self._translated()
        if options.max_width < BESIDE:
            yield self.head
            yield Padding(self.original, (0, 0, 0, 2))
            yield Padding(translated, (0, 0, 0, 2))
            return
        yield self.head
        grid = Table.grid(expand=True, padding=(0, 2))
        grid.add_column(ratio=1)
        grid.add_column(ratio=1)
        grid.add_row(Padding(self.original, (0, 0, 0, 2)), translated)
        yield grid


def cross_prompt(
    hit: Any, head: Text, query: str, queries: Sequence[dict] | None
) -> Text | CrossHit:
    """A cross-language hit's prompt in the hit list. `head` is the hit as the library draws
    it (title line and snippets); a hit reached through a translated query gets its label
    under the title; one found in the machine translation is drawn as a CrossHit."""
    label = via_label(hit)
    if label is None:
        return head
    if not is_translation(hit) or not hit.via.get("text"):  # (no sentence to show beside)
        title, rest = _split_first(head)
        out = HangingText.of(title)  # snippets stay indented where they wrap
        out.append("\n  ")
        out.append_text(label)
        if rest is not None:
            out.append("\n")
            out.append_text(rest)
        return out
    title, _rest = _split_first(head)
    title = title.copy()
    title.append("\n  ")
    title.append_text(label)
    original = Text()
    if hit.snippets:
        original = marked(str(hit.snippets[0].text), original_marks(hit, query, queries))
    translation = marked(str(hit.via.get("text") or ""), translation_marks(hit, query))
    return CrossHit(title, original, translation, str(hit.via.get("lang") or ""))


def _split_first(text: Text) -> tuple[Text, Text | None]:
    """`text` cut after its first line: (the first line, the rest or None)."""
    lines = text.split("\n", include_separator=False)
    if len(lines) <= 1:
        return text, None
    rest = Text("\n").join(lines[1:])
    return lines[0], rest
