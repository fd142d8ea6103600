"""Resolving quarantine items: the moment the retention clock of a raw copy starts.

A beheerder looks at a quarantined or rejected message (in the mailbox's
quarantine folder, or with ``imi-mailwatch quarantine show ID``, which shows
headers only), deals with it, and marks it resolved. From then on the raw copy
the daemon kept is removed after ``privacy.raw_retention_days`` and the record
after ``privacy.delete_after_days``. ``release`` resolves it too, and makes the
daemon forget the message so that it is handled again once moved back to the inbox.
"""

from __future__ import annotations

import email
import email.header
import email.policy
from dataclasses import dataclass
from email.message import Message

import structlog

from imi_mailwatch.ports import StateStore
from imi_mailwatch.records import QuarantineRecord

log = structlog.get_logger(__name__)

SHOWN_HEADERS = ("Date", "From", "To", "Subject", "Message-ID", "Authentication-Results")


@dataclass(frozen=True, slots=True)
class Resolution:
    item: QuarantineRecord
    already: bool  # it was resolved before


def find_item(store: StateStore, item_id: int) -> QuarantineRecord | None:
    for item in store.quarantine(unresolved_only=False):
        if item.id == item_id:
            return item
    return None


def resolve(store: StateStore, item_id: int) -> Resolution | None:
    """Mark one item resolved (idempotent); None when there is no such item."""
    with store.transaction():
        item = find_item(store, item_id)
        if item is None:
            return None
        if item.resolved_at is not None:
            return Resolution(item, already=True)
        store.quarantine_resolve(item_id)
        store.audit("quarantine.resolved", item.request_id, quarantine_id=item_id, kind=item.kind)
        resolved = find_item(store, item_id)
    assert resolved is not None
    log.info("quarantine.resolved", quarantine_id=item_id, kind=item.kind)
    return Resolution(resolved, already=False)


def release(store: StateStore, item_id: int) -> Resolution | None:
    """Forget a quarantined message so that it is handled anew; resolves the item.

    The message's record is removed (it is what recognises a message seen
    before), so when a beheerder moves the message from the quarantine folder
    back to the inbox the daemon handles it like a new one. Rejected mail (it
    failed authentication) is never released: the result names it, unchanged.
    None when there is no such item.
    """
    with store.transaction():
        item = find_item(store, item_id)
        if item is None:
            return None
        if item.kind == "rejected":
            return Resolution(item, already=item.resolved_at is not None)
        store.forget_message(item.message_row)
        store.quarantine_resolve(item_id)
        store.audit("quarantine.released", item.request_id, quarantine_id=item_id, kind=item.kind)
        released = find_item(store, item_id)
    assert released is not None
    log.info("quarantine.released", quarantine_id=item_id)
    return Resolution(released, already=item.resolved_at is not None)


def header_lines(raw: bytes) -> list[tuple[str, str]]:
    """A few headers of a kept raw copy, never the body; unreadable values are marked."""
    try:
        msg: Message = email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception:  # a message that broke the parser once may do so again
        return [("(kopie)", "onleesbaar")]
    lines = []
    for name in SHOWN_HEADERS:
        try:
            values = msg.get_all(name) or []
            for value in values:
                text = str(email.header.make_header(email.header.decode_header(str(value))))
                lines.append((name, " ".join(text.split())[:300]))
        except Exception:
            lines.append((name, "(onleesbaar)"))
    return lines
