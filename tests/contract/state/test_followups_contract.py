"""FollowUpStore contract, over every state adapter."""

from __future__ import annotations

from datetime import date

from imi_mailwatch.ports import StateStore
from imi_mailwatch.records import FollowUpKind, FollowUpStatus, PlannedFollowUp
from tests.contract.state.samples import later


def planned(step: str = "-5", days: int = 1) -> PlannedFollowUp:
    return PlannedFollowUp(step, FollowUpKind.REMINDER, later(days), ("team",), date(2026, 12, 1))


def test_planning_is_idempotent_and_a_sent_one_stays_sent(store: StateStore) -> None:
    """One row per (request, step, due); planning a sent step again changes nothing."""
    store.followup_plan("1", planned(), later())
    store.followup_plan("1", planned(), later())
    (row,) = store.followups_due(later(2))
    assert row.status is FollowUpStatus.SCHEDULED and row.recipients == ("team",)
    store.followup_sending(row.id, "<r@example.org>", later(2))
    store.followup_sent(row.id, later(2))
    store.followup_plan("1", planned(), later(3))
    assert store.followups_due(later(4)) == []
    assert [f["status"] for f in store.followups_of("1")] == ["sent"]


def test_cancelled_reminders_come_back_when_planned_again(store: StateStore) -> None:
    """followups_cancel_reminders cancels open reminders; planning revives the same row."""
    store.followup_plan("1", planned(), later())
    store.followups_cancel_reminders("1", later())
    assert store.followups_due(later(2)) == [] and store.next_followup("1") is None
    store.followup_plan("1", planned(), later())
    (row,) = store.followups_due(later(2))
    assert row.status is FollowUpStatus.SCHEDULED


def test_open_followups_of_some_kinds_are_cancelled(store: StateStore) -> None:
    """followups_cancel cancels the open follow-ups of the kinds named, and only those."""
    acceptance = PlannedFollowUp("acc3", FollowUpKind.ACCEPTANCE, later(1), ("team",), None)
    store.followup_plan("1", planned(), later())
    store.followup_plan("1", acceptance, later())
    store.followup_plan("2", acceptance, later())
    store.followups_cancel("1", (FollowUpKind.ACCEPTANCE,), later())
    assert [(f["kind"], f["status"]) for f in store.followups_of("1")] == [
        ("reminder", "scheduled"),
        ("acceptance", "cancelled"),
    ]
    assert [f["status"] for f in store.followups_of("2")] == ["scheduled"]


def test_due_order_backoff_and_existence(store: StateStore) -> None:
    """Due by request, kind and moment; a deferred one waits; exists by kind, step, due."""
    store.followup_plan("2", planned("-5", 1), later())
    store.followup_plan("1", planned("-3", 2), later())
    store.followup_plan("1", planned("-5", 1), later())
    assert [(r.request_id, r.step) for r in store.followups_due(later(3))] == [
        ("1", "-5"), ("1", "-3"), ("2", "-5")
    ]  # fmt: skip
    first = store.followups_due(later(3))[0]
    store.followup_defer(first.id, later(5), "TransientError", later(3))
    assert first.id not in [r.id for r in store.followups_due(later(3))]
    (deferred,) = store.followups_deferred(later(3))
    assert deferred.id == first.id and deferred.last_error == "TransientError"
    store.followup_retry_at(first.id, later(4))
    assert first.id in [r.id for r in store.followups_due(later(4))]
    assert store.followup_exists("1", kind=FollowUpKind.REMINDER)
    assert store.followup_exists("1", step="-3", due_at=later(2))
    assert not store.followup_exists("1", kind=FollowUpKind.CLOSING)


def test_status_keeps_the_last_error_and_sending_counts(store: StateStore) -> None:
    """set_status keeps the last error unless given; sending counts an attempt."""
    store.followup_plan("1", planned(), later())
    (row,) = store.followups_due(later(2))
    store.followup_sending(row.id, "<a@example.org>", later(2))
    (again,) = store.followups_due(later(2))
    assert again.status is FollowUpStatus.SENDING and again.attempts == 1
    assert again.message_id == "<a@example.org>"
    store.followup_set_status(row.id, FollowUpStatus.FAILED, later(2), "RejectedError")
    store.followup_set_status(row.id, FollowUpStatus.FAILED, later(2))
    assert [r["id"] for r in store.failed_followups_unnoticed()] == [row.id]
    assert store.failed_followups_unnoticed()[0]["last_error"] == "RejectedError"
    store.followup_move(row.id, later(6), later(2))
    assert store.followups_of("1")[0]["due_at"] == later(6).isoformat()
