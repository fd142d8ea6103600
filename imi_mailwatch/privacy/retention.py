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
desk_answers        answers to replies that named no request     created + unrelated days
                    (they hold the sender's address)
audit_records       audit rows about no followed request         written + delete days
                    (quarantine, forged alerts, purges)
notices             notices mailed to the beheerders (reports)   sent + delete days;
                                                                 about a request: with it
==================  ===========================================  ====================

A request that is not closed or withdrawn is never touched, however old; an
unresolved quarantine item is never touched either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

import structlog

from imi_mailwatch.clock import AMSTERDAM, parse_ts
from imi_mailwatch.config import PrivacyConfig
from imi_mailwatch.ports import AuditLog, RetentionStore
from imi_mailwatch.records import PURGE_EVENT, Category, PurgePlan, Snapshot

__all__ = [
    "AUDIT_KEEPS",
    "DUTCH",
    "PURGE_EVENT",
    "Category",
    "DailyPurge",
    "PurgePlan",
    "RetentionPolicy",
    "Snapshot",
    "last_purge",
    "plan",
    "purge",
]


class PurgeStore(RetentionStore, AuditLog, Protocol):
    """What a purge needs of the state store: its snapshot and plan, and the audit trail."""


log = structlog.get_logger(__name__)


DUTCH: Mapping[Category, str] = {
    Category.QUARANTINE_RAW: "kopieën van quarantaine- en afgewezen berichten",
    Category.QUARANTINE_RECORDS: "quarantaineregistraties",
    Category.TASK_PAYLOADS: "berichtkopieën in taakopdrachten van gesloten verzoeken",
    Category.REQUESTS_REDUCED: "verzoeken teruggebracht tot een skelet",
    Category.REQUESTS_DELETED: "verzoeken verwijderd",
    Category.MESSAGE_RECORDS: "registraties van gewone e-mail",
    Category.DESK_ANSWERS: "antwoorden op mails over geen bekend verzoek",
    Category.AUDIT_RECORDS: "auditregels zonder verzoek",
    Category.NOTICES: "verstuurde meldingen aan de beheerders",
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
    due[Category.DESK_ANSWERS] = [
        str(d.id) for d in snapshot.desk_answers if now - d.at >= policy.unrelated_messages
    ]
    due[Category.AUDIT_RECORDS] = [str(a.id) for a in snapshot.audit if now - a.at >= policy.delete]
    due[Category.NOTICES] = [n.key for n in snapshot.notices if now - n.sent_at >= policy.delete]
    return PurgePlan(now=now, items={c: tuple(v) for c, v in due.items() if v})


# -- reading and applying on the store ---------------------------------------------------


def purge(store: PurgeStore, policy: RetentionPolicy, *, dry_run: bool = False) -> PurgePlan:
    """Plan at the store's current time and, unless ``dry_run``, apply it in one transaction.

    Every applied purge, even an empty one, adds one audit row ``privacy.purged``
    holding the counts per category: that row is also how the daily job knows
    when it last ran.
    """
    with store.transaction():
        due = plan(store.now(), policy, store.retention_snapshot())
        if dry_run:
            return due
        store.retention_apply(due, AUDIT_KEEPS)
        store.audit(PURGE_EVENT, None, **due.counts())
    log.info("privacy.purged", **due.counts())
    return due


def last_purge(store: AuditLog) -> datetime | None:
    """When the last purge was applied, from the audit trail."""
    return parse_ts(store.last_audit_at(PURGE_EVENT))


class DailyPurge:
    """The daemon's periodic task: applies the policy once a day, at or after ``hour``.

    Whether today's purge has run is read from the audit trail (the last
    ``privacy.purged`` row), so a restart neither purges twice nor skips a day;
    in memory it only remembers the day it last checked, to keep the periodic
    call cheap.
    """

    def __init__(self, store: PurgeStore, policy: RetentionPolicy, *, hour: int = 3) -> None:
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
