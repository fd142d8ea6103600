"""Notices, quarantine, audit, health, the last good rules and retention in memory."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from imi_mailwatch.adapters.memory_state.base import (
    _FINAL,
    _SKELETON_CLEARS,
    UNSENT,
    MemoryBase,
    _replace,
)
from imi_mailwatch.adapters.rows import iso as _iso
from imi_mailwatch.adapters.rows import kept_detail as _kept_detail
from imi_mailwatch.adapters.rows import quarantine_record
from imi_mailwatch.adapters.rows import stored_ts as _ts
from imi_mailwatch.clock import parse_ts
from imi_mailwatch.records import (
    REDUCED_EVENT,
    Category,
    HealthRecord,
    NoticeFacts,
    PurgePlan,
    QuarantineEntry,
    QuarantineFacts,
    QuarantineRecord,
    RequestFacts,
    RowFacts,
    Snapshot,
)


class MemoryJournal(MemoryBase):
    # -- notices ------------------------------------------------------------------------------

    def notice_add(self, key: str, kind: str, text: str) -> bool:
        return self._insert_once(self._t.notices, key, **UNSENT, key=key, kind=kind, text=text,
                                 created_at=_iso(self.now()))  # fmt: skip

    def notice_forget(self, key: str) -> None:
        with self.transaction():
            self._t.notices.pop(key, None)

    def notices_pending(self) -> list[dict[str, Any]]:
        rows = [n for n in self._t.notices.values() if n["sent_at"] is None]
        rows.sort(key=lambda n: (n["created_at"], n["key"]))
        return [{k: v for k, v in n.items() if k != "sent_at"} for n in rows]

    def notices_pending_kinds(self) -> dict[str, str]:
        kinds: dict[str, str] = {}
        for n in self.notices_pending():  # oldest first: the first of a kind is its oldest
            kinds.setdefault(n["kind"], n["created_at"])
        return kinds

    def notices_pending_bound(self) -> dict[str, Any] | None:
        bound = [n for n in self.notices_pending() if n["message_id"]]
        keys = ("message_id", "attempts", "next_attempt_at", "last_error")
        return {k: bound[0][k] for k in keys} if bound else None

    def notices_last_sent(self) -> str | None:
        sent = [n["sent_at"] for n in self._t.notices.values() if n["sent_at"] is not None]
        return max(sent) if sent else None

    def notices_bind(self, keys: list[str], message_id: str) -> None:
        with self.transaction():
            for key in keys:
                if key in self._t.notices:
                    self._t.notices[key]["message_id"] = message_id

    def notices_defer(
        self, message_id: str, attempts: int, next_at: datetime, error: str | None
    ) -> None:
        with self.transaction():
            for n in self._t.notices.values():
                if n["message_id"] == message_id and n["sent_at"] is None:
                    n.update(attempts=attempts, next_attempt_at=_iso(next_at), last_error=error)

    def notices_sent(self, message_id: str) -> None:
        with self.transaction():
            for n in self._t.notices.values():
                if n["message_id"] == message_id:
                    n["sent_at"] = _iso(self.now())

    def parked_unnoticed(self) -> list[dict[str, Any]]:
        return [
            {"request_id": o["request_id"], "last_error": o["last_error"]}
            for _, o in sorted(self._t.outbox.items())
            if o["status"] == "parked" and f"parked:{o['request_id']}" not in self._t.notices
        ]

    def default_routed_unnoticed(self) -> list[dict[str, Any]]:
        return [
            {"request_id": r.request_id, "team_name": r.team_name}
            for r in self._t.requests.values()
            if r.is_default and f"default:{r.request_id}" not in self._t.notices
        ]

    def pending_unnoticed(self, before: datetime) -> list[dict[str, Any]]:
        return [
            {"request_id": r.request_id}
            for r in self._t.requests.values()
            if r.team_key is None
            and not r.outgoing
            and r.created_at < before
            and f"pending:{r.request_id}" not in self._t.notices
        ]

    def failed_followups_unnoticed(self) -> list[dict[str, Any]]:
        return [
            {k: f[k] for k in ("id", "request_id", "kind", "last_error")}
            for _, f in sorted(self._t.followups.items())
            if f["status"] == "failed" and f"followup:{f['id']}" not in self._t.notices
        ]

    # -- quarantine ---------------------------------------------------------------------------

    def quarantine_add(self, message_row: int, entry: QuarantineEntry) -> None:
        e = entry
        with self.transaction():
            if any(q["message_row"] == message_row for q in self._t.quarantine.values()):
                return
            self._insert(
                self._t.quarantine,
                **dataclasses.asdict(e),
                message_row=message_row,
                created_at=_iso(self.now()),
                reported_at=None,
                resolved_at=None,
            )

    def quarantine(self, *, unresolved_only: bool = True) -> list[QuarantineRecord]:
        return [
            quarantine_record(q, has_raw=q["raw"] is not None)
            for _, q in sorted(self._t.quarantine.items())
            if not unresolved_only or q["resolved_at"] is None
        ]

    def quarantine_raw(self, quarantine_id: int) -> bytes | None:
        q = self._t.quarantine.get(quarantine_id)
        return bytes(q["raw"]) if q is not None and q["raw"] is not None else None

    def quarantine_resolve(self, quarantine_id: int) -> None:
        with self.transaction():
            q = self._t.quarantine.get(quarantine_id)
            if q is not None and q["resolved_at"] is None:
                q["resolved_at"] = _iso(self.now())

    def quarantine_unreported(self) -> list[dict[str, Any]]:
        keys = ("id", "source", "ref", "kind", "reason", "request_id")
        return [
            {k: q[k] for k in keys}
            for _, q in sorted(self._t.quarantine.items())
            if q["resolved_at"] is None and q["reported_at"] is None
        ]

    def quarantine_reported(self, quarantine_id: int) -> None:
        with self.transaction():
            q = self._t.quarantine.get(quarantine_id)
            if q is not None:
                q["reported_at"] = _iso(self.now())

    def quarantine_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for q in self._t.quarantine.values():
            if q["resolved_at"] is None:
                counts[q["kind"]] = counts.get(q["kind"], 0) + 1
        return counts

    # -- audit and health ---------------------------------------------------------------------

    def audit(self, event: str, request_id: str | None = None, **detail: Any) -> None:
        with self.transaction():
            self._insert(
                self._t.audit,
                at=_iso(self.now()),
                request_id=request_id,
                action=event,
                detail=json.dumps(detail, ensure_ascii=False, default=str),
            )

    def audit_trail(self, request_id: str) -> list[dict[str, Any]]:
        return [
            {k: a[k] for k in ("at", "action", "detail")}
            for _, a in sorted(self._t.audit.items())
            if a["request_id"] == request_id
        ]

    def last_audit_at(self, action: str) -> str | None:
        at = [
            a["at"]
            for a in self._t.audit.values()
            if a["request_id"] is None and a["action"] == action
        ]
        return max(at) if at else None

    def record_health(self, component: str, ok: bool, error: str | None = None) -> None:
        with self.transaction():
            now = self.now()
            kept = self._t.health.get(component)
            self._t.health[component] = HealthRecord(
                component=component,
                ok=ok,
                last_ok_at=now if ok else (kept.last_ok_at if kept else None),
                failing_since=None if ok else ((kept and kept.failing_since) or now),
                error=None if ok else error,
                updated_at=now,
            )

    def health(self) -> list[HealthRecord]:
        return [self._t.health[c] for c in sorted(self._t.health)]

    # -- last good rules ----------------------------------------------------------------------

    def last_good_rules(self) -> list[tuple[str, bytes]] | None:
        return list(self._t.rules[1]) if self._t.rules else None

    def save_last_good_rules(self, fingerprint: str, files: Sequence[tuple[str, bytes]]) -> None:
        with self.transaction():
            if self._t.rules is None or self._t.rules[0] != fingerprint:
                self._t.rules = (fingerprint, list(files))

    # -- retention ----------------------------------------------------------------------------

    def retention_snapshot(self) -> Snapshot:
        t = self._t
        reduced = {a["request_id"] for a in t.audit.values() if a["action"] == REDUCED_EVENT}
        with_payload = {o["request_id"] for o in t.outbox.values() if o["payload"] != "{}"}
        requests = tuple(
            RequestFacts(r.request_id, r.status, r.closed_at, r.request_id in reduced,
                         r.request_id in with_payload)
            for _, r in sorted(t.requests.items())
            if r.status.value in _FINAL
        )  # fmt: skip
        quarantine = tuple(
            QuarantineFacts(q["id"], parse_ts(q["resolved_at"]), q["raw"] is not None)
            for _, q in sorted(t.quarantine.items())
            if q["resolved_at"] is not None
        )
        quarantined = {q["message_row"] for q in t.quarantine.values()}
        messages = tuple(
            RowFacts(m["id"], _ts(m["recorded_at"]))
            for _, m in sorted(t.messages.items())
            if self._unlinked(m["request_id"])
            and (m["disposition"] == "ignored" or m["kind"] == "reply")
            and m["id"] not in quarantined
        )
        audit = tuple(
            RowFacts(a["id"], _ts(a["at"]))
            for _, a in sorted(t.audit.items())
            if self._unlinked(a["request_id"])
        )
        about_kept = {f"{p}:{r}" for r in t.requests for p in ("default", "parked")}
        notices = tuple(
            NoticeFacts(n["key"], _ts(n["sent_at"]))
            for _, n in sorted(t.notices.items())
            if n["sent_at"] is not None and n["key"] not in about_kept
        )
        desk_answers = tuple(
            RowFacts(int(m["seq"]), _ts(m["created_at"]))
            for m in sorted(t.desk_mails.values(), key=lambda m: int(m["seq"]))
            if m["request_id"] == "" and m["status"] in ("sent", "failed")
        )
        return Snapshot(requests, quarantine, messages, audit, notices, desk_answers)

    def _unlinked(self, request_id: str | None) -> bool:
        return request_id is None or request_id not in self._t.requests

    def retention_apply(self, due: PurgePlan, audit_keeps: frozenset[str]) -> None:
        with self.transaction():
            t = self._t
            for qid in map(int, due.ids(Category.QUARANTINE_RAW)):
                if qid in t.quarantine:
                    t.quarantine[qid]["raw"] = None
            for qid in map(int, due.ids(Category.QUARANTINE_RECORDS)):
                q = t.quarantine.pop(qid, None)
                if q is not None:
                    t.messages.pop(q["message_row"], None)
            for request_id in due.ids(Category.TASK_PAYLOADS):
                self._empty_payloads(request_id)
            for request_id in due.ids(Category.REQUESTS_REDUCED):
                self._reduce(request_id, audit_keeps)
            for request_id in due.ids(Category.REQUESTS_DELETED):
                self._delete_request(request_id)
            for mid in map(int, due.ids(Category.MESSAGE_RECORDS)):
                t.messages.pop(mid, None)
            for key in due.ids(Category.NOTICES):
                t.notices.pop(key, None)
            self._drop_answers(set(map(int, due.ids(Category.DESK_ANSWERS))))
            for aid in map(int, due.ids(Category.AUDIT_RECORDS)):
                a = t.audit.get(aid)
                if a is not None and self._unlinked(a["request_id"]):
                    del t.audit[aid]

    def _drop_answers(self, seqs: set[int]) -> None:
        """The desk's answers about no request, by their row number."""
        mails = self._t.desk_mails
        for message_id in [k for k, m in mails.items() if int(m["seq"]) in seqs]:
            if mails[message_id]["request_id"] == "":
                del mails[message_id]

    def _empty_payloads(self, request_id: str) -> None:
        for o in self._t.outbox.values():
            if o["request_id"] == request_id:
                o["payload"] = "{}"

    def _reduce(self, request_id: str, keeps: frozenset[str]) -> None:
        t = self._t
        r = t.requests.get(request_id)
        if r is not None and r.status.value in _FINAL:
            t.requests[request_id] = _replace(r, **_SKELETON_CLEARS)
        self._empty_payloads(request_id)
        for o in t.outbox.values():
            if o["request_id"] == request_id:
                o["last_error"] = None
        for f in t.followups.values():
            if f["request_id"] == request_id:
                f["recipients"] = []
        if request_id in t.desk_state:
            t.desk_state[request_id]["claimer"] = None
        for a in t.actions.values():
            if a["request_id"] == request_id:
                a.update(actor="", result="")
                a["argument"] = None if a["command"] == "claim" else a["argument"]
        t.desk_mails = {
            k: m
            for k, m in t.desk_mails.items()
            if m["request_id"] != request_id or m["status"] in ("pending", "sending")
        }
        for a in t.audit.values():
            if a["request_id"] == request_id:
                a["detail"] = _kept_detail(a["detail"], keeps)
        self.audit(REDUCED_EVENT, request_id)

    def _delete_request(self, request_id: str) -> None:
        t = self._t
        quarantined = {q["message_row"] for q in t.quarantine.values()}
        t.messages = {
            k: m for k, m in t.messages.items() if m["request_id"] != request_id or k in quarantined
        }
        t.alerts = {k: a for k, a in t.alerts.items() if k[0] != request_id}
        t.outbox = {k: o for k, o in t.outbox.items() if o["request_id"] != request_id}
        t.followups = {k: f for k, f in t.followups.items() if f["request_id"] != request_id}
        t.audit = {k: a for k, a in t.audit.items() if a["request_id"] != request_id}
        t.desk_state.pop(request_id, None)
        t.actions = {k: a for k, a in t.actions.items() if a["request_id"] != request_id}
        t.desk_mails = {k: m for k, m in t.desk_mails.items() if m["request_id"] != request_id}
        t.requests.pop(request_id, None)
