"""Pilot tests of the story map (F4) and of the verdict, labels and citation keys on the
article, tags and story map screens, pressing real keys."""

from __future__ import annotations

from textual.widgets import DataTable, Input, OptionList, Select, Static
from tui_helpers import DE, EN, FR, doc_id, open_doc, settle

from reader.core.citation import citation
from reader.core.documents import corpus_of
from reader.core.tags import open_tag_store
from reader.core.tags.story import records_for
from reader.core.translation.cache import TranslationCache
from reader.core.workspace import Workspace
from reader.tui.messages import TagsChanged
from reader.tui.screens.article import ArticleScreen
from reader.tui.screens.storymap import StoryMapScreen
from reader.tui.screens.tagkeys import LabelsScreen, VerdictScreen
from reader.tui.screens.tags import TagsScreen

SMALL = (80, 24)


def _story(workspace: Workspace) -> dict[str, str]:
    """An English claim (verdict false), a French rebuttal linked to it, a German context
    passage sharing the claim's label, and a second, unrated French claim."""
    with open_tag_store(workspace) as store:
        en = corpus_of(workspace).load(doc_id(workspace, EN))
        fr = corpus_of(workspace).load(doc_id(workspace, FR))
        de = corpus_of(workspace).load(doc_id(workspace, DE))

        def add(doc, index, kind, **kw):
            s = doc.sentences[index]
            return store.add(doc, s.start, s.end, kind, **kw).id

        ids = {"claim": add(en, 1, "claim", labels=["refund"])}
        store.set_verdict(ids["claim"], "false")
        ids["rebuttal"] = add(fr, 2, "rebuttal", links=[ids["claim"]], note="line one\nline two")
        ids["context"] = add(de, 3, "context", labels=["refund"])
        ids["claim2"] = add(fr, 1, "claim")
    return ids


def stored(workspace: Workspace, tag_id: str):
    with open_tag_store(workspace) as store:
        return store.get(tag_id)


def shown_ids(screen: StoryMapScreen) -> list[str]:
    return [record.ann.id for record, _, _ in screen.items]


def detail(screen) -> str:
    return str(screen.query_one("#story-detail", Static).render())


async def test_f4_and_palette_open_the_map_claims_oldest_first(
    make_app, workspace: Workspace
) -> None:
    ids = _story(workspace)
    app = make_app(index_on_start=False)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, StoryMapScreen)
        dates = {r.ann.id: r.date for r, _, _ in screen.items}
        claims = [r.ann.id for r, claim, _ in screen.items if claim is None]
        assert set(claims) == {ids["claim"], ids["claim2"]}
        assert dates[claims[0]] is None or dates[claims[0]] <= (dates[claims[1]] or "9999")
        # under the English claim: its French rebuttal, then the German context (label)
        start = shown_ids(screen).index(ids["claim"])
        assert shown_ids(screen)[start : start + 3] == [
            ids["claim"],
            ids["rebuttal"],
            ids["context"],
        ]
        await pilot.press("q")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"story map")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, StoryMapScreen)


async def test_detail_pane_and_filters(make_app, workspace: Workspace) -> None:
    ids = _story(workspace)
    app = make_app(index_on_start=False)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        options = screen.query_one(OptionList)
        options.highlighted = options.get_option_index(
            f"i{shown_ids(screen).index(ids['rebuttal'])}"
        )
        await pilot.pause()
        text = detail(screen)
        rebuttal = stored(workspace, ids["rebuttal"])
        assert rebuttal.exact.split()[0] in text
        assert "line one\nline two" in text
        assert "answers the claim" in text
        assert "fr" in text
        # verdict filter: only the false claim's group
        screen.query_one("#story-verdict", Select).value = "false"
        await pilot.pause()
        assert shown_ids(screen) == [ids["claim"], ids["rebuttal"], ids["context"]]
        screen.query_one("#story-verdict", Select).value = ""
        await pilot.pause()
        # language filter: German keeps the claim whose context is German
        screen.query_one("#story-lang", Select).value = "de"
        await pilot.pause()
        assert shown_ids(screen)[0] == ids["claim"] and ids["claim2"] not in shown_ids(screen)
        screen.query_one("#story-lang", Select).value = ""
        screen.query_one("#story-doc", Select).value = doc_id(workspace, FR)
        await pilot.pause()
        assert set(shown_ids(screen)) >= {ids["claim2"], ids["claim"]}
        screen.query_one("#story-doc", Select).value = ""
        screen.query_one("#story-label", Select).value = "refund"
        await pilot.pause()
        assert ids["claim2"] not in shown_ids(screen)
        screen.query_one("#story-label", Select).value = ""
        await pilot.pause()
        # text filter, typed
        screen.query_one("#story-text", Input).focus()
        claim2 = stored(workspace, ids["claim2"])
        word = max(claim2.exact.split(), key=len)
        await pilot.press(*word)
        await pilot.pause()
        assert shown_ids(screen) == [ids["claim2"]]
        assert "(filtered)" in str(screen.query_one("#story-title", Static).render())


