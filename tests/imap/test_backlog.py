"""A large backlog, and one source never blocking forever."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from imi_mailwatch.errors import MailSourceUnavailableError
from imi_mailwatch.model import Disposition
from tests.imap.conftest import MemoryCursorStore, SourceFactory
from tests.servers.dovecot import DovecotServer, make_message

pytestmark = pytest.mark.dovecot


@pytest.mark.parametrize("total", [500, pytest.param(5000, marks=pytest.mark.soak)])
def test_backlog_is_handled_in_order_once(
    dovecot_server: DovecotServer,
    make_source: SourceFactory,
    cursors: MemoryCursorStore,
    total: int,
) -> None:
    """A backlog (500; 5,000 in make soak) is delivered oldest first, moved once, none left."""
    dovecot_server.append(make_message(i) for i in range(total))
    src = make_source()
    seen: list[int] = []
    for msg in src.fetch():
        seen.append(int(msg.ref.split(":")[1]))
        src.acknowledge(msg, Disposition.HANDLED)
    assert seen == list(range(1, total + 1))
    assert dovecot_server.folder_uids("INBOX") == []
    assert len(dovecot_server.folder_uids("IMI.Verwerkt")) == total
    assert list(src.fetch()) == []


@pytest.fixture
def black_hole() -> Iterator[int]:
    """A port that accepts connections and never says a word (a hung server)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    held: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not done.is_set():
            try:
                conn, _ = sock.accept()
                held.append(conn)
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield int(sock.getsockname()[1])
    done.set()
    t.join(2)
    for c in held:
        c.close()
    sock.close()


def test_a_hung_server_times_out_as_transient(
    dovecot_server: DovecotServer,
    make_source: SourceFactory,
    black_hole: int,
    cursors: MemoryCursorStore,
) -> None:
    """A server that never answers gives MailSourceUnavailableError after timeout_seconds."""
    hung = make_source(name="hung", port=black_hole, timeout_seconds=1)
    with pytest.raises(MailSourceUnavailableError, match="timed out"):
        list(hung.fetch())


def test_one_failing_mailbox_does_not_touch_another(
    dovecot_server: DovecotServer, make_source: SourceFactory, black_hole: int
) -> None:
    """Two sources share nothing: one hung, the other fetches and acknowledges normally."""
    dovecot_server.append([make_message(1)])
    hung = make_source(name="omgevingsdienst", port=black_hole, timeout_seconds=1)
    good = make_source(name="provincie")
    errors: list[BaseException] = []

    def run_hung() -> None:
        try:
            list(hung.fetch())
        except MailSourceUnavailableError as exc:
            errors.append(exc)

    t = threading.Thread(target=run_hung)
    t.start()
    msgs = list(good.fetch())
    good.acknowledge(msgs[0], Disposition.HANDLED)
    t.join(10)
    assert [m.data for m in msgs] == [make_message(1)]
    assert len(errors) == 1
