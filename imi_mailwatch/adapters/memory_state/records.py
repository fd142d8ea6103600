"""Cursors, messages and requests in memory."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from imi_mailwatch.adapters.memory_state.base import (
    _FINAL,
    MemoryBase,
    _replace,
)
from imi_mailwatch.adapters.rows import iso as _iso
from imi_mailwatch.adapters.rows import message_record as _message
from imi_mailwatch.model import TaskStatus
from imi_mailwatch.records import (
    AlertEntry,
    MessageEntry,
    MessageRecord,
    RequestRecord,
)


class MemoryRecords(MemoryBase):
    # -- cursors --------------------------------------------------------------------------

    def get_cursor(self, source: str, folder: str) -> str | None:
        return self._t.cursors.get((source, folder))

    def set_cursor(self, source: str, folder: str, value: str) -> None:
        with self.transaction():
            self._t.cursors[(source, folder)] = value

    # -- messages -------------------------------------------------------------------------

    def find_message(
        self, source: str, message_id: str | None, content_hash: str
    ) -> MessageRecord | None:
        key = (source, message_id or "", content_hash)
        for m in self._t.messages.values():
            if (m["source"], m["message_id"], m["content_hash"]) == key:
                return _message(m)
        return None

    def record_message(self, entry: MessageEntry) -> int:
        e = entry
        with self.transaction():
            if self.find_message(e.source, e.message_id, e.content_hash) is not None:
                raise ValueError("message recorded already")
            return self._insert(
                self._t.messages,
                source=e.source,
                ref=e.ref,
                message_id=e.message_id or "",
                content_hash=e.content_hash,
                kind=e.kind.value,
                disposition=e.disposition.value,
                reason=e.reason,
                request_id=e.request_id,
                alert_type=e.alert_type,
                recorded_at=_iso(self.now()),
                acknowledged_at=None,
            )

    def mark_acknowledged(self, row_id: int) -> None:
        self.mark_acknowledged_many([row_id])

    def mark_acknowledged_many(self, row_ids: list[int]) -> None:
        with self.transaction():
            for row_id in row_ids:
                m = self._t.messages.get(row_id)
                if m is not None and m["acknowledged_at"] is None:
                    m["acknowledged_at"] = _iso(self.now())

    def forget_message(self, row_id: int) -> None:
        with self.transaction():
            self._t.messages.pop(row_id, None)

    def message_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for m in self._t.messages.values():
            counts[m["disposition"]] = counts.get(m["disposition"], 0) + 1
        return counts

    def message_log(self) -> list[dict[str, Any]]:
        keys = ("ref", "kind", "disposition", "reason", "request_id", "alert_type")
        return [{k: m[k] for k in keys} for _, m in sorted(self._t.messages.items())]

    # -- requests ---------------------------------------------------------------------------

    def get_request(self, request_id: str) -> RequestRecord | None:
        return self._t.requests.get(request_id)

    def save_request(self, rec: RequestRecord) -> None:
        with self.transaction():
            kept = self._t.requests.get(rec.request_id)
            created = kept.created_at if kept is not None else rec.created_at
            self._t.requests[rec.request_id] = _replace(rec, created_at=created)

    def set_task(
        self, request_id: str, status: TaskStatus, sink: str | None, ref: str | None
    ) -> None:
        with self.transaction():
            rec = self._t.requests.get(request_id)
            if rec is not None:
                self._t.requests[request_id] = _replace(
                    rec,
                    task_status=status,
                    task_sink=sink or rec.task_sink,
                    task_ref=ref or rec.task_ref,
                    updated_at=self.now(),
                )

    def requests(self, *, open_only: bool = False) -> list[RequestRecord]:
        found = [
            r for r in self._t.requests.values() if not open_only or r.status.value not in _FINAL
        ]
        return sorted(
            found, key=lambda r: (r.deadline is None, r.deadline or date.min, r.request_id)
        )

    def open_requests_by_team(
        self, today: date, awaiting: tuple[str, ...]
    ) -> dict[str, tuple[int, int]]:
        counts: dict[str, tuple[int, int]] = {}
        for r in self.requests(open_only=True):
            n, late = counts.get(r.team_key or "", (0, 0))
            overdue = r.status.value in awaiting and r.deadline is not None and r.deadline < today
            counts[r.team_key or ""] = (n + 1, late + int(overdue))
        return counts

    def add_alert(self, message_row: int, alert: AlertEntry) -> None:
        a = alert
        with self.transaction():
            self._t.alerts.setdefault(
                (a.request_id, message_row),
                {
                    "id": self._id(),
                    "alert_type": a.alert_type,
                    "deadline": _iso(a.deadline),
                    "sent_at": _iso(a.sent_at),
                    "recorded_at": _iso(self.now()),
                },
            )

    def alert_history(self, request_id: str) -> list[dict[str, Any]]:
        rows = [a for (rid, _), a in self._t.alerts.items() if rid == request_id]
        rows.sort(key=lambda a: (a["sent_at"] or a["recorded_at"], a["id"]))
        keys = ("alert_type", "deadline", "sent_at", "recorded_at")
        return [{k: a[k] for k in keys} for a in rows]

    def closed_without(self, since: datetime, actions: tuple[str, ...], limit: int) -> list[str]:
        with_actions = {a["request_id"] for a in self._t.audit.values() if a["action"] in actions}
        found = [
            r
            for r in self._t.requests.values()
            if r.status.value in _FINAL
            and r.task_ref is not None
            and r.task_sink is not None
            and r.closed_at is not None
            and r.closed_at >= since
            and r.request_id not in with_actions
        ]
        found.sort(key=lambda r: (r.closed_at or since, r.request_id))
        return [r.request_id for r in found[:limit]]
