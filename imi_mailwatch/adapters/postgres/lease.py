"""The hot standby's lease on PostgreSQL: a lease row with an expiry and a fencing token.

Two daemons configured alike share one database. The one that holds the lease
row ``imi_lease`` (name ``daemon``) does the work: every mailbox, the task
outbox, the follow-ups, reports and the desk's mails. The other waits and tries
again every few seconds. The row says who holds it, until when (the server's
clock: the nodes' clocks do not matter) and its fencing token, which grows by one
at every takeover.

- ``acquire`` takes the row when it is free or expired, with the next token.
- ``renew`` moves the expiry on while the token is still this node's.
- ``release`` (a clean stop) expires it at once: the standby takes over at its
  next try instead of waiting for the expiry.
- ``check`` is the fence. The state store calls it at the start of every
  transaction that writes (``PostgresBase.fence``), on that transaction's own
  connection: it reads the row ``FOR SHARE`` and raises LeaseLostError unless the
  token is still this node's. The share lock holds a takeover back until that
  transaction has ended, so a daemon whose lease was taken over cannot commit
  anything after the takeover, least of all the claim of an outbox intent
  (a Corsa document) or of a follow-up (a reminder).

A node also records its role in ``imi_node`` (``active`` or ``standby``, and
when it last said so) for ``imi-mailwatch health``. Both tables belong to the
lease rather than to the migration list: they hold no state worth a migration,
and SQLite, which has no standby, never needs them.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from datetime import datetime
from typing import Any

import psycopg
import structlog

from imi_mailwatch.adapters.postgres.base import describe
from imi_mailwatch.errors import LeaseLostError, StateError

log = structlog.get_logger(__name__)

LEASE_NAME = "daemon"
_TABLES = (
    "CREATE TABLE IF NOT EXISTS imi_lease (name TEXT PRIMARY KEY, holder TEXT NOT NULL, "
    "token BIGINT NOT NULL, expires_at TIMESTAMPTZ NOT NULL, acquired_at TIMESTAMPTZ NOT NULL)",
    "CREATE TABLE IF NOT EXISTS imi_node (node TEXT PRIMARY KEY, role TEXT NOT NULL, "
    "token BIGINT, seen_at TIMESTAMPTZ NOT NULL)",
)
# the first takeover gets token 1; a takeover gets the old token + 1 (never reused)
_ACQUIRE = (
    "INSERT INTO imi_lease AS l (name, holder, token, expires_at, acquired_at) "
    "VALUES (%(name)s, %(holder)s, 1, now() + make_interval(secs => %(secs)s), now()) "
    "ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, token = l.token + 1, "
    "expires_at = EXCLUDED.expires_at, acquired_at = now() "
    "WHERE l.expires_at < now() RETURNING token"
)
_RENEW = (
    "UPDATE imi_lease SET expires_at = now() + make_interval(secs => %(secs)s) "
    "WHERE name = %(name)s AND token = %(token)s AND holder = %(holder)s RETURNING token"
)
_FENCE = (
    "SELECT set_config('idle_in_transaction_session_timeout', %s, true), "
    "(SELECT token FROM imi_lease WHERE name = %s FOR SHARE) AS token"
)


def node_name() -> str:
    """This process: host and pid (a restarted daemon is a new holder)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:63]


