"""RequestStore contract, over every state adapter."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from imi_mailwatch.model import RequestStatus, TaskStatus
from imi_mailwatch.ports import StateStore
from imi_mailwatch.records import AlertEntry
from tests.contract.state.samples import later, message, request


def test_a_saved_request_reads_back_whole(store: StateStore) -> None:
    """save_request then get_request gives the same record; unknown ids give None."""
    rec = request(schedule=[{"offset": -5, "to": ["team"], "repeat": False}])
    store.save_request(rec)
    assert store.get_request("300001") == rec
    assert store.get_request("999999") is None


def test_saving_again_replaces_but_keeps_the_creation(store: StateStore) -> None:
    """A second save replaces every field except when the request was created."""
    store.save_request(request())
    changed = replace(request(), status=RequestStatus.CLOSED, created_at=later(1),
                      updated_at=later(1), closed_at=later(1))  # fmt: skip
    store.save_request(changed)
    got = store.get_request("300001")
    assert got is not None and got.status is RequestStatus.CLOSED
    assert got.created_at == request().created_at and got.closed_at == later(1)


def test_set_task_keeps_the_known_sink_and_ref(store: StateStore) -> None:
    """A None sink or ref leaves the stored one in place."""
    store.save_request(request())
    store.set_task("300001", TaskStatus.CREATED, "corsa", "D-1")
    store.set_task("300001", TaskStatus.PENDING, None, None)
    got = store.get_request("300001")
    assert got is not None and got.task_status is TaskStatus.PENDING
    assert (got.task_sink, got.task_ref) == ("corsa", "D-1")


def test_requests_come_by_reply_date_open_ones_on_request(store: StateStore) -> None:
    """Ordered by reply date (none last), then id; open_only leaves closed ones out."""
    store.save_request(request("3", deadline=None))
    store.save_request(request("2", deadline=date(2026, 12, 5)))
    store.save_request(request("1", deadline=date(2026, 12, 9), status=RequestStatus.CLOSED))
    assert [r.request_id for r in store.requests()] == ["2", "1", "3"]
    assert [r.request_id for r in store.requests(open_only=True)] == ["2", "3"]


def test_an_alert_is_kept_once_per_message(store: StateStore) -> None:
    """add_alert is idempotent per (request, message row)."""
    store.save_request(request())
    row = message(store, 1, request_id="300001")
    alert = AlertEntry("300001", "new_request", date(2026, 12, 1), later())
    store.add_alert(row, alert)
    store.add_alert(row, alert)
    assert [a["alert_type"] for a in store.alert_history("300001")] == ["new_request"]


def test_closed_requests_without_an_action_are_listed_once(store: StateStore) -> None:
    """closed_without lists closed requests with a task whose trail lacks the actions."""
    closed = {"status": RequestStatus.CLOSED, "task_sink": "corsa", "task_ref": "D"}
    store.save_request(request("1", closed_at=later(1), **closed))
    store.save_request(request("2", closed_at=later(2), **closed))
    store.save_request(request("3"))
    store.audit("history.attached", "2")
    assert store.closed_without(later(), ("history.attached",), 10) == ["1"]
    assert store.closed_without(later(3), ("history.attached",), 10) == []


def test_open_requests_counted_by_team_with_the_overdue_ones(store: StateStore) -> None:
    """open_requests_by_team: closed and withdrawn ones left out, no team under '';
    overdue only with a status in ``awaiting`` and a reply date before today."""
    today = date(2026, 12, 1)
    for request_id, team, status, deadline in (
        ("1", "vth", RequestStatus.OPEN, date(2026, 11, 30)),
        ("2", "vth", RequestStatus.ALLOCATED, today),
        ("3", "vth", RequestStatus.ANSWERED, date(2026, 11, 1)),
        ("4", "vth", RequestStatus.CLOSED, date(2026, 11, 1)),
        ("5", "eco", RequestStatus.INFO_REQUESTED, date(2026, 11, 2)),
        ("6", None, RequestStatus.OPEN, None),
        ("7", "eco", RequestStatus.WITHDRAWN, date(2026, 11, 2)),
    ):
        store.save_request(request(request_id, team_key=team, status=status, deadline=deadline))
    awaiting = ("open", "allocated", "info_requested")
    assert store.open_requests_by_team(today, awaiting) == {
        "vth": (3, 1), "eco": (1, 1), "": (1, 0),
    }  # fmt: skip
    assert store.open_requests_by_team(today, ()) == {"vth": (3, 0), "eco": (1, 0), "": (1, 0)}
