"""The hot standby as the health checks see it: a waiting standby is alive but not ready."""

from __future__ import annotations

from datetime import UTC, datetime

from imi_mailwatch.health import LIVENESS, READINESS, Facts, judge


def _standby(role: str) -> Facts:
    return Facts(
        rows={}, now=datetime(2026, 11, 27, 9, tzinfo=UTC), run_state="starting", role=role
    )


def test_a_waiting_standby_is_alive_so_that_no_orchestrator_restarts_it() -> None:
    """Restart loop: a standby has written no heartbeat (its loops wait for the lease), yet
    /livez must not ask for a restart; /readyz says it is not doing the work."""
    assert judge(_standby("standby"), LIVENESS).ok
    assert judge(_standby("standby"), LIVENESS).as_dict()["role"] == "standby"
    assert not judge(_standby("standby"), READINESS).ok
    assert not judge(_standby("active"), LIVENESS).ok  # active without a heartbeat: stuck
