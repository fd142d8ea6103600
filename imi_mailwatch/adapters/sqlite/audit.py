"""The audit trail and component health on SQLite (``ports.AuditLog``, ``ports.HealthLog``)."""

from __future__ import annotations

import json
from typing import Any

from imi_mailwatch.adapters.rows import iso
from imi_mailwatch.adapters.sqlite.sql import SqlBase
from imi_mailwatch.clock import parse_ts
from imi_mailwatch.records import HealthRecord


class SqliteAudit(SqlBase):
    def audit(self, event: str, request_id: str | None = None, **detail: Any) -> None:
        """Append to the audit trail. ``detail`` holds no personal data or bodies."""
        self.execute(
            "INSERT INTO audit (at, request_id, action, detail) VALUES (?,?,?,?)",
            (
                iso(self.now()),
                request_id,
                event,
                json.dumps(detail, ensure_ascii=False, default=str),
            ),
        )

    def audit_trail(self, request_id: str) -> list[dict[str, Any]]:
        rows = self.query(
            "SELECT at, action, detail FROM audit WHERE request_id = ? ORDER BY id", (request_id,)
        )
        return [dict(r) for r in rows]

    def last_audit_at(self, action: str) -> str | None:
        """When ``action`` about no request was last audited (ISO), if ever."""
        rows = self.query(
            "SELECT max(at) AS at FROM audit WHERE request_id IS NULL AND action = ?", (action,)
        )
        return str(rows[0]["at"]) if rows and rows[0]["at"] else None

    def record_health(self, component: str, ok: bool, error: str | None = None) -> None:
        """Remember whether a component (mailbox:NAME, task_sink, notifier, rules) works."""
        now = iso(self.now())
        with self.transaction():
            if ok:
                self.execute(
                    "INSERT INTO health (component, ok, last_ok_at, failing_since, error, "
                    "updated_at) VALUES (?, 1, ?, NULL, NULL, ?) ON CONFLICT (component) DO "
                    "UPDATE SET ok = 1, last_ok_at = excluded.last_ok_at, failing_since = NULL, "
                    "error = NULL, updated_at = excluded.updated_at",
                    (component, now, now),
                )
            else:
                self.execute(
                    "INSERT INTO health (component, ok, last_ok_at, failing_since, error, "
                    "updated_at) VALUES (?, 0, NULL, ?, ?, ?) ON CONFLICT (component) DO "
                    "UPDATE SET ok = 0, failing_since = coalesce(health.failing_since, "
                    "excluded.failing_since), error = excluded.error, "
                    "updated_at = excluded.updated_at",
                    (component, now, error, now),
                )

    def health(self) -> list[HealthRecord]:
        return [
            HealthRecord(
                component=r["component"],
                ok=bool(r["ok"]),
                last_ok_at=parse_ts(r["last_ok_at"]),
                failing_since=parse_ts(r["failing_since"]),
                error=r["error"],
                updated_at=parse_ts(r["updated_at"]) or self.now(),
            )
            for r in self.query("SELECT * FROM health ORDER BY component")
        ]
