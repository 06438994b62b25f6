"""A throwaway PostgreSQL server for the tests and the bench, from `initdb`/`pg_ctl` on PATH.

`PostgresServer(base).start()` makes a cluster in a temporary folder, listening on a free
port of 127.0.0.1 (and a unix socket in that folder), with trust authentication. As root,
initdb refuses to run, so the cluster is made and run as the `postgres` user (`runuser`).
`stop()` removes everything. `kill()` ends the server with SIGKILL, as a crash would.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

SERVER_USER = "postgres"
_SETTINGS = (
    # Fast: the tests need no durability against an OS crash, only against a killed server
    # (so no synchronous_commit=off). A durable server (the bench) drops the first two.
    "fsync=off",
    "full_page_writes=off",
    "wal_level=minimal",
    "max_wal_senders=0",
    "shared_buffers=32MB",
    "max_connections=60",
)


def find_bindir() -> Path | None:
    """The folder of `initdb` and `pg_ctl`: from PATH, else Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    return None


def unavailable_reason() -> str | None:
    """Why no server can be started here, or None when one can."""
    if find_bindir() is None:
        return "no PostgreSQL server binaries (initdb, pg_ctl) on PATH"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root and there is no {SERVER_USER!r} user to run PostgreSQL"
        if shutil.which("runuser") is None:
            return "running as root and `runuser` is missing"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """One PostgreSQL cluster in a temporary folder. Use `start()`, `url()`, `stop()`."""

    def __init__(self, *, durable: bool = False) -> None:
        """`durable`: keep PostgreSQL's default fsync settings (the bench); else fast ones."""
        bindir = find_bindir()
        if bindir is None:
            raise RuntimeError(unavailable_reason() or "no PostgreSQL")
        self.bindir = bindir
        self.base = Path(tempfile.mkdtemp(prefix="reader-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self.port = free_port()
        self._as_root = os.geteuid() == 0
        self.durable = durable
        if self._as_root:
            import pwd

            entry = pwd.getpwnam(SERVER_USER)
            os.chown(self.base, entry.pw_uid, entry.pw_gid)
        self.base.chmod(0o755)

    # Running the binaries -------------------------------------------------------------------
    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._as_root:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        return subprocess.run(
            command, check=check, capture_output=True, text=True, timeout=120, cwd=self.base
        )

    def start(self) -> PostgresServer:
        """Make the cluster if needed and start the server; wait until it accepts connections."""
        if not self.data.exists():
            self._run(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            )
            with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
                settings = _SETTINGS[2:] if self.durable else _SETTINGS
                conf.write("\n".join([*settings, ""]))
        options = f"-p {self.port} -h 127.0.0.1 -k {self.base}"
        try:
            self._run(
                "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"
            )
        except subprocess.CalledProcessError as exc:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {exc.stderr}\n{log[-2000:]}") from exc
        return self

    def pid(self) -> int | None:
        """The postmaster's process id, or None when it is not running."""
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def is_running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def kill(self) -> None:
        """End the server at once (SIGKILL to the postmaster; its backends then exit)."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
            # Backends notice the postmaster's death and exit; wait for the port to be free.
            while time.monotonic() < deadline and _port_open(self.port):
                time.sleep(0.05)
            (self.data / "postmaster.pid").unlink(missing_ok=True)

    def stop(self, *, remove: bool = True) -> None:
        """Stop the server (fast mode) and, with `remove`, delete its folder."""
        if self.data.exists() and self.is_running():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
        if remove:
            shutil.rmtree(self.base, ignore_errors=True)

    def require_password(self, user: str) -> None:
        """Make `user` log in with a password over TCP (scram), the others keep trust."""
        hba = self.data / "pg_hba.conf"
        line = f"host all {user} 127.0.0.1/32 scram-sha-256\n"
        text = hba.read_text()
        if line not in text:
            hba.write_text(line + text)
            self._run("pg_ctl", "-D", str(self.data), "reload")
            time.sleep(0.3)  # the postmaster rereads the file asynchronously

    # Databases ------------------------------------------------------------------------------
    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        """A new empty database; its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" STRATEGY = FILE_COPY')
        return self.url(name)

    def execute(self, sql: str, dbname: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(dbname), autocommit=True) as conn:
            conn.execute(sql)


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# Fixtures (registered by `pytest_plugins` in tests/conftest.py) --------------------------------
@pytest.fixture(scope="session")
def postgres_server():  # -> Iterator[PostgresServer]
    """One server for the whole run (made once: about a second); skipped without PostgreSQL."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


_counter = iter(range(1, 1_000_000))


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL of a new empty database on the session's server (restarted if a test killed it)."""
    if not postgres_server.is_running():
        postgres_server.start()
    return postgres_server.create_database(f"t{os.getpid()}_{next(_counter)}")


def tag_store_backend(request: pytest.FixtureRequest, tmp_path: Path):  # -> Opener
    """The PostgreSQL entry of the shared store suite (tests/unit/test_tag_store.py): each call
    opens a new client on one fresh database (skipped without PostgreSQL)."""
    url = request.getfixturevalue("postgres_url")
    from reader.core.tags.postgres import PostgresTagStore

    return lambda: PostgresTagStore(url, "corpus")
