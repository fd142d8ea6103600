"""XOAUTH2 end to end: msal client credentials from a loopback Entra endpoint, into Dovecot.

The Entra test server (tests/servers/graph_server.py) issues ``token-0001``
first; the Dovecot here has that as its password, which its XOAUTH2 accepts as
the bearer token. The mail source is built by the same factory as the daemon's.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from structlog.testing import capture_logs

from imi_mailwatch.adapters import make_mail_source
from imi_mailwatch.adapters.imap import ImapMailSource
from imi_mailwatch.adapters.oauth import OUTLOOK_SCOPE
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.config import config_from_data
from imi_mailwatch.errors import MailSourceRejectedError
from imi_mailwatch.model import Disposition
from tests.imap.conftest import MemoryCursorStore
from tests.servers.dovecot import DovecotServer, dovecot_available, make_message
from tests.servers.graph_server import GraphServer

pytestmark = pytest.mark.dovecot

FIRST_TOKEN = "token-0001"
NOW = datetime(2027, 6, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def entra() -> Iterator[GraphServer]:
    with GraphServer(mailbox="imi@example.test") as server:
        yield server


@pytest.fixture
def oauth_dovecot() -> Iterator[DovecotServer]:
    """A Dovecot whose only accepted bearer token is the first one the Entra server issues."""
    if not dovecot_available():
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    server = DovecotServer(password=FIRST_TOKEN)
    try:
        yield server.start()
    finally:
        server.cleanup()


def xoauth2_source(
    entra: GraphServer,
    server: DovecotServer,
    clock: FakeClock,
    secret: str | None = None,
    **oauth: Any,
) -> ImapMailSource:
    data = {
        "state": {"path": "unused.sqlite3"},
        "mailboxes": [
            {
                "name": "exchange",
                "kind": "imap",
                "imap": {
                    "host": server.host,
                    "port": server.port,
                    "security": "none",
                    "username": server.user,
                    "auth": "xoauth2",
                    "first_start": "all",
                    "timeout_seconds": 5,
                    "oauth": {
                        "tenant_id": entra.tenant,
                        "client_id": entra.client_id,
                        "client_secret": {"env": "APP_SECRET"},
                        "authority": entra.authority_base,
                        "ca_file": entra.ca_file,
                        **oauth,
                    },
                },
            }
        ],
    }
    cfg = config_from_data(
        data, {"APP_SECRET": secret or entra.client_secret}, base_dir=tempfile.gettempdir()
    )
    source = make_mail_source(cfg, cfg.mailboxes[0], cursors=MemoryCursorStore(), clock=clock)
    assert isinstance(source, ImapMailSource)
    return source


def test_xoauth2_token_comes_from_msal_and_is_reused(
    entra: GraphServer, oauth_dovecot: DovecotServer
) -> None:
    """One client-credentials token for the Outlook scope serves several sessions."""
    oauth_dovecot.append([make_message(1), make_message(2)])
    src = xoauth2_source(entra, oauth_dovecot, FakeClock(NOW))
    try:
        first = next(iter(src.fetch()))
        src.acknowledge(first, Disposition.HANDLED)
        src.close()
        # a new session (as after a lost connection or the 40-minute renewal) reuses it
        assert [m.data for m in src.fetch()] == [make_message(2)]
    finally:
        src.close()
    assert entra.tokens_issued == 1
    assert entra.token_requests[0]["scope"] == OUTLOOK_SCOPE
    assert entra.token_requests[0]["grant_type"] == "client_credentials"


def test_xoauth2_session_is_renewed_before_the_token_would_end_it(
    entra: GraphServer, oauth_dovecot: DovecotServer
) -> None:
    """After 40 minutes the source logs out and logs in again with a token from the provider."""
    oauth_dovecot.append([make_message(1)])
    src = xoauth2_source(entra, oauth_dovecot, FakeClock(NOW))
    try:
        assert len(list(src.fetch())) == 1
        src._connected_at -= 41 * 60  # as if the session were 41 minutes old
        with capture_logs() as logs:
            assert len(list(src.fetch())) == 1  # not acknowledged: comes again
    finally:
        src.close()
    events = [e["event"] for e in logs]
    assert "imap.session_renewed" in events
    assert events.index("imap.session_renewed") < events.index("imap.connected")


def test_secret_expiry_is_warned_about_well_before(
    entra: GraphServer, oauth_dovecot: DovecotServer
) -> None:
    """secret_expires_on within 30 days: a warning with the days left; no secret, no token."""
    src = xoauth2_source(
        entra, oauth_dovecot, FakeClock(NOW), secret_expires_on=date(2027, 7, 10).isoformat()
    )
    try:
        with capture_logs() as logs:
            list(src.fetch())
    finally:
        src.close()
    warned = [e for e in logs if e["event"] == "oauth.secret_expiring"]
    assert warned and warned[0]["log_level"] == "warning"
    assert warned[0]["days_left"] == 20
    assert FIRST_TOKEN not in repr(logs)
    assert entra.client_secret not in repr(logs)


def test_a_refused_client_secret_is_permanent(
    entra: GraphServer, oauth_dovecot: DovecotServer
) -> None:
    """A wrong client secret is a permanent error before any IMAP login is tried."""
    src = xoauth2_source(entra, oauth_dovecot, FakeClock(NOW), secret="an-expired-secret")
    try:
        with pytest.raises(MailSourceRejectedError, match="invalid_client"):
            list(src.fetch())
    finally:
        src.close()


def test_a_refused_cached_token_is_replaced_once(entra: GraphServer) -> None:
    """The server refuses a token msal still holds: forget it, log in with a fresh one."""
    if not dovecot_available():
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    server = DovecotServer(password="token-0002").start()  # only the second token is good
    try:
        server.append([make_message(1)])
        src = xoauth2_source(entra, server, FakeClock(NOW))
        try:
            with capture_logs() as logs:
                assert [m.data for m in src.fetch()] == [make_message(1)]
        finally:
            src.close()
    finally:
        server.cleanup()
    assert entra.tokens_issued == 2
    assert [e["event"] for e in logs].count("imap.token_refused") == 1
