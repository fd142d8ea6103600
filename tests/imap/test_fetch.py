"""ImapMailSource against a real Dovecot: fetch, acknowledge, the durable cursor."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest

from imi_mailwatch.model import Disposition
from tests.imap.conftest import MemoryCursorStore, SourceFactory
from tests.servers.dovecot import DovecotServer, make_message

pytestmark = pytest.mark.dovecot


def test_fetch_yields_oldest_first_with_ref_and_internaldate(
    dovecot_server: DovecotServer, make_source: SourceFactory
) -> None:
    """Messages come oldest first, as raw bytes, with UIDVALIDITY:UID and an aware INTERNALDATE."""
    dovecot_server.append(make_message(i) for i in range(3))
    src = make_source()
    got = list(src.fetch())
    assert [m.data for m in got] == [make_message(i) for i in range(3)]
    uidvalidity = got[0].ref.split(":")[0]
    assert [m.ref for m in got] == [f"{uidvalidity}:{uid}" for uid in (1, 2, 3)]
    assert all(m.source == "test" for m in got)
    assert all(m.received_at is not None and m.received_at.tzinfo is not None for m in got)


def test_fetch_does_not_mark_seen(
    dovecot_server: DovecotServer, make_source: SourceFactory
) -> None:
    """Reading uses BODY.PEEK[]: no message gets \\Seen by being fetched."""
    dovecot_server.append([make_message(1)])
    list(make_source().fetch())
    assert all(b"\\Seen" not in flags for flags in dovecot_server.flags("INBOX").values())


def test_unacknowledged_mail_is_fetched_again(
    dovecot_server: DovecotServer, make_source: SourceFactory
) -> None:
    """A message yielded but never acknowledged comes back on the next fetch."""
    dovecot_server.append(make_message(i) for i in range(2))
    src = make_source()
    first = list(src.fetch())
    src.acknowledge(first[1], Disposition.IGNORED)
    again = list(src.fetch())
    assert [m.ref for m in again] == [m.ref for m in first]


def test_acknowledge_moves_by_disposition_and_creates_folders(
    dovecot_server: DovecotServer, make_source: SourceFactory
) -> None:
    """HANDLED, QUARANTINED, REJECTED go to their (new) folders; IGNORED stays in INBOX."""
    dovecot_server.append(make_message(i) for i in range(4))
    src = make_source()
    msgs = list(src.fetch())
    for msg, disp in zip(
        msgs,
        [Disposition.HANDLED, Disposition.QUARANTINED, Disposition.REJECTED, Disposition.IGNORED],
        strict=True,
    ):
        src.acknowledge(msg, disp)
    assert dovecot_server.folder_message_ids("IMI.Verwerkt") == ["<test-0@example.invalid>"]
    assert dovecot_server.folder_message_ids("IMI.Quarantaine") == ["<test-1@example.invalid>"]
    assert dovecot_server.folder_message_ids("IMI.Afgewezen") == ["<test-2@example.invalid>"]
    assert dovecot_server.folder_message_ids("INBOX") == ["<test-3@example.invalid>"]
    assert list(src.fetch()) == []


def test_acknowledge_twice_is_no_error(
    dovecot_server: DovecotServer, make_source: SourceFactory
) -> None:
    """Acknowledging a message that was already moved is idempotent."""
    dovecot_server.append([make_message(1)])
    src = make_source()
    (msg,) = list(src.fetch())
    src.acknowledge(msg, Disposition.HANDLED)
    src.acknowledge(msg, Disposition.HANDLED)
    assert dovecot_server.folder_message_ids("IMI.Verwerkt") == ["<test-1@example.invalid>"]


def test_cursor_is_durable_across_sources(
    dovecot_server: DovecotServer, make_source: SourceFactory, cursors: MemoryCursorStore
) -> None:
    """A new source on the same cursor store skips what the previous one acknowledged."""
    dovecot_server.append(make_message(i) for i in range(3))
    src = make_source()
    for msg in src.fetch():
        src.acknowledge(msg, Disposition.IGNORED)
    src.close()
    stored = json.loads(cursors.get_cursor("test", "INBOX") or "{}")
    assert stored["uid"] == 3
    dovecot_server.append([make_message(9)])
    again = make_source()
    assert [m.data for m in again.fetch()] == [make_message(9)]


def test_cursor_waits_for_the_oldest_unacknowledged(
    dovecot_server: DovecotServer, make_source: SourceFactory, cursors: MemoryCursorStore
) -> None:
    """Acking later messages does not move the cursor past an earlier unacked one."""
    dovecot_server.append(make_message(i) for i in range(3))
    src = make_source()
    msgs = list(src.fetch())
    src.acknowledge(msgs[0], Disposition.IGNORED)
    src.acknowledge(msgs[2], Disposition.HANDLED)
    assert json.loads(cursors.get_cursor("test", "INBOX") or "{}")["uid"] == 1
    src.acknowledge(msgs[1], Disposition.IGNORED)
    assert json.loads(cursors.get_cursor("test", "INBOX") or "{}")["uid"] == 3


def test_first_start_since_days_skips_old_mail(
    dovecot_server: DovecotServer, make_source: SourceFactory
) -> None:
    """On a full mailbox the first start only delivers mail of the last N days."""
    old = datetime.now(UTC) - timedelta(days=30)
    dovecot_server.append([make_message(1), make_message(2)], msg_time=old)
    dovecot_server.append([make_message(3)])
    src = make_source(first_start="since_days", first_start_days=14)
    assert [m.data for m in src.fetch()] == [make_message(3)]


def test_first_start_none_skips_everything_present(
    dovecot_server: DovecotServer, make_source: SourceFactory
) -> None:
    """first_start none: only mail that arrives after the first start is delivered."""
    dovecot_server.append([make_message(1)], msg_time=datetime.now(UTC) - timedelta(hours=1))
    src = make_source(first_start="none")
    assert list(src.fetch()) == []
    dovecot_server.append([make_message(2)])
    assert [m.data for m in src.fetch()] == [make_message(2)]


def test_old_mail_arriving_after_first_start_is_delivered(
    dovecot_server: DovecotServer, make_source: SourceFactory
) -> None:
    """The first-start floor applies only to mail present then: a later old-dated APPEND counts."""
    src = make_source(first_start="since_days", first_start_days=1)
    assert list(src.fetch()) == []
    dovecot_server.append([make_message(5)], msg_time=datetime.now(UTC) - timedelta(days=100))
    assert [m.data for m in src.fetch()] == [make_message(5)]


def test_a_long_session_of_moves_leaves_no_replies_piling_up_in_imaplib(
    dovecot_server: DovecotServer, make_source: SourceFactory
) -> None:
    """Each MOVE answers with a COPYUID code that imaplib keeps until the next SELECT,
    which a long IDLE session never sends: the buffer stays as small after twenty
    rounds of mail as after one."""
    src = make_source()
    sizes = []
    for n in range(20):
        dovecot_server.append([make_message(n)])
        for msg in src.fetch():
            src.acknowledge(msg, Disposition.HANDLED)
        list(src.fetch())  # the move is sent at the latest when a fetch ends
        src.wait(0, threading.Event())  # as the daemon between rounds: size news taken
        client = src._client
        assert client is not None
        sizes.append(sum(len(v) for v in client._imap.untagged_responses.values()))
    assert len(dovecot_server.folder_message_ids("IMI.Verwerkt")) == 20
    assert max(sizes[5:]) <= sizes[0] + 2, sizes
