"""The retention policy: what the daemon removes from its own state, and when.

Two halves:

- ``plan(now, policy, snapshot)`` is pure: given the time, the policy and the
  few facts it needs about each record, it says what is due, per category.
- ``purge(store, policy)`` reads the snapshot, plans and applies the plan in ONE
  transaction (a write lock held from reading to writing, so nothing changes in
  between), and records the purge in the audit trail by count, never by content.

The categories and their clocks (defaults aligned to IMI, which blocks personal
data 6 months after a request is closed and deletes them after 3 years):

==================  ===========================================  ====================
category            what                                         removed
==================  ===========================================  ====================
quarantine_raw      raw copy of a quarantined or rejected mail   resolved + raw days
quarantine_records  the quarantine row and its message record    resolved + delete days
task_payloads       alert copy and memo in a closed request's    closed + raw days
                    task intents (left when a task was parked)
requests_reduced    request reduced to a skeleton (id, dates,    closed + skeleton days
                    team, outcome, task reference)
requests_deleted    the request and everything kept about it     closed + delete days
message_records     records of ordinary mail left in the inbox   recorded + unrelated days
audit_records       audit rows about no followed request         written + delete days
                    (quarantine, forged alerts, purges)
notices             notices mailed to the beheerders (reports)   sent + delete days;
                                                                 about a request: with it
==================  ===========================================  ====================

A request that is not closed or withdrawn is never touched, however old; an
unresolved quarantine item is never touched either.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

import structlog

from imi_mailwatch.adapters.sqlite_store import SqliteStateStore, parse_ts
from imi_mailwatch.clock import AMSTERDAM
from imi_mailwatch.config import PrivacyConfig
from imi_mailwatch.model import RequestStatus

log = structlog.get_logger(__name__)


PURGE_EVENT = "privacy.purged"
"""Audit action of every purge (request_id NULL, detail: counts per category)."""

REDUCED_EVENT = "privacy.reduced"
"""Audit action marking that a request was reduced to its skeleton (no detail)."""


class Category(StrEnum):
    """What a purge removes; the order is the order of the report."""

    QUARANTINE_RAW = "quarantine_raw"
    QUARANTINE_RECORDS = "quarantine_records"
    TASK_PAYLOADS = "task_payloads"
    REQUESTS_REDUCED = "requests_reduced"
    REQUESTS_DELETED = "requests_deleted"
    MESSAGE_RECORDS = "message_records"
    AUDIT_RECORDS = "audit_records"
    NOTICES = "notices"


DUTCH: Mapping[Category, str] = {
    Category.QUARANTINE_RAW: "kopieën van quarantaine- en afgewezen berichten",
    Category.QUARANTINE_RECORDS: "quarantaineregistraties",
    Category.TASK_PAYLOADS: "berichtkopieën in taakopdrachten van gesloten verzoeken",
    Category.REQUESTS_REDUCED: "verzoeken teruggebracht tot een skelet",
    Category.REQUESTS_DELETED: "verzoeken verwijderd",
    Category.MESSAGE_RECORDS: "registraties van gewone e-mail",
    Category.AUDIT_RECORDS: "auditregels zonder verzoek",
    Category.NOTICES: "verstuurde meldingen aan de beheerders",
}

# columns of ``requests`` that the skeleton does not keep, with their empty value
SKELETON_CLEARS: Mapping[str, str | None] = {
    "team_mailbox": None,
    "handlers": "[]",
    "rule": None,
    "field": None,
    "schedule": None,
    "language": None,
    "legislative_area": None,
    "member_state": None,
    "service_activities": "[]",
    "requesting_authority": None,
}

# audit detail keys a skeleton keeps: dates, team, outcome and task reference
AUDIT_KEEPS: frozenset[str] = frozenset(
    {
        "team",
        "default",
        "sink",
        "task_ref",
        "found_existing",
        "alert_type",
        "deadline",
        "action",
        "step",
        "steps",
        "kind",
        "due_at",
        "sent_at",
        "status",
        "outcome",
        "count",
    }
)

# tables whose rows about a request are NOT removed with it (they have their own clock)
_OWN_CLOCK = frozenset({"quarantine"})
_CHUNK = 500
# rows about no request the daemon follows: none at all, or a forged or unparsable one
_UNLINKED = "(request_id IS NULL OR request_id NOT IN (SELECT request_id FROM requests))"


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long each kind of record is kept (from ``privacy`` in the configuration)."""

    raw: timedelta = timedelta(days=30)
    skeleton: timedelta = timedelta(days=183)
    delete: timedelta = timedelta(days=1095)
    unrelated_messages: timedelta = timedelta(days=30)

    @classmethod
    def from_config(cls, cfg: PrivacyConfig) -> RetentionPolicy:
        return cls(
            raw=timedelta(days=cfg.raw_retention_days),
            skeleton=timedelta(days=cfg.skeleton_after_days),
            delete=timedelta(days=cfg.delete_after_days),
            unrelated_messages=timedelta(days=cfg.unrelated_message_days),
        )


