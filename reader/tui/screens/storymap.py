"""The story map (F4): every claim, oldest first appearance first, with its rebuttals and
context passages from any document and language; a detail pane for the highlighted item.

The grouping, order and filters are reader.core.tags.story's (shared with the memo export);
this screen only shows them. Enter jumps to the passage in its article; V sets a verdict,
# edits labels, y copies a citation. It refreshes when tags change (a teammate's too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList, Select, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from reader.core.display import printable
from reader.core.documents import corpus_of
from reader.core.errors import ReaderError
from reader.core.tags.model import DEFAULT_VERDICT, KINDS, VERDICTS, kind
from reader.core.tags.story import (
    SAME_LABEL,
    StoryFilter,
    apply,
    build,
    labels_in,
    outlet,
    records_for,
    verdict_name,
)
from reader.tui.messages import TagsChanged
from reader.tui.screens import tagkeys
from reader.tui.workers import ShowsWorkerErrors

if TYPE_CHECKING:
    from reader.core.exchange.records import Record
    from reader.tui.app import ReaderApp

ALL = ""
WIDE = 120  # columns from which the detail pane sits beside the list


def _line(text: str | None) -> str:
    return " ".join(printable(str(text or "")).split())


class StoryMapScreen(ShowsWorkerErrors, Screen):
    """Claims with their answers across documents and languages."""

    app: ReaderApp

    BINDINGS = [  # noqa: RUF012
        *tagkeys.bindings("story"),
        Binding("f", "focus_filters", "Filter", id="story.filter", tooltip="Go to the filters"),
        Binding("u", "undo", "Undo", id="story.undo", show=False),
        Binding("ctrl+r", "redo", "Redo", id="story.redo", show=False),
        Binding("q,escape", "back", "Back", id="story.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[Record, Record | None, str]] = []  # record, its claim, relation
        self.records: list[Record] = []
        self._docs: dict[str, Any] = {}
        self._shown: StoryFilter | None = None  # the filter the list shows
        self._just_mounted = False

    def compose(self) -> ComposeResult:
        infos = corpus_of(self.app.workspace).infos()
        langs = sorted({i.lang for i in infos if i.lang})
        yield Static(id="story-title", classes="title-bar")
        with Horizontal(id="story-filters"):
            yield Select(
                [("all verdicts", ALL)] + [(v, v) for v in VERDICTS],
                value=ALL,
                allow_blank=False,
                id="story-verdict",
                compact=True,
            )
            yield Select(
                [("all langs", ALL)] + [(lang, lang) for lang in langs],
                value=ALL,
                allow_blank=False,
                id="story-lang",
                compact=True,
            )
            yield Select(
                [("all docs", ALL)] + [(Text(_line(i.title)[:50]), i.id) for i in infos],
                value=ALL,
                allow_blank=False,
                id="story-doc",
                compact=True,
            )
            yield Select(
                [("all labels", ALL)], value=ALL, allow_blank=False, id="story-label", compact=True
            )
            yield Input(placeholder="text", id="story-text", compact=True)
        with Horizontal(id="story-body"):
            yield OptionList(id="story-list")
            with VerticalScroll(id="story-detail-box"):
                yield Static(id="story-detail")
        yield Footer()

    def on_mount(self) -> None:
        self._layout(self.app.size.width)
        self.reload()
        self._just_mounted = True  # the first ScreenResume follows: no second read
        self.query_one(OptionList).focus()

    def on_resize(self, event: Resize) -> None:
        self._layout(event.size.width)

    def _layout(self, width: int) -> None:
        self.query_one("#story-body").set_class(width >= WIDE, "-wide")

    def on_screen_resume(self) -> None:
        if self._just_mounted:
            self._just_mounted = False
            return
        self.reload()

    def on_tags_changed(self, message: TagsChanged) -> None:
        """Tags changed (a teammate's change in team mode): the map follows."""
        self.reload()

    # Data ---------------------------------------------------------------------------------
    def _value(self, name: str) -> str | None:
        value = self.query_one(f"#story-{name}", Select).value
        return str(value) if value not in (ALL, Select.NULL) else None

    def current_filter(self) -> StoryFilter:
        text = self.query_one("#story-text", Input).value.strip()
        return StoryFilter(
            verdict=self._value("verdict"),
            lang=self._value("lang"),
            doc_id=self._value("doc"),
            label=self._value("label"),
            text=text or None,
        )

    def reload(self) -> None:
        """Read the tags, then build the map's records in a worker (documents and cached
        translations are read from disk) and show the part the filters keep."""
        try:
            tags = self.app.store.list()
        except ReaderError as exc:
            self.app.notify(printable(str(exc)), severity="error")
            tags = []
        self._load_records(tags)

    @work(thread=True, exclusive=True, group="story", exit_on_error=False)
    def _load_records(self, tags: list[Any]) -> None:
        records = records_for(self.app.workspace, tags, cache=self._docs)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._records_ready, records)

    def _records_ready(self, records: list[Record]) -> None:
        self.records = records
        self._refresh_labels()
        self.show()

    def _refresh_labels(self) -> None:
        select = self.query_one("#story-label", Select)
        labels = labels_in(self.records)
        current = select.value
        with select.prevent(Select.Changed):
            select.set_options([("all labels", ALL)] + [(f"#{x}", x) for x in labels])
            select.value = current if current in labels else ALL

    def show(self) -> None:
        """Fill the list from the records, keeping the highlighted item where it can."""
        options = self.query_one(OptionList)
        previous = self.selected()
        self._shown = self.current_filter()
        story = apply(build(self.records), self._shown)
        full = self.app.size.width
        width = options.size.width or (full * 3 // 5 if full >= WIDE else full)
        width = max(20, width - 4)
        self.items = []
        prompts: list[Option] = []

        def add(record: Record, claim: Record | None, relation: str, prompt: Text) -> None:
            self.items.append((record, claim, relation))
            prompts.append(Option(prompt, id=f"i{len(self.items) - 1}"))

        for group in story.claims:
            add(group.claim, None, "", self._prompt(group.claim, width, level=0))
            for passage in group.passages:
                add(
                    passage.record,
                    group.claim,
                    passage.relation,
                    self._prompt(passage.record, width, level=1, relation=passage.relation),
                )
        for title, records in (
            ("Not linked to a claim", story.loose),
            ("Orphaned: passage gone", story.orphaned),
        ):
            if records:
                prompts.append(Option(Text(""), disabled=True))
                prompts.append(Option(Text(title, style="bold"), disabled=True))
                for record in records:
                    add(record, None, "", self._prompt(record, width, level=0))
        options.clear_options()
        options.add_options(prompts)
        if self.items:
            index = 0
            if previous is not None:
                for i, (record, claim, _) in enumerate(self.items):
                    if record.ann.id == previous[0].ann.id and claim == previous[1]:
                        index = i
                        break
            options.highlighted = options.get_option_index(f"i{index}")
        self._title(story)
        self._detail()

    def _title(self, story: Any) -> None:
        count = len(story.claims)
        title = Text(f" Story map · {count} claim{'s' if count != 1 else ''}", style="bold")
        if self.current_filter():
            title.append(" (filtered)")
        title.append("  enter jumps · V verdict · # labels · y cites", style="dim")
        self.query_one("#story-title", Static).update(title)

    def _prompt(self, record: Record, width: int, *, level: int, relation: str = "") -> Text:
        """`C [false] en 2025-11-01 Le Monde «quote…»`, cut to one line of `width`."""
        ann = record.ann
        line = Text(no_wrap=True, overflow="ellipsis")
        if level:
            line.append(" ↳ " if relation != SAME_LABEL else " ~ ", style="dim")
        style = self.get_component_rich_style(f"story--{ann.tag}", partial=True)
        line.append(kind(ann.tag).mark + " ", style=style)
        if ann.verdict != DEFAULT_VERDICT:
            line.append(f"[{ann.verdict}] ", style="bold")
        where = [record.lang or "?", record.date[:10] if record.date else ""]
        source = _line(outlet(record))
        where.append(source[:16] + "…" if len(source) > 17 else source)
        line.append(" ".join(x for x in where if x) + " ", style="dim")
        line.append(f"«{_line(ann.exact)}»")
        line.truncate(width, overflow="ellipsis")
        return line

    COMPONENT_CLASSES = {f"story--{k.name}" for k in KINDS}  # noqa: RUF012
    # Each kind in its registry colour (the theme's $text-<colour>).
    DEFAULT_CSS = "\n".join(
        f"StoryMapScreen > .story--{k.name} {{ color: $text-{k.theme_colour}; text-style: bold; }}"
        for k in KINDS
    )

    def selected(self) -> tuple[Record, Record | None, str] | None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return None
        option = options.get_option_at_index(options.highlighted)
        if option.id is None or not option.id.startswith("i"):
            return None
        return self.items[int(option.id[1:])]

    def _detail(self) -> None:
        chosen = self.selected()
        pane = self.query_one("#story-detail", Static)
        if chosen is None:
            pane.update(Text("No tags to show: tag passages as claim, rebuttal or context."))
            return
        record, claim, relation = chosen
        ann = record.ann
        out = Text()
        out.append(kind(ann.tag).label + " · ", style="bold")
        out.append(f"verdict: {verdict_name(ann.verdict)}")
        if ann.labels:
            out.append(" · ")
            out.append(" ".join(f"#{_line(x)}" for x in ann.labels), style="italic")
        if ann.status == "orphaned":
            out.append(" · ")
            out.append("orphaned (the passage is gone; its old quote)", style="bold")
        out.append("\n«" + printable(ann.exact, keep="\n") + "»\n")
        if record.translation:
            out.append(f"{record.translation_lang}: ", style="dim")
            out.append(printable(record.translation) + "\n", style="italic")
        out.append(_line(record.title), style="bold")
        source = [_line(outlet(record)), _line(record.date) or "undated", record.lang or "?"]
        out.append("\n" + " · ".join(x for x in source if x))
        if record.url:
            out.append("\n" + _line(record.url), style="underline")
        if ann.note.strip():
            out.append("\nNote: ", style="bold")
            out.append(printable(ann.note, keep="\n\t"))
        if claim is not None:
            why = "answers" if relation != SAME_LABEL else "shares a label with"
            out.append(f"\n{why} the claim «{_line(claim.ann.exact)[:80]}»", style="dim")
        pane.update(out)

    @on(OptionList.OptionHighlighted, "#story-list")
    def _highlighted(self) -> None:
        self._detail()

    @on(Select.Changed)
    @on(Input.Changed, "#story-text")
    def _filter_changed(self) -> None:
        if self.current_filter() != self._shown:  # not the selects' own start-up messages
            self.show()

    @on(Input.Submitted, "#story-text")
    def _text_submitted(self) -> None:
        self.query_one(OptionList).focus()

    # Actions ------------------------------------------------------------------------------
    @on(OptionList.OptionSelected, "#story-list")
    def _jump(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        ann = chosen[0].ann
        if ann.status == "orphaned":
            self.app.notify(
                "This tag's passage is gone from the document (orphaned)", severity="warning"
            )
            return
        from reader.tui.screens.article import ArticleScreen

        self.app.pop_screen()
        if isinstance(self.app.screen, ArticleScreen):
            self.app.screen.action_back()
        self.app.open_article(ann.doc_id, at=ann.start)

    def _tag(self) -> Any | None:
        chosen = self.selected()
        if chosen is None:
            self.app.notify("No tag highlighted", severity="warning")
            return None
        return chosen[0].ann

    def action_verdict(self) -> None:
        tag = self._tag()
        if tag is not None:
            tagkeys.choose_verdict(self, tag, self.reload)

    def action_labels(self) -> None:
        tag = self._tag()
        if tag is not None:
            tagkeys.edit_labels(self, tag, self.reload)

    def action_cite(self) -> None:
        chosen = self.selected()
        if chosen is None:
            self.app.notify("No tag highlighted", severity="warning")
            return
        tagkeys.copy_citation(self, chosen[0].ann, chosen[0])

    def action_focus_filters(self) -> None:
        self.query_one("#story-verdict").focus()

    def action_undo(self) -> None:
        try:
            self.app.notify(self.app.store.undo() or "Nothing to undo", timeout=2)
        except ReaderError as exc:
            self.app.notify(printable(str(exc)), severity="error")
        self.reload()

    def action_redo(self) -> None:
        try:
            self.app.notify(self.app.store.redo() or "Nothing to redo", timeout=2)
        except ReaderError as exc:
            self.app.notify(printable(str(exc)), severity="error")
        self.reload()

    def action_back(self) -> None:
        self.app.pop_screen()
