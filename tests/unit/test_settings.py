"""Settings: the user file overlaid by the corpus file, typed, bad values reported and ignored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reader.cli import main
from reader.core import settings
from reader.core.errors import ReaderError
from reader.core.settings import (
    DEFAULT_INDEX_MEMORY_MB,
    DEFAULT_RESCAN_SECONDS,
    SPECS,
    load,
    redact_url,
    save,
    user_settings_path,
)
from reader.core.workspace import Workspace


def write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_defaults_without_files(tmp_path: Path):
    found = load(tmp_path / "corpus.json", tmp_path / "user.json", environ={})
    assert (found.query_lang, found.target_lang, found.tags_db, found.theme) == (
        "en",
        "en",
        None,
        None,
    )
    assert found.problems == () and found.source("query_lang") == "default"
    assert found.effective_author  # the OS user


def test_corpus_file_overlays_the_user_file(tmp_path: Path):
    user = write(
        tmp_path / "user.json",
        {"theme": "nord", "author": "Ann", "query_lang": "fr", "organisation": "Desk"},
    )
    corpus = write(tmp_path / "c.json", {"author": "Ann (desk B)", "tags_db": "/data/x.sqlite"})
    found = load(corpus, user, environ={})
    assert found.theme == "nord" and found.source("theme") == "user"
    assert found.author == "Ann (desk B)" and found.source("author") == "corpus"
    assert found.query_lang == "fr" and found.organisation == "Desk"
    assert found.tags_db == "/data/x.sqlite" and found.source("tags_db") == "corpus"


def test_theme_and_keymap_are_user_level_only(tmp_path: Path):
    user = write(tmp_path / "user.json", {"theme": "nord"})
    corpus = write(tmp_path / "corpus.json", {"theme": "dracula", "keymap": {"a.b": "x"}})
    found = load(corpus, user, environ={})
    assert found.theme == "nord" and dict(found.keymap) == {}
    assert len(found.problems) == 2
    assert all(str(corpus) in p and "user setting" in p for p in found.problems)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("max_file_bytes", "ten", "whole number"),
        ("max_file_bytes", True, "whole number"),
        ("query_lang", 7, "non-empty text"),
        ("target_lang", "English!", "language code"),
        ("keymap", ["c"], "binding ids"),
        ("author", "", "non-empty text"),
        ("tags_db", "mysql://x", "postgresql://"),
    ],
)
def test_a_wrong_value_is_reported_with_file_and_key_and_ignored(
    tmp_path: Path, key: str, value: object, expected: str
):
    user = tmp_path / "user.json"
    corpus = write(tmp_path / "corpus.json", {key: value, "organisation": "Desk"})
    if key == "keymap":
        user, corpus = corpus, tmp_path / "none.json"
    found = load(corpus, user, environ={})
    assert found.organisation == "Desk"  # the good key still counts
    assert getattr(found, key) == getattr(settings.Settings(), key)  # the bad one: the default
    (problem,) = found.problems
    assert str(user if key == "keymap" else corpus) in problem
    assert repr(key) in problem and expected in problem and "ignored" in problem


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", "\udcff"])
def test_an_unreadable_file_is_reported_and_ignored(tmp_path: Path, content: str):
    path = tmp_path / "corpus.json"
    if content == "\udcff":
        path.write_bytes(b"\xff\xfe{")
    else:
        write(path, content)
    found = load(path, tmp_path / "user.json", environ={})
    (problem,) = found.problems
    assert str(path) in problem and "ignored" in problem
    assert found.query_lang == "en"


def test_unknown_key_is_reported(tmp_path: Path):
    found = load(write(tmp_path / "c.json", {"tehme": "x"}), tmp_path / "u.json", environ={})
    assert "'tehme' is not a setting" in found.problems[0]


def test_environment_and_command_line_win(tmp_path: Path):
    corpus = write(tmp_path / "c.json", {"tags_db": "/data/a.sqlite", "author": "Ann"})
    env = {"READER_TAGS_DB": "postgresql://x@h/db", "READER_AUTHOR": "Bob"}
    found = load(corpus, tmp_path / "u.json", environ=env)
    assert (found.tags_db, found.author) == ("postgresql://x@h/db", "Bob")
    assert found.source("tags_db") == "environment"
    flag = load(corpus, tmp_path / "u.json", environ=env, overrides={"tags_db": "/data/b.sqlite"})
    assert flag.tags_db == "/data/b.sqlite" and flag.source("tags_db") == "command line"
    with pytest.raises(ReaderError, match="tags-db"):
        load(corpus, tmp_path / "u.json", environ={}, overrides={"tags_db": "mysql://x"})


def test_save_keeps_other_keys_and_validates(tmp_path: Path):
    path = write(tmp_path / "s.json", {"author": "Ann", "future_key": 1})
    save(path, "query_lang", "DE")
    assert json.loads(path.read_text()) == {"author": "Ann", "future_key": 1, "query_lang": "de"}
    save(path, "author", None)
    assert "author" not in json.loads(path.read_text())
    with pytest.raises(ReaderError, match="whole number"):
        save(path, "max_file_bytes", -1)
    with pytest.raises(ReaderError, match="not a setting"):
        save(path, "nope", 1)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://ann:pa55@db:5432/tags", "postgresql://ann:***@db:5432/tags"),
        ("postgresql://ann@db/tags?sslmode=require", "postgresql://ann@db/tags?sslmode=require"),
        (
            "postgresql://db/tags?user=ann&password=pa55&sslmode=verify-full",
            "postgresql://db/tags?user=ann&password=***&sslmode=verify-full",
        ),
        ("host=db dbname=tags password=pa55 user=ann", "host=db dbname=tags password=*** user=ann"),
        ("host=db password='p a s' user=ann", "host=db password=*** user=ann"),
    ],
)
def test_redact_url(url: str, shown: str):
    assert redact_url(url) == shown


def test_workspace_levels(workspace: Workspace):
    workspace.set_setting("theme", "nord")  # user level by nature
    workspace.set_setting("author", "Ann")  # corpus level by default
    workspace.set_setting("organisation", "Desk", level="user")
    assert json.loads(user_settings_path().read_text()) == {
        "theme": "nord",
        "organisation": "Desk",
    }
    assert json.loads(workspace.settings_path.read_text()) == {"author": "Ann"}
    again = Workspace.open(workspace.corpus_root)
    assert (again.setting("theme"), again.author, again.settings.organisation) == (
        "nord",
        "Ann",
        "Desk",
    )
    with pytest.raises(ReaderError, match="user setting"):
        workspace.set_setting("keymap", {"a.b": "x"}, level="corpus")


def test_cli_warns_about_a_bad_value_and_runs(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
):
    write(workspace.settings_path, {"max_file_bytes": "big", "target_lang": "de"})
    assert main(["info", "--corpus", str(workspace.corpus_root), "--json"]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert f"reader: warning: {workspace.settings_path}: 'max_file_bytes'" in err
    report = json.loads(out)["settings"]
    assert report["values"]["target_lang"] == "de" and report["sources"]["target_lang"] == "corpus"
    assert report["values"]["max_file_bytes"] == settings.DEFAULT_MAX_FILE_BYTES
    assert report["corpus_file"] == str(workspace.settings_path)
    assert report["user_file"] == str(user_settings_path())


def test_info_never_shows_the_password(
    workspace: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    write(user_settings_path(), {"tags_db": "/tmp/x.sqlite"})
    monkeypatch.setenv("READER_AUTHOR", "Bob")
    assert main(["info", "--corpus", str(workspace.corpus_root)]) == 0
    out = capsys.readouterr().out
    assert "user settings" in out and str(user_settings_path()) in out
    assert "Bob" in out and "(environment)" in out


def test_info_lists_every_setting_with_its_effective_value_in_one_column(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
):
    assert main(["info", "--corpus", str(workspace.corpus_root)]) == 0
    rows = {
        line.split()[0]: line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("  ") and line.split()[0] in SPECS
    }
    assert set(rows) == set(SPECS)
    # every value starts in the same column, past the longest name
    value_columns = {
        line.index(line.split()[1], 2 + len(line.split()[0])) for line in rows.values()
    }
    assert len(value_columns) == 1
    assert value_columns.pop() > 2 + max(map(len, SPECS))
    # defaults that apply are shown, not a dash
    assert rows["index_memory_mb"].split()[1] == str(DEFAULT_INDEX_MEMORY_MB)
    assert float(rows["rescan_seconds"].split()[1]) == DEFAULT_RESCAN_SECONDS
