"""The Dutch notices to a team about its Corsa task: created, not accepted, may close. Pure.

One function writes them (:func:`team_notice_mail`), by the follow-up's step:

- :func:`task_notice_mail` (``teksten/taakbericht.j2``): once, when the task of a
  new request was created: the Corsa document number, the reply date and the
  reply commands. It is the handlers' first chance to answer AANVAARD.
- :func:`acceptance_mail` (``teksten/aanvaarden.j2``): the acceptance watch. No
  AANVAARD recorded ``deadlines.acceptance_team_days`` working days after the task
  was created (default 3): the team is reminded; after
  ``acceptance_beheerders_days`` (default 5) the beheerders too.
- :func:`task_close_mail` (``teksten/taak_sluiten.j2``): the request was withdrawn
  in IMI, or the team reported it forwarded or rejected: the Corsa task may be
  closed.

Both are follow-ups (:mod:`imi_mailwatch.deadlines.followups`): planned in the
transaction that records the event, sent under a deterministic Message-ID.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from imi_mailwatch.config import Beheerder
from imi_mailwatch.deadlines.calendar import BusinessCalendar
from imi_mailwatch.deadlines.mails import (
    IMI_URL,
    Envelope,
    _activities,
    _common,
    _corsa,
    _letter,
    _team,
    shipped_texts,
)
from imi_mailwatch.deadlines.plan import OWN_CLOSED_STEP, OWN_REPLY_STEP
from imi_mailwatch.model import OutgoingMail, RequestStatus
from imi_mailwatch.ports import FollowUpStore
from imi_mailwatch.records import FollowUpKind, PlannedFollowUp, RequestRecord
from imi_mailwatch.texts import TextBook
from imi_mailwatch.wording import long_date, working_days

TASK_NOTICE_STEP = "created"
ACCEPTANCE_PREFIX = "acc"  # acc3: the acceptance watch, 3 working days after the task


class CloseReason(StrEnum):
    """Why the Corsa task of a request may be closed."""

    WITHDRAWN = "withdrawn"  # IMI: the requesting authority withdrew it
    FORWARDED = "forwarded"  # the team forwarded it to another authority in IMI
    REJECTED = "rejected"  # the team rejected it in IMI


_REASON_NL = {
    CloseReason.WITHDRAWN: "ingetrokken",
    CloseReason.FORWARDED: "doorgestuurd",
    CloseReason.REJECTED: "afgewezen",
}


def close_step(reason: CloseReason) -> str:
    """The follow-up step of a task-close notice: ``close_withdrawn``, ..."""
    return f"close_{reason.value}"


def reason_of(step: str) -> CloseReason:
    """The reason a task-close step was planned for (withdrawn when unknown)."""
    value = step.removeprefix("close_")
    return CloseReason(value) if value in CloseReason._value2member_map_ else CloseReason.WITHDRAWN


def task_notice_plan(
    calendar: BusinessCalendar, request: RequestRecord, now: datetime
) -> PlannedFollowUp:
    """The task notice, due at the next working moment, to the team and its handlers."""
    return PlannedFollowUp(
        TASK_NOTICE_STEP,
        FollowUpKind.TASK_NOTICE,
        calendar.next_working_moment(now),
        ("team", "handlers"),
        request.deadline,
    )


def task_close_plan(
    calendar: BusinessCalendar, request: RequestRecord, reason: CloseReason, now: datetime
) -> PlannedFollowUp:
    """The task-close notice, due at the next working moment, to the team and its handlers."""
    return PlannedFollowUp(
        close_step(reason),
        FollowUpKind.TASK_CLOSE,
        calendar.next_working_moment(now),
        ("team", "handlers"),
        request.deadline,
    )


def acceptance_plan(
    calendar: BusinessCalendar,
    request: RequestRecord,
    now: datetime,
    *,
    team_days: int,
    beheerders_days: int,
) -> list[PlannedFollowUp]:
    """The acceptance watch: ``acc3`` to the team, ``acc5`` to the team and the beheerders,
    at the opening of that many working days after ``now`` (0: that step is off)."""
    created = calendar.local_date(now)
    steps = (
        (team_days, ("team", "handlers")),
        (beheerders_days, ("team", "handlers", "beheerders")),
    )
    return [
        PlannedFollowUp(
            f"{ACCEPTANCE_PREFIX}{days}",
            FollowUpKind.ACCEPTANCE,
            calendar.opening(calendar.shift(created, days)),
            recipients,
            request.deadline,
        )
        for days, recipients in steps
        if days > 0
    ]


def _facts(request: RequestRecord, reply: str | None) -> tuple[tuple[str, str], ...]:
    """The facts block; ``reply`` None: a letter that names no reply date."""
    dated = (("Antwoorddatum", reply),) if reply is not None else ()
    return (
        ("IMI-verzoek", request.request_id),
        ("Team", _team(request)),
        ("Vakgebied", request.field or "onbekend"),
        ("Dienstverleningsactiviteit", _activities(request)),
        *dated,
        ("Corsa-kenmerk", _corsa(request)),
    )


def team_notice_mail(
    request: RequestRecord,
    env: Envelope,
    *,
    step: str = TASK_NOTICE_STEP,
    beheerders: Sequence[Beheerder],
    texts: TextBook | None = None,
) -> OutgoingMail:
    """A notice to the team about its Corsa task, by its step: created
    (``taakbericht.j2``), not accepted after ``accN`` working days (``aanvaarden.j2``),
    may be closed (``close_<reason>``, ``taak_sluiten.j2``: it names no reply date)."""
    reply: str | None = long_date(request.deadline) if request.deadline else "nog niet bekend"
    words: dict[str, object]
    if step.startswith(ACCEPTANCE_PREFIX):
        template = "aanvaarden"
        words = {
            "termijn": working_days(int(step.removeprefix(ACCEPTANCE_PREFIX) or 0)),
            "beheerders_ook": any(b.email in (*env.to, *env.cc) for b in beheerders),
            "imi_url": IMI_URL,
        }
    elif step.startswith("close_"):
        template, words, reply = "taak_sluiten", {"reden": _REASON_NL[reason_of(step)]}, None
    else:
        template = "taakbericht"
        words = {
            "antwoorddatum": reply,
            "antwoorddatum_kort": f"{request.deadline:%d-%m-%Y}" if request.deadline else "",
            "vakgebied": request.field or "onbekend",
            "imi_url": IMI_URL,
        }
    parts = (texts or shipped_texts()).letter(template, **_common(request, beheerders), **words)
    subject, letter = _letter(parts, _facts(request, reply))
    return env.mail(subject, letter, request_id=request.request_id, followup=step)


# the names the callers know the three notices by
task_notice_mail = acceptance_mail = task_close_mail = team_notice_mail


def own_request_plan(
    store: FollowUpStore, calendar: BusinessCalendar, request: RequestRecord, now: datetime
) -> list[PlannedFollowUp]:
    """The province's own request: one mail when a reply waits, one when it is closed
    (the archiving step); to its handlers, else the beheerders. No reminders."""
    if request.status is RequestStatus.CLOSED:
        step = OWN_CLOSED_STEP
    elif request.status is RequestStatus.ANSWERED:
        step = OWN_REPLY_STEP
    else:
        return []
    if store.followup_exists(request.request_id, kind=FollowUpKind.OWN_REQUEST, step=step):
        return []
    due = calendar.next_working_moment(now)
    return [PlannedFollowUp(step, FollowUpKind.OWN_REQUEST, due, ("handlers",), None)]
