"""Every mail about a request carries its actions; the team hears of its task and its end.

Each mail about a request has a Reply-To of the functional mailbox, a subject that
starts with ``[IMI 184523]`` and the Dutch block of reply commands; a reply built
from what went out over SMTP is linked back to its request. The team gets one
notice when its Corsa task is created and one when the task may be closed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from imi_mailwatch.adapters.memory import InMemoryNotifier, InMemoryTaskSink
from imi_mailwatch.adapters.smtp import SmtpNotifier
from imi_mailwatch.alerts.mime import read_headers
from imi_mailwatch.config import SmtpConfig
from imi_mailwatch.deadlines.notices import CloseReason
from imi_mailwatch.deadlines.plan import message_id
from imi_mailwatch.mailbuild import build_message
from imi_mailwatch.model import (
    Alert,
    AlertType,
    OutgoingMail,
    RequestStatus,
    TaskStatus,
    alert_to_payload,
)
from imi_mailwatch.msgid import parse_message_id
from imi_mailwatch.outbox import TaskOutbox
from imi_mailwatch.replies.linking import LinkedBy, link_request
from imi_mailwatch.replies.texts import HEADING
from tests.deadlines.conftest import Desk, make_request
from tests.deadlines.smtp_server import SmtpTestServer

FUNCTIONAL = "imi@brabant.example"
MONDAY = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)  # 09:00 in Amsterdam: working hours


def _day(d: int, hour: int = 8) -> datetime:
    return datetime(2026, 11, d, hour, 0, tzinfo=UTC)


@pytest.fixture
def team_desk(desk: Desk) -> Desk:
    """The desk with Reply-To configured, as build_followups wires it."""
    desk.followups = desk.make_followups(reply_to=FUNCTIONAL)
    return desk


def _reply_to(mail: OutgoingMail) -> str | None:
    return dict(mail.headers).get("Reply-To")


def _carries_its_actions(mail: OutgoingMail, *, commands: bool = True) -> None:
    assert _reply_to(mail) == FUNCTIONAL
    assert mail.subject.startswith("[IMI 184523] ")
    assert mail.message_id.startswith("<imi.184523.")
    for part in (mail.text, mail.html or ""):
        assert (HEADING in part) is commands, part
        assert ("AANVAARD" in part) is commands or "antwoord op deze mail met AANVAARD" in part


def test_reminders_escalation_closing_and_archive_carry_their_actions(team_desk: Desk) -> None:
    """Reply-To, [IMI id] subject and the command block on every follow-up of a request."""
    request = make_request()
    team_desk.record(request)
    for d in (20, 25, 27, 30):
        team_desk.at(_day(d))
    reminders = list(team_desk.notifier.sent)
    assert len(reminders) == 4
    for mail in reminders:
        _carries_its_actions(mail)
    escalation = reminders[-1]
    assert "Alleen voor de IMI-beheerders:" in escalation.text  # beheerders in copy
    assert "HERROUTEER teamnaam" in escalation.text
    assert "HERROUTEER" not in reminders[0].text  # to the team only
    closed = replace(request, status=RequestStatus.CLOSED, closed_at=_day(30, 9))
    team_desk.record(closed, closed=True)
    team_desk.at(_day(30, 10))
    team_desk.at(datetime(2027, 3, 30, 8, 0, tzinfo=UTC))
    closing, archive = team_desk.notifier.sent[4:]
    for mail in (closing, archive):
        _carries_its_actions(mail, commands=False)
        assert "U hoeft op deze mail niet te antwoorden" in mail.text


def test_a_reply_to_what_went_out_over_smtp_links_to_its_request(team_desk: Desk) -> None:
    """The mail as SMTP delivered it: a reply's In-Reply-To, References and subject all
    name the request (the id domain is the sender's)."""
    server = SmtpTestServer().start("none")
    try:
        notifier = SmtpNotifier(
            SmtpConfig(host="127.0.0.1", port=server.port, security="none"),
            from_address=FUNCTIONAL,
            from_name="IMI",
            clock=team_desk.clock,
        )
        team_desk.followups = team_desk.make_followups(reply_to=FUNCTIONAL, notifier=notifier)
        request = make_request(status=RequestStatus.CLOSED, closed_at=_day(16, 9))
        team_desk.store.save_request(request)
        team_desk.record(request, closed=True)  # the closing mail: "vóór" in the subject
        assert team_desk.at(_day(16, 10)) == 1
        (got,) = server.handler.received
    finally:
        server.stop()
    sent = got.message
    assert sent["Reply-To"] == FUNCTIONAL
    mid, subject = str(sent["Message-ID"]), str(sent["Subject"])
    assert subject.startswith("[IMI 184523] ")
    head = (
        f"From: behandelaar@example.org\r\nTo: {FUNCTIONAL}\r\nSubject: RE: {subject}\r\n"
    ).encode()
    by_header = read_headers(head + f"In-Reply-To: {mid}\r\nReferences: {mid}\r\n\r\n".encode())
    link = link_request(by_header, ["brabant.example"])
    assert link is not None
    assert (link.request_id, link.by) == ("184523", LinkedBy.IN_REPLY_TO)
    by_refs = read_headers(head + f"References: <x@outlook.example> {mid}\r\n\r\n".encode())
    assert link_request(by_refs, ["brabant.example"]) == replace(link, by=LinkedBy.REFERENCES)
    encoded = build_message(
        OutgoingMail(
            message_id="<a@b.example>", to=(FUNCTIONAL,), subject=f"AW: {subject}", text="x"
        ),
        from_address="behandelaar@example.org",
        from_name="B",
    ).as_bytes()  # the subject RFC 2047-encoded, as Outlook sends "vóór"
    by_subject = link_request(read_headers(encoded), ["brabant.example"])
    assert by_subject is not None
    assert (by_subject.request_id, by_subject.by) == ("184523", LinkedBy.SUBJECT)


def _outbox_with_one_intent(desk: Desk, request_id: str = "184523") -> TaskOutbox:
    """An outbox whose created tasks plan the team's notice, and one create intent."""
    outbox = TaskOutbox(desk.store, InMemoryTaskSink(), desk.clock)
    outbox.on_task_created = desk.followups.task_created
    request = make_request(
        request_id, task_status=TaskStatus.PENDING, task_sink=None, task_ref=None
    )
    payload = {
        "request_id": request_id,
        "team": {"key": "milieu", "name": request.team_name, "org_unit": "VTH-MILIEU"},
        "deadline": "2026-11-27",
        "subject": f"IMI-verzoek {request_id}",
        "summary": "Nieuw IMI-verzoek",
        "memo": "Dit is een IMI-verzoek.",
        "received_on": "2026-11-16",
        "alert_eml": "",
        "alert": alert_to_payload(
            Alert(alert_type=AlertType.NEW_REQUEST, request_id=request_id, language="nl")
        ),
    }
    with desk.store.transaction():
        desk.store.save_request(request)
        desk.followups.replan(desk.store, request, closed=False)
        desk.store.outbox_add(request_id, "create_task", f"create:{request_id}", payload)
    return outbox


def test_the_team_hears_once_that_its_task_was_created(team_desk: Desk) -> None:
    """A created task plans one notice in the same transaction; it goes out once, with
    the Corsa number, the reply date and the actions, even when the outbox runs again."""
    outbox = _outbox_with_one_intent(team_desk)
    assert outbox.drain() == 1
    assert outbox.drain() == 0
    ref = team_desk.store.get_request("184523")
    assert ref is not None and ref.task_ref
    notices = [r for r in team_desk.rows() if r["kind"] == "task_notice"]
    assert [r["status"] for r in notices] == ["scheduled"]
    assert team_desk.at(_day(16, 9)) == 1
    assert team_desk.at(_day(16, 10)) == 0
    (mail,) = team_desk.notifier.sent
    _carries_its_actions(mail)
    assert mail.to == ("vth-milieu@example.org", "behandelaar@example.org")
    assert mail.message_id == "<imi.184523.created.20261116@brabant.example>"
    assert ref.task_ref in mail.text
    assert "vrijdag 27 november 2026" in mail.text
    assert "27-11-2026" in mail.subject


def test_a_crash_after_sending_resends_the_notice_under_the_same_id(team_desk: Desk) -> None:
    """Killed between handing the notice over and recording it sent: the next pass sends
    it again under the same Message-ID, and never a second, different one."""

    class Killed(BaseException):
        pass

    class DiesAfterSending(InMemoryNotifier):
        def send(self, mail: OutgoingMail) -> None:
            super().send(mail)
            raise Killed

    first = DiesAfterSending()
    outbox = _outbox_with_one_intent(team_desk)
    outbox.drain()
    team_desk.followups = team_desk.make_followups(reply_to=FUNCTIONAL, notifier=first)
    team_desk.clock.set(_day(16, 9))
    with pytest.raises(Killed):
        team_desk.followups.run_due()
    team_desk.followups = team_desk.make_followups(reply_to=FUNCTIONAL)
    assert team_desk.at(_day(16, 10)) == 1
    assert team_desk.at(_day(17, 10)) == 0
    ids = {m.message_id for m in (*first.sent, *team_desk.notifier.sent)}
    assert ids == {"<imi.184523.created.20261116@brabant.example>"}


def test_the_task_notice_can_be_switched_off(desk: Desk) -> None:
    """deadlines.task_notice false: a created task plans no notice."""
    desk.followups = desk.make_followups(task_notice=False)
    _outbox_with_one_intent(desk).drain()
    assert [r for r in desk.rows() if r["kind"] == "task_notice"] == []


def test_a_request_withdrawn_before_the_notice_went_gets_no_notice(team_desk: Desk) -> None:
    """Withdrawn before the notice was sent: the notice lapses, the close notice goes."""
    _outbox_with_one_intent(team_desk).drain()
    request = team_desk.store.get_request("184523")
    assert request is not None
    team_desk.clock.set(_day(16, 6))  # before opening: nothing sent yet
    team_desk.record(replace(request, status=RequestStatus.WITHDRAWN), closed=True)
    assert team_desk.at(_day(16, 9)) == 1
    (mail,) = team_desk.notifier.sent
    assert "ingetrokken" in mail.subject


@pytest.mark.parametrize(
    ("reason", "word"),
    [
        (CloseReason.WITHDRAWN, "ingetrokken"),
        (CloseReason.FORWARDED, "doorgestuurd"),
        (CloseReason.REJECTED, "afgewezen"),
    ],
)
def test_the_team_is_told_once_that_the_task_may_close(
    team_desk: Desk, reason: CloseReason, word: str
) -> None:
    """Withdrawn (the IMI alert), forwarded or rejected (the team's command): one Dutch
    mail that the Corsa task can be closed, with its number; no reminders after it."""
    request = make_request()
    team_desk.record(request)
    ended = replace(request, status=RequestStatus.WITHDRAWN, closed_at=_day(18, 9))
    with team_desk.store.transaction():
        if reason is CloseReason.WITHDRAWN:
            team_desk.store.save_request(ended)
            team_desk.followups.replan(team_desk.store, ended, closed=True)
            team_desk.followups.replan(team_desk.store, ended, closed=True)  # a repeated alert
        else:
            team_desk.followups.plan_task_close(team_desk.store, request, reason)
            team_desk.followups.plan_task_close(team_desk.store, request, reason)
            team_desk.store.save_request(ended)
            team_desk.followups.replan(team_desk.store, ended, closed=True)
    for d in (18, 20, 25, 27, 30):
        team_desk.at(_day(d, 10))
    (mail,) = team_desk.notifier.sent
    assert mail.subject == f"[IMI 184523] Verzoek {word}: de taak in Corsa kan dicht"
    assert "Sluit de taak in Corsa af (Corsa-kenmerk MEM-00001)" in mail.text
    assert mail.to == ("vth-milieu@example.org", "behandelaar@example.org")
    _carries_its_actions(mail, commands=False)
    assert {r["status"] for r in team_desk.rows() if r["kind"] == "reminder"} == {"cancelled"}


def test_a_request_without_a_task_gets_no_close_notice(team_desk: Desk) -> None:
    """Withdrawn before any task existed (parked, or none): nothing to close, no mail."""
    request = make_request(task_status=TaskStatus.PARKED, task_ref=None, task_sink=None)
    team_desk.record(request)
    team_desk.record(replace(request, status=RequestStatus.WITHDRAWN), closed=True)
    assert team_desk.at(_day(18, 10)) == 0


@pytest.mark.parametrize(
    "step", ["d-5", "d+1r", "closing", "archive", "created", "close_withdrawn", "acc3"]
)
def test_every_followup_id_names_its_request(step: str) -> None:
    """The Message-ID of every kind of follow-up reads back as the daemon's, naming the
    request, so a reply's In-Reply-To links to it."""
    mid = message_id("184523", step, date(2026, 11, 20), "brabant.example")
    ours = parse_message_id(mid, ["brabant.example"])
    assert ours is not None
    assert (ours.request_id, ours.key) == ("184523", "20261120")
