"""A real PostgreSQL server for tests: Debian's postgresql package, initdb into a
temporary folder, loopback only, a free port, run as a non-root user, torn down
at the end of the session.

Use it from a conftest:  `from tests.support.postgres import postgres_server, postgres_url  # noqa: F401`
and mark the tests `@pytest.mark.postgres`. `scripts/system-deps.sh` installs the package.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.stack import free_port

RUN_AS = "postgres"  # Debian's package creates this user; postgres refuses to run as root


def _bin_dir() -> Path | None:
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    for candidate in reversed(versions):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@dataclass
class PostgresServer:
    bin_dir: Path
    root: Path
    port: int
    user: str | None  # OS user the server runs as (None: the current user)
    proc: subprocess.Popen | None = None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def _cmd(self, *args: str) -> list[str]:
        if self.user:
            return ["runuser", "-u", self.user, "--", *args]
        return list(args)

    def start(self) -> None:
        if self.user:
            pw = pwd.getpwnam(self.user)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        subprocess.run(
            self._cmd(
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
        try:
            self._serve()
        except RuntimeError:
            self.stop()
            raise

    def _serve(self) -> None:
        """Starts the server on the existing data folder and returns once it takes connections."""
        # Loopback only, socket in our own folder, no durability needed for tests.
        with open(self.root / "server.log", "ab") as log:  # the server keeps its own copy
            self.proc = subprocess.Popen(
                self._cmd(
                    str(self.bin_dir / "postgres"),
                    "-D",
                    str(self.data_dir),
                    "-p",
                    str(self.port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    f"unix_socket_directories={self.root}",
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "max_connections=100",
                    "-c",
                    "shared_buffers=32MB",
                ),
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [str(self.bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"],
                capture_output=True,
            )
            if ready.returncode == 0:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        log = (self.root / "server.log").read_text(errors="replace")
        raise RuntimeError(f"PostgreSQL did not start:\n{log[-2000:]}")

    def pids(self) -> list[int]:
        """The postmaster and its children (backends and workers leave its process group)."""
        master = int((self.data_dir / "postmaster.pid").read_text().split()[0])
        pids = [master]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                    pids.append(int(entry.name))
        return pids

    def kill(self, pids: list[int] | None = None) -> None:
        """A crash: SIGKILL to the postmaster and its children at once (`pids`, if taken before)."""
        for pid in pids or self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc is not None and self.user:
            # runuser stops itself when its child is stopped (SIGSTOP) and would never reap it.
            self.proc.send_signal(signal.SIGCONT)
        self.wait_stopped()

    def wait_stopped(self, timeout: float = 20) -> None:
        if self.proc is not None:
            self.proc.wait(timeout)

    def restart(self) -> None:
        """Starts the server again on the same data folder and port (crash recovery included)."""
        self.wait_stopped()
        self._serve()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A fresh, empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: smart shutdown
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PostgresServer:
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise FileNotFoundError("PostgreSQL is not installed: run scripts/system-deps.sh")
    user = RUN_AS if os.geteuid() == 0 else None
    if user:
        try:
            pwd.getpwnam(user)
        except KeyError as exc:
            raise RuntimeError(f"running as root needs the '{user}' user (Debian's postgresql package)") from exc
    root = Path(tempfile.mkdtemp(prefix="jz-pg-"))
    os.chmod(root, 0o700)
    server = PostgresServer(bin_dir=bin_dir, root=root, port=free_port(), user=user)
    server.start()
    return server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = start_postgres()
    except FileNotFoundError as exc:
        pytest.fail(f"{exc} (make system-deps installs it)")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh database on the session's server for each test."""
    return postgres_server.create_database()
