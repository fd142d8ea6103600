"""The durable schedule: on time, once, no burst after downtime, moved, cancelled, closed."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy

from icalendar import Calendar
from structlog.testing import capture_logs

from imi_mailwatch.adapters.memory import InMemoryNotifier
from imi_mailwatch.errors import NotifierRejectedError, NotifierUnavailableError
from imi_mailwatch.mailbuild import build_message
from imi_mailwatch.model import LOOP_HEADER, OutgoingMail, RequestStatus
from tests.deadlines.conftest import Desk, make_request

# reply date Friday 27 Nov 2026; -5 = Fri 20, -2 = Wed 25, 0 = Fri 27, +1r = Mon 30 Nov
OPEN = datetime(2026, 11, 20, 7, 30, tzinfo=UTC)  # 08:30 Amsterdam


def _day(d: int, month: int = 11, hour: int = 9) -> datetime:
    """A moment on a day of (by default) November 2026, ``hour`` UTC (+1 h local)."""
    return datetime(2026, month, d, hour, 0, tzinfo=UTC)


def test_new_request_plans_every_step_at_opening_time(desk: Desk) -> None:
    """A request with a reply date gets one follow-up per step, due at 08:30 local."""
    desk.record(make_request())
    rows = desk.rows()
    assert [(r["step"], r["due_at"]) for r in rows] == [
        ("d-5", "2026-11-20T07:30:00+00:00"),
        ("d-2", "2026-11-25T07:30:00+00:00"),
        ("d+0", "2026-11-27T07:30:00+00:00"),
        ("d+1r", "2026-11-30T07:30:00+00:00"),
    ]
    assert {r["status"] for r in rows} == {"scheduled"}


def test_nothing_is_sent_before_due_or_outside_working_hours(desk: Desk) -> None:
    """Before 08:30 on the day, or in the evening, nothing goes out."""
    desk.record(make_request())
    assert desk.at(_day(19)) == 0
    assert desk.at(OPEN - timedelta(minutes=1)) == 0
    assert desk.notifier.sent == []
    assert desk.at(OPEN) == 1


def test_reminder_mail_says_what_the_team_needs(desk: Desk) -> None:
    """Dutch text and HTML with id, team, date, days left, what to do, Corsa ref and .ics."""
    desk.record(make_request())
    desk.at(OPEN)
    (mail,) = desk.notifier.sent
    assert mail.to == ("vth-milieu@example.org", "behandelaar@example.org")
    assert mail.subject.startswith("[IMI 184523] Herinnering: uiterlijk 27-11-2026")
    for text in (mail.text, mail.html or ""):
        assert "184523" in text
        assert "Milieu, afval en bodem (VTH)" in text
        assert "vrijdag 27 november 2026" in text
        assert "nog 5 werkdagen" in text
        assert "MEM-00001" in text
        assert "Beantwoord het verzoek in IMI" in text
        assert "a.voorbeeld@example.org" in text
    (att,) = mail.attachments
    cal = Calendar.from_ical(att.data)
    (event,) = cal.walk("VEVENT")
    assert event.decoded("dtstart") == date(2026, 11, 27)
    assert mail.message_id == "<imi.184523.dm5.20261120@brabant.example>"
    msg = message_from_bytes(
        build_message(mail, from_address="imi@brabant.example", from_name="IMI").as_bytes(),
        policy=policy.default,
    )
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg[LOOP_HEADER] == "1"
    assert msg["Message-ID"] == mail.message_id


def test_each_step_once_then_the_overdue_step_every_working_day(desk: Desk) -> None:
    """Every step is sent once on its day; the overdue step repeats on working days only."""
    desk.record(make_request())
    sent_on = {}
    for d in range(20, 31):
        for hour in (7, 9, 12, 15):  # several passes a day
            if desk.at(_day(d, hour=hour)):
                sent_on.setdefault(d, 0)
                sent_on[d] += 1
    desk.at(_day(1, month=12))
    assert sent_on == {20: 1, 25: 1, 27: 1, 30: 1}
    assert len(desk.notifier.sent) == 5
    ids = [m.message_id for m in desk.notifier.sent]
    assert len(set(ids)) == len(ids)
    overdue = desk.notifier.sent[-1]
    assert overdue.subject.startswith("[IMI 184523] Escalatie:")
    assert "escalatie@example.org" in overdue.cc
    assert "a.voorbeeld@example.org" in overdue.cc


def test_after_a_three_day_outage_only_the_latest_step_is_sent(desk: Desk) -> None:
    """Down from before -2 until after the date: one mail (the escalation), the rest skipped."""
    desk.record(make_request())
    desk.at(OPEN)  # -5 sent
    with capture_logs() as logs:
        assert desk.at(_day(2, month=12)) == 1  # Wednesday, three working days overdue
    (last,) = desk.notifier.sent[1:]
    assert "3 werkdagen te laat" in last.subject
    assert last.message_id == "<imi.184523.dp1r.20261202@brabant.example>"
    statuses = {r["step"]: r["status"] for r in desk.rows() if r["due_at"] < "2026-12-02"}
    assert statuses == {"d-5": "sent", "d-2": "skipped", "d+0": "skipped"}
    assert any(e["event"] == "deadline.followups_superseded" for e in logs)
    assert desk.at(_day(2, month=12, hour=14)) == 0  # no second one the same day
    assert desk.at(_day(3, month=12)) == 1  # the next working day, one more


def test_changed_reply_date_reschedules(desk: Desk) -> None:
    """A new date cancels what was planned and plans the steps again around it."""
    request = make_request()
    desk.record(request)
    desk.at(OPEN)
    later = replace(request, deadline=date(2026, 12, 11))
    desk.record(later)
    scheduled = [r for r in desk.rows() if r["status"] == "scheduled"]
    assert [r["due_at"][:10] for r in scheduled] == [
        "2026-12-04",
        "2026-12-09",
        "2026-12-11",
        "2026-12-14",
    ]
    assert desk.at(_day(25)) == 0  # the old -2 step is gone
    assert desk.at(_day(4, month=12)) == 1
    assert "11-12-2026" in desk.notifier.sent[-1].subject


def test_moving_the_date_back_does_not_resend_a_sent_step(desk: Desk) -> None:
    """A -> B -> A: the step already sent for A on that day is not sent twice."""
    request = make_request()
    desk.record(request)
    desk.at(OPEN)
    desk.record(replace(request, deadline=date(2026, 12, 11)))
    desk.record(request)
    assert desk.at(OPEN + timedelta(hours=1)) == 0
    assert len(desk.notifier.sent) == 1


def test_replanning_twice_is_idempotent(desk: Desk) -> None:
    """A duplicate alert that replans with the same state adds no follow-ups."""
    request = make_request()
    desk.record(request)
    desk.record(request)
    assert len(desk.rows()) == 4


def test_closing_cancels_reminders_and_sends_archiving_steps(desk: Desk) -> None:
    """Closing stops the reminders, sends the archiving steps, and checks back in 4 months."""
    request = make_request()
    desk.record(request)
    closed_at = _day(23, hour=10)
    desk.clock.set(closed_at)
    closed = replace(request, status=RequestStatus.CLOSED, closed_at=closed_at)
    desk.record(closed, closed=True)
    desk.record(closed, closed=True)  # the closing alert arrives twice
    assert desk.followups.run_due() == 1
    (mail,) = desk.notifier.sent
    assert "afgesloten" in mail.subject
    assert "IMI-verzoek over Inzameling van afval [naam dienstverlener]" in mail.text
    assert "Informatieverzoeken algemeen" in mail.text
    assert "10 jaar" in mail.text
    assert "eindrapport" in mail.text
    assert "23 mei 2027" in mail.text  # six months after closing: IMI blocks
    assert desk.at(_day(25)) == 0  # no reminders any more
    assert desk.at(datetime(2027, 3, 23, 9, 0, tzinfo=UTC)) == 1
    archive = desk.notifier.sent[-1]
    assert archive.subject.startswith("[IMI 184523] Controle archivering")
    assert desk.at(datetime(2027, 3, 24, 9, 0, tzinfo=UTC)) == 0
    kinds = [r["kind"] for r in desk.rows() if r["status"] == "sent"]
    assert kinds == ["closing", "archive"]


def test_withdrawal_cancels_without_a_closing_mail(desk: Desk) -> None:
    """A withdrawn request gets no reminder and no closing mail: only the one notice
    that its Corsa task may be closed."""
    request = make_request()
    desk.record(request)
    desk.record(replace(request, status=RequestStatus.WITHDRAWN), closed=True)
    sent = [desk.at(_day(d)) for d in (20, 25, 27, 30)]
    assert sent == [1, 0, 0, 0]
    assert [m.subject for m in desk.notifier.sent] == [
        "[IMI 184523] Verzoek ingetrokken: de taak in Corsa kan dicht"
    ]
    assert {r["status"] for r in desk.rows() if r["kind"] == "reminder"} == {"cancelled"}


def test_request_without_a_date_gets_no_reminders(desk: Desk) -> None:
    """No reply date, nothing to count from: nothing planned until a date arrives."""
    request = make_request(deadline=None)
    desk.record(request)
    assert desk.rows() == []
    desk.record(replace(request, deadline=date(2026, 11, 27)))
    assert len(desk.rows()) == 4


class Crash(BaseException):
    """The process dies in the middle of handing the mail over."""


class CrashingNotifier:
    def send(self, mail: OutgoingMail) -> None:
        raise Crash


def test_crash_while_sending_resends_once_with_the_same_message_id(desk: Desk) -> None:
    """After a crash mid-send the same mail (same Message-ID) goes out once, then never again."""
    desk.record(make_request())
    desk.clock.set(OPEN)
    crashing = desk.make_followups(notifier=CrashingNotifier())
    with contextlib.suppress(Crash):
        crashing.run_due()
    assert next(r["status"] for r in desk.rows()) == "sending"
    desk.store.close()  # restart: a new store and follow-ups on the same file
    desk.store = type(desk.store)(desk.path, desk.clock)
    desk.followups = desk.make_followups()
    with capture_logs() as logs:
        assert desk.at(OPEN + timedelta(minutes=5)) == 1
    assert any(e["event"] == "deadline.resend_after_interruption" for e in logs)
    (mail,) = desk.notifier.sent
    assert mail.message_id == "<imi.184523.dm5.20261120@brabant.example>"
    assert desk.rows()[0]["attempts"] == 2
    assert desk.at(OPEN + timedelta(hours=2)) == 0


class FlakyNotifier(InMemoryNotifier):
    def __init__(self, failures: int, error: Exception) -> None:
        super().__init__()
        self.failures = failures
        self.error = error

    def send(self, mail: OutgoingMail) -> None:
        if self.failures:
            self.failures -= 1
            raise self.error
        super().send(mail)


def test_transient_failure_is_retried_later_with_the_same_id(desk: Desk) -> None:
    """The mail server is down: the follow-up waits and is retried, still once."""
    flaky = FlakyNotifier(2, NotifierUnavailableError("down"))
    desk.followups = desk.make_followups(notifier=flaky)
    desk.record(make_request())
    assert desk.at(OPEN) == 0
    assert desk.at(OPEN + timedelta(seconds=30)) == 0  # backing off: not tried yet
    assert desk.at(OPEN + timedelta(minutes=2)) == 0  # second failure
    assert desk.at(OPEN + timedelta(minutes=10)) == 1
    assert [m.message_id for m in flaky.sent] == ["<imi.184523.dm5.20261120@brabant.example>"]
    assert desk.rows()[0]["attempts"] == 3


def test_permanent_failure_is_recorded_and_not_retried(desk: Desk) -> None:
    """A refused mail is marked failed; the next step still goes out on its day."""
    flaky = FlakyNotifier(1, NotifierRejectedError("refused"))
    desk.followups = desk.make_followups(notifier=flaky)
    desk.record(make_request())
    assert desk.at(OPEN) == 0
    assert desk.at(OPEN + timedelta(hours=1)) == 0
    assert desk.rows()[0]["status"] == "failed"
    assert desk.at(_day(25)) == 1


def test_rule_schedule_overrides_the_default(desk: Desk) -> None:
    """A rule's own schedule (stored with the request) is used instead of the global one."""
    request = make_request(schedule=[{"offset": -1, "to": ["beheerders"], "repeat": False}])
    desk.record(request)
    assert [r["step"] for r in desk.rows()] == ["d-1"]
    assert desk.at(_day(26)) == 1
    (mail,) = desk.notifier.sent
    assert mail.to == ("a.voorbeeld@example.org", "b.voorbeeld@example.org")


