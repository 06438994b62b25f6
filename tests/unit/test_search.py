"""Search on the bundled corpus: ranking, filters, syntax, snippets, highlights, the CLI."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reader.cli import main
from reader.core.documents import corpus_of
from reader.core.search import api as search_module
from reader.core.search import match_spans, search, syntax_error, update_index
from reader.core.workspace import Workspace, bundled_corpus


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """One indexed copy of the bundled corpus shared by the read-only tests of this module."""
    root = tmp_path_factory.mktemp("searchcorpus") / "corpus"
    shutil.copytree(bundled_corpus(), root, ignore=shutil.ignore_patterns(".reader"))
    workspace = Workspace.open(root, root.parent / "data")
    update_index(workspace)
    return workspace


def ids(result) -> list[str]:
    return [hit.id[:3] for hit in result.hits]


@pytest.mark.parametrize(
    ("query", "top"),
    [
        ("remboursement", "001"),
        ("Rückerstattung", "003"),
        ('"24 hours"', "000"),
        ("refunds", "000"),
        ("evolution", "001"),
        ("cliente", "002"),
    ],
)
def test_top_hit(ws: Workspace, query: str, top: str) -> None:
    result = search(ws, query)
    assert result.error is None and result.notice is None  # no rebuild hid an error
    assert ids(result)[0] == top
    assert result.total == len(result.hits) >= 1
    assert sum(result.facets["lang"].values()) == result.total


def test_lang_filter_gives_exactly_the_italian_document(ws: Workspace) -> None:
    result = search(ws, "lang:it")
    assert ids(result) == ["002"]
    assert result.facets == {"lang": {"it": 1}}
    assert search(ws, "lang:IT tesla").total == 1


def test_date_range(ws: Workspace) -> None:
    assert ids(search(ws, "date:[2025-01-01 TO 2025-12-31]")) == ["001"]
    assert search(ws, "date:[2026-01-01 TO 2026-12-31]").total == 0
    assert ids(search(ws, "tesla date:[2025-11-01 TO 2025-11-01]")) == ["001"]


def test_a_year_or_a_month_is_every_date_in_it(ws: Workspace) -> None:
    """`date:2025` and `date:2025-11` as a user means them (they found nothing)."""
    assert ids(search(ws, "date:2025")) == ["001"]
    assert ids(search(ws, "date:2025-11")) == ["001"]
    assert search(ws, "date:2026").total == 0
    assert "001" not in ids(search(ws, "tesla -date:2025"))


def test_facets_count_every_match_not_only_the_shown_hits(ws: Workspace) -> None:
    result = search(ws, "tesla", limit=1)
    assert len(result.hits) == 1
    assert result.total == 4
    assert result.facets == {"lang": {"de": 1, "en": 1, "fr": 1, "it": 1}}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("remboursement OR Rückerstattung", {"001", "003"}),
        ("tesla NOT remboursement", {"000", "002", "003"}),
        ("refu*", {"000"}),
        ("remboursemant~", {"001"}),
        ("title:cliente", {"002"}),
        ("musk altman", {"000", "001", "003"}),
    ],
)
def test_query_syntax(ws: Workspace, query: str, expected: set[str]) -> None:
    result = search(ws, query)
    assert result.error is None
    assert set(ids(result)) == expected


def test_nonsense_word_gives_no_hits(ws: Workspace) -> None:
    result = search(ws, "xqzvwplk")
    assert (result.total, result.hits, result.error) == (0, [], None)
    assert result.to_json() == {
        "query": "xqzvwplk",
        "total": 0,
        "facets": {"lang": {}},
        "hits": [],
        "did_you_mean": None,
    }


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("title:(", "unclosed '('"),
        ('"24 hours', "unclosed quote"),
        ("refund)", "no matching '('"),
        ("colour:red", "unknown field 'colour'"),
        ("title: refund", "needs a value"),
    ],
)
def test_syntax_errors_are_explained_and_fall_back(ws: Workspace, query: str, message: str):
    assert message in (syntax_error(query) or "")
    result = search(ws, query)
    assert message in (result.error or "")


def test_syntax_error_falls_back_to_the_plain_words(ws: Workspace) -> None:
    result = search(ws, "(remboursement")
    assert result.error
    assert ids(result) == ["001"]
    assert search(ws, "title:(").total == 0


def test_snippets_are_slices_of_the_clean_text_with_highlights(ws: Workspace) -> None:
    result = search(ws, "refunds")
    hit = result.hits[0]
    doc = corpus_of(ws).load(hit.id)
    assert 1 <= len(hit.snippets) <= 3
    marked = []
    for snippet in hit.snippets:
        assert doc.text[snippet.start : snippet.end] == snippet.text
        assert snippet.highlights
        for start, end in snippet.highlights:
            assert snippet.start <= start < end <= snippet.end
            marked.append(doc.text[start:end].lower())
    # stemmed and folded matches both: "Refund", "refunded", "refunds"
    assert set(marked) >= {"refund", "refunded"}
    assert all(word.startswith("refund") for word in marked)
    # every highlight is one of the spans the article view marks
    spans = set(match_spans("refunds", doc))
    assert {tuple(h) for s in hit.snippets for h in s.highlights} <= spans


def test_phrase_highlights_cover_the_whole_phrase(ws: Workspace) -> None:
    hit = search(ws, '"24 hours"').hits[0]
    doc = corpus_of(ws).load(hit.id)
    marked = [doc.text[s:e] for sn in hit.snippets for s, e in sn.highlights]
    assert "24 hours" in marked and set(marked) <= {"24 hours", "24-Hour"}
    assert {tuple(h) for sn in hit.snippets for h in sn.highlights} <= set(
        match_spans('"24 hours"', doc)
    )


def test_accent_folding_highlights_the_accented_word(ws: Workspace) -> None:
    hit = search(ws, "evolution").hits[0]
    doc = corpus_of(ws).load(hit.id)
    marked = {doc.text[s:e] for sn in hit.snippets for s, e in sn.highlights}
    assert "évolution" in marked


def test_filter_only_query_gets_an_opening_snippet(ws: Workspace) -> None:
    hit = search(ws, "lang:de").hits[0]
    assert len(hit.snippets) == 1
    snippet = hit.snippets[0]
    assert snippet.start == 0 and snippet.highlights == []
    assert snippet.text == corpus_of(ws).load(hit.id).text[: snippet.end]


def test_json_shape_is_exact(ws: Workspace) -> None:
    data = search(ws, "tesla", limit=2).to_json()
    assert set(data) == {"query", "total", "facets", "hits", "did_you_mean"}
    assert data["did_you_mean"] is None
    assert set(data["facets"]) == {"lang"}
    assert len(data["hits"]) == 2
    for hit in data["hits"]:
        assert set(hit) == {"id", "title", "lang", "date", "score", "snippets"}
        for snippet in hit["snippets"]:
            assert set(snippet) == {"text", "start", "end", "highlights"}
            assert all(isinstance(h, list) and len(h) == 2 for h in snippet["highlights"])
    json.dumps(data)


def test_match_spans(ws: Workspace) -> None:
    doc = corpus_of(ws).load(search(ws, "refunds").hits[0].id)
    words = [doc.text[s:e] for s, e in match_spans("refunds", doc)]
    assert {"Refund", "Refunds", "refunds", "refunded"} <= set(words)
    assert all(w.lower().startswith("refund") for w in words)
    spans = match_spans("refunds", doc)
    assert spans == sorted(spans)
    # NOT words and filters mark nothing; title: words are marked in the text
    assert match_spans("tesla NOT refunds", doc) == match_spans("tesla", doc)
    assert match_spans("lang:en", doc) == []
    assert match_spans("title:refund", doc)
    # a phrase marks whole occurrences of the phrase (stemmed: "24-Hour" too), not lone words
    phrase = [doc.text[s:e] for s, e in match_spans('"24 hours"', doc)]
    assert "24 hours" in phrase and set(phrase) <= {"24 hours", "24-Hour"}
    assert match_spans("", doc) == []


def test_match_spans_prefix_wildcard_fuzzy(ws: Workspace) -> None:
    doc = corpus_of(ws).load(search(ws, "evolution").hits[0].id)
    assert "remboursement" in {doc.text[s:e] for s, e in match_spans("rembours*", doc)}
    assert "remboursement" in {doc.text[s:e] for s, e in match_spans("remb?ursement", doc)}
    assert "remboursement" in {doc.text[s:e] for s, e in match_spans("remboursemant~", doc)}
    assert "évolution" in {doc.text[s:e] for s, e in match_spans("EVOLUTION", doc)}


def test_tag_filter_is_resolved_at_query_time(ws: Workspace, monkeypatch) -> None:
    tags = {"claim": [search(ws, "cliente").hits[0].id]}
    monkeypatch.setattr(search_module, "_tag_docs", lambda _ws: tags)
    assert ids(search(ws, "tag:claim")) == ["002"]
    assert ids(search(ws, "tesla tag:claim")) == ["002"]
    assert search(ws, "tag:rebuttal").total == 0
    assert set(ids(search(ws, "tesla NOT tag:claim"))) == {"000", "001", "003"}
    tags["claim"].append(search(ws, "remboursement").hits[0].id)  # a new tag: no reindex
    assert set(ids(search(ws, "tag:claim"))) == {"001", "002"}


def test_tag_filter_reads_the_annotation_store(workspace: Workspace) -> None:
    from reader.core.tags import open_tag_store

    doc = corpus_of(workspace).load(corpus_of(workspace).resolve_id("003"))
    with open_tag_store(workspace) as store:
        sentence = doc.sentences[0]
        store.add(doc, sentence.start, sentence.end, "claim")
    assert ids(search(workspace, "tag:claim")) == ["003"]
    assert search(workspace, "tag:rebuttal").total == 0


def test_search_builds_the_index_when_there_is_none(workspace: Workspace) -> None:
    result = search(workspace, "remboursement")
    assert ids(result) == ["001"]
    assert result.notice and "built the search index" in result.notice
    assert search(workspace, "remboursement").notice is None


# The command line --------------------------------------------------------------------------
def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_search_json(capsys, corpus_dir: Path) -> None:
    code, out, _ = run_cli(capsys, "search", "cliente", "--corpus", str(corpus_dir), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["query"] == "cliente"
    assert data["hits"][0]["id"].startswith("002")
    assert data["total"] == sum(data["facets"]["lang"].values())
    code, out, _ = run_cli(
        capsys, "search", "tesla", "--corpus", str(corpus_dir), "--json", "--limit", "1"
    )
    assert len(json.loads(out)["hits"]) == 1


def test_cli_search_human_output_and_edge_cases(capsys, corpus_dir: Path) -> None:
    code, out, _ = run_cli(capsys, "search", "Rückerstattung", "--corpus", str(corpus_dir))
    assert code == 0
    assert "Elon Musk kontert" in out and "003_" in out
    code, out, err = run_cli(capsys, "search", "xqzvwplk", "--corpus", str(corpus_dir))
    assert code == 0 and out.startswith("0 documents")
    code, out, err = run_cli(capsys, "search", "title:(", "--corpus", str(corpus_dir))
    assert code == 0
    assert "unclosed '('" in " ".join(err.split())
    code, out, _ = run_cli(capsys, "search", "--corpus", str(corpus_dir), "--json", "--", "-tesla")
    assert code == 0 and json.loads(out)["query"] == "-tesla"


def test_cli_search_reindexes_changed_files_first(capsys, corpus_dir: Path) -> None:
    assert run_cli(capsys, "index", str(corpus_dir))[0] == 0
    (corpus_dir / "new.txt").write_text("Zanzibarian lighthouses\n\nA note about them.\n")
    code, out, _ = run_cli(capsys, "search", "zanzibarian", "--corpus", str(corpus_dir), "--json")
    assert code == 0 and [h["id"] for h in json.loads(out)["hits"]] == ["new.txt"]
    code, out, _ = run_cli(
        capsys, "search", "lighthouses", "--corpus", str(corpus_dir), "--json", "--no-update"
    )
    assert code == 0 and json.loads(out)["total"] == 1


def test_cli_usage_errors(capsys, corpus_dir: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["search", "x", "--limit", "0"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["search"])
    assert exc.value.code == 2


# Pure helpers --------------------------------------------------------------------------------
def test_phrase_spans() -> None:
    from reader.core.search.highlight import phrase_spans

    occ_24 = [(0, 0, 2), (5, 30, 32)]
    occ_hours = [(1, 3, 8), (9, 40, 45)]
    assert phrase_spans([occ_24, occ_hours]) == [(0, 8)]
    assert phrase_spans([occ_24, occ_hours], slop=4) == [(0, 8), (30, 45)]
    assert phrase_spans([occ_24, []]) == []
    assert phrase_spans([]) == []


def test_make_snippets_picks_up_to_three_passages_on_word_boundaries() -> None:
    from reader.core.search.highlight import make_snippets

    words = [f"w{i:03d}" for i in range(400)]
    text = " ".join(words)
    spans = [(text.index(w), text.index(w) + 4) for w in ("w010", "w011", "w150", "w300", "w390")]
    snippets = make_snippets(text, spans)
    assert 1 <= len(snippets) <= 3
    assert [s.start for s in snippets] == sorted(s.start for s in snippets)
    for snippet in snippets:
        assert text[snippet.start : snippet.end] == snippet.text
        assert snippet.start == 0 or text[snippet.start - 1] == " "
        assert snippet.end == len(text) or text[snippet.end] == " "
        assert all(snippet.start <= s < e <= snippet.end for s, e in snippet.highlights)
    assert (text.index("w010"), text.index("w010") + 4) in snippets[0].highlights
    assert make_snippets("", []) == []
    assert make_snippets("short text", []) == [search_module.Snippet("short text", 0, 10, [])]


def test_highlights_are_whole_tokens() -> None:
    from reader.core.documents.ingest import document_from_text

    doc = document_from_text("U.S. news\n\nThe U.S. said: us, US and USA; focus. Use us.\n")
    marked = [doc.text[s:e] for s, e in match_spans("us", doc)]
    assert marked == ["us", "US", "us"]  # not the "U.S" token, nor "focus"
    assert [doc.text[s:e] for s, e in match_spans("u.s", doc)] == ["U.S", "U.S"]


RANKED_QUERIES = (
    "tesla",
    "cliente",
    "evolution OR refunds",
    "tesla NOT remboursement",
    "refunds customers",
    "musk^2 OR altman",
    "lang:fr OR lang:it",
    "remboursement lang:fr",
    "date:[2025-01-01 TO 2026-12-31] tesla",
)


@pytest.mark.parametrize("query", RANKED_QUERIES)
def test_ranking_matches_whoosh(ws: Workspace, query: str) -> None:
    """The numpy ranker finds the documents Whoosh finds, with Whoosh's BM25F scores."""
    from reader.core.search.whoosh import ranking
    from reader.core.search.whoosh.index import searching
    from reader.core.search.whoosh.parse import parse_query

    fields = ["title", "body", "body_de", "body_en", "body_fr", "body_it"]
    with searching(ws) as searcher:
        q, error = parse_query(query, fields, searcher.schema)
        assert error is None
        ctx = ranking.context(searcher)
        found = ranking.evaluate(ctx, q)
        whoosh = searcher.search(q, limit=None)
        reference = {whoosh.docnum(i): whoosh.score(i) for i in range(len(whoosh))}
        assert reference, query
        assert set(map(int, found.mask.nonzero()[0])) == set(reference), query
        if any(searcher.schema[leaf.field()].scorable for leaf in q.leaves()):
            for docnum, score in reference.items():
                assert found.score[docnum] == pytest.approx(score, rel=1e-5), (query, docnum)
        top = ctx.top(found, 2)
        assert [s for _, s in top] == sorted((s for _, s in top), reverse=True)


