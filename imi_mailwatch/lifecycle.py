"""The life of an IMI request, driven by its alerts. Pure: values in, values out.

``apply_alert`` takes what the daemon knows of a request (or None) and one
alert, and returns the new state plus what must happen: create the task, add a
line to its memo, plan the follow-ups again, send the closing mail. Alerts that
arrive twice or out of order are handled here: a final state (closed, withdrawn)
is never left, a second "new request" creates nothing, and a follow-up alert
about a request the daemon has not seen creates the request on the default
route so that nothing is missed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from imi_mailwatch.memo import memo_line
from imi_mailwatch.minimise import authority_name
from imi_mailwatch.model import Alert, AlertType, RequestStatus, Route, TaskStatus
from imi_mailwatch.records import RequestRecord

# alerts that introduce a request to this authority
OPENING = frozenset({AlertType.NEW_REQUEST, AlertType.FORWARDED, AlertType.REFERRED})
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


@dataclass(frozen=True, slots=True)
class Transition:
    """The outcome of applying one alert."""

    record: RequestRecord
    create_task: bool = False
    memo_line: str | None = None
    replan: bool = False
    closed: bool = False  # the request just reached a final state
    changed: bool = True


def needs_route(current: RequestRecord | None, alert: Alert) -> bool:
    """Whether routing rules must be consulted for this alert."""
    return current is None and alert.alert_type not in OUTGOING


def apply_alert(
    current: RequestRecord | None, alert: Alert, route: Route | None, now: datetime, today: date
) -> Transition:
    """Apply one alert to the request it concerns."""
    if current is None:
        return _first_alert(alert, route, now)

    record = current
    if record.status.is_final:
        # closed or withdrawn stays so; a late alert is only noted in the history
        return Transition(record=record, changed=False)

    new_status = _STATUS_AFTER.get(alert.alert_type, record.status)
    deadline = record.deadline
    # a proposed date is not yet agreed: reminders keep following the agreed one
    proposal_only = alert.alert_type is AlertType.DEADLINE_PROPOSED and record.deadline is not None
    deadline_moved = (
        alert.deadline is not None and alert.deadline != record.deadline and not proposal_only
    )
    if deadline_moved:
        deadline = alert.deadline
    record = replace(
        record,
        status=new_status,
        deadline=deadline,
        updated_at=now,
        closed_at=now if new_status.is_final else record.closed_at,
        service_activities=record.service_activities or alert.service_activities,
        member_state=record.member_state or alert.member_state,
        legislative_area=record.legislative_area or alert.legislative_area,
        requesting_authority=record.requesting_authority
        or authority_name(alert.requesting_authority),
    )
    text = _MEMO_TEXT[alert.alert_type]
    if proposal_only and alert.deadline is not None and record.deadline is not None:
        text += (
            f": {alert.deadline:%d-%m-%Y}. Tot IMI een gewijzigde datum meldt, blijft "
            f"{record.deadline:%d-%m-%Y} de antwoorddatum."
        )
    elif alert.deadline is not None and alert.alert_type in (
        AlertType.DEADLINE_PROPOSED,
        AlertType.DEADLINE_CHANGED,
        AlertType.INFO_REQUESTED,
        AlertType.REMINDER,
    ):
        text += f"; antwoorddatum {alert.deadline:%d-%m-%Y}."
    elif text.endswith(("gewijzigd", "voorgesteld", "informatie", "antwoorddatum")):
        text += "."
    return Transition(
        record=record,
        memo_line=memo_line(today, text),
        replan=deadline_moved or new_status.is_final,
        closed=new_status.is_final,
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
    )
    create = not outgoing and not status.is_final
    return Transition(record=record, create_task=create, replan=create)
