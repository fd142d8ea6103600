"""What one message changes: a classified message in, one ``Recording`` out. Pure.

Given the classification, what the store knows of the request and the route
(when one is needed), ``decide`` says what to record, which task-sink intents
to queue and what the audit trail says; the pipeline commits that value with
one call (``ports.Recorder.commit``) and acknowledges afterwards.

``decide_message`` is the one path from a classified message to its decision:
the daemon's pipeline records what it returns, and ``route`` (the dry run) shows
it, so the dry run cannot tell a different story than the daemon.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from imi_mailwatch.clock import local_today, parse_day, parse_ts
from imi_mailwatch.config import Beheerder, Config
from imi_mailwatch.lifecycle import OPENING, Seen, Transition, apply_alert, needs_route
from imi_mailwatch.memo import compose_memo, task_subject, task_summary
from imi_mailwatch.model import (
    Alert,
    AlertType,
    Classification,
    Disposition,
    Forward,
    MessageKind,
    Module,
    RawMessage,
    Route,
    alert_to_payload,
)
from imi_mailwatch.records import (
    AlertEntry,
    AuditEntry,
    Intent,
    MessageEntry,
    NoticeEntry,
    QuarantineEntry,
    Recording,
    RequestRecord,
)

if TYPE_CHECKING:  # route (the dry run) decides without importing these
    from imi_mailwatch.deadlines.calendar import BusinessCalendar
    from imi_mailwatch.texts import TextBook

# (alert type, reply date, sent or recorded at) of the alerts recorded for a request
EarlierAlerts = Sequence[tuple[str, date | None, datetime | None]]


class Outcome(StrEnum):
    """What became of one message (the ``outcome`` field of ``message.handled``)."""

    TASK_CREATED = "task_created"  # a new request: its task is created
    TASK_QUEUED = "task_queued"  # a new request: its task waits in the outbox (sink down)
    TASK_HELD = "task_held"  # a new request: its task waits for AKKOORD (routing: propose)
    FORWARD = "forward"  # a new request a rule sends out of the province: beheerders told
    REQUEST_UPDATED = "request_updated"  # a later alert on a known request
    NOTED = "noted"  # recorded, nothing to do (late alert on a closed request)
    IGNORED = "ignored"  # ordinary mail, left alone
    QUARANTINED = "quarantined"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"  # seen before: only acknowledged again
    # replies to the daemon's mails (imi_mailwatch.reply_path)
    REPLY_APPLIED = "reply_applied"  # a trusted, allowed command: carried out
    REPLY_REFUSED = "reply_refused"  # trusted, but not allowed (or refused): answered
    REPLY_UNTRUSTED = "reply_untrusted"  # the sender is not confirmed: answered, nothing done
    REPLY_HELP = "reply_help"  # no command or not one: the help answer
    REPLY_UNLINKED = "reply_unlinked"  # names no request the daemon knows: answered
    REPLY_AUTOMATIC = "reply_automatic"  # out-of-office, delivery report: recorded only


@dataclass(frozen=True, slots=True)
class ReplyResult:
    """What became of a reply to the daemon's mails (``reply_path``), and its row."""

    outcome: Outcome
    request_id: str | None
    reason: str
    row_id: int


class Classifier(Protocol):
    def classify(self, data: bytes) -> Classification: ...


class Router(Protocol):
    def route(self, alert: Alert) -> Route: ...


class RequestHistory(Protocol):
    """What the decision reads of the state: the request and its recorded alerts."""

    def get_request(self, request_id: str) -> RequestRecord | None: ...

    def alert_history(self, request_id: str) -> list[dict[str, Any]]: ...