def test_ranking_skips_deleted_documents(workspace: Workspace, corpus_dir: Path) -> None:
    from reader.core.search.whoosh import ranking
    from reader.core.search.whoosh.index import searching

    update_index(workspace)
    next(corpus_dir.glob("002*")).unlink()
    assert update_index(workspace).removed == 1
    result = search(workspace, "cliente")
    assert "002" not in ids(result) and result.total and result.notice is None
    assert search(workspace, "lang:it").total == 0
    with searching(workspace) as searcher:
        ctx = ranking.context(searcher)
        assert not ctx.live.all()  # deleted in its segment, not merged away
        assert "it" not in ctx.facets(ctx.live) and "fr" in ctx.facets(ctx.live)


def test_phrases_match_through_the_unstemmed_body(ws: Workspace) -> None:
    result = search(ws, '"24 hours"')
    assert ids(result) == ["000"] and result.error is None
    assert search(ws, '"hours 24"').total == 0  # word order still counts


def test_word_highlights_equal_analysing_every_token(ws: Workspace) -> None:
    """The highlighter looks only at tokens that start like a query word's term (found with
    str.find in ASCII texts, a pattern in others); it must mark exactly the tokens whose
    analysis gives a query term."""
    from reader.core.search.highlight import Highlighter
    from reader.core.search.whoosh.engine import ANALYSIS
    from reader.core.search.whoosh.index import TOKEN, build_schema, term_cache
    from reader.core.search.whoosh.parse import highlight_terms, parse_query

    schema = build_schema()
    for info in corpus_of(ws).infos():
        doc = corpus_of(ws).load(info.id)
        tricky = " U.S.A. x.Refunds 3.14 _x *y a..refund REFUNDS. elan"
        ascii_text = doc.text.encode("ascii", "ignore").decode() + tricky
        accented = doc.text + tricky + " Évolution ÉVOLUTION élan Øre Æon"
        fields = ["title", "body", f"body_{doc.lang}"]
        words = ["evolution", "refunds", "elan", "ore", "aeon", "u.s.a", "3.14", "Rückerstattung"]
        words += sorted(set(TOKEN.findall(doc.text)))[::25]
        for word, text in itertools.product(words, (ascii_text, accented)):
            q, _ = parse_query(word, fields, schema)
            highlighter = Highlighter(highlight_terms(q), ANALYSIS)
            assert highlighter._starts([None, doc.lang])
            terms = {(leaf.field(), str(leaf.text).encode("utf-8")) for leaf in q.leaves()}
            expected = [
                m.span()
                for m in TOKEN.finditer(text)
                if ("body", term_cache(None)[m.group()]) in terms
                or (f"body_{doc.lang}", term_cache(doc.lang)[m.group()]) in terms
                or ("title", term_cache(None)[m.group()]) in terms
            ]
            assert highlighter.spans(text, doc.lang) == expected, (info.id, word)


