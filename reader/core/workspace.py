"""Where a corpus keeps its index, tags, caches and settings."""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from reader.core.errors import ReaderError

DATA_DIR_NAME = ".reader"
DATA_DIR_ENV = "READER_DATA_DIR"
DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024
DEFAULT_SETTINGS: dict[str, Any] = {
    "target_lang": "en",
    "author": None,
    "max_file_bytes": DEFAULT_MAX_FILE_BYTES,
}


def bundled_corpus() -> Path:
    """The corpus shipped with the app: inside the wheel, or beside the package in a checkout."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package / "_corpus", package.parent / "corpus"):
        if candidate.is_dir():
            return candidate
    raise ReaderError("the bundled corpus is missing from this installation")


def _is_writable_dir(path: Path) -> bool:
    return path.is_dir() and os.access(path, os.W_OK | os.X_OK)


def user_data_root() -> Path:
    """The per-user data folder (platformdirs), used for read-only corpora."""
    from platformdirs import user_data_path

    return user_data_path("source-reader", appauthor=False)


def default_data_dir(corpus_root: Path) -> Path:
    """`<corpus>/.reader` when the corpus is writable, else a per-user folder keyed by its path."""
    inside_package = Path(__file__).resolve().parents[1] in corpus_root.parents
    if _is_writable_dir(corpus_root) and not inside_package:
        return corpus_root / DATA_DIR_NAME
    key = hashlib.sha256(str(corpus_root).encode()).hexdigest()[:16]
    name = "bundled" if inside_package else corpus_root.name
    return user_data_root() / "corpora" / f"{name}-{key}"


@dataclass
class Workspace:
    """A corpus folder and the data folder that belongs to it."""

    corpus_root: Path
    data_dir: Path
    _settings: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def open(
        cls, corpus: str | Path | None = None, data_dir: str | Path | None = None
    ) -> Workspace:
        """Resolve the corpus (default: the bundled one) and its data folder, creating the latter.

        The data folder is `data_dir`, else `$READER_DATA_DIR`, else `default_data_dir()`.
        """
        root = Path(corpus).expanduser() if corpus else bundled_corpus()
        if not root.exists():
            raise ReaderError(f"no such corpus folder: {root}")
        if not root.is_dir():
            raise ReaderError(f"not a folder: {root}")
        root = root.resolve()
        chosen = data_dir or os.environ.get(DATA_DIR_ENV) or default_data_dir(root)
        data = Path(chosen).expanduser().resolve()
        try:
            data.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReaderError(f"cannot create the data folder {data}: {exc.strerror}") from exc
        workspace = cls(root, data)
        workspace._settings = workspace._load_settings()
        return workspace

    # Paths ---------------------------------------------------------------------------------
    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite"

    @property
    def annotations_path(self) -> Path:
        return self.data_dir / "annotations.sqlite"

    @property
    def translations_path(self) -> Path:
        return self.data_dir / "translations.sqlite"

    @property
    def argos_dir(self) -> Path:
        return self.data_dir / "argos"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"

    @property
    def settings_path(self) -> Path:
        return self.data_dir / "settings.json"

    # Settings ------------------------------------------------------------------------------
    def _load_settings(self) -> dict[str, Any]:
        settings = dict(DEFAULT_SETTINGS)
        try:
            stored = json.loads(self.settings_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return settings
        except (OSError, ValueError) as exc:
            raise ReaderError(f"cannot read settings {self.settings_path}: {exc}") from exc
        if isinstance(stored, dict):
            settings.update(stored)
        return settings

    def setting(self, name: str) -> Any:
        return self._settings.get(name, DEFAULT_SETTINGS.get(name))

    def set_setting(self, name: str, value: Any) -> None:
        """Change a setting and save the settings file at once."""
        self._settings[name] = value
        tmp = self.settings_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._settings, indent=2), encoding="utf-8")
        tmp.replace(self.settings_path)

    @property
    def target_lang(self) -> str:
        return str(self.setting("target_lang") or "en")

    @property
    def author(self) -> str:
        configured = self.setting("author")
        if configured:
            return str(configured)
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "unknown"

    @property
    def max_file_bytes(self) -> int:
        return int(self.setting("max_file_bytes") or DEFAULT_MAX_FILE_BYTES)

    # The corpus ----------------------------------------------------------------------------
    @cached_property
    def corpus(self):  # -> reader.core.corpus.Corpus (imported lazily: it pulls in ingest)
        from reader.core.documents.corpus import Corpus

        return Corpus(self)
