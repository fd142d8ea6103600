"""OutboxStore contract, over every state adapter."""

from __future__ import annotations

from imi_mailwatch.clock import FakeClock
from imi_mailwatch.ports import StateStore
from tests.contract.state.samples import later


def test_an_intent_is_recorded_once_per_key(store: StateStore) -> None:
    """outbox_add is idempotent by its key and keeps the payload."""
    assert store.outbox_add("300001", "create_task", "create:300001", {"a": "é"})
    assert not store.outbox_add("300001", "create_task", "create:300001", {"a": "other"})
    (item,) = store.outbox_due()
    assert item.payload == {"a": "é"} and item.status == "pending" and item.attempts == 0


def test_due_intents_in_order_and_backing_off_ones_wait(
    store: StateStore, clock: FakeClock
) -> None:
    """Due intents in the order recorded; a deferred one is waiting until its moment."""
    store.outbox_add("1", "create_task", "create:1", {})
    store.outbox_add("2", "create_task", "create:2", {})
    store.outbox_add("1", "annotate", "annotate:1:5", {"line": "x"})
    first, second, third = store.outbox_due()
    assert [first.idem_key, second.idem_key, third.idem_key] == [
        "create:1", "create:2", "annotate:1:5"
    ]  # fmt: skip
    assert [i.idem_key for i in store.outbox_due(request_id="1")] == ["create:1", "annotate:1:5"]
    store.outbox_defer(first.id, "TransientError", later(hours=1))
    assert [i.idem_key for i in store.outbox_due()] == ["create:2", "annotate:1:5"]
    assert [i.id for i in store.outbox_waiting(after=clock.now())] == [first.id]
    clock.set(later(hours=1))
    assert first.id in [i.id for i in store.outbox_due()]


def test_attempts_are_counted_before_the_sink_and_finish_ends_it(store: StateStore) -> None:
    """outbox_begin_attempt counts durably; a finished intent is no longer due."""
    store.outbox_add("1", "create_task", "create:1", {"memo": "m"})
    (item,) = store.outbox_due()
    assert store.outbox_begin_attempt(item.id) == 1
    assert store.outbox_begin_attempt(item.id) == 2
    store.outbox_clear_payload(item.id)
    store.outbox_finish(item.id, "done")
    assert store.outbox_due() == [] and store.outbox_counts() == {"done": 1}
    row = store.outbox_row(item.id)
    assert row is not None and row["attempts"] == 2 and "payload" not in row


def test_a_parked_intent_is_made_due_again_by_ops(store: StateStore) -> None:
    """outbox_make_due: pending again at once, attempts kept; rows filter by status."""
    store.outbox_add("1", "create_task", "create:1", {})
    (item,) = store.outbox_due()
    store.outbox_begin_attempt(item.id)
    store.outbox_finish(item.id, "parked", "RejectedError")
    assert [r["status"] for r in store.outbox_rows(("pending", "parked"))] == ["parked"]
    store.outbox_make_due(item.id)
    (again,) = store.outbox_due()
    assert again.attempts == 1 and again.status == "pending"
    assert len(store.outbox_rows()) == 1


def test_a_held_intent_waits_until_released_with_its_new_payload(store: StateStore) -> None:
    """A held intent (routing.mode: propose) is never due; outbox_release makes it due at
    once with the payload given, and releasing it again changes nothing."""
    store.outbox_add("1", "create_task", "create:1", {"team": {"key": "milieu"}})
    store.outbox_add("2", "create_task", "create:2", {})
    first, _ = store.outbox_due()
    store.outbox_finish(first.id, "held")
    assert [i.request_id for i in store.outbox_due()] == ["2"]
    (held,) = store.outbox_held()
    assert held.payload == {"team": {"key": "milieu"}} and store.outbox_held(request_id="2") == []
    store.outbox_release(held.id, {"team": {"key": "natuur"}})
    store.outbox_release(held.id, {"team": {"key": "other"}})  # no longer held: ignored
    assert store.outbox_held() == []
    (due,) = store.outbox_due(request_id="1")
    assert due.payload == {"team": {"key": "natuur"}} and due.status == "pending"
