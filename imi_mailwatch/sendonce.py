"""Mail sent at most once under a fixed Message-ID: one state machine for every kind.

The follow-ups (reminders, notices to teams), the desk's mails, the scheduled
mails (the Monday overview, the quarterly report) and the beheerders' reports
each keep their rows in their own table; :class:`MailSender` walks any of them
through the same steps::

    due -> sending -> sent | deferred (back-off) | failed

1. the intent (``sending``, attempt counted) is durable before the notifier is
   called;
2. the notifier is called with the mail's fixed Message-ID;
3. the outcome is recorded: ``sent``; ``deferred`` after a ``TransientError``
   with the one back-off of outgoing mail (:func:`imi_mailwatch.retry.mail_retry_delay`;
   after a ``NotifierUncertainError`` not before ``resend_after``); ``failed``
   after a ``PermanentError``.

A crash between 1 and 3 leaves the row ``sending``: the next pass sends the
same mail again with the same Message-ID (at-least-once; the notifier cannot
tell whether the first attempt arrived, and mail clients recognise the repeat).
A kind tells the loop how (:class:`MailBook`, :class:`MailQueue`): what its rows
are, which mail a row stands for, what each step writes and logs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Generic, Protocol, TypeVar

import structlog

from imi_mailwatch.errors import NotifierUncertainError, PermanentError, TransientError
from imi_mailwatch.model import OutgoingMail
from imi_mailwatch.ports import AuditLog, Clock, Notifier
from imi_mailwatch.retry import clamped, mail_retry_delay

__all__ = ["MailBook", "MailQueue", "MailSender", "Outcome", "Sending"]

log = structlog.get_logger(__name__)

R = TypeVar("R")


class Outcome(Enum):
    """How one attempt ended."""

    SENT = "sent"
    DEFERRED = "deferred"  # the notifier is unavailable: tried again after the back-off
    FAILED = "failed"  # refused for good


@dataclass(frozen=True, slots=True)
class Sending(Generic[R]):
    """One mail on its way: its row, the mail (its Message-ID fixed by the row), the
    attempts before this one, and whether an earlier attempt was cut off."""

    row: R
    mail: OutgoingMail
    attempts: int
    interrupted: bool = False  # status ``sending``: the same mail goes out again


class MailBook(Protocol[R]):
    """What the steps of one kind of mail write (each joins the loop's transaction) and
    log (each kind keeps its own events)."""

    def sending(self, s: Sending[R], now: datetime) -> None:
        """1. The intent: status ``sending``, the attempt counted."""
        ...

    def deferred(self, s: Sending[R], now: datetime, delay: timedelta, error: str) -> None:
        """Due again at ``now + delay`` (``error``: the exception's class)."""
        ...

    def sent(self, s: Sending[R], now: datetime) -> None:
        """3. Sent: never again."""
        ...

    def failed(self, row: R, now: datetime, error: str, exc: BaseException | None) -> None:
        """Refused for good (``exc`` None) or an unexpected error ``exc``: log, then write."""
        ...


class MailQueue(MailBook[R], Protocol[R]):
    """A kind whose due rows are sent in one pass (:meth:`MailSender.run`)."""

    def prepare(self, row: R, now: datetime) -> Sending[R] | None:
        """The mail a due row stands for; None when the row was settled without one
        (cancelled, superseded, nobody to send to)."""
        ...


@dataclass(eq=False)  # a service: compared and hashed by identity
class MailSender:
    """Sends mails at most once (as far as e-mail allows) through one notifier."""

    store: AuditLog
    notifier: Notifier
    clock: Clock
    resend_after: timedelta = field(default=timedelta(minutes=60), kw_only=True)

    def run(self, queue: MailQueue[R], rows: Iterable[R]) -> int:
        """Send the due ``rows`` in order; the number sent. A notifier that is down ends
        the pass (the rest waits); an unexpected error fails that one row, the pass goes on."""
        sent = 0
        for row in rows:
            now = self.clock.now()
            try:
                s = queue.prepare(row, now)
                outcome = self.send(queue, s, now) if s is not None else None
            except TransientError:
                break  # something this pass needs is unavailable: the rest waits
            except Exception as exc:  # a bug or bad data in this one: fail it, go on
                self._give_up(queue, row, now, exc)
                continue
            if outcome is Outcome.DEFERRED:
                break  # the mail server is down: the rest waits for the next pass
            if outcome is Outcome.SENT:
                sent += 1
        return sent

    def send(self, book: MailBook[R], s: Sending[R], now: datetime) -> Outcome:
        """Steps 1 to 3 for one mail."""
        with self.store.transaction():  # 1. the intent, durable before the notifier is called
            book.sending(s, now)
        try:
            self.notifier.send(s.mail)  # 2.
        except TransientError as exc:
            delay = mail_retry_delay(s.attempts + 1, exc, resend_after=self.resend_after)
            with self.store.transaction():
                book.deferred(s, now, delay, type(exc).__name__)
            self.store.record_health("notifier", ok=False, error=type(exc).__name__)
            return Outcome.DEFERRED
        except PermanentError as exc:
            with self.store.transaction():
                book.failed(s.row, now, type(exc).__name__, None)
            return Outcome.FAILED
        with self.store.transaction():  # 3.
            book.sent(s, now)
        self.store.record_health("notifier", ok=True)
        return Outcome.SENT

    def retry_at(
        self, next_at: datetime, now: datetime, attempts: int, last_error: str | None
    ) -> datetime:
        """A stored next attempt, brought back to ``now`` + its back-off when it lies
        further ahead than that (the clock jumped back: ``retry.clamped``). The back-off
        is told by ``last_error``: ``resend_after`` after a mail that may have arrived
        (``NotifierUncertainError``) or was refused (a ``PermanentError``, where a kind
        tries again rather than fails), else the back-off of an unavailable notifier."""
        waits_long = last_error in _names(NotifierUncertainError) | _names(PermanentError)
        error = NotifierUncertainError() if waits_long else TransientError()
        allowed = mail_retry_delay(attempts, error, resend_after=self.resend_after)
        return clamped(next_at, now, allowed)

    def _give_up(self, queue: MailBook[R], row: R, now: datetime, exc: Exception) -> None:
        """Mark one row failed after an unexpected error, so that it neither blocks the
        others nor repeats every pass (the beheerders' report tells them)."""
        try:
            with self.store.transaction():
                queue.failed(row, now, f"internal error: {type(exc).__name__}", exc)
        except Exception as store_exc:
            log.error("mail.fail_record_failed", error=type(store_exc).__name__, exc_info=True)


def _names(cls: type[BaseException]) -> set[str]:
    """The class names of ``cls`` and its subclasses (as stored in ``last_error``)."""
    return {cls.__name__}.union(*(_names(sub) for sub in cls.__subclasses__()))
