"""Messages seen and per-folder cursors on SQLite (``ports.MessageLog``, ``ports.CursorStore``)."""

from __future__ import annotations

from typing import Any

from imi_mailwatch.adapters.rows import iso
from imi_mailwatch.adapters.rows import message_record as _message
from imi_mailwatch.adapters.sqlite.sql import SqlBase
from imi_mailwatch.records import MessageEntry, MessageRecord


class SqliteMessages(SqlBase):
    # -- cursors (ports.CursorStore) ---------------------------------------------------

    def get_cursor(self, source: str, folder: str) -> str | None:
        rows = self.query(
            "SELECT value FROM cursors WHERE source = ? AND folder = ?", (source, folder)
        )
        return str(rows[0]["value"]) if rows else None

    def set_cursor(self, source: str, folder: str, value: str) -> None:
        with self.transaction():
            self.execute(
                "INSERT INTO cursors (source, folder, value, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (source, folder) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                (source, folder, value, iso(self.now())),
            )

    # -- messages ------------------------------------------------------------------------

    def find_message(
        self, source: str, message_id: str | None, content_hash: str
    ) -> MessageRecord | None:
        rows = self.query(
            "SELECT * FROM messages WHERE source = ? AND message_id = ? AND content_hash = ?",
            (source, message_id or "", content_hash),
        )
        return _message(rows[0]) if rows else None

    def record_message(self, entry: MessageEntry) -> int:
        e = entry
        rows = self.query(
            "INSERT INTO messages (source, ref, message_id, content_hash, kind, disposition, "
            "reason, request_id, alert_type, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?) "
            "RETURNING id",
            (e.source, e.ref, e.message_id or "", e.content_hash, e.kind.value,
             e.disposition.value, e.reason, e.request_id, e.alert_type, iso(self.now())),
        )  # fmt: skip
        return int(rows[0]["id"])

    def mark_acknowledged(self, row_id: int) -> None:
        """Committed without waiting for the disk (``quick_transaction``): the mark survives
        a killed process, which is what it guards against, at no flush per message."""
        with self.quick_transaction():
            self.execute(
                "UPDATE messages SET acknowledged_at = ? WHERE id = ? AND acknowledged_at IS NULL",
                (iso(self.now()), row_id),
            )

    def mark_acknowledged_many(self, row_ids: list[int]) -> None:
        """``mark_acknowledged`` for several records in one transaction."""
        with self.transaction():
            now = iso(self.now())
            for row_id in row_ids:
                self.execute(
                    "UPDATE messages SET acknowledged_at = ? "
                    "WHERE id = ? AND acknowledged_at IS NULL",
                    (now, row_id),
                )

    def forget_message(self, row_id: int) -> None:
        """Remove a message record, so the message is handled again when seen again."""
        self.execute("DELETE FROM messages WHERE id = ?", (row_id,))

    def message_counts(self) -> dict[str, int]:
        rows = self.query("SELECT disposition, count(*) AS n FROM messages GROUP BY disposition")
        return {str(r["disposition"]): int(r["n"]) for r in rows}

    def message_log(self) -> list[dict[str, Any]]:
        """Every message record in the order seen (ref, kind, disposition, reason, ids)."""
        rows = self.query(
            "SELECT ref, kind, disposition, reason, request_id, alert_type FROM messages "
            "ORDER BY id"
        )
        return [dict(r) for r in rows]