async def test_enter_jumps_to_the_passage(make_app, workspace: Workspace) -> None:
    ids = _story(workspace)
    app = make_app(index_on_start=False)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        options = screen.query_one(OptionList)
        options.highlighted = options.get_option_index(
            f"i{shown_ids(screen).index(ids['rebuttal'])}"
        )
        await pilot.press("enter")
        await settle(app, pilot)
        article = app.screen
        assert isinstance(article, ArticleScreen)
        assert article.doc_id == doc_id(workspace, FR)
        rebuttal = stored(workspace, ids["rebuttal"])
        assert article.view.current().start == rebuttal.start


async def test_verdict_labels_and_citation_keys_on_the_map(make_app, workspace: Workspace) -> None:
    ids = _story(workspace)
    app = make_app(index_on_start=False)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        options = screen.query_one(OptionList)
        options.highlighted = options.get_option_index(f"i{shown_ids(screen).index(ids['claim2'])}")
        await pilot.press("V")
        await pilot.pause()
        assert isinstance(app.screen, VerdictScreen)
        await pilot.press("home", "down", "down", "enter")  # true -> mostly-true -> mixed
        await pilot.pause()
        assert stored(workspace, ids["claim2"]).verdict == "mixed"
        assert "[mixed]" in str(options.get_option_at_index(options.highlighted).prompt)
        await pilot.press("u")  # an event: undone
        await pilot.pause()
        assert stored(workspace, ids["claim2"]).verdict == "not-rated"
        await pilot.press("number_sign")
        await pilot.pause()
        assert isinstance(app.screen, LabelsScreen)
        await pilot.press(*"#Musk tesla", "enter")
        await pilot.pause()
        assert stored(workspace, ids["claim2"]).labels == ("musk", "tesla")
        screen.query_one("#story-label", Select).value = "musk"  # offered at once
        await pilot.pause()
        assert shown_ids(screen) == [ids["claim2"]]
        await pilot.press("y")
        await pilot.pause()
        tag = stored(workspace, ids["claim2"])
        expected = citation(records_for(workspace, [tag])[0], user_lang="en")
        assert app.clipboard == expected
        assert expected.startswith("«") and "\n" not in tag.exact
        assert any("Citation copied" in n.title for n in app._notifications)


async def test_refreshes_when_a_teammate_changes_tags(make_app, workspace: Workspace) -> None:
    ids = _story(workspace)
    app = make_app(index_on_start=False)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        with open_tag_store(workspace, author="ann") as other:
            other.set_verdict(ids["claim2"], "true")
            de = corpus_of(workspace).load(doc_id(workspace, DE))
            other.add(
                de, de.sentences[0].start, de.sentences[0].end, "rebuttal", links=[ids["claim2"]]
            )
        app.post_message(TagsChanged((doc_id(workspace, DE),), "ann"))
        await pilot.pause()
        await pilot.pause()
        start = shown_ids(screen).index(ids["claim2"])
        assert len(shown_ids(screen)) == 5
        assert screen.items[start + 1][1].ann.id == ids["claim2"]
        assert screen.items[start][0].ann.verdict == "true"