def test_no_team_mailbox_falls_back_to_the_beheerders(desk: Desk) -> None:
    """A team without a mailbox: the beheerders receive the reminder instead."""
    desk.record(make_request(team_mailbox=None, handlers=()))
    desk.at(OPEN)
    assert desk.notifier.sent[0].to == ("a.voorbeeld@example.org", "b.voorbeeld@example.org")


def test_logs_carry_no_addresses_or_text(desk: Desk) -> None:
    """Log lines name the request and step, never an address or a subject."""
    desk.record(make_request())
    with capture_logs() as logs:
        desk.at(OPEN)
    flat = repr(logs)
    assert "deadline.reminder_sent" in flat
    assert "@example.org" not in flat
    assert "Herinnering" not in flat


class BrokenForOneRequest(InMemoryNotifier):
    """Raises an unexpected error (a bug, not a mail server answer) for one request's mail."""

    def send(self, mail: OutgoingMail) -> None:
        if ".184523." in mail.message_id:
            raise ValueError("unexpected")
        super().send(mail)


def test_one_follow_up_that_breaks_the_code_does_not_stop_the_others(desk: Desk) -> None:
    """Poisoned periodic item: an unexpected error fails that follow-up, reported; others go."""
    desk.followups = desk.make_followups(notifier=BrokenForOneRequest())
    desk.record(make_request("184523"))
    desk.record(make_request("184600"))
    with capture_logs() as logs:
        assert desk.at(OPEN) == 1
    assert [m.message_id for m in desk.followups.notifier.sent] == [  # type: ignore[attr-defined]
        "<imi.184600.dm5.20261120@brabant.example>"
    ]
    assert desk.rows("184523")[0]["status"] == "failed"
    failed = [e for e in logs if e["event"] == "deadline.send_failed"]
    assert failed and failed[0]["request_id"] == "184523" and failed[0].get("exc_info")
    assert desk.at(OPEN + timedelta(hours=1)) == 0  # not tried again and again


def test_a_clock_jumping_back_does_not_delay_the_retry_by_the_jump(desk: Desk) -> None:
    """Clock jump back (an hour): a deferred reminder is retried after its back-off."""
    flaky = FlakyNotifier(1, NotifierUnavailableError("down"))
    desk.followups = desk.make_followups(notifier=flaky)
    desk.record(make_request())
    assert desk.at(OPEN + timedelta(hours=2)) == 0  # fails; retried a minute later
    assert desk.at(OPEN + timedelta(hours=1)) == 0  # the clock jumped back an hour
    assert desk.at(OPEN + timedelta(hours=1, minutes=2)) == 1
