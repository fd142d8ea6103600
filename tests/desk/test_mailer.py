"""The desk's mails: sent once, resent under the same Message-ID after a crash, deferred."""

from __future__ import annotations

from datetime import timedelta

from imi_mailwatch.errors import NotifierRejectedError, NotifierUnavailableError
from imi_mailwatch.model import OutgoingMail
from imi_mailwatch.records import DeskMailStatus
from imi_mailwatch.replies import Command, CommandKind
from tests.desk.conftest import DeskRig


class Flaky:
    """A notifier that fails with ``error`` while ``failing`` is set."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.failing = True
        self.sent: list[OutgoingMail] = []

    def send(self, mail: OutgoingMail) -> None:
        if self.failing:
            raise self.error
        self.sent.append(mail)


def test_a_confirmation_is_sent_once(rig: DeskRig) -> None:
    """run_due sends the owed confirmation once and marks it sent."""
    rig.record()
    rig.apply(Command(CommandKind.ACCEPT))
    assert rig.mailer.run_due() == 1
    assert rig.mailer.run_due() == 0
    (mail,) = rig.notifier.sent
    (row,) = rig.store.desk_mails_of("184523")
    assert row.status is DeskMailStatus.SENT and mail.message_id == row.message_id


def test_a_crash_after_the_intent_resends_under_the_same_message_id(rig: DeskRig) -> None:
    """A mail left 'sending' (the process died after the intent) is sent again with the
    Message-ID recorded with the action."""
    rig.record()
    rig.apply(Command(CommandKind.ACCEPT))
    (row,) = rig.store.desk_mails_due(rig.clock.now())
    rig.store.desk_mail_sending(row.message_id)  # ... and the process dies
    assert rig.mailer.run_due() == 1
    (mail,) = rig.notifier.sent
    assert mail.message_id == row.message_id
    (action,) = rig.store.actions_of("184523")
    assert action.entry.confirmation_id == mail.message_id


def test_an_unavailable_mail_server_defers_and_a_refusal_is_reported(rig: DeskRig) -> None:
    """A transient error defers the mail with the same id; a permanent one fails it and
    leaves a notice for the beheerders' report."""
    rig.record()
    rig.apply(Command(CommandKind.ACCEPT))
    flaky = Flaky(NotifierUnavailableError("down"))
    rig.mailer.notifier = flaky
    assert rig.mailer.run_due() == 0
    (row,) = rig.store.desk_mails_of("184523")
    assert row.status is DeskMailStatus.PENDING and row.attempts == 1
    assert rig.mailer.run_due() == 0 and flaky.sent == []  # backing off
    rig.clock.advance(timedelta(minutes=2))
    flaky.failing = False
    assert rig.mailer.run_due() == 1 and flaky.sent[0].message_id == row.message_id
    rig.apply(Command(CommandKind.RESUME))
    rig.mailer.notifier = Flaky(NotifierRejectedError("refused"))
    assert rig.mailer.run_due() == 0
    failed = rig.store.desk_mails_of("184523")[-1]
    assert failed.status is DeskMailStatus.FAILED
    assert any(n["key"] == f"deskmail:{failed.message_id}" for n in rig.store.notices_pending())
