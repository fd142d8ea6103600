"""Rows of the desk (``ports.DeskStore``) turned into records, shared by both state adapters."""

from __future__ import annotations

import json
from typing import Any

from imi_mailwatch.adapters.rows import Row, stored_ts
from imi_mailwatch.clock import parse_day, parse_ts
from imi_mailwatch.model import OutgoingMail
from imi_mailwatch.records import (
    ActionEntry,
    ActionRecord,
    DeskMailRow,
    DeskMailStatus,
    DeskState,
    Handling,
)


def desk_state(request_id: str, r: Row | None) -> DeskState:
    if r is None:
        return DeskState(request_id)
    return DeskState(
        request_id=request_id,
        accepted_at=parse_ts(r["accepted_at"]),
        answered_at=parse_ts(r["answered_at"]),
        handled=Handling(r["handled"]) if r["handled"] else None,
        paused_until=parse_day(r["paused_until"]),
        claimer=r["claimer"],
        route_confirmed_at=parse_ts(r["route_confirmed_at"]),
        updated_at=parse_ts(r["updated_at"]),
    )


def action_record(r: Row) -> ActionRecord:
    return ActionRecord(
        id=int(r["id"]),
        at=stored_ts(r["at"]),
        entry=ActionEntry(
            request_id=r["request_id"],
            actor=r["actor"],
            via=r["via"],
            command=r["command"],
            argument=r["argument"],
            ok=bool(r["ok"]),
            result=r["result"],
            reply_message_id=r["reply_message_id"],
            confirmation_id=r["confirmation_id"],
        ),
    )


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
    return DeskMailRow(
        message_id=r["message_id"],
        request_id=r["request_id"],
        mail=mail_from_json(r["message_id"], r["mail"]),
        status=DeskMailStatus(r["status"]),
        attempts=int(r["attempts"]),
        next_attempt_at=parse_ts(r["next_attempt_at"]),
        last_error=r["last_error"],
        created_at=stored_ts(r["created_at"]),
    )
