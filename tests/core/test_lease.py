"""The hot standby's lease on PostgreSQL: fencing tokens that grow with every takeover, and a
store whose writes are refused once its node's lease was taken over (the fence)."""

from __future__ import annotations

import threading

import psycopg
import pytest

from imi_mailwatch.adapters.postgres import PostgresStateStore
from imi_mailwatch.adapters.postgres.lease import PostgresLease, lease_nodes
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.errors import LeaseLostError, StateError


def _expire(url: str) -> None:
    """The holder stopped renewing long ago (no waiting: the expiry is moved back)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE imi_lease SET expires_at = now() - interval '1 minute'")


def _fenced(url: str, lease: PostgresLease) -> PostgresStateStore:
    store = PostgresStateStore(url, FakeClock())
    store.fence = lease.check
    return store


def test_the_fencing_token_grows_with_every_takeover(postgres_url: str) -> None:
    """Split brain: only one node holds the lease at a time, each takeover with a higher token."""
    a = PostgresLease(postgres_url, lease_seconds=30, node="node-a")
    b = PostgresLease(postgres_url, lease_seconds=30, node="node-b")
    try:
        assert a.acquire() == 1
        assert b.acquire() is None  # held and not expired: the standby waits
        assert a.renew() is True
        _expire(postgres_url)
        assert b.acquire() == 2
        assert a.renew() is False  # taken over: the old holder learns it at its next renewal
        b.release()  # a clean stop hands the lease over at once
        assert a.acquire() == 3
    finally:
        a.release()
        b.release()


def test_a_stale_lease_holders_commit_is_refused_by_the_fencing_token(postgres_url: str) -> None:
    """Split brain: after a takeover the old holder can claim no outbox intent (no second Corsa
    document) and record no reminder as sending; the new holder can."""
    a = PostgresLease(postgres_url, lease_seconds=30, node="node-a")
    b = PostgresLease(postgres_url, lease_seconds=30, node="node-b")
    assert a.acquire() == 1
    store_a = _fenced(postgres_url, a)
    store_b = _fenced(postgres_url, b)
    try:
        assert store_a.outbox_add("IMI-1", "create_task", "IMI-1:create", {"x": 1})
        item = store_a.outbox_due()[0]
        _expire(postgres_url)
        assert b.acquire() == 2
        with pytest.raises(LeaseLostError):
            store_a.outbox_begin_attempt(item.id)  # the claim before CreateMetaDocument
        with pytest.raises(LeaseLostError), store_a.transaction():
            store_a.outbox_finish(item.id, "done")
        with pytest.raises(LeaseLostError):
            store_a.record_health("daemon", ok=True)
        assert store_b.outbox_row(item.id)["attempts"] == 0  # type: ignore[index]
        assert store_b.outbox_begin_attempt(item.id) == 1  # the new holder carries it out
    finally:
        for store in (store_a, store_b):
            store.close()
        a.release()
        b.release()


def test_a_takeover_waits_for_the_old_holders_transaction_in_flight(postgres_url: str) -> None:
    """A race at the takeover: a write that passed the fence commits before the takeover, never
    after it; the takeover then sees it (the fence's share lock orders the two)."""
    a = PostgresLease(postgres_url, lease_seconds=30, node="node-a")
    b = PostgresLease(postgres_url, lease_seconds=30, node="node-b")
    assert a.acquire() == 1
    store_a = _fenced(postgres_url, a)
    taken: list[int | str | None] = []
    inside, done = threading.Event(), threading.Event()

    def take_over() -> None:
        inside.wait()
        try:
            taken.append(b.acquire())
        except StateError:
            taken.append("blocked")  # lock_timeout: the standby tries again later
        done.set()

    thread = threading.Thread(target=take_over)
    thread.start()
    try:
        _expire(postgres_url)
        with store_a.transaction():
            store_a.outbox_add("IMI-2", "create_task", "IMI-2:create", {"x": 2})
            inside.set()
            assert not done.wait(0.5)  # the takeover waits while the transaction is open
        thread.join(60)
        assert taken and taken[0] in (2, "blocked")
        if taken[0] == "blocked":
            assert b.acquire() == 2
        reader = PostgresStateStore(postgres_url, FakeClock())
        assert len(reader.outbox_rows()) == 1
        reader.close()
    finally:
        store_a.close()
        a.release()
        b.release()


def test_health_lists_each_nodes_role(postgres_url: str) -> None:
    """Ops can see which node is active, which waits, and which is gone (``health``)."""
    a = PostgresLease(postgres_url, lease_seconds=30, node="node-a")
    b = PostgresLease(postgres_url, lease_seconds=30, node="node-b")
    PostgresStateStore(postgres_url, FakeClock()).close()  # the daemon made the state
    try:
        assert a.acquire() == 1
        a.record_role("active")
        b.record_role("standby")
        store = PostgresStateStore(postgres_url, FakeClock(), read_only=True)
        roles = {n["node"]: n["role"] for n in lease_nodes(store, lease_seconds=30)}
        assert roles == {"node-a": "active", "node-b": "standby"}
        _expire(postgres_url)  # node-a was killed: its row stays, its lease ran out
        roles = {n["node"]: n["role"] for n in lease_nodes(store, lease_seconds=30)}
        store.close()
        assert roles == {"node-a": "gone", "node-b": "standby"}
    finally:
        a.release()
        b.release()
