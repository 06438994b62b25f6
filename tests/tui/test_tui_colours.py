"""Colours as the stylesheet means them: tints keep their transparency, the cursor sentence
reads in every built-in theme, cursor and aligned sentence differ in 256 colours; the help and
the palette list the app's own actions first."""

from __future__ import annotations

from rich.color import ColorSystem
from rich.style import Style
from textual.color import Color
from tui_helpers import FR, doc_id, open_doc

from reader.core.documents import corpus_of
from reader.core.workspace import Workspace
from reader.tui.screens.help import HelpScreen, key_rows
from reader.tui.widgets.article_view import MIN_CONTRAST, ArticleView
from reader.tui.widgets.style import contrast_ratio


def _rendered_cursor_style(view: ArticleView) -> Style:
    """The style the terminal gets for the cursor sentence (read from the rendered line)."""
    y = view.sentence_line(view.cursor) - round(view.scroll_y)
    for segment in view.render_line(y):
        style = segment.style
        if style is not None and style.meta.get("sentence") == view.cursor and segment.text.strip():
            return style
    raise AssertionError("the cursor sentence is not on its line")


async def test_cursor_contrast_in_every_theme(make_app, workspace: Workspace) -> None:
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_doc(app, pilot, doc_id(workspace, FR))
        view = screen.view
        await pilot.press("j")
        themes = sorted(app.available_themes)
        assert len(themes) >= 15
        for theme in themes:
            app.theme = theme
            await pilot.pause()
            for pane_focus in (False, True):  # the cursor, then the aligned sentence
                view.set_pane_focus(pane_focus)
                style = _rendered_cursor_style(view)
                assert style.color is not None and style.bgcolor is not None, theme
                fg, bg = Color.from_rich_color(style.color), Color.from_rich_color(style.bgcolor)
                ratio = contrast_ratio(fg, bg)
                assert ratio >= MIN_CONTRAST, f"{theme}: {ratio:.2f}:1 (pane focus {pane_focus})"
            view.set_pane_focus(False)


async def test_tints_keep_their_transparency(make_app, workspace: Workspace) -> None:
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        app.theme = "textual-dark"
        screen = await open_doc(app, pilot, doc_id(workspace, FR))
        view = screen.view
        base = view.background_colors[1]
        for name in ("cursor", "aligned", "selection", "claim", "rebuttal", "context"):
            tint = view.get_component_styles(f"article--{name}").background
            assert 0 < tint.a < 1, name  # the stylesheet asks for a translucent tint
            style = view._style(name)
            assert style.bgcolor is not None
            assert Color.from_rich_color(style.bgcolor) == base + tint, name  # composed
            assert style.bgcolor != tint.rich_color, name  # not the solid colour
        # what Textual's own partial style gives: the alpha dropped (the bug this avoids)
        solid = view.get_component_rich_style("article--cursor", partial=True)
        assert solid.bgcolor == view.get_component_styles("article--cursor").background.rich_color
        rendered = _rendered_cursor_style(view)
        assert rendered.bgcolor == view._style("cursor").bgcolor


def _differ_in_256(first: Style, second: Style) -> bool:
    def colour(style: Style):
        return style.bgcolor.downgrade(ColorSystem.EIGHT_BIT) if style.bgcolor else None

    looks = (colour(first), first.bold, first.underline, first.reverse)
    return looks != (colour(second), second.bold, second.underline, second.reverse)


async def test_cursor_and_aligned_differ_in_256_colours(make_app, workspace: Workspace) -> None:
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        view = (await open_doc(app, pilot, doc_id(workspace, FR))).view
        for theme in sorted(app.available_themes):
            app.theme = theme
            await pilot.pause()
            cursor, aligned = view._style("cursor"), view._style("aligned")
            assert _differ_in_256(cursor, aligned), theme
            if cursor.bgcolor is not None and aligned.bgcolor is not None:
                eight = ColorSystem.EIGHT_BIT
                assert cursor.bgcolor.downgrade(eight) != aligned.bgcolor.downgrade(eight), theme


def _own_first(ids: list[str]) -> None:
    ours = [i for i, name in enumerate(ids) if name]
    internals = [i for i, name in enumerate(ids) if not name]
    assert ours and internals
    assert max(ours) < min(internals), ids


async def test_help_lists_the_apps_actions_first(make_app, workspace: Workspace) -> None:
    corpus_of(workspace).scan()
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("slash")  # the search box: its editing keys are widget internals
        _own_first([binding_id for _, _, binding_id in key_rows(app.screen)])
        await pilot.press("escape", "question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = key_rows(app.screen.for_screen)
        assert rows[0][2].startswith("library.")
        _own_first([binding_id for _, _, binding_id in rows])


async def test_palette_lists_the_apps_actions_first(make_app, workspace: Workspace) -> None:
    corpus_of(workspace).scan()
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("slash")
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert titles[:2] == ["Help", "Tags"]
        first_internal = titles.index("Move cursor left")
        for own in ("Export tags", "Search", "Clear", "Reindex"):
            assert titles.index(own) < first_internal


async def test_a_theme_setting_the_app_does_not_have_says_so(make_app, workspace: Workspace):
    workspace.set_setting("theme", "solarised-\x1b]0;owned\x07")
    app = make_app(index_on_start=False)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.theme == "textual-dark"
        (note,) = [n for n in app._notifications if n.title == "Settings"]
        assert "is not a theme of this app; using 'textual-dark'" in note.message
        assert "\x1b" not in note.message and "\x07" not in note.message
        app.theme = "nord"  # choosing one saves it
        await pilot.pause()
        assert workspace.setting("theme") == "nord"