@dataclass(frozen=True, slots=True)
class RequestFacts:
    request_id: str
    status: RequestStatus
    closed_at: datetime | None
    reduced: bool  # already a skeleton
    has_payload: bool  # a task intent still holds the alert copy or memo


@dataclass(frozen=True, slots=True)
class QuarantineFacts:
    id: int
    resolved_at: datetime | None
    has_raw: bool


@dataclass(frozen=True, slots=True)
class RowFacts:
    """A message record of ordinary mail, or an audit row about no request."""

    id: int
    at: datetime


@dataclass(frozen=True, slots=True)
class NoticeFacts:
    key: str
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class Snapshot:
    requests: tuple[RequestFacts, ...] = ()
    quarantine: tuple[QuarantineFacts, ...] = ()
    messages: tuple[RowFacts, ...] = ()  # ordinary mail, not tied to a request or quarantine
    audit: tuple[RowFacts, ...] = ()  # audit rows about no request the daemon follows
    notices: tuple[NoticeFacts, ...] = ()  # sent notices not about a request still kept


@dataclass(frozen=True, slots=True)
class PurgePlan:
    """What is due at ``now``: per category, the ids (request ids or row ids) concerned."""

    now: datetime
    items: Mapping[Category, tuple[str, ...]] = field(default_factory=dict)

    def ids(self, category: Category) -> tuple[str, ...]:
        return self.items.get(category, ())

    def counts(self) -> dict[str, int]:
        return {c.value: len(self.ids(c)) for c in Category}

    @property
    def empty(self) -> bool:
        return not any(self.items.values())


def plan(now: datetime, policy: RetentionPolicy, snapshot: Snapshot) -> PurgePlan:
    """What is due for removal at ``now``. Pure; open requests never appear in it."""
    due: dict[Category, list[str]] = {c: [] for c in Category}
    for r in snapshot.requests:
        if not r.status.is_final or r.closed_at is None:
            continue
        age = now - r.closed_at
        if age >= policy.delete:
            due[Category.REQUESTS_DELETED].append(r.request_id)
        elif age >= policy.skeleton and not r.reduced:
            due[Category.REQUESTS_REDUCED].append(r.request_id)
        elif age >= policy.raw and r.has_payload:
            due[Category.TASK_PAYLOADS].append(r.request_id)
    for q in snapshot.quarantine:
        if q.resolved_at is None:
            continue
        age = now - q.resolved_at
        if age >= policy.delete:
            due[Category.QUARANTINE_RECORDS].append(str(q.id))
        elif age >= policy.raw and q.has_raw:
            due[Category.QUARANTINE_RAW].append(str(q.id))
    due[Category.MESSAGE_RECORDS] = [
        str(m.id) for m in snapshot.messages if now - m.at >= policy.unrelated_messages
    ]
    due[Category.AUDIT_RECORDS] = [str(a.id) for a in snapshot.audit if now - a.at >= policy.delete]
    due[Category.NOTICES] = [n.key for n in snapshot.notices if now - n.sent_at >= policy.delete]
    return PurgePlan(now=now, items={c: tuple(v) for c, v in due.items() if v})


# -- reading and applying on the store ---------------------------------------------------


