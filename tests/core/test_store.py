"""The SQLite state store: migrations, transactions, cursors, outbox, health."""

from __future__ import annotations

import sqlite3
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest

from imi_mailwatch.adapters.sqlite import SCHEMA_VERSION, SqliteStateStore
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.errors import StateError
from imi_mailwatch.model import Disposition, MessageKind
from imi_mailwatch.records import MessageEntry


@pytest.fixture
def db_path() -> Path:
    return Path(tempfile.mkdtemp(prefix="imi-store-")) / "state.sqlite3"


def test_new_store_is_migrated_in_wal_mode_and_private(db_path: Path) -> None:
    """A new file gets the latest schema, WAL journaling and mode 0600."""
    store = SqliteStateStore(db_path, FakeClock())
    assert store.schema_version == SCHEMA_VERSION
    assert store.query("PRAGMA journal_mode")[0][0] == "wal"
    assert db_path.stat().st_mode & 0o777 == 0o600
    store.close()


def test_a_newer_schema_is_refused(db_path: Path) -> None:
    """A state file written by a newer version is not touched."""
    SqliteStateStore(db_path, FakeClock()).close()
    con = sqlite3.connect(db_path)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(StateError, match="newer"):
        SqliteStateStore(db_path, FakeClock())


def test_a_failed_transaction_leaves_nothing(db_path: Path) -> None:
    """An exception inside a transaction rolls every write of it back."""
    store = SqliteStateStore(db_path, FakeClock())
    with pytest.raises(RuntimeError), store.transaction():
        store.record_message(
            MessageEntry(
                source="s",
                ref="1",
                message_id="<a@x>",
                content_hash="h",
                kind=MessageKind.NOT_IMI,
                disposition=Disposition.IGNORED,
                reason=None,
                request_id=None,
                alert_type=None,
            )
        )
        raise RuntimeError("boom")
    assert store.find_message("s", "<a@x>", "h") is None


def test_message_key_is_message_id_plus_content_hash(db_path: Path) -> None:
    """The same Message-ID with other bytes is another message; the same pair is one."""
    store = SqliteStateStore(db_path, FakeClock())
    with store.transaction():
        store.record_message(
            MessageEntry(
                source="s",
                ref="1",
                message_id="<a@x>",
                content_hash="h1",
                kind=MessageKind.NOT_IMI,
                disposition=Disposition.IGNORED,
                reason=None,
                request_id=None,
                alert_type=None,
            )
        )
    assert store.find_message("s", "<a@x>", "h1") is not None
    assert store.find_message("s", "<a@x>", "h2") is None
    assert store.find_message("other", "<a@x>", "h1") is None
    with pytest.raises(sqlite3.IntegrityError), store.transaction():
        store.record_message(
            MessageEntry(
                source="s",
                ref="2",
                message_id="<a@x>",
                content_hash="h1",
                kind=MessageKind.NOT_IMI,
                disposition=Disposition.IGNORED,
                reason=None,
                request_id=None,
                alert_type=None,
            )
        )


def test_cursor_survives_reopen(db_path: Path) -> None:
    """A cursor set before a restart is there after it."""
    store = SqliteStateStore(db_path, FakeClock())
    store.set_cursor("imi", "INBOX", "17:42")
    store.set_cursor("imi", "INBOX", "17:43")
    store.close()
    assert SqliteStateStore(db_path, FakeClock()).get_cursor("imi", "INBOX") == "17:43"


def test_outbox_is_idempotent_and_deferrable(db_path: Path) -> None:
    """An intent is recorded once per key; a deferred one is not due before its time."""
    clock = FakeClock()
    store = SqliteStateStore(db_path, clock)
    with store.transaction():
        assert store.outbox_add("184523", "create_task", "create:184523", {"x": 1})
        assert not store.outbox_add("184523", "create_task", "create:184523", {"x": 2})
    (item,) = store.outbox_due()
    assert store.outbox_begin_attempt(item.id) == 1
    store.outbox_defer(item.id, "down", clock.now() + timedelta(minutes=5))
    assert store.outbox_due() == []
    clock.advance(timedelta(minutes=5))
    (again,) = store.outbox_due()
    assert again.attempts == 1 and again.payload == {"x": 1}


def test_health_remembers_since_when_a_component_fails(db_path: Path) -> None:
    """failing_since stays at the first failure until the component works again."""
    clock = FakeClock()
    store = SqliteStateStore(db_path, clock)
    store.record_health("task_sink", ok=False, error="TaskSinkUnavailableError")
    first = clock.now()
    clock.advance(600)
    store.record_health("task_sink", ok=False, error="TaskSinkUnavailableError")
    (rec,) = store.health()
    assert not rec.ok and rec.failing_since == first
    store.record_health("task_sink", ok=True)
    (rec,) = store.health()
    assert rec.ok and rec.failing_since is None and rec.last_ok_at == clock.now()