DISPOSITION = {
    Outcome.TASK_CREATED: Disposition.HANDLED,
    Outcome.TASK_QUEUED: Disposition.HANDLED,
    Outcome.TASK_HELD: Disposition.HANDLED,
    Outcome.FORWARD: Disposition.HANDLED,
    Outcome.REQUEST_UPDATED: Disposition.HANDLED,
    Outcome.NOTED: Disposition.HANDLED,
    Outcome.IGNORED: Disposition.IGNORED,
    Outcome.QUARANTINED: Disposition.QUARANTINED,
    Outcome.REJECTED: Disposition.REJECTED,
    Outcome.REPLY_APPLIED: Disposition.HANDLED,
    Outcome.REPLY_REFUSED: Disposition.HANDLED,
    Outcome.REPLY_UNTRUSTED: Disposition.REJECTED,  # like a forged alert
    Outcome.REPLY_HELP: Disposition.HANDLED,
    Outcome.REPLY_UNLINKED: Disposition.HANDLED,
    Outcome.REPLY_AUTOMATIC: Disposition.HANDLED,
}
REPLY_OUTCOMES = frozenset(o for o in Outcome if o.value.startswith("reply_"))


@dataclass(frozen=True, slots=True)
class ModuleSettings:
    """How the requests of one SDG module differ from Services requests."""

    memo_template: str
    term_working_days: int | None = None  # the reply term when the alert names no date


@dataclass(frozen=True, slots=True)
class TaskSettings:
    """What a new task carries besides the alert (from the configuration)."""

    memo_template: str
    beheerders: Sequence[Beheerder]
    confidentiality: str | None = None
    keep_raw_quarantine: bool = True
    texts: TextBook | None = None  # the beheerders' memo.j2; None: the shipped one
    modules: Mapping[Module, ModuleSettings] = field(default_factory=dict)
    # ``term(day, n)``: the working day n working days after ``day`` (the calendar)
    term: Callable[[date, int], date] | None = None
    functional_mailbox: str | None = None  # not a handler: every alert is copied to it


def module_settings(cfg: Config) -> dict[Module, ModuleSettings]:
    """The SDG modules' memo and term from the configuration."""
    return {
        Module.SDG_EVIDENCE: ModuleSettings(
            cfg.modules.sdg_evidence.memo_template, cfg.modules.sdg_evidence.term_working_days
        ),
        Module.SDG_EXCEPTIONS: ModuleSettings(
            cfg.modules.sdg_exceptions.memo_template,
            cfg.modules.sdg_exceptions.term_working_days,
        ),
    }


def working_day_term(cfg: Config) -> Callable[[date, int], date]:
    """``term(day, n)`` on the province's working days (the calendar is built on first use)."""
    deadlines = cfg.deadlines

    @functools.cache
    def calendar() -> BusinessCalendar:
        from imi_mailwatch.deadlines.calendar import calendar_of

        return calendar_of(deadlines)

    def term(day: date, working_days: int) -> date:
        return calendar().shift(day, working_days)

    return term


def with_term(alert: Alert, settings: TaskSettings, today: date) -> Alert:
    """An opening alert of a module with a term gets that reply date when it names none."""
    module = settings.modules.get(alert.module)
    if (
        alert.deadline is not None
        or alert.alert_type not in OPENING
        or module is None
        or module.term_working_days is None
        or settings.term is None
    ):
        return alert
    return replace(alert, deadline=settings.term(today, module.term_working_days))


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    recording: Recording
    reason: str | None = None
    transition: Transition | None = None  # for the follow-up planner


def note(
    raw: RawMessage, c: Classification, outcome: Outcome, reason: str, *, keep_raw: bool
) -> Decision:
    """Ordinary mail, a rejected alert or an unreadable one: record it (and quarantine)."""
    alert = c.alert
    request_id = alert.request_id if alert and alert.request_id else None
    alert_type = alert.alert_type.value if alert else None
    message = message_entry(
        raw, c, outcome, request_id=request_id, reason=reason, alert_type=alert_type
    )
    if outcome not in (Outcome.QUARANTINED, Outcome.REJECTED):
        return Decision(outcome, Recording(message), reason)
    item = QuarantineEntry(
        raw.source, raw.ref, outcome.value, reason, request_id, raw.data if keep_raw else None
    )
    audit = AuditEntry(f"message.{outcome.value}", request_id, {"source": raw.source,
                                                                "reason": reason})  # fmt: skip
    return Decision(outcome, Recording(message, quarantine=item, audits=(audit,)), reason)


