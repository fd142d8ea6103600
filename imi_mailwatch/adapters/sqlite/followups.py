"""The durable follow-up schedule on SQLite (``ports.FollowUpStore``).

Times are passed in by the caller (the follow-ups' own clock), so the schedule
reads the same moment it planned with.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Unpack

from imi_mailwatch.adapters.rows import deferred_followup, followup_where, iso
from imi_mailwatch.adapters.rows import followup_row as _row
from imi_mailwatch.adapters.sqlite.sql import SqlBase
from imi_mailwatch.ports.state import FollowUpMatch
from imi_mailwatch.records import (
    DeferredFollowUp,
    FollowUpKind,
    FollowUpRow,
    FollowUpStatus,
    PlannedFollowUp,
)

_OPEN = (FollowUpStatus.SCHEDULED.value, FollowUpStatus.SENDING.value)


class SqliteFollowUps(SqlBase):
    def followups_cancel_reminders(self, request_id: str, now: datetime) -> None:
        """Cancel the request's reminders that are still to be sent."""
        self.execute(
            "UPDATE followups SET status = ?, updated_at = ? WHERE request_id = ? AND "
            "kind = ? AND status IN (?, ?)",
            (
                FollowUpStatus.CANCELLED.value,
                iso(now),
                request_id,
                FollowUpKind.REMINDER.value,
                *_OPEN,
            ),
        )

    def followups_cancel(
        self, request_id: str, kinds: Iterable[FollowUpKind], now: datetime
    ) -> None:
        """Cancel the request's follow-ups of these kinds that are still to be sent."""
        for kind in kinds:
            self.execute(
                "UPDATE followups SET status = ?, updated_at = ? WHERE request_id = ? AND "
                "kind = ? AND status IN (?, ?)",
                (FollowUpStatus.CANCELLED.value, iso(now), request_id, kind.value, *_OPEN),
            )

    def followup_exists(self, request_id: str, **match: Unpack[FollowUpMatch]) -> bool:
        """Whether the request has a follow-up of this kind, step and due moment (if given)."""
        where = followup_where(request_id, match)
        sql = " AND ".join(f"{column} = ?" for column in where)
        return bool(self.query(f"SELECT 1 FROM followups WHERE {sql} LIMIT 1", (*where.values(),)))

    def followup_plan(self, request_id: str, p: PlannedFollowUp, now: datetime) -> None:
        """Schedule one follow-up. One cancelled or skipped earlier comes back (the date
        moved back); one already sent for exactly this step and moment stays sent."""
        self.execute(
            "INSERT INTO followups (request_id, step, kind, due_at, status, recipients, "
            "deadline, created_at, updated_at) VALUES (?, ?, ?, ?, 'scheduled', ?, ?, ?, ?) "
            "ON CONFLICT (request_id, step, due_at) DO UPDATE SET status = 'scheduled', "
            "recipients = excluded.recipients, deadline = excluded.deadline, "
            "next_attempt_at = NULL, updated_at = excluded.updated_at "
            "WHERE followups.status IN ('cancelled', 'skipped', 'scheduled')",
            (
                request_id,
                p.step,
                p.kind.value,
                iso(p.due_at),
                json.dumps(list(p.recipients)),
                iso(p.deadline),
                iso(now),
                iso(now),
            ),
        )

    def followups_due(self, now: datetime) -> list[FollowUpRow]:
        """Open follow-ups due at ``now`` and not backing off, by request, kind, due."""
        rows = self.query(
            "SELECT * FROM followups WHERE status IN (?, ?) AND due_at <= ? AND "
            "(next_attempt_at IS NULL OR next_attempt_at <= ?) "
            "ORDER BY request_id, kind, due_at, id",
            (*_OPEN, iso(now), iso(now)),
        )
        return [_row(r) for r in rows]

    def followups_deferred(self, now: datetime) -> list[DeferredFollowUp]:
        """Scheduled follow-ups whose retry lies after ``now``."""
        rows = self.query(
            "SELECT id, request_id, attempts, last_error, next_attempt_at FROM followups "
            "WHERE status = ? AND next_attempt_at > ? ORDER BY id",
            (FollowUpStatus.SCHEDULED.value, iso(now)),
        )
        return [deferred_followup(r) for r in rows]

    def followup_retry_at(self, row_id: int, when: datetime) -> None:
        self.execute("UPDATE followups SET next_attempt_at = ? WHERE id = ?", (iso(when), row_id))

    def followup_set_status(
        self, row_id: int, status: FollowUpStatus, now: datetime, error: str | None = None
    ) -> None:
        """Set the status (the last error is kept unless a new one is given)."""
        self.execute(
            "UPDATE followups SET status = ?, last_error = coalesce(?, last_error), "
            "updated_at = ? WHERE id = ?",
            (status.value, error, iso(now), row_id),
        )

    def followup_sending(self, row_id: int, message_id: str, now: datetime) -> None:
        """The intent, before the notifier is called: attempt counted, Message-ID kept."""
        self.execute(
            "UPDATE followups SET status = 'sending', attempts = attempts + 1, "
            "message_id = ?, updated_at = ? WHERE id = ?",
            (message_id, iso(now), row_id),
        )

    def followup_defer(self, row_id: int, when: datetime, error: str, now: datetime) -> None:
        """Back to scheduled, not before ``when``."""
        self.execute(
            "UPDATE followups SET status = 'scheduled', next_attempt_at = ?, "
            "last_error = ?, updated_at = ? WHERE id = ?",
            (iso(when), error, iso(now), row_id),
        )

    def followup_sent(self, row_id: int, now: datetime) -> None:
        self.execute(
            "UPDATE followups SET status = 'sent', sent_at = ?, last_error = NULL, "
            "updated_at = ? WHERE id = ?",
            (iso(now), iso(now), row_id),
        )

    def followup_move(self, row_id: int, due_at: datetime, now: datetime) -> None:
        self.execute(
            "UPDATE followups SET due_at = ?, updated_at = ? WHERE id = ?",
            (iso(due_at), iso(now), row_id),
        )

    def next_followup(self, request_id: str) -> dict[str, Any] | None:
        """The next follow-up of a request that is still to be sent, as data."""
        rows = self.query(
            "SELECT step, kind, due_at, status, attempts FROM followups WHERE request_id = ? "
            "AND status IN ('scheduled', 'sending') ORDER BY due_at, id LIMIT 1",
            (request_id,),
        )
        if not rows:
            return None
        r = rows[0]
        return {
            "step": r["step"],
            "kind": r["kind"],
            "due_at": r["due_at"],
            "status": r["status"],
            "attempts": int(r["attempts"]),
        }

    def followups_of(self, request_id: str) -> list[dict[str, Any]]:
        """Every follow-up of a request (step, kind, due_at, status, sent_at, updated_at)."""
        rows = self.query(
            "SELECT step, kind, due_at, status, sent_at, updated_at FROM followups "
            "WHERE request_id = ? ORDER BY due_at, id",
            (request_id,),
        )
        return [dict(r) for r in rows]
