"""The desk service over the in-memory store: every command, authorisation, idempotence."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from imi_mailwatch.desk import Actor, Via
from imi_mailwatch.model import RequestStatus
from imi_mailwatch.msgid import parse_message_id
from imi_mailwatch.records import Handling
from imi_mailwatch.replies import Command, CommandKind, Role
from tests.desk.conftest import BEHEERDER, START, DeskRig

OUTSIDER = Actor("iemand@elders.example", Via.MAIL, frozenset())
COLLEAGUE = Actor("jan@example.org", Via.MAIL, frozenset({Role.COLLEAGUE}))


def test_aanvaard_records_the_acceptance_and_confirms_it(rig: DeskRig) -> None:
    """AANVAARD by the team sets accepted_at once, logs the action and owes a confirmation
    with a deterministic Message-ID of the request."""
    rig.record()
    result = rig.apply(Command(CommandKind.ACCEPT), reply_message_id="<r1@example.org>")
    assert result.ok and "aanvaard" in result.text
    assert rig.store.desk_state("184523").accepted_at == START
    (action,) = rig.store.actions_of("184523")
    assert action.entry.actor == "vth-milieu@example.org" and action.entry.via == "mail"
    assert action.entry.command == "aanvaard" and action.entry.ok
    (mail,) = rig.store.desk_mails_of("184523")
    assert action.entry.confirmation_id == mail.message_id
    parsed = parse_message_id(mail.message_id)
    assert parsed is not None and parsed.request_id == "184523" and parsed.kind == "confirm"
    assert mail.mail.to == ("vth-milieu@example.org",) and mail.mail.cc == ()
    assert mail.mail.subject.startswith("[IMI 184523]")
    assert ("Reply-To", "imi@example.org") in mail.mail.headers
    assert "Antwoord met één woord op de eerste regel:" in mail.mail.text
    rig.clock.advance(timedelta(days=1))
    assert rig.apply(Command(CommandKind.ACCEPT)).ok
    assert rig.store.desk_state("184523").accepted_at == START  # the first moment is kept


def test_beantwoord_stops_reminders_and_says_so(rig: DeskRig) -> None:
    """BEANTWOORD cancels every open reminder; the text says there is no next one."""
    rig.record()
    assert rig.open_reminders()
    result = rig.apply(Command(CommandKind.ANSWERED))
    assert result.ok
    assert rig.open_reminders() == []
    state = rig.store.desk_state("184523")
    assert state.handled is Handling.ANSWERED and state.answered_at == START
    assert "Volgende herinnering: geen" in result.text
    assert rig.store.outbox_rows() and rig.store.outbox_rows()[0]["action"] == "annotate"


def test_the_same_reply_applied_twice_changes_nothing_twice(rig: DeskRig) -> None:
    """A replayed reply (same Message-ID) returns the first outcome; no second action,
    no second mail, no second change."""
    rig.record()
    first = rig.apply(Command(CommandKind.ACCEPT), reply_message_id="<r1@example.org>")
    rig.clock.advance(timedelta(hours=1))
    again = rig.apply(Command(CommandKind.ACCEPT), reply_message_id="<r1@example.org>")
    assert again == first
    assert len(rig.store.actions_of("184523")) == 1
    assert len(rig.store.desk_mails_of("184523")) == 1
    assert rig.store.desk_state("184523").accepted_at == START


def test_an_outsider_changes_nothing_and_gets_a_refusal(rig: DeskRig) -> None:
    """A sender without a role for the request is refused: no state change, the refusal
    logged, a Dutch answer owed saying who may."""
    rig.record()
    before = rig.open_reminders()
    result = rig.apply(Command(CommandKind.ANSWERED), OUTSIDER)
    assert not result.ok and "niet uitgevoerd" in result.text
    assert rig.open_reminders() == before
    assert rig.store.desk_state("184523").handled is None
    (action,) = rig.store.actions_of("184523")
    assert not action.entry.ok
    (mail,) = rig.store.desk_mails_of("184523")
    assert mail.mail.to == ("iemand@elders.example",)
    assert "Wie dit mag" in mail.mail.text


def test_another_team_may_not_answer_for_this_one(rig: DeskRig) -> None:
    """The mailbox of another team is not the request's team: BEANTWOORD is refused."""
    rig.record()
    other = Actor("economie@example.org", Via.MAIL, frozenset({Role.COLLEAGUE}))
    assert not rig.apply(Command(CommandKind.ANSWERED), other).ok
    assert rig.open_reminders()


def test_an_unknown_request_is_refused_without_a_trace(rig: DeskRig) -> None:
    """A command about a request the daemon does not know changes and records nothing."""
    result = rig.apply(Command(CommandKind.ACCEPT), request_id="999999")
    assert not result.ok and "niet bekend" in result.text
    assert rig.store.actions_of("999999") == [] and rig.store.desk_mails_of("999999") == []


