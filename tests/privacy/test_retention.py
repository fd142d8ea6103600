"""The retention policy on a fake clock over the real SQLite store, fed by the real pipeline."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from imi_mailwatch.clock import FakeClock
from imi_mailwatch.model import RequestStatus
from imi_mailwatch.privacy.quarantine import resolve
from imi_mailwatch.privacy.retention import (
    PURGE_EVENT,
    Category,
    DailyPurge,
    RetentionPolicy,
    Snapshot,
    plan,
    purge,
)
from imi_mailwatch.records import RequestFacts
from tests.privacy.helpers import Desk, desk, dump, rows_of

POLICY = RetentionPolicy()
DAY = timedelta(days=1)


def _closed_and_open(tmp: Path) -> Desk:
    d = desk(tmp)
    d.feed("imi", "200001", "new_request", "2026-12-20")
    d.feed("imi", "200002", "new_request", "2026-12-21")
    d.feed("imi", "200001", "closed")
    return d


def test_open_requests_are_never_touched(tmp_path: Path) -> None:
    """Ten years on, every row about an open request is exactly as it was."""
    d = _closed_and_open(tmp_path)
    before = rows_of(d.store, {"200002"})
    d.clock.advance(timedelta(days=3650))
    result = purge(d.store, POLICY)
    assert "200002" not in {i for c in Category for i in result.ids(c)}
    assert rows_of(d.store, {"200002"}) == before
    assert d.store.get_request("200002") is not None


def test_closed_request_is_reduced_then_deleted_on_the_day(tmp_path: Path) -> None:
    """A closed request: intact until 183 days, a skeleton from then, gone at 1095 days."""
    d = _closed_and_open(tmp_path)
    before = rows_of(d.store, {"200001"})
    d.clock.advance(POLICY.skeleton - DAY)
    purge(d.store, POLICY)
    after_payloads = rows_of(d.store, {"200001"})
    assert after_payloads["requests"] == before["requests"]  # only the task payloads went

    d.clock.advance(DAY)
    assert purge(d.store, POLICY).ids(Category.REQUESTS_REDUCED) == ("200001",)
    rec = d.store.get_request("200001")
    assert rec is not None
    assert rec.status is RequestStatus.CLOSED and rec.team_key == "economie"
    assert rec.task_ref is not None and rec.closed_at is not None and rec.deadline is not None
    assert rec.handlers == () and rec.requesting_authority is None
    assert rec.service_activities == () and rec.member_state is None
    assert purge(d.store, POLICY).ids(Category.REQUESTS_REDUCED) == ()  # only once

    d.clock.advance(POLICY.delete - POLICY.skeleton - DAY)
    purge(d.store, POLICY)
    assert d.store.get_request("200001") is not None
    d.clock.advance(DAY)
    assert purge(d.store, POLICY).ids(Category.REQUESTS_DELETED) == ("200001",)
    assert all(rows == [] for rows in rows_of(d.store, {"200001"}).values())
    assert d.store.get_request("200002") is not None


def test_skeleton_keeps_dates_team_outcome_and_task_reference(tmp_path: Path) -> None:
    """The skeleton's audit trail keeps alert types, deadlines, team and task reference."""
    d = _closed_and_open(tmp_path)
    d.clock.advance(POLICY.skeleton)
    purge(d.store, POLICY)
    trail = [(r["action"], json.loads(r["detail"])) for r in d.store.audit_trail("200001")]
    actions = [a for a, _ in trail]
    assert actions[-1] == "privacy.reduced"
    assert {"request.routed", "alert.recorded", "task.created"} <= set(actions)
    routed = dict(trail)["request.routed"]
    assert routed["team"] == "economie" and "rule" not in routed
    created = dict(trail)["task.created"]
    assert created["task_ref"]


