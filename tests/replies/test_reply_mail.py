"""Replies by mail, end to end, and their effect: the daemon's own reminder is taken from the
SMTP server, answered as Outlook or a phone would, APPENDed to the watched Dovecot mailbox,
and the request, the reminders and the confirmation at the SMTP server are checked."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from imi_mailwatch.adapters.memory import InMemoryTaskSink
from imi_mailwatch.records import Handling
from imi_mailwatch.reply_path import ReplyHandler
from tests.replies.e2e import (
    AMS,
    AR_PASS,
    BEHEERDER,
    COLLEAGUE,
    FOLDERS,
    REQUEST,
    SAMPLES,
    World,
    confirmation,
    dovecot_server,
    reminder,
    reminders_after,
    reply_to,
    run_days,
    team_address,
    unique,
    world,
)
from tests.replies.mail import iphone, outlook_desktop, outlook_web

__all__ = ["dovecot_server", "world"]  # the fixtures


def test_unknown_first_line_from_outlook_gets_the_help_answer(world: World) -> None:
    """An Outlook reply to the reminder with no command gets the Dutch help answer, once."""
    sent = reminder(world)
    data = outlook_desktop("Dank je, ik kijk ernaar", sender=team_address(world),
                           auth_results=(AR_PASS,), **reply_to(sent))  # fmt: skip
    world.deliver(data)
    (answer,) = world.answers_to(team_address(world))[-1:]
    assert "Bedankt voor uw antwoord over IMI-verzoek 184523" in answer.get_content()
    assert answer["In-Reply-To"] == "<reply-1@mail.brabant.nl>"
    before = len(world.sent())
    world.deliver(data)  # the same reply again (a replay): not answered again
    assert len(world.sent()) == before
    assert REQUEST in str(answer["Message-ID"])
    assert len(world.imap.folder_uids(FOLDERS["handled"])) == 3  # the alert, the reply twice


def test_beantwoord_from_outlook_stops_reminders_and_is_confirmed(world: World) -> None:
    """BEANTWOORD in an Outlook reply to the reminder: confirmed, no reminder after it."""
    sent = reminder(world)
    team = team_address(world)
    world.deliver(unique(outlook_desktop("BEANTWOORD", sender=team, auth_results=(AR_PASS,),
                                         **reply_to(sent))))  # fmt: skip
    mail = confirmation(world, team, "BEANTWOORD")
    assert world.app.store.desk_state(REQUEST).handled is Handling.ANSWERED
    assert REQUEST in str(mail["Message-ID"])
    count = len(world.sent())
    run_days(world, 14)  # past the reply date
    assert reminders_after(world, count) == []


def test_a_replayed_reply_applies_and_confirms_once(world: World) -> None:
    """The same reply APPENDed twice (a replay): one action, one confirmation."""
    sent = reminder(world)
    team = team_address(world)
    data = unique(outlook_web("Beantwoord.", sender=team, auth_results=(AR_PASS,),
                              **reply_to(sent)))  # fmt: skip
    world.deliver(data)
    world.deliver(data)
    confirmation(world, team, "BEANTWOORD")
    assert len(world.app.store.actions_of(REQUEST)) == 1


def test_pause_from_an_iphone_html_only_reply(world: World) -> None:
    """PAUZE TOT from an iPhone (HTML only, signature, quoted history): no reminders till then."""
    sent = reminder(world)
    team = team_address(world)
    until = date(2026, 12, 10)
    world.deliver(unique(iphone(f"Pauze tot {until:%d-%m-%Y}", sender=team, html_only=True,
                                auth_results=(AR_PASS,), **reply_to(sent))))  # fmt: skip
    confirmation(world, team, "PAUZE")
    assert world.app.store.desk_state(REQUEST).paused_until == until
    count = len(world.sent())
    while world.clock.now().astimezone(AMS).date() < until:
        run_days(world, 1)
        assert reminders_after(world, count) == []


def test_a_colleague_claims_the_request(world: World) -> None:
    """IK PAK DIT OP from a colleague of the own domain: the claimer; the beheerders in cc."""
    sent = reminder(world)
    world.deliver(unique(outlook_web("Ik pak dit op", sender=COLLEAGUE, auth_results=(AR_PASS,),
                                     **reply_to(sent))))  # fmt: skip
    mail = confirmation(world, COLLEAGUE, "IK PAK DIT OP")
    assert BEHEERDER in str(mail["Cc"])
    assert world.app.store.desk_state(REQUEST).claimer == COLLEAGUE


def test_a_beheerder_reroutes_by_reply(world: World) -> None:
    """HERROUTEER by a beheerder: the request moves, a memo line reaches the task."""
    sent = reminder(world)
    old = team_address(world)
    world.deliver(unique(outlook_desktop("HERROUTEER natuur", sender=BEHEERDER,
                                         auth_results=(AR_PASS,), **reply_to(sent))))  # fmt: skip
    confirmation(world, BEHEERDER, "HERROUTEER")
    request = world.app.store.get_request(REQUEST)
    assert request is not None and request.team_key == "natuur"
    assert world.answers_to("natuur@brabant.example")
    assert world.answers_to(old)
    sink = world.app.sink
    assert isinstance(sink, InMemoryTaskSink)
    assert any("natuur" in line.lower() for lines in sink.memos.values() for line in lines)


def test_a_mixed_case_sender_is_the_same_person(world: World) -> None:
    """The From address is compared and recorded in lower case: the team's BEANTWOORD counts."""
    sent = reminder(world)
    team = team_address(world)
    world.deliver(unique(outlook_desktop("BEANTWOORD", sender=team.upper(),
                                         auth_results=(AR_PASS,), **reply_to(sent))))  # fmt: skip
    assert world.app.store.desk_state(REQUEST).handled is Handling.ANSWERED
    assert all(a.entry.actor == team for a in world.app.store.actions_of(REQUEST))