async def test_keys_on_the_article_and_tags_screens(make_app, workspace: Workspace) -> None:
    ids = _story(workspace)
    app = make_app(index_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        rebuttal = stored(workspace, ids["rebuttal"])
        await open_doc(app, pilot, doc_id(workspace, FR), at=rebuttal.start)
        article = app.screen
        assert article.view.current().start == rebuttal.start
        status = str(article.query_one("#article-status", Static).render())
        assert "rebuttal" in status
        await pilot.press("V")
        await pilot.pause()
        await pilot.press("home", "down", "down", "down", "down", "enter")  # -> false
        await pilot.pause()
        assert stored(workspace, ids["rebuttal"]).verdict == "false"
        assert "false" in str(article.query_one("#article-status", Static).render())
        await pilot.press("number_sign")
        await pilot.pause()
        await pilot.press(*" #answer", "enter")
        await pilot.pause()
        assert stored(workspace, ids["rebuttal"]).labels == ("answer",)
        await pilot.press("y")
        await pilot.pause()
        record = records_for(workspace, [stored(workspace, ids["rebuttal"])])[0]
        assert app.clipboard == citation(record, user_lang="en")
        assert "\n(en) " in app.clipboard or record.translation is None
        await pilot.press("q")
        await pilot.press("f3")
        await pilot.pause()
        tags = app.screen
        assert isinstance(tags, TagsScreen)
        table = tags.query_one(DataTable)
        assert "false" in [str(c) for c in table.get_row(ids["rebuttal"])]
        tags.query_one("#filter-label", Select).value = "answer"
        await pilot.pause()
        assert [a.id for a in tags.rows] == [ids["rebuttal"]]
        tags.query_one("#filter-label", Select).value = ""
        tags.query_one("#filter-verdict", Select).value = "false"
        await pilot.pause()
        assert {a.id for a in tags.rows} == {ids["claim"], ids["rebuttal"]}
        table.focus()
        table.move_cursor(row=[a.id for a in tags.rows].index(ids["claim"]))
        await pilot.press("V")
        await pilot.pause()
        await pilot.press("up", "enter")  # false -> mostly-false
        await pilot.pause()
        assert stored(workspace, ids["claim"]).verdict == "mostly-false"
        tags.query_one("#filter-verdict", Select).value = ""
        await pilot.pause()
        table.move_cursor(row=[a.id for a in tags.rows].index(ids["claim"]))
        await pilot.press("y")
        await pilot.pause()
        claim = stored(workspace, ids["claim"])
        assert app.clipboard == citation(records_for(workspace, [claim])[0], user_lang="en")


def test_story_map_snapshot_80x24(snap_compare, make_app, workspace: Workspace) -> None:
    """The story map at 80x24: filters, the list and the detail pane below it."""
    _story(workspace)
    app = make_app(index_on_start=False)

    async def ready(pilot) -> None:
        await pilot.press("f4")
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("down")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SMALL, run_before=ready)


async def test_wide_terminal_puts_the_detail_beside_and_lines_fit(
    make_app, workspace: Workspace
) -> None:
    _story(workspace)
    app = make_app(index_on_start=False)
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        body = screen.query_one("#story-body")
        assert body.has_class("-wide")
        box = screen.query_one("#story-detail-box")
        options = screen.query_one(OptionList)
        assert box.region.x >= options.region.right - 1
        for index in range(options.option_count):
            prompt = options.get_option_at_index(index).prompt
            assert len(str(prompt)) <= options.region.width


async def test_detail_shows_the_cached_translation(make_app, workspace: Workspace) -> None:
    ids = _story(workspace)
    fr = corpus_of(workspace).load(doc_id(workspace, FR))
    sentence = fr.sentences[2]
    with TranslationCache(workspace.translations_path) as cache:
        source = " ".join(fr.text[sentence.start : sentence.end].split())
        cache.put_many("test-model 1.0", "en", [(source, "In a series of tweets, Altman.")])
    app = make_app(index_on_start=False)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        options = screen.query_one(OptionList)
        options.highlighted = options.get_option_index(
            f"i{shown_ids(screen).index(ids['rebuttal'])}"
        )
        await pilot.pause()
        assert "en: In a series of tweets, Altman." in detail(screen)
        await pilot.press("y")
        assert app.clipboard.endswith("\n(en) In a series of tweets, Altman.")
