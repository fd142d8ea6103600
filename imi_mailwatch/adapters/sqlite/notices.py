"""Notices to the beheerders on SQLite (``ports.NoticeStore``): once per key, sent in digests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from imi_mailwatch.adapters.rows import iso
from imi_mailwatch.adapters.sqlite.sql import SqlBase


class SqliteNotices(SqlBase):
    def notice_add(self, key: str, kind: str, text: str) -> bool:
        """Keep a notice; False when one with this key exists already (idempotent)."""
        cur = self.execute(
            "INSERT INTO notices (key, kind, text, created_at) VALUES (?,?,?,?) "
            "ON CONFLICT DO NOTHING",
            (key, kind, text, iso(self.now())),
        )
        return cur.rowcount > 0

    def notice_forget(self, key: str) -> None:
        """Forget a notice, so that the same occasion is reported again."""
        self.execute("DELETE FROM notices WHERE key = ?", (key,))

    def notices_pending(self) -> list[dict[str, Any]]:
        """Unsent notices, oldest first, with their digest's bookkeeping."""
        rows = self.query(
            "SELECT key, kind, text, created_at, message_id, attempts, next_attempt_at, "
            "last_error FROM notices WHERE sent_at IS NULL ORDER BY created_at, key"
        )
        return [dict(r) for r in rows]

    def notices_pending_kinds(self) -> dict[str, str]:
        rows = self.query(
            "SELECT kind, min(created_at) AS oldest FROM notices WHERE sent_at IS NULL "
            "GROUP BY kind"
        )
        return {str(r["kind"]): str(r["oldest"]) for r in rows}

    def notices_pending_bound(self) -> dict[str, Any] | None:
        rows = self.query(
            "SELECT message_id, attempts, next_attempt_at, last_error FROM notices "
            "WHERE sent_at IS NULL AND message_id IS NOT NULL ORDER BY created_at, key LIMIT 1"
        )
        return dict(rows[0]) if rows else None

    def notices_last_sent(self) -> str | None:
        """When a notice was last sent (ISO), if ever."""
        rows = self.query("SELECT max(sent_at) AS at FROM notices")
        return str(rows[0]["at"]) if rows and rows[0]["at"] else None

    def notices_bind(self, keys: list[str], message_id: str) -> None:
        """Bind pending notices to the Message-ID of the mail that will carry them."""
        for key in keys:
            self.execute("UPDATE notices SET message_id = ? WHERE key = ?", (message_id, key))

    def notices_defer(
        self, message_id: str, attempts: int, next_at: datetime, error: str | None
    ) -> None:
        defer_unsent(self, "notices", "message_id", message_id, attempts=attempts,
                     next_at=next_at, error=error)  # fmt: skip

    def notices_sent(self, message_id: str) -> None:
        self.execute(
            "UPDATE notices SET sent_at = ? WHERE message_id = ?", (iso(self.now()), message_id)
        )

    # -- occasions without a notice yet ---------------------------------------------

    def parked_unnoticed(self) -> list[dict[str, Any]]:
        """Parked outbox rows (request_id, last_error) without a ``parked:`` notice."""
        return self._rows(
            "SELECT request_id, last_error FROM outbox o WHERE status = 'parked' "
            "AND NOT EXISTS (SELECT 1 FROM notices WHERE key = 'parked:' || o.request_id)"
        )

    def default_routed_unnoticed(self) -> list[dict[str, Any]]:
        """Requests on the default route (request_id, team_name) without a notice."""
        return self._rows(
            "SELECT request_id, team_name FROM requests r WHERE is_default = 1 "
            "AND NOT EXISTS (SELECT 1 FROM notices WHERE key = 'default:' || r.request_id)"
        )

    def pending_unnoticed(self, before: datetime) -> list[dict[str, Any]]:
        """Pending requests (request_id) first recorded before ``before``, without a notice."""
        rows = self.query(
            "SELECT request_id FROM requests r WHERE team_key IS NULL AND outgoing = 0 "
            "AND created_at < ? "
            "AND NOT EXISTS (SELECT 1 FROM notices WHERE key = 'pending:' || r.request_id)",
            (iso(before),),
        )
        return [dict(r) for r in rows]

    def failed_followups_unnoticed(self) -> list[dict[str, Any]]:
        """Failed follow-ups (id, request_id, kind, last_error) without a notice."""
        return self._rows(
            "SELECT id, request_id, kind, last_error FROM followups f WHERE status = 'failed' "
            "AND NOT EXISTS (SELECT 1 FROM notices WHERE key = 'followup:' || f.id)"
        )

    def _rows(self, sql: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.query(sql)]


def defer_unsent(
    db: SqlBase,
    table: str,
    column: str,
    value: str,
    *,
    attempts: int,
    next_at: datetime,
    error: str | None,
) -> None:
    """Note a failed attempt at an unsent mail (the notices of one digest, a scheduled
    mail): its attempts, its next attempt and why; a mail sent meanwhile stays as it is."""
    db.execute(
        f"UPDATE {table} SET attempts = ?, next_attempt_at = ?, last_error = ? "
        f"WHERE {column} = ? AND sent_at IS NULL",
        (attempts, iso(next_at), error, value),
    )
