"""What the article, tags and story map screens share for a tag: the verdict picker, the labels
editor, the citation key (`y`) and the verdict/labels badges. Thin: the rules are the tag
service's, the citation text is reader.core.citation's."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from reader.core.display import printable
from reader.core.errors import ReaderError
from reader.core.tags.model import DEFAULT_VERDICT, VERDICTS, clean_label
from reader.core.tags.store import StoreUnavailableError

if TYPE_CHECKING:
    from textual.screen import Screen

VERDICT_KEY = "V"
LABELS_KEY = "number_sign"
CITE_KEY = "y"


def bindings(prefix: str, *, show: bool = True) -> list[Binding]:
    """The verdict, labels and citation keys, with ids `<prefix>.verdict` and so on (`show`:
    verdict and cite in the footer)."""
    return [
        Binding(
            VERDICT_KEY,
            "verdict",
            "Verdict",
            id=f"{prefix}.verdict",
            show=show,
            tooltip="Set the verdict of the tag (true … false, unproven, not rated)",
        ),
        Binding(
            LABELS_KEY,
            "labels",
            "Labels",
            id=f"{prefix}.labels",
            show=False,
            tooltip="Add or remove the tag's labels (#)",
        ),
        Binding(
            CITE_KEY,
            "cite",
            "Cite",
            id=f"{prefix}.cite",
            show=show,
            tooltip="Copy the passage as a citation",
        ),
    ]


def badges(tag: Any) -> Text:
    """` · false · #refund #tesla` (nothing for a tag without verdict or labels)."""
    out = Text()
    if tag.verdict and tag.verdict != DEFAULT_VERDICT:
        out.append(f" · {tag.verdict}", style="bold")
    if tag.labels:
        out.append(" · " + " ".join(f"#{printable(x)}" for x in tag.labels), style="italic")
    return out


class VerdictScreen(ModalScreen[str | None]):
    """Pick a verdict: enter picks, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="verdict.cancel")]  # noqa: RUF012

    def __init__(self, current: str, *, title: str = "Verdict") -> None:
        super().__init__()
        self.current = current
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.title_text), classes="dialog-title")
            yield OptionList(
                *(Option(Text(("● " if v == self.current else "  ") + v), id=v) for v in VERDICTS),
                id="verdict-list",
            )
            yield Label("enter picks · ● current · escape cancels", classes="dialog-help")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = VERDICTS.index(self.current) if self.current in VERDICTS else 0
        options.focus()

    @on(OptionList.OptionSelected, "#verdict-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class LabelsScreen(ModalScreen[list[str] | None]):
    """Edit a tag's labels as words separated by spaces: enter saves, escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="labels.cancel")]  # noqa: RUF012

    def __init__(self, labels: tuple[str, ...], *, title: str = "Labels") -> None:
        super().__init__()
        self.labels = labels
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.title_text), classes="dialog-title")
            yield Input(
                " ".join(f"#{x}" for x in self.labels),
                placeholder="#tesla-refund #musk",
                id="labels-input",
            )
            yield Label(
                "words separated by spaces; delete one to remove it · enter saves · escape cancels",
                classes="dialog-help",
            )

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted, "#labels-input")
    def _save(self, event: Input.Submitted) -> None:
        words = event.value.replace(",", " ").split()
        try:
            labels = [clean_label(w) for w in words]
        except ReaderError as exc:
            self.app.notify(str(exc), severity="error")
            return
        self.dismiss(list(dict.fromkeys(labels)))

    def action_cancel(self) -> None:
        self.dismiss(None)


def _report(screen: Screen, exc: ReaderError) -> None:
    screen.app.notify(printable(str(exc)), severity="error")


def choose_verdict(screen: Screen, tag: Any, after: Callable[[], None]) -> None:
    """Open the verdict picker for `tag`; save the choice (an event: u undoes) and `after()`."""

    def done(verdict: str | None) -> None:
        if verdict is None or verdict == tag.verdict:
            return
        try:
            screen.app.store.set_verdict(tag.id, verdict, expected_version=tag.version)
        except (StoreUnavailableError, ReaderError) as exc:
            _report(screen, exc)
        else:
            screen.app.notify(f"Verdict: {verdict} (u undoes)", timeout=2)
        after()

    screen.app.push_screen(VerdictScreen(tag.verdict, title=f"Verdict on this {tag.tag}"), done)


def edit_labels(screen: Screen, tag: Any, after: Callable[[], None]) -> None:
    """Open the labels editor for `tag`; save what was added and removed, then `after()`."""

    def done(labels: list[str] | None) -> None:
        if labels is None or tuple(labels) == tuple(tag.labels):
            return
        add = [x for x in labels if x not in tag.labels]
        remove = [x for x in tag.labels if x not in labels]
        try:
            screen.app.store.set_labels(
                tag.id, add=add, remove=remove, expected_version=tag.version
            )
        except (StoreUnavailableError, ReaderError) as exc:
            _report(screen, exc)
        else:
            shown = " ".join(f"#{x}" for x in labels) or "none"
            screen.app.notify(f"Labels: {printable(shown)}", timeout=2)
        after()

    screen.app.push_screen(LabelsScreen(tuple(tag.labels), title=f"Labels of this {tag.tag}"), done)


def copy_citation(screen: Screen, tag: Any, record: Any | None = None) -> str:
    """Copy `tag`'s citation to the clipboard (OSC 52) and show it; return the text."""
    from reader.core.citation import citation
    from reader.core.tags.story import records_for

    ws = screen.app.workspace
    if record is None:
        record = records_for(ws, [tag])[0]
    text = citation(record, user_lang=ws.target_lang)
    screen.app.copy_to_clipboard(text)
    screen.app.notify(text, title="Citation copied", timeout=6)
    return text
