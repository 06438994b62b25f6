"""The library's hit list: an option list that asks for more hits near its end."""

from __future__ import annotations

from textual.message import Message
from textual.widgets import OptionList

MORE_WITHIN = 5  # options from the end (or lines of scroll) at which more are asked for


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
