"""UIDVALIDITY changes and the no-MOVE fallback against a real Dovecot."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from structlog.testing import capture_logs

from imi_mailwatch.model import Disposition, RawMessage
from tests.imap.conftest import MemoryCursorStore, SourceFactory
from tests.servers.dovecot import DovecotServer, dovecot_available, make_message

pytestmark = pytest.mark.dovecot


class RecordingPipeline:
    """The pipeline's de-duplication in miniature: Message-ID plus content hash."""

    def __init__(self) -> None:
        self.recorded: dict[tuple[str, str], Disposition] = {}
        self.processed: list[bytes] = []

    def run(self, src, dispose) -> None:  # type: ignore[no-untyped-def]
        for msg in src.fetch():
            key = (_message_id(msg), msg.content_hash)
            if key in self.recorded:
                src.acknowledge(msg, self.recorded[key])  # a duplicate: only moved again
                continue
            disposition = dispose(msg)
            self.recorded[key] = disposition
            self.processed.append(msg.data)
            src.acknowledge(msg, disposition)


def _message_id(msg: RawMessage) -> str:
    for line in msg.data.split(b"\r\n"):
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip().decode()
    return ""


def test_uidvalidity_change_resyncs_without_loss_or_duplicates(
    dovecot_server: DovecotServer, make_source: SourceFactory, cursors: MemoryCursorStore
) -> None:
    """After a UIDVALIDITY change every message is seen again; de-duplication leaves no double."""
    dovecot_server.append(make_message(i) for i in range(4))
    src = make_source()
    pipeline = RecordingPipeline()
    pipeline.run(
        src, lambda m: Disposition.HANDLED if m.data == make_message(0) else Disposition.IGNORED
    )
    assert len(pipeline.processed) == 4

    dovecot_server.set_uidvalidity("INBOX", 4242)
    dovecot_server.append([make_message(9)])
    with capture_logs() as logs:
        pipeline.run(src, lambda m: Disposition.IGNORED)

    assert any(e["event"] == "imap.uidvalidity_changed" and e["new"] == 4242 for e in logs)
    assert pipeline.processed == [make_message(i) for i in range(4)] + [make_message(9)]
    assert json.loads(cursors.get_cursor("test", "INBOX") or "{}")["uidvalidity"] == 4242
    assert dovecot_server.folder_message_ids("IMI.Verwerkt") == ["<test-0@example.invalid>"]
    assert list(src.fetch()) == []


def test_resync_keeps_the_first_start_floor(
    dovecot_server: DovecotServer, make_source: SourceFactory
) -> None:
    """A resync does not flood the teams with mail the first-start policy left out."""
    dovecot_server.append([make_message(1)], msg_time=datetime.now(UTC) - timedelta(days=60))
    dovecot_server.append([make_message(2)])
    src = make_source(first_start="since_days", first_start_days=7)
    assert [m.data for m in src.fetch()] == [make_message(2)]
    dovecot_server.set_uidvalidity("INBOX", 777)
    assert [m.data for m in src.fetch()] == [make_message(2)]


def test_stale_acknowledge_after_uidvalidity_change_moves_nothing(
    dovecot_server: DovecotServer, make_source: SourceFactory
) -> None:
    """An acknowledge from before a UIDVALIDITY change never moves a wrong message."""
    dovecot_server.append([make_message(1), make_message(2), make_message(3)])
    src = make_source()
    first = list(src.fetch())
    dovecot_server.set_uidvalidity("INBOX", 99)
    src.acknowledge(first[0], Disposition.HANDLED)  # the old session may still do it right
    src.acknowledge(first[1], Disposition.HANDLED)  # the new session must refuse it
    refs = [m.ref for m in src.fetch()]
    moved = dovecot_server.folder_message_ids("IMI.Verwerkt")
    assert "<test-2@example.invalid>" not in moved
    assert set(moved) <= {"<test-1@example.invalid>"}
    inbox = dovecot_server.folder_message_ids("INBOX")
    assert sorted(moved + inbox) == [f"<test-{i}@example.invalid>" for i in (1, 2, 3)]
    assert all(ref.startswith("99:") for ref in refs)


@pytest.fixture
def no_move_server() -> Iterator[DovecotServer]:
    """A Dovecot that does not advertise MOVE."""
    if not dovecot_available():
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    server = DovecotServer(drop_capabilities={"MOVE"})
    try:
        yield server.start()
    finally:
        server.cleanup()


def test_without_move_copy_and_uid_expunge_touch_only_that_message(
    no_move_server: DovecotServer, make_source: SourceFactory
) -> None:
    """Without MOVE: COPY, \\Deleted and UID EXPUNGE of that one UID; others flagged stay."""
    no_move_server.append(make_message(i) for i in range(3))
    with no_move_server.client() as c:  # a user marked message 3 deleted, not expunged
        c.select_folder("INBOX")
        c.add_flags([3], [b"\\Deleted"])
    src = make_source(no_move_server)
    msgs = list(src.fetch())
    assert b"MOVE" not in src.capabilities
    with capture_logs() as logs:
        src.acknowledge(msgs[0], Disposition.HANDLED)
    assert [e["method"] for e in logs if e["event"] == "imap.messages_moved"] == ["copy_expunge"]
    assert no_move_server.folder_message_ids("IMI.Verwerkt") == ["<test-0@example.invalid>"]
    assert no_move_server.folder_uids("INBOX") == [2, 3]
