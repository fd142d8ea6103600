"""TLS, certificate verification, authentication and error mapping against a real Dovecot."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from imi_mailwatch.clock import FakeClock
from imi_mailwatch.errors import MailSourceRejectedError, MailSourceUnavailableError
from imi_mailwatch.model import Disposition
from tests.imap.conftest import MemoryCursorStore, SourceFactory, imap_config
from tests.servers.dovecot import DovecotServer, dovecot_available, free_port, make_message

pytestmark = pytest.mark.dovecot

OAUTH = {"tenant_id": "00000000-0000-0000-0000-000000000000", "client_id": "test-client"}


@pytest.fixture(scope="module")
def tls_server() -> Iterator[DovecotServer]:
    """A Dovecot with a self-signed certificate: IMAPS plus STARTTLS on the plain port."""
    if not dovecot_available():
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    server = DovecotServer(tls=True)
    server.start()
    server.append([make_message(1)])
    try:
        yield server
    finally:
        server.cleanup()


def test_implicit_tls_with_ca_file(tls_server: DovecotServer, make_source: SourceFactory) -> None:
    """Implicit TLS works when the server's CA is configured in ca_file."""
    src = make_source(
        tls_server,
        security="tls",
        port=tls_server.imaps_port,
        ca_file=tls_server.cert_file,
        first_start="all",
    )
    assert [m.data for m in src.fetch()] == [make_message(1)]


def test_starttls_with_ca_file(tls_server: DovecotServer, make_source: SourceFactory) -> None:
    """STARTTLS on the plain port works when the server's CA is configured."""
    src = make_source(tls_server, security="starttls", ca_file=tls_server.cert_file)
    assert len(list(src.fetch())) == 1


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_self_signed_server_is_refused_without_ca(
    tls_server: DovecotServer, make_source: SourceFactory, security: str
) -> None:
    """Verification is on by default: a self-signed certificate is a permanent rejection."""
    port = tls_server.imaps_port if security == "tls" else tls_server.port
    src = make_source(tls_server, security=security, port=port)
    with pytest.raises(MailSourceRejectedError, match="certificate failed verification"):
        list(src.fetch())


def test_starttls_missing_is_refused(
    dovecot_server: DovecotServer, make_source: SourceFactory
) -> None:
    """security: starttls never falls back to plain text when the server lacks STARTTLS."""
    src = make_source(security="starttls")
    with pytest.raises(MailSourceRejectedError, match="STARTTLS"):
        list(src.fetch())


def test_xoauth2_login(dovecot_server: DovecotServer, make_source: SourceFactory) -> None:
    """XOAUTH2 sends the token from the token provider (Dovecot accepts the password)."""
    dovecot_server.append([make_message(1)])
    calls: list[int] = []

    def token() -> str:
        calls.append(1)
        return "testpass"

    src = make_source(auth="xoauth2", password=None, oauth=OAUTH, token_provider=token)
    assert len(list(src.fetch())) == 1
    assert calls == [1]


def test_xoauth2_without_provider_is_rejected(
    dovecot_server: DovecotServer, make_source: SourceFactory
) -> None:
    """auth: xoauth2 without a token provider is a clear permanent error."""
    src = make_source(auth="xoauth2", password=None, oauth=OAUTH)
    with pytest.raises(MailSourceRejectedError, match="token provider"):
        list(src.fetch())


def test_wrong_password_is_rejected_without_secrets(
    dovecot_server: DovecotServer, make_source: SourceFactory
) -> None:
    """A refused login is permanent, and the error text holds neither user nor password."""
    src = make_source(
        auth="xoauth2", password=None, oauth=OAUTH, token_provider=lambda: "wrong-token"
    )
    with pytest.raises(MailSourceRejectedError, match="authentication refused") as info:
        list(src.fetch())
    assert "wrong-token" not in str(info.value)
    assert dovecot_server.user not in str(info.value)


def test_missing_folder_is_rejected(
    dovecot_server: DovecotServer, cursors: MemoryCursorStore, clock: FakeClock
) -> None:
    """A watched folder that does not exist is a permanent error naming the folder."""
    from imi_mailwatch.adapters.imap import ImapMailSource

    src = ImapMailSource(
        "x",
        imap_config(dovecot_server),
        folder="Bestaat/Niet",
        processed_folder="P",
        quarantine_folder="Q",
        rejected_folder="R",
        cursors=cursors,
        clock=clock,
    )
    try:
        with pytest.raises(MailSourceRejectedError, match="Bestaat/Niet"):
            list(src.fetch())
    finally:
        src.close()


def test_nothing_listening_is_transient(
    dovecot_server: DovecotServer, make_source: SourceFactory
) -> None:
    """A refused connection is transient (MailSourceUnavailableError), quickly."""
    src = make_source(port=free_port())
    with pytest.raises(MailSourceUnavailableError, match="network error"):
        list(src.fetch())


def test_permission_error_on_folder_creation_is_rejected(
    dovecot_server: DovecotServer, make_source: SourceFactory
) -> None:
    """A target folder that cannot be created is a permanent error, and nothing is lost."""
    from imi_mailwatch.adapters.imap import ImapMailSource

    dovecot_server.append([make_message(1)])
    base = make_source()
    src = ImapMailSource(
        "y",
        base._cfg,
        folder="INBOX",
        processed_folder="bad\x01name",
        quarantine_folder="Q",
        rejected_folder="R",
        cursors=base._cursors,
        clock=base._now,
    )
    try:
        (msg,) = list(src.fetch())
        with pytest.raises(MailSourceRejectedError, match="cannot be created"):
            src.acknowledge(msg, Disposition.HANDLED)
        assert dovecot_server.folder_uids("INBOX") == [1]
    finally:
        src.close()
