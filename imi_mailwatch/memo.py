"""The standard memo and the task's subject lines. Pure.

The memo's ``{dagen}`` reads as Dutch on every day: "binnen 28 dagen", "binnen
1 dag", "vandaag", and once the date has passed the date itself ("uiterlijk
22-11-2026"), never "binnen -6 dagen". ``{antwoorddatum}`` is the reply date.
Both are filled in when Corsa is called (the outbox renders the memo then), so
a task delayed by an outage does not carry a stale count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, TypedDict, Unpack

from imi_mailwatch.config import DEFAULT_MEMO_TEMPLATE, Beheerder
from imi_mailwatch.model import Alert
from imi_mailwatch.wording import long_date

if TYPE_CHECKING:  # the text book is handed in; route renders the memo without one
    from imi_mailwatch.texts import TextBook

UNKNOWN_FIELD = "een nog onbekend vakgebied (de IMI-beheerders bepalen het team)"

_ROLES = {"first": "eerste aanspreekpunt", "backup": "backup"}


def beheerders_text(beheerders: Sequence[Beheerder]) -> str:
    """``J. de Vries (eerste aanspreekpunt, j.devries@brabant.nl) en …`` for {beheerders}."""
    if not beheerders:
        return "van team ICB (imi@brabant.nl)"
    parts = []
    for b in sorted(beheerders, key=lambda x: x.role != "first"):
        contact = ", ".join(x for x in (b.email, b.phone) if x)
        parts.append(f"{b.name} ({_ROLES[b.role]}, {contact})")
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " en " + parts[-1]


def days_left(today: date, deadline: date | None) -> int | None:
    """Calendar days from ``today`` to the reply date (negative once overdue)."""
    return None if deadline is None else (deadline - today).days


def days_phrase(today: date, deadline: date | None) -> str:
    """``{dagen}``: "binnen 28 dagen", "binnen 1 dag", "vandaag", "uiterlijk 22-11-2026"."""
    left = days_left(today, deadline)
    if left is None or deadline is None:
        return "binnen een nog onbekende termijn"
    if left < 0:
        return f"uiterlijk {deadline:%d-%m-%Y}"
    if left == 0:
        return "vandaag"
    return f"binnen {left} {'dag' if left == 1 else 'dagen'}"


# templates written for the old {dagen} (a bare number): "binnen {dagen} dagen"
_OLD_DAYS = re.compile(r"binnen\s+\{dagen\}\s+dag(?:en)?")


def render_memo(
    template: str,
    *,
    field: str,
    beheerders: Sequence[Beheerder],
    today: date,
    deadline: date | None,
) -> str:
    """The memo for the Corsa task: the beheerders' standard text, filled in."""
    return _OLD_DAYS.sub("{dagen}", template).format(
        vakgebied=field,
        beheerders=beheerders_text(beheerders),
        dagen=days_phrase(today, deadline),
        antwoorddatum=f"{deadline:%d-%m-%Y}" if deadline else "een nog onbekende datum",
    )


class MemoFacts(TypedDict):
    """What the memo of one request is made of (the keywords of the two functions below)."""

    field: str
    beheerders: Sequence[Beheerder]
    today: date
    deadline: date | None
    request_id: str
    team: str


def memo_context(**facts: Unpack[MemoFacts]) -> dict[str, object]:
    """The placeholders of the ``memo`` text (``teksten/memo.j2``, docs/teksten.md)."""
    deadline = facts["deadline"]
    return {
        "vakgebied": facts["field"],
        "beheerders": beheerders_text(facts["beheerders"]),
        "dagen": days_left(facts["today"], deadline),
        "antwoorddatum": long_date(deadline) if deadline else "onbekend",
        "verzoek": facts["request_id"],
        "team": facts["team"],
    }


def compose_memo(template: str, texts: TextBook | None, **facts: Unpack[MemoFacts]) -> str:
    """The memo of a new task: the beheerders' ``teksten/memo.j2``, else the shipped one.

    An ops configuration that still sets ``memo.template`` (the older place, with
    ``{vakgebied}`` placeholders) keeps it in use until the beheerders write a memo.j2.
    """
    if texts is not None and (texts.has_own("memo") or template == DEFAULT_MEMO_TEMPLATE):
        return texts.render("memo", **memo_context(**facts))
    return render_memo(
        template,
        field=facts["field"],
        beheerders=facts["beheerders"],
        today=facts["today"],
        deadline=facts["deadline"],
    )


def is_copy(
    earlier: Sequence[tuple[str, date | None, datetime | None]],
    alert_type: str,
    deadline: date | None,
    when: datetime | None,
) -> bool:
    """Whether an alert is a second copy of one already recorded for the request.

    ``earlier`` holds (alert type, deadline, sent or recorded at) of the request's
    recorded alerts. A copy (a beheerder's personal forward of the same alert) has
    the same type and reply date and was sent within a day of it; it adds no memo line.
    """
    for kind, day, at in earlier:
        if kind != alert_type or day != deadline:
            continue
        if when is None or at is None:
            return True
        if (when.tzinfo is None) != (at.tzinfo is None):  # one without a zone: compare days
            if abs((when.date() - at.date()).days) <= 1:
                return True
        elif abs(when - at) < timedelta(days=1):
            return True
    return False


def task_subject(alert: Alert) -> str:
    """The Corsa subject: request id, activities and member state; no personal data."""
    activities = "; ".join(alert.service_activities) or "dienstverleningsactiviteit onbekend"
    country = f" ({alert.member_state})" if alert.member_state else ""
    return f"IMI-verzoek {alert.request_id}: {activities}{country}"[:250]


def task_summary(alert: Alert, received_on: date) -> str:
    """The content summary (poststuk.inhoud1)."""
    deadline = alert.deadline.strftime("%d-%m-%Y") if alert.deadline else "onbekend"
    authority = alert.requesting_authority or "onbekend"
    return (
        f"IMI-informatieverzoek {alert.request_id} ontvangen op {received_on:%d-%m-%Y}. "
        f"Verzoekende autoriteit: {authority}. Gevraagde antwoorddatum: {deadline}."
    )


def memo_line(when: date, text: str) -> str:
    """A dated line appended to the memo when a later alert arrives."""
    return f"{when:%d-%m-%Y}: {text}"
