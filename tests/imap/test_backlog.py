"""A large backlog, and one source never blocking forever."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from imi_mailwatch.adapters import imap_parts as parts
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


def test_fetch_batches_stay_under_the_byte_bound_and_small_mail_costs_no_size_fetch(
    dovecot_server: DovecotServer,
    make_source: SourceFactory,
    cursors: MemoryCursorStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One SEARCH LARGER finds the messages too large to batch blindly; only those have
    their size fetched, every body FETCH stays within BATCH_BYTES, all arrive in order;
    and a backlog of small mail needs no size FETCH at all (no response per message)."""
    monkeypatch.setattr(parts, "BATCH_BYTES", 40 * 1024)  # 200 messages: 204 bytes each
    fetched: list[tuple[str, int]] = []
    real = parts.fetch_items

    def noting(client: Any, *, uids: list[int], what: list[str]) -> dict[int, Any]:
        got = real(client, uids=uids, what=what)
        size = sum(len(v.get(b"BODY[]", b"")) for v in got.values())
        fetched.append((what[0], size if len(uids) > 1 else 0))
        return got

    monkeypatch.setattr(parts, "fetch_items", noting)
    big = "Synthetic filler line for a large message.\r\n" * 300  # about 13 kB
    dovecot_server.append(make_message(i, body=big if i % 3 == 0 else "x\r\n") for i in range(30))
    src = make_source()
    seen = [int(m.ref.split(":")[1]) for m in src.fetch()]
    assert seen == list(range(1, 31))
    sizes = [n for what, n in fetched if what == "RFC822.SIZE"]
    assert len(sizes) == 1  # for the ten large ones only
    assert all(n <= 40 * 1024 for what, n in fetched if what == "BODY.PEEK[]")
    monkeypatch.setattr(parts, "BATCH_BYTES", 16 * 1024 * 1024)
    fetched.clear()
    dovecot_server.append(make_message(i) for i in range(30, 330))
    assert len(list(src.fetch())) == 300 + 30  # nothing acknowledged: all again
    assert [what for what, _ in fetched] == ["BODY.PEEK[]"] * 2  # 200 + 130, no size FETCH


def test_a_backlog_of_ordinary_mail_writes_its_cursor_seldom_and_loses_nothing(
    dovecot_server: DovecotServer, make_source: SourceFactory, cursors: MemoryCursorStore
) -> None:
    """Ordinary mail stays in the inbox, so only the cursor moves past it: 500 of them cost
    one cursor write, at the end of the fetch (a durable write each 100 cost the source
    more than its FETCHes), and a later session starts after the last one."""
    dovecot_server.append(make_message(i) for i in range(500))
    src = make_source()
    for msg in src.fetch():
        src.acknowledge(msg, Disposition.IGNORED)
    assert cursors.writes == 2  # the first start's, and the fetch's end
    src.close()
    assert list(make_source().fetch()) == []
