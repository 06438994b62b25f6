"""Model management: install from a file or a (loopback) index, bad packages, remove, offline."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support.tiny_argos import build

from reader.cli import main
from reader.core.errors import ReaderError
from reader.core.translation import models as models_module
from reader.core.translation.models import (
    BadPackage,
    ModelInfo,
    OfflineError,
    fetch_index,
    install_model,
    install_model_file,
    list_models,
    packages_dir,
    remove_model,
)
from reader.core.workspace import Workspace


def _leftovers(ws: Workspace) -> list[Path]:
    """Everything under the argos folder except what argos itself keeps (data/config/cache)."""
    root = ws.argos_dir
    if not root.exists():
        return []
    return [p for p in root.iterdir() if p.name not in {"packages", "data", "config", "cache"}]


def _installed_dirs(ws: Workspace) -> list[str]:
    folder = packages_dir(ws)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_install_file_lists_model(workspace: Workspace, tiny_argosmodel: Path) -> None:
    assert list_models(workspace) == []
    info = install_model_file(workspace, tiny_argosmodel)
    assert (info.from_code, info.to_code, info.version) == ("fr", "en", "0.1")
    assert info.path == workspace.argos_dir / "packages" / "translate-fr_en-0_1"
    assert (info.path / "model" / "model.bin").is_file()
    listed = list_models(workspace)
    assert [m.to_json() for m in listed] == [
        {"from": "fr", "to": "en", "version": "0.1", "name": "French → English", "installed": True}
    ]
    assert _leftovers(workspace) == []


def test_reinstall_replaces_same_pair(workspace: Workspace, tmp_path: Path) -> None:
    install_model_file(workspace, build(tmp_path / "a.argosmodel", version="0.1"))
    info = install_model_file(workspace, build(tmp_path / "b.argosmodel", version="0.2"))
    assert info.version == "0.2"
    assert _installed_dirs(workspace) == ["translate-fr_en-0_2"]
    assert [m.version for m in list_models(workspace)] == ["0.2"]


def _rezip(src: Path, dst: Path, edit) -> Path:
    """Copy the package zip, passing each (name, data) through edit (None drops it)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            result = edit(item.filename, zin.read(item))
            if result is not None:
                zout.writestr(result[0], result[1])
    return dst


def _bad_packages(src: Path, tmp: Path) -> dict[str, Path]:
    text = tmp / "notes.argosmodel"
    text.write_text("this is not a zip archive\n")
    truncated = tmp / "truncated.argosmodel"
    truncated.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    flipped = tmp / "crc.argosmodel"
    raw = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as zf:
        info = zf.getinfo("translate-fr_en-0_1/model/model.bin")
    offset = info.header_offset + 30 + len(info.filename) + len(info.extra) + 200
    raw[offset] ^= 0xFF
    flipped.write_bytes(bytes(raw))

    def meta(edit):
        def inner(name: str, data: bytes):
            if name.endswith("metadata.json"):
                return edit(name, data)
            return name, data

        return inner

    def without(part: str):
        return lambda name, data: None if part in name else (name, data)

    return {
        "not a zip": text,
        "truncated": truncated,
        "bad checksum": flipped,
        "no metadata": _rezip(src, tmp / "nometa.argosmodel", without("metadata.json")),
        "no model": _rezip(src, tmp / "nomodel.argosmodel", without("/model/")),
        "no tokenizer": _rezip(src, tmp / "notok.argosmodel", without("sentencepiece")),
        "metadata not json": _rezip(
            src, tmp / "badjson.argosmodel", meta(lambda n, d: (n, b"{not json"))
        ),
        "no language codes": _rezip(
            src,
            tmp / "nocodes.argosmodel",
            meta(lambda n, d: (n, json.dumps({"package_version": "1"}).encode())),
        ),
        "two folders": _rezip(
            src, tmp / "two.argosmodel", lambda n, d: (n.replace("0_1/model", "x/model"), d)
        ),
        "path traversal": _rezip(
            src, tmp / "evil.argosmodel", lambda n, d: (n.replace("translate-fr_en-0_1/", "../"), d)
        ),
    }


def test_bad_packages_leave_nothing(
    workspace: Workspace, tiny_argosmodel: Path, tmp_path: Path
) -> None:
    bad = _bad_packages(tiny_argosmodel, tmp_path)
    for label, path in bad.items():
        with pytest.raises(BadPackage) as caught:
            install_model_file(workspace, path)
        assert path.name in str(caught.value), label
        assert _installed_dirs(workspace) == [], label
        assert _leftovers(workspace) == [], label
    assert not (tmp_path.parent / "metadata.json").exists()


