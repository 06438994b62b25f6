"""Translation models (Argos packages): where they live, list, install, remove, the index.

Listing reads each package's `metadata.json` directly, so it never imports argostranslate.
Installing validates a package with argostranslate's own `Package` loader in a staging folder
and only then moves it into place, so a bad file leaves nothing behind.

Where packages live: `$ARGOS_PACKAGES_DIR` when the user set it, else `<data>/argos/packages`.
Packages the user installed with Argos' own tools (`$XDG_DATA_HOME/argos-translate/packages`)
are found too, read-only. The index URL is `$READER_ARGOS_INDEX`, else the workspace setting
`argos_index`, else `$ARGOS_PACKAGE_INDEX`, else Argos' public index.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

from reader.core.errors import NoSpace, ReaderError
from reader.core.repair import is_full
from reader.core.workspace import Workspace

DEFAULT_INDEX = "https://raw.githubusercontent.com/argosopentech/argospm-index/main/"
INDEX_ENV = "READER_ARGOS_INDEX"
NETWORK_TIMEOUT = 20.0  # seconds: the whole index fetch, or the wait for each download chunk
# A package is refused before anything is written when it would unpack to more than this,
# or to more than MAX_RATIO times its own size (a zip bomb), or holds more entries than
# MAX_ENTRIES. Real packages: 30-300 MB unpacked, about 1-3 times their size, ~10 entries.
MAX_UNPACKED = 2 * 1000**3
MAX_RATIO = 50
MAX_ENTRIES = 10_000
_CHUNK = 64 * 1024

Progress = Callable[[int, int], None]


class OfflineError(ReaderError):
    """The Argos package index or a package could not be reached."""


class BadPackage(ReaderError):
    """A `.argosmodel` file that is not a valid translation package."""


def file_route(from_code: str = "FROM", to_code: str = "TO", index: str = DEFAULT_INDEX) -> str:
    """The sentences that tell how to install a model without network."""
    return (
        f"To install without network: on a machine with network, download the "
        f"translate-{from_code}_{to_code} package (its link is in {index}index.json), "
        "copy the .argosmodel file here and run `reader models install FILE.argosmodel`."
    )


@dataclass(frozen=True)
class ModelInfo:
    """One translation package, installed or offered by the index."""

    from_code: str
    to_code: str
    version: str
    name: str
    installed: bool
    code: str = ""
    path: Path | None = field(default=None, compare=False)
    links: tuple[str, ...] = field(default=(), compare=False)
    from_name: str = field(default="", compare=False)
    to_name: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        """The cache key of this model: package code and version, e.g. "translate-fr_en 1.9"."""
        return f"{self.code or f'translate-{self.from_code}_{self.to_code}'} {self.version}"

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.from_code,
            "to": self.to_code,
            "version": self.version,
            "name": self.name,
            "installed": self.installed,
        }


def _info_from_metadata(meta: dict[str, Any], *, installed: bool, path: Path | None) -> ModelInfo:
    from_code, to_code = str(meta.get("from_code") or ""), str(meta.get("to_code") or "")
    from_name = str(meta.get("from_name") or from_code)
    to_name = str(meta.get("to_name") or to_code)
    return ModelInfo(
        from_code=from_code,
        to_code=to_code,
        version=str(meta.get("package_version") or ""),
        name=f"{from_name} → {to_name}",
        installed=installed,
        code=str(meta.get("code") or f"translate-{from_code}_{to_code}"),
        path=path,
        links=tuple(str(link) for link in meta.get("links") or ()),
        from_name=from_name,
        to_name=to_name,
    )


# Folders -----------------------------------------------------------------------------------
def packages_dir(ws: Workspace) -> Path:
    """Where `install` puts packages: `$ARGOS_PACKAGES_DIR`, else `<data>/argos/packages`."""
    configured = os.environ.get("ARGOS_PACKAGES_DIR")
    return Path(configured).expanduser() if configured else ws.argos_dir / "packages"


def user_argos_packages_dir() -> Path:
    """Argos' own default package folder (for models installed with argospm); may not exist."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "argos-translate" / "packages"


def package_dirs(ws: Workspace) -> list[Path]:
    """Every folder searched for installed packages, ours first."""
    dirs = [packages_dir(ws)]
    user = user_argos_packages_dir()
    if user.is_dir() and user.resolve() != dirs[0].resolve():
        dirs.append(user)
    return dirs


_import_lock = threading.RLock()


