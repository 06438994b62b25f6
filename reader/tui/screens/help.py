"""Help: every key of the screen it was opened on, with the binding ids users can remap."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Label

REMAP_HINT = (
    'Remap keys in your settings.json (see `reader info`): "keymap": {"article.claim": "c,f1"} '
    "(binding id → comma-separated keys)."
)


def _rank(binding: Binding) -> int:
    """The app's own actions first (this screen's, then app-wide), widgets' internals last."""
    if binding.id and not binding.id.startswith("app."):
        return 0
    return 1 if binding.id else 2


def ordered_bindings(screen: Screen) -> list[tuple[str, Binding]]:
    """(key, binding) of every active binding of `screen`, the app's own first."""
    pairs = [(key, active.binding) for key, active in screen.active_bindings.items()]
    return sorted(pairs, key=lambda pair: _rank(pair[1]))  # stable: chain order within


def key_rows(screen: Screen) -> list[tuple[str, str, str]]:
    """(keys, description, binding id) for each action of a screen, app keys included;
    the app's own actions come before the widgets' internals."""
    by_id: dict[str, tuple[list[str], str, str]] = {}
    for key, binding in ordered_bindings(screen):
        if binding.system or binding.action == "noop":
            continue
        description = binding.tooltip or binding.description or binding.action
        group = binding.id or binding.action
        entry = by_id.setdefault(group, ([], description, binding.id or ""))
        shown = screen.app.get_key_display(binding.with_key(key))
        if shown not in entry[0]:
            entry[0].append(shown)
    return [
        (", ".join(keys), description, binding_id)
        for keys, description, binding_id in by_id.values()
    ]


class HelpScreen(ModalScreen[None]):
    """The keys of the screen beneath; escape, q or ? closes it."""

    BINDINGS = [  # noqa: RUF012
        Binding("escape,q,question_mark", "close", "Close", id="help.close"),
    ]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.for_screen = screen

    def compose(self) -> ComposeResult:
        name = type(self.for_screen).__name__.removesuffix("Screen")
        with Vertical(classes="dialog help"):
            yield Label(f"Keys: {name}", classes="dialog-title")
            yield DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)
            yield Label(Text(REMAP_HINT), classes="dialog-help")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Keys", "Action", "Id")
        for keys, description, binding_id in key_rows(self.for_screen):
            table.add_row(Text(keys, style="bold"), Text(description), Text(binding_id, "dim"))
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
