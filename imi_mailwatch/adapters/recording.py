"""Committing one message's ``Recording`` through the finer state ports, for any store.

Each state adapter's ``commit`` is this function on itself, so that every
back-end writes a decision the same way, in one transaction.
"""

from __future__ import annotations

from typing import Protocol

from imi_mailwatch.ports import (
    AuditLog,
    MessageLog,
    NoticeStore,
    OutboxStore,
    QuarantineStore,
    RequestStore,
)
from imi_mailwatch.records import Recording


class _Parts(
    MessageLog, RequestStore, OutboxStore, QuarantineStore, AuditLog, NoticeStore, Protocol
):
    pass


def commit_recording(store: _Parts, rec: Recording) -> int:
    """Write ``rec`` in one transaction (joining the caller's); the message's row id."""
    with store.transaction():
        row = store.record_message(rec.message)
        if rec.alert is not None:
            store.add_alert(row, rec.alert)
        if rec.request is not None:
            store.save_request(rec.request)
        if rec.quarantine is not None:
            store.quarantine_add(row, rec.quarantine)
        for audit in rec.audits:
            store.audit(audit.event, audit.request_id, **audit.detail)
        for n in rec.notices:
            if store.notice_add(n.key, n.kind, n.text):
                store.audit("report.noticed", None, kind=n.kind, key=n.key)
        for i in rec.intents:
            store.outbox_add(
                i.request_id, i.action, i.idem_key.replace("{row}", str(row)), i.payload
            )
    return row
