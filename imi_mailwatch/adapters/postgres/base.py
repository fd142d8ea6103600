"""The connection every port shares on PostgreSQL: pool, migrations, transactions.

The port modules of ``adapters.sqlite`` hold the state's SQL in the subset both
engines share (``?`` and ``:name`` placeholders, which :func:`pyformat` turns
into psycopg's). This class puts a psycopg 3 connection pool under them. Like
the SQLite store, one re-entrant lock serialises the daemon's threads: a
transaction holds one pooled connection from its start to its end, and nested
``with store.transaction():`` blocks join it (as savepoints: an inner block that
raises undoes its own writes only; when it is not caught, the whole transaction
is undone). The pool replaces a connection broken by a server restart or a
failover before it is handed out again.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
import structlog
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from imi_mailwatch.adapters.sqlite.schema import MIGRATIONS, SCHEMA_VERSION, migration_statements
from imi_mailwatch.adapters.sqlite.sql import Params, SqlBase, SqlRow
from imi_mailwatch.errors import StateError
from imi_mailwatch.ports import Clock

log = structlog.get_logger(__name__)

# pg_advisory_xact_lock key: two daemons starting at once migrate one after the other
_MIGRATION_LOCK = 0x1A1_57A7E
_TABLE_OF_VERSION = "schema_version"
_BYTE_ORDER = frozenset({"C", "POSIX", "C.UTF-8", "C.utf8"})
_MARKS = re.compile(r"\?|(?<![:\w]):([A-Za-z_]\w*)|%")


@functools.lru_cache(maxsize=512)
def pyformat(sql: str) -> str:
    """The port modules' SQL with psycopg's placeholders: ``?`` -> ``%s``, ``:name`` ->
    ``%(name)s``, a literal ``%`` -> ``%%``. (The port SQL quotes no ``?`` or ``:name``.)"""

    def mark(m: re.Match[str]) -> str:
        if m.group(0) == "?":
            return "%s"
        if m.group(0) == "%":
            return "%%"
        return f"%({m.group(1)})s"

    return _MARKS.sub(mark, sql)


def describe(conninfo: str) -> str:
    """``postgresql://user@host:port/dbname`` of a connection string, without secrets."""
    try:
        parts = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "postgresql://(unparsable URL)"
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{parts.get('host', '')}{port}/{parts.get('dbname', '')}"


@dataclass(frozen=True, slots=True)
class _Written:
    rowcount: int


