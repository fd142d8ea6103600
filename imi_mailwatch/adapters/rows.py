"""Rows of the state stores turned into records, shared by every state adapter.

The state adapters keep rows alike (times as ISO text in UTC, lists and payloads
as JSON), so one converter serves a ``sqlite3.Row`` and a dict of the memory store.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, Protocol

from imi_mailwatch.clock import parse_day, parse_ts
from imi_mailwatch.model import Disposition, MessageKind
from imi_mailwatch.records import (
    DeskState,
    FollowUpKind,
    FollowUpRow,
    FollowUpStatus,
    Handling,
    MessageRecord,
    OutboxItem,
    QuarterFacts,
    RequestRecord,
)


class Row(Protocol):
    """A stored row: a ``sqlite3.Row`` or a dict of the memory store."""

    def __getitem__(self, key: str, /) -> Any: ...


def iso(value: datetime | date | None) -> str | None:
    """A moment (UTC, seconds) or a day as the stores keep it; a naive moment is refused."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime handed to the state store")
        return value.astimezone(UTC).isoformat(timespec="seconds")
    return value.isoformat()


def stored_ts(value: str | None) -> datetime:
    """A timestamp that must be there."""
    parsed = parse_ts(value)
    if parsed is None:
        raise ValueError("a stored timestamp is missing")
    return parsed


def kept_detail(detail: str, keeps: frozenset[str]) -> str:
    """An audit detail (JSON) reduced to the ``keeps`` keys; anything unreadable: ``{}``."""
    try:
        data = json.loads(detail or "{}")
    except ValueError:
        return "{}"
    if not isinstance(data, dict):
        return "{}"
    kept = {k: v for k, v in data.items() if k in keeps}
    return detail if kept == data else json.dumps(kept, ensure_ascii=False)


def _listed(value: Any) -> list[Any]:
    return list(json.loads(value or "[]") if isinstance(value, str) else value or ())


def message_record(r: Row) -> MessageRecord:
    return MessageRecord(
        id=int(r["id"]),
        source=r["source"],
        ref=r["ref"],
        message_id=r["message_id"],
        content_hash=r["content_hash"],
        kind=MessageKind(r["kind"]),
        disposition=Disposition(r["disposition"]),
        reason=r["reason"],
        request_id=r["request_id"],
        alert_type=r["alert_type"],
        recorded_at=parse_ts(r["recorded_at"]) or datetime.now(UTC),
        acknowledged_at=parse_ts(r["acknowledged_at"]),
    )


def outbox_item(r: Row) -> OutboxItem:
    return OutboxItem(
        id=int(r["id"]),
        request_id=r["request_id"],
        action=r["action"],
        idem_key=r["idem_key"],
        payload=json.loads(r["payload"] or "{}"),
        status=r["status"],
        attempts=int(r["attempts"]),
        last_error=r["last_error"],
        next_attempt_at=parse_ts(r["next_attempt_at"]),
        created_at=parse_ts(r["created_at"]),
    )


def followup_row(r: Row) -> FollowUpRow:
    return FollowUpRow(
        id=int(r["id"]),
        request_id=r["request_id"],
        step=r["step"],
        kind=FollowUpKind(r["kind"]),
        due_at=stored_ts(r["due_at"]),
        status=FollowUpStatus(r["status"]),
        recipients=tuple(_listed(r["recipients"])),
        deadline=parse_day(r["deadline"]),
        attempts=int(r["attempts"]),
        message_id=r["message_id"],
    )


def request_facts(request: RequestRecord, alerts: Sequence[Row], desk: DeskState) -> QuarterFacts:
    """What the quarterly report counts of one request, from its row, its alerts and what
    the team said (AANVAARD, BEANTWOORD, DOORGESTUURD: IMI sends the responding authority
    no alert of its own steps; the alerts count where the desk heard nothing)."""

    def at(a: Row) -> datetime:
        return stored_ts(a["sent_at"] or a["recorded_at"])

    ordered = sorted(alerts, key=at)

    def first(*types: str) -> datetime | None:
        return next((at(a) for a in ordered if a["alert_type"] in types), None)

    answered = desk.answered_at
    return QuarterFacts(
        request_id=request.request_id,
        team_name=request.team_name,
        module=request.module.value,
        received_at=at(ordered[0]) if ordered else request.created_at,
        accepted_at=desk.accepted_at or first("allocated"),
        answered_at=answered if desk.handled is Handling.ANSWERED else first("reply_received"),
        deadline=request.deadline,
        forwarded=desk.handled is Handling.FORWARDED or first("forwarded", "referred") is not None,
        final=request.status.is_final,
    )
