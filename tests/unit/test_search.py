"""Search on the bundled corpus: ranking, filters, syntax, snippets, highlights, the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reader.cli import main
from reader.core import search as search_module
from reader.core.index import update_index
from reader.core.search import match_spans, search, syntax_error
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
    assert result.error is None
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
    assert result.to_json() == {"query": "xqzvwplk", "total": 0, "facets": {"lang": {}}, "hits": []}


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
    doc = ws.corpus.load(hit.id)
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
    doc = ws.corpus.load(hit.id)
    marked = [doc.text[s:e] for sn in hit.snippets for s, e in sn.highlights]
    assert "24 hours" in marked and set(marked) <= {"24 hours", "24-Hour"}
    assert {tuple(h) for sn in hit.snippets for h in sn.highlights} <= set(
        match_spans('"24 hours"', doc)
    )


def test_accent_folding_highlights_the_accented_word(ws: Workspace) -> None:
    hit = search(ws, "evolution").hits[0]
    doc = ws.corpus.load(hit.id)
    marked = {doc.text[s:e] for sn in hit.snippets for s, e in sn.highlights}
    assert "évolution" in marked


def test_filter_only_query_gets_an_opening_snippet(ws: Workspace) -> None:
    hit = search(ws, "lang:de").hits[0]
    assert len(hit.snippets) == 1
    snippet = hit.snippets[0]
    assert snippet.start == 0 and snippet.highlights == []
    assert snippet.text == ws.corpus.load(hit.id).text[: snippet.end]


def test_json_shape_is_exact(ws: Workspace) -> None:
    data = search(ws, "tesla", limit=2).to_json()
    assert set(data) == {"query", "total", "facets", "hits"}
    assert set(data["facets"]) == {"lang"}
    assert len(data["hits"]) == 2
    for hit in data["hits"]:
        assert set(hit) == {"id", "title", "lang", "date", "score", "snippets"}
        for snippet in hit["snippets"]:
            assert set(snippet) == {"text", "start", "end", "highlights"}
            assert all(isinstance(h, list) and len(h) == 2 for h in snippet["highlights"])
    json.dumps(data)


def test_match_spans(ws: Workspace) -> None:
    doc = ws.corpus.load(search(ws, "refunds").hits[0].id)
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
    doc = ws.corpus.load(search(ws, "evolution").hits[0].id)
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
    annotations = pytest.importorskip("reader.core.annotations")
    doc = workspace.corpus.load(workspace.corpus.resolve_id("003"))
    store = annotations.AnnotationStore(workspace)
    try:
        sentence = doc.sentences[0]
        store.add(doc, sentence.start, sentence.end, "claim")
    finally:
        store.close()
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
    from reader.core.search import phrase_spans

    occ_24 = [(0, 0, 2), (5, 30, 32)]
    occ_hours = [(1, 3, 8), (9, 40, 45)]
    assert phrase_spans([occ_24, occ_hours]) == [(0, 8)]
    assert phrase_spans([occ_24, occ_hours], slop=4) == [(0, 8), (30, 45)]
    assert phrase_spans([occ_24, []]) == []
    assert phrase_spans([]) == []


def test_make_snippets_picks_up_to_three_passages_on_word_boundaries() -> None:
    from reader.core.search import make_snippets

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


def test_per_field_conjunction_only_narrows_the_query(ws: Workspace) -> None:
    from reader.core.index import build_schema
    from reader.core.search import parse_query, per_field_conjunction

    fields = ["title", "body", "body_en", "body_fr"]
    schema = build_schema()
    q, _ = parse_query("musk the refunds lang:en", fields, schema)
    fielded = per_field_conjunction(q)
    text = str(fielded)
    assert "lang:en" in text
    # "the" is an English stop word: the body_en branch requires it through body
    assert "body_en:refund" in text and "body:the" in text
    assert per_field_conjunction(parse_query("refunds", fields, schema)[0]) is None
    assert per_field_conjunction(parse_query('"24 hours" musk', fields, schema)[0]) is None
    from reader.core.index import searching
    from reader.core.search import _docset

    with searching(ws) as searcher:
        fields = ["title", "body", "body_de", "body_en", "body_fr", "body_it"]
        for query in ("musk altman", "tesla musk lang:fr", "the cliente", "tesla customers"):
            q, _ = parse_query(query, fields, searcher.schema)
            narrowed = _docset(searcher, per_field_conjunction(q))
            assert narrowed and narrowed <= _docset(searcher, q)


def test_highlights_are_whole_tokens() -> None:
    from reader.core.ingest import document_from_text

    doc = document_from_text("U.S. news\n\nThe U.S. said: us, US and USA; focus. Use us.\n")
    marked = [doc.text[s:e] for s, e in match_spans("us", doc)]
    assert marked == ["us", "US", "us"]  # not the "U.S" token, nor "focus"
    assert [doc.text[s:e] for s, e in match_spans("u.s", doc)] == ["U.S", "U.S"]


def test_ranking_query_only_narrows_the_query(ws: Workspace) -> None:
    from reader.core.index import searching
    from reader.core.search import _docset, parse_query, per_field_conjunction, ranking_query

    fields = ["title", "body", "body_de", "body_en", "body_fr", "body_it"]
    with searching(ws) as searcher:
        for query in ("tesla", "musk altman", "the cliente", "refunds NOT tesla", "evolution"):
            q, _ = parse_query(query, fields, searcher.schema)
            full = _docset(searcher, q)
            for major in ({"en"}, {"en", "fr"}, {"de", "en", "fr", "it"}):
                ranked = ranking_query(per_field_conjunction(q) or q, major)
                assert _docset(searcher, ranked) <= full, (query, major)
        q, _ = parse_query("tesla", fields, searcher.schema)
        assert str(ranking_query(q, {"en"})) == "(title:tesla OR body_en:tesla)"
        q, _ = parse_query("the", fields, searcher.schema)  # a stop word everywhere: kept
        assert ranking_query(q, {"en"}) == q


def test_minor_languages_are_ranked_too(ws: Workspace) -> None:
    """Ranking scores the major languages' stemmed fields and the other documents apart;
    the merged ranking has the same documents and scores as Whoosh's ranking of the query."""
    from reader.core.index import searching
    from reader.core.search import _docset, _lang_sets, _rank, parse_query

    fields = ["title", "body", "body_de", "body_en", "body_fr", "body_it"]
    with searching(ws) as searcher:
        langs = _lang_sets(searcher)
        for query in ("tesla", "cliente", "evolution OR refunds", "tesla NOT remboursement"):
            q, _ = parse_query(query, fields, searcher.schema)
            matched = _docset(searcher, q)
            assert matched, query
            # as if English were the only major language: the others are scored one by one
            ranked = _rank(searcher, q, matched, langs, ["en"], len(matched))
            assert {d for d, _ in ranked} == matched, query
            assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)
            whoosh = searcher.search(q, limit=20)
            reference = {whoosh.docnum(i): whoosh.score(i) for i in range(len(whoosh))}
            for docnum, score in ranked:  # minor-language documents: q's own score
                if searcher.stored_fields(docnum)["lang"] != "en":
                    assert score == pytest.approx(reference[docnum])


def test_phrases_match_through_the_unstemmed_body(ws: Workspace) -> None:
    result = search(ws, '"24 hours"')
    assert ids(result) == ["000"] and result.error is None
    assert search(ws, '"hours 24"').total == 0  # word order still counts
