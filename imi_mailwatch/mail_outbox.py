"""Mails recorded with a message's outcome and sent after the commit: the answers to replies.

An answer to a reply (help, refusal, "not trusted", "which request?") is recorded as an
outbox intent (action ``send_mail``) in the same transaction as the reply's outcome,
keyed by the reply, so a replayed reply is never answered twice. The task outbox
(:class:`imi_mailwatch.outbox.TaskOutbox`) carries it out with :func:`send_recorded`:
a crash between recording and sending sends it on the next pass under the same
Message-ID. A mail server that is down defers the row (``retry.mail_retry_delay``);
one that refuses it marks it ``failed``. The payload (the mail) is dropped once sent.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog

from imi_mailwatch.errors import PermanentError, TransientError
from imi_mailwatch.model import OutgoingMail
from imi_mailwatch.ports import Clock, Notifier, StateStore
from imi_mailwatch.records import Intent, OutboxItem
from imi_mailwatch.retry import mail_retry_delay

__all__ = ["SEND_MAIL", "mail_from_payload", "mail_intent", "send_recorded"]

log = structlog.get_logger(__name__)

SEND_MAIL = "send_mail"


def mail_intent(mail: OutgoingMail, *, request_id: str | None, key: str) -> Intent:
    """The outbox intent that sends ``mail`` once (``key``: what it answers)."""
    payload: dict[str, Any] = {
        "message_id": mail.message_id,
        "to": list(mail.to),
        "cc": list(mail.cc),
        "subject": mail.subject,
        "text": mail.text,
        "headers": [list(h) for h in mail.headers],
    }
    return Intent(request_id or "", SEND_MAIL, f"mail:{key}", payload)


def mail_from_payload(p: dict[str, Any]) -> OutgoingMail:
    return OutgoingMail(
        message_id=p["message_id"],
        to=tuple(p["to"]),
        cc=tuple(p.get("cc") or ()),
        subject=p["subject"],
        text=p["text"],
        headers=tuple((str(n), str(v)) for n, v in p.get("headers") or ()),
    )


def send_recorded(
    store: StateStore,
    notifier: Notifier | None,
    item: OutboxItem,
    *,
    clock: Clock,
    resend_after: timedelta = timedelta(minutes=60),
) -> bool:
    """Send one recorded mail. True when sent; False when deferred or failed.

    Raises TransientError after deferring the row, so the caller ends its pass.
    """
    if notifier is None:
        raise PermanentError("no notifier to send recorded mail")
    if item.status != "pending" or not item.payload:
        return False
    mail = mail_from_payload(item.payload)
    attempts = store.outbox_begin_attempt(item.id)
    try:
        notifier.send(mail)
    except TransientError as exc:
        delay = mail_retry_delay(attempts, exc, resend_after=resend_after)
        store.outbox_defer(item.id, type(exc).__name__, _later(clock.now(), delay))
        store.record_health("notifier", ok=False, error=type(exc).__name__)
        log.warning(
            "reply.answer_deferred",
            request_id=item.request_id or None,
            error=type(exc).__name__,
            retry_in_s=int(delay.total_seconds()),
        )
        raise
    except PermanentError as exc:
        with store.transaction():
            store.outbox_finish(item.id, "failed", type(exc).__name__)
            store.outbox_clear_payload(item.id)
        store.record_health("notifier", ok=False, error=type(exc).__name__)
        log.error("reply.answer_failed", request_id=item.request_id or None,
                  error=type(exc).__name__)  # fmt: skip
        return False
    with store.transaction():
        store.outbox_finish(item.id, "done")
        store.outbox_clear_payload(item.id)
        store.audit("reply.answered", item.request_id or None, message_id=mail.message_id)
    store.record_health("notifier", ok=True)
    log.info("reply.answer_sent", request_id=item.request_id or None)
    return True


def _later(now: datetime, delay: timedelta) -> datetime:
    return now + delay
