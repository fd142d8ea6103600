"""IDLE, its watchdog and the poll fallback against a real Dovecot.

These tests check behaviour (wait returns, mail is then fetched), with generous
bounds that only catch a hang; latency is measured in bench/bench_imap.py.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from imapclient import IMAPClient
from structlog.testing import capture_logs

from imi_mailwatch.adapters.imap import ImapMailSource
from imi_mailwatch.adapters.imap_conn import mail_announced, read_ahead
from imi_mailwatch.model import Disposition
from tests.imap.conftest import SourceFactory
from tests.imap.proxy import FreezingProxy
from tests.servers.dovecot import DovecotServer, dovecot_available, make_message

pytestmark = pytest.mark.dovecot

HANG = 30.0  # a wait that is still blocked after this long is a hang


class Waiter:
    """Runs ``source.wait`` in a thread, so the test can disturb the server meanwhile."""

    def __init__(self, source: ImapMailSource, timeout: float = 60.0) -> None:
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.returned = threading.Event()

        def run() -> None:
            try:
                source.wait(timeout, self.stop)
            except BaseException as exc:  # handed to the test
                self.error = exc
            finally:
                self.returned.set()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def result(self) -> bool:
        """True when wait returned within HANG seconds (re-raises its error)."""
        done = self.returned.wait(HANG)
        self.stop.set()
        self.thread.join(5)
        if self.error is not None:
            raise self.error
        return done


def idle_started(source: ImapMailSource) -> None:
    """Give the waiter time to enter IDLE (the session exists once fetch ran)."""
    time.sleep(0.5)


def _drain(src: ImapMailSource) -> list[bytes]:
    out = []
    for msg in src.fetch():
        out.append(msg.data)
        src.acknowledge(msg, Disposition.HANDLED)
    return out


def test_delivery_during_idle_ends_the_wait(
    dovecot_server: DovecotServer, make_source: SourceFactory
) -> None:
    """A message APPENDed while the source IDLEs ends wait early; fetch then yields it."""
    src = make_source()
    assert _drain(src) == []
    waiter = Waiter(src)
    idle_started(src)
    dovecot_server.append([make_message(1)])
    assert waiter.result()
    assert _drain(src) == [make_message(1)]


def test_wait_returns_at_once_when_mail_is_already_there(
    dovecot_server: DovecotServer, make_source: SourceFactory
) -> None:
    """Mail delivered between fetch and wait is not left until the next IDLE event."""
    src = make_source()
    _drain(src)
    dovecot_server.append([make_message(1)])
    assert Waiter(src).result()


@pytest.fixture
def quiet_server() -> Iterator[DovecotServer]:
    """A Dovecot that sends no IDLE keep-alives: only real news can end an IDLE."""
    if not dovecot_available():
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    server = DovecotServer(idle_notify_seconds=86400)
    try:
        yield server.start()
    finally:
        server.cleanup()


@pytest.fixture
def quiet_proxy(quiet_server: DovecotServer) -> Iterator[FreezingProxy]:
    """A proxy in front of the quiet Dovecot, to act between two commands of the source."""
    proxy = FreezingProxy(quiet_server.host, quiet_server.port)
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture
def colleague(quiet_server: DovecotServer) -> Iterator[Callable[[bytes], None]]:
    """Delivers a message while a colleague's mail client has INBOX open.

    The colleague's session sees the message first and takes its \\Recent flag,
    so the source's session gets no ``* n RECENT`` for it (as on a shared
    mailbox, or on servers without \\Recent at all): ``EXISTS`` is its only news.
    """
    other = quiet_server.client()
    other.select_folder("INBOX")

    def deliver(data: bytes) -> None:
        quiet_server.append([data])
        other.noop()

    try:
        yield deliver
    finally:
        other.logout()


def test_mail_announced_in_the_search_before_idle_is_not_left_waiting(
    quiet_server: DovecotServer,
    quiet_proxy: FreezingProxy,
    colleague: Callable[[bytes], None],
    make_source: SourceFactory,
) -> None:
    """Missed wake-up: mail announced (EXISTS) in the SEARCH reply before IDLE ends the wait."""
    src = make_source(quiet_server, port=quiet_proxy.port, idle_renew_seconds=1740)
    assert _drain(src) == []
    # the message arrives after the NOOP and before the UID SEARCH of the new-mail check:
    # Dovecot reports it as "* 1 EXISTS" inside the SEARCH reply, and never again in IDLE
    quiet_proxy.before_client_sends(b"UID SEARCH", lambda: colleague(make_message(1)))
    assert Waiter(src, timeout=3600).result()  # without the fix: IDLE until re-IDLE (29 min)
    assert quiet_proxy.hooks_run == 1
    assert _drain(src) == [make_message(1)]


def test_mail_announced_while_idle_is_renewed_is_not_left_waiting(
    quiet_server: DovecotServer,
    quiet_proxy: FreezingProxy,
    colleague: Callable[[bytes], None],
    make_source: SourceFactory,
) -> None:
    """Missed wake-up: mail announced in the reply to DONE (IDLE renewal) ends the wait."""
    src = make_source(quiet_server, port=quiet_proxy.port)
    src._cfg = src._cfg.model_copy(update={"idle_renew_seconds": 1})
    assert _drain(src) == []
    # the message arrives after the source sent DONE: "* 1 EXISTS" comes before "OK Idle
    # completed", and the next IDLE never mentions it again
    quiet_proxy.before_client_sends(b"DONE", lambda: colleague(make_message(2)))
    assert Waiter(src, timeout=3600).result()
    assert quiet_proxy.hooks_run == 1
    assert _drain(src) == [make_message(2)]


def test_mail_announced_with_the_idle_continuation_is_not_left_waiting(
    quiet_server: DovecotServer,
    quiet_proxy: FreezingProxy,
    colleague: Callable[[bytes], None],
    make_source: SourceFactory,
) -> None:
    """Missed wake-up: "* n EXISTS" in the same packet as "+ idling" ends the wait."""
    src = make_source(quiet_server, port=quiet_proxy.port, idle_renew_seconds=1740)
    assert _drain(src) == []
    # the message arrives after the new-mail check and before IDLE: Dovecot answers
    # "+ idling" and "* 1 EXISTS" at once; the second line is read into imaplib's buffer
    # together with the first, where a poll of the socket cannot see it
    quiet_proxy.before_client_sends(b" IDLE\r\n", lambda: colleague(make_message(3)))
    assert Waiter(src, timeout=3600).result()
    assert quiet_proxy.hooks_run == 1
    assert _drain(src) == [make_message(3)]


def test_a_server_repeating_an_unchanged_count_does_not_keep_the_source_from_idle(
    quiet_server: DovecotServer, quiet_proxy: FreezingProxy, make_source: SourceFactory
) -> None:
    """No busy loop: a SEARCH reply that only repeats the known EXISTS count is no news."""
    src = make_source(quiet_server, port=quiet_proxy.port, idle_renew_seconds=1740)
    assert _drain(src) == []
    # the folder is empty; this server says "* 0 EXISTS" again with every SEARCH reply
    repeat = re.compile(rb"(?m)^(\w+ OK Search)")
    quiet_proxy.rewrite_server_bytes(lambda data: repeat.sub(rb"* 0 EXISTS\r\n\1", data))
    start = len(quiet_proxy.client_sent)
    waiter = Waiter(src, timeout=3600)
    assert quiet_proxy.wait_client_sends(b" IDLE\r\n", HANG, start=start)
    assert quiet_proxy.client_sent[start:].count(b"UID SEARCH") == 2  # the news, then a repeat
    quiet_proxy.rewrite_server_bytes(None)
    quiet_server.append([make_message(4)])
    assert waiter.result()
    assert _drain(src) == [make_message(4)]


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
def test_read_ahead_finds_what_came_with_the_idle_continuation(tls: bool) -> None:
    """read_ahead returns the "* n EXISTS" that came with "+ idling", over plain text and TLS."""
    if not dovecot_available():
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    with DovecotServer(tls=tls) as server:
        port = server.imaps_port if tls else server.port
        ctx = server.ssl_context() if tls else None
        client = IMAPClient(server.host, port=port, ssl=tls, ssl_context=ctx, timeout=30)
        client.login(server.user, server.password)
        client.select_folder("INBOX")
        colleague = server.client()
        colleague.select_folder("INBOX")
        server.append([make_message(1)])
        colleague.noop()  # takes \Recent: the IDLE session hears of the message by EXISTS only
        client.idle()  # Dovecot answers "+ idling" and "* 1 EXISTS" together
        assert mail_announced(read_ahead(client))
        assert read_ahead(client) == []
        assert client.idle_check(timeout=0.5) == []  # nothing was left behind
        client.idle_done()
        assert client.search(["UID", "1:*"]) == [1]
        client.logout()
        colleague.logout()


def test_stop_event_ends_idle(dovecot_server: DovecotServer, make_source: SourceFactory) -> None:
    """Setting stop ends an IDLE wait promptly, and the session stays usable."""
    src = make_source()
    _drain(src)
    waiter = Waiter(src)
    idle_started(src)
    waiter.stop.set()
    assert waiter.result()
    dovecot_server.append([make_message(2)])
    assert _drain(src) == [make_message(2)]


def test_wait_times_out_quietly(dovecot_server: DovecotServer, make_source: SourceFactory) -> None:
    """With nothing arriving, wait returns after its timeout without raising."""
    src = make_source()
    _drain(src)
    assert Waiter(src, timeout=1.5).result()


@pytest.mark.parametrize(
    "disturb",
    [
        pytest.param(lambda s: s.restart(), id="dovecot-restarted"),
        pytest.param(lambda s: s.kick(), id="server-bye"),
        pytest.param(lambda s: s.kill_sessions(), id="silent-drop"),
    ],
)
def test_connection_lost_during_idle_reconnects(
    dovecot_server: DovecotServer,
    make_source: SourceFactory,
    disturb: Callable[[DovecotServer], object],
) -> None:
    """Restart, BYE, or a session killed without goodbye: wait notices, reconnects, mail flows."""
    src = make_source()
    _drain(src)
    waiter = Waiter(src)
    idle_started(src)
    with capture_logs() as logs:
        disturb(dovecot_server)
        dovecot_server.append([make_message(7)])
        assert waiter.result()
    assert any(e["event"] == "imap.connection_lost" for e in logs)
    assert _drain(src) == [make_message(7)]


def test_idle_is_renewed(dovecot_server: DovecotServer, make_source: SourceFactory) -> None:
    """IDLE is re-issued every idle_renew_seconds (here shortened to 1 s)."""
    src = make_source()
    src._cfg = src._cfg.model_copy(update={"idle_renew_seconds": 1})
    _drain(src)
    with capture_logs() as logs:
        waiter = Waiter(src)
        # not a count within a time (that flakes on a loaded host): wait for two renewals
        deadline = time.monotonic() + HANG
        while sum(e["event"] == "imap.idle_renewed" for e in logs) < 2:
            assert time.monotonic() < deadline, "IDLE was not renewed twice"
            time.sleep(0.1)
        waiter.stop.set()
        assert waiter.result()
    dovecot_server.append([make_message(3)])
    assert _drain(src) == [make_message(3)]


@pytest.fixture
def no_idle_server() -> Iterator[DovecotServer]:
    """A Dovecot that does not advertise IDLE."""
    if not dovecot_available():
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    server = DovecotServer(drop_capabilities={"IDLE"})
    try:
        yield server.start()
    finally:
        server.cleanup()


def test_polling_where_idle_is_missing(
    no_idle_server: DovecotServer, make_source: SourceFactory
) -> None:
    """Without IDLE the source polls every poll_seconds and returns when mail arrived."""
    src = make_source(no_idle_server, poll_seconds=1)
    _drain(src)
    assert b"IDLE" not in src.capabilities
    waiter = Waiter(src)
    time.sleep(0.3)
    no_idle_server.append([make_message(4)])
    assert waiter.result()
    assert _drain(src) == [make_message(4)]


def test_idle_disabled_in_configuration_polls(
    dovecot_server: DovecotServer, make_source: SourceFactory
) -> None:
    """idle: false polls even where the server offers IDLE."""
    src = make_source(idle=False, poll_seconds=1)
    _drain(src)
    with capture_logs() as logs:
        waiter = Waiter(src)
        time.sleep(0.3)
        dovecot_server.append([make_message(5)])
        assert waiter.result()
    assert not any(e["event"] == "imap.idle_renewed" for e in logs)
    assert _drain(src) == [make_message(5)]
