"""Scheduled mails sent exactly once per key: the Monday overview, the quarterly report.

A mail is claimed in the state store (``ports.MailingLog``) under its key (the
week and team, the quarter) with a Message-ID derived from that key, then sent,
then marked sent. After a crash between sending and marking, the mail goes out
again with the same Message-ID, which mail clients and servers recognise as a
repeat; a key marked sent never goes out again, however often the daemon
restarts. A notifier that is down defers the mail with the back-off of every
outgoing mail (:mod:`imi_mailwatch.sendonce`, ``retry.mail_retry_delay``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog

from imi_mailwatch.clock import parse_ts
from imi_mailwatch.model import OutgoingMail
from imi_mailwatch.ports import AuditLog, MailingLog
from imi_mailwatch.sendonce import MailSender, Outcome, Sending

log = structlog.get_logger(__name__)

Claim = dict[str, Any]  # a claim as MailingLog.mailing gives it


class MailingStore(MailingLog, AuditLog, Protocol):
    """What a scheduled mail needs of the state store."""


def message_id_for(key: str) -> str:
    """The Message-ID of the mail ``key``: the same on every attempt and every restart."""
    kind = key.split(":", 1)[0]
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return f"<{kind}-{digest}@imi-mailwatch.invalid>"


@dataclass(eq=False)  # a service: compared and hashed by identity
class ScheduledMailer(MailSender):
    """Sends a keyed mail at most once (as far as e-mail allows); a refused one is tried
    again after ``resend_after`` (a scheduled mail is never given up)."""

    store: MailingStore

    def sent(self, key: str) -> bool:
        """Whether the mail ``key`` went out."""
        row = self.store.mailing(key)
        return row is not None and row["sent_at"] is not None

    def send_once(self, key: str, compose: Callable[[str], OutgoingMail]) -> bool:
        """Send mail ``key`` (``compose`` gets its Message-ID) unless it went out already
        or waits for its next attempt; True when it went out now."""
        with self.store.transaction():  # the claim is the intent, durable before the send
            self.store.mailing_claim(key, message_id_for(key))
            row = self.store.mailing(key)
        assert row is not None  # claimed just now or before
        if row["sent_at"] is not None:
            return False
        now = self.clock.now()
        attempts = int(row["attempts"] or 0)
        next_at = parse_ts(row["next_attempt_at"])
        if next_at is not None:
            retry_at = self.retry_at(next_at, now, max(attempts, 1), row["last_error"])
            if retry_at != next_at:  # the clock jumped back: store the nearer moment
                with self.store.transaction():
                    self.store.mailing_defer(key, attempts, retry_at, row["last_error"])
            if now < retry_at:
                return False
        mail = compose(str(row["message_id"]))
        book = _Book(self.store, key, self.resend_after)
        return self.send(book, Sending(row, mail, attempts), now) is Outcome.SENT


@dataclass(frozen=True, slots=True)
class _Book:
    """What the steps of one scheduled mail write and log (``sendonce.MailBook``); its row
    is the claim (``MailingLog.mailing``)."""

    store: MailingStore
    key: str
    resend_after: timedelta

    def sending(self, s: Sending[Claim], now: datetime) -> None:
        """The claim was the intent; attempts are counted when one fails."""

    def deferred(self, s: Sending[Claim], now: datetime, delay: timedelta, error: str) -> None:
        self._defer(s.attempts + 1, now, delay, error)

    def sent(self, s: Sending[Claim], now: datetime) -> None:
        self.store.mailing_sent(self.key)
        self.store.audit("mailing.sent", None, key=self.key, message_id=s.mail.message_id)
        log.info("mailing.sent", kind=_kind(self.key), key=self.key, recipients=len(s.mail.to))

    def failed(self, row: Claim, now: datetime, error: str, exc: BaseException | None) -> None:
        """Refused: tried again after ``resend_after``."""
        self._defer(int(row["attempts"] or 0) + 1, now, self.resend_after, error)

    def _defer(self, attempts: int, now: datetime, delay: timedelta, error: str) -> None:
        self.store.mailing_defer(self.key, attempts, now + delay, error)
        log.warning("mailing.deferred", kind=_kind(self.key), error=error, attempt=attempts,
                    retry_in_s=int(delay.total_seconds()))  # fmt: skip


def _kind(key: str) -> str:
    return key.split(":", 1)[0]