class PostgresLease:
    """The lease of one PostgreSQL state, on a connection of its own (autocommit).

    Thread-safe: the keeper renews while the store's threads call ``check``.
    """

    def __init__(
        self,
        conninfo: str,
        *,
        lease_seconds: float,
        connect_timeout: float = 30.0,
        node: str | None = None,
        name: str = LEASE_NAME,
    ) -> None:
        self._conninfo = conninfo
        self._timeout = connect_timeout
        self.url = describe(conninfo)
        self.lease_seconds = lease_seconds
        self.node = node or node_name()
        self.name = name
        self.token: int | None = None
        self._valid_until = 0.0  # monotonic: the lease is surely ours until then
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[tuple[Any, ...]] | None = None

    # -- the lease connection -------------------------------------------------------

    def _connection(self) -> psycopg.Connection[tuple[Any, ...]]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            wait = max(1, int(min(self._timeout, self.lease_seconds)))
            # a statement that hangs (the network is gone) fails within the lease
            ms = max(1000, int(self.lease_seconds * 1000 / 2))
            try:
                conn = psycopg.connect(
                    self._conninfo,
                    autocommit=True,
                    connect_timeout=wait,
                    application_name=f"imi-mailwatch lease {self.node}"[:63],
                    options=f"-c statement_timeout={ms} -c lock_timeout={ms}",
                    keepalives=1,
                    keepalives_idle=max(1, int(self.lease_seconds / 3)),
                    keepalives_interval=1,
                    keepalives_count=3,
                )
            except psycopg.Error as exc:
                raise StateError(f"state store {self.url} is unavailable: {_first(exc)}") from None
            for statement in _TABLES:
                with contextlib.suppress(psycopg.errors.UniqueViolation):
                    conn.execute(statement)  # two nodes creating at once: one wins
            self._conn = conn
        return self._conn

    def _run(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                cur = self._connection().execute(sql, params)
                return list(cur.fetchall()) if cur.description is not None else []
            except psycopg.Error as exc:
                if self._conn is not None:
                    with contextlib.suppress(psycopg.Error):
                        self._conn.close()
                    self._conn = None
                raise StateError(f"state store {self.url} is unavailable: {_first(exc)}") from None

    # -- the lease ------------------------------------------------------------------------

    def acquire(self) -> int | None:
        """Take the lease when it is free or expired; its new fencing token, or None."""
        started = time.monotonic()
        rows = self._run(
            _ACQUIRE, {"name": self.name, "holder": self.node, "secs": self.lease_seconds}
        )
        if not rows:
            return None
        self.token = int(rows[0][0])
        self._valid_until = started + self.lease_seconds
        return self.token

    def renew(self) -> bool:
        """Move the expiry on; False when the lease is no longer this node's (taken over).
        StateError when the database cannot be reached (the lease may still be ours)."""
        if self.token is None:
            return False
        started = time.monotonic()
        rows = self._run(
            _RENEW,
            {
                "name": self.name,
                "holder": self.node,
                "token": self.token,
                "secs": self.lease_seconds,
            },
        )
        if not rows:
            return False
        self._valid_until = started + self.lease_seconds
        return True

    def release(self) -> None:
        """Give the lease up at once (a clean stop); errors are ignored: it expires anyway."""
        if self.token is not None:
            with contextlib.suppress(StateError):
                self._run(
                    "UPDATE imi_lease SET expires_at = now() - interval '1 second' "
                    "WHERE name = %(name)s AND token = %(token)s",
                    {"name": self.name, "token": self.token},
                )
                self._run("DELETE FROM imi_node WHERE node = %(node)s", {"node": self.node})
        self.token = None
        self._valid_until = 0.0
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(psycopg.Error):
                    self._conn.close()
                self._conn = None

    def seconds_left(self) -> float:
        """How long the lease is surely this node's (0: it may not be)."""
        return max(0.0, self._valid_until - time.monotonic()) if self.token is not None else 0.0

    def record_role(self, role: str) -> None:
        """Say in ``imi_node`` that this node is ``active`` or ``standby`` (for ``health``)."""
        self._run(
            "INSERT INTO imi_node (node, role, token, seen_at) VALUES "
            "(%(node)s, %(role)s, %(token)s, now()) ON CONFLICT (node) DO UPDATE SET "
            "role = EXCLUDED.role, token = EXCLUDED.token, seen_at = EXCLUDED.seen_at",
            {"node": self.node, "role": role, "token": self.token},
        )

    # -- the fence ------------------------------------------------------------------------

    def check(self, conn: psycopg.Connection[Any]) -> None:
        """The fence, on the connection of a transaction that writes: LeaseLostError unless
        the lease is still this node's; the row stays share-locked until that transaction
        ends. A transaction left idle (its daemon cut off) is ended by the server."""
        token = self.token
        if token is None or self.seconds_left() <= 0:
            raise LeaseLostError(f"this node ({self.node}) does not hold the lease")
        idle = f"{max(1000, int(self.lease_seconds * 1000 / 2))}ms"
        row = conn.execute(_FENCE, (idle, self.name)).fetchone()
        found = None if row is None else _value(row, "token", 1)
        if found != token:
            raise LeaseLostError(
                f"the lease of this node ({self.node}, token {token}) was taken over "
                f"(token now {found})"
            )


def lease_nodes(store: Any, *, lease_seconds: float) -> list[dict[str, Any]]:
    """Every node seen within the last five minutes with its role, for ``health``
    (``store``: an open PostgreSQL state store); empty before any lease. ``active``: the
    lease holder; ``standby``: a node that said so within two leases; ``gone``: a node not
    heard from since (killed, or cut off)."""
    found = store.query("SELECT to_regclass('imi_node') IS NOT NULL AS ok")
    if not found or not found[0]["ok"]:
        return []
    rows = store.query(
        "SELECT n.node, n.role, n.token, l.expires_at, "
        "extract(epoch FROM now() - n.seen_at) AS age_s, "
        "coalesce(l.holder = n.node AND l.expires_at > now(), false) AS holds "
        "FROM imi_node n LEFT JOIN imi_lease l ON l.name = ? "
        "WHERE n.seen_at > now() - interval '5 minutes' ORDER BY n.node",
        (LEASE_NAME,),
    )
    nodes = []
    for r in rows:
        age = float(r["age_s"])
        if r["holds"]:
            role = "active"
        elif r["role"] == "standby" and age <= 2 * lease_seconds:
            role = "standby"
        else:
            role = "gone"
        nodes.append(
            {
                "node": str(r["node"]),
                "role": role,
                "token": r["token"],
                "seen_s_ago": round(age, 1),
                "lease_expires_at": _iso(r["expires_at"]) if r["holds"] else None,
            }
        )
    return nodes


def _iso(value: object) -> str | None:
    return value.isoformat(timespec="seconds") if isinstance(value, datetime) else None


def _value(row: Any, key: str, index: int) -> object:
    return row[key] if isinstance(row, dict) else row[index]


def _first(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
