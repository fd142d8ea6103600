"""The IDLE watchdog against a connection that dies without a packet, and wait's deadline."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
from structlog.testing import capture_logs

from tests.imap.conftest import SourceFactory
from tests.imap.proxy import FreezingProxy
from tests.imap.test_idle import Waiter, _drain, idle_started
from tests.servers.dovecot import DovecotServer, make_message

pytestmark = pytest.mark.dovecot


@pytest.fixture
def proxy(dovecot_server: DovecotServer) -> Iterator[FreezingProxy]:
    """A proxy in front of the test Dovecot that can silence its open connections."""
    p = FreezingProxy(dovecot_server.host, dovecot_server.port)
    try:
        yield p
    finally:
        p.close()


def test_silently_dead_connection_is_noticed_at_the_idle_renewal(
    dovecot_server: DovecotServer, make_source: SourceFactory, proxy: FreezingProxy
) -> None:
    """A connection that stops carrying bytes (no FIN, no BYE) is dropped and rebuilt."""
    src = make_source(port=proxy.port, timeout_seconds=1)
    # shorter than the configuration allows (30 s), so that the test stays quick
    src._cfg = src._cfg.model_copy(update={"idle_renew_seconds": 2})
    _drain(src)
    waiter = Waiter(src, timeout=25)
    idle_started(src)
    with capture_logs() as logs:
        assert proxy.freeze() == 1
        assert waiter.result()
    lost = [e for e in logs if e["event"] == "imap.connection_lost"]
    assert lost and "timed out" in lost[0]["detail"]
    assert any(e["event"] == "imap.connected" for e in logs)  # a new session, through the proxy
    assert proxy.connections == 2
    dovecot_server.append([make_message(8)])
    assert _drain(src) == [make_message(8)]


def test_wait_past_its_deadline_issues_no_idle(
    dovecot_server: DovecotServer, make_source: SourceFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """wait(0) only checks for new mail: no IDLE round trip once the deadline has passed."""
    src = make_source()
    _drain(src)
    caplog.set_level(logging.DEBUG, logger="imapclient.imaplib")
    caplog.clear()
    src.wait(0, threading.Event())
    sent = [r.getMessage() for r in caplog.records if r.name == "imapclient.imaplib"]
    assert any("SEARCH" in line for line in sent)  # the new-mail check went out
    assert not any("IDLE" in line for line in sent)
    dovecot_server.append([make_message(9)])
    assert _drain(src) == [make_message(9)]
