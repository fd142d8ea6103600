"""Scheduled mails and the quarterly report's facts in memory
(``ports.MailingLog``, ``ports.StatisticsStore``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from imi_mailwatch.adapters.desk_rows import desk_state
from imi_mailwatch.adapters.memory_state.base import UNSENT, MemoryBase
from imi_mailwatch.adapters.rows import iso as _iso
from imi_mailwatch.adapters.rows import request_facts
from imi_mailwatch.records import QuarterFacts

_KEYS = ("key", "message_id", "attempts", "next_attempt_at", "last_error", "sent_at")


class MemoryMailings(MemoryBase):
    def mailing_claim(self, key: str, message_id: str) -> bool:
        return self._insert_once(self._t.mailings, key, **{**UNSENT, "message_id": message_id},
                                 key=key, created_at=_iso(self.now()))  # fmt: skip

    def mailing(self, key: str) -> dict[str, Any] | None:
        row = self._t.mailings.get(key)
        return None if row is None else {k: row[k] for k in _KEYS}

    def mailing_defer(self, key: str, attempts: int, next_at: datetime, error: str | None) -> None:
        with self.transaction():
            row = self._t.mailings.get(key)
            if row is not None and row["sent_at"] is None:
                row.update(attempts=attempts, next_attempt_at=_iso(next_at), last_error=error)

    def mailing_sent(self, key: str) -> None:
        with self.transaction():
            row = self._t.mailings.get(key)
            if row is not None and row["sent_at"] is None:
                row["sent_at"] = _iso(self.now())

    def request_facts(self, since: datetime, until: datetime) -> list[QuarterFacts]:
        found = sorted(
            (r for r in self._t.requests.values() if since <= r.created_at < until),
            key=lambda r: (r.created_at, r.request_id),
        )
        out = []
        for r in found:
            alerts = [
                a for (rid, _), a in sorted(self._t.alerts.items(), key=lambda kv: kv[1]["id"])
                if rid == r.request_id
            ]  # fmt: skip
            out.append(
                request_facts(
                    r, alerts, desk_state(r.request_id, self._t.desk_state.get(r.request_id))
                )
            )
        return out

    def rejected_between(self, since: datetime, until: datetime) -> int:
        low, high = _iso(since), _iso(until)
        return sum(
            1
            for q in self._t.quarantine.values()
            if q["kind"] == "rejected" and low <= q["created_at"] < high
        )
