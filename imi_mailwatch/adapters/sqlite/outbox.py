"""The task outbox on SQLite (``ports.Outbox``): intents recorded with the alert, carried
out after the commit, each idempotent by its key."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from imi_mailwatch.adapters.rows import iso, outbox_item
from imi_mailwatch.adapters.sqlite.sql import SqlBase
from imi_mailwatch.records import OutboxItem

_ADMIN_COLUMNS = (
    "SELECT id, action, request_id, status, attempts, last_error, next_attempt_at, "
    "updated_at FROM outbox"
)


class SqliteOutbox(SqlBase):
    def outbox_add(
        self, request_id: str, action: str, idem_key: str, payload: Mapping[str, Any]
    ) -> bool:
        """Record an intent; False when one with this key exists already (idempotent)."""
        now = iso(self.now())
        cur = self.execute(
            "INSERT INTO outbox (request_id, action, idem_key, payload, created_at, "
            "updated_at) VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING",
            (request_id, action, idem_key, json.dumps(payload, ensure_ascii=False), now, now),
        )
        return cur.rowcount > 0

    def outbox_due(self, *, request_id: str | None = None, limit: int = 100) -> list[OutboxItem]:
        """Pending intents whose next attempt is due, oldest first; creates before annotations."""
        now = iso(self.now())
        sql = (
            "SELECT * FROM outbox WHERE status = 'pending' AND "
            "(next_attempt_at IS NULL OR next_attempt_at <= ?)"
        )
        params: list[Any] = [now]
        if request_id is not None:
            sql += " AND request_id = ?"
            params.append(request_id)
        sql += " ORDER BY id LIMIT ?"
        params.append(limit)
        return [outbox_item(r) for r in self.query(sql, tuple(params))]

    def outbox_held(self, *, request_id: str | None = None) -> list[OutboxItem]:
        """Intents held for a confirmation (routing.mode: propose), oldest first."""
        sql = "SELECT * FROM outbox WHERE status = 'held'"
        params: tuple[str, ...] = ()
        if request_id is not None:
            sql, params = sql + " AND request_id = ?", (request_id,)
        return [outbox_item(r) for r in self.query(sql + " ORDER BY id", params)]

    def outbox_release(self, item_id: int, payload: Mapping[str, Any]) -> None:
        """A held intent becomes pending and due at once, carrying ``payload``."""
        self.execute(
            "UPDATE outbox SET status = 'pending', next_attempt_at = NULL, payload = ?, "
            "updated_at = ? WHERE id = ? AND status = 'held'",
            (json.dumps(payload, ensure_ascii=False), iso(self.now()), item_id),
        )

    def outbox_waiting(self, *, after: datetime) -> list[OutboxItem]:
        """Pending intents whose next attempt lies after ``after`` (backing off)."""
        return [
            outbox_item(r)
            for r in self.query(
                "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at > ? ORDER BY id",
                (iso(after),),
            )
        ]

    def outbox_begin_attempt(self, item_id: int) -> int:
        """Count an attempt durably *before* calling the sink; returns the attempts so far."""
        with self.transaction():
            self.execute(
                "UPDATE outbox SET attempts = attempts + 1, updated_at = ? WHERE id = ?",
                (iso(self.now()), item_id),
            )
            row = self.query("SELECT attempts FROM outbox WHERE id = ?", (item_id,))
        return int(row[0]["attempts"])

    def outbox_finish(self, item_id: int, status: str, error: str | None = None) -> None:
        self.execute(
            "UPDATE outbox SET status = ?, last_error = ?, updated_at = ? WHERE id = ?",
            (status, error, iso(self.now()), item_id),
        )

    def outbox_defer(self, item_id: int, error: str, next_attempt_at: datetime) -> None:
        with self.transaction():
            self.execute(
                "UPDATE outbox SET last_error = ?, next_attempt_at = ?, updated_at = ? "
                "WHERE id = ?",
                (error, iso(next_attempt_at), iso(self.now()), item_id),
            )

    def outbox_counts(self) -> dict[str, int]:
        rows = self.query("SELECT status, count(*) AS n FROM outbox GROUP BY status")
        return {str(r["status"]): int(r["n"]) for r in rows}

    def outbox_clear_payload(self, item_id: int) -> None:
        """Drop the alert copy and memo an intent carried, once it is carried out."""
        self.execute("UPDATE outbox SET payload = '{}' WHERE id = ?", (item_id,))

    # -- for ops (outbox_admin) -----------------------------------------------------

    def outbox_rows(self, statuses: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        """Rows without their payload, oldest first; only these ``statuses`` if given."""
        sql, params = _ADMIN_COLUMNS, tuple(statuses or ())
        if statuses is not None:
            sql += f" WHERE status IN ({', '.join('?' for _ in statuses)})"
        return [dict(r) for r in self.query(sql + " ORDER BY id", params)]

    def outbox_row(self, row_id: int) -> dict[str, Any] | None:
        found = self.query(_ADMIN_COLUMNS + " WHERE id = ?", (row_id,))
        return dict(found[0]) if found else None

    def outbox_make_due(self, row_id: int) -> None:
        """Make a row pending again and due at once (its attempts are kept)."""
        self.execute(
            "UPDATE outbox SET status = 'pending', next_attempt_at = NULL, updated_at = ? "
            "WHERE id = ?",
            (iso(self.now()), row_id),
        )
