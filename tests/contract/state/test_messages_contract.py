"""MessageLog and CursorStore contract, over every state adapter."""

from __future__ import annotations

import pytest

from imi_mailwatch.model import Disposition, MessageKind
from imi_mailwatch.ports import StateStore
from tests.contract.state.samples import message


def test_a_recorded_message_is_found_by_its_key_only(store: StateStore) -> None:
    """find_message answers for (source, Message-ID, content hash), and None otherwise."""
    row = message(store, 1)
    found = store.find_message("imi", "<m1@example.org>", "hash1")
    assert found is not None and found.id == row and found.disposition is Disposition.IGNORED
    assert found.kind is MessageKind.NOT_IMI and found.acknowledged_at is None
    assert store.find_message("imi", "<m1@example.org>", "other") is None
    assert store.find_message("other", "<m1@example.org>", "hash1") is None


def test_a_missing_message_id_is_a_key_too(store: StateStore) -> None:
    """A message without a Message-ID is found again by its content hash."""
    message(store, 2, message_id=None)
    assert store.find_message("imi", None, "hash2") is not None


def test_acknowledged_keeps_the_first_moment(store: StateStore, clock: object) -> None:
    """mark_acknowledged is idempotent; the many form marks every row given."""
    a, b = message(store, 1), message(store, 2)
    store.mark_acknowledged(a)
    first = store.find_message("imi", "<m1@example.org>", "hash1")
    store.mark_acknowledged(a)
    again = store.find_message("imi", "<m1@example.org>", "hash1")
    assert first is not None and again is not None
    assert first.acknowledged_at is not None and again.acknowledged_at == first.acknowledged_at
    store.mark_acknowledged_many([b])
    second = store.find_message("imi", "<m2@example.org>", "hash2")
    assert second is not None and second.acknowledged_at is not None


def test_a_rolled_back_transaction_leaves_nothing(store: StateStore) -> None:
    """Writes inside a transaction that raises are undone together."""
    with pytest.raises(RuntimeError), store.transaction():
        message(store, 1)
        store.audit("test.event")
        raise RuntimeError("undo")
    assert store.find_message("imi", "<m1@example.org>", "hash1") is None
    assert store.message_counts() == {}


def test_forgotten_messages_are_handled_again(store: StateStore) -> None:
    """forget_message removes the record; counts and the log follow."""
    a = message(store, 1)
    message(store, 2, disposition=Disposition.HANDLED)
    assert store.message_counts() == {"ignored": 1, "handled": 1}
    store.forget_message(a)
    assert store.find_message("imi", "<m1@example.org>", "hash1") is None
    assert [m["ref"] for m in store.message_log()] == ["1:2"]


def test_cursors_are_per_source_and_folder(store: StateStore) -> None:
    """set_cursor replaces the value of one (source, folder) only."""
    assert store.get_cursor("imi", "INBOX") is None
    store.set_cursor("imi", "INBOX", "a")
    store.set_cursor("imi", "INBOX", "b")
    store.set_cursor("imi", "Other", "c")
    assert store.get_cursor("imi", "INBOX") == "b" and store.get_cursor("imi", "Other") == "c"


def test_a_nested_transaction_joins_the_outer_one(store: StateStore) -> None:
    """What a nested block wrote is undone with the outer block that raises after it."""
    with pytest.raises(RuntimeError), store.transaction():
        message(store, 1)
        with store.transaction():
            message(store, 2)
            store.audit("test.event")
        assert store.message_counts() == {"ignored": 2}  # visible inside the outer block
        raise RuntimeError("undo")
    assert store.message_counts() == {}


def test_an_error_through_nested_transactions_undoes_them_all(store: StateStore) -> None:
    """An error raised in a nested block and not caught undoes the outer block's writes too."""
    with pytest.raises(RuntimeError), store.transaction():
        message(store, 1)
        with store.transaction():
            message(store, 2)
            raise RuntimeError("undo")
    assert store.message_counts() == {}
    with store.transaction(), store.transaction():
        message(store, 3)
    assert store.message_counts() == {"ignored": 1}
