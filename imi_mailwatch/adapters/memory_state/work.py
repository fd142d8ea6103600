"""The task outbox and the follow-up schedule in memory."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Unpack

from imi_mailwatch.adapters.memory_state.base import (
    _OPEN_FOLLOWUPS,
    UNSENT,
    MemoryBase,
    _admin,
    _ready,
    _waiting,
)
from imi_mailwatch.adapters.rows import deferred_followup, followup_where
from imi_mailwatch.adapters.rows import followup_row as _followup
from imi_mailwatch.adapters.rows import iso as _iso
from imi_mailwatch.adapters.rows import outbox_item as _outbox
from imi_mailwatch.ports.state import FollowUpMatch
from imi_mailwatch.records import (
    DeferredFollowUp,
    FollowUpKind,
    FollowUpRow,
    FollowUpStatus,
    OutboxItem,
    PlannedFollowUp,
)


class MemoryWork(MemoryBase):
    # -- outbox -----------------------------------------------------------------------------

    def outbox_add(
        self, request_id: str, action: str, idem_key: str, payload: Mapping[str, Any]
    ) -> bool:
        with self.transaction():
            if any(o["idem_key"] == idem_key for o in self._t.outbox.values()):
                return False
            now = _iso(self.now())
            self._insert(
                self._t.outbox,
                request_id=request_id,
                action=action,
                idem_key=idem_key,
                payload=json.dumps(payload, ensure_ascii=False),
                status="pending",
                attempts=0,
                last_error=None,
                next_attempt_at=None,
                created_at=now,
                updated_at=now,
            )
            return True

    def outbox_due(self, *, request_id: str | None = None, limit: int = 100) -> list[OutboxItem]:
        now = _iso(self.now()) or ""
        due = [
            o
            for _, o in sorted(self._t.outbox.items())
            if o["status"] == "pending"
            and _ready(o, now)
            and (request_id is None or o["request_id"] == request_id)
        ]
        return [_outbox(o) for o in due[:limit]]

    def outbox_held(self, *, request_id: str | None = None) -> list[OutboxItem]:
        return [
            _outbox(o)
            for _, o in sorted(self._t.outbox.items())
            if o["status"] == "held" and request_id in (None, o["request_id"])
        ]

    def outbox_release(self, item_id: int, payload: Mapping[str, Any]) -> None:
        o = self._t.outbox.get(item_id)
        if o is not None and o["status"] == "held":
            payload_text = json.dumps(payload, ensure_ascii=False)
            self._outbox_set(item_id, status="pending", next_attempt_at=None, payload=payload_text)

    def outbox_waiting(self, *, after: datetime) -> list[OutboxItem]:
        return [_outbox(o) for o in _waiting(self._t.outbox, "pending", _iso(after) or "")]

    def outbox_begin_attempt(self, item_id: int) -> int:
        with self.transaction():
            o = self._t.outbox[item_id]
            o["attempts"] += 1
            o["updated_at"] = _iso(self.now())
            return int(o["attempts"])

    def outbox_finish(self, item_id: int, status: str, error: str | None = None) -> None:
        self._outbox_set(item_id, status=status, last_error=error)

    def outbox_defer(self, item_id: int, error: str, next_attempt_at: datetime) -> None:
        self._outbox_set(item_id, last_error=error, next_attempt_at=_iso(next_attempt_at))

    def outbox_clear_payload(self, item_id: int) -> None:
        self._outbox_set(item_id, payload="{}", stamp=False)

    def outbox_make_due(self, row_id: int) -> None:
        self._outbox_set(row_id, status="pending", next_attempt_at=None)

    def _outbox_set(self, item_id: int, *, stamp: bool = True, **values: Any) -> None:
        with self.transaction():
            o = self._t.outbox.get(item_id)
            if o is not None:
                o.update(values)
                if stamp:
                    o["updated_at"] = _iso(self.now())

    def outbox_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for o in self._t.outbox.values():
            counts[o["status"]] = counts.get(o["status"], 0) + 1
        return counts

    def outbox_rows(self, statuses: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        return [
            _admin(o)
            for _, o in sorted(self._t.outbox.items())
            if statuses is None or o["status"] in statuses
        ]

    def outbox_row(self, row_id: int) -> dict[str, Any] | None:
        o = self._t.outbox.get(row_id)
        return _admin(o) if o is not None else None

    # -- follow-ups ---------------------------------------------------------------------------

    def followups_cancel_reminders(self, request_id: str, now: datetime) -> None:
        with self.transaction():
            for f in self._t.followups.values():
                if (
                    f["request_id"] == request_id
                    and f["kind"] == FollowUpKind.REMINDER.value
                    and f["status"] in _OPEN_FOLLOWUPS
                ):
                    f.update(status=FollowUpStatus.CANCELLED.value, updated_at=_iso(now))

    def followups_cancel(
        self, request_id: str, kinds: Iterable[FollowUpKind], now: datetime
    ) -> None:
        names = {k.value for k in kinds}
        with self.transaction():
            for f in self._t.followups.values():
                if (
                    f["request_id"] == request_id
                    and f["kind"] in names
                    and f["status"] in _OPEN_FOLLOWUPS
                ):
                    f.update(status=FollowUpStatus.CANCELLED.value, updated_at=_iso(now))

    def followup_exists(self, request_id: str, **match: Unpack[FollowUpMatch]) -> bool:
        where = followup_where(request_id, match).items()
        return any(all(f[c] == v for c, v in where) for f in self._t.followups.values())

    def followup_plan(self, request_id: str, p: PlannedFollowUp, now: datetime) -> None:
        with self.transaction():
            due = _iso(p.due_at)
            for f in self._t.followups.values():
                if (f["request_id"], f["step"], f["due_at"]) == (request_id, p.step, due):
                    if f["status"] in ("cancelled", "skipped", "scheduled"):
                        f.update(
                            status="scheduled",
                            recipients=list(p.recipients),
                            deadline=_iso(p.deadline),
                            next_attempt_at=None,
                            updated_at=_iso(now),
                        )
                    return
            self._insert(
                self._t.followups,
                **UNSENT,
                request_id=request_id,
                step=p.step,
                kind=p.kind.value,
                due_at=due,
                status="scheduled",
                recipients=list(p.recipients),
                deadline=_iso(p.deadline),
                created_at=_iso(now),
                updated_at=_iso(now),
            )

    def followups_due(self, now: datetime) -> list[FollowUpRow]:
        at = _iso(now) or ""
        due = [
            f
            for f in self._t.followups.values()
            if f["status"] in _OPEN_FOLLOWUPS and f["due_at"] <= at and _ready(f, at)
        ]
        due.sort(key=lambda f: (f["request_id"], f["kind"], f["due_at"], f["id"]))
        return [_followup(f) for f in due]

    def followups_deferred(self, now: datetime) -> list[DeferredFollowUp]:
        waiting = _waiting(self._t.followups, "scheduled", _iso(now) or "")
        return [deferred_followup(f) for f in waiting]

    def _followup_set(self, row_id: int, **values: Any) -> None:
        with self.transaction():
            f = self._t.followups.get(row_id)
            if f is not None:
                f.update(values)

    def followup_retry_at(self, row_id: int, when: datetime) -> None:
        self._followup_set(row_id, next_attempt_at=_iso(when))

    def followup_set_status(
        self, row_id: int, status: FollowUpStatus, now: datetime, error: str | None = None
    ) -> None:
        f = self._t.followups.get(row_id)
        kept = f["last_error"] if f is not None else None
        self._followup_set(
            row_id, status=status.value, last_error=error or kept, updated_at=_iso(now)
        )

    def followup_sending(self, row_id: int, message_id: str, now: datetime) -> None:
        f = self._t.followups.get(row_id)
        attempts = (f["attempts"] if f is not None else 0) + 1
        self._followup_set(
            row_id,
            status="sending",
            attempts=attempts,
            message_id=message_id,
            updated_at=_iso(now),
        )

    def followup_defer(self, row_id: int, when: datetime, error: str, now: datetime) -> None:
        self._followup_set(
            row_id,
            status="scheduled",
            next_attempt_at=_iso(when),
            last_error=error,
            updated_at=_iso(now),
        )

    def followup_sent(self, row_id: int, now: datetime) -> None:
        self._followup_set(
            row_id, status="sent", sent_at=_iso(now), last_error=None, updated_at=_iso(now)
        )

    def followup_move(self, row_id: int, due_at: datetime, now: datetime) -> None:
        self._followup_set(row_id, due_at=_iso(due_at), updated_at=_iso(now))

    def next_followup(self, request_id: str) -> dict[str, Any] | None:
        open_ = [
            f
            for f in self._t.followups.values()
            if f["request_id"] == request_id and f["status"] in _OPEN_FOLLOWUPS
        ]
        if not open_:
            return None
        f = min(open_, key=lambda f: (f["due_at"], f["id"]))
        return {k: f[k] for k in ("step", "kind", "due_at", "status", "attempts")}

    def followups_of(self, request_id: str) -> list[dict[str, Any]]:
        rows = [f for f in self._t.followups.values() if f["request_id"] == request_id]
        rows.sort(key=lambda f: (f["due_at"], f["id"]))
        keys = ("step", "kind", "due_at", "status", "sent_at", "updated_at")
        return [{k: f[k] for k in keys} for f in rows]
