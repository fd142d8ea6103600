"""The hot standby: two real daemon processes on one PostgreSQL, the active one SIGKILLed while
it works; the standby takes over and nothing is doubled or lost.

Small in `make test` (30 alerts, 3 kills, a 3-second lease); the full run (500 alerts, 20
kills, takeover p50/p95) is bench/bench_failover.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.faults.failover import run_failover, takeover_figures
from tests.faults.harness import FAKETIME_LIB, check, days_back_to_working_day, summary
from tests.servers.dovecot import dovecot_available

pytestmark = [
    pytest.mark.dovecot,
    pytest.mark.skipif(not dovecot_available(), reason="Dovecot is not installed"),
]


def test_the_standby_takes_over_after_sigkill_without_doubling_or_losing(
    tmp_path: Path, postgres_url: str
) -> None:
    """Failover: after each SIGKILL of the active node (after CreateMetaDocument, after SMTP
    DATA, at random) the standby takes the lease over; exactly one Corsa document per request,
    no reminder twice, every alert recorded and filed."""
    if days_back_to_working_day() and not Path(FAKETIME_LIB).exists():
        pytest.skip("today is no working day and libfaketime is missing (apt faketime)")
    outcome = run_failover(tmp_path, url=postgres_url, alerts=30, kills=3, seed=5)
    figures = {**summary(outcome), **takeover_figures(outcome.extra["takeovers"])}
    problems = check(outcome)
    assert problems == [], json.dumps(figures) + "\n" + "\n".join(problems)
    assert outcome.kills.total == 3
    assert len(outcome.extra["takeovers"]) == 3
    assert set(outcome.extra["exit_codes"].values()) == {0}