def test_ranking_context_goes_with_its_searcher(ws: Workspace) -> None:
    """A reindex makes a new searcher; the old one's ranking context (its postings cache)
    must not outlive it."""
    import gc

    from reader.core.search.whoosh import ranking
    from reader.core.search.whoosh.index import forget_index, searching

    with searching(ws) as searcher:
        ranking.context(searcher)
    before = len(ranking._contexts)
    forget_index(ws)  # as after a reindex: the cached searcher is closed and dropped
    del searcher
    gc.collect()
    assert len(ranking._contexts) == before - 1
    assert search(ws, "tesla").total  # a new searcher, a new context


# A forgiving search: -word, +word, hyphenated words, did you mean ------------------------------
def test_minus_excludes_and_plus_requires(ws: Workspace) -> None:
    tesla, altman = search(ws, "tesla"), search(ws, "altman")
    assert tesla.total == 4 and 0 < altman.total < 4
    without = search(ws, "tesla -altman")
    assert {h.id for h in without.hits} == {h.id for h in tesla.hits} - {h.id for h in altman.hits}
    assert without.total == tesla.total - altman.total
    assert search(ws, "tesla NOT altman").total == without.total  # the long spelling agrees
    # +word is required even beside OR (Whoosh alone would read `a OR (b AND c)`)
    either = {h.id for h in search(ws, "altman OR roadster", limit=10).hits}
    refund = {h.id for h in search(ws, "refund", limit=10).hits}
    both = search(ws, "altman OR roadster +refund", limit=10)
    assert {h.id for h in both.hits} == either & refund and both.total == len(either & refund)
    # an excluded phrase, field and group
    assert search(ws, 'tesla -"Elon Musk"').total < 4
    assert {h.lang for h in search(ws, "tesla -lang:de", limit=10).hits} == {"en", "fr", "it"}
    assert search(ws, "tesla -(altman OR roadster)").total == tesla.total - len(
        {h.id for h in search(ws, "altman OR roadster", limit=10).hits}
    )