def test_quarantine_copy_removed_after_resolution_never_before(tmp_path: Path) -> None:
    """A rejected mail's copy stays while unresolved; 30 days after resolving it goes."""
    d = desk(tmp_path)
    d.feed("forged", "200003", "new_request")
    (item,) = d.store.quarantine()
    d.clock.advance(timedelta(days=3650))
    purge(d.store, POLICY)
    assert d.store.quarantine_raw(item.id) is not None

    assert resolve(d.store, item.id) is not None
    d.clock.advance(POLICY.raw - DAY)
    purge(d.store, POLICY)
    assert d.store.quarantine_raw(item.id) is not None
    d.clock.advance(DAY)
    assert purge(d.store, POLICY).ids(Category.QUARANTINE_RAW) == (str(item.id),)
    assert d.store.quarantine_raw(item.id) is None
    assert d.store.quarantine(unresolved_only=False)  # the record itself stays

    d.clock.advance(POLICY.delete - POLICY.raw)
    assert purge(d.store, POLICY).ids(Category.QUARANTINE_RECORDS) == (str(item.id),)
    assert d.store.quarantine(unresolved_only=False) == []
    assert d.store.query("SELECT count(*) AS n FROM messages")[0]["n"] == 0


def test_ordinary_mail_records_go_after_30_days(tmp_path: Path) -> None:
    """The record of mail that was left alone is kept 30 days, for de-duplication."""
    d = desk(tmp_path)
    d.feed("ordinary")
    d.clock.advance(POLICY.unrelated_messages - DAY)
    assert purge(d.store, POLICY).ids(Category.MESSAGE_RECORDS) == ()
    d.clock.advance(DAY)
    assert len(purge(d.store, POLICY).ids(Category.MESSAGE_RECORDS)) == 1
    assert d.store.query("SELECT count(*) AS n FROM messages")[0]["n"] == 0


def test_dry_run_changes_nothing_and_reports_what_would_go(tmp_path: Path) -> None:
    """--dry-run leaves every table as it was and lists what a real purge then removes."""
    d = _closed_and_open(tmp_path)
    d.feed("ordinary")
    d.clock.advance(POLICY.skeleton)
    before = dump(d.store)
    planned = purge(d.store, POLICY, dry_run=True)
    assert dump(d.store) == before
    assert planned.ids(Category.REQUESTS_REDUCED) == ("200001",)
    assert purge(d.store, POLICY).counts() == planned.counts()


def test_every_purge_is_audited_by_count_not_content(tmp_path: Path) -> None:
    """The audit row of a purge holds a count per category and nothing else."""
    d = _closed_and_open(tmp_path)
    d.clock.advance(POLICY.skeleton)
    purge(d.store, POLICY)
    rows = d.store.query(
        "SELECT request_id, detail FROM audit WHERE action = ? ORDER BY id", (PURGE_EVENT,)
    )
    assert len(rows) == 1 and rows[0]["request_id"] is None
    detail = json.loads(rows[0]["detail"])
    assert set(detail) == {c.value for c in Category}
    assert all(isinstance(v, int) for v in detail.values())
    assert detail["requests_reduced"] == 1
    assert "200001" not in rows[0]["detail"]


def test_daily_purge_runs_once_a_day_after_its_hour(tmp_path: Path) -> None:
    """Before 03:00 nothing; then once; a restart the same day does not purge again."""
    clock = FakeClock(datetime(2026, 11, 16, 1, 30, tzinfo=UTC))  # 02:30 in Amsterdam
    d = desk(tmp_path, clock)
    daily = DailyPurge(d.store, POLICY, hour=3)
    assert daily() is None
    clock.advance(timedelta(minutes=30))
    assert daily() is not None
    assert daily() is None
    assert DailyPurge(d.store, POLICY, hour=3)() is None  # a restart reads the audit trail
    clock.advance(DAY)
    assert daily() is not None
    assert len(d.store.query("SELECT id FROM audit WHERE action = ?", (PURGE_EVENT,))) == 2


_STATUSES = st.sampled_from(list(RequestStatus))
_WHEN = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)


@given(
    st.lists(st.tuples(_STATUSES, st.one_of(st.none(), _WHEN), st.booleans()), max_size=20),
    _WHEN,
)
def test_plan_never_names_an_open_request(
    facts: list[tuple[RequestStatus, datetime | None, bool]], now: datetime
) -> None:
    """Whatever the ages, a request that is not closed or withdrawn is never planned."""
    requests = tuple(
        RequestFacts(f"R{i}", status, closed, reduced=False, has_payload=payload)
        for i, (status, closed, payload) in enumerate(facts)
    )
    due = plan(now, POLICY, Snapshot(requests=requests))
    named = {i for c in Category for i in due.ids(c)}
    for r in requests:
        if not r.status.is_final or r.closed_at is None:
            assert r.request_id not in named
