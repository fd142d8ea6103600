"""IMI requests and their alerts on SQLite (``ports.RequestStore``)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from imi_mailwatch.adapters.rows import iso
from imi_mailwatch.adapters.sqlite.sql import FINAL, SqlBase, SqlRow, marks
from imi_mailwatch.clock import parse_day, parse_ts
from imi_mailwatch.model import Module, RequestStatus, TaskStatus
from imi_mailwatch.records import AlertEntry, RequestRecord


class SqliteRequests(SqlBase):
    def get_request(self, request_id: str) -> RequestRecord | None:
        rows = self.query("SELECT * FROM requests WHERE request_id = ?", (request_id,))
        return _request(rows[0]) if rows else None

    def save_request(self, rec: RequestRecord) -> None:
        """Insert or replace the whole request row (call inside a transaction)."""
        self.execute(
            "INSERT INTO requests (request_id, status, team_key, team_name, org_unit, "
            "team_mailbox, handlers, rule, field, is_default, schedule, deadline, language, "
            "legislative_area, member_state, service_activities, requesting_authority, "
            "task_status, task_sink, task_ref, created_at, updated_at, closed_at, module, "
            "outgoing) "
            "VALUES (:request_id, :status, :team_key, :team_name, :org_unit, :team_mailbox, "
            ":handlers, :rule, :field, :is_default, :schedule, :deadline, :language, "
            ":legislative_area, :member_state, :service_activities, :requesting_authority, "
            ":task_status, :task_sink, :task_ref, :created_at, :updated_at, :closed_at, :module, "
            ":outgoing) "
            "ON CONFLICT (request_id) DO UPDATE SET status = excluded.status, "
            "team_key = excluded.team_key, team_name = excluded.team_name, "
            "org_unit = excluded.org_unit, team_mailbox = excluded.team_mailbox, "
            "handlers = excluded.handlers, rule = excluded.rule, field = excluded.field, "
            "is_default = excluded.is_default, schedule = excluded.schedule, "
            "deadline = excluded.deadline, language = excluded.language, "
            "legislative_area = excluded.legislative_area, member_state = excluded.member_state, "
            "service_activities = excluded.service_activities, "
            "requesting_authority = excluded.requesting_authority, "
            "task_status = excluded.task_status, task_sink = excluded.task_sink, "
            "task_ref = excluded.task_ref, updated_at = excluded.updated_at, "
            "closed_at = excluded.closed_at, module = excluded.module, "
            "outgoing = excluded.outgoing",
            {
                "request_id": rec.request_id,
                "status": rec.status.value,
                "team_key": rec.team_key,
                "team_name": rec.team_name,
                "org_unit": rec.org_unit,
                "team_mailbox": rec.team_mailbox,
                "handlers": json.dumps(list(rec.handlers)),
                "rule": rec.rule,
                "field": rec.field,
                "is_default": int(rec.is_default),
                "schedule": json.dumps(rec.schedule) if rec.schedule is not None else None,
                "deadline": iso(rec.deadline),
                "language": rec.language,
                "legislative_area": rec.legislative_area,
                "member_state": rec.member_state,
                "service_activities": json.dumps(list(rec.service_activities), ensure_ascii=False),
                "requesting_authority": rec.requesting_authority,
                "task_status": rec.task_status.value if rec.task_status else None,
                "task_sink": rec.task_sink,
                "task_ref": rec.task_ref,
                "created_at": iso(rec.created_at),
                "updated_at": iso(rec.updated_at),
                "closed_at": iso(rec.closed_at),
                "module": rec.module.value,
                "outgoing": int(rec.outgoing),
            },
        )

    def set_task(
        self, request_id: str, status: TaskStatus, sink: str | None, ref: str | None
    ) -> None:
        self.execute(
            "UPDATE requests SET task_status = ?, task_sink = coalesce(?, task_sink), "
            "task_ref = coalesce(?, task_ref), updated_at = ? WHERE request_id = ?",
            (status.value, sink, ref, iso(self.now()), request_id),
        )

    def requests(self, *, open_only: bool = False) -> list[RequestRecord]:
        sql = "SELECT * FROM requests"
        if open_only:
            sql += f" WHERE status NOT IN {FINAL}"
        rows = self.query(sql + " ORDER BY deadline IS NULL, deadline, request_id")
        return [_request(r) for r in rows]

    def open_requests_by_team(
        self, today: date, awaiting: tuple[str, ...]
    ) -> dict[str, tuple[int, int]]:
        rows = self.query(
            "SELECT coalesce(team_key, '') AS team, count(*) AS n, "
            f"sum(CASE WHEN status IN ({marks(awaiting) or 'NULL'}) AND deadline < ? "
            f"THEN 1 ELSE 0 END) AS late FROM requests WHERE status NOT IN {FINAL} "
            "GROUP BY coalesce(team_key, '')",
            (*awaiting, today.isoformat()),
        )
        return {str(r["team"]): (int(r["n"]), int(r["late"] or 0)) for r in rows}

    def add_alert(self, message_row: int, alert: AlertEntry) -> None:
        a = alert
        self.execute(
            "INSERT INTO alerts (request_id, message_row, alert_type, deadline, "
            "sent_at, recorded_at) VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING",
            (a.request_id, message_row, a.alert_type, iso(a.deadline), iso(a.sent_at),
             iso(self.now())),
        )  # fmt: skip

    def alert_history(self, request_id: str) -> list[dict[str, Any]]:
        return self._dicts(
            "SELECT alert_type, deadline, sent_at, recorded_at FROM alerts "
            "WHERE request_id = ? ORDER BY coalesce(sent_at, recorded_at), id",
            (request_id,),
        )

    def closed_without(self, since: datetime, actions: tuple[str, ...], limit: int) -> list[str]:
        """Closed or withdrawn requests with a task, closed at or after ``since``, whose
        audit trail holds none of ``actions``; oldest closing first."""
        rows = self.query(
            f"SELECT request_id FROM requests r WHERE status IN {FINAL} "
            "AND task_ref IS NOT NULL AND task_sink IS NOT NULL AND closed_at >= ? "
            "AND NOT EXISTS (SELECT 1 FROM audit a WHERE a.request_id = r.request_id "
            f"AND a.action IN ({', '.join('?' for _ in actions)})) "
            "ORDER BY closed_at, request_id LIMIT ?",
            (iso(since), *actions, limit),
        )
        return [str(r["request_id"]) for r in rows]

    def _dicts(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in self.query(sql, params)]


def _request(r: SqlRow) -> RequestRecord:
    return RequestRecord(
        request_id=r["request_id"],
        status=RequestStatus(r["status"]),
        team_key=r["team_key"],
        team_name=r["team_name"],
        org_unit=r["org_unit"],
        team_mailbox=r["team_mailbox"],
        handlers=tuple(json.loads(r["handlers"] or "[]")),
        rule=r["rule"],
        field=r["field"],
        is_default=bool(r["is_default"]),
        schedule=json.loads(r["schedule"]) if r["schedule"] else None,
        deadline=parse_day(r["deadline"]),
        language=r["language"],
        legislative_area=r["legislative_area"],
        member_state=r["member_state"],
        service_activities=tuple(json.loads(r["service_activities"] or "[]")),
        requesting_authority=r["requesting_authority"],
        task_status=TaskStatus(r["task_status"]) if r["task_status"] else None,
        task_sink=r["task_sink"],
        task_ref=r["task_ref"],
        created_at=parse_ts(r["created_at"]) or datetime.now(UTC),
        updated_at=parse_ts(r["updated_at"]) or datetime.now(UTC),
        closed_at=parse_ts(r["closed_at"]),
        module=Module(r["module"]),
        outgoing=bool(r["outgoing"]),
    )
