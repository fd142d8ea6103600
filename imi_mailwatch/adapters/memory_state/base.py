"""The tables and transactions of the in-memory state store (``MemoryStateStore``).

Rows are kept as the SQLite store keeps them (times as ISO text in UTC), so both
read alike. A transaction holds a lock and a copy of the tables; leaving it by
an exception puts the copy back. Nothing is durable.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from imi_mailwatch.model import RequestStatus
from imi_mailwatch.ports import Clock
from imi_mailwatch.records import (
    SKELETON_CLEARS,
    SKELETON_LISTS,
    FollowUpStatus,
    HealthRecord,
    RequestRecord,
)

_OPEN_FOLLOWUPS = (FollowUpStatus.SCHEDULED.value, FollowUpStatus.SENDING.value)
# the bookkeeping of a mail not sent yet (notices, scheduled mails): ``sendonce``
UNSENT: Mapping[str, Any] = {
    "message_id": None,
    "attempts": 0,
    "next_attempt_at": None,
    "last_error": None,
    "sent_at": None,
}
_FINAL = tuple(s.value for s in RequestStatus if s.is_final)
_SKELETON_CLEARS: Mapping[str, Any] = {
    name: () if name in SKELETON_LISTS else None for name in SKELETON_CLEARS
}


@dataclass
class _Tables:
    cursors: dict[tuple[str, str], str] = field(default_factory=dict)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: dict[str, RequestRecord] = field(default_factory=dict)
    alerts: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    outbox: dict[int, dict[str, Any]] = field(default_factory=dict)
    followups: dict[int, dict[str, Any]] = field(default_factory=dict)
    notices: dict[str, dict[str, Any]] = field(default_factory=dict)
    mailings: dict[str, dict[str, Any]] = field(default_factory=dict)
    quarantine: dict[int, dict[str, Any]] = field(default_factory=dict)
    audit: dict[int, dict[str, Any]] = field(default_factory=dict)
    health: dict[str, HealthRecord] = field(default_factory=dict)
    rules: tuple[str, list[tuple[str, bytes]]] | None = None
    desk_state: dict[str, dict[str, Any]] = field(default_factory=dict)
    actions: dict[int, dict[str, Any]] = field(default_factory=dict)
    desk_mails: dict[str, dict[str, Any]] = field(default_factory=dict)
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

    def _insert(self, table: dict[int, dict[str, Any]], **row: Any) -> int:
        """Keep a row under the next id (its ``id`` column); returns the id."""
        row_id = self._id()
        table[row_id] = {"id": row_id, **row}
        return row_id

    def _insert_once(self, table: dict[str, dict[str, Any]], key: str, /, **row: Any) -> bool:
        """Keep a row under ``key`` unless one is kept there already (False)."""
        with self.transaction():
            if key in table:
                return False
            table[key] = row
            return True


def _ready(row: Mapping[str, Any], at: str) -> bool:
    """Whether a row's next attempt is due at ``at`` (none stored: at once)."""
    return row["next_attempt_at"] is None or row["next_attempt_at"] <= at


def _waiting(rows: dict[int, dict[str, Any]], status: str, at: str) -> list[dict[str, Any]]:
    """The rows of ``status`` whose next attempt lies after ``at`` (backing off), by id."""
    return [
        r
        for _, r in sorted(rows.items())
        if r["status"] == status and r["next_attempt_at"] is not None and r["next_attempt_at"] > at
    ]


def _replace(rec: RequestRecord, **changes: Any) -> RequestRecord:
    return dataclasses.replace(rec, **changes)


def _admin(o: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("id", "action", "request_id", "status", "attempts", "last_error")
    return {**{k: o[k] for k in keys}, "next_attempt_at": o["next_attempt_at"],
            "updated_at": o["updated_at"]}  # fmt: skip
