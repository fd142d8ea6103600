"""Crash consistency: the real daemon killed with SIGKILL while it works.

Small in `make test` (40 alerts, 6 kills, under each Corsa profile); the full run (500
alerts, 50 kills, production profile, the figures of RELIABILITY.md) in `make soak`, and
as bench/bench_crash.py with its figures.
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


@pytest.mark.parametrize(
    ("alerts", "kills", "seed", "profile"),
    [
        (40, 6, 11, "production"),
        (40, 6, 11, "documented"),
        pytest.param(500, 50, 7, "production", marks=[pytest.mark.soak, pytest.mark.timeout(3600)]),
    ],
)
def test_nothing_lost_nothing_doubled_across_kills(
    tmp_path: Path, alerts: int, kills: int, seed: int, profile: str
) -> None:
    """After every kill (random, after CreateMetaDocument, after SMTP DATA) every promise holds,
    under both Corsa profiles (production: kenmerk not stored, found by subject)."""
    if days_back_to_working_day() and not Path(FAKETIME_LIB).exists():
        pytest.skip("today is no working day and libfaketime is missing (apt faketime)")
    outcome = run_crash(tmp_path, alerts=alerts, kills=kills, seed=seed, corsa_profile=profile)
    problems = check(outcome)
    assert problems == [], json.dumps(summary(outcome)) + "\n" + "\n".join(problems)
    assert outcome.kills.total == kills
    assert outcome.extra["exit_code"] == 0