def test_pause_past_the_reply_date_is_refused_with_the_reason(rig: DeskRig) -> None:
    """PAUZE TOT a day after the reply date is refused with pause_problem's explanation."""
    rig.record()
    result = rig.apply(Command(CommandKind.PAUSE, until=date(2026, 12, 15)))
    assert not result.ok and "voorbij de antwoorddatum" in result.text
    assert rig.store.desk_state("184523").paused_until is None
    (mail,) = rig.store.desk_mails_of("184523")
    assert "voorbij de antwoorddatum" in mail.mail.text


def test_pause_holds_reminders_until_the_day_after_and_hervat_brings_them_back(
    rig: DeskRig,
) -> None:
    """PAUZE TOT d drops reminders due up to and including d; HERVAT plans them again."""
    rig.record()
    every = rig.open_reminders()
    result = rig.apply(Command(CommandKind.PAUSE, until=date(2026, 11, 24)))
    assert result.ok and "24-11-2026" in result.text
    held = rig.open_reminders()
    assert held and len(held) < len(every)
    assert all(f["due_at"] >= "2026-11-25" for f in held)
    assert rig.apply(Command(CommandKind.RESUME)).ok
    assert rig.store.desk_state("184523").paused_until is None
    assert [f["step"] for f in rig.open_reminders()] == [f["step"] for f in every]


def test_claim_makes_the_sender_the_claimer_with_the_beheerders_in_cc(rig: DeskRig) -> None:
    """IK PAK DIT OP from a colleague: they are the claimer, the confirmation goes to them
    with the beheerders in cc and tells the beheerders to move the task."""
    rig.record()
    result = rig.apply(Command(CommandKind.CLAIM), COLLEAGUE)
    assert result.ok
    assert rig.store.desk_state("184523").claimer == "jan@example.org"
    (mail,) = rig.store.desk_mails_of("184523")
    assert mail.mail.to == ("jan@example.org",)
    assert set(mail.mail.cc) == {"a.voorbeeld@example.org", "b.voorbeeld@example.org"}
    assert "Verplaats de taak" in mail.mail.text
    assert rig.apply(Command(CommandKind.ANSWERED), COLLEAGUE).ok  # the claimer may


def test_a_beheerder_claims_for_a_colleague_from_the_cli(rig: DeskRig) -> None:
    """From the CLI the claimer's address is given; outside the own domains it is refused."""
    rig.record()
    refused = rig.apply(Command(CommandKind.CLAIM), BEHEERDER, claimer="x@elders.example")
    assert not refused.ok
    assert rig.apply(Command(CommandKind.CLAIM), BEHEERDER, claimer="Jan@Example.org").ok
    assert rig.store.desk_state("184523").claimer == "jan@example.org"
    mail = rig.store.desk_mails_of("184523")[-1]
    assert set(mail.mail.to) == {"a.voorbeeld@example.org", "b.voorbeeld@example.org"}


def test_a_later_alert_does_not_bring_reminders_back_but_closing_still_mails(
    rig: DeskRig,
) -> None:
    """After BEANTWOORD a new reply date from IMI plans no reminders again; IMI's 'closed'
    still plans the closing mail and the archive check."""
    request = rig.record()
    assert rig.apply(Command(CommandKind.ANSWERED)).ok
    rig.record(replace(request, deadline=date(2026, 12, 4)))
    assert rig.open_reminders() == []
    closed = replace(request, status=RequestStatus.CLOSED, closed_at=rig.clock.now())
    with rig.store.transaction():
        rig.store.save_request(closed)
        rig.followups.replan(rig.store, closed, closed=True)
    kinds = {f["kind"] for f in rig.store.followups_of("184523") if f["status"] == "scheduled"}
    assert kinds == {"closing", "archive"}


def test_the_answer_to_a_reply_threads_under_it(rig: DeskRig) -> None:
    """The confirmation and the refusal of a command given by reply name that reply
    (In-Reply-To, References), so mail clients show them in its conversation."""
    rig.record()
    rig.apply(Command(CommandKind.ACCEPT), reply_message_id="<r1@example.org>")
    rig.apply(Command(CommandKind.ANSWERED), OUTSIDER, reply_message_id="<r2@example.org>")
    mails = rig.store.desk_mails_of("184523")
    assert len(mails) == 2
    for m, reply in zip(mails, ("<r1@example.org>", "<r2@example.org>"), strict=True):
        headers = dict(m.mail.headers)
        assert headers["In-Reply-To"] == reply and headers["References"] == reply