def test_replies_in_one_fetch_are_each_answered(world: World) -> None:
    """Several replies and ordinary mail in one fetch (group commit): each reply is handled."""
    sent = reminder(world)
    team = team_address(world)
    world.imap.append([
        unique(outlook_desktop("AANVAARD", sender=team, auth_results=(AR_PASS,),
                               **reply_to(sent))),
        (SAMPLES / "not_imi_newsletter.eml").read_bytes(),
        unique(outlook_web("Ik pak dit op", sender=COLLEAGUE, auth_results=(AR_PASS,),
                           **reply_to(sent))),
    ])  # fmt: skip
    world.app.daemon.run_once()
    confirmation(world, team, "AANVAARD")
    confirmation(world, COLLEAGUE, "IK PAK DIT OP")
    state = world.app.store.desk_state(REQUEST)
    assert state.accepted_at is not None and state.claimer == COLLEAGUE


def test_an_answer_waits_out_a_mail_server_outage_under_one_message_id(world: World) -> None:
    """The mail server down: the reply is still recorded and moved; its answer goes out once
    it is back, under the Message-ID recorded with the reply."""
    sent = reminder(world)
    team = team_address(world)
    world.smtp.handler.data_reply = "451 4.3.0 probeer het later"
    world.deliver(unique(outlook_desktop("Hallo?", sender=team, auth_results=(AR_PASS,),
                                         **reply_to(sent))))  # fmt: skip
    assert world.imap.folder_uids("INBOX") == []  # acknowledged: the answer is owed, not lost
    (owed,) = [r for r in world.app.store.desk_mails_of(REQUEST) if ".answer." in r.message_id]
    world.smtp.handler.data_reply = None
    for _ in range(3):
        world.clock.advance(timedelta(minutes=30))
        world.app.daemon.run_once()
    answers = [m for m in world.answers_to(team) if str(m["Message-ID"]) == owed.message_id]
    assert len(answers) == 1


def test_a_failure_while_applying_leaves_nothing_half_done(world: World) -> None:
    """The desk fails in the middle of a command: the reply is quarantined, the request, the
    action log and the owed mails are as before (one transaction or nothing)."""
    sent = reminder(world)
    team = team_address(world)
    replies = world.app.pipeline.replies
    assert isinstance(replies, ReplyHandler) and replies.desk is not None

    class BrokenPlanner:  # fails after the desk state was written, inside the transaction
        def replan(self, store: object, request: object, *, closed: bool) -> None:
            raise RuntimeError("planner broken")

    replies.desk = dataclasses.replace(replies.desk, planner=BrokenPlanner())
    before = (world.app.store.get_request(REQUEST), world.app.store.desk_mails_of(REQUEST))
    world.deliver(unique(outlook_desktop("BEANTWOORD", sender=team, auth_results=(AR_PASS,),
                                         **reply_to(sent))))  # fmt: skip
    assert (world.app.store.get_request(REQUEST), world.app.store.desk_mails_of(REQUEST)) == before
    assert world.app.store.actions_of(REQUEST) == []
    assert world.app.store.desk_state(REQUEST).handled is None
    (item,) = world.app.store.quarantine()
    assert item.reason == "internal error: RuntimeError"