def test_a_lone_minus_or_plus_stays_literal(ws: Workspace) -> None:
    assert search(ws, "tesla - altman").total == search(ws, "tesla altman").total > 0
    assert search(ws, "roadster -").total == search(ws, "roadster").total > 0
    assert search(ws, "roadster +").total == search(ws, "roadster").total > 0
    for query in ("-", "+", "- +"):
        result = search(ws, query)
        assert (result.total, result.error, result.did_you_mean) == (0, None, None)


def test_highlights_skip_excluded_words(ws: Workspace) -> None:
    doc = corpus_of(ws).load(search(ws, "altman").hits[0].id)
    marked = {doc.text[a:b].lower() for a, b in match_spans("tesla -altman", doc)}
    assert marked == {"tesla"}
    marked = {doc.text[a:b].lower() for a, b in match_spans("tesla +altman", doc)}
    assert "altman" in marked and "tesla" in marked


@pytest.fixture
def hyphen_ws(tmp_path: Path) -> Workspace:
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "a.txt").write_text("Konto\n\nEin Fake-Profil verbreitete die Nachricht.\n")
    (root / "b.txt").write_text("Profil\n\nDas Profil war fake, sagte man, und echt.\n")
    (root / "c.txt").write_text("Datum\n\nAm 2025-01-05 kam die E-Mail an.\n")
    workspace = Workspace.open(root, tmp_path / "data")
    update_index(workspace)
    return workspace