def unreadable(raw: RawMessage, c: Classification, *, keep_raw: bool) -> Decision | None:
    """The note for a message that is no alert with a request id; None for such an alert."""
    if c.kind is MessageKind.NOT_IMI:
        return note(raw, c, Outcome.IGNORED, c.reason or "not an IMI alert", keep_raw=keep_raw)
    if c.kind is MessageKind.REJECTED:
        reason = c.reason or "failed authentication"
        return note(raw, c, Outcome.REJECTED, reason, keep_raw=keep_raw)
    if c.alert is None or not c.alert.request_id:
        reason = c.reason or "IMI alert without a request id"
        return note(raw, c, Outcome.QUARANTINED, reason, keep_raw=keep_raw)
    return None


def decide_message(
    raw: RawMessage,
    c: Classification,
    *,
    history: RequestHistory,
    router: Router,
    now: datetime,
    settings: TaskSettings,
) -> tuple[Decision, Route | None]:
    """What one classified message changes, and the route when the rules were consulted.

    Reads the request and its recorded alerts from ``history``; changes nothing.
    """
    decision = unreadable(raw, c, keep_raw=settings.keep_raw_quarantine)
    if decision is not None:
        return decision, None
    assert c.alert is not None and c.alert.request_id
    alert = c.alert
    current = history.get_request(alert.request_id)
    earlier = [
        (r["alert_type"], parse_day(r["deadline"]), parse_ts(r["sent_at"] or r["recorded_at"]))
        for r in history.alert_history(alert.request_id)
    ]
    seen = [Seen(AlertType(kind), day, at) for kind, day, at in earlier]
    route = router.route(alert) if needs_route(current, alert, seen) else None
    decision = decide_alert(
        raw, c, alert, current=current, route=route, now=now, settings=settings, earlier=earlier
    )
    return decision, route


def decide_alert(
    raw: RawMessage,
    c: Classification,
    alert: Alert,
    *,
    current: RequestRecord | None,
    route: Route | None,
    now: datetime,
    settings: TaskSettings,
    earlier: EarlierAlerts = (),
) -> Decision:
    """An alert about a request: the request's new state, its task intents, the audit.

    ``earlier``: the alerts already recorded for the request; the alerts are applied
    in IMI's order (``lifecycle``), and a second copy of one of them (a beheerder's
    personal forward) adds no memo line.
    """
    request_id = alert.request_id or ""
    today = local_today(now)
    alert = with_term(alert, settings, today)
    seen = [Seen(AlertType(kind), day, at) for kind, day, at in earlier]
    transition = apply_alert(current, alert, route, now, today, seen)
    transition = _own_request_handlers(transition, alert, settings)
    forward = route.forward if route is not None and transition.changed else None
    outcome = (
        Outcome.TASK_CREATED
        if transition.create_task
        else Outcome.FORWARD
        if forward is not None
        else Outcome.REQUEST_UPDATED
        if transition.changed
        else Outcome.NOTED
    )
    audits = []
    notices = []
    if route is not None:
        audits.append(AuditEntry("request.routed", request_id, {"rule": route.rule,
                      "team": route.team.key, "default": route.is_default}))  # fmt: skip
    if forward is not None and route is not None:
        notices.append(forward_notice(request_id, forward, route.rule))
        audits.append(AuditEntry("request.forward", request_id, {"rule": route.rule,
                      "to": forward.to}))  # fmt: skip
    audits.append(AuditEntry("alert.recorded", request_id, {"alert_type": alert.alert_type.value,
                  "source": raw.source, "deadline": alert.deadline}))  # fmt: skip
    intents = []
    if transition.create_task and route is not None:
        payload = _task_payload(raw, alert, route, today, settings)
        intents.append(Intent(request_id, "create_task", f"create:{request_id}", payload))
    for i, line in enumerate(transition.memo_lines):
        key = f"annotate:{request_id}:{{row}}" + (f":{i}" if i else "")
        intents.append(Intent(request_id, "annotate", key, {"line": line}))
    message = message_entry(
        raw, c, outcome, request_id=request_id, reason=None, alert_type=alert.alert_type.value
    )
    recording = Recording(
        message,
        alert=AlertEntry(request_id, alert.alert_type.value, alert.deadline, alert.sent_at),
        request=transition.record if transition.changed else None,
        intents=tuple(intents),
        audits=tuple(audits),
        notices=tuple(notices),
    )
    return Decision(outcome, recording, None, transition)


