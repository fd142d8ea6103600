"""Crash consistency, small size: the real daemon killed with SIGKILL six times.

The full size (500 alerts, 50 kills) is bench/bench_crash.py; see RELIABILITY.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.faults.harness import FAKETIME_LIB, check, days_back_to_working_day, run_crash, summary
from tests.servers.dovecot import dovecot_available

pytestmark = [
    pytest.mark.dovecot,
    pytest.mark.skipif(not dovecot_available(), reason="Dovecot is not installed"),
]


def test_nothing_lost_nothing_doubled_across_kills(tmp_path: Path) -> None:
    """After 6 kills (random, after CreateMetaDocument, after SMTP DATA) every promise holds."""
    if days_back_to_working_day() and not Path(FAKETIME_LIB).exists():
        pytest.skip("today is no working day and libfaketime is missing (apt faketime)")
    outcome = run_crash(tmp_path, alerts=40, kills=6, seed=11)
    problems = check(outcome)
    assert problems == [], json.dumps(summary(outcome)) + "\n" + "\n".join(problems)
    assert outcome.kills.total == 6
    assert outcome.extra["exit_code"] == 0
