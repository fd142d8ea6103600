"""A throw-away PostgreSQL server on loopback, for the PostgreSQL state store's tests.

``PostgresServer`` runs Debian's ``postgresql`` package (``initdb`` and ``pg_ctl``
from /usr/lib/postgresql/<version>/bin) on a free port in a fresh directory under
/tmp. initdb refuses to run as root, so under root (CI) the server runs as the
``postgres`` system user (or ``nobody``) on a directory it owns. Trust
authentication on 127.0.0.1 and a socket in that directory, no password. With
``tls=True`` the server also speaks TLS with a self-signed certificate for
``localhost`` (``cert_file``, its own CA, so ``ca_file=server.cert_file`` trusts
it). The cluster uses the C locale, as the store's ISO-text moments sort by bytes.

Fixtures: ``postgres_server`` (one server per test session) and ``postgres_url``
(a fresh empty database per test). Without PostgreSQL installed, the tests that
use them are skipped with the reason. Usage in a test module::

    from tests.servers.postgres import postgres_server, postgres_url  # noqa: F401

    def test_x(postgres_url: str): ...
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

SUPERUSER = "imi"


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin directory, or None."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as() -> str | None:
    """The user the server runs as when we are root (initdb refuses root); None otherwise."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root and neither 'postgres' nor 'nobody' exists")


class PostgresServer:
    """One PostgreSQL cluster in a temporary directory, started on a free loopback port."""

    def __init__(self, *, tls: bool = False, durable: bool = False) -> None:
        """``durable``: flush to disk as a production server does (benchmarks); tests do not."""
        bin_dir = postgres_bin()
        if bin_dir is None:
            raise FileNotFoundError("PostgreSQL is not installed (Debian package postgresql)")
        self.bin = bin_dir
        self.port = _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="imi-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self._user = _run_as()
        self._names = itertools.count(1)
        self.cert_file = self.dir / "cert.pem"
        self._tls = tls
        self._durable = durable
        if tls:
            key = self.dir / "key.pem"
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                 "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                 "-keyout", str(key), "-out", str(self.cert_file)],
                check=True, capture_output=True, timeout=120,
            )  # fmt: skip
            key.chmod(0o600)
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            for path in (self.dir, *self.dir.iterdir()):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._pg(
            "initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
            "--no-locale", "--encoding=UTF8", "--no-sync",
        )  # fmt: skip
        self.start()

    def _pg(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self._user is not None:
            command = ["runuser", "-u", self._user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120, cwd=self.dir)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        options += " -c max_connections=200"
        if not self._durable:
            options += " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        if self._tls:
            key = self.dir / "key.pem"
            options += f" -c ssl=on -c ssl_cert_file={self.cert_file} -c ssl_key_file={key}"
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``immediate``: as if it crashed)."""
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def new_database(self) -> str:
        """A fresh empty database; its URL."""
        import psycopg

        name = f"t{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def close(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the test session (skipped when it is not installed)."""
    if postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed (Debian package postgresql; make test-deps)")
    with PostgresServer() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh empty database on the session's server."""
    return postgres_server.new_database()
