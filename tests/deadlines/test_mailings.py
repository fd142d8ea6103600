"""Scheduled mails (``ScheduledMailer``): each key once, deferred with the mail back-off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from imi_mailwatch.adapters.memory import InMemoryNotifier
from imi_mailwatch.adapters.memory_state import MemoryStateStore
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.errors import NotifierRejectedError, NotifierUnavailableError
from imi_mailwatch.mailings import ScheduledMailer
from imi_mailwatch.model import OutgoingMail

START = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
KEY = "overview:2026-W48:eco"


class Down:
    def send(self, mail: OutgoingMail) -> None:
        raise NotifierUnavailableError("relay down")


def _mail(message_id: str) -> OutgoingMail:
    return OutgoingMail(message_id=message_id, to=("eco@example.org",), subject="Overzicht",
                        text="tekst\n")  # fmt: skip


def test_a_clock_jumping_back_does_not_delay_a_scheduled_mail_by_the_jump() -> None:
    """Clock jump back (a day): a deferred scheduled mail goes out after its back-off,
    not a day late."""
    clock = FakeClock(START)
    store = MemoryStateStore(clock)
    assert not ScheduledMailer(store, Down(), clock).send_once(KEY, _mail)  # 1 minute
    clock.set(START - timedelta(days=1))  # the clock jumped back a day
    notifier = InMemoryNotifier()
    mailer = ScheduledMailer(store, notifier, clock)
    assert not mailer.send_once(KEY, _mail)  # still within its back-off
    clock.advance(timedelta(minutes=2))
    assert mailer.send_once(KEY, _mail)
    assert not mailer.send_once(KEY, _mail) and len(notifier.sent) == 1


def test_a_resend_keeps_the_message_id_of_the_claim() -> None:
    """A scheduled mail deferred and sent later goes out under the Message-ID of its key."""
    clock = FakeClock(START)
    store = MemoryStateStore(clock)
    assert not ScheduledMailer(store, Down(), clock).send_once(KEY, _mail)
    clock.advance(timedelta(minutes=5))
    notifier = InMemoryNotifier()
    assert ScheduledMailer(store, notifier, clock).send_once(KEY, _mail)
    row = store.mailing(KEY)
    assert row is not None and notifier.sent[0].message_id == row["message_id"]
    assert row["attempts"] == 1 and row["sent_at"] is not None


class Refuses:
    def send(self, mail: OutgoingMail) -> None:
        raise NotifierRejectedError("550 refused")


def test_a_refused_scheduled_mail_waits_resend_after_not_the_short_back_off() -> None:
    """A scheduled mail the relay refused is tried again after resend_after (60 min),
    not after the one-minute back-off of an unavailable relay."""
    clock = FakeClock(START)
    store = MemoryStateStore(clock)
    assert not ScheduledMailer(store, Refuses(), clock).send_once(KEY, _mail)
    notifier = InMemoryNotifier()
    mailer = ScheduledMailer(store, notifier, clock)
    for minutes in (2, 5, 30, 59):
        clock.set(START + timedelta(minutes=minutes))
        assert not mailer.send_once(KEY, _mail), minutes
    clock.set(START + timedelta(minutes=61))
    assert mailer.send_once(KEY, _mail) and len(notifier.sent) == 1
