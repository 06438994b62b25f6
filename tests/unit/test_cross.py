"""Cross-language search: translated queries, machine-translated documents, `via`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.tiny_argos import build

from reader.cli import main
from reader.core.search import cross, search
from reader.core.search.cross import assemble, pieces, query_language, texts
from reader.core.translation.models import install_model_file
from reader.core.translation.service import ArgosTranslator
from reader.core.workspace import Workspace

EN_FR = {"refund": "remboursement", "customer": "client", "Hello": "Bonjour"}
FR_EN = {"journaux": "newspapers", "Bonjour": "Hello", "monde": "world"}
EN_DE = {"Hello": "Hallo", "refund": "Rückerstattung", "world": "Welt"}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("cross_models")
    return {
        "en_fr": build(out / "translate-en_fr-0_1.argosmodel", "en", "fr", lexicon=EN_FR),
        "fr_en": build(out / "translate-fr_en-0_1.argosmodel", "fr", "en", lexicon=FR_EN),
        "en_de": build(out / "translate-en_de-0_1.argosmodel", "en", "de", lexicon=EN_DE),
    }


@pytest.fixture(autouse=True)
def fresh_memo():
    cross.forget_memo()
    yield
    cross.forget_memo()


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    seen: list[list[str]] = []
    real = ArgosTranslator.translate_batch

    def counting(self: ArgosTranslator, sentences):
        seen.append(list(sentences))
        return real(self, sentences)

    monkeypatch.setattr(ArgosTranslator, "translate_batch", counting)
    return seen


def install(ws: Workspace, models: dict[str, Path], *names: str) -> None:
    for name in names:
        install_model_file(ws, models[name])


def cli_json(capsys, ws: Workspace, *argv: str) -> tuple[dict, str]:
    code = main(["search", *argv, "--json", "--corpus", str(ws.corpus_root)])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out), err


# The query language ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "wanted", "back"),
    [
        ("refund", ["refund"], "REFUND"),
        ("tesla refund policy lang:fr", ["tesla refund policy"], "TESLA REFUND POLICY lang:fr"),
        ('"customer service" -musk', ["customer service", "musk"], '"CUSTOMER SERVICE" -MUSK'),
        ("refu* tesla~ title:refund", [], "refu* tesla~ title:refund"),
        ("date:[2025 TO] (refund OR rebate)", ["refund", "rebate"],
         "date:[2025 TO] ( REFUND OR REBATE )"),
        ("tag:claim AND +price", ["price"], "tag:claim AND +PRICE"),
    ],
)  # fmt: skip
def test_only_free_text_is_translated(query, wanted, back):
    parts = pieces(query)
    assert texts(parts) == wanted
    assert assemble(parts, {t: t.upper() for t in wanted}) == back


def test_short_queries_are_never_guessed(workspace: Workspace):
    assert query_language(workspace, "remboursement") == "en"  # the query_lang default
    assert query_language(workspace, "remboursement", "FR") == "fr"
    long = "le remboursement des clients de la société est promis en vingt-quatre heures"
    assert query_language(workspace, long) == "fr"


# Searching ---------------------------------------------------------------------------------
def test_via_names_the_translated_words_not_the_filters(capsys, workspace, models):
    install(workspace, models, "en_fr")
    data, _err = cli_json(capsys, workspace, "refund lang:fr -tribunal", "--cross")
    assert data["queries"][1]["text"].split()[:2] == ["remboursement", "lang:fr"]
    (hit,) = data["hits"]
    assert hit["via"] == {"lang": "fr", "text": "remboursement", "field": "query"}


def test_refund_reaches_the_french_document_through_the_query(capsys, workspace, models):
    install(workspace, models, "en_fr")
    data, err = cli_json(capsys, workspace, "refund", "--cross")
    assert set(data) == {"query", "total", "facets", "hits", "did_you_mean", "queries"}
    assert data["queries"] == [
        {"lang": "en", "text": "refund", "source": "original"},
        {"lang": "fr", "text": "remboursement", "source": "translated"},
    ]
    by_lang = {hit["lang"]: hit for hit in data["hits"]}
    assert by_lang["en"]["via"] is None
    assert by_lang["fr"]["via"] == {"lang": "fr", "text": "remboursement", "field": "query"}
    snippet = by_lang["fr"]["snippets"][0]
    marked = [snippet["text"][s - snippet["start"] : e - snippet["start"]] for s, e in
              snippet["highlights"]]  # fmt: skip
    assert any(m.lower().startswith("rembours") for m in marked)
    for hit in data["hits"]:
        assert set(hit) == {"id", "title", "lang", "date", "score", "snippets", "via"}
    assert data["facets"]["lang"]["fr"] == 1 and data["total"] == len(data["hits"])
    # one line naming the missing pairs and how to install them; still exit 0
    lines = [line for line in err.splitlines() if "no translation model" in line]
    assert len(lines) == 1 and "en→de" in lines[0] and "en→it" in lines[0]
    assert "reader models install en de" in lines[0]


def test_without_cross_search_is_as_before(capsys, workspace, models):
    install(workspace, models, "en_fr")
    data, _ = cli_json(capsys, workspace, "refund")
    assert set(data) == {"query", "total", "facets", "hits", "did_you_mean"}
    assert all("via" not in hit for hit in data["hits"])
    assert {hit["lang"] for hit in data["hits"]} == {"en"}


def test_filters_survive_translation(capsys, workspace, models):
    install(workspace, models, "en_fr")
    data, _ = cli_json(capsys, workspace, "refund lang:fr", "--cross")
    assert [h["lang"] for h in data["hits"]] == ["fr"]
    assert {"lang": "fr", "text": "remboursement lang:fr", "source": "translated"} in data[
        "queries"
    ]
    data, _ = cli_json(capsys, workspace, "refund date:[2030-01-01 TO]", "--cross")
    assert data["total"] == 0 and data["queries"][1]["text"].endswith("date:[2030-01-01 TO]")
    data, _ = cli_json(capsys, workspace, "refund -lang:en", "--cross")
    assert "en" not in {h["lang"] for h in data["hits"]} and data["total"] >= 1


def test_a_french_only_word_reaches_an_english_query_through_mt_en(capsys, workspace, models):
    install(workspace, models, "fr_en")
    (workspace.corpus_root / "fr_extra.txt").write_text(
        "Les journaux publient des articles sur la ville.\n", encoding="utf-8"
    )
    data, _ = cli_json(capsys, workspace, "newspapers", "--cross")
    assert data["total"] == 0  # not translated yet
    assert main(["translate", "--all", "--corpus", str(workspace.corpus_root)]) == 0
    capsys.readouterr()
    data, _ = cli_json(capsys, workspace, "newspapers", "--cross")
    hit = next(h for h in data["hits"] if h["id"] == "fr_extra.txt")
    assert hit["via"]["field"] == "translation" and hit["via"]["lang"] == "en"
    assert "newspapers" in hit["via"]["text"]
    assert hit["snippets"][0]["text"].startswith("Les journaux publient")
    data, _ = cli_json(capsys, workspace, "newspapers")  # plain search stays as it was
    assert data["total"] == 0


def test_pivot_through_english(capsys, workspace, models):
    install(workspace, models, "fr_en", "en_de")
    data, _ = cli_json(capsys, workspace, "Bonjour", "--cross", "--from", "fr")
    assert {"lang": "de", "text": "Hallo", "source": "translated"} in data["queries"]
    assert {"lang": "en", "text": "Hello", "source": "translated"} in data["queries"]
    assert data["queries"][0] == {"lang": "fr", "text": "Bonjour", "source": "original"}


def test_the_hint_names_the_models_a_route_through_english_still_needs(capsys, workspace, models):
    install(workspace, models, "fr_en")
    _data, err = cli_json(capsys, workspace, "Bonjour", "--cross", "--from", "fr")
    (line,) = [line for line in err.splitlines() if "no translation model" in line]
    assert "fr→de" in line and "fr→it" in line
    assert line.endswith(
        "install with `reader models install en de`, `reader models install en it`"
    )  # fr→en is there; Argos publishes no fr→de or fr→it


def test_no_models_still_searches_and_exits_0(capsys, workspace):
    data, err = cli_json(capsys, workspace, "refund", "--cross")
    assert data["queries"] == [{"lang": "en", "text": "refund", "source": "original"}]
    assert {h["lang"] for h in data["hits"]} == {"en"}
    assert len([line for line in err.splitlines() if "no translation model" in line]) == 1


def test_translated_queries_are_cached(workspace, models, calls):
    install(workspace, models, "en_fr")
    search(workspace, "refund customer", cross=True)
    assert calls == [["refund customer"]]
    search(workspace, "refund customer", cross=True)  # memoised: no model call
    assert len(calls) == 1
    cross.forget_memo()  # a new process: the translation cache still has it
    result = search(workspace, "refund customer", cross=True)
    assert len(calls) == 1
    assert result.queries[1] == {
        "lang": "fr",
        "text": "remboursement client",
        "source": "translated",
    }


def test_a_hit_whose_translation_is_no_longer_cached_says_so(capsys, workspace, models):
    """The translation cache cleared (or damaged and started afresh) after `translate --all`:
    the index still finds the document through `mt_en`, but no translated sentence is left to
    show; the hit says why instead of an empty "via translation en:"."""
    install(workspace, models, "fr_en")
    (workspace.corpus_root / "fr_extra.txt").write_text(
        "Les journaux publient des articles sur la ville.\n", encoding="utf-8"
    )
    where = ("--corpus", str(workspace.corpus_root))
    assert main(["index", *where]) == 0
    assert main(["translate", "--all", *where]) == 0
    assert main(["translate", "--clear-cache", *where]) == 0
    cross.forget_memo()
    capsys.readouterr()
    data, _ = cli_json(capsys, workspace, "newspapers", "--cross")
    hit = next(h for h in data["hits"] if h["id"] == "fr_extra.txt")
    assert hit["via"] == {"lang": "en", "text": "", "field": "translation"}
    assert main(["search", "newspapers", "--cross", *where]) == 0
    lines = capsys.readouterr()[0].splitlines()
    at = next(i for i, line in enumerate(lines) if "fr_extra.txt" in line)
    assert lines[at + 1].strip() == (
        "via translation en (no longer cached: `reader translate --all` shows it again)"
    )


def test_from_without_cross_says_it_is_ignored(capsys, workspace):
    assert main(["search", "refund", "--from", "fr", "--corpus", str(workspace.corpus_root)]) == 0
    err = capsys.readouterr().err
    assert "reader: warning: --from only applies with --cross; searched as typed" in err


@pytest.mark.parametrize("given", ["xx", "f!r", "\x1b]0;owned\x07"])
def test_from_must_be_a_language_code(capsys, workspace, given):
    with pytest.raises(SystemExit) as exited:
        main(
            ["search", "refund", "--cross", "--from", given, "--corpus", str(workspace.corpus_root)]
        )
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "is not a language code; use ISO 639-1" in err
    assert "\x1b" not in err and "\x07" not in err
