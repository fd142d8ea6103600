"""The suite's own settings: nothing in it is a wall-clock budget."""

from __future__ import annotations

from hypothesis import HealthCheck, settings


def test_property_tests_have_no_wall_clock_deadline() -> None:
    """Wall-clock budget in property tests: no per-example deadline and no too-slow check,
    so a loaded host or a parallel run cannot fail a correct property test."""
    assert settings.default.deadline is None
    assert HealthCheck.too_slow in settings.default.suppress_health_check
