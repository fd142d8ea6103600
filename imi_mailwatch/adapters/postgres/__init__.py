"""The state store on PostgreSQL (``state.url``): the SQLite store's ports on a psycopg pool."""

from __future__ import annotations

from imi_mailwatch.adapters.postgres.store import PostgresStateStore
from imi_mailwatch.ports import Clock, StateStore

__all__ = ["PostgresStateStore"]


def _conforms(conninfo: str, clock: Clock) -> StateStore:
    """mypy holds the PostgreSQL store to every state port here."""
    return PostgresStateStore(conninfo, clock)
