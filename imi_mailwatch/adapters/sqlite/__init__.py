"""The state store on SQLite: one module per port, composed into ``SqliteStateStore``."""

from __future__ import annotations

from imi_mailwatch.adapters.sqlite.schema import MIGRATIONS, SCHEMA_VERSION, migration_sql
from imi_mailwatch.adapters.sqlite.store import SqliteStateStore
from imi_mailwatch.ports import Clock, StateStore

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "SqliteStateStore", "migration_sql"]


def _conforms(clock: Clock) -> StateStore:
    """mypy holds the SQLite store to every state port here."""
    return SqliteStateStore(":memory:", clock)
