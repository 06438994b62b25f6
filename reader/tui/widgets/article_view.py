"""The article view: paragraphs with a sentence cursor, selection, tags, hits and translations.

A line-API scroll view (like Textual's Log and Toolong's log view), lazy so that a 10 MB article,
a 5 MB single line or a million lines open at once: the text is cut into chunks (a paragraph, or
pieces of at most CHUNK characters of a long one, cut between sentences where possible), each
chunk's height is estimated from its length until it is first drawn, and only the chunks on
screen (and the cursor's) are wrapped into blocks of lines (margin marks, source, translation)
and cached. A cursor move re-wraps only the chunks it touches. The translation sits beside the
source (`side`) or under each chunk (`inline`). Colours are blended over the background (the
tints keep their transparency) and the cursor sentence keeps a readable contrast. Document text
is data: only ever put into `rich.text.Text`, with control characters escaped.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np
from rich.color import ColorSystem
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from reader.core.display import BIDI_CONTROLS
from reader.core.documents.model import Document
from reader.core.tags.model import KINDS
from reader.tui.widgets.style import blended_style

TAG_MARKS = {k.name: k.mark for k in KINDS}
GUTTER = 3  # margin columns for the tag marks
SEPARATOR = " ▏ "  # between the source and the translation beside it
INLINE_PREFIX = "  ▏ "  # before each translation line under its paragraph
CHUNK = 4000  # longest chunk of text wrapped at once (characters)
HARD_CUT = 1000  # a chunk of text without spaces (folded character by character, slower)
MIN_CONTRAST = 4.5  # WCAG AA: the cursor sentence against its tint
# Control characters in a document's text are drawn as visible symbols of the same length, so
# the offsets of sentences, tags and hits stay valid (\n and \t are layout, kept as they are).
_VISIBLE = {code: 0x2400 + code for code in range(0x20) if chr(code) not in "\n\t"}
_VISIBLE |= {0x7F: 0x2421, **{code: 0xFFFD for code in range(0x80, 0xA0)}}
_VISIBLE |= {ord(char): 0xFFFD for char in BIDI_CONTROLS}


@dataclass
class Block:
    """A chunk wrapped for the current width: its lines and each sentence's first line."""

    lines: list[Strip]
    sentence_lines: dict[int, int]


class Chunk(NamedTuple):
    """A piece of a paragraph drawn as one block: `text[start:end]`."""

    paragraph: int
    start: int
    end: int
    last: bool  # the paragraph's last chunk (a blank line follows it)


class _Chunks:
    """The chunks of a document as parallel lists (a million paragraphs stay cheap)."""

    def __init__(self, paragraphs: list[int], starts: list[int], ends: list[int], last: list[bool]):
        self.paragraphs, self.starts, self.ends, self.last = paragraphs, starts, ends, last
        self.cached: tuple[np.ndarray, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, index: int) -> Chunk:
        return Chunk(self.paragraphs[index], self.starts[index], self.ends[index], self.last[index])

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Each chunk's length and whether it ends its paragraph (1 or 0), as arrays."""
        if self.cached is None:
            lengths = np.asarray(self.ends, dtype=np.int64) - np.asarray(self.starts, np.int64)
            self.cached = (lengths, np.asarray(self.last, dtype=np.int64))
        return self.cached


def _cut(text: str, start: int, end: int, cuts: list[int]) -> list[int]:
    """Cut `[start, end)` into pieces of at most CHUNK characters: at sentence starts
    (`cuts`) where possible, else after a space, else (no space at all) every HARD_CUT."""
    points = [start]
    at = start
    while end - at > HARD_CUT:
        limit = min(end, at + CHUNK)
        if limit == end and text.find(" ", at, end) >= 0:
            break  # the rest fits in one chunk and wraps at its spaces
        i = bisect_right(cuts, limit) - 1
        point = cuts[i] if i >= 0 and cuts[i] > at and limit < end else -1
        if point < 0:
            space = text.rfind(" ", at + 1, limit)
            point = space + 1 if space > at and limit < end else at + HARD_CUT
        if point >= end:
            break
        points.append(point)
        at = point
    return points


