"""The standard memo and the task's subject lines. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from imi_mailwatch.config import DEFAULT_MEMO_TEMPLATE, Beheerder
from imi_mailwatch.model import Alert
from imi_mailwatch.texts import TextBook
from imi_mailwatch.wording import long_date

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


def render_memo(
    template: str,
    *,
    field: str,
    beheerders: Sequence[Beheerder],
    today: date,
    deadline: date | None,
) -> str:
    """The memo for the Corsa task: the beheerders' standard text, filled in."""
    left = days_left(today, deadline)
    return template.format(
        vakgebied=field,
        beheerders=beheerders_text(beheerders),
        dagen="een onbekend aantal" if left is None else str(left),
    )


def memo_context(
    *,
    field: str,
    beheerders: Sequence[Beheerder],
    today: date,
    deadline: date | None,
    request_id: str,
    team: str,
) -> dict[str, object]:
    """The placeholders of the ``memo`` text (``teksten/memo.j2``, docs/teksten.md)."""
    return {
        "vakgebied": field,
        "beheerders": beheerders_text(beheerders),
        "dagen": days_left(today, deadline),
        "antwoorddatum": long_date(deadline) if deadline else "onbekend",
        "verzoek": request_id,
        "team": team,
    }


def compose_memo(
    template: str,
    texts: TextBook | None,
    *,
    field: str,
    beheerders: Sequence[Beheerder],
    today: date,
    deadline: date | None,
    request_id: str,
    team: str,
) -> str:
    """The memo of a new task: the beheerders' ``teksten/memo.j2``, else the shipped one.

    An ops configuration that still sets ``memo.template`` (the older place, with
    ``{vakgebied}`` placeholders) keeps it in use until the beheerders write a memo.j2.
    """
    if texts is not None and (texts.has_own("memo") or template == DEFAULT_MEMO_TEMPLATE):
        return texts.render(
            "memo",
            **memo_context(
                field=field,
                beheerders=beheerders,
                today=today,
                deadline=deadline,
                request_id=request_id,
                team=team,
            ),
        )
    return render_memo(template, field=field, beheerders=beheerders, today=today, deadline=deadline)


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
