"""Records the state store hands back. Pure values, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from imi_mailwatch.model import Disposition, MessageKind, RequestStatus, TaskStatus


@dataclass(frozen=True, slots=True)
class MessageRecord:
    id: int
    source: str
    ref: str
    message_id: str
    content_hash: str
    kind: MessageKind
    disposition: Disposition
    reason: str | None
    request_id: str | None
    alert_type: str | None
    recorded_at: datetime
    acknowledged_at: datetime | None


@dataclass(frozen=True, slots=True)
class RequestRecord:
    request_id: str
    status: RequestStatus
    team_key: str | None
    team_name: str | None
    org_unit: str | None
    team_mailbox: str | None
    handlers: tuple[str, ...]
    rule: str | None
    field: str | None
    is_default: bool
    schedule: list[dict[str, Any]] | None
    deadline: date | None
    language: str | None
    legislative_area: str | None
    member_state: str | None
    service_activities: tuple[str, ...]
    requesting_authority: str | None
    task_status: TaskStatus | None
    task_sink: str | None
    task_ref: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    request_id: str
    action: str
    idem_key: str
    payload: dict[str, Any]
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime | None = None  # when the intent was recorded with its outcome


@dataclass(frozen=True, slots=True)
class QuarantineRecord:
    id: int
    message_row: int
    source: str
    ref: str
    kind: str
    reason: str
    request_id: str | None
    has_raw: bool
    created_at: datetime
    reported_at: datetime | None
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class HealthRecord:
    component: str
    ok: bool
    last_ok_at: datetime | None
    failing_since: datetime | None
    error: str | None
    updated_at: datetime
