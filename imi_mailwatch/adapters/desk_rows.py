"""Rows of the desk (``ports.DeskStore``) turned into records, shared by both state adapters."""

from __future__ import annotations

import json
from typing import Any

from imi_mailwatch.adapters.rows import Row, record
from imi_mailwatch.model import OutgoingMail
from imi_mailwatch.records import (
    ActionEntry,
    ActionRecord,
    DeskMailRow,
    DeskState,
)


def desk_state(request_id: str, r: Row | None) -> DeskState:
    if r is None:
        return DeskState(request_id)
    return record(DeskState, r, request_id=request_id)


def action_record(r: Row) -> ActionRecord:
    return record(ActionRecord, r, entry=record(ActionEntry, r))


def mail_json(mail: OutgoingMail) -> str:
    """A mail as the desk keeps it (attachments are not kept: the desk sends none)."""
    return json.dumps(
        {
            "to": list(mail.to),
            "cc": list(mail.cc),
            "subject": mail.subject,
            "text": mail.text,
            "html": mail.html,
            "headers": [list(h) for h in mail.headers],
        },
        ensure_ascii=False,
    )


def mail_from_json(message_id: str, value: str) -> OutgoingMail:
    d: dict[str, Any] = json.loads(value or "{}")
    return OutgoingMail(
        message_id=message_id,
        to=tuple(d.get("to") or ()),
        cc=tuple(d.get("cc") or ()),
        subject=str(d.get("subject") or ""),
        text=str(d.get("text") or ""),
        html=d.get("html"),
        headers=tuple((str(k), str(v)) for k, v in d.get("headers") or ()),
    )


def desk_mail_row(r: Row) -> DeskMailRow:
    return record(DeskMailRow, r, mail=mail_from_json(r["message_id"], r["mail"]))
