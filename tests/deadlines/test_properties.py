"""Properties: whatever the date, schedule and outages, no step twice, no last escalation lost."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imi_mailwatch.deadlines import BusinessCalendar
from tests.deadlines.conftest import Desk, make_request

CAL = BusinessCalendar()
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # spans the spring DST change and Easter

schedules = st.lists(
    st.integers(min_value=-8, max_value=3), min_size=1, max_size=4, unique=True
).map(sorted)
# pauses between passes: minutes to a three-day outage (and more)
pauses = st.lists(st.integers(min_value=10, max_value=4 * 24 * 60), min_size=5, max_size=40)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    days_ahead=st.integers(min_value=0, max_value=40),
    offsets=schedules,
    repeat_last=st.booleans(),
    gaps=pauses,
)
def test_no_step_twice_and_the_latest_due_step_is_never_lost(
    days_ahead: int, offsets: list[int], repeat_last: bool, gaps: list[int]
) -> None:
    """Any schedule, any pattern of passes and outages: each step (and each day of the
    repeating step) is sent at most once, never outside working hours, and whenever a pass
    falls in working hours every due follow-up has been sent or superseded by a later one."""
    reply = CAL.on_or_after(START.date() + timedelta(days=days_ahead))
    schedule = [
        {"offset": o, "to": ["team", "escalation"], "repeat": repeat_last and i == len(offsets) - 1}
        for i, o in enumerate(offsets)
    ]
    desk = Desk(Path(tempfile.mkdtemp(prefix="imi-prop-")) / "s.sqlite3", START)
    try:
        desk.record(make_request(deadline=reply, schedule=schedule))
        sent_at: list[datetime] = []
        for gap in gaps:
            desk.clock.advance(timedelta(minutes=gap))
            before = len(desk.notifier.sent)
            desk.followups.run_due()
            sent_at += [desk.clock.now()] * (len(desk.notifier.sent) - before)
            now = desk.clock.now()
            if CAL.is_working_moment(now):
                overdue = desk.store.query(
                    "SELECT step FROM followups WHERE status IN ('scheduled', 'sending') "
                    "AND due_at <= ?",
                    (now.isoformat(timespec="seconds"),),
                )
                assert overdue == []
        ids = [m.message_id for m in desk.notifier.sent]
        assert len(ids) == len(set(ids))
        steps = [m.message_id.split(".")[2] for m in desk.notifier.sent]
        once = [s for s in steps if not s.endswith("r")]
        assert len(once) == len(set(once))
        assert all(CAL.is_working_moment(t) for t in sent_at)
        # the last due step is the one sent last: later steps are never superseded by earlier
        rows = desk.rows()
        due_rows = [r for r in rows if r["due_at"] <= desk.clock.now().isoformat()]
        if due_rows and CAL.is_working_moment(desk.clock.now()):
            latest = max(due_rows, key=lambda r: r["due_at"])
            assert latest["status"] == "sent"
    finally:
        desk.close()


def test_reply_date_in_the_past_sends_one_escalation() -> None:
    """A request that arrives long overdue gets one escalation, not one mail per step."""
    desk = Desk(Path(tempfile.mkdtemp(prefix="imi-prop-")) / "s.sqlite3", START)
    try:
        desk.record(make_request(deadline=date(2026, 2, 2)))
        assert desk.followups.run_due() == 1
        assert "] Escalatie:" in desk.notifier.sent[0].subject
    finally:
        desk.close()