class PostgresBase(SqlBase):
    """The shared pool; the port modules of ``adapters.sqlite`` build on it."""

    def __init__(
        self,
        conninfo: str,
        clock: Clock,
        *,
        read_only: bool = False,
        connect_timeout: float = 30.0,
    ) -> None:
        """Connect (and migrate, unless ``read_only``); StateError when that fails.

        Read-only (``status``, ``history``, ``health``) never creates a table: a
        database without the state raises StateError "no state store at URL".
        """
        self.url = describe(conninfo)
        self._clock = clock
        self._lock = threading.RLock()
        self._conn: psycopg.Connection[DictRow] | None = None
        self._read_only = read_only
        # the standby's fence (``PostgresLease.check``): called on the connection at the start
        # of every transaction that writes; it raises to refuse the transaction
        self.fence: Callable[[psycopg.Connection[DictRow]], None] | None = None
        kwargs: dict[str, object] = {"autocommit": True, "row_factory": dict_row}
        if read_only:
            kwargs["options"] = "-c default_transaction_read_only=on"
        self._pool: ConnectionPool[psycopg.Connection[DictRow]] = ConnectionPool(
            conninfo,
            connection_class=psycopg.Connection[DictRow],
            kwargs=kwargs,
            min_size=1,  # one lock serialises the store: one connection is in use at a time
            max_size=2,
            timeout=connect_timeout,
            check=ConnectionPool.check_connection,
            name="state",
            open=False,
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
            if read_only:
                self._check_version(self._version(missing_ok=False))
            else:
                self._migrate()
        except PoolTimeout:
            self._pool.close()
            raise StateError(
                f"state store {self.url} is unreachable within {connect_timeout:g} s "
                "(server down, wrong host or port, refused login or TLS?)"
            ) from None
        except (psycopg.Error, StateError) as exc:
            self._pool.close()
            if isinstance(exc, StateError):
                raise
            raise StateError(f"state store {self.url} is unusable: {_first_line(exc)}") from None

    # -- schema -----------------------------------------------------------------------

    def _version(self, *, missing_ok: bool) -> int:
        rows = self.query(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_name = ?",
            (_TABLE_OF_VERSION,),
        )
        if not rows:
            if missing_ok:
                return 0
            raise StateError(f"no state store at {self.url}")
        found = self.query(f"SELECT version FROM {_TABLE_OF_VERSION}")
        return int(found[0]["version"]) if found else 0

    def _check_version(self, current: int) -> None:
        if current > SCHEMA_VERSION:
            raise StateError(
                f"state store schema version {current} is newer than this program knows "
                f"({SCHEMA_VERSION}); upgrade imi-mailwatch"
            )

    def _migrate(self) -> None:
        """Bring the schema to SCHEMA_VERSION, one migration at a time, each atomic."""
        with self.transaction():
            self.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
            self.execute(f"CREATE TABLE IF NOT EXISTS {_TABLE_OF_VERSION} (version INTEGER)")
            current = self._version(missing_ok=True)
            self._check_version(current)
            for version in sorted(v for v in MIGRATIONS if v > current):
                with self.transaction():
                    for statement in migration_statements(version, "postgres"):
                        self.execute(statement)
                    self.execute(f"DELETE FROM {_TABLE_OF_VERSION}")
                    self.execute(f"INSERT INTO {_TABLE_OF_VERSION} VALUES (?)", (version,))
                log.info("state.migrated", version=version)

    @property
    def schema_version(self) -> int:
        return self._version(missing_ok=True)

    def check_usable(self) -> None:
        """For the daemon's start: StateError when the database takes no writes; a warning
        when it does not sort text by bytes (the C collation), as SQLite does."""
        rows = self.query(
            "SELECT current_setting('transaction_read_only') AS ro, datcollate FROM "
            "pg_database WHERE datname = current_database()"
        )
        if rows and rows[0]["ro"] == "on":
            raise StateError(
                f"state store {self.url} is read-only (a standby server, or a read-only "
                "user): the daemon must write it. Point state.url at the primary."
            )
        if rows and str(rows[0]["datcollate"]) not in _BYTE_ORDER:
            log.warning(
                "state.collation",
                collation=rows[0]["datcollate"],
                advice="create the database with LC_COLLATE 'C' (README, PostgreSQL)",
            )

    # -- connection and transactions --------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[DictRow]]:
        """The transaction's connection, or one from the pool for a single statement.

        A server that cannot be reached (a restart, a failover, the network) is a
        StateError: the message in hand waits for the mailbox loop's retry, it is never
        taken for a broken message.
        """
        with self._lock:
            if self._conn is not None:
                yield self._conn
                return
            try:
                with self._pool.connection() as conn:
                    self._conn = conn
                    try:
                        yield conn
                    finally:
                        self._conn = None
            except PoolTimeout:
                raise self._unavailable("no connection") from None
            except psycopg.OperationalError as exc:
                raise self._unavailable(_first_line(exc)) from None

    def _unavailable(self, detail: str) -> StateError:
        return StateError(f"state store {self.url} is unavailable: {detail}")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit of work. Nested uses join the outer transaction (savepoints).
        With a fence set, the outermost transaction passes it first (LeaseLostError)."""
        with self._lock:
            outermost = self._conn is None
            with self._connection() as conn, conn.transaction():
                if outermost and self.fence is not None:
                    try:
                        self.fence(conn)
                    except psycopg.OperationalError as exc:
                        raise self._unavailable(_first_line(exc)) from None
                yield

    @contextmanager
    def quick_transaction(self) -> Iterator[None]:
        """``transaction`` with synchronous_commit off when it is the outermost."""
        with self._lock:
            outermost = self._conn is None
            with self.transaction():
                if outermost and not self._read_only:
                    self.execute("SET LOCAL synchronous_commit = off")
                yield

    def execute(self, sql: str, params: Params = ()) -> _Written:
        """Run one statement (inside the caller's transaction, if any; with a fence set,
        a statement on its own is a fenced transaction of its own)."""
        with self._lock:
            if self._conn is None and self.fence is not None:
                with self.transaction():
                    return self._execute(sql, params)
            return self._execute(sql, params)

    def _execute(self, sql: str, params: Params) -> _Written:
        with self._connection() as conn:
            try:
                return _Written(conn.execute(pyformat(sql), params).rowcount)
            except psycopg.OperationalError as exc:
                raise self._unavailable(_first_line(exc)) from None

    def query(self, sql: str, params: Params = ()) -> list[SqlRow]:
        with self._connection() as conn:
            try:
                cur = conn.execute(pyformat(sql), params)
                return list(cur.fetchall()) if cur.description is not None else []
            except psycopg.OperationalError as exc:
                raise self._unavailable(_first_line(exc)) from None

    @contextmanager
    def copy_in(self, statement: str) -> Iterator[psycopg.Copy]:
        """``COPY ... FROM STDIN`` on the transaction's connection: write rows to it."""
        with self._connection() as conn, conn.cursor() as cur, cur.copy(statement) as copy:
            yield copy

    def table_names(self) -> list[str]:
        rows = self.query(
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type = 'BASE TABLE' AND table_name != ? ORDER BY 1",
            (_TABLE_OF_VERSION,),
        )
        return [str(r["name"]) for r in rows]

    def column_names(self, table: str) -> set[str]:
        rows = self.query(
            "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = ?",
            (table,),
        )
        return {str(r["name"]) for r in rows}

    def close(self) -> None:
        with self._lock:
            self._pool.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
