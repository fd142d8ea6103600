"""One daemon per PostgreSQL state, until the standby lease: a session advisory lock.

Like the SQLite store's lock file, ``SessionLock`` keeps a second daemon from
starting on the same state by mistake (two daemons would double the work): the
daemon holds ``pg_try_advisory_lock`` on a connection of its own for as long as it
runs, named after its host and pid (``application_name``), and a second daemon
stops with a StateError naming the holder. The server lets go when that
connection ends, a killed daemon's included. It is a guard against a double
start, not a lease: it does not fence a daemon cut off from the database.
"""

from __future__ import annotations

import contextlib
import os
import socket

import psycopg

from imi_mailwatch.adapters.postgres.base import describe
from imi_mailwatch.errors import StateError

# pg_advisory_lock key of "the daemon of this state" (another than the migrations')
DAEMON_LOCK = 0x1A1_DAE0


class SessionLock:
    """The daemon lock of one PostgreSQL state; ``acquire`` it before opening the store."""

    def __init__(self, conninfo: str, *, connect_timeout: float = 30.0) -> None:
        self._conninfo = conninfo
        self._timeout = connect_timeout
        self.url = describe(conninfo)
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    def acquire(self) -> None:
        """Take the lock, or raise StateError naming the daemon that holds it."""
        me = f"imi-mailwatch daemon pid {os.getpid()} on {socket.gethostname()}"[:63]
        try:
            conn = psycopg.connect(
                self._conninfo,
                autocommit=True,
                application_name=me,
                connect_timeout=max(1, int(self._timeout)),
            )
        except psycopg.Error as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise StateError(f"state store {self.url} is unavailable: {first}") from None
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (DAEMON_LOCK,)).fetchone()
        if row is not None and row[0] is True:
            self._conn = conn
            return
        holder = conn.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objid = %s LIMIT 1",
            (DAEMON_LOCK & 0xFFFFFFFF,),
        ).fetchone()
        conn.close()
        who = str(holder[0]) if holder and holder[0] else "another imi-mailwatch daemon"
        raise StateError(
            f"another imi-mailwatch daemon ({who}) runs on the state store {self.url}: "
            "one daemon per state. Stop that one first, or give this one its own database."
        )

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
            self._conn = None