def test_a_hyphenated_word_is_a_phrase(hyphen_ws: Workspace) -> None:
    assert search(hyphen_ws, "fake profil").total == 2  # two words: both documents
    result = search(hyphen_ws, "Fake-Profil")
    assert [h.id for h in result.hits] == ["a.txt"] and result.error is None
    (snippet,) = result.hits[0].snippets
    assert [snippet.text[a - snippet.start : b - snippet.start] for a, b in snippet.highlights] == [
        "Fake-Profil"
    ]
    assert [h.id for h in search(hyphen_ws, "-Fake-Profil fake").hits] == ["b.txt"]
    assert [h.id for h in search(hyphen_ws, "title:konto e-mail OR Fake-Profil").hits] == ["a.txt"]
    assert [h.id for h in search(hyphen_ws, "e-mail").hits] == ["c.txt"]
    assert [h.id for h in search(hyphen_ws, "2025-01-05").hits] == ["c.txt"]


def test_a_word_with_a_typographic_hyphen_is_a_phrase_too(hyphen_ws: Workspace) -> None:
    """Wire copy and web pages write U+2010 (hyphen) and U+2011 (non-breaking hyphen); a
    query pasted from them is the same hyphenated word."""
    for hyphen in ("\u2010", "\u2011"):
        result = search(hyphen_ws, f"Fake{hyphen}Profil")
        assert [h.id for h in result.hits] == ["a.txt"], hyphen
        assert [h.id for h in search(hyphen_ws, f"-Fake{hyphen}Profil fake").hits] == ["b.txt"]


