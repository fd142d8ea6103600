"""AuditLog and the health record contract, over every state adapter."""

from __future__ import annotations

import json

from imi_mailwatch.clock import FakeClock
from imi_mailwatch.ports import StateStore
from tests.contract.state.samples import later


def test_the_trail_of_a_request_in_order(store: StateStore) -> None:
    """audit appends; audit_trail gives one request's rows in order; details as JSON."""
    store.audit("a.first", "1", step="-5")
    store.audit("b.other", "2")
    store.audit("c.second", "1")
    trail = store.audit_trail("1")
    assert [r["action"] for r in trail] == ["a.first", "c.second"]
    assert json.loads(trail[0]["detail"]) == {"step": "-5"}


def test_the_last_audit_of_an_action_about_no_request(store: StateStore, clock: FakeClock) -> None:
    """last_audit_at: the latest row of an action with no request id, None before."""
    assert store.last_audit_at("privacy.purged") is None
    store.audit("privacy.purged", None)
    clock.set(later(1))
    store.audit("privacy.purged", None)
    store.audit("privacy.purged", "1")
    assert store.last_audit_at("privacy.purged") == later(1).isoformat()


def test_health_keeps_when_a_component_started_failing(store: StateStore, clock: FakeClock) -> None:
    """failing_since stays at the first failure until the component works again."""
    store.record_health("notifier", ok=False, error="TransientError")
    clock.set(later(hours=1))
    store.record_health("notifier", ok=False, error="Other")
    (h,) = store.health()
    assert not h.ok and h.failing_since == later() and h.error == "Other"
    store.record_health("notifier", ok=True)
    (h,) = store.health()
    assert h.ok and h.failing_since is None and h.last_ok_at == later(hours=1)
