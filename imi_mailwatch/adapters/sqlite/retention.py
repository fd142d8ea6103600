"""Retention on SQLite (``ports.RetentionStore``): the facts the policy needs, and applying
its plan. The policy itself (``privacy.retention.plan``) is pure and lives in the core."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from imi_mailwatch.adapters.rows import iso
from imi_mailwatch.adapters.rows import kept_detail as _kept_detail
from imi_mailwatch.adapters.rows import stored_ts as _ts
from imi_mailwatch.adapters.sqlite.sql import FINAL, SqlBase, marks
from imi_mailwatch.clock import parse_ts
from imi_mailwatch.model import RequestStatus
from imi_mailwatch.records import (
    REDUCED_EVENT,
    SKELETON_LISTS,
    Category,
    NoticeFacts,
    PurgePlan,
    QuarantineFacts,
    RequestFacts,
    RowFacts,
    Snapshot,
)
from imi_mailwatch.records import SKELETON_CLEARS as SKELETON_CLEARS_FIELDS

# columns of ``requests`` that the skeleton does not keep, with their empty value
SKELETON_CLEARS: Mapping[str, str | None] = {
    col: "[]" if col in SKELETON_LISTS else None for col in SKELETON_CLEARS_FIELDS
}

# tables whose rows about a request are NOT removed with it (they have their own clock)
_OWN_CLOCK = frozenset({"quarantine"})
_CHUNK = 500
# rows about no request the daemon follows: none at all, or a forged or unparsable one
_UNLINKED = "(request_id IS NULL OR request_id NOT IN (SELECT request_id FROM requests))"


class SqliteRetention(SqlBase):
    def retention_snapshot(self) -> Snapshot:
        """The facts the policy needs, read from the store (inside the caller's transaction)."""
        requests = tuple(
            RequestFacts(
                request_id=str(r["request_id"]),
                status=RequestStatus(r["status"]),
                closed_at=parse_ts(r["closed_at"]),
                reduced=bool(r["reduced"]),
                has_payload=bool(r["has_payload"]),
            )
            for r in self.query(
                "SELECT request_id, status, closed_at, "
                "EXISTS (SELECT 1 FROM audit a WHERE a.request_id = r.request_id AND a.action = ?) "
                "AS reduced, "
                "EXISTS (SELECT 1 FROM outbox o WHERE o.request_id = r.request_id AND "
                "o.payload != '{}') AS has_payload "
                f"FROM requests r WHERE status IN {FINAL} ORDER BY request_id",
                (REDUCED_EVENT,),
            )
        )
        quarantine = tuple(
            QuarantineFacts(
                id=int(r["id"]), resolved_at=parse_ts(r["resolved_at"]), has_raw=bool(r["has_raw"])
            )
            for r in self.query(
                "SELECT id, resolved_at, raw IS NOT NULL AS has_raw FROM quarantine "
                "WHERE resolved_at IS NOT NULL ORDER BY id"
            )
        )
        messages = tuple(
            RowFacts(id=int(r["id"]), at=_ts(r["recorded_at"]))
            for r in self.query(
                f"SELECT id, recorded_at FROM messages WHERE {_UNLINKED} AND "
                "(disposition = 'ignored' OR kind = 'reply') "  # a reply about no kept request
                "AND id NOT IN (SELECT message_row FROM quarantine) "
                "ORDER BY id"
            )
        )
        audit = tuple(
            RowFacts(id=int(r["id"]), at=_ts(r["at"]))
            for r in self.query(f"SELECT id, at FROM audit WHERE {_UNLINKED} ORDER BY id")
        )
        notices: tuple[NoticeFacts, ...] = ()
        if "notices" in self.table_names():
            # a notice about a request that is still kept would be collected again if removed
            notices = tuple(
                NoticeFacts(key=str(r["key"]), sent_at=_ts(r["sent_at"]))
                for r in self.query(
                    "SELECT key, sent_at FROM notices WHERE sent_at IS NOT NULL AND NOT EXISTS "
                    "(SELECT 1 FROM requests q WHERE notices.key IN "
                    "('default:' || q.request_id, 'parked:' || q.request_id)) ORDER BY key"
                )
            )
        desk_answers = tuple(  # answers to replies that named no request (request_id '')
            RowFacts(id=int(r["id"]), at=_ts(r["created_at"]))
            for r in self.query(
                "SELECT id, created_at FROM desk_mails WHERE request_id = '' "
                "AND status IN ('sent', 'failed') ORDER BY id"
            )
        )
        return Snapshot(
            requests=requests,
            quarantine=quarantine,
            messages=messages,
            audit=audit,
            notices=notices,
            desk_answers=desk_answers,
        )

    def retention_apply(self, due: PurgePlan, audit_keeps: frozenset[str]) -> None:
        """Remove what ``due`` names (inside the caller's transaction); the audit details
        of a request reduced to its skeleton keep only the ``audit_keeps`` keys."""
        for chunk in _row_chunks(due.ids(Category.QUARANTINE_RAW)):
            self.execute(f"UPDATE quarantine SET raw = NULL WHERE id IN ({marks(chunk)})", chunk)
        for chunk in _row_chunks(due.ids(Category.QUARANTINE_RECORDS)):
            qs = marks(chunk)
            self.execute(
                f"DELETE FROM messages WHERE id IN (SELECT message_row FROM quarantine "
                f"WHERE id IN ({qs}))",
                chunk,
            )
            self.execute(f"DELETE FROM quarantine WHERE id IN ({qs})", chunk)
        for chunk in _chunks(due.ids(Category.TASK_PAYLOADS)):
            self._empty_payloads(chunk)
        for chunk in _chunks(due.ids(Category.REQUESTS_REDUCED)):
            self._reduce(chunk, audit_keeps)
        for chunk in _chunks(due.ids(Category.REQUESTS_DELETED)):
            self._delete_requests(chunk)
        for chunk in _row_chunks(due.ids(Category.MESSAGE_RECORDS)):
            self.execute(f"DELETE FROM messages WHERE id IN ({marks(chunk)})", chunk)
        for chunk in _chunks(due.ids(Category.NOTICES)):
            self.execute(f"DELETE FROM notices WHERE key IN ({marks(chunk)})", chunk)
        for chunk in _row_chunks(due.ids(Category.DESK_ANSWERS)):
            self.execute(
                f"DELETE FROM desk_mails WHERE request_id = '' AND id IN ({marks(chunk)})", chunk
            )
        for chunk in _row_chunks(due.ids(Category.AUDIT_RECORDS)):
            self.execute(f"DELETE FROM audit WHERE {_UNLINKED} AND id IN ({marks(chunk)})", chunk)

    def _reduce(self, request_ids: Sequence[str], audit_keeps: frozenset[str]) -> None:
        qs = marks(request_ids)
        params = tuple(request_ids)
        sets = ", ".join(f"{col} = ?" for col in SKELETON_CLEARS)
        self.execute(
            f"UPDATE requests SET {sets} WHERE request_id IN ({qs}) AND status IN {FINAL}",
            (*SKELETON_CLEARS.values(), *params),
        )
        self._empty_payloads(request_ids)
        self.execute(f"UPDATE outbox SET last_error = NULL WHERE request_id IN ({qs})", params)
        self.execute(f"UPDATE followups SET recipients = '[]' WHERE request_id IN ({qs})", params)
        self.execute(f"UPDATE desk_state SET claimer = NULL WHERE request_id IN ({qs})", params)
        self.execute(  # who gave a command, the text they got (it may name the claimer)
            f"UPDATE actions SET actor = '', result = '', argument = CASE command WHEN 'claim' "
            f"THEN NULL ELSE argument END WHERE request_id IN ({qs})",
            params,
        )
        self.execute(
            f"DELETE FROM desk_mails WHERE request_id IN ({qs}) AND status IN ('sent', 'failed')",
            params,
        )
        for row in self.query(f"SELECT id, detail FROM audit WHERE request_id IN ({qs})", params):
            kept = _kept_detail(row["detail"], audit_keeps)
            if kept != row["detail"]:
                self.execute("UPDATE audit SET detail = ? WHERE id = ?", (kept, row["id"]))
        for request_id in request_ids:
            self.execute(
                "INSERT INTO audit (at, request_id, action, detail) VALUES (?, ?, ?, '{}')",
                (iso(self.now()), request_id, REDUCED_EVENT),
            )

    def _empty_payloads(self, request_ids: Sequence[str]) -> None:
        self.execute(
            f"UPDATE outbox SET payload = '{{}}' WHERE request_id IN ({marks(request_ids)})",
            tuple(request_ids),
        )

    def _delete_requests(self, request_ids: Sequence[str]) -> None:
        qs = marks(request_ids)
        params = tuple(request_ids)
        for table in self._tables_with_request_id():
            if table in _OWN_CLOCK:
                continue
            extra = (
                " AND id NOT IN (SELECT message_row FROM quarantine)" if table == "messages" else ""
            )
            self.execute(f'DELETE FROM "{table}" WHERE request_id IN ({qs}){extra}', params)

    def _tables_with_request_id(self) -> list[str]:
        """Every table holding rows about a request, including those of later migrations."""
        found = [name for name in self.table_names() if "request_id" in self.column_names(name)]
        # the request row itself last
        return sorted(found, key=lambda n: n == "requests")


def _chunks(ids: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    for start in range(0, len(ids), _CHUNK):
        yield tuple(ids[start : start + _CHUNK])


def _row_chunks(ids: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    for chunk in _chunks(ids):
        yield tuple(int(i) for i in chunk)
