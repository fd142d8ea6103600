"""The tables and transactions of the in-memory state store (``MemoryStateStore``).

Rows are kept as the SQLite store keeps them (times as ISO text in UTC), so both
read alike. A transaction holds a lock and a copy of the tables; leaving it by
an exception puts the copy back. Nothing is durable.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from imi_mailwatch.clock import parse_day, parse_ts
from imi_mailwatch.model import Disposition, MessageKind
from imi_mailwatch.ports import Clock
from imi_mailwatch.records import (
    FollowUpKind,
    FollowUpRow,
    FollowUpStatus,
    HealthRecord,
    MessageRecord,
    OutboxItem,
    RequestRecord,
)

_OPEN_FOLLOWUPS = (FollowUpStatus.SCHEDULED.value, FollowUpStatus.SENDING.value)
_FINAL = ("closed", "withdrawn")
_SKELETON_CLEARS: Mapping[str, Any] = {
    "team_mailbox": None,
    "handlers": (),
    "rule": None,
    "field": None,
    "schedule": None,
    "language": None,
    "legislative_area": None,
    "member_state": None,
    "service_activities": (),
    "requesting_authority": None,
}


def _iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime handed to the state store")
        return value.astimezone(UTC).isoformat(timespec="seconds")
    return value.isoformat()


@dataclass
class _Tables:
    cursors: dict[tuple[str, str], str] = field(default_factory=dict)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: dict[str, RequestRecord] = field(default_factory=dict)
    alerts: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    outbox: dict[int, dict[str, Any]] = field(default_factory=dict)
    followups: dict[int, dict[str, Any]] = field(default_factory=dict)
    notices: dict[str, dict[str, Any]] = field(default_factory=dict)
    quarantine: dict[int, dict[str, Any]] = field(default_factory=dict)
    audit: dict[int, dict[str, Any]] = field(default_factory=dict)
    health: dict[str, HealthRecord] = field(default_factory=dict)
    rules: tuple[str, list[tuple[str, bytes]]] | None = None
    next_id: int = 1


class MemoryBase:
    """The tables, the lock and the transactions every in-memory port shares."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._depth = 0
        self._t = _Tables()

    # -- plumbing ---------------------------------------------------------------------

    def now(self) -> datetime:
        return self._clock.now()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit of work. Nested uses join the outer transaction."""
        with self._lock:
            saved = copy.deepcopy(self._t) if self._depth == 0 else None
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if saved is not None:
                    self._t = saved
                raise
            self._depth -= 1

    def close(self) -> None:
        return None

    def _id(self) -> int:
        n = self._t.next_id
        self._t.next_id += 1
        return n


def _replace(rec: RequestRecord, **changes: Any) -> RequestRecord:
    return dataclasses.replace(rec, **changes)


def _ts(value: str | None) -> datetime:
    parsed = parse_ts(value)
    if parsed is None:
        raise ValueError("a stored timestamp is missing")
    return parsed


def _kept_detail(detail: str, keeps: frozenset[str]) -> str:
    try:
        data = json.loads(detail or "{}")
    except ValueError:
        return "{}"
    if not isinstance(data, dict):
        return "{}"
    kept = {k: v for k, v in data.items() if k in keeps}
    return detail if kept == data else json.dumps(kept, ensure_ascii=False)


def _message(m: Mapping[str, Any]) -> MessageRecord:
    return MessageRecord(
        id=m["id"],
        source=m["source"],
        ref=m["ref"],
        message_id=m["message_id"],
        content_hash=m["content_hash"],
        kind=MessageKind(m["kind"]),
        disposition=Disposition(m["disposition"]),
        reason=m["reason"],
        request_id=m["request_id"],
        alert_type=m["alert_type"],
        recorded_at=parse_ts(m["recorded_at"]) or datetime.now(UTC),
        acknowledged_at=parse_ts(m["acknowledged_at"]),
    )


def _outbox(o: Mapping[str, Any]) -> OutboxItem:
    return OutboxItem(
        id=o["id"],
        request_id=o["request_id"],
        action=o["action"],
        idem_key=o["idem_key"],
        payload=json.loads(o["payload"] or "{}"),
        status=o["status"],
        attempts=o["attempts"],
        last_error=o["last_error"],
        next_attempt_at=parse_ts(o["next_attempt_at"]),
    )


def _admin(o: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("id", "action", "request_id", "status", "attempts", "last_error")
    return {**{k: o[k] for k in keys}, "next_attempt_at": o["next_attempt_at"],
            "updated_at": o["updated_at"]}  # fmt: skip


def _followup(f: Mapping[str, Any]) -> FollowUpRow:
    return FollowUpRow(
        id=f["id"],
        request_id=f["request_id"],
        step=f["step"],
        kind=FollowUpKind(f["kind"]),
        due_at=_ts(f["due_at"]),
        status=FollowUpStatus(f["status"]),
        recipients=tuple(f["recipients"]),
        deadline=parse_day(f["deadline"]),
        attempts=f["attempts"],
        message_id=f["message_id"],
    )