def test_query_rewrite() -> None:
    from reader.core.search.query import free_words, replace_words, rewrite

    assert rewrite("tesla -musk") == "tesla NOT musk"
    assert rewrite("a OR b +c -d") == "(a OR b) AND c NOT d"
    assert rewrite('-"x y" -lang:fr -(a OR b) z') == 'z NOT "x y" NOT lang:fr NOT (a OR b)'
    assert rewrite("Fake-Profil title:e-mail") == '"Fake-Profil" title:"e-mail"'
    assert rewrite("date:[2025-01-01 TO 2025-12-31] lang:pt-br") == (
        "date:[2025-01-01 TO 2025-12-31] lang:pt-br"
    )
    assert rewrite("a - b + c") == "a - b + c"
    assert rewrite('"unclosed -x') == '"unclosed -x'  # a syntax error is left to the fallback
    # an operator with nothing to join is dropped (typed on the way to `tesla AND musk`)
    assert rewrite("tesla AND") == rewrite("tesla OR") == rewrite("tesla NOT") == "tesla"
    assert rewrite("AND tesla") == "tesla" and rewrite("NOT tesla") == "NOT tesla"
    assert rewrite("(tesla OR) musk") == "(tesla) musk" and rewrite("OR") == "OR"
    assert free_words('teslla -musk "a phrase" lang:fr title:roadstr ref* x~ NOT y') == [
        "teslla",
        "roadstr",
    ]
    assert replace_words(
        'teslla "teslla" title:teslla teslla* lang:teslla', {"teslla": "tesla"}
    ) == ('tesla "teslla" title:tesla teslla* lang:teslla')


