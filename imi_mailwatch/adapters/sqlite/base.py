"""The connection every SQLite port shares: open, migrate, lock, transactions.

One file holds everything the daemon must remember across restarts. One
connection is shared by the daemon's threads behind a re-entrant lock; writes
that belong together happen in one transaction (``with store.transaction():``),
which is what makes "record, then acknowledge" safe.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import structlog

from imi_mailwatch.adapters.private_files import private_dir
from imi_mailwatch.adapters.rows import iso
from imi_mailwatch.adapters.sqlite.check import check_usable, explain
from imi_mailwatch.adapters.sqlite.schema import MIGRATIONS, SCHEMA_VERSION, migration_statements
from imi_mailwatch.adapters.sqlite.sql import Params, SqlBase, SqlRow, marks
from imi_mailwatch.errors import StateError
from imi_mailwatch.ports import Clock

__all__ = ["Params", "SqliteBase", "iso", "marks"]

log = structlog.get_logger(__name__)


def _open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to an existing store (StateError when there is none)."""
    if not path.is_file():
        raise StateError(f"no state store at {path}")
    try:
        db = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False, timeout=30
        )
        db.row_factory = sqlite3.Row
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise StateError(f"state store {path} is unusable: {exc}") from None
    if version > SCHEMA_VERSION:
        raise StateError(
            f"state store schema version {version} is newer than this program knows "
            f"({SCHEMA_VERSION}); upgrade imi-mailwatch"
        )
    return db


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only (0600) before SQLite opens it.

    SQLite gives the -wal and -shm files the mode of the database file, so they
    are private too. An existing file is left as it is here (chmod follows); any
    other failure is left for SQLite to report.
    """
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


class SqliteBase(SqlBase):
    """The shared connection; every port module of this package builds on it."""

    def __init__(self, path: str | Path, clock: Clock, *, read_only: bool = False) -> None:
        """Open (and create, migrate) the store; ``read_only`` opens an existing file only.

        Read-only (``status``, ``history``, ``quarantine list``, ``health``) never creates
        a file or a directory: a missing store raises StateError "no state store at PATH".
        """
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.RLock()
        self._depth = 0
        self._read_only = read_only
        if read_only:
            self._db = _open_read_only(self.path)
            return
        if str(path) != ":memory:":
            private_dir(self.path.parent)
            _create_private(self.path)
        try:
            self._db = sqlite3.connect(
                str(path), isolation_level=None, check_same_thread=False, timeout=30
            )
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA busy_timeout=30000")
            # 512 KiB of page cache instead of SQLite's 2 MiB: the daemon reads by index
            # and the system keeps the file cached; 1.5 MiB less resident, no slower
            self._db.execute("PRAGMA cache_size=-512")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise explain(self.path, exc) from None
        if str(path) != ":memory:":
            with contextlib.suppress(OSError):  # e.g. a read-only mount for status
                self.path.chmod(0o600)

    def _migrate(self) -> None:
        current = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if current > SCHEMA_VERSION:
            raise StateError(
                f"state store schema version {current} is newer than this program knows "
                f"({SCHEMA_VERSION}); upgrade imi-mailwatch"
            )
        for version in sorted(v for v in MIGRATIONS if v > current):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement in migration_statements(version, "sqlite"):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {int(version)}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            log.info("state.migrated", version=version)

    def check_usable(self) -> None:
        """For the daemon's start: StateError when the file is damaged or read-only."""
        if str(self.path) != ":memory:":
            with self._lock:
                check_usable(self._db, self.path)

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit of work. Nested uses join the outer transaction."""
        with self._lock:
            if self._depth == 0:  # a read-only store takes no write lock
                self._db.execute("BEGIN" if self._read_only else "BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if self._depth == 0:
                self._db.execute("COMMIT")

    @contextmanager
    def quick_transaction(self) -> Iterator[None]:
        """``transaction``, committed with synchronous=NORMAL when it is the outermost."""
        with self._lock:
            light = self._depth == 0 and not self._read_only
            if light:
                self._db.execute("PRAGMA synchronous=NORMAL")
            try:
                with self.transaction():
                    yield
            finally:
                if light:
                    self._db.execute("PRAGMA synchronous=FULL")

    def execute(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        """Run one statement (inside the caller's transaction, if any)."""
        with self._lock:
            return self._db.execute(sql, params)

    def query(self, sql: str, params: Params = ()) -> list[SqlRow]:
        with self._lock:
            return list(self._db.execute(sql, params).fetchall())

    def table_names(self) -> list[str]:
        rows = self.query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
        return [str(r["name"]) for r in rows]

    def column_names(self, table: str) -> set[str]:
        return {str(c["name"]) for c in self.query(f'PRAGMA table_info("{table}")')}

    def close(self) -> None:
        with self._lock:
            self._db.close()
