"""Records the state store hands back. Pure values, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from imi_mailwatch.model import (
    Disposition,
    MessageKind,
    Module,
    OutgoingMail,
    RequestStatus,
    TaskStatus,
)


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
    module: Module = Module.SERVICES
    outgoing: bool = False  # a request the province sent itself (IMI reports its reply)


@dataclass(frozen=True, slots=True)
class QuarterFacts:
    """One request as the quarterly report counts it (``ports.StatisticsStore``)."""

    request_id: str
    team_name: str | None
    module: str | None  # the IMI module (model.Module's value)
    received_at: datetime  # the first alert's IMI time, else when it was recorded
    accepted_at: datetime | None  # the first ``allocated`` alert
    answered_at: datetime | None  # the first ``reply_received`` alert
    deadline: date | None
    forwarded: bool  # a ``forwarded`` or ``referred`` alert
    final: bool  # closed or withdrawn


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


# -- follow-ups (imi_mailwatch.deadlines) ----------------------------------------------


class FollowUpKind(StrEnum):
    REMINDER = "reminder"
    OWN_REQUEST = "own_request"  # the province's own request: reply waiting, or closed
    CLOSING = "closing"  # the archiving steps, once, when IMI closes the request
    ARCHIVE = "archive"  # the check before IMI blocks the personal data
    TASK_NOTICE = "task_notice"  # to the team, once, when its Corsa task was created
    TASK_CLOSE = "task_close"  # to the team: withdrawn, forwarded or rejected; close the task
    ACCEPTANCE = "acceptance"  # no AANVAARD yet, some working days after the task


class FollowUpStatus(StrEnum):
    SCHEDULED = "scheduled"
    SENDING = "sending"  # intent recorded, the notifier was called; not yet confirmed
    SENT = "sent"
    SKIPPED = "skipped"  # superseded by a later step that was due at the same time
    CANCELLED = "cancelled"  # the date changed, or the request was closed or withdrawn
    FAILED = "failed"  # the mail server refused it permanently


@dataclass(frozen=True, slots=True)
class PlannedFollowUp:
    step: str
    kind: FollowUpKind
    due_at: datetime
    recipients: tuple[str, ...]  # roles: team, handlers, beheerders, escalation
    deadline: date | None


@dataclass(frozen=True, slots=True)
class FollowUpRow:
    """A follow-up as the store keeps it."""

    id: int
    request_id: str
    step: str
    kind: FollowUpKind
    due_at: datetime
    status: FollowUpStatus
    recipients: tuple[str, ...]
    deadline: date | None
    attempts: int
    message_id: str | None


@dataclass(frozen=True, slots=True)
class DeferredFollowUp:
    """A scheduled follow-up whose retry waits for ``next_attempt_at``."""

    id: int
    request_id: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime


# -- retention (imi_mailwatch.privacy.retention) ------------------------------------------

PURGE_EVENT = "privacy.purged"
"""Audit action of every purge (request_id NULL, detail: counts per category)."""

REDUCED_EVENT = "privacy.reduced"
"""Audit action marking that a request was reduced to its skeleton (no detail)."""

SKELETON_CLEARS: tuple[str, ...] = (
    "team_mailbox",
    "handlers",
    "rule",
    "field",
    "schedule",
    "language",
    "legislative_area",
    "member_state",
    "service_activities",
    "requesting_authority",
)
"""The fields of a request its skeleton no longer holds (each store empties them)."""
SKELETON_LISTS = frozenset({"handlers", "service_activities"})
"""Those of them that hold a list: emptied to an empty list, the others to None."""


class Category(StrEnum):
    """What a purge removes; the order is the order of the report."""

    QUARANTINE_RAW = "quarantine_raw"
    QUARANTINE_RECORDS = "quarantine_records"
    TASK_PAYLOADS = "task_payloads"
    REQUESTS_REDUCED = "requests_reduced"
    REQUESTS_DELETED = "requests_deleted"
    MESSAGE_RECORDS = "message_records"
    DESK_ANSWERS = "desk_answers"
    AUDIT_RECORDS = "audit_records"
    NOTICES = "notices"


@dataclass(frozen=True, slots=True)
class RequestFacts:
    request_id: str
    status: RequestStatus
    closed_at: datetime | None
    reduced: bool  # already a skeleton
    has_payload: bool  # a task intent still holds the alert copy or memo


@dataclass(frozen=True, slots=True)
class QuarantineFacts:
    id: int
    resolved_at: datetime | None
    has_raw: bool


@dataclass(frozen=True, slots=True)
class RowFacts:
    """A message record of ordinary mail, or an audit row about no request."""

    id: int
    at: datetime


@dataclass(frozen=True, slots=True)
class NoticeFacts:
    key: str
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class Snapshot:
    requests: tuple[RequestFacts, ...] = ()
    quarantine: tuple[QuarantineFacts, ...] = ()
    messages: tuple[RowFacts, ...] = ()  # ordinary mail, not tied to a request or quarantine
    audit: tuple[RowFacts, ...] = ()  # audit rows about no request the daemon follows
    notices: tuple[NoticeFacts, ...] = ()  # sent notices not about a request still kept
    desk_answers: tuple[RowFacts, ...] = ()  # sent answers to replies naming no request


@dataclass(frozen=True, slots=True)
class PurgePlan:
    """What is due at ``now``: per category, the ids (request ids or row ids) concerned."""

    now: datetime
    items: Mapping[Category, tuple[str, ...]] = field(default_factory=dict)

    def ids(self, category: Category) -> tuple[str, ...]:
        return self.items.get(category, ())

    def counts(self) -> dict[str, int]:
        return {c.value: len(self.ids(c)) for c in Category}

    @property
    def empty(self) -> bool:
        return not any(self.items.values())


# -- one message's decision, committed in one call (pipeline -> ports.Recorder) -----------


@dataclass(frozen=True, slots=True)
class MessageEntry:
    """What is recorded about one message (its key: source, Message-ID, content hash)."""

    source: str
    ref: str
    message_id: str | None
    content_hash: str
    kind: MessageKind
    disposition: Disposition
    reason: str | None = None
    request_id: str | None = None
    alert_type: str | None = None


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    """A quarantined or rejected message (``raw``: its copy, when one is kept)."""

    source: str
    ref: str
    kind: str
    reason: str
    request_id: str | None
    raw: bytes | None


@dataclass(frozen=True, slots=True)
class AlertEntry:
    request_id: str
    alert_type: str
    deadline: date | None
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class NoticeEntry:
    """A notice for the beheerders' next report, keyed by its occasion (added once)."""

    key: str
    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class Intent:
    """A task-sink action for the outbox; ``{row}`` in the key is the message's row id."""

    request_id: str
    action: str
    idem_key: str
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    event: str
    request_id: str | None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Recording:
    """Everything one message changes in the state, committed together or not at all."""

    message: MessageEntry
    alert: AlertEntry | None = None
    request: RequestRecord | None = None  # the request's new state, when it changed
    quarantine: QuarantineEntry | None = None
    intents: tuple[Intent, ...] = ()
    audits: tuple[AuditEntry, ...] = ()
    notices: tuple[NoticeEntry, ...] = ()


