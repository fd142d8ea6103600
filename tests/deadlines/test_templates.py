"""Every mail template in every state: Dutch, consistent dates, no contradictions, no holes.

The reminders are rendered for every send day from ten working days before to
five after a range of reply dates that includes closed days (Koningsdag,
Bevrijdingsdag, Hemelvaart, Christmas, weekends); the closing mail for a year of
closing days; the archive check, the memo and the beheerders' report for each
kind of notice; with and without a team, a task and a date (the default route).
Each text and HTML part must pass :func:`problems_in`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from imi_mailwatch.actions import reply_actions
from imi_mailwatch.config import DEFAULT_MEMO_TEMPLATE
from imi_mailwatch.deadlines.calendar import BusinessCalendar
from imi_mailwatch.deadlines.mails import Envelope, archive_mail, closing_mail, reminder_mail
from imi_mailwatch.deadlines.notices import (
    CloseReason,
    acceptance_mail,
    close_step,
    task_close_mail,
    task_notice_mail,
)
from imi_mailwatch.deadlines.plan import archive_check_day
from imi_mailwatch.memo import render_memo
from imi_mailwatch.model import OutgoingMail, ReminderStep, RequestStatus
from imi_mailwatch.replies.authz import Role
from tests.deadlines.conftest import BEHEERDERS, make_request
from tests.dutch import plain, problems_in

CAL = BusinessCalendar()
ENV = Envelope("<t@example.org>", ("team@example.org",))
STEPS = (
    ReminderStep(-5),
    ReminderStep(-2),
    ReminderStep(0),
    ReminderStep(1, ("team", "escalation"), repeat=True),
)


def _check(mail: OutgoingMail, *, today: date | None = None) -> None:
    for name, part in (("subject", mail.subject), ("text", mail.text), ("html", mail.html or "")):
        problems = problems_in(plain(part), today=today)
        assert problems == [], (name, problems, part)


REQUESTS = {
    "routed": make_request(),
    "default_route": make_request(
        is_default=True,
        team_key="icb",
        team_name="Team ICB (standaardroute)",
        rule=None,
        field=None,
        service_activities=(),
        handlers=(),
    ),
    "no_team_no_task": make_request(
        team_key=None,
        team_name=None,
        team_mailbox=None,
        handlers=(),
        task_ref=None,
        task_status=None,
        field=None,
    ),
    "allocated": make_request(status=RequestStatus.ALLOCATED),
}


def _reply_dates() -> list[date]:
    start = [date(2027, 4, 20), date(2026, 12, 18)]
    return [s + timedelta(days=i) for s in start for i in range(24)]


def _send_days(reply: date) -> Iterator[date]:
    day = CAL.shift(reply, -10)
    last = CAL.shift(reply, 5)
    while day <= last:
        if CAL.is_working_day(day):
            yield day
        day += timedelta(days=1)


@pytest.mark.parametrize("kind", sorted(REQUESTS))
def test_every_reminder_on_every_send_day_reads_right(kind: str) -> None:
    """Before, on and after the date, closed reply dates: every reminder passes the checks."""
    request = REQUESTS[kind]
    for reply in _reply_dates():
        for today in _send_days(reply):
            left = CAL.working_days_between(today, reply)
            step = STEPS[-1] if left < 0 else STEPS[0]
            mail = reminder_mail(
                replace(request, deadline=reply),
                step,
                ENV,
                reply_date=reply,
                working_days_left=left,
                today=today,
                beheerders=BEHEERDERS,
                now=datetime.combine(today, datetime.min.time(), tzinfo=UTC),
                domain="example.org",
                status_since=date(2026, 11, 16),
            )
            _check(mail, today=today)


@pytest.mark.parametrize("kind", sorted(REQUESTS))
def test_closing_and_archive_mails_on_every_day_of_a_year(kind: str) -> None:
    """The closing mail announces a working day; closing and archive mails pass the checks."""
    request = replace(REQUESTS[kind], status=RequestStatus.CLOSED)
    day = date(2027, 1, 1)
    while day < date(2028, 1, 1):
        check_on = archive_check_day(CAL, day, 4)
        closing = closing_mail(
            request, ENV, closed_on=day, archive_check_on=check_on, beheerders=BEHEERDERS
        )
        _check(closing)
        _check(archive_mail(request, ENV, closed_on=day, beheerders=BEHEERDERS))
        day += timedelta(days=1)


@pytest.mark.parametrize("kind", sorted(REQUESTS))
def test_task_notices_with_and_without_a_date_read_right(kind: str) -> None:
    """The notice of a created task (with and without a reply date, task number or team),
    the acceptance reminders and the notice that the task may close pass the checks."""
    env = replace(ENV, reply_to="imi@example.org", actions=reply_actions({Role.TEAM}))
    for deadline in (None, date(2026, 11, 27), date(2027, 4, 27)):
        request = replace(REQUESTS[kind], deadline=deadline)
        _check(task_notice_mail(request, env, beheerders=BEHEERDERS), today=date(2026, 11, 16))
    with_beheerders = replace(env, cc=("a.voorbeeld@example.org",))
    for days, e in ((3, env), (5, with_beheerders), (1, env)):
        mail = acceptance_mail(REQUESTS[kind], e, step=f"acc{days}", beheerders=BEHEERDERS)
        _check(mail)
    final = replace(env, actions=reply_actions({Role.TEAM}, open_request=False))
    for reason in CloseReason:
        request = replace(REQUESTS[kind], status=RequestStatus.WITHDRAWN)
        mail = task_close_mail(request, final, step=close_step(reason), beheerders=BEHEERDERS)
        _check(mail)


@pytest.mark.parametrize("kind", sorted(REQUESTS))
def test_the_route_proposal_and_its_reminder_read_right(kind: str) -> None:
    """The route proposal to the beheerders (routing.mode: propose) and its reminder,
    with and without a rule, a reply date and the rule's reasons, pass the checks."""
    from imi_mailwatch.clock import FakeClock
    from imi_mailwatch.proposals import Proposals

    payload = {"summary": "IMI-informatieverzoek 184523 ontvangen op 16-11-2026.", "memo": "M"}
    for explain in (None, lambda _: ["activiteit 'Afvalinzameling' staat in de lijst"]):
        clock = FakeClock(datetime(2026, 11, 16, 9, tzinfo=UTC))
        proposals = Proposals(
            clock, CAL, BEHEERDERS, "example.org", reply_to="imi@example.org", explain=explain
        )
        for deadline in (None, date(2026, 12, 24)):
            request = replace(REQUESTS[kind], deadline=deadline)
            for reminder in (False, True):
                mail = proposals.mail(request, payload, reminder=reminder)
                _check(mail, today=date(2026, 11, 16))
                assert "AKKOORD" in mail.text and mail.subject.startswith("[IMI ")


