"""The library's hit list: an option list that asks for more hits near its end, and the
hanging-indent text its prompts are drawn with."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.content import Content
from textual.message import Message
from textual.strip import Strip
from textual.visual import Visual
from textual.widgets import OptionList

if TYPE_CHECKING:
    from textual.css.styles import RulesMap
    from textual.style import Style
    from textual.visual import RenderOptions

MORE_WITHIN = 5  # options from the end (or lines of scroll) at which more are asked for


class HangingText(Text):
    """A rich Text (data, never markup) whose lines that begin with spaces keep that indent
    on every line they wrap to: a hit's snippets stay indented under its title. Anything
    that takes a Text reads it as one; the option list draws it through `visualize`."""

    @classmethod
    def of(cls, text: Text) -> HangingText:
        """`text` (its characters and styles) as a HangingText."""
        out = cls(text.plain, style=text.style, justify=text.justify, overflow=text.overflow,
                  no_wrap=text.no_wrap, end=text.end, tab_size=text.tab_size)  # fmt: skip
        out.spans[:] = text.spans
        return out

    def visualize(self) -> Visual:
        return _Hanging(self)


class _Hanging(Visual):
    """Each line of a Text drawn as Textual draws a Text (`Content`), wrapped to the width
    left after its leading spaces, which every wrapped line repeats."""

    def __init__(self, text: Text) -> None:
        self._lines: list[tuple[int, Content]] = []
        for line in text.split("\n", include_separator=False, allow_blank=True):
            indent = len(line.plain) - len(line.plain.lstrip(" "))
            self._lines.append((indent, Content.from_rich_text(line[indent:])))

    @staticmethod
    def _indent(indent: int, width: int) -> int:
        return indent if indent < width // 2 else 0  # a narrow list: no room to hang

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        strips: list[Strip] = []
        for indent, content in self._lines:
            pad = self._indent(indent, width)
            lines = content.render_strips(width - pad, None, style, options)
            if pad:
                (space,) = Content(" " * pad).render_strips(pad, None, style, options)
                lines = [Strip.join([space, line]) for line in lines]
            strips += lines
        return strips if height is None else strips[:height]

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return max(
            (indent + content.get_optimal_width(rules, container_width)
             for indent, content in self._lines),
            default=0,
        )  # fmt: skip

    def get_height(self, rules: RulesMap, width: int) -> int:
        return sum(
            content.get_height(rules, width - self._indent(indent, width))
            for indent, content in self._lines
        )


class HitList(OptionList):
    """Search hits; posts `NeedMore` when the highlight or the scroll nears the last hit."""

    class NeedMore(Message):
        """The user reached the end of the hits shown."""

        def __init__(self, hit_list: HitList) -> None:
            super().__init__()
            self.hit_list = hit_list

        @property
        def control(self) -> HitList:
            return self.hit_list

    def watch_highlighted(self, highlighted: int | None) -> None:
        super().watch_highlighted(highlighted)
        if highlighted is not None and highlighted >= self.option_count - max(1, MORE_WITHIN):
            self.post_message(self.NeedMore(self))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self.option_count and new_value >= self.max_scroll_y - MORE_WITHIN:
            self.post_message(self.NeedMore(self))
