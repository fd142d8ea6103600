"""Value objects shared by the core and the adapters. Pure: no I/O, no clocks."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class AlertType(StrEnum):
    """What an IMI alert says happened to a request (codes of ALERTS.md)."""

    NEW_REQUEST = "new_request"
    ALLOCATED = "allocated"
    FORWARDED = "forwarded"
    DEADLINE_PROPOSED = "deadline_proposed"
    DEADLINE_CHANGED = "deadline_changed"
    INFO_REQUESTED = "info_requested"
    REPLY_RECEIVED = "reply_received"
    REMINDER = "reminder"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    REFERRED = "referred"
    UNKNOWN = "unknown"


class Module(StrEnum):
    """The IMI module an alert belongs to (the three the work instruction names for PNB)."""

    SERVICES = "services"  # Services (Dienstenrichtlijn) information requests
    SDG_EVIDENCE = "sdg_evidence"  # SDG: verification of the authenticity of electronic evidence
    SDG_EXCEPTIONS = "sdg_exceptions"  # SDG: notification of exceptions to online procedures


class MessageKind(StrEnum):
    """What a message is, as far as the daemon is concerned."""

    IMI_ALERT = "imi_alert"
    NOT_IMI = "not_imi"
    REJECTED = "rejected"
    REPLY = "reply"  # a reply to one of the daemon's own mails (imi_mailwatch.reply_path)


class Disposition(StrEnum):
    """Where a message goes at its source once its outcome is recorded."""

    HANDLED = "handled"  # moved to the processed folder
    IGNORED = "ignored"  # ordinary mail: left where it is
    QUARANTINED = "quarantined"  # could not be handled: quarantine folder
    REJECTED = "rejected"  # claims to be IMI but failed authentication: rejected folder


class RequestStatus(StrEnum):
    """The life of an IMI request as the daemon follows it."""

    OPEN = "open"
    ALLOCATED = "allocated"
    INFO_REQUESTED = "info_requested"
    ANSWERED = "answered"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"

    @property
    def is_final(self) -> bool:
        return self in (RequestStatus.CLOSED, RequestStatus.WITHDRAWN)


class TaskStatus(StrEnum):
    """Where the Corsa task of a request stands."""

    PENDING = "pending"  # intent recorded, not yet confirmed by the sink
    CREATED = "created"
    PARKED = "parked"  # the sink refused it permanently; the beheerders were told


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message as a mail source hands it over: bytes plus where it lives."""

    source: str  # the mailbox name from configuration
    ref: str  # source-specific locator: "UIDVALIDITY:UID", a file name, a Graph id
    data: bytes
    received_at: datetime | None = None

    @property
    def content_hash(self) -> str:
        """SHA-256 of the bytes: the second key next to Message-ID."""
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True, slots=True)
class AuthVerdict:
    """Whether a message may be trusted, and why (no personal data in ``reason``)."""

    trusted: bool
    reason: str
    via_forwarder: bool = False


@dataclass(frozen=True, slots=True)
class Alert:
    """The fields read from one IMI alert."""

    alert_type: AlertType
    request_id: str
    language: str | None = None
    legislative_area: str | None = None
    requesting_authority: str | None = None
    member_state: str | None = None  # ISO 3166-1 alpha-2
    service_activities: tuple[str, ...] = ()
    deadline: date | None = None
    subject: str = ""
    message_id: str | None = None
    sent_at: datetime | None = None
    module: Module = Module.SERVICES
    addressees: tuple[str, ...] = ()  # To and Cc of the alert, lower case (IMI mails handlers)


@dataclass(frozen=True, slots=True)
class Classification:
    """The verdict on one message: what it is, why, and what was read from it."""

    kind: MessageKind
    reason: str | None = None
    alert: Alert | None = None
    auth: AuthVerdict | None = None
    message_id: str | None = None
    problems: tuple[str, ...] = ()  # parts not recognised (for calibrate and logs)


@dataclass(frozen=True, slots=True)
class ReminderStep:
    """One step of a reminder schedule.

    ``offset`` counts working days relative to the reply date: -5 is five working
    days before, 0 is the day itself, 1 the first working day after. ``repeat``
    marks the overdue step that recurs every working day after ``offset``.
    """

    offset: int
    recipients: tuple[str, ...] = ("team",)  # team, handlers, beheerders, escalation
    repeat: bool = False

    @property
    def key(self) -> str:
        return f"d{self.offset:+d}" + ("r" if self.repeat else "")


@dataclass(frozen=True, slots=True)
class Team:
    """A team that handles requests: its Corsa organisation unit and its mailbox."""

    key: str
    name: str
    org_unit: str
    mailbox: str | None = None
    handlers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Forward:
    """A request that is not for this authority: the beheerders forward it in IMI."""

    to: str  # the authority to forward to, as the rule names it
    reason: str  # the rule's reason, for the beheerders' mail


@dataclass(frozen=True, slots=True)
class Route:
    """Where a request goes and which rule decided it.

    With ``forward`` the request leaves the province: no task is created, the
    beheerders are told to forward it in IMI; ``team`` is then the default
    route's team (the beheerders), who own the request until it is forwarded.
    """

    team: Team
    field: str  # the memo's {vakgebied}
    rule: str | None  # the rule's name; None for the default route
    is_default: bool = False
    schedule: tuple[ReminderStep, ...] | None = None  # the rule's own schedule, if any
    forward: Forward | None = None


@dataclass(frozen=True, slots=True)
class TaskRequest:
    """Everything a task sink needs to create the task for one request."""

    request_id: str
    team: Team
    subject: str
    summary: str
    memo: str
    received_on: date
    deadline: date | None
    alert_eml: bytes
    alert: Alert
    confidentiality: str | None = None


@dataclass(frozen=True, slots=True)
class TaskRef:
    """A task as the sink knows it: which sink and its own reference."""

    sink: str
    ref: str


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str  # "text/calendar"
    data: bytes


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """An e-mail the daemon sends: reminders, escalations, reports to the beheerders.

    ``message_id`` is derived from what the mail is about (request and step), so a
    retry carries the same id and a receiving server or a reader can tell a repeat.
    """

    message_id: str
    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    cc: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)


LOOP_HEADER = "X-IMI-Mailwatch"
"""Set on every mail the daemon sends; a message carrying it is never processed."""


def alert_to_payload(alert: Alert) -> dict[str, Any]:
    """An alert as JSON-able data (the outbox's task payload)."""
    data = asdict(alert)
    data["alert_type"] = alert.alert_type.value
    data["deadline"] = alert.deadline.isoformat() if alert.deadline else None
    data["sent_at"] = alert.sent_at.isoformat() if alert.sent_at else None
    data["service_activities"] = list(alert.service_activities)
    data["module"] = alert.module.value
    data["addressees"] = list(alert.addressees)
    return data


def alert_from_payload(data: dict[str, Any]) -> Alert:
    """The alert back from ``alert_to_payload``."""
    return Alert(
        alert_type=AlertType(data["alert_type"]),
        request_id=data["request_id"],
        language=data.get("language"),
        legislative_area=data.get("legislative_area"),
        requesting_authority=data.get("requesting_authority"),
        member_state=data.get("member_state"),
        service_activities=tuple(data.get("service_activities") or ()),
        deadline=date.fromisoformat(data["deadline"]) if data.get("deadline") else None,
        subject=data.get("subject") or "",
        message_id=data.get("message_id"),
        sent_at=datetime.fromisoformat(data["sent_at"]) if data.get("sent_at") else None,
        module=Module(data.get("module") or Module.SERVICES),
        addressees=tuple(data.get("addressees") or ()),
    )
