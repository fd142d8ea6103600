"""The life of a request from its alerts (pure core)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from imi_mailwatch.lifecycle import apply_alert
from imi_mailwatch.model import Alert, AlertType, RequestStatus, Route, Team

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 16)
ROUTE = Route(
    team=Team(key="bouwen", name="Bouwen", org_unit="VTH-BOUW"), field="bouwen", rule="Bouwen"
)


def _alert(kind: AlertType, deadline: date | None = None) -> Alert:
    return Alert(
        alert_type=kind,
        request_id="184523",
        deadline=deadline,
        service_activities=("Bouwactiviteiten",),
    )


def test_a_new_request_opens_with_its_reply_date_and_a_task() -> None:
    t = apply_alert(None, _alert(AlertType.NEW_REQUEST, date(2026, 12, 14)), ROUTE, NOW, TODAY)
    assert t.record.status is RequestStatus.OPEN
    assert t.record.deadline == date(2026, 12, 14)
    assert t.create_task and t.replan


def test_a_proposed_date_does_not_replace_the_agreed_one() -> None:
    """Reminders keep following the agreed date until IMI reports a changed date."""
    first = apply_alert(None, _alert(AlertType.NEW_REQUEST, date(2026, 12, 14)), ROUTE, NOW, TODAY)
    proposed = apply_alert(
        first.record, _alert(AlertType.DEADLINE_PROPOSED, date(2027, 1, 15)), None, NOW, TODAY
    )
    assert proposed.record.deadline == date(2026, 12, 14)
    assert not proposed.replan
    assert proposed.memo_line is not None
    assert "15-01-2027" in proposed.memo_line and "14-12-2026" in proposed.memo_line
    changed = apply_alert(
        proposed.record, _alert(AlertType.DEADLINE_CHANGED, date(2027, 1, 15)), None, NOW, TODAY
    )
    assert changed.record.deadline == date(2027, 1, 15)
    assert changed.replan


def test_a_proposal_is_taken_when_no_date_is_known() -> None:
    first = apply_alert(None, _alert(AlertType.NEW_REQUEST), ROUTE, NOW, TODAY)
    proposed = apply_alert(
        first.record, _alert(AlertType.DEADLINE_PROPOSED, date(2027, 1, 15)), None, NOW, TODAY
    )
    assert proposed.record.deadline == date(2027, 1, 15)
    assert proposed.replan


def test_closed_is_final_and_a_late_alert_changes_nothing() -> None:
    first = apply_alert(None, _alert(AlertType.NEW_REQUEST, date(2026, 12, 14)), ROUTE, NOW, TODAY)
    closed = apply_alert(first.record, _alert(AlertType.CLOSED), None, NOW, TODAY)
    assert closed.record.status is RequestStatus.CLOSED and closed.closed
    late = apply_alert(
        closed.record, _alert(AlertType.DEADLINE_CHANGED, date(2027, 2, 1)), None, NOW, TODAY
    )
    assert late.record == closed.record and not late.changed


def test_an_older_alert_arriving_late_does_not_undo_a_newer_one() -> None:
    """Applied by when IMI sent it: a date change sent earlier but arriving later keeps the
    later-sent date, and still adds its memo line (order independence)."""
    from datetime import timedelta

    from imi_mailwatch.lifecycle import Seen

    t0 = NOW
    first = apply_alert(
        None, _alert(AlertType.NEW_REQUEST, date(2026, 12, 14)), ROUTE, t0, TODAY
    ).record
    newer = Seen(AlertType.DEADLINE_CHANGED, date(2027, 1, 20), t0 + timedelta(hours=2))
    opened = Seen(AlertType.NEW_REQUEST, date(2026, 12, 14), t0)
    current = apply_alert(
        first,
        Alert(AlertType.DEADLINE_CHANGED, "184523", deadline=newer.deadline, sent_at=newer.sent_at),
        None, t0, TODAY, [opened],
    ).record  # fmt: skip
    assert current.deadline == date(2027, 1, 20)
    late = apply_alert(
        current,
        Alert(AlertType.DEADLINE_CHANGED, "184523", deadline=date(2027, 1, 8),
              sent_at=t0 + timedelta(hours=1)),
        None, t0, TODAY, [opened, newer],
    )  # fmt: skip
    assert late.record.deadline == date(2027, 1, 20)
    assert late.memo_line is not None and "08-01-2027" in late.memo_line
