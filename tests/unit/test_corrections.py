"""Corrections: `reader docs set|unset`, validation, and their effect everywhere."""

from __future__ import annotations

import json

import pytest

from reader.cli import main
from reader.core.documents import corpus_of
from reader.core.documents.corrections import BadCorrection, Corrections, validate
from reader.core.search import update_index
from reader.core.search.api import search
from reader.core.workspace import Workspace

FR = "001"


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def docs_json(capsys, corpus) -> dict:
    code, out, _ = cli(capsys, "docs", "--corpus", str(corpus), "--json")
    assert code == 0
    return {d["id"][:3]: d for d in json.loads(out)["documents"]}


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("lang", "FR", "fr"),
        ("date", "2024-02-29", "2024-02-29"),
        ("url", "https://example.org/a?b=1", "https://example.org/a?b=1"),
        ("title", "  A   title ", "A title"),
        ("site", "Le Monde", "Le Monde"),
    ],
)
def test_valid_values_are_normalised(field, value, expected):
    assert validate(field, value) == expected


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lang", "xx"),
        ("lang", "eng"),
        ("date", "2024-02-30"),
        ("date", "29.02.2024"),
        ("url", "ftp://example.org/a"),
        ("url", "javascript:alert(1)"),
        ("url", "example.org"),
        ("title", ""),
        ("title", "evil\x1b]0;pwned\x07"),
        ("colour", "red"),
    ],
)
def test_bad_values_are_refused(field, value):
    with pytest.raises(BadCorrection):
        validate(field, value)


def test_set_takes_effect_in_docs_search_and_survives_rescan(capsys, corpus_dir, workspace):
    update_index(workspace)  # an index exists before the correction
    code, out, err = cli(
        capsys, "docs", "set", FR, "--corpus", str(corpus_dir),
        "--lang", "it", "--title", "Titolo corretto", "--date", "2020-01-02",
        "--url", "https://giornale.example/a", "--site", "Il Giornale", "--author", "Rossi",
    )  # fmt: skip
    assert code == 0, err
    assert "lang=it" in out and "site=Il Giornale" in out
    doc = docs_json(capsys, corpus_dir)[FR]
    assert (doc["lang"], doc["title"], doc["date"], doc["author"]) == (
        "it", "Titolo corretto", "2020-01-02", "Rossi"
    )  # fmt: skip
    assert (doc["url"], doc["site"]) == ("https://giornale.example/a", "Il Giornale")

    ws = Workspace.open(corpus_dir)  # a fresh process's view: index and catalog agree
    result = search(ws, "title:corretto lang:it")
    assert [h.id[:3] for h in result.hits] == [FR]
    assert search(ws, "lang:fr").total == 0
    loaded = corpus_of(ws).load(corpus_of(ws).resolve_id(FR))
    assert loaded.lang == "it" and loaded.lang_confidence is None

    # a rescan after the file changes keeps the correction
    path = next(corpus_dir.glob(f"{FR}*"))
    path.write_text(path.read_text(encoding="utf-8") + "\n\nUn paragrafo in più.\n", "utf-8")
    update_index(Workspace.open(corpus_dir))
    assert docs_json(capsys, corpus_dir)[FR]["title"] == "Titolo corretto"
    ws = Workspace.open(corpus_dir)
    assert [h.id[:3] for h in search(ws, "paragrafo lang:it").hits] == [FR]


def test_rebuild_keeps_corrections(capsys, corpus_dir, workspace):
    assert cli(capsys, "docs", "set", FR, "--corpus", str(corpus_dir), "--lang", "es")[0] == 0
    update_index(workspace, rebuild=True)
    assert search(Workspace.open(corpus_dir), "lang:es").total == 1


def test_unset_restores_the_file_values(capsys, corpus_dir):
    before = docs_json(capsys, corpus_dir)[FR]
    cli(capsys, "docs", "set", FR, "--corpus", str(corpus_dir), "--title", "X", "--lang", "de")
    code, _, _ = cli(capsys, "docs", "unset", FR, "title", "lang", "--corpus", str(corpus_dir))
    assert code == 0
    after = docs_json(capsys, corpus_dir)[FR]
    assert (after["title"], after["lang"]) == (before["title"], before["lang"])
    assert not (corpus_dir / ".reader" / "corrections.json").read_text(encoding="utf-8").count(FR)


@pytest.mark.parametrize(
    "argv",
    [
        ("--lang", "klingon"),
        ("--date", "yesterday"),
        ("--url", "file:///etc/passwd"),
        (),
    ],
)
def test_bad_set_exits_1_with_one_line_and_writes_nothing(capsys, corpus_dir, argv):
    code, out, err = cli(capsys, "docs", "set", FR, "--corpus", str(corpus_dir), *argv)
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("reader: error:")
    assert not (corpus_dir / ".reader" / "corrections.json").exists()


def test_unknown_document_and_field(capsys, corpus_dir):
    code, _, err = cli(capsys, "docs", "set", "zzz", "--corpus", str(corpus_dir), "--lang", "en")
    assert code == 1 and "no document" in err
    code, _, err = cli(capsys, "docs", "unset", FR, "colour", "--corpus", str(corpus_dir))
    assert code == 1 and "unknown field" in err


def test_damaged_corrections_file_is_an_error_not_ignored(corpus_dir, workspace):
    path = workspace.data_dir / "corrections.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(Exception, match="cannot read the corrections"):
        Corrections(path).all()
