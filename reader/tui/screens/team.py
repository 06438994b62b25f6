"""Team mode screens: what to do when the shared tag server cannot be reached at start."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from reader.core.display import printable

NOT_SAVED = "Not saved: the tag server is unreachable. ctrl+s retries"


class OfflineScreen(ModalScreen[str | None]):
    """The shared tag store is unreachable: read its last local copy (read-only), use the local
    store, retry, or quit. Returns "copy", "local", "retry" or "quit"."""

    DEFAULT_CSS = """
    OfflineScreen { align: center middle; }
    OfflineScreen > Vertical {
        width: 80; height: auto; padding: 1 2; border: thick $error; background: $surface;
    }
    OfflineScreen Label { width: 100%; margin-bottom: 1; }
    OfflineScreen OptionList { height: auto; }
    """
    BINDINGS = [  # noqa: RUF012
        Binding("escape", "keep", "Read-only copy", id="offline.keep"),
    ]

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text("The tag server cannot be reached", style="bold"))
            yield Label(Text(printable(self.reason)))
            yield OptionList(
                Option("Read the last local copy of the shared tags (read-only)", id="copy"),
                Option("Use the tags stored on this computer instead", id="local"),
                Option("Try the server again", id="retry"),
                Option("Quit", id="quit"),
                id="offline-choices",
            )

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_keep(self) -> None:
        self.dismiss("copy")