def test_a_dangling_operator_finds_what_the_words_find(ws: Workspace) -> None:
    assert search(ws, "tesla").total > 1
    for typed in ("tesla AND", "tesla OR", "tesla NOT", "AND tesla", "OR tesla"):
        assert search(ws, typed).total == search(ws, "tesla").total, typed


def test_did_you_mean(ws: Workspace) -> None:
    result = search(ws, "teslla")
    assert result.did_you_mean == "tesla" and result.query == "teslla"
    assert result.total == search(ws, "tesla").total and result.hits
    assert result.to_json()["did_you_mean"] == "tesla"
    # spelled as the corpus spells it (accents kept); case follows the query
    assert search(ws, "Rückerstatung").did_you_mean == "Rückerstattung"
    assert search(ws, "remboursment").did_you_mean == "remboursement"
    assert search(ws, "TESLLA").did_you_mean == "TESLA"
    assert search(ws, "Teslla").did_you_mean == "Tesla"
    # only unknown words are respelled; excluded words and filters are kept as typed
    assert search(ws, "teslla -altman lang:it").did_you_mean == "tesla -altman lang:it"
    # no retry: something was found, or nothing is close
    assert search(ws, "tesla").did_you_mean is None
    assert search(ws, "xqzvwplk").did_you_mean is None
    assert search(ws, "teslla", suggest=False).total == 0


def test_paging_with_offset(ws: Workspace) -> None:
    whole = search(ws, "tesla", limit=4)
    assert whole.total == 4
    pages = [search(ws, "tesla", limit=2, offset=o) for o in (0, 2, 4)]
    assert [h.id for p in pages for h in p.hits] == [h.id for h in whole.hits]
    assert [p.total for p in pages] == [4, 4, 4] and pages[2].hits == []
    assert pages[1].offset == 2 and "offset" not in pages[1].to_json()


def test_cli_search_did_you_mean_and_offset(capsys, corpus_dir: Path) -> None:
    code, out, _ = run_cli(capsys, "search", "teslla", "--corpus", str(corpus_dir), "--json")
    assert code == 0 and json.loads(out)["did_you_mean"] == "tesla"
    code, out, err = run_cli(capsys, "search", "teslla", "--corpus", str(corpus_dir))
    assert "did you mean 'tesla'" in err and out.startswith("4 documents for 'tesla'")
    code, out, _ = run_cli(
        capsys, "search", "tesla", "--corpus", str(corpus_dir), "--limit", "1", "--offset", "1"
    )
    assert "showing 2–2 of 4" in out and "\n2. " in out


# Errors while ranking; a damaged index ---------------------------------------------------------
def test_a_ranking_error_surfaces_and_nothing_is_rebuilt(workspace: Workspace, monkeypatch):
    from reader.core.search.whoosh import ranking

    update_index(workspace)
    before = sorted(p.name for p in workspace.index_dir.iterdir())

    def broken(ctx, q):
        raise ValueError("a bug in ranking")

    monkeypatch.setattr(ranking, "evaluate", broken)
    rebuilt = []
    monkeypatch.setattr(search_module, "update_index", lambda *a, **k: rebuilt.append(1))
    with pytest.raises(ValueError, match="a bug in ranking"):
        search(workspace, "tesla")
    assert rebuilt == [] and sorted(p.name for p in workspace.index_dir.iterdir()) == before


