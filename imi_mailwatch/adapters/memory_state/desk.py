"""What people said about a request, in memory (``ports.DeskStore``)."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from imi_mailwatch.adapters.desk_rows import action_record, desk_mail_row, desk_state, mail_json
from imi_mailwatch.adapters.memory_state.base import UNSENT, MemoryBase, _ready
from imi_mailwatch.adapters.rows import iso as _iso
from imi_mailwatch.model import OutgoingMail
from imi_mailwatch.records import ActionEntry, ActionRecord, DeskMailRow, DeskState

_OPEN = ("pending", "sending")


class MemoryDesk(MemoryBase):
    def desk_state(self, request_id: str) -> DeskState:
        return desk_state(request_id, self._t.desk_state.get(request_id))

    def desk_save(self, state: DeskState) -> None:
        s = state
        with self.transaction():
            self._t.desk_state[s.request_id] = {
                "accepted_at": _iso(s.accepted_at),
                "answered_at": _iso(s.answered_at),
                "handled": s.handled.value if s.handled else None,
                "paused_until": _iso(s.paused_until),
                "claimer": s.claimer,
                "route_confirmed_at": _iso(s.route_confirmed_at),
                "updated_at": _iso(self.now()),
            }

    def action_add(self, entry: ActionEntry) -> int | None:
        e = entry
        with self.transaction():
            if e.reply_message_id is not None and self.action_by_reply(e.reply_message_id):
                return None
            return self._insert(
                self._t.actions, **{**dataclasses.asdict(e), "ok": int(e.ok)}, at=_iso(self.now())
            )

    def action_by_reply(self, reply_message_id: str) -> ActionRecord | None:
        for _, a in sorted(self._t.actions.items()):
            if a["reply_message_id"] == reply_message_id:
                return action_record(a)
        return None

    def actions_of(self, request_id: str) -> list[ActionRecord]:
        return [
            action_record(a)
            for _, a in sorted(self._t.actions.items())
            if a["request_id"] == request_id
        ]

    def desk_mail_add(self, request_id: str, mail: OutgoingMail) -> bool:
        with self.transaction():  # the sequence number is taken under the lock
            return self._insert_once(
                self._t.desk_mails,
                mail.message_id,
                **{**UNSENT, "message_id": mail.message_id},
                seq=self._id(),
                request_id=request_id,
                mail=mail_json(mail),
                status="pending",
                created_at=_iso(self.now()),
            )

    def _mails(self) -> list[dict[str, object]]:
        return sorted(self._t.desk_mails.values(), key=lambda m: (m["created_at"], m["seq"]))

    def desk_mails_due(self, now: datetime) -> list[DeskMailRow]:
        at = _iso(now) or ""
        return [desk_mail_row(m) for m in self._mails() if m["status"] in _OPEN and _ready(m, at)]

    def _open(self, message_id: str) -> dict[str, object] | None:
        m = self._t.desk_mails.get(message_id)
        return m if m is not None and m["status"] in _OPEN else None

    def desk_mail_sending(self, message_id: str) -> None:
        with self.transaction():
            if (m := self._open(message_id)) is not None:
                m["status"] = "sending"
                m["attempts"] = int(str(m["attempts"])) + 1

    def desk_mail_defer(self, message_id: str, when: datetime, error: str) -> None:
        with self.transaction():
            if (m := self._open(message_id)) is not None:
                m.update(status="pending", next_attempt_at=_iso(when), last_error=error)

    def desk_mail_done(self, message_id: str, *, sent: bool, error: str | None = None) -> None:
        with self.transaction():
            if (m := self._open(message_id)) is not None:
                m.update(
                    status="sent" if sent else "failed",
                    sent_at=_iso(self.now()) if sent else None,
                    last_error=error,
                    next_attempt_at=None,
                )

    def desk_mails_of(self, request_id: str) -> list[DeskMailRow]:
        return [desk_mail_row(m) for m in self._mails() if m["request_id"] == request_id]