def argos(ws: Workspace) -> ModuleType:
    """Import `argostranslate.package` with its folders inside the workspace; return the module.

    argostranslate reads its folders from the environment when `argostranslate.settings` is
    first imported, and creates them then. So the first import runs with the XDG variables the
    user did not set pointed into `<data>/argos` (never into the home folder); every call then
    points the module's folder settings at this workspace.
    """
    with _import_lock:
        argos_root = ws.argos_dir
        ours = packages_dir(ws)
        ours.mkdir(parents=True, exist_ok=True)
        import sys

        if "argostranslate.settings" not in sys.modules:
            overrides = {
                "XDG_DATA_HOME": argos_root / "data",
                "XDG_CONFIG_HOME": argos_root / "config",
                "XDG_CACHE_HOME": argos_root / "cache",
                "ARGOS_PACKAGES_DIR": ours,
            }
            saved = {name: os.environ.get(name) for name in overrides}
            try:
                for name, value in overrides.items():
                    if not saved[name]:
                        os.environ[name] = str(value)
                import argostranslate.package  # noqa: F401  (creates its folders now)
            finally:
                for name, value in saved.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value
        import argostranslate.package as package
        import argostranslate.settings as settings

        settings.package_data_dir = ours
        settings.package_dirs = package_dirs(ws)
        downloads = argos_root / "downloads"
        settings.downloads_dir = downloads
        settings.local_package_index = argos_root / "index.json"
        settings.package_index = index_url(ws)
        settings.remote_package_index = settings.package_index + "index.json"
        return package


