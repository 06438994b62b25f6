"""Typed settings: a user file (platformdirs config folder) overlaid by the corpus's file.

Layers, lowest first: the defaults, the user file, the corpus file (`settings.json` in the
corpus's data folder), the environment (`READER_TAGS_DB`, `READER_AUTHOR`), and the command
line (`--tags-db`). Theme and keymap are the user's, whatever the corpus: they are read from
the user file only. A bad file or value is reported (file and key) and ignored, never raised:
`Settings.problems` holds the reports, and the CLI and the app show them.
"""

from __future__ import annotations

import getpass
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from reader.core.errors import ReaderError

APP_NAME = "source-reader"
SETTINGS_FILE = "settings.json"
DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024
DEFAULT_INDEX_MEMORY_MB = 160  # postings held in memory before a segment is written out
DEFAULT_RESCAN_SECONDS = 60.0  # how long after a full scan folder times are trusted
USER, CORPUS, DEFAULT = "user", "corpus", "default"
ENV, COMMAND_LINE = "environment", "command line"
ENVIRONMENT: dict[str, str] = {"tags_db": "READER_TAGS_DB", "author": "READER_AUTHOR"}


class Invalid(ValueError):
    """A setting's value has the wrong type or form (the message says what was expected)."""


# Checks: each returns the clean value or raises Invalid -------------------------------------
def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"expected non-empty text, got {_shown(value)}")
    return value.strip()


_LANG = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?")


def _lang(value: Any) -> str:
    text = _text(value).lower()
    if not _LANG.fullmatch(text):
        raise Invalid(f"expected a language code such as 'en' or 'pt-br', got {_shown(value)}")
    return text


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"expected true or false, got {_shown(value)}")
    return value


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise Invalid(f"expected a whole number above 0, got {_shown(value)}")
    return value


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise Invalid(f"expected a number of seconds, 0 or more, got {_shown(value)}")
    return float(value)


def _keymap(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and k and v for k, v in value.items()
    ):
        raise Invalid(
            'expected an object of binding ids to keys, e.g. {"article.claim": "c,f1"}, '
            f"got {_shown(value)}"
        )
    return dict(value)


def _tags_db(value: Any) -> str:
    text = _text(value)
    if not is_postgres_url(text) and "://" in text and not text.startswith("sqlite://"):
        raise Invalid(
            "expected postgresql://user@host/db (or host=... dbname=...), or the path of a "
            f"SQLite file, got {redact_url(text)!r}"
        )
    return text


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:39] + "…"


@dataclass(frozen=True)
class Spec:
    """One setting: its check, whether the corpus file may set it, what it is for."""

    check: Callable[[Any], Any]
    user_only: bool
    help: str
    secret: bool = False


SPECS: dict[str, Spec] = {
    "theme": Spec(_text, True, "the app's colour theme"),
    "keymap": Spec(_keymap, True, "key remapping: binding id -> keys"),
    "tags_db": Spec(_tags_db, False, "the tag store: a PostgreSQL URL (default: SQLite)", True),
    "corpus_key": Spec(_text, False, "the corpus's name in a shared tag database"),
    "query_lang": Spec(_lang, False, "the language queries are written in"),
    "target_lang": Spec(_lang, False, "the language to translate into"),
    "author": Spec(_text, False, "the name recorded with your tags (default: the OS user)"),
    "organisation": Spec(_text, False, "the organisation named in exports"),
    "factcheck_url": Spec(_text, False, "the fact-check page a claimreview export is for"),
    "max_file_bytes": Spec(_positive_int, False, "files larger than this are skipped"),
    "argos_index": Spec(_text, False, "where translation models are downloaded from"),
    # User only: a shared corpus folder must not be able to reach out of itself.
    "follow_symlinks_outside": Spec(
        _bool, True, "read symlinked files and folders whose target lies outside the corpus"
    ),
    "index_memory_mb": Spec(_positive_int, False, "memory for indexing, in MB"),
    "rescan_seconds": Spec(
        _seconds, False, "how long after a full scan a search trusts folder times"
    ),
}


@dataclass(frozen=True)
class Settings:
    """The effective settings, where each came from, and what was wrong in the files."""

    theme: str | None = None
    keymap: Mapping[str, str] = field(default_factory=dict)
    tags_db: str | None = None
    corpus_key: str | None = None
    query_lang: str = "en"
    target_lang: str = "en"
    author: str | None = None
    organisation: str | None = None
    factcheck_url: str | None = None
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    argos_index: str | None = None
    follow_symlinks_outside: bool = False
    index_memory_mb: int = DEFAULT_INDEX_MEMORY_MB
    rescan_seconds: float = DEFAULT_RESCAN_SECONDS
    # Where they came from ---------------------------------------------------------------
    user_file: Path | None = field(default=None, compare=False)
    corpus_file: Path | None = field(default=None, compare=False)
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)
    problems: tuple[str, ...] = field(default=(), compare=False)

    def get(self, name: str) -> Any:
        """A setting by name (None for a name that is not a setting)."""
        return getattr(self, name) if name in SPECS else None

    def source(self, name: str) -> str:
        """Where the value of `name` came from: user, corpus, environment, command line, default."""
        return self.sources.get(name, DEFAULT)

    @property
    def effective_author(self) -> str:
        """The author: READER_AUTHOR, the setting, else the OS user."""
        if self.author:
            return self.author
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "unknown"

    def shown(self) -> dict[str, Any]:
        """Every setting's effective value for display, secrets redacted."""
        values = {name: getattr(self, name) for name in SPECS}
        values["author"] = self.effective_author
        if values["tags_db"]:
            values["tags_db"] = redact_url(values["tags_db"])
        values["keymap"] = dict(values["keymap"])
        return values


