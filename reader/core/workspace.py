"""Where a corpus keeps its index, tags, caches and settings: paths and settings, nothing else.

The workspace imports nothing from the documents, search or tags packages; they take a
workspace. The corpus of a workspace is `reader.core.documents.corpus_of(ws)`.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reader.core import settings as settings_module
from reader.core.errors import ReaderError
from reader.core.settings import DEFAULT_MAX_FILE_BYTES, Settings

DATA_DIR_NAME = ".reader"
DATA_DIR_ENV = "READER_DATA_DIR"
__all__ = ["DATA_DIR_NAME", "DEFAULT_MAX_FILE_BYTES", "Workspace", "bundled_corpus"]


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
    """A corpus folder, the data folder that belongs to it, and the effective settings."""

    corpus_root: Path
    data_dir: Path
    settings: Settings = field(default_factory=Settings)
    overrides: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def open(
        cls,
        corpus: str | Path | None = None,
        data_dir: str | Path | None = None,
        *,
        tags_db: str | None = None,
    ) -> Workspace:
        """Resolve the corpus (default: the bundled one) and its data folder, creating the latter.

        The data folder is `data_dir`, else `$READER_DATA_DIR`, else `default_data_dir()`.
        `tags_db` (the `--tags-db` option) overrides the tag store of the settings.
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
        workspace = cls(root, data, overrides={"tags_db": tags_db} if tags_db else {})
        workspace.reload_settings()
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
        """The corpus's settings file (overlays the user's)."""
        return self.data_dir / settings_module.SETTINGS_FILE

    @property
    def user_settings_path(self) -> Path:
        """The user's settings file (platformdirs config folder)."""
        return settings_module.user_settings_path()

    # Settings ------------------------------------------------------------------------------
    def reload_settings(self) -> Settings:
        """Read both settings files again (bad values are in `settings.problems`)."""
        self.settings = settings_module.load(
            self.settings_path, self.user_settings_path, overrides=self.overrides
        )
        return self.settings

    def setting(self, name: str) -> Any:
        """A setting's effective value (None for an unknown name)."""
        return self.settings.get(name)

    def set_setting(self, name: str, value: Any, *, level: str | None = None) -> None:
        """Save a setting at once: user-level ones (theme, keymap) in the user file, the others
        in the corpus file unless `level="user"`. None removes it from that file."""
        spec = settings_module.SPECS.get(name)
        if level is None:
            level = settings_module.USER if spec and spec.user_only else settings_module.CORPUS
        if level not in (settings_module.USER, settings_module.CORPUS):
            raise ValueError(f"level must be 'user' or 'corpus', not {level!r}")
        if level == settings_module.CORPUS and spec and spec.user_only:
            raise ReaderError(f"{name} is a user setting; it cannot be set for one corpus")
        path = self.user_settings_path if level == settings_module.USER else self.settings_path
        settings_module.save(path, name, value)
        self.reload_settings()

    @property
    def target_lang(self) -> str:
        return self.settings.target_lang

    @property
    def query_lang(self) -> str:
        return self.settings.query_lang

    @property
    def author(self) -> str:
        """The name recorded with this user's changes: READER_AUTHOR, the setting, the OS user."""
        return self.settings.effective_author

    @property
    def tags_db(self) -> str | None:
        """The tag store's connection string (None: the local SQLite store)."""
        return self.settings.tags_db

    @property
    def max_file_bytes(self) -> int:
        return self.settings.max_file_bytes
