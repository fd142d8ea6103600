"""Quarantined and rejected mail on SQLite (``ports.QuarantineStore``)."""

from __future__ import annotations

from typing import Any

from imi_mailwatch.adapters.rows import iso, quarantine_record
from imi_mailwatch.adapters.sqlite.sql import SqlBase
from imi_mailwatch.records import QuarantineEntry, QuarantineRecord


class SqliteQuarantine(SqlBase):
    def quarantine_add(self, message_row: int, entry: QuarantineEntry) -> None:
        e = entry
        self.execute(
            "INSERT INTO quarantine (message_row, source, ref, kind, reason, "
            "request_id, raw, created_at) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
            (message_row, e.source, e.ref, e.kind, e.reason, e.request_id, e.raw,
             iso(self.now())),
        )  # fmt: skip

    def quarantine(self, *, unresolved_only: bool = True) -> list[QuarantineRecord]:
        sql = (
            "SELECT id, message_row, source, ref, kind, reason, request_id, raw IS NOT NULL "
            "AS has_raw, created_at, reported_at, resolved_at FROM quarantine"
        )
        if unresolved_only:
            sql += " WHERE resolved_at IS NULL"
        rows = self.query(sql + " ORDER BY id")
        return [quarantine_record(r, has_raw=bool(r["has_raw"])) for r in rows]

    def quarantine_raw(self, quarantine_id: int) -> bytes | None:
        rows = self.query("SELECT raw FROM quarantine WHERE id = ?", (quarantine_id,))
        return bytes(rows[0]["raw"]) if rows and rows[0]["raw"] is not None else None

    def quarantine_resolve(self, quarantine_id: int) -> None:
        """Mark an item resolved now, unless it was resolved before (its clock stays)."""
        self.execute(
            "UPDATE quarantine SET resolved_at = coalesce(resolved_at, ?) WHERE id = ?",
            (iso(self.now()), quarantine_id),
        )

    def quarantine_unreported(self) -> list[dict[str, Any]]:
        """Unresolved items not yet told to the beheerders (no raw copy)."""
        rows = self.query(
            "SELECT id, source, ref, kind, reason, request_id FROM quarantine "
            "WHERE resolved_at IS NULL AND reported_at IS NULL ORDER BY id"
        )
        return [dict(r) for r in rows]

    def quarantine_reported(self, quarantine_id: int) -> None:
        self.execute(
            "UPDATE quarantine SET reported_at = ? WHERE id = ?", (iso(self.now()), quarantine_id)
        )

    def quarantine_counts(self) -> dict[str, int]:
        """Unresolved items per kind."""
        rows = self.query(
            "SELECT kind, count(*) AS n FROM quarantine WHERE resolved_at IS NULL GROUP BY kind"
        )
        return {str(r["kind"]): int(r["n"]) for r in rows}
