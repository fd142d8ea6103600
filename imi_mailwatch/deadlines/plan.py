"""What to send and when: reminder schedules turned into dated follow-ups. Pure.

A follow-up is one e-mail the daemon owes: a reminder step of a request's
schedule, the closing mail, or the archive follow-up before IMI blocks the
personal data. Its Message-ID is derived from the request, the step and the day
it is due, so a retry of the same follow-up carries the same id and a reminder
for a changed reply date does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from imi_mailwatch.config import ScheduleStepConfig
from imi_mailwatch.deadlines.calendar import BusinessCalendar, add_months
from imi_mailwatch.model import ReminderStep
from imi_mailwatch.msgid import make_message_id
from imi_mailwatch.records import DeskState, FollowUpKind, PlannedFollowUp

CLOSING_STEP = "closing"
ARCHIVE_STEP = "archive"


def steps_from_config(steps: Iterable[ScheduleStepConfig]) -> tuple[ReminderStep, ...]:
    return tuple(ReminderStep(offset=s.offset, recipients=s.to, repeat=s.repeat) for s in steps)


def steps_from_record(schedule: Sequence[dict[str, Any]]) -> tuple[ReminderStep, ...]:
    """A rule's own schedule as the request record stores it (``{offset, to, repeat}``)."""
    return tuple(
        ReminderStep(
            offset=int(s["offset"]),
            recipients=tuple(s.get("to") or ("team",)),
            repeat=bool(s.get("repeat", False)),
        )
        for s in schedule
    )


def step_by_key(steps: Sequence[ReminderStep], key: str) -> ReminderStep | None:
    return next((s for s in steps if s.key == key), None)


def plan_reminders(
    calendar: BusinessCalendar, reply_date: date, steps: Sequence[ReminderStep]
) -> list[PlannedFollowUp]:
    """One follow-up per step (a repeating step: its first occurrence), in due order."""
    planned = [
        PlannedFollowUp(
            step=s.key,
            kind=FollowUpKind.REMINDER,
            due_at=calendar.due_at(reply_date, s.offset),
            recipients=s.recipients,
            deadline=reply_date,
        )
        for s in steps
    ]
    return sorted(planned, key=lambda p: p.due_at)


def archive_check_day(calendar: BusinessCalendar, closed_on: date, months: int) -> date:
    """The working day of the archive check: ``months`` after closing, or the next working day.

    The closing mail announces this day and the schedule sends on it: one function,
    so the two cannot disagree when the month count lands on a closed day.
    """
    return calendar.on_or_after(add_months(closed_on, months))


def latest_occurrence(calendar: BusinessCalendar, first: date, now: datetime) -> date:
    """The last day on or after ``first`` whose opening is not after ``now``.

    A repeating step that was due days ago (the daemon was down) is sent once,
    for today, not once for every day missed.
    """
    day = calendar.local_date(now)
    if not calendar.is_working_day(day) or calendar.opening(day) > now:
        day = calendar.previous_working_day(day)
    return max(day, first)


def message_id(request_id: str, step: str, due_day: date, domain: str) -> str:
    """``<imi.184523.dm5.20261113@brabant.nl>``: the same follow-up, the same id."""
    token = step.replace("+", "p").replace("-", "m")
    return make_message_id(request_id, token, f"{due_day:%Y%m%d}", domain)


def resume_moment(calendar: BusinessCalendar, paused_until: date) -> datetime:
    """When reminders start again after ``PAUZE TOT paused_until`` (that day included)."""
    return calendar.opening(calendar.next_working_day(paused_until))


def held_by_desk(calendar: BusinessCalendar, kind: FollowUpKind, due_at: datetime,
                 state: DeskState) -> bool:  # fmt: skip
    """Whether what people said holds this follow-up back: no reminder once the team
    handled the request in IMI (BEANTWOORD, DOORGESTUURD, AFGEWEZEN), none during a
    pause. The closing mail and the archive check are never held."""
    if kind is not FollowUpKind.REMINDER:
        return False
    if state.handled is not None:
        return True
    return state.paused_until is not None and due_at < resume_moment(calendar, state.paused_until)


def desk_plan(
    calendar: BusinessCalendar, planned: Iterable[PlannedFollowUp], state: DeskState
) -> list[PlannedFollowUp]:
    """``planned`` without the follow-ups the desk state holds back (:func:`held_by_desk`)."""
    return [p for p in planned if not held_by_desk(calendar, p.kind, p.due_at, state)]