@pytest.mark.parametrize("damage", ["no .col files", "truncated postings", "no term files"])
def test_a_damaged_index_is_rebuilt_once_with_a_notice(workspace: Workspace, damage: str):
    from reader.core.search.whoosh.engine import check_index
    from reader.core.search.whoosh.index import forget_index

    update_index(workspace)
    assert search(workspace, "tesla").total == 4 and check_index(workspace) is None
    forget_index(workspace)  # files changed under this process's open readers could SIGBUS
    for path in workspace.index_dir.iterdir():
        if damage == "no .col files" and path.suffix == ".col":
            path.unlink()
        elif damage == "truncated postings" and path.suffix == ".pst":
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        elif damage == "no term files" and path.suffix == ".trm":
            path.unlink()
    assert check_index(workspace) is not None
    result = search(workspace, "remboursement")
    assert ids(result) == ["001"]
    assert result.notice and "unreadable" in result.notice and "rebuilt" in result.notice
    assert check_index(workspace) is None


# Whoosh's own writer ---------------------------------------------------------------------------
STOCK_QUERIES = [
    "tesla", "refunds", "evolution", '"24 hours"', "remb*", "teslla~", "tesla -altman",
    "lang:de", "altman OR roadster +refund", "Rückerstattung", "date:[2024-01-01 TO 2026-12-31]",
]  # fmt: skip


def test_stock_writer_gives_the_same_hits(tmp_path: Path, monkeypatch) -> None:
    """READER_STOCK_WRITER=1 indexes with Whoosh's SegmentWriter and the W3 codec: the same
    documents, scores, totals, facets and snippets as the fast writer's array codec."""
    from reader.core.search.whoosh.codec import codec_classes
    from reader.core.search.whoosh.index import open_index

    results, codecs = {}, {}
    for mode in ("fast", "stock"):
        root = tmp_path / mode / "corpus"
        shutil.copytree(bundled_corpus(), root, ignore=shutil.ignore_patterns(".reader"))
        monkeypatch.setenv("READER_STOCK_WRITER", "1" if mode == "stock" else "0")
        workspace = Workspace.open(root, tmp_path / mode / "data")
        update_index(workspace)
        codecs[mode] = {type(s.codec()) for s in open_index(workspace)._segments()}
        results[mode] = [search(workspace, q, limit=10).to_json() for q in STOCK_QUERIES]
    assert codecs["fast"] == {codec_classes()[0]}
    assert [c.__name__ for c in codecs["stock"]] == ["W3Codec"]
    for query, fast, stock in zip(STOCK_QUERIES, results["fast"], results["stock"], strict=True):
        assert fast["total"] > 0, query
        assert fast == stock, query


QUERY_PIECES = [
    *'ab -+"()[]{}:*?~^',
    *("tesla", "lang:", "title:", " OR ", " AND ", " NOT ", "date:", "TO", "e-mail", "é"),
    *("x-y-z", "2025-01-01"),
]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pieces=st.lists(st.sampled_from(QUERY_PIECES), min_size=1, max_size=8))
def test_any_query_is_answered_and_rewriting_keeps_it_valid(ws: Workspace, pieces) -> None:
    from reader.core.search.query import rewrite

    query = "".join(pieces)
    result = search(ws, query, suggest=False)
    assert result.total >= len(result.hits)
    if syntax_error(query) is None:
        assert syntax_error(rewrite(query)) is None, (query, rewrite(query))
        assert result.error is None, query


def test_pages_of_tied_hits_are_the_full_ranking_cut_in_pieces(tmp_path: Path) -> None:
    """Wire copy repeats itself: many hits share a score. Page after page (`--offset`, the
    app's "load more") must be the one ranking cut in pieces: no hit twice, none skipped."""
    root = tmp_path / "wire"
    root.mkdir()
    for i in range(120):  # the same story from many outlets, a few words apart
        (root / f"{i:03d}.txt").write_text(
            f"Outlet {i} reports\n\nOil prices rose on Monday. {'Markets fell. ' * (i % 3)}\n",
            encoding="utf-8",
        )
    ws = Workspace.open(root, tmp_path / "data")
    whole = [h.id for h in search(ws, "oil", limit=120).hits]
    assert len(whole) == 120
    paged: list[str] = []
    for offset in range(0, 120, 7):
        paged += [h.id for h in search(ws, "oil", limit=7, offset=offset).hits]
    assert paged == whole