def _own_request_handlers(t: Transition, alert: Alert, settings: TaskSettings) -> Transition:
    """The province's own request: its handlers are the alert's addressees (IMI mails the
    handlers of a request), less the functional mailbox; none known: the beheerders."""
    if not t.record.outgoing or t.record.handlers:
        return t
    mailbox = (settings.functional_mailbox or "").lower()
    handlers = tuple(a for a in alert.addressees if a != mailbox)
    return replace(t, record=replace(t.record, handlers=handlers)) if handlers else t


def message_entry(
    raw: RawMessage,
    c: Classification,
    outcome: Outcome,
    *,
    request_id: str | None,
    reason: str | None,
    alert_type: str | None = None,
    kind: MessageKind | None = None,
) -> MessageEntry:
    """The message's record: its outcome's disposition, ``kind`` (default: the verdict's)."""
    return MessageEntry(
        source=raw.source,
        ref=raw.ref,
        message_id=c.message_id,
        content_hash=raw.content_hash,
        kind=kind or c.kind,
        disposition=DISPOSITION[outcome],
        reason=reason,
        request_id=request_id,
        alert_type=alert_type,
    )


def _task_payload(
    raw: RawMessage, alert: Alert, route: Route, today: date, settings: TaskSettings
) -> dict[str, object]:
    module = settings.modules.get(alert.module)
    template = module.memo_template if module is not None else settings.memo_template
    memo = compose_memo(
        template,
        None if module is not None else settings.texts,  # an SDG memo is its module's own
        field=route.field,
        beheerders=settings.beheerders,
        today=today,
        deadline=alert.deadline,
        request_id=alert.request_id or "",
        team=route.team.name,
    )
    return {
        "request_id": alert.request_id,
        "team": {
            "key": route.team.key,
            "name": route.team.name,
            "org_unit": route.team.org_unit,
            "mailbox": route.team.mailbox,
            "handlers": list(route.team.handlers),
        },
        "subject": task_subject(alert),
        "summary": task_summary(alert, today),
        "memo": memo,
        # the memo is rendered again when Corsa is called, so its count is current
        "memo_template": template,
        "memo_own_template": module is not None,
        "memo_field": route.field,
        "memo_beheerders": [b.model_dump() for b in settings.beheerders],
        "received_on": today.isoformat(),
        "deadline": alert.deadline.isoformat() if alert.deadline else None,
        "alert_eml": base64.b64encode(raw.data).decode("ascii"),
        "alert": alert_to_payload(alert),
        "confidentiality": settings.confidentiality,
    }


def forward_notice(request_id: str, forward: Forward, rule: str | None) -> NoticeEntry:
    """The beheerders' notice for a request a rule forwards out of the province."""
    return NoticeEntry(
        f"forward:{request_id}",
        "forward",
        f"verzoek {request_id}: doorsturen naar {forward.to}. Reden: {forward.reason} "
        f"(regel '{rule}').",
    )