def _same_in_256(first: Style, second: Style) -> bool:
    """Whether two background tints become one colour on a 256-colour terminal."""
    if first.bgcolor is None or second.bgcolor is None:
        return first.bgcolor == second.bgcolor
    system = ColorSystem.EIGHT_BIT
    return first.bgcolor.downgrade(system) == second.bgcolor.downgrade(system)


def _sentence_of(style: Any) -> int | None:
    if isinstance(style, Style) and style._meta:
        value = style.meta.get("sentence")
        return value if isinstance(value, int) else None
    return None


class ArticleView(ScrollView, can_focus=True):
    """A document with a passage cursor on sentences (keys are bound on the article screen)."""

    # The scroll keys of a scroll view move the cursor instead (actions on the screen).
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("down", "screen.move(1)", "Next", show=False, id="article.next_sentence"),
        Binding("up", "screen.move(-1)", "Previous", show=False, id="article.previous_sentence"),
        Binding("home", "screen.top", "Top", show=False, id="article.top"),
        Binding("end", "screen.bottom", "Bottom", show=False, id="article.bottom"),
        Binding("pagedown", "screen.page(1)", "Page down", show=False, id="article.page_down"),
        Binding("pageup", "screen.page(-1)", "Page up", show=False, id="article.page_up"),
        Binding("left,right,ctrl+pageup,ctrl+pagedown", "noop", show=False, system=True),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "article--cursor",
        "article--aligned",
        "article--selection",
        "article--hit",
        *(f"article--{k.name}" for k in KINDS),
        "article--pending",
        "article--translation",
        "article--separator",
    }

    class CursorMoved(Message):
        """The cursor or the selection changed."""

        def __init__(self, view: ArticleView) -> None:
            super().__init__()
            self.view = view

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.doc: Document | None = None
        self.cursor = 0
        self.anchor: int | None = None
        self.selecting = False
        self.pane_focus = False
        self.annotations: list[Any] = []
        self.hits: list[tuple[int, int]] = []
        self.hit_index = -1
        self.translations: dict[int, Any] = {}
        self._chunks = _Chunks([], [], [], [])
        self._chunk_offsets: list[int] = []  # start offset of each chunk
        self._para_chunk: list[int] = []  # first chunk of each paragraph (+ the end)
        self._para_offsets: list[int] = []  # start offset of each paragraph
        self._sentence_offsets: list[int] = []  # start offset of each sentence
        self._hit_starts: list[int] = []
        self._blocks: list[Block | None] = []
        self._heights = np.zeros(0, dtype=np.int64)  # estimated until a chunk is wrapped
        self._starts = np.zeros(0, dtype=np.int64)  # first line of each chunk (unless _dirty)
        self._dirty = True
        self._width = 0
        self._styles: dict[str, Style] = {}
        self._mouse_anchor: int | None = None

    # Loading --------------------------------------------------------------------------------
    def load(
        self,
        doc: Document,
        *,
        annotations: Sequence[Any] = (),
        hits: Sequence[tuple[int, int]] = (),
        at: int | None = None,
    ) -> None:
        """Show a document; the cursor goes to the sentence at offset `at` (default: the first)."""
        self.doc = doc
        self.annotations = list(annotations)
        self.hits = sorted(hits)
        self._hit_starts = [start for start, _ in self.hits]
        self.translations = {}
        self.anchor, self.selecting = None, False
        self.cursor = 0
        self.hit_index = -1
        self._sentence_offsets = [s.start for s in doc.sentences]
        self._para_offsets = [p.start for p in doc.paragraphs]
        self._chunk_document(doc)
        if at is not None and doc.sentences:
            sentence = self.sentence_at(at)
            self.cursor = sentence.index if sentence else 0
            self.hit_index = bisect_right([end for _, end in self.hits], at)
            if self.hit_index >= len(self.hits):
                self.hit_index = -1
        self._invalidate_all()
        self.call_after_refresh(self.scroll_to_cursor)

    def _chunk_document(self, doc: Document) -> None:
        starts = [p.start for p in doc.paragraphs]
        ends = [p.end for p in doc.paragraphs]
        count = len(starts)
        lengths = np.asarray(ends, dtype=np.int64) - np.asarray(starts, dtype=np.int64)
        if not count or int(lengths.max()) <= CHUNK:  # one chunk per paragraph
            self._chunks = _Chunks(range(count), starts, ends, [True] * count)  # type: ignore[arg-type]
            self._chunks.cached = (lengths, np.ones(count, dtype=np.int64))
            self._chunk_offsets = starts
            self._para_chunk = list(range(count + 1))
            return
        paragraphs: list[int] = []
        c_starts: list[int] = []
        c_ends: list[int] = []
        last: list[bool] = []
        para_chunk: list[int] = []
        text = doc.text
        for paragraph in doc.paragraphs:
            para_chunk.append(len(c_starts))
            if paragraph.end - paragraph.start <= CHUNK:
                points = [paragraph.start]
            else:
                cuts = [s.start for s in paragraph.sentences]
                points = _cut(text, paragraph.start, paragraph.end, cuts)
            paragraphs.extend([paragraph.index] * len(points))
            c_starts.extend(points)
            c_ends.extend([*points[1:], paragraph.end])
            last.extend([False] * (len(points) - 1) + [True])
        para_chunk.append(len(c_starts))
        self._chunks = _Chunks(paragraphs, c_starts, c_ends, last)
        self._chunk_offsets = c_starts
        self._para_chunk = para_chunk

    def sentence_at(self, offset: int) -> Any:
        """The sentence holding `offset`, or the nearest one after it (a bisection)."""
        if not self.doc or not self.doc.sentences:
            return None
        sentences = self.doc.sentences
        i = max(0, bisect_right(self._sentence_offsets, offset) - 1)
        while i < len(sentences) and sentences[i].end <= offset:
            i += 1
        return sentences[min(i, len(sentences) - 1)]

    def configure(self, *, pane: bool, side: bool, untranslatable: bool = False) -> None:
        """Show or hide the translation, beside (`side`) or under each paragraph."""
        before = self._mode()
        self.set_class(pane, "-pane")
        self.set_class(pane and side, "-side")
        self.set_class(pane and not side, "-inline")
        self.set_class(untranslatable, "-untranslatable")
        if self._mode() != before:
            self._invalidate_all()
            self.call_after_refresh(self.scroll_to_cursor)

    def _mode(self) -> str:
        if not self.has_class("-pane") or self.has_class("-untranslatable"):
            return "none"
        return "side" if self.has_class("-side") else "inline"

    # Geometry ---------------------------------------------------------------------------------
    @property
    def sentence_count(self) -> int:
        return len(self.doc.sentences) if self.doc else 0

    def current(self) -> Any:
        """The sentence under the cursor, or None for an empty document."""
        if not self.doc or not self.doc.sentences:
            return None
        return self.doc.sentences[self.cursor]

    def selected_range(self) -> tuple[int, int]:
        """The first and last sentence index of the selection (the cursor when none)."""
        if self.anchor is None:
            return self.cursor, self.cursor
        return min(self.anchor, self.cursor), max(self.anchor, self.cursor)

    def selection_span(self) -> tuple[int, int] | None:
        """The `[start, end)` offsets of the selection, or of the cursor sentence."""
        if not self.doc or not self.doc.sentences:
            return None
        first, last = self.selected_range()
        return self.doc.sentences[first].start, self.doc.sentences[last].end

    def _chunk_of_offset(self, offset: int) -> int:
        return max(0, bisect_right(self._chunk_offsets, offset) - 1)

    def paragraph_line(self, index: int) -> int:
        """The first line (in the scrolled content) of paragraph `index`."""
        self._ensure()
        return int(self._starts[self._para_chunk[index]])

    def sentence_line(self, index: int) -> int:
        """The line (in the scrolled content) where sentence `index` starts."""
        assert self.doc is not None
        self._ensure()
        chunk = self._chunk_of_offset(self.doc.sentences[index].start)
        block = self._block(chunk)
        self._settle()
        return int(self._starts[chunk]) + block.sentence_lines.get(index, 0)

    # Styled text ------------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = {}
        if self._blocks:  # same sizes, new colours: redraw what is on screen
            self._blocks = [None] * len(self._blocks)

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            minimum = MIN_CONTRAST if name in ("cursor", "aligned") else None
            style = blended_style(self, f"article--{name}", min_contrast=minimum)
            if name == "aligned" and _same_in_256(style, self._style("cursor")):
                # 256 colours (or an ANSI theme) would draw both tints alike: underline instead
                style = Style(color=style.color, underline=True)
            self._styles[name] = style
        return style

    def _sentences_in(self, start: int, end: int) -> list[Any]:
        """The sentences overlapping `[start, end)`, in order."""
        assert self.doc is not None
        sentences = self.doc.sentences
        i = max(0, bisect_right(self._sentence_offsets, start) - 1)
        found = []
        while i < len(sentences) and sentences[i].start < end:
            if sentences[i].end > start:
                found.append(sentences[i])
            i += 1
        return found

    def _span_text(self, start: int, end: int) -> Text:
        """`text[start:end]` styled: sentence meta, tags, hits, selection, cursor."""
        assert self.doc is not None
        text = Text(self.doc.text[start:end].translate(_VISIBLE))
        sentences = self._sentences_in(start, end)

        def stylize(style: Style, s: int, e: int) -> None:
            s, e = max(s, start), min(e, end)
            if s < e:
                text.stylize(style, s - start, e - start)

        for sentence in sentences:
            stylize(Style(meta={"sentence": sentence.index}), sentence.start, sentence.end)
        for ann in self.annotations:
            if ann.status == "orphaned" or ann.end <= start or ann.start >= end:
                continue
            stylize(self._style(ann.tag), ann.start, ann.end)
        i = max(0, bisect_left(self._hit_starts, start) - 1)
        while i < len(self.hits) and self.hits[i][0] < end:
            stylize(self._style("hit"), *self.hits[i])
            i += 1
        first, last = self.selected_range()
        cursor_style = self._style("aligned" if self.pane_focus else "cursor")
        for sentence in sentences:
            if self.anchor is not None and first <= sentence.index <= last:
                stylize(self._style("selection"), sentence.start, sentence.end)
            if sentence.index == self.cursor:
                stylize(cursor_style, sentence.start, sentence.end)
        return text

    def paragraph_text(self, index: int) -> Text:
        """Paragraph `index` as styled text: tags, hits, selection, cursor; sentence meta."""
        assert self.doc is not None
        paragraph = self.doc.paragraphs[index]
        return self._span_text(paragraph.start, paragraph.end)

    def marks_text(self, index: int) -> Text:
        """The margin marks of paragraph `index`: one line per tag kind present."""
        assert self.doc is not None
        paragraph = self.doc.paragraphs[index]
        marks: list[str] = []
        for ann in self.annotations:
            if ann.status == "orphaned" or ann.end <= paragraph.start or ann.start >= paragraph.end:
                continue
            if ann.tag not in marks:
                marks.append(ann.tag)
        text = Text()
        for i, tag in enumerate(marks):
            if i:
                text.append("\n")
            text.append(f"▌{TAG_MARKS.get(tag, '?')}", style=self._style(tag))
        return text

    def _translation_text(self, index: int, start: int = 0, end: int | None = None) -> Text:
        """The translation of paragraph `index` (of its sentences starting in `[start, end)`)."""
        paragraph = self.doc.paragraphs[index] if self.doc else None
        found = self.translations.get(index)
        text = Text(style=self._style("translation"))
        if paragraph is None or found is None:
            text.append("…", style=self._style("pending"))
            return text
        by_start = {s.start: s for s in found.sentences}
        first, last = self.selected_range()
        cursor_style = self._style("cursor" if self.pane_focus else "aligned")
        stop = paragraph.end if end is None else end
        for sentence in paragraph.sentences:
            if not start <= sentence.start < stop and not (
                sentence.start < start and sentence is paragraph.sentences[0]
            ):
                continue
            translated = by_start.get(sentence.start)
            at = len(text)
            if translated is None or translated.translation is None:
                text.append("…", style=self._style("pending"))
            else:
                text.append(translated.translation.translate(_VISIBLE))
            text.stylize(Style(meta={"sentence": sentence.index}), at, len(text))
            if self.anchor is not None and first <= sentence.index <= last:
                text.stylize(self._style("selection"), at, len(text))
            if sentence.index == self.cursor:
                text.stylize(cursor_style, at, len(text))
            text.append(" ")
        text.rstrip()
        return text

    # Wrapping into blocks of lines ----------------------------------------------------------
    def _wrap(self, text: Text, width: int) -> tuple[list[Strip], dict[int, int]]:
        console = self.app.console
        strips: list[Strip] = []
        firsts: dict[int, int] = {}
        for number, line in enumerate(text.wrap(console, max(1, width), overflow="fold")):
            for span in line.spans:
                sentence = _sentence_of(span.style)
                if sentence is not None and sentence not in firsts:
                    firsts[sentence] = number
            strip = Strip(list(line.render(console)), line.cell_len)
            strips.append(strip.adjust_cell_length(width))
        return strips or [Strip.blank(width)], firsts

    def _build(self, index: int) -> Block:
        chunk = self._chunks[index]
        width = max(GUTTER + 10, self._width)
        inner = width - GUTTER
        mode = self._mode()
        first_chunk = self._para_chunk[chunk.paragraph] == index
        mark_lines = self._mark_lines(chunk.paragraph) if first_chunk else []
        marks = [Strip(list(line.render(self.app.console))) for line in mark_lines]
        source_text = self._span_text(chunk.start, chunk.end)
        if mode == "side":
            left = max(8, (inner - len(SEPARATOR)) // 2)
            right = max(4, inner - len(SEPARATOR) - left)
            source, firsts = self._wrap(source_text, left)
            translation, _ = self._wrap(
                self._translation_text(chunk.paragraph, chunk.start, chunk.end), right
            )
            separator = Strip(
                [*Text(SEPARATOR, style=self._style("separator")).render(self.app.console)]
            )
            rows = max(len(source), len(translation))
            body = [
                Strip.join(
                    [
                        source[i] if i < len(source) else Strip.blank(left),
                        separator,
                        translation[i] if i < len(translation) else Strip.blank(right),
                    ]
                )
                for i in range(rows)
            ]
        else:
            body, firsts = self._wrap(source_text, inner)
            if mode == "inline" and chunk.last:
                prefix = Strip(
                    list(
                        Text(INLINE_PREFIX, style=self._style("separator")).render(self.app.console)
                    )
                )
                translation, _ = self._wrap(
                    self._translation_text(chunk.paragraph), max(4, inner - len(INLINE_PREFIX))
                )
                body += [Strip.join([prefix, line]) for line in translation]
        lines = [
            Strip.join(
                [marks[i] if i < len(marks) else Strip.blank(GUTTER), strip]
            ).adjust_cell_length(GUTTER + inner)
            for i, strip in enumerate(body)
        ]
        if chunk.last:
            lines.append(Strip.blank(width))  # a blank line between paragraphs
        return Block(lines, firsts)

    def _mark_lines(self, index: int) -> list[Text]:
        lines = self.marks_text(index).split("\n")
        for line in lines:
            line.pad_right(GUTTER - line.cell_len)
        return [line for line in lines if line.plain.strip()]

    def _estimate(self) -> np.ndarray:
        """The lines each chunk will probably take (exact once it has been drawn)."""
        inner = max(10, self._width - GUTTER)
        mode = self._mode()
        if mode == "side":
            inner = max(8, (inner - len(SEPARATOR)) // 2)
        lengths, last = self._chunks.arrays()
        lines = np.maximum(1, -(-(lengths * 11 // 10) // inner))
        if mode == "inline":
            lines = lines + lines * last
        return lines + last

    def _invalidate_all(self) -> None:
        count = len(self._chunks) if self.doc else 0
        self._blocks = [None] * count
        self._heights = np.zeros(0, dtype=np.int64)
        self._starts = np.zeros(0, dtype=np.int64)
        self._width = 0
        self.refresh()

    def _block(self, index: int) -> Block:
        block = self._blocks[index]
        if block is None:
            block = self._blocks[index] = self._build(index)
            height = len(block.lines)
            if height != self._heights[index]:
                self._heights[index] = height
                self._dirty = True
        return block

    def _ensure(self) -> None:
        """Estimate every chunk's height for the current width (once) and set the scroll
        height; chunks are wrapped only when drawn."""
        width = self.scrollable_content_region.width
        if width <= 0 or not self.doc:
            return
        if width != self._width or len(self._heights) != len(self._chunks):
            self._width = width
            self._blocks = [None] * len(self._chunks)
            self._heights = self._estimate()
            self._dirty = True
        self._settle()

    def _settle(self) -> None:
        if self._dirty:
            ends = np.cumsum(self._heights)
            self._starts = ends - self._heights
            total = int(ends[-1]) if len(ends) else 0
            self._dirty = False
            self.virtual_size = Size(self._width, total)

    def _chunk_at_line(self, line: int) -> int:
        return max(0, int(np.searchsorted(self._starts, line, side="right")) - 1)

    def render_lines(self, crop: Region) -> list[Strip]:
        """Wrap the chunks on screen first, so their exact heights place every line."""
        self._ensure()
        if len(self._starts):
            for _ in range(3):  # estimates above replaced by exact heights: settle again
                top = int(self.scroll_offset.y)
                index = self._chunk_at_line(top)
                bottom = top + self.size.height
                while index < len(self._chunks) and self._starts[index] < bottom:
                    self._block(index)
                    index += 1
                if not self._dirty:
                    break
                self._settle()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        self._ensure()
        scroll_x, scroll_y = self.scroll_offset
        line = scroll_y + y
        width = self.size.width
        style = self.rich_style
        if not len(self._starts) or line >= self.virtual_size.height:
            return Strip.blank(width, style)
        index = self._chunk_at_line(line)
        lines = self._block(index).lines
        offset = line - int(self._starts[index])
        if offset >= len(lines):
            return Strip.blank(width, style)
        return lines[offset].crop_extend(scroll_x, scroll_x + width, style).apply_style(style)

    def on_resize(self, event: events.Resize) -> None:
        self._ensure()
        self.call_after_refresh(self.scroll_to_cursor)

    def _chunks_of(self, paragraphs: Iterable[int]) -> set[int]:
        chunks: set[int] = set()
        for index in paragraphs:
            chunks.update(range(self._para_chunk[index], self._para_chunk[index + 1]))
        return chunks

    def refresh_rows(self, indexes: Iterable[int]) -> None:
        """Re-wrap the given paragraphs (when drawn) and repaint."""
        if not self.doc or not self._blocks:
            return
        for chunk in self._chunks_of(set(indexes)):
            self._blocks[chunk] = None
        self.refresh()

    def _refresh_sentence_range(self, first: int, last: int) -> None:
        """Re-wrap (when drawn) the chunks of the paragraphs holding sentences first..last."""
        if not self.doc or not self._blocks or first > last:
            return
        sentences = self.doc.sentences
        start = self._para_chunk[sentences[first].paragraph]
        end = self._para_chunk[sentences[last].paragraph + 1]
        self._blocks[start:end] = [None] * (end - start)
        self.refresh()

    def refresh_all(self) -> None:
        self._invalidate_all()

    def render_row(self, index: int) -> None:
        self.refresh_rows([index])

    def _paragraph_of(self, sentence_index: int) -> int:
        assert self.doc is not None
        return self.doc.sentences[sentence_index].paragraph

    def scroll_to_cursor(self) -> None:
        """Scroll so that the cursor sentence is in view."""
        if self.current() is None or self._width == 0:
            self._ensure()
            if self._width == 0 or self.current() is None:
                return
        line = self.sentence_line(self.cursor)
        self.scroll_to_region(
            Region(0, max(0, line - 1), 1, 3), animate=False, immediate=True, force=True
        )

    # Movement ---------------------------------------------------------------------------------
    def move_to(self, index: int, *, extend: bool = False) -> None:
        """Put the cursor on sentence `index`; `extend` grows the selection, else it clears."""
        if not self.doc or not self.doc.sentences:
            return
        index = max(0, min(index, self.sentence_count - 1))
        before, old_cursor = self.selected_range(), self.cursor
        if extend and self.anchor is None:
            self.anchor = self.cursor
        elif not extend and not self.selecting:
            self.anchor = None
        self.cursor = index
        after = self.selected_range()
        if before != after or self.anchor is not None:  # the selection changed: redraw the
            low, high = max(before[0], after[0]), min(before[1], after[1])  # difference
            if low > high:
                self._refresh_sentence_range(*before)
                self._refresh_sentence_range(*after)
            else:
                self._refresh_sentence_range(min(before[0], after[0]), low)
                self._refresh_sentence_range(high, max(before[1], after[1]))
        self._refresh_sentence_range(old_cursor, old_cursor)
        self._refresh_sentence_range(index, index)
        self.scroll_to_cursor()
        self.post_message(self.CursorMoved(self))

    def move(self, delta: int, *, extend: bool = False) -> None:
        self.move_to(self.cursor + delta, extend=extend)

    def move_paragraph(self, delta: int) -> None:
        """Go to the first sentence of the next or previous paragraph."""
        sentence = self.current()
        if sentence is None:
            return
        assert self.doc is not None
        paragraphs = self.doc.paragraphs
        target = sentence.paragraph + delta
        if delta < 0 and sentence.index != paragraphs[sentence.paragraph].sentences[0].index:
            target = sentence.paragraph  # first go to the start of this paragraph
        target = max(0, min(target, len(paragraphs) - 1))
        while 0 <= target < len(paragraphs) and not paragraphs[target].sentences:
            target += 1 if delta > 0 else -1
        if 0 <= target < len(paragraphs):
            self.move_to(paragraphs[target].sentences[0].index)

    def page(self, direction: int) -> None:
        """Scroll a page and put the cursor on the first sentence that starts in view."""
        if not self.doc or not self.doc.sentences:
            return
        self._ensure()
        height = max(1, self.scrollable_content_region.height - 1)
        target = max(0, min(self.max_scroll_y, self.scroll_y + direction * height))
        if target == self.scroll_y:
            self.move_to(self.sentence_count - 1 if direction > 0 else 0)
            return
        self.scroll_to(y=target, animate=False, immediate=True)
        chunk = self._chunk_at_line(int(target))
        bottom = target + height
        while chunk < len(self._chunks) and self._starts[chunk] <= bottom:
            block = self._block(chunk)  # the first sentence starting in view
            self._settle()
            for sentence in self._sentences_in(self._chunks[chunk].start, self._chunks[chunk].end):
                line = block.sentence_lines.get(sentence.index)
                if line is not None and target <= int(self._starts[chunk]) + line <= bottom:
                    if sentence.index != self.cursor:
                        self.move_to(sentence.index)
                    return
            chunk += 1
        # no sentence starts below: a long sentence fills the screen, keep the scroll

    def toggle_selection(self) -> None:
        """`v`: start a range at the cursor; pressed again, end it (the range stays selected)."""
        if self.anchor is None or not self.selecting:
            self.anchor, self.selecting = self.cursor, True
        else:
            self.selecting = False
        self.move_to(self.cursor, extend=True)

    def clear_selection(self) -> None:
        if self.anchor is None:
            return
        self.selecting = False
        first, last = self.selected_range()
        self.anchor = None
        self._refresh_sentence_range(first, last)
        self.post_message(self.CursorMoved(self))

    def set_pane_focus(self, on: bool) -> None:
        self.pane_focus = on
        sentence = self.current()
        if sentence is not None:
            self.render_row(sentence.paragraph)

    def action_noop(self) -> None:
        """Sideways keys do nothing (the text wraps)."""

    # Data -------------------------------------------------------------------------------------
    def set_annotations(self, annotations: Sequence[Any]) -> None:
        old = {(a.start, a.end) for a in self.annotations}
        self.annotations = list(annotations)
        spans = old ^ {(a.start, a.end) for a in self.annotations} or old
        if not self.doc or not self._blocks:
            return
        paragraphs = self.doc.paragraphs
        for start, end in spans:
            first = max(0, bisect_right(self._para_offsets, start) - 1)
            last = max(first, bisect_left(self._para_offsets, end) - 1)
            begin = self._para_chunk[first]
            stop = self._para_chunk[min(last, len(paragraphs) - 1) + 1]
            self._blocks[begin:stop] = [None] * (stop - begin)
        self.refresh()

    def next_hit(self, direction: int) -> int:
        """Move to the next (1) or previous (-1) hit, wrapping; return its index or -1."""
        if not self.hits or not self.doc:
            return -1
        here = self.doc.sentences[self.cursor] if self.doc.sentences else None
        if self.hit_index < 0 and here is not None:
            after = [i for i, h in enumerate(self.hits) if h[0] >= here.end]
            before = [i for i, h in enumerate(self.hits) if h[1] <= here.start]
            if direction > 0:
                self.hit_index = after[0] if after else 0
            else:
                self.hit_index = before[-1] if before else len(self.hits) - 1
        else:
            self.hit_index = (self.hit_index + direction) % len(self.hits)
        sentence = self.sentence_at(self.hits[self.hit_index][0])
        if sentence is not None:
            self.move_to(sentence.index)
        return self.hit_index

    def set_translation(self, paragraphs: Iterable[Any]) -> None:
        """Merge translated paragraphs (matched to ours by their start offset) and show them."""
        if not self.doc:
            return
        by_start = {p.start: p.index for p in self.doc.paragraphs}
        changed = []
        for paragraph in paragraphs:
            index = by_start.get(paragraph.start)
            if index is not None:
                self.translations[index] = paragraph
                changed.append(index)
        if self._mode() != "none":
            self.refresh_rows(changed)

    # Mouse ------------------------------------------------------------------------------------
    def _sentence_under(self, event: events.MouseEvent) -> int | None:
        return _sentence_of(event.style)

    def on_mouse_down(self, event: events.MouseDown) -> None:
        self._mouse_anchor = self._sentence_under(event)

    def on_mouse_up(self, event: events.MouseUp) -> None:
        start, self._mouse_anchor = self._mouse_anchor, None
        end = self._sentence_under(event)
        if start is None or end is None:
            return
        self.focus()
        self.clear_selection()
        if start == end:
            self.selecting = False
            self.anchor = None
            self.move_to(end)
        else:
            self.selecting = False
            self.anchor = start
            self.move_to(end, extend=True)
