"""The command line: shapes, exit codes, and what importing it pulls in."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reader.cli import main
from reader.core.documents import corpus_of

REPO = Path(__file__).resolve().parents[2]


def run_cli(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_docs_json_shape(capsys, corpus_dir, tmp_path):
    (corpus_dir / "empty.txt").write_text("")
    code, out, _ = run_cli(capsys, "docs", "--corpus", str(corpus_dir), "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"documents", "skipped"}
    assert [d["id"] for d in data["documents"]] == sorted(d["id"] for d in data["documents"])
    for doc in data["documents"]:
        assert set(doc) == {
            "id",
            "path",
            "title",
            "lang",
            "date",
            "author",
            "paragraphs",
            "sentences",
            "url",
            "site",
        }
        assert isinstance(doc["paragraphs"], int) and isinstance(doc["sentences"], int)
    french = next(d for d in data["documents"] if d["id"].startswith("001"))
    assert french["date"] == "2025-11-01" and french["lang"] == "fr"
    assert data["skipped"] == [{"path": str(corpus_dir / "empty.txt"), "reason": "empty"}]


def test_docs_uses_bundled_corpus_and_data_dir_override(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("READER_DATA_DIR", str(tmp_path / "data"))
    code, out, _ = run_cli(capsys, "docs", "--json")
    assert code == 0
    assert "A 24-Hour Refund: Fact or Fiction?" in [
        d["title"] for d in json.loads(out)["documents"]
    ]
    assert (tmp_path / "data" / "catalog.sqlite").exists()


def test_user_error_is_one_line_exit_1(capsys, tmp_path):
    code, out, err = run_cli(capsys, "docs", "--corpus", str(tmp_path / "missing"))
    assert code == 1 and out == ""
    assert err.startswith("reader: error: no such corpus folder") and err.count("\n") == 1


def test_usage_error_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["docs", "--no-such-option"])
    assert exc.value.code == 2


def test_every_subcommand_has_help(capsys):
    from reader.cli import COMMANDS

    for name in COMMANDS:
        with pytest.raises(SystemExit) as exc:
            main([name, "--help"])
        assert exc.value.code == 0
        assert f"usage: reader {name}" in capsys.readouterr().out


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    ).stdout
    return set(json.loads(out))


def test_cli_import_is_light():
    modules = _modules_after("import reader, reader.cli; reader.cli.build_parser()")
    heavy = {"textual", "argostranslate", "ctranslate2", "sentencepiece", "whoosh"}
    assert not {m.split(".")[0] for m in modules} & heavy


def test_core_never_imports_textual():
    core = REPO / "reader" / "core"
    names = sorted(
        ".".join(p.relative_to(core).with_suffix("").parts)
        for p in core.rglob("*.py")
        if p.stem != "__init__"
    )
    modules = _modules_after("\n".join(f"import reader.core.{n}" for n in names))
    assert not any(m == "textual" or m.startswith("textual.") for m in modules)
    for path in core.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert "import textual" not in source and "from textual" not in source, path


def test_python_dash_m(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "reader", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("reader ")


def test_info_reports_corpus_data_counts_and_models(capsys, workspace, tiny_model):
    from reader.core.tags import open_tag_store

    doc = corpus_of(workspace).load(corpus_of(workspace).resolve_id("001"))
    with open_tag_store(workspace) as store:
        store.add(doc, doc.sentences[0].start, doc.sentences[0].end, "claim")
    code, out, _ = run_cli(capsys, "info", "--corpus", str(workspace.corpus_root), "--json")
    assert code == 0
    info = json.loads(out)
    assert info["corpus"] == str(workspace.corpus_root)
    assert info["data_dir"] == str(workspace.data_dir)
    assert info["documents"] == 4 and info["languages"] == {"de": 1, "en": 1, "fr": 1, "it": 1}
    assert info["tags"] == {"claim": 1}
    assert [(m["from"], m["to"], m["installed"]) for m in info["models"]] == [("fr", "en", True)]
    code, out, _ = run_cli(capsys, "info", "--corpus", str(workspace.corpus_root))
    assert code == 0 and str(workspace.data_dir) in out and "fr→en" in out