def test_bad_package_keeps_installed_model(
    workspace: Workspace, tiny_model: ModelInfo, tiny_argosmodel: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.argosmodel"
    broken.write_bytes(tiny_argosmodel.read_bytes()[:-100])
    with pytest.raises(BadPackage):
        install_model_file(workspace, broken)
    assert [m.to_json() for m in list_models(workspace)] == [tiny_model.to_json()]
    assert (tiny_model.path / "model" / "model.bin").is_file()


def test_missing_file(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match="no such file"):
        install_model_file(workspace, tmp_path / "nope.argosmodel")


def test_remove(workspace: Workspace, tiny_model: ModelInfo) -> None:
    remove_model(workspace, "fr", "en")
    assert list_models(workspace) == []
    assert not tiny_model.path.exists()
    with pytest.raises(ReaderError, match="no fr→en model is installed"):
        remove_model(workspace, "fr", "en")


def test_argos_packages_dir_is_respected(
    workspace: Workspace, tiny_argosmodel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = tmp_path / "my-argos-packages"
    monkeypatch.setenv("ARGOS_PACKAGES_DIR", str(mine))
    info = install_model_file(workspace, tiny_argosmodel)
    assert info.path == mine / "translate-fr_en-0_1"
    assert not (workspace.argos_dir / "packages" / "translate-fr_en-0_1").exists()


def test_user_argos_models_are_found_read_only(
    workspace: Workspace, tiny_model: ModelInfo, isolated_home: Path
) -> None:
    user_dir = isolated_home / ".local/share/argos-translate/packages"
    user_dir.mkdir(parents=True)
    tiny_model.path.rename(user_dir / tiny_model.path.name)
    assert [m.path for m in list_models(workspace)] == [user_dir / tiny_model.path.name]
    with pytest.raises(ReaderError, match="outside this workspace"):
        remove_model(workspace, "fr", "en")


# The index, over loopback only -------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def index_server(tmp_path: Path, tiny_argosmodel: Path) -> Iterator[str]:
    """A loopback HTTP server with an Argos index.json offering the tiny fr->en model."""
    root = tmp_path / "index"
    root.mkdir()
    (root / "translate-fr_en-0_1.argosmodel").write_bytes(tiny_argosmodel.read_bytes())
    (root / "translate-it_en-0_1.argosmodel").write_bytes(tiny_argosmodel.read_bytes()[:5000])
    handler = partial(SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    index = [
        {
            "package_version": "0.1",
            "argos_version": "1.9.0",
            "from_code": code[0],
            "from_name": code[2],
            "to_code": code[1],
            "to_name": code[3],
            "type": "translate",
            "links": [base + f"translate-{code[0]}_en-0_1.argosmodel"],
        }
        for code in (
            ("fr", "en", "French", "English"),
            ("de", "en", "German", "English"),
            ("it", "en", "Italian", "English"),
        )
    ]
    index.append({"type": "sbd", "from_code": "fr", "links": []})
    (root / "index.json").write_text(json.dumps(index))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    server.server_close()


def test_install_from_index_with_progress(
    workspace: Workspace,
    index_server: str,
    tiny_argosmodel: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("READER_ARGOS_INDEX", index_server)
    available = list_models(workspace, available=True)
    assert [(m.from_code, m.to_code, m.installed) for m in available] == [
        ("de", "en", False),
        ("fr", "en", False),
        ("it", "en", False),
    ]
    seen: list[tuple[int, int]] = []
    info = install_model(
        workspace, "fr", "en", progress=lambda done, total: seen.append((done, total))
    )
    assert info.installed and info.path is not None and info.path.is_dir()
    size = tiny_argosmodel.stat().st_size
    assert seen[-1] == (size, size)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert [(m.from_code, m.installed) for m in list_models(workspace, available=True)] == [
        ("de", False),
        ("fr", True),
        ("it", False),
    ]
    assert list(workspace.argos_dir.glob("downloads/*")) == []
    with pytest.raises(ReaderError, match="has no fr→it model"):
        install_model(workspace, "fr", "it")
    # the de->en link is missing on the server, the it->en download is corrupt
    with pytest.raises(OfflineError, match="HTTP 404"):
        install_model(workspace, "de", "en")
    with pytest.raises(BadPackage, match=r"translate-it_en-0_1\.argosmodel"):
        install_model(workspace, "it", "en")
    assert _installed_dirs(workspace) == ["translate-fr_en-0_1"]
    assert list(workspace.argos_dir.glob("downloads/*")) == []


def test_offline_install_fails_fast(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("READER_ARGOS_INDEX", f"http://127.0.0.1:{_free_port()}/")
    started = time.monotonic()
    with pytest.raises(OfflineError) as caught:
        install_model(workspace, "fr", "es")
    assert time.monotonic() - started < 20
    message = str(caught.value)
    assert "reader models install FILE.argosmodel" in message
    assert "translate-fr_es" in message and "\n" not in message
    assert _installed_dirs(workspace) == []


def test_silent_index_times_out(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that accepts and never answers: the deadline, not the OS, ends the wait."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        monkeypatch.setenv("READER_ARGOS_INDEX", f"http://127.0.0.1:{silent.getsockname()[1]}/")
        started = time.monotonic()
        with pytest.raises(OfflineError, match=r"FILE\.argosmodel"):
            fetch_index(workspace, timeout=0.5)
        assert time.monotonic() - started < 5


def test_available_uses_saved_index_when_offline(
    workspace: Workspace, index_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("READER_ARGOS_INDEX", f"http://127.0.0.1:{_free_port()}/")
    with pytest.raises(OfflineError):
        list_models(workspace, available=True)
    monkeypatch.setenv("READER_ARGOS_INDEX", index_server)
    assert len(list_models(workspace, available=True)) == 3
    monkeypatch.setenv("READER_ARGOS_INDEX", f"http://127.0.0.1:{_free_port()}/")
    install_model_file(workspace, build(tmp_path / "en_de.argosmodel", "en", "de"))
    listed = [(m.from_code, m.to_code, m.installed) for m in list_models(workspace, available=True)]
    assert listed == [
        ("de", "en", False),
        ("en", "de", True),
        ("fr", "en", False),
        ("it", "en", False),
    ]


# The command line --------------------------------------------------------------------------
def test_cli_models(
    corpus_dir: Path, tiny_argosmodel: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = ["--corpus", str(corpus_dir)]
    assert main(["models", "list", "--json", *corpus]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["models", "install", str(tiny_argosmodel), *corpus]) == 0
    assert "French → English" in capsys.readouterr().out
    assert main(["models", "list", "--json", *corpus]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"from": "fr", "to": "en", "version": "0.1", "name": "French → English", "installed": True}
    ]
    assert main(["models", "list", *corpus]) == 0
    assert "French → English" in capsys.readouterr().out
    assert main(["models", "remove", "fr", "en", *corpus]) == 0
    capsys.readouterr()
    assert main(["models", "remove", "fr", "en", *corpus]) == 1
    assert "no fr→en model" in capsys.readouterr().err


def test_cli_install_usage_and_offline(
    corpus_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SystemExit) as usage:
        main(["models", "install", "a", "b", "c", "--corpus", str(corpus_dir)])
    assert usage.value.code == 2
    capsys.readouterr()
    assert main(["models", "install", "fr", "--corpus", str(corpus_dir)]) == 1
    assert "give two language codes" in capsys.readouterr().err
    monkeypatch.setenv("READER_ARGOS_INDEX", f"http://127.0.0.1:{_free_port()}/")
    assert main(["models", "install", "fr", "es", "--corpus", str(corpus_dir)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("reader: error: cannot reach the Argos package index")
    assert "reader models install FILE.argosmodel" in err and "Traceback" not in err


# Imports and folders -----------------------------------------------------------------------
def test_argos_folders_stay_in_the_workspace(tmp_path: Path, tiny_argosmodel: Path) -> None:
    """In a fresh process with no XDG variables, argos' folders go under <data>/argos, none
    in HOME; cache-only reads never import argostranslate or ctranslate2."""
    home, corpus = tmp_path / "home", tmp_path / "corpus"
    home.mkdir()
    corpus.mkdir()
    (corpus / "a.txt").write_text("Bonjour le monde. Le chat dort.\n", encoding="utf-8")
    script = f"""
import sys
import reader.cli, reader.commands.translate, reader.commands.models
from reader.core.translation import models as models_module
from reader.core.workspace import Workspace
from reader.core.translation.service import cached_translation, passage_translation
from reader.core.translation.models import install_model_file, list_models
from reader.core.documents.ingest import document_from_text
ws = Workspace.open({str(corpus)!r})
doc = document_from_text("Bonjour le monde. Le chat dort.", "a.txt")
print(cached_translation(ws, doc).to_json()["paragraphs"][0]["sentences"][0]["translation"])
print(passage_translation(ws, doc, 0, 5), list_models(ws))
heavy = [m for m in ("argostranslate", "ctranslate2", "textual") if m in sys.modules]
assert not heavy, heavy
install_model_file(ws, {str(tiny_argosmodel)!r})
from reader.core.translation.service import translate_document
print(translate_document(ws, doc).paragraphs[0].sentences[0].translation)
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "ARGOS_", "READER_"))}
    env["HOME"] = str(home)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["None", "None []", "Hello le world."]
    assert list(home.iterdir()) == []
    argos_dir = corpus / ".reader" / "argos"
    assert (argos_dir / "data" / "argos-translate").is_dir()
    assert (argos_dir / "cache" / "argos-translate").is_dir()
    assert (argos_dir / "packages" / "translate-fr_en-0_1").is_dir()


# Zip bombs -----------------------------------------------------------------------------------
def _everything(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*")) if folder.exists() else []


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory: pytest.TempPathFactory, tiny_argosmodel: Path) -> Path:
    """A real zip bomb shaped like a package: the tiny model plus 2.1 GB of zeros in one
    entry, deflated to about 2 MB (what issue 15 saw install and write 2 GiB)."""
    bomb = tmp_path_factory.mktemp("bomb") / "translate-fr_en-0_1.argosmodel"
    with (
        zipfile.ZipFile(tiny_argosmodel) as src,
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out,
    ):
        for info in src.infolist():
            out.writestr(info, src.read(info))
        with out.open("translate-fr_en-0_1/model/padding.bin", "w", force_zip64=True) as big:
            block = bytes(1 << 24)
            for _ in range(2_100_000_000 >> 24):
                big.write(block)
    return bomb


def test_a_zip_bomb_is_refused_before_anything_is_written(
    workspace: Workspace, zip_bomb: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert zip_bomb.stat().st_size < 10_000_000
    before = _everything(workspace.data_dir)
    with pytest.raises(BadPackage, match=r"refused, it would unpack to 2\.\d GB from"):
        install_model_file(workspace, zip_bomb)
    assert _everything(workspace.data_dir) == before  # not even a staging folder
    # the absolute limit holds on its own too (a bomb under the ratio)
    monkeypatch.setattr(models_module, "MAX_RATIO", 10**6)
    with pytest.raises(BadPackage, match=r"at most 2\.0 GB"):
        install_model_file(workspace, zip_bomb)
    assert _everything(workspace.data_dir) == before


def test_the_ratio_limit_refuses_a_small_bomb(
    workspace: Workspace, tiny_argosmodel: Path, tmp_path: Path
) -> None:
    bomb = tmp_path / "small-bomb.argosmodel"
    with (
        zipfile.ZipFile(tiny_argosmodel) as src,
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out,
    ):
        for info in src.infolist():
            out.writestr(info, src.read(info))
        out.writestr("translate-fr_en-0_1/model/zeros.bin", bytes(50_000_000))
    with pytest.raises(BadPackage, match="50x its size"):
        install_model_file(workspace, bomb)
    assert _installed_dirs(workspace) == [] and _leftovers(workspace) == []


def test_too_many_entries_are_refused(workspace: Workspace, tmp_path: Path) -> None:
    many = tmp_path / "many.argosmodel"
    with zipfile.ZipFile(many, "w") as out:
        out.writestr("pkg/metadata.json", "{}")
        for i in range(models_module.MAX_ENTRIES + 1):
            out.writestr(f"pkg/f{i}", b"")
    done = main(["models", "install", str(many), "--data-dir", str(workspace.data_dir)])
    assert done == 1
    assert _installed_dirs(workspace) == [] and _leftovers(workspace) == []


def test_the_cli_says_why_a_bomb_is_refused(
    workspace: Workspace, zip_bomb: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "install", str(zip_bomb), "--data-dir", str(workspace.data_dir)]) == 1
    err = capsys.readouterr().err
    assert "refused" in err and "zip bomb" in err and "nothing was installed" in err
