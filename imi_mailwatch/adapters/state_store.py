"""The state store the configuration names: SQLite at ``state.path``, or PostgreSQL at
``state.url`` (with its password secret and verified TLS)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.adapters.sqlite.lock import InstanceLock
from imi_mailwatch.config import Config, StateConfig
from imi_mailwatch.errors import StateError
from imi_mailwatch.ports import Clock, Lease

if TYPE_CHECKING:  # psycopg loads only for a PostgreSQL state (memory, start-up time)
    from imi_mailwatch.adapters.postgres import PostgresStateStore
    from imi_mailwatch.adapters.postgres.lease import PostgresLease

DurableStore: TypeAlias = "SqliteStateStore | PostgresStateStore"

__all__ = [
    "DurableStore",
    "conninfo",
    "fence_store",
    "one_daemon_lock",
    "open_state_store",
    "standby_lease",
]

APPLICATION_NAME = "imi-mailwatch"


def conninfo(state: StateConfig) -> str:
    """The libpq connection string for ``state.url``: the password read from its secret,
    TLS with the server's certificate and name verified (``sslmode=verify-full``)."""
    from psycopg.conninfo import make_conninfo

    extra: dict[str, str] = {"application_name": APPLICATION_NAME}
    if state.password is not None:
        extra["password"] = state.password.reveal()
    if state.uses_tls:
        extra["sslmode"] = "verify-full"
        extra["sslrootcert"] = state.ca_file or "system"
    elif state.tls is False:
        extra["sslmode"] = "disable"
    return make_conninfo(state.url or "", **extra)


def open_state_store(cfg: Config, clock: Clock, *, read_only: bool = False) -> DurableStore:
    """Open (and create, migrate unless ``read_only``) the configured store; StateError
    when it cannot be used. The PostgreSQL password must have been read (``prepare``)."""
    if cfg.state.url is None:
        return SqliteStateStore(cfg.resolve(cfg.state.path), clock, read_only=read_only)
    from imi_mailwatch.adapters.postgres import PostgresStateStore

    return PostgresStateStore(
        conninfo(cfg.state),
        clock,
        read_only=read_only,
        connect_timeout=cfg.state.connect_timeout_seconds,
    )


def one_daemon_lock(cfg: Config) -> InstanceLock | None:
    """SQLite: the file lock beside the state file that keeps a second daemon off it
    (``acquire`` before the store is opened). PostgreSQL: None, the lease decides
    (``standby_lease``): a second daemon waits as a hot standby."""
    if cfg.state.url is None:
        return InstanceLock(cfg.resolve(cfg.state.path))
    return None


def standby_lease(cfg: Config) -> PostgresLease | None:
    """PostgreSQL: the lease that makes one daemon active and the others standbys."""
    if cfg.state.url is None:
        return None
    from imi_mailwatch.adapters.postgres.lease import PostgresLease

    return PostgresLease(
        conninfo(cfg.state),
        lease_seconds=cfg.state.lease_seconds,
        connect_timeout=cfg.state.connect_timeout_seconds,
    )


def fence_store(store: DurableStore, lease: Lease) -> None:
    """From now on every write of ``store`` passes the lease's fence (its fencing token)."""
    from imi_mailwatch.adapters.postgres import PostgresStateStore
    from imi_mailwatch.adapters.postgres.lease import PostgresLease

    if not isinstance(store, PostgresStateStore) or not isinstance(lease, PostgresLease):
        raise StateError("the standby's lease needs the PostgreSQL state store")
    store.fence = lease.check