def snapshot(store: SqliteStateStore) -> Snapshot:
    """The facts the policy needs, read from the store (inside the caller's transaction)."""
    requests = tuple(
        RequestFacts(
            request_id=str(r["request_id"]),
            status=RequestStatus(r["status"]),
            closed_at=parse_ts(r["closed_at"]),
            reduced=bool(r["reduced"]),
            has_payload=bool(r["has_payload"]),
        )
        for r in store.query(
            "SELECT request_id, status, closed_at, "
            "EXISTS (SELECT 1 FROM audit a WHERE a.request_id = r.request_id AND a.action = ?) "
            "AS reduced, "
            "EXISTS (SELECT 1 FROM outbox o WHERE o.request_id = r.request_id AND "
            "o.payload != '{}') AS has_payload "
            "FROM requests r WHERE status IN ('closed', 'withdrawn') ORDER BY request_id",
            (REDUCED_EVENT,),
        )
    )
    quarantine = tuple(
        QuarantineFacts(
            id=int(r["id"]), resolved_at=parse_ts(r["resolved_at"]), has_raw=bool(r["has_raw"])
        )
        for r in store.query(
            "SELECT id, resolved_at, raw IS NOT NULL AS has_raw FROM quarantine "
            "WHERE resolved_at IS NOT NULL ORDER BY id"
        )
    )
    messages = tuple(
        RowFacts(id=int(r["id"]), at=_ts(r["recorded_at"]))
        for r in store.query(
            f"SELECT id, recorded_at FROM messages WHERE {_UNLINKED} AND "
            "disposition = 'ignored' AND id NOT IN (SELECT message_row FROM quarantine) "
            "ORDER BY id"
        )
    )
    audit = tuple(
        RowFacts(id=int(r["id"]), at=_ts(r["at"]))
        for r in store.query(f"SELECT id, at FROM audit WHERE {_UNLINKED} ORDER BY id")
    )
    notices: tuple[NoticeFacts, ...] = ()
    if _has_table(store, "notices"):
        # a notice about a request that is still kept would be collected again if removed
        notices = tuple(
            NoticeFacts(key=str(r["key"]), sent_at=_ts(r["sent_at"]))
            for r in store.query(
                "SELECT key, sent_at FROM notices WHERE sent_at IS NOT NULL AND NOT EXISTS "
                "(SELECT 1 FROM requests q WHERE notices.key IN "
                "('default:' || q.request_id, 'parked:' || q.request_id)) ORDER BY key"
            )
        )
    return Snapshot(
        requests=requests, quarantine=quarantine, messages=messages, audit=audit, notices=notices
    )


def _has_table(store: SqliteStateStore, name: str) -> bool:
    rows = store.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return bool(rows)


def purge(store: SqliteStateStore, policy: RetentionPolicy, *, dry_run: bool = False) -> PurgePlan:
    """Plan at the store's current time and, unless ``dry_run``, apply it in one transaction.

    Every applied purge, even an empty one, adds one audit row ``privacy.purged``
    holding the counts per category: that row is also how the daily job knows
    when it last ran.
    """
    with store.transaction():
        due = plan(store.now(), policy, snapshot(store))
        if dry_run:
            return due
        _apply(store, due)
        store.audit(PURGE_EVENT, None, **due.counts())
    log.info("privacy.purged", **due.counts())
    return due


def last_purge(store: SqliteStateStore) -> datetime | None:
    """When the last purge was applied, from the audit trail."""
    rows = store.query(
        "SELECT max(at) AS at FROM audit WHERE request_id IS NULL AND action = ?", (PURGE_EVENT,)
    )
    return parse_ts(rows[0]["at"]) if rows else None


def _apply(store: SqliteStateStore, due: PurgePlan) -> None:
    for chunk in _row_chunks(due.ids(Category.QUARANTINE_RAW)):
        store.execute(f"UPDATE quarantine SET raw = NULL WHERE id IN ({_marks(chunk)})", chunk)
    for chunk in _row_chunks(due.ids(Category.QUARANTINE_RECORDS)):
        marks = _marks(chunk)
        store.execute(
            f"DELETE FROM messages WHERE id IN (SELECT message_row FROM quarantine "
            f"WHERE id IN ({marks}))",
            chunk,
        )
        store.execute(f"DELETE FROM quarantine WHERE id IN ({marks})", chunk)
    for chunk in _chunks(due.ids(Category.TASK_PAYLOADS)):
        _empty_payloads(store, chunk)
    for chunk in _chunks(due.ids(Category.REQUESTS_REDUCED)):
        _reduce(store, chunk)
    for chunk in _chunks(due.ids(Category.REQUESTS_DELETED)):
        _delete_requests(store, chunk)
    for chunk in _row_chunks(due.ids(Category.MESSAGE_RECORDS)):
        store.execute(f"DELETE FROM messages WHERE id IN ({_marks(chunk)})", chunk)
    for chunk in _chunks(due.ids(Category.NOTICES)):
        store.execute(f"DELETE FROM notices WHERE key IN ({_marks(chunk)})", chunk)
    for chunk in _row_chunks(due.ids(Category.AUDIT_RECORDS)):
        store.execute(f"DELETE FROM audit WHERE {_UNLINKED} AND id IN ({_marks(chunk)})", chunk)


