"""What people said about a request, on SQLite (``ports.DeskStore``), in the SQL that
SQLite and PostgreSQL share (``ON CONFLICT``, ``RETURNING``)."""

from __future__ import annotations

from datetime import datetime

from imi_mailwatch.adapters.desk_rows import action_record, desk_mail_row, desk_state, mail_json
from imi_mailwatch.adapters.sqlite.base import SqliteBase, iso
from imi_mailwatch.model import OutgoingMail
from imi_mailwatch.records import ActionEntry, ActionRecord, DeskMailRow, DeskState

_OPEN = "status IN ('pending', 'sending')"


class SqliteDesk(SqliteBase):
    def desk_state(self, request_id: str) -> DeskState:
        rows = self.query("SELECT * FROM desk_state WHERE request_id = ?", (request_id,))
        return desk_state(request_id, rows[0] if rows else None)

    def desk_save(self, state: DeskState) -> None:
        s = state
        self.execute(
            "INSERT INTO desk_state (request_id, accepted_at, answered_at, handled, "
            "paused_until, claimer, route_confirmed_at, updated_at) VALUES (?,?,?,?,?,?,?,?) "
            "ON CONFLICT (request_id) DO UPDATE SET accepted_at = excluded.accepted_at, "
            "answered_at = excluded.answered_at, handled = excluded.handled, "
            "paused_until = excluded.paused_until, claimer = excluded.claimer, "
            "route_confirmed_at = excluded.route_confirmed_at, updated_at = excluded.updated_at",
            (s.request_id, iso(s.accepted_at), iso(s.answered_at),
             s.handled.value if s.handled else None, iso(s.paused_until), s.claimer,
             iso(s.route_confirmed_at), iso(self.now())),
        )  # fmt: skip

    def action_add(self, entry: ActionEntry) -> int | None:
        e = entry
        rows = self.query(
            "INSERT INTO actions (request_id, at, actor, via, command, argument, ok, result, "
            "reply_message_id, confirmation_id) VALUES (?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT DO NOTHING RETURNING id",
            (e.request_id, iso(self.now()), e.actor, e.via, e.command, e.argument, int(e.ok),
             e.result, e.reply_message_id, e.confirmation_id),
        )  # fmt: skip
        return int(rows[0]["id"]) if rows else None

    def action_by_reply(self, reply_message_id: str) -> ActionRecord | None:
        rows = self.query("SELECT * FROM actions WHERE reply_message_id = ?", (reply_message_id,))
        return action_record(rows[0]) if rows else None

    def actions_of(self, request_id: str) -> list[ActionRecord]:
        rows = self.query("SELECT * FROM actions WHERE request_id = ? ORDER BY id", (request_id,))
        return [action_record(r) for r in rows]

    def desk_mail_add(self, request_id: str, mail: OutgoingMail) -> bool:
        cur = self.execute(
            "INSERT INTO desk_mails (message_id, request_id, mail, created_at) "
            "VALUES (?,?,?,?) ON CONFLICT DO NOTHING",
            (mail.message_id, request_id, mail_json(mail), iso(self.now())),
        )
        return cur.rowcount > 0

    def desk_mails_due(self, now: datetime) -> list[DeskMailRow]:
        rows = self.query(
            f"SELECT * FROM desk_mails WHERE {_OPEN} "
            "AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY created_at, id",
            (iso(now),),
        )
        return [desk_mail_row(r) for r in rows]

    def desk_mail_sending(self, message_id: str) -> None:
        self.execute(
            f"UPDATE desk_mails SET status = 'sending', attempts = attempts + 1 "
            f"WHERE message_id = ? AND {_OPEN}",
            (message_id,),
        )

    def desk_mail_defer(self, message_id: str, when: datetime, error: str) -> None:
        self.execute(
            f"UPDATE desk_mails SET status = 'pending', next_attempt_at = ?, last_error = ? "
            f"WHERE message_id = ? AND {_OPEN}",
            (iso(when), error, message_id),
        )

    def desk_mail_done(self, message_id: str, *, sent: bool, error: str | None = None) -> None:
        self.execute(
            "UPDATE desk_mails SET status = ?, sent_at = ?, last_error = ?, "
            f"next_attempt_at = NULL WHERE message_id = ? AND {_OPEN}",
            ("sent" if sent else "failed", iso(self.now()) if sent else None, error, message_id),
        )

    def desk_mails_of(self, request_id: str) -> list[DeskMailRow]:
        rows = self.query(
            "SELECT * FROM desk_mails WHERE request_id = ? ORDER BY created_at, id",
            (request_id,),
        )
        return [desk_mail_row(r) for r in rows]