def user_settings_path() -> Path:
    """The user's settings file, in the platform's config folder."""
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False) / SETTINGS_FILE


def read_file(path: Path) -> tuple[dict[str, Any], list[str]]:
    """A settings file's raw object (empty when missing) and what was wrong with it."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, []
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [f"{path}: cannot be read ({_reason(exc)}); ignored"]
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError as exc:
        return {}, [f"{path}: not valid JSON ({exc}); ignored"]
    if not isinstance(data, dict):
        return {}, [f"{path}: expected a JSON object of settings; ignored"]
    return data, []


def load(
    corpus_file: Path | None,
    user_file: Path | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """The settings of a corpus: defaults < user file < corpus file < environment < overrides."""
    user_file = user_file if user_file is not None else user_settings_path()
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    problems: list[str] = []
    for level, path in ((USER, user_file), (CORPUS, corpus_file)):
        if path is None:
            continue
        data, trouble = read_file(path)
        problems.extend(trouble)
        for key, value in data.items():
            spec = SPECS.get(key)
            if spec is None:
                known = ", ".join(SPECS)
                problems.append(f"{path}: {key!r} is not a setting (known: {known}); ignored")
            elif spec.user_only and level == CORPUS:
                problems.append(
                    f"{path}: {key!r} is a user setting; set it in {user_file}; ignored here"
                )
            elif value is None:
                continue  # an explicit null means "the default"
            else:
                try:
                    values[key] = spec.check(value)
                except Invalid as exc:
                    problems.append(f"{path}: {key!r}: {exc}; ignored")
                else:
                    sources[key] = level
    for key, variable in ENVIRONMENT.items():
        if environ.get(variable):
            try:
                values[key] = SPECS[key].check(environ[variable])
            except Invalid as exc:
                problems.append(f"${variable}: {exc}; ignored")
            else:
                sources[key] = ENV
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        try:
            values[key] = SPECS[key].check(value)
        except Invalid as exc:
            raise ReaderError(f"{key.replace('_', '-')}: {exc}") from None
        sources[key] = COMMAND_LINE
    return Settings(
        **values,
        user_file=user_file,
        corpus_file=corpus_file,
        sources=sources,
        problems=tuple(problems),
    )


def save(path: Path, name: str, value: Any) -> None:
    """Set one setting in a settings file (None removes it), keeping its other keys."""
    spec = SPECS.get(name)
    if spec is None:
        raise ReaderError(f"{name!r} is not a setting (known: {', '.join(SPECS)})")
    if value is not None:
        try:
            value = spec.check(value)
        except Invalid as exc:
            raise ReaderError(f"{name}: {exc}") from None
    data, _trouble = read_file(path)  # a broken file is replaced by a sound one
    if value is None:
        data.pop(name, None)
    else:
        data[name] = value
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise ReaderError(f"cannot save the setting {name} in {path}: {_reason(exc)}") from exc


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)


# Connection strings ---------------------------------------------------------------------------
def is_postgres_url(text: str) -> bool:
    """True for a libpq connection string: a postgres(ql):// URL or `key=value` pairs."""
    lowered = text.strip().lower()
    if lowered.startswith(("postgresql://", "postgres://")):
        return True
    return bool(re.match(r"\s*(host|hostaddr|dbname|user|port|service)\s*=", lowered))


_CONNINFO_SECRET = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def redact_url(text: str) -> str:
    """A connection string with any password replaced by `***` (URL or key=value form)."""
    if not text:
        return text
    if "://" not in text:
        return _CONNINFO_SECRET.sub(r"\1***", text)
    try:
        parts = urlsplit(text)
    except ValueError:
        return re.sub(r"//[^@/]*@", "//***@", text)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hosts = netloc.rpartition("@")
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = f"{userinfo}@{hosts}"
    query = parts.query
    if query:
        pairs = [
            (k, "***" if k.lower() in ("password", "sslpassword") else v)
            for k, v in parse_qsl(query, keep_blank_values=True)
        ]
        query = urlencode(pairs, safe="*/:")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "SPECS",
    "Invalid",
    "Settings",
    "is_postgres_url",
    "load",
    "redact_url",
    "save",
    "user_settings_path",
]