def test_the_reply_commands_read_right_for_every_recipient() -> None:
    """The block of reply commands, for the team, the beheerders and both, in Dutch."""
    for roles in ({Role.TEAM}, {Role.BEHEERDER}, {Role.TEAM, Role.BEHEERDER}, set()):
        block = reply_actions(roles)
        assert problems_in(block) == [], block
    assert problems_in(reply_actions({Role.TEAM}, open_request=False)) == []


@pytest.mark.parametrize(
    "deadline", [None, date(2026, 11, 16), date(2026, 12, 24), date(2026, 11, 1)]
)
def test_memo_with_and_without_a_date(deadline: date | None) -> None:
    """The standard memo: filled in for a known, today's, later, past and unknown date."""
    for request in REQUESTS.values():
        memo = render_memo(
            DEFAULT_MEMO_TEMPLATE,
            field=request.field or "een nog onbekend vakgebied",
            beheerders=BEHEERDERS,
            today=date(2026, 11, 16),
            deadline=deadline,
        )
        assert problems_in(memo, today=date(2026, 11, 16)) == [], memo


def test_the_checks_catch_what_they_are_for() -> None:
    """Each check of problems_in fires on its own kind of mistake."""
    today = date(2027, 4, 26)
    assert problems_in("Nog te gaan: 2 werkdagen te laat")
    assert problems_in("Het verzoek is created.")
    assert problems_in("Fout: NotifierRejectedError")
    assert problems_in("Antwoorddatum: dinsdag 26 april 2027")  # 26 April is a Monday
    assert problems_in("Op zondag 12 september 2027 stuurt imi-mailwatch een controlebericht.")
    assert problems_in("Vandaag, dinsdag 27 april 2027, is de antwoorddatum.", today=today)
    assert problems_in("Beste collega's van ,")
    assert problems_in("  Team:   ")
    assert problems_in("Vakgebied: None")
    assert problems_in("Vrijdag 23 april 2027: nog 2 werkdagen.", today=today)
    assert problems_in("Vandaag, maandag 26 april 2027, is de laatste werkdag.", today=today) == []