def _empty_payloads(store: SqliteStateStore, request_ids: Sequence[str]) -> None:
    store.execute(
        f"UPDATE outbox SET payload = '{{}}' WHERE request_id IN ({_marks(request_ids)})",
        tuple(request_ids),
    )


def _reduce(store: SqliteStateStore, request_ids: Sequence[str]) -> None:
    marks = _marks(request_ids)
    params = tuple(request_ids)
    sets = ", ".join(f"{col} = ?" for col in SKELETON_CLEARS)
    store.execute(
        f"UPDATE requests SET {sets} WHERE request_id IN ({marks}) "
        "AND status IN ('closed', 'withdrawn')",
        (*SKELETON_CLEARS.values(), *params),
    )
    _empty_payloads(store, request_ids)
    store.execute(f"UPDATE outbox SET last_error = NULL WHERE request_id IN ({marks})", params)
    store.execute(f"UPDATE followups SET recipients = '[]' WHERE request_id IN ({marks})", params)
    for row in store.query(f"SELECT id, detail FROM audit WHERE request_id IN ({marks})", params):
        kept = _kept_detail(row["detail"])
        if kept != row["detail"]:
            store.execute("UPDATE audit SET detail = ? WHERE id = ?", (kept, row["id"]))
    for request_id in request_ids:
        store.audit(REDUCED_EVENT, request_id)


def _kept_detail(detail: str) -> str:
    try:
        data = json.loads(detail or "{}")
    except ValueError:
        return "{}"
    if not isinstance(data, dict):
        return "{}"
    kept = {k: v for k, v in data.items() if k in AUDIT_KEEPS}
    return detail if kept == data else json.dumps(kept, ensure_ascii=False)


def _delete_requests(store: SqliteStateStore, request_ids: Sequence[str]) -> None:
    marks = _marks(request_ids)
    params = tuple(request_ids)
    for table in _tables_with_request_id(store):
        if table in _OWN_CLOCK:
            continue
        extra = " AND id NOT IN (SELECT message_row FROM quarantine)" if table == "messages" else ""
        store.execute(f'DELETE FROM "{table}" WHERE request_id IN ({marks}){extra}', params)


def _tables_with_request_id(store: SqliteStateStore) -> list[str]:
    """Every table that holds rows about a request, including those added by later migrations."""
    names = [
        str(r["name"])
        for r in store.query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    found = []
    for name in names:
        columns = {str(c["name"]) for c in store.query(f'PRAGMA table_info("{name}")')}
        if "request_id" in columns:
            found.append(name)
    # the request row itself last, so a crash mid-way (impossible in one transaction) reads right
    return sorted(found, key=lambda n: n == "requests")


def _chunks(ids: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    for start in range(0, len(ids), _CHUNK):
        yield tuple(ids[start : start + _CHUNK])


def _row_chunks(ids: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    for chunk in _chunks(ids):
        yield tuple(int(i) for i in chunk)


def _marks(values: Iterable[object]) -> str:
    return ", ".join("?" for _ in values)


def _ts(value: str | None) -> datetime:
    parsed = parse_ts(value)
    if parsed is None:
        raise ValueError("a stored timestamp is missing")
    return parsed


class DailyPurge:
    """The daemon's periodic task: applies the policy once a day, at or after ``hour``.

    Whether today's purge has run is read from the audit trail (the last
    ``privacy.purged`` row), so a restart neither purges twice nor skips a day;
    in memory it only remembers the day it last checked, to keep the periodic
    call cheap.
    """

    def __init__(self, store: SqliteStateStore, policy: RetentionPolicy, *, hour: int = 3) -> None:
        self.store = store
        self.policy = policy
        self.hour = hour
        self._done_on: date | None = None

    def __call__(self) -> PurgePlan | None:
        now_local = self.store.now().astimezone(AMSTERDAM)
        today = now_local.date()
        if self._done_on == today or now_local.hour < self.hour:
            return None
        last = last_purge(self.store)
        if last is not None and last.astimezone(AMSTERDAM).date() >= today:
            self._done_on = today
            return None
        result = purge(self.store, self.policy)
        self._done_on = today
        return result
