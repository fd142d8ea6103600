"""The life of an IMI request, driven by its alerts. Pure: values in, values out.

``apply_alert`` takes what the daemon knows of a request (or None) and one
alert, and returns the new state plus what must happen: create the task, add a
line to its memo, plan the follow-ups again, send the closing mail. Alerts that
arrive twice or out of order are handled here: a final state (closed, withdrawn)
is never left, a second "new request" creates nothing.

Order does not matter: the alerts of a request are applied in the order IMI sent
them (their sent time, then the order of a request's life for alerts sent at the
same moment), not in the order they arrive. A follow-up about a request the
daemon has not seen yet makes a *pending* request (no team, no task); the alert
that opens it (new request, forwarded) routes it later by the rules and creates
its task with the memo lines of every alert recorded so far. So any arrival
order of the same alerts ends in the same request, task, memo lines and plan.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from imi_mailwatch.memo import memo_line
from imi_mailwatch.minimise import authority_name
from imi_mailwatch.model import Alert, AlertType, RequestStatus, Route, TaskStatus
from imi_mailwatch.records import RequestRecord

# alerts that introduce a request to this authority, with the fields the rules route on
OPENING = frozenset({AlertType.NEW_REQUEST, AlertType.FORWARDED})
# alerts about requests this authority made itself (not a task for a team)
OUTGOING = frozenset({AlertType.REPLY_RECEIVED})

_STATUS_AFTER: dict[AlertType, RequestStatus] = {
    AlertType.ALLOCATED: RequestStatus.ALLOCATED,
    AlertType.INFO_REQUESTED: RequestStatus.INFO_REQUESTED,
    AlertType.REPLY_RECEIVED: RequestStatus.ANSWERED,
    AlertType.CLOSED: RequestStatus.CLOSED,
    AlertType.WITHDRAWN: RequestStatus.WITHDRAWN,
}

_MEMO_TEXT: dict[AlertType, str] = {
    AlertType.NEW_REQUEST: "IMI meldt het verzoek opnieuw als nieuw verzoek.",
    AlertType.FORWARDED: "IMI: het verzoek is (opnieuw) naar onze autoriteit doorgestuurd.",
    AlertType.REFERRED: "IMI: het verzoek is doorverwezen naar de coördinator.",
    AlertType.ALLOCATED: "IMI: het verzoek is in IMI aan een behandelaar toegewezen.",
    AlertType.DEADLINE_PROPOSED: "IMI: er is een nieuwe antwoorddatum voorgesteld",
    AlertType.DEADLINE_CHANGED: "IMI: de antwoorddatum is gewijzigd",
    AlertType.INFO_REQUESTED: "IMI: de verzoekende autoriteit vraagt aanvullende informatie",
    AlertType.REPLY_RECEIVED: "IMI: er is een antwoord ontvangen.",
    AlertType.REMINDER: "IMI heeft een herinnering gestuurd over de antwoorddatum",
    AlertType.CLOSED: "IMI: het verzoek is afgesloten door de verzoekende autoriteit.",
    AlertType.WITHDRAWN: "IMI: het verzoek is ingetrokken door de verzoekende autoriteit.",
    AlertType.UNKNOWN: "IMI heeft een bericht gestuurd dat niet herkend werd; zie IMI.",
}


# the order of a request's life, for alerts IMI sent at the same moment
_RANK = {
    t: i
    for i, t in enumerate(
        (
            AlertType.NEW_REQUEST,
            AlertType.FORWARDED,
            AlertType.REFERRED,
            AlertType.ALLOCATED,
            AlertType.DEADLINE_PROPOSED,
            AlertType.DEADLINE_CHANGED,
            AlertType.INFO_REQUESTED,
            AlertType.REMINDER,
            AlertType.REPLY_RECEIVED,
            AlertType.UNKNOWN,
            AlertType.CLOSED,
            AlertType.WITHDRAWN,
        )
    )
}
_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Seen:
    """An alert recorded for a request: what IMI said and when it said it."""

    alert_type: AlertType
    deadline: date | None
    sent_at: datetime | None  # the alert's sent time, else when it was recorded

    @property
    def order(self) -> tuple[datetime, int]:
        at = self.sent_at or _NEVER
        return (at if at.tzinfo else at.replace(tzinfo=UTC), _RANK[self.alert_type])


@dataclass(frozen=True, slots=True)
class Transition:
    """The outcome of applying one alert."""

    record: RequestRecord
    create_task: bool = False
    memo_lines: tuple[str, ...] = field(default=())
    replan: bool = False
    closed: bool = False  # the request just reached a final state
    changed: bool = True

    @property
    def memo_line(self) -> str | None:
        """The first new memo line (most alerts add one or none)."""
        return self.memo_lines[0] if self.memo_lines else None


def is_pending(current: RequestRecord | None, earlier: Sequence[Seen]) -> bool:
    """A request known only from follow-ups: no alert has opened it yet."""
    return (
        current is not None
        and current.team_key is None
        and not any(s.alert_type in OPENING | OUTGOING for s in earlier)
    )


def needs_route(current: RequestRecord | None, alert: Alert, earlier: Sequence[Seen] = ()) -> bool:
    """Whether routing rules must be consulted: an opening alert of a new or pending request."""
    return alert.alert_type in OPENING and (current is None or is_pending(current, earlier))


def apply_alert(  # noqa: PLR0917 (the pure core's one entry point)
    current: RequestRecord | None,
    alert: Alert,
    route: Route | None,
    now: datetime,
    today: date,
    earlier: Sequence[Seen] = (),
) -> Transition:
    """Apply one alert to the request it concerns.

    ``earlier``: the alerts already recorded for the request. With them the alerts
    are applied in IMI's order; without them ``alert`` is applied after ``current``.
    """
    this = Seen(alert.alert_type, alert.deadline, alert.sent_at or now)
    if current is None:
        if alert.alert_type in OPENING or alert.alert_type in OUTGOING or route is not None:
            return _first_alert(alert, route, now)
        return _pending(alert, now)
    if route is not None and is_pending(current, earlier):
        return _opened_late(current, alert, route, now, today, earlier)
    ordered = _ordered(earlier)
    # in IMI's order (the usual case) the alert is applied on top of the current state,
    # which keeps what was changed by hand; out of order the state is folded again
    in_order = not ordered or ordered[-1].order <= this.order
    after = _fold(_Fold(current.status, current.deadline), [this])
    if not in_order:
        after = _fold(_Fold(), _ordered([*earlier, this]))
    if earlier:  # the memo lines: those of every alert in IMI's order, less those made
        previous = _fold(_Fold(), ordered).lines
        lines = _minus(_fold(_Fold(), _ordered([*earlier, this])).lines, previous)
    else:
        lines = after.lines
    if current.task_status is None:
        lines = []
    record = _merge(current, alert)
    record = replace(record, status=after.status, deadline=after.deadline)
    reply = alert.alert_type in OUTGOING and current.team_key is None
    if reply and not current.outgoing:  # a pending request turns out to be our own
        record = replace(record, outgoing=True)
    deadline_moved = record.deadline != current.deadline
    closed = record.status.is_final and not current.status.is_final
    changed = bool(lines) or record != current
    if closed:
        record = replace(record, closed_at=now)
    if changed:
        record = replace(record, updated_at=now)
    return Transition(
        record=record if changed else current,
        memo_lines=tuple(memo_line(today, t) for t in lines),
        replan=deadline_moved or closed or (record.outgoing and reply and changed),
        closed=closed,
        changed=changed,
    )


@dataclass(slots=True)
class _Fold:
    status: RequestStatus = RequestStatus.OPEN
    deadline: date | None = None
    lines: list[str] = field(default_factory=list)


def _minus(lines: list[str], made: list[str]) -> list[str]:
    """``lines`` less those already ``made`` (as multisets)."""
    return list((Counter(lines) - Counter(made)).elements())


def _ordered(seen: Sequence[Seen]) -> list[Seen]:
    return sorted(seen, key=lambda s: s.order)


def _fold(start: _Fold, seen: Sequence[Seen]) -> _Fold:
    """The request's state after ``seen`` (in IMI's order), and the memo line of each.

    The first opening alert adds no line (it made the task); a second copy of an
    alert (a beheerder's personal forward) adds none; nothing after a final state.
    """
    state = _Fold(start.status, start.deadline)
    opened = False
    done: list[Seen] = []
    for s in seen:
        copy = any(_is_copy(d, s) for d in done)
        done.append(s)
        if state.status.is_final:
            continue
        proposal_only = s.alert_type is AlertType.DEADLINE_PROPOSED and state.deadline is not None
        text = _memo_text(s, state.deadline, proposal_only=proposal_only)
        state.status = _STATUS_AFTER.get(s.alert_type, state.status)
        if s.deadline is not None and not proposal_only:
            state.deadline = s.deadline
        if s.alert_type in OPENING and not opened:
            opened = True
        elif not copy:
            state.lines.append(text)
    return state


def _is_copy(a: Seen, b: Seen) -> bool:
    if a.alert_type is not b.alert_type or a.deadline != b.deadline:
        return False
    if a.sent_at is None or b.sent_at is None:
        return True
    return abs(a.order[0] - b.order[0]) < timedelta(days=1)


def _memo_text(s: Seen, deadline: date | None, *, proposal_only: bool) -> str:
    text = _MEMO_TEXT[s.alert_type]
    if proposal_only and s.deadline is not None and deadline is not None:
        return text + (
            f": {s.deadline:%d-%m-%Y}. Tot IMI een gewijzigde datum meldt, blijft "
            f"{deadline:%d-%m-%Y} de antwoorddatum."
        )
    if s.deadline is not None and s.alert_type in (
        AlertType.DEADLINE_PROPOSED,
        AlertType.DEADLINE_CHANGED,
        AlertType.INFO_REQUESTED,
        AlertType.REMINDER,
    ):
        return text + f"; antwoorddatum {s.deadline:%d-%m-%Y}."
    if text.endswith(("gewijzigd", "voorgesteld", "informatie", "antwoorddatum")):
        return text + "."
    return text


def _merge(record: RequestRecord, source: Alert | RequestRecord) -> RequestRecord:
    """Fields the request did not know yet, taken from the alert (or an earlier record)."""
    return replace(
        record,
        service_activities=record.service_activities or source.service_activities,
        member_state=record.member_state or source.member_state,
        legislative_area=record.legislative_area or source.legislative_area,
        requesting_authority=record.requesting_authority
        or authority_name(source.requesting_authority),
    )


def _pending(alert: Alert, now: datetime) -> Transition:
    """A follow-up about a request not seen yet: recorded, no team and no task yet."""
    after = _fold(_Fold(), [Seen(alert.alert_type, alert.deadline, alert.sent_at or now)])
    record = replace(
        _first_alert(alert, None, now).record,
        status=after.status,
        deadline=after.deadline,
        task_status=None,
    )
    closed = after.status.is_final
    return Transition(record=record, replan=closed or after.deadline is not None, closed=closed)


def _opened_late(  # noqa: PLR0917
    current: RequestRecord,
    alert: Alert,
    route: Route,
    now: datetime,
    today: date,
    earlier: Sequence[Seen],
) -> Transition:
    """The opening alert of a pending request: route it, create its task with every line."""
    first = _first_alert(alert, route, now)
    seen = _ordered([*earlier, Seen(alert.alert_type, alert.deadline, alert.sent_at or now)])
    after = _fold(_Fold(), seen)
    outgoing = bool(route.forward)
    record = replace(
        _merge(first.record, current),
        status=after.status,
        deadline=after.deadline,
        task_status=None if outgoing else TaskStatus.PENDING,
        created_at=current.created_at,
        closed_at=current.closed_at,
    )
    lines = () if outgoing else tuple(memo_line(today, t) for t in after.lines)
    return Transition(
        record=record,
        create_task=not outgoing,
        memo_lines=lines,
        replan=True,
        closed=False,
    )


def _first_alert(alert: Alert, route: Route | None, now: datetime) -> Transition:
    status = _STATUS_AFTER.get(alert.alert_type, RequestStatus.OPEN)
    # a request that leaves the province (a rule forwards it) gets no task either
    outgoing = alert.alert_type in OUTGOING or bool(route and route.forward)
    team = route.team if route else None
    record = RequestRecord(
        request_id=alert.request_id,
        status=status,
        team_key=team.key if team else None,
        team_name=team.name if team else None,
        org_unit=team.org_unit if team else None,
        team_mailbox=team.mailbox if team else None,
        handlers=team.handlers if team else (),
        rule=route.rule if route else None,
        field=route.field if route else None,
        is_default=bool(route and route.is_default),
        schedule=(
            [
                {"offset": s.offset, "to": list(s.recipients), "repeat": s.repeat}
                for s in route.schedule
            ]
            if route and route.schedule is not None
            else None
        ),
        deadline=alert.deadline,
        language=alert.language,
        legislative_area=alert.legislative_area,
        member_state=alert.member_state,
        service_activities=alert.service_activities,
        requesting_authority=authority_name(alert.requesting_authority),
        task_status=None if outgoing or status.is_final else TaskStatus.PENDING,
        task_sink=None,
        task_ref=None,
        created_at=now,
        updated_at=now,
        closed_at=now if status.is_final else None,
        module=alert.module,
        outgoing=alert.alert_type in OUTGOING,
    )
    create = not outgoing and not status.is_final
    # the province's own request: the planner mails its handler that a reply waits
    return Transition(record=record, create_task=create, replan=create or record.outgoing)
