"""One migration list for both engines: the same schema, the same one-way rule."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest
from structlog.testing import capture_logs

from imi_mailwatch.adapters.postgres import PostgresStateStore
from imi_mailwatch.adapters.sqlite import MIGRATIONS, SCHEMA_VERSION, SqliteStateStore
from imi_mailwatch.adapters.sqlite.schema import migration_statements
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.errors import StateError


def test_both_engines_build_the_same_tables_and_columns(postgres_url: str, tmp_path: Path) -> None:
    """Every migration, run by each engine, gives the same tables with the same columns."""
    lite = SqliteStateStore(tmp_path / "s.sqlite3", FakeClock())
    pg = PostgresStateStore(postgres_url, FakeClock())
    try:
        assert lite.table_names() == pg.table_names()
        for table in lite.table_names():
            assert lite.column_names(table) == pg.column_names(table), table
        assert lite.schema_version == pg.schema_version == SCHEMA_VERSION
    finally:
        lite.close()
        pg.close()


def test_an_older_postgresql_state_is_migrated_forward(postgres_url: str) -> None:
    """A database at an earlier version gets the later migrations, each logged."""
    older = sorted(MIGRATIONS)[-2]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        for version in sorted(MIGRATIONS)[:-1]:
            for statement in migration_statements(version, "postgres"):
                conn.execute(statement.encode())
        conn.execute("CREATE TABLE schema_version (version INTEGER)")
        conn.execute(f"INSERT INTO schema_version VALUES ({older})".encode())
    with capture_logs() as logs:
        store = PostgresStateStore(postgres_url, FakeClock())
    assert store.schema_version == SCHEMA_VERSION
    assert [e["version"] for e in logs if e["event"] == "state.migrated"] == [SCHEMA_VERSION]
    store.close()


def test_a_newer_postgresql_state_is_refused(postgres_url: str) -> None:
    """One-way: a state written by a newer version is refused, read-only opens included."""
    PostgresStateStore(postgres_url, FakeClock()).close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"UPDATE schema_version SET version = {SCHEMA_VERSION + 1}".encode())
    for read_only in (False, True):
        with pytest.raises(StateError, match="newer than this program knows"):
            PostgresStateStore(postgres_url, FakeClock(), read_only=read_only)


def test_two_daemons_starting_at_once_migrate_one_after_the_other(postgres_url: str) -> None:
    """Concurrent first starts on one empty database: both open, the schema made once."""
    opened: list[PostgresStateStore] = []
    failed: list[BaseException] = []

    def start() -> None:
        try:
            opened.append(PostgresStateStore(postgres_url, FakeClock()))
        except BaseException as exc:
            failed.append(exc)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failed == [] and len(opened) == 2
    assert all(s.schema_version == SCHEMA_VERSION for s in opened)
    for s in opened:
        s.close()


def test_a_missing_state_is_not_created_by_a_read_only_open(postgres_url: str) -> None:
    """status, history and health never create the schema: "no state store at URL"."""
    with pytest.raises(StateError, match="no state store at"):
        PostgresStateStore(postgres_url, FakeClock(), read_only=True)


def test_the_postgresql_store_runs_no_sqlite_connection_code() -> None:
    """Class: a port module built on SqliteBase instead of SqlBase would put SQLite's
    execute and transaction above PostgreSQL's in the store's method order."""
    from imi_mailwatch.adapters.postgres.base import PostgresBase
    from imi_mailwatch.adapters.sqlite.base import SqliteBase

    assert SqliteBase not in PostgresStateStore.__mro__
    assert PostgresStateStore.execute is PostgresBase.execute
    assert PostgresStateStore.transaction is PostgresBase.transaction
