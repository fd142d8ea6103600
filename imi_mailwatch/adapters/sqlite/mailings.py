"""Scheduled mails and the quarterly report's facts on SQLite
(``ports.MailingLog``, ``ports.StatisticsStore``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from imi_mailwatch.adapters.desk_rows import desk_state
from imi_mailwatch.adapters.rows import iso, request_facts
from imi_mailwatch.adapters.sqlite.notices import defer_unsent
from imi_mailwatch.adapters.sqlite.requests import _request
from imi_mailwatch.adapters.sqlite.sql import SqlBase
from imi_mailwatch.records import QuarterFacts


class SqliteMailings(SqlBase):
    def mailing_claim(self, key: str, message_id: str) -> bool:
        cur = self.execute(
            "INSERT INTO mailings (key, message_id, created_at) VALUES (?,?,?) "
            "ON CONFLICT DO NOTHING",
            (key, message_id, iso(self.now())),
        )
        return cur.rowcount > 0

    def mailing(self, key: str) -> dict[str, Any] | None:
        rows = self.query(
            "SELECT key, message_id, attempts, next_attempt_at, last_error, sent_at "
            "FROM mailings WHERE key = ?",
            (key,),
        )
        return dict(rows[0]) if rows else None

    def mailing_defer(self, key: str, attempts: int, next_at: datetime, error: str | None) -> None:
        defer_unsent(self, "mailings", "key", key, attempts=attempts, next_at=next_at, error=error)

    def mailing_sent(self, key: str) -> None:
        self.execute(
            "UPDATE mailings SET sent_at = coalesce(sent_at, ?) WHERE key = ?",
            (iso(self.now()), key),
        )

    def request_facts(self, since: datetime, until: datetime) -> list[QuarterFacts]:
        requests = [
            _request(r)
            for r in self.query(
                "SELECT * FROM requests WHERE created_at >= ? AND created_at < ? "
                "ORDER BY created_at, request_id",
                (iso(since), iso(until)),
            )
        ]
        alerts: dict[str, list[Any]] = {r.request_id: [] for r in requests}
        desks: dict[str, Any] = {}
        if requests:
            for a in self.query(
                "SELECT a.request_id, a.alert_type, a.sent_at, a.recorded_at FROM alerts a "
                "JOIN requests r ON r.request_id = a.request_id "
                "WHERE r.created_at >= ? AND r.created_at < ? ORDER BY a.id",
                (iso(since), iso(until)),
            ):
                alerts[a["request_id"]].append(a)
            desks = {
                d["request_id"]: d
                for d in self.query(
                    "SELECT d.* FROM desk_state d JOIN requests r ON r.request_id = d.request_id "
                    "WHERE r.created_at >= ? AND r.created_at < ?",
                    (iso(since), iso(until)),
                )
            }
        return [
            request_facts(
                r, alerts[r.request_id], desk_state(r.request_id, desks.get(r.request_id))
            )
            for r in requests
        ]

    def rejected_between(self, since: datetime, until: datetime) -> int:
        rows = self.query(
            "SELECT count(*) AS n FROM quarantine WHERE kind = 'rejected' "
            "AND created_at >= ? AND created_at < ?",
            (iso(since), iso(until)),
        )
        return int(rows[0]["n"])
