"""Looking into the task outbox and un-parking a row, for ops (``imi-mailwatch outbox``).

A parked row is one the task sink refused (or that could not be carried out);
the beheerders were told. Once the cause is fixed (a unit created in Corsa, a
licence renewed), ``retry`` makes the row pending again, due at once: the
running daemon's next outbox pass carries it out. The attempts made so far are
kept, so that the retry first looks the task up at the sink (exactly once, see
docs/corsa.md). Each retry is audited (who, when, the previous error) and
logged as ``outbox.retry_requested``; the parked notice is forgotten so that a
second refusal is reported again.

Only what ops need is shown: row id, action, request id, status, attempts,
the next attempt and the (already cleaned) error text; never the task payload.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from imi_mailwatch.clock import parse_ts
from imi_mailwatch.model import TaskStatus
from imi_mailwatch.ports import StateStore

log = structlog.get_logger(__name__)

OPEN_STATUSES = ("pending", "parked")


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One outbox row as ops see it (no payload)."""

    id: int
    action: str
    request_id: str
    status: str
    attempts: int
    reason: str | None
    next_attempt_at: datetime | None
    updated_at: datetime | None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "action": self.action,
            "request_id": self.request_id,
            "status": self.status,
            "attempts": self.attempts,
            "reason": self.reason,
            "next_attempt_at": self.next_attempt_at.isoformat() if self.next_attempt_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


@dataclass(frozen=True, slots=True)
class Retry:
    """What ``retry`` did: the row as it was, or why nothing was done."""

    row: OutboxRow
    done: bool  # False: the row is finished (done or skipped), nothing to retry


def rows(store: StateStore, *, everything: bool = False) -> list[OutboxRow]:
    """Parked and pending rows, oldest first (``everything``: also done and skipped)."""
    return [_row(r) for r in store.outbox_rows(None if everything else OPEN_STATUSES)]


def find(store: StateStore, row_id: int) -> OutboxRow | None:
    found = store.outbox_row(row_id)
    return _row(found) if found is not None else None


def retry(store: StateStore, row_id: int, *, by: str | None = None) -> Retry | None:
    """Make a parked (or waiting) row due now; None when there is no such row."""
    who = by or operator()
    with store.transaction():
        row = find(store, row_id)
        if row is None:
            return None
        if row.status not in OPEN_STATUSES:
            return Retry(row, done=False)
        store.outbox_make_due(row_id)
        if row.action == "create_task" and row.status == "parked":
            store.set_task(row.request_id, TaskStatus.PENDING, None, None)
        # a second refusal is a new occasion for the beheerders' report
        store.notice_forget(f"parked:{row.request_id}")
        store.audit(
            "outbox.retry_requested",
            row.request_id,
            outbox_id=row_id,
            action=row.action,
            previous_status=row.status,
            previous_error=row.reason,
            by=who,
        )
    log.info(
        "outbox.retry_requested",
        outbox_id=row_id,
        request_id=row.request_id,
        action=row.action,
        previous_status=row.status,
        by=who,
    )
    return Retry(row, done=True)


def operator() -> str:
    """Who asked (the login behind sudo, else the user running the command)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return os.environ.get("SUDO_USER") or user


def _row(r: Mapping[str, Any]) -> OutboxRow:
    return OutboxRow(
        id=int(r["id"]),
        action=str(r["action"]),
        request_id=str(r["request_id"]),
        status=str(r["status"]),
        attempts=int(r["attempts"]),
        reason=r["last_error"],
        next_attempt_at=parse_ts(r["next_attempt_at"]),
        updated_at=parse_ts(r["updated_at"]),
    )