# -- actions on a request (imi_mailwatch.desk) ---------------------------------------------


class Handling(StrEnum):
    """How the team finished its part in IMI (reply commands BEANTWOORD and friends)."""

    ANSWERED = "answered"
    FORWARDED = "forwarded"  # sent on to another authority
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class DeskState:
    """What people told the daemon about a request, kept apart from the request row
    (which the pipeline replaces whole on every alert). The empty state: nothing said."""

    request_id: str
    accepted_at: datetime | None = None
    answered_at: datetime | None = None  # when ``handled`` was recorded
    handled: Handling | None = None
    paused_until: date | None = None  # no reminders up to and including this day
    claimer: str | None = None  # lower-case address of whoever said IK PAK DIT OP
    route_confirmed_at: datetime | None = None  # AKKOORD / TEAM
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ActionEntry:
    """One command given about a request (applied or refused), for the action log."""

    request_id: str
    actor: str  # lower-case address, or ``cli:<os user>``
    via: str  # mail, cli, web
    command: str  # CommandKind value
    argument: str | None
    ok: bool
    result: str  # the Dutch text the actor was given
    reply_message_id: str | None = None  # the reply that carried it (mail only)
    confirmation_id: str | None = None  # Message-ID of the confirmation mail


@dataclass(frozen=True, slots=True)
class ActionRecord:
    id: int
    at: datetime
    entry: ActionEntry


class DeskMailStatus(StrEnum):
    PENDING = "pending"  # recorded; not yet handed to the notifier, or backing off
    SENDING = "sending"  # the notifier was called; not yet confirmed
    SENT = "sent"
    FAILED = "failed"  # refused permanently


@dataclass(frozen=True, slots=True)
class DeskMailRow:
    """A mail the desk owes (a confirmation, a notice to a team), as the store keeps it."""

    message_id: str
    request_id: str
    mail: OutgoingMail
    status: DeskMailStatus
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
