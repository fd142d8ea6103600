"""Sends the mails the desk owes: confirmations, answers, notices to teams.

Each mail was recorded with the action that caused it, in the same transaction,
under a deterministic Message-ID. Sending follows the follow-ups' steps
(:mod:`imi_mailwatch.deadlines.followups`): 1. the intent (``sending``, attempt
counted) is durable; 2. the notifier is called; 3. the mail is marked sent. A crash
between 1 and 3 sends the same mail again, with the same Message-ID. Confirmations
go at once, also outside working hours: the actor waits for them.
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from imi_mailwatch.errors import PermanentError, TransientError
from imi_mailwatch.ports import Clock, Notifier, StateStore
from imi_mailwatch.records import DeskMailRow, DeskMailStatus
from imi_mailwatch.retry import mail_retry_delay

__all__ = ["DeskMailer"]

log = structlog.get_logger(__name__)


class DeskMailer:
    """The periodic task that sends the desk's mails (also callable right after a command)."""

    def __init__(
        self,
        store: StateStore,
        notifier: Notifier,
        clock: Clock,
        *,
        resend_after: timedelta = timedelta(minutes=60),
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.clock = clock
        self.resend_after = resend_after

    def run_due(self) -> int:
        """Send every mail that is due; returns how many were sent."""
        now = self.clock.now()
        sent = 0
        for row in self.store.desk_mails_due(now):
            try:
                sent += self._send(row)
            except TransientError:
                break  # the mail server is down: the rest waits for the next pass
            except Exception as exc:  # a bug or bad data in this one: fail it, go on
                self._failed(row, f"internal error: {type(exc).__name__}", exc)
        return sent

    def _send(self, row: DeskMailRow) -> int:
        now = self.clock.now()
        if row.status is DeskMailStatus.SENDING:
            log.warning("desk.resend_after_interruption", request_id=row.request_id,
                        message_id=row.message_id)  # fmt: skip
        with self.store.transaction():  # 1. the intent, durable before the notifier is called
            self.store.desk_mail_sending(row.message_id)
        try:
            self.notifier.send(row.mail)  # 2.
        except TransientError as exc:
            delay = mail_retry_delay(row.attempts + 1, exc, resend_after=self.resend_after)
            with self.store.transaction():
                self.store.desk_mail_defer(row.message_id, now + delay, type(exc).__name__)
            self.store.record_health("notifier", ok=False, error=type(exc).__name__)
            log.warning("desk.mail_deferred", request_id=row.request_id,
                        error=type(exc).__name__,
                        retry_in_s=int(delay.total_seconds()))  # fmt: skip
            raise
        except PermanentError as exc:
            self._failed(row, type(exc).__name__, None)
            return 0
        with self.store.transaction():  # 3.
            self.store.desk_mail_done(row.message_id, sent=True)
        self.store.record_health("notifier", ok=True)
        log.info("desk.mail_sent", request_id=row.request_id, attempt=row.attempts + 1,
                 recipients=len(row.mail.to) + len(row.mail.cc))  # fmt: skip
        return 1

    def _failed(self, row: DeskMailRow, error: str, exc: Exception | None) -> None:
        """Failed for good: the beheerders hear of it in their report."""
        text = (
            f"verzoek {row.request_id}: het bericht '{row.mail.subject}' kon niet worden "
            f"verstuurd ({error})."
        )
        with self.store.transaction():
            self.store.desk_mail_done(row.message_id, sent=False, error=error)
            self.store.notice_add(f"deskmail:{row.message_id}", "followup", text)
        log.error("desk.mail_failed", request_id=row.request_id, error=error, exc_info=exc)
