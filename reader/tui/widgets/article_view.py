"""The article view: paragraphs with a sentence cursor, selection, tags, hits and translations.

A line-API scroll view (like Textual's Log and Toolong's log view): each paragraph is wrapped
once into a block of lines (margin marks, source, translation) and cached; a cursor move
re-wraps only the paragraphs it touches and repaints the visible lines, so the cost of a key
press does not grow with the article. The translation sits beside the source (`side`) or under
each paragraph (`inline`). Document text is data: only ever put into `rich.text.Text`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from reader.core.documents.model import Document
from reader.core.tags.model import KINDS

TAG_MARKS = {k.name: k.mark for k in KINDS}
GUTTER = 3  # margin columns for the tag marks
SEPARATOR = " ▏ "  # between the source and the translation beside it
INLINE_PREFIX = "  ▏ "  # before each translation line under its paragraph


@dataclass
class Block:
    """A paragraph wrapped for the current width: its lines and each sentence's first line."""

    lines: list[Strip]
    sentence_lines: dict[int, int]


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
        self._blocks: list[Block | None] = []
        self._starts: list[int] = []
        self._width = 0
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
        self.translations = {}
        self.anchor, self.selecting = None, False
        self.cursor = 0
        self.hit_index = -1
        if at is not None and doc.sentences:
            sentence = doc.sentence_at(at)
            self.cursor = sentence.index if sentence else 0
            self.hit_index = next((i for i, h in enumerate(self.hits) if h[1] > at), -1)
        self._invalidate_all()
        self.call_after_refresh(self.scroll_to_cursor)

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

    def paragraph_line(self, index: int) -> int:
        """The first line (in the scrolled content) of paragraph `index`."""
        self._ensure()
        return self._starts[index]

    def sentence_line(self, index: int) -> int:
        """The line (in the scrolled content) where sentence `index` starts."""
        assert self.doc is not None
        self._ensure()
        paragraph = self.doc.sentences[index].paragraph
        block = self._block(paragraph)
        return self._starts[paragraph] + block.sentence_lines.get(index, 0)

    # Styled text ------------------------------------------------------------------------------
    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)

    def paragraph_text(self, index: int) -> Text:
        """Paragraph `index` as styled text: tags, hits, selection, cursor; sentence meta."""
        assert self.doc is not None
        paragraph = self.doc.paragraphs[index]
        base = paragraph.start
        text = Text(self.doc.text[paragraph.start : paragraph.end])
        for sentence in paragraph.sentences:
            meta = Style(meta={"sentence": sentence.index})
            text.stylize(meta, sentence.start - base, sentence.end - base)
        for ann in self.annotations:
            if ann.status == "orphaned" or ann.end <= paragraph.start or ann.start >= paragraph.end:
                continue
            start, end = max(ann.start, paragraph.start), min(ann.end, paragraph.end)
            text.stylize(self._style(f"article--{ann.tag}"), start - base, end - base)
        for start, end in self.hits:
            if end > paragraph.start and start < paragraph.end:
                s, e = max(start, paragraph.start) - base, min(end, paragraph.end) - base
                text.stylize(self._style("article--hit"), s, e)
        first, last = self.selected_range()
        cursor_style = self._style("article--aligned" if self.pane_focus else "article--cursor")
        for sentence in paragraph.sentences:
            span = (sentence.start - base, sentence.end - base)
            if self.anchor is not None and first <= sentence.index <= last:
                text.stylize(self._style("article--selection"), *span)
            if sentence.index == self.cursor:
                text.stylize(cursor_style, *span)
        return text

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
            text.append(f"▌{TAG_MARKS.get(tag, '?')}", style=self._style(f"article--{tag}"))
        return text

    def _translation_text(self, index: int) -> Text:
        paragraph = self.doc.paragraphs[index] if self.doc else None
        found = self.translations.get(index)
        text = Text(style=self._style("article--translation"))
        if paragraph is None or found is None:
            text.append("…", style=self._style("article--pending"))
            return text
        by_start = {s.start: s for s in found.sentences}
        first, last = self.selected_range()
        cursor_style = self._style("article--cursor" if self.pane_focus else "article--aligned")
        for sentence in paragraph.sentences:
            translated = by_start.get(sentence.start)
            start = len(text)
            if translated is None or translated.translation is None:
                text.append("…", style=self._style("article--pending"))
            else:
                text.append(translated.translation)
            end = len(text)
            text.stylize(Style(meta={"sentence": sentence.index}), start, end)
            if self.anchor is not None and first <= sentence.index <= last:
                text.stylize(self._style("article--selection"), start, end)
            if sentence.index == self.cursor:
                text.stylize(cursor_style, start, end)
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
        width = max(GUTTER + 10, self._width)
        inner = width - GUTTER
        mode = self._mode()
        marks = [Strip(list(line.render(self.app.console))) for line in self._mark_lines(index)]
        if mode == "side":
            left = max(8, (inner - len(SEPARATOR)) // 2)
            right = max(4, inner - len(SEPARATOR) - left)
            source, firsts = self._wrap(self.paragraph_text(index), left)
            translation, _ = self._wrap(self._translation_text(index), right)
            separator = Strip(
                [*Text(SEPARATOR, style=self._style("article--separator")).render(self.app.console)]
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
            body, firsts = self._wrap(self.paragraph_text(index), inner)
            if mode == "inline":
                prefix = Strip(
                    list(
                        Text(INLINE_PREFIX, style=self._style("article--separator")).render(
                            self.app.console
                        )
                    )
                )
                translation, _ = self._wrap(
                    self._translation_text(index), max(4, inner - len(INLINE_PREFIX))
                )
                body += [Strip.join([prefix, line]) for line in translation]
        lines = [
            Strip.join(
                [marks[i] if i < len(marks) else Strip.blank(GUTTER), strip]
            ).adjust_cell_length(GUTTER + inner)
            for i, strip in enumerate(body)
        ]
        lines.append(Strip.blank(width))  # a blank line between paragraphs
        return Block(lines, firsts)

    def _mark_lines(self, index: int) -> list[Text]:
        lines = self.marks_text(index).split("\n")
        for line in lines:
            line.pad_right(GUTTER - line.cell_len)
        return [line for line in lines if line.plain.strip()]

    def _invalidate_all(self) -> None:
        count = len(self.doc.paragraphs) if self.doc else 0
        self._blocks = [None] * count
        self._starts = []
        self._width = 0
        self.refresh()

    def _block(self, index: int) -> Block:
        block = self._blocks[index]
        if block is None:
            block = self._blocks[index] = self._build(index)
        return block

    def _ensure(self) -> None:
        """Wrap every paragraph for the current width (once) and set the scroll height."""
        width = self.scrollable_content_region.width
        if width <= 0 or not self.doc:
            return
        if width != self._width:
            self._width = width
            self._blocks = [None] * len(self.doc.paragraphs)
            self._starts = []
        if len(self._starts) != len(self._blocks):
            self._restart()

    def _restart(self) -> None:
        starts, y = [], 0
        for index in range(len(self._blocks)):
            starts.append(y)
            y += len(self._block(index).lines)
        self._starts = starts
        self.virtual_size = Size(self._width, y)

    def render_line(self, y: int) -> Strip:
        self._ensure()
        scroll_x, scroll_y = self.scroll_offset
        line = scroll_y + y
        width = self.size.width
        style = self.rich_style
        if not self._starts or line >= self.virtual_size.height:
            return Strip.blank(width, style)
        index = bisect_right(self._starts, line) - 1
        strip = self._block(index).lines[line - self._starts[index]]
        return strip.crop_extend(scroll_x, scroll_x + width, style).apply_style(style)

    def on_resize(self, event: events.Resize) -> None:
        self._ensure()
        self.call_after_refresh(self.scroll_to_cursor)

    def refresh_rows(self, indexes: Iterable[int]) -> None:
        """Re-wrap the given paragraphs and repaint."""
        if not self.doc or not self._blocks:
            return
        changed_height = False
        for index in sorted(set(indexes)):
            old = self._blocks[index]
            self._blocks[index] = None
            if self._starts:
                new = self._block(index)
                changed_height |= old is None or len(old.lines) != len(new.lines)
        if changed_height:
            self._restart()
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
        before = set(range(self.selected_range()[0], self.selected_range()[1] + 1))
        if extend and self.anchor is None:
            self.anchor = self.cursor
        elif not extend and not self.selecting:
            self.anchor = None
        self.cursor = index
        after = set(range(self.selected_range()[0], self.selected_range()[1] + 1))
        self.refresh_rows(self._paragraph_of(i) for i in before | after)
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
        for sentence in self.doc.sentences:
            if self.sentence_line(sentence.index) >= target:
                self.move_to(sentence.index)
                return
        self.move_to(self.sentence_count - 1)

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
        self.refresh_rows(self._paragraph_of(i) for i in range(first, last + 1))
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
        spans = old | {(a.start, a.end) for a in self.annotations}
        rows = set()
        if self.doc:
            for paragraph in self.doc.paragraphs:
                if any(s < paragraph.end and e > paragraph.start for s, e in spans):
                    rows.add(paragraph.index)
        self.refresh_rows(rows)

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
        sentence = self.doc.sentence_at(self.hits[self.hit_index][0])
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
