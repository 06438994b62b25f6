"""Shared fixtures: every test runs with HOME, XDG folders and data folders in tmp_path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reader.core.workspace import Workspace, bundled_corpus

REPO = Path(__file__).resolve().parents[1]
pytest_plugins = ["support.postgres"]  # the throwaway PostgreSQL server fixtures
SEEDS = sorted(p.name for p in (REPO / "corpus").iterdir() if p.is_file())


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Point HOME and the XDG folders into a temporary folder; clear our and argos' overrides."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for name, sub in (
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_CACHE_HOME", ".cache"),
        ("XDG_CONFIG_HOME", ".config"),
    ):
        monkeypatch.setenv(name, str(home / sub))
    for name in ("READER_DATA_DIR", "ARGOS_PACKAGES_DIR", "ARGOS_DEVICE_TYPE"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A writable copy of the bundled corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(bundled_corpus(), target, ignore=shutil.ignore_patterns(".reader"))
    return target


@pytest.fixture
def workspace(corpus_dir: Path) -> Workspace:
    """A workspace on a copy of the bundled corpus, its data in `<corpus>/.reader`."""
    return Workspace.open(corpus_dir)


# Translation fixtures ----------------------------------------------------------------------
@pytest.fixture(autouse=True, scope="session")
def _single_thread_ctranslate2() -> object:  # a generator
    """Run CTranslate2 on one thread (argos' ARGOS_INTRA_THREADS, read when argostranslate is
    first imported): the tiny test model runs ~10x faster that way on a busy 2-core machine."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARGOS_INTRA_THREADS", "1")
        yield


@pytest.fixture(scope="session")
def tiny_argosmodel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny real fr->en `.argosmodel` ("Bonjour le monde." -> "Hello le world."), built once."""
    from support.tiny_argos import build

    return build(tmp_path_factory.mktemp("argosmodels") / "translate-fr_en-0_1.argosmodel")


@pytest.fixture
def tiny_model(workspace: Workspace, tiny_argosmodel: Path):
    """The tiny fr->en model installed into the workspace's argos folder; its ModelInfo."""
    from reader.core.translation.models import install_model_file

    return install_model_file(workspace, tiny_argosmodel)
