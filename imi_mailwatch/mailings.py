"""Scheduled mails sent exactly once per key: the Monday overview, the quarterly report.

A mail is claimed in the state store (``ports.MailingLog``) under its key (the
week and team, the quarter) with a Message-ID derived from that key, then sent,
then marked sent. After a crash between sending and marking, the mail goes out
again with the same Message-ID, which mail clients and servers recognise as a
repeat; a key marked sent never goes out again, however often the daemon
restarts. A notifier that is down defers the mail with the back-off of every
outgoing mail (``retry.mail_retry_delay``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

import structlog

from imi_mailwatch.clock import parse_ts
from imi_mailwatch.errors import PermanentError, TransientError
from imi_mailwatch.model import OutgoingMail
from imi_mailwatch.ports import AuditLog, Clock, MailingLog, Notifier
from imi_mailwatch.retry import clamped, mail_retry_delay

log = structlog.get_logger(__name__)


class MailingStore(MailingLog, AuditLog, Protocol):
    """What a scheduled mail needs of the state store."""


def message_id_for(key: str) -> str:
    """The Message-ID of the mail ``key``: the same on every attempt and every restart."""
    kind = key.split(":", 1)[0]
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return f"<{kind}-{digest}@imi-mailwatch.invalid>"


class ScheduledMailer:
    """Sends a keyed mail at most once (as far as e-mail allows)."""

    def __init__(
        self,
        store: MailingStore,
        notifier: Notifier,
        clock: Clock,
        *,
        resend_after: timedelta = timedelta(minutes=60),
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.clock = clock
        self.resend_after = resend_after

    def sent(self, key: str) -> bool:
        """Whether the mail ``key`` went out."""
        row = self.store.mailing(key)
        return row is not None and row["sent_at"] is not None

    def send_once(self, key: str, compose: Callable[[str], OutgoingMail]) -> bool:
        """Send mail ``key`` (``compose`` gets its Message-ID) unless it went out already
        or waits for its next attempt; True when it went out now."""
        with self.store.transaction():
            self.store.mailing_claim(key, message_id_for(key))
            row = self.store.mailing(key)
        assert row is not None  # claimed just now or before
        if row["sent_at"] is not None:
            return False
        now = self.clock.now()
        next_at = parse_ts(row["next_attempt_at"])
        attempts = int(row["attempts"] or 0)
        if next_at is not None:
            allowed = mail_retry_delay(
                max(attempts, 1), TransientError(), resend_after=self.resend_after
            )
            if now < clamped(next_at, now, allowed):
                return False
        mail = compose(str(row["message_id"]))
        try:
            self.notifier.send(mail)
        except (TransientError, PermanentError) as exc:
            attempts += 1
            delay = (
                mail_retry_delay(attempts, exc, resend_after=self.resend_after)
                if isinstance(exc, TransientError)
                else self.resend_after
            )
            with self.store.transaction():
                self.store.mailing_defer(key, attempts, now + delay, type(exc).__name__)
            log.warning(
                "mailing.deferred",
                kind=key.split(":", 1)[0],
                error=type(exc).__name__,
                attempt=attempts,
                retry_in_s=int(delay.total_seconds()),
            )
            return False
        with self.store.transaction():
            self.store.mailing_sent(key)
            self.store.audit("mailing.sent", None, key=key, message_id=mail.message_id)
        log.info("mailing.sent", kind=key.split(":", 1)[0], key=key, recipients=len(mail.to))
        return True
