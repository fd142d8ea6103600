"""Order independence: any arrival order of the demo mailbox ends in the same state.

The demo mailbox (imi_mailwatch.commands.demo.sample_mailbox) goes through the
real daemon (Maildir source, SQLite state, rules of rules/, in-memory task sink)
in a permutation hypothesis draws; the requests' teams, states, tasks, memo
lines and follow-up plans must be the same for every order.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imi_mailwatch.adapters.memory import InMemoryNotifier, InMemoryTaskSink
from imi_mailwatch.app import build_app
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.commands.demo import DEMO_NOW, make_maildir, sample_mailbox
from imi_mailwatch.config import config_from_data
from tests.privacy.helpers import config_data

MAILBOX = sample_mailbox()


def final_state(messages: list[tuple[str, bytes]]) -> dict[str, Any]:
    """Run the daemon once over ``messages`` in this order; what it leaves behind."""
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        make_maildir(tmp / "mailbox", messages, start=1763280000)
        cfg = config_from_data(config_data(tmp), {}, base_dir=str(tmp))
        sink = InMemoryTaskSink()
        app = build_app(cfg, clock=FakeClock(DEMO_NOW), sink=sink, notifier=InMemoryNotifier())
        try:
            app.daemon.run_once()
            state: dict[str, Any] = {}
            for r in app.store.requests():
                ref = sink.refs.get(r.request_id)
                task = sink.tasks[ref.ref] if ref else None
                state[r.request_id] = {
                    "status": r.status.value,
                    "team": r.team_key,
                    "rule": r.rule,
                    "default": r.is_default,
                    "deadline": r.deadline,
                    "task_status": r.task_status.value if r.task_status else None,
                    "task_team": task.team.key if task else None,
                    "memo": sorted(sink.memos[ref.ref][1:]) if ref else None,
                    "first_memo": sink.memos[ref.ref][0] if ref else None,
                    "followups": [
                        (f["step"], f["kind"], f["due_at"], f["status"])
                        for f in app.store.followups_of(r.request_id)
                        if f["status"] != "cancelled"  # replaced plans are no part of the plan
                    ],
                }
            return state
        finally:
            app.close()


BASELINE = final_state(MAILBOX)


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.permutations(MAILBOX))
def test_any_arrival_order_of_the_demo_mailbox_gives_the_same_final_state(
    order: list[tuple[str, bytes]],
) -> None:
    """Teams, states, tasks, memo lines and follow-up plans do not depend on arrival order."""
    assert final_state(order) == BASELINE


def test_the_demo_mailbox_in_reverse_gives_the_same_final_state() -> None:
    """The worst order (every follow-up before its new request) ends as the delivery order."""
    assert final_state(list(reversed(MAILBOX))) == BASELINE