# Listing -----------------------------------------------------------------------------------
def installed_models(ws: Workspace) -> list[ModelInfo]:
    """The installed translation packages (reads metadata.json; no argostranslate import)."""
    found: dict[tuple[str, str], ModelInfo] = {}
    for folder in package_dirs(ws):
        if not folder.is_dir():
            continue
        for pkg in sorted(folder.iterdir()):
            try:
                meta = json.loads((pkg / "metadata.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if not isinstance(meta, dict) or meta.get("type", "translate") != "translate":
                continue
            info = _info_from_metadata(meta, installed=True, path=pkg)
            if info.from_code and info.to_code:
                found.setdefault((info.from_code, info.to_code), info)
    return sorted(found.values(), key=lambda m: (m.from_code, m.to_code))


def find_installed(ws: Workspace, from_code: str, to_code: str) -> ModelInfo | None:
    """The installed package for from_code -> to_code, if any."""
    for info in installed_models(ws):
        if (info.from_code, info.to_code) == (from_code, to_code):
            return info
    return None


def list_models(ws: Workspace, *, available: bool = False) -> list[ModelInfo]:
    """Installed models; with `available`, also every translation package the Argos index
    offers (network; the last saved index when offline, else OfflineError)."""
    installed = installed_models(ws)
    if not available:
        return installed
    have = {(m.from_code, m.to_code): m for m in installed}
    offered = []
    for entry in fetch_index(ws):
        info = _info_from_metadata(entry, installed=False, path=None)
        mine = have.get((info.from_code, info.to_code))
        if mine is not None:
            info = ModelInfo(**{**info.__dict__, "installed": True, "path": mine.path})
        offered.append(info)
    listed = {(m.from_code, m.to_code) for m in offered}
    offered += [m for m in installed if (m.from_code, m.to_code) not in listed]
    return sorted(offered, key=lambda m: (m.from_code, m.to_code))


# The index ---------------------------------------------------------------------------------
def index_url(ws: Workspace) -> str:
    """The base URL of the Argos package index (ends with "/")."""
    url = (
        os.environ.get(INDEX_ENV)
        or ws.setting("argos_index")
        or os.environ.get("ARGOS_PACKAGE_INDEX")
        or DEFAULT_INDEX
    )
    url = str(url)
    return url if url.endswith("/") else url + "/"


def _offline_message(ws: Workspace, what: str, reason: str, from_code: str, to_code: str) -> str:
    return f"cannot reach {what} ({reason}). " + file_route(from_code, to_code, index_url(ws))


def _run_with_deadline(func: Callable[[], bytes], timeout: float) -> bytes:
    """Run a blocking fetch in a daemon thread; give up after `timeout` (DNS has no timeout)."""
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["data"] = func()
        except BaseException as exc:  # handed to the caller
            result["error"] = exc

    thread = threading.Thread(target=target, name="argos-fetch", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"no answer in {timeout:.0f} s")
    if "error" in result:
        raise result["error"]
    return result["data"]


def _reason(exc: BaseException) -> str:
    code = getattr(exc, "code", None)  # urllib's HTTPError
    if isinstance(code, int):
        return f"HTTP {code} {getattr(exc, 'reason', '')}".strip()
    reason = getattr(exc, "reason", None) or exc
    return str(reason) or type(exc).__name__


def fetch_index(
    ws: Workspace, *, timeout: float = NETWORK_TIMEOUT, from_code: str = "FROM", to_code: str = "TO"
) -> list[dict[str, Any]]:
    """The index's package entries (translate type only); cached in `<data>/argos/index.json`.

    Raises OfflineError when the index cannot be reached and no copy was saved before.
    """
    import urllib.request

    url = index_url(ws) + "index.json"
    saved = ws.argos_dir / "index.json"

    def fetch() -> bytes:
        request = urllib.request.Request(url, headers={"User-Agent": "source-reader"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()

    try:
        data = _run_with_deadline(fetch, timeout)
        entries = json.loads(data)
        if not isinstance(entries, list):
            raise ValueError("the index is not a list")
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_bytes(data)
    except (OSError, ValueError) as exc:
        if saved.is_file():
            try:
                entries = json.loads(saved.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                entries = None
            if isinstance(entries, list):
                return [e for e in entries if _is_translate_entry(e)]
        raise OfflineError(
            _offline_message(
                ws, f"the Argos package index at {url}", _reason(exc), from_code, to_code
            )
        ) from None
    return [e for e in entries if _is_translate_entry(e)]


def _is_translate_entry(entry: Any) -> bool:
    return isinstance(entry, dict) and entry.get("type", "translate") == "translate"


# Install and remove ------------------------------------------------------------------------
def install_model(
    ws: Workspace, from_code: str, to_code: str, *, progress: Progress | None = None
) -> ModelInfo:
    """Download the from_code -> to_code package from the Argos index and install it."""
    entries = fetch_index(ws, from_code=from_code, to_code=to_code)
    match = [e for e in entries if e.get("from_code") == from_code and e.get("to_code") == to_code]
    if not match:
        pairs = sorted({f"{e.get('from_code')}→{e.get('to_code')}" for e in entries})
        hint = f" It offers: {', '.join(pairs)}." if pairs else ""
        raise ReaderError(
            f"the Argos package index has no {from_code}→{to_code} model.{hint} "
            f"A route through English works too: install {from_code} en, then en {to_code}."
        )
    entry = match[0]
    links = [str(link) for link in entry.get("links") or () if str(link).startswith("http")]
    if not links:
        raise ReaderError(f"the index lists no download link for {from_code}→{to_code}")
    downloads = ws.argos_dir / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    errors = []
    for link in links:
        name = PurePosixPath(link.split("?")[0]).name
        if not name.endswith(".argosmodel"):
            name = f"translate-{from_code}_{to_code}.argosmodel"
        tmp = Path(tempfile.mkdtemp(dir=downloads)) / name
        try:
            _download(link, tmp, progress)
            return install_model_file(ws, tmp)
        except OSError as exc:
            errors.append(f"{link}: {_reason(exc)}")
        finally:
            shutil.rmtree(tmp.parent, ignore_errors=True)
    raise OfflineError(
        _offline_message(
            ws, f"the {from_code}→{to_code} package", "; ".join(errors), from_code, to_code
        )
    )


def _download(url: str, target: Path, progress: Progress | None) -> None:
    """Stream url into target, reporting (bytes done, bytes total or 0)."""
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": "source-reader"})
    response = _run_with_deadline(
        lambda: urllib.request.urlopen(request, timeout=NETWORK_TIMEOUT), NETWORK_TIMEOUT
    )
    with response, target.open("wb") as out:
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        while chunk := response.read(_CHUNK):
            out.write(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
        if total and done < total:
            raise OSError(f"download cut short after {done} of {total} bytes")
        if progress is not None and not done:
            progress(0, total)


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def _check_size(zf: zipfile.ZipFile, path: Path) -> None:
    """BadPackage when the archive holds too many entries or would unpack to too much (its
    declared sizes; zipfile never unpacks more than an entry declares)."""
    entries = zf.infolist()
    if len(entries) > MAX_ENTRIES:
        raise BadPackage(
            f"{path.name}: refused, it holds {len(entries):,} entries (at most {MAX_ENTRIES:,}); "
            "nothing was installed"
        )
    unpacked = sum(e.file_size for e in entries)
    packed = path.stat().st_size
    limit = min(MAX_UNPACKED, MAX_RATIO * max(packed, 1))
    if unpacked > limit:
        raise BadPackage(
            f"{path.name}: refused, it would unpack to {_size(unpacked)} from {_size(packed)} "
            f"(at most {_size(MAX_UNPACKED)}, or {MAX_RATIO}x its size): "
            "not a translation package (a zip bomb?); nothing was installed"
        )


def _check_members(zf: zipfile.ZipFile, path: Path) -> str:
    """The package's single top-level folder name; BadPackage for anything unsafe or odd."""
    _check_size(zf, path)
    tops = set()
    for name in zf.namelist():
        pure = PurePosixPath(name)
        if pure.is_absolute() or ".." in pure.parts or "\\" in name or not pure.parts:
            raise BadPackage(f"{path.name}: unsafe path inside the package: {name!r}")
        tops.add(pure.parts[0])
    if len(tops) != 1:
        raise BadPackage(
            f"{path.name}: a package holds exactly one folder, this one has {len(tops)}"
        )
    top = tops.pop()
    if f"{top}/metadata.json" not in zf.namelist():
        raise BadPackage(f"{path.name}: no metadata.json in {top}/")
    return top


def _validate(ws: Workspace, folder: Path, source: Path) -> ModelInfo:
    """Load the unpacked package with argostranslate's Package and check its parts."""
    package = argos(ws)
    try:
        pkg = package.Package(folder)
    except (OSError, ValueError) as exc:
        raise BadPackage(f"{source.name}: unreadable metadata.json ({exc})") from None
    if pkg.type != "translate" or not pkg.from_code or not pkg.to_code:
        raise BadPackage(f"{source.name}: not a translation package (needs from_code and to_code)")
    if not hasattr(pkg, "tokenizer"):
        raise BadPackage(f"{source.name}: no sentencepiece.model or bpe.model in the package")
    import ctranslate2

    if not ctranslate2.contains_model(str(folder / "model")):
        raise BadPackage(f"{source.name}: no CTranslate2 model in model/")
    sp_model = folder / "sentencepiece.model"
    if sp_model.exists():
        import sentencepiece

        try:
            sentencepiece.SentencePieceProcessor(model_file=str(sp_model))
        except (OSError, RuntimeError) as exc:
            raise BadPackage(f"{source.name}: broken sentencepiece.model ({exc})") from None
    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    return _info_from_metadata(meta, installed=True, path=folder)


def install_model_file(ws: Workspace, path: str | Path) -> ModelInfo:
    """Install a local `.argosmodel` file; replaces an installed package for the same pair.

    The file is checked and unpacked into a staging folder first: on any error (BadPackage)
    nothing is left in the packages folder.
    """
    source = Path(path).expanduser()
    if not source.is_file():
        raise ReaderError(f"no such file: {source}")
    if not zipfile.is_zipfile(source):
        raise BadPackage(f"{source.name}: not an Argos package (a .argosmodel is a zip archive)")
    try:  # sizes and entries first: a refused package writes nothing, not even a folder
        with zipfile.ZipFile(source) as zf:
            _check_size(zf, source)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise BadPackage(f"{source.name}: corrupt archive ({exc})") from None
    target_root = packages_dir(ws)
    target_root.mkdir(parents=True, exist_ok=True)
    ws.argos_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=ws.argos_dir))
    try:
        try:
            with zipfile.ZipFile(source) as zf:
                top = _check_members(zf, source)
                broken = zf.testzip()
                if broken is not None:
                    raise BadPackage(f"{source.name}: corrupt archive (bad checksum in {broken})")
                zf.extractall(staging)
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
            if is_full(exc):
                raise NoSpace() from None
            raise BadPackage(f"{source.name}: corrupt archive ({exc})") from None
        info = _validate(ws, staging / top, source)
        previous = find_installed(ws, info.from_code, info.to_code)
        final = target_root / top
        trash = []
        for old in {p for p in (previous.path if previous else None, final) if p}:
            if old.exists() and old.parent.resolve() == target_root.resolve():
                moved = staging / f".old-{old.name}"
                old.rename(moved)
                trash.append(moved)
        try:
            shutil.move(staging / top, final)
        except OSError as exc:
            for moved in trash:  # put the previous package back
                shutil.move(moved, target_root / moved.name.removeprefix(".old-"))
            raise ReaderError(f"cannot install into {target_root}: {exc}") from None
        _forget_loaded()
        meta = json.loads((final / "metadata.json").read_text(encoding="utf-8"))
        return _info_from_metadata(meta, installed=True, path=final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def remove_model(ws: Workspace, from_code: str, to_code: str) -> None:
    """Remove the installed from_code -> to_code package from our packages folder."""
    info = find_installed(ws, from_code, to_code)
    if info is None or info.path is None:
        raise ReaderError(f"no {from_code}→{to_code} model is installed")
    ours = packages_dir(ws).resolve()
    if info.path.parent.resolve() != ours:
        raise ReaderError(
            f"the {from_code}→{to_code} model lives in {info.path.parent}, outside this "
            "workspace's models; remove it with Argos' own tools"
        )
    shutil.rmtree(info.path)
    _forget_loaded()


def _forget_loaded() -> None:
    """Drop loaded translators so a replaced or removed package is not used any more."""
    import sys

    translation = sys.modules.get("reader.core.translation.service")
    if translation is not None:
        translation.forget_backends()
