"""Writing export files: atomically, with the umask's permissions, never over a file silently."""

from __future__ import annotations

import os
import tempfile
from contextlib import suppress
from datetime import datetime
from pathlib import Path

from reader.core.errors import ReaderError


class ExportExists(ReaderError):
    """The export's target exists and replacing it was not asked for."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} exists; give --force to replace it")
        self.path = path


def current_umask() -> int:
    """The process umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # no other way on this system: read it by setting it back
    os.umask(mask)
    return mask


def write_file(out: Path, data: bytes, *, force: bool = False) -> Path:
    """Write `data` to `out` through a temporary file renamed into place.

    The file gets 0666 less the umask (0644 under 022), like any file a program creates.
    An existing `out` is replaced only with `force`; otherwise ExportExists and it is
    unchanged. A failure leaves nothing behind.
    """
    out = Path(out).expanduser()
    if out.is_dir():
        raise ReaderError(f"cannot write the export to {out}: it is a folder")
    if out.exists() and not force:
        raise ExportExists(out)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    except OSError as exc:
        raise ReaderError(f"cannot write the export to {out}: {exc.strerror or exc}") from exc
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~current_umask())
        if force:
            os.replace(tmp, out)
        else:
            try:
                os.link(tmp, out)  # fails if `out` appeared meanwhile: never overwrite
            except FileExistsError:
                raise ExportExists(out) from None
            except OSError:  # a file system without hard links
                if out.exists():
                    raise ExportExists(out) from None
                os.replace(tmp, out)
    except OSError as exc:
        raise ReaderError(f"cannot write the export to {out}: {exc.strerror or exc}") from exc
    finally:
        with suppress(OSError):
            tmp.unlink()
    return out


def stamp(moment: datetime | None = None) -> str:
    """A second-resolution local time stamp for file names: 20261123-120501."""
    return (moment or datetime.now()).strftime("%Y%m%d-%H%M%S")


def unique_path(folder: Path, stem: str, extension: str) -> Path:
    """`folder/stem.ext`, or `stem-2.ext`, `stem-3.ext`, ... whichever does not exist yet."""
    candidate = folder / f"{stem}{extension}"
    number = 2
    while candidate.exists():
        candidate = folder / f"{stem}-{number}{extension}"
        number += 1
    return candidate
