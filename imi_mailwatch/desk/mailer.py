"""Sends the mails the desk owes: confirmations, answers, notices to teams.

Each mail was recorded with the action that caused it, in the same transaction,
under a deterministic Message-ID. Sending takes the steps of every mail sent once
(:mod:`imi_mailwatch.sendonce`): 1. the intent (``sending``, attempt counted) is
durable; 2. the notifier is called; 3. the mail is marked sent. A crash between 1
and 3 sends the same mail again, with the same Message-ID. Confirmations go at
once, also outside working hours: the actor waits for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from imi_mailwatch.ports import StateStore
from imi_mailwatch.records import DeskMailRow, DeskMailStatus
from imi_mailwatch.sendonce import MailSender, Sending

__all__ = ["DeskMailer"]

log = structlog.get_logger(__name__)


@dataclass(eq=False)  # a service: compared and hashed by identity
class DeskMailer(MailSender):
    """The periodic task that sends the desk's mails (also callable right after a command)."""

    store: StateStore

    def run_due(self) -> int:
        """Send every mail that is due; returns how many were sent."""
        return self.run(self, self.store.desk_mails_due(self.clock.now()))

    def prepare(self, row: DeskMailRow, now: datetime) -> Sending[DeskMailRow]:
        return Sending(row, row.mail, row.attempts, row.status is DeskMailStatus.SENDING)

    def sending(self, s: Sending[DeskMailRow], now: datetime) -> None:
        if s.interrupted:
            log.warning("desk.resend_after_interruption", request_id=s.row.request_id,
                        message_id=s.mail.message_id)  # fmt: skip
        self.store.desk_mail_sending(s.mail.message_id)

    def deferred(
        self, s: Sending[DeskMailRow], now: datetime, delay: timedelta, error: str
    ) -> None:
        self.store.desk_mail_defer(s.mail.message_id, now + delay, error)
        log.warning("desk.mail_deferred", request_id=s.row.request_id, error=error,
                    retry_in_s=int(delay.total_seconds()))  # fmt: skip

    def sent(self, s: Sending[DeskMailRow], now: datetime) -> None:
        self.store.desk_mail_done(s.mail.message_id, sent=True)
        log.info("desk.mail_sent", request_id=s.row.request_id, attempt=s.attempts + 1,
                 recipients=len(s.mail.to) + len(s.mail.cc))  # fmt: skip

    def failed(
        self, row: DeskMailRow, now: datetime, error: str, exc: BaseException | None
    ) -> None:
        """Failed for good: the beheerders hear of it in their report."""
        log.error("desk.mail_failed", request_id=row.request_id, error=error, exc_info=exc)
        text = (
            f"verzoek {row.request_id}: het bericht '{row.mail.subject}' kon niet worden "
            f"verstuurd ({error})."
        )
        self.store.desk_mail_done(row.message_id, sent=False, error=error)
        self.store.notice_add(f"deskmail:{row.message_id}", "followup", text)
