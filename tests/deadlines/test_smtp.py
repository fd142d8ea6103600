"""SmtpNotifier against a real aiosmtpd server on loopback: TLS, auth, error mapping."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from imi_mailwatch.adapters.smtp import SmtpNotifier
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.config import SmtpConfig
from imi_mailwatch.config_types import Secret
from imi_mailwatch.errors import ConfigError, NotifierRejectedError, NotifierUnavailableError
from imi_mailwatch.model import LOOP_HEADER, Attachment, OutgoingMail
from tests.deadlines.smtp_server import PASSWORD, TOKEN, USER, SmtpTestServer, free_port

MAIL = OutgoingMail(
    message_id="<imi.184523.dm5.20261120@brabant.example>",
    to=("vth-milieu@example.org",),
    cc=("a.voorbeeld@example.org",),
    subject="Herinnering: IMI-verzoek 184523",
    text="Beste collega's,\n",
    html="<p>Beste collega's,</p>",
    attachments=(Attachment("antwoorddatum.ics", "text/calendar", b"BEGIN:VCALENDAR\r\n"),),
)


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[SmtpTestServer]:
    srv = SmtpTestServer().start(getattr(request, "param", "starttls"))
    yield srv
    srv.stop()


def _cfg(server: SmtpTestServer, security: str = "starttls", **extra: Any) -> SmtpConfig:
    data: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": server.port,
        "security": security,
        "ca_file": server.ca_file,
        "username": USER,
        "password": {"env": "SMTP_PASSWORD"},
        **extra,
    }
    return SmtpConfig.model_validate(data, context={"environ": {"SMTP_PASSWORD": PASSWORD}})


def _notifier(cfg: SmtpConfig, **kw: Any) -> SmtpNotifier:
    return SmtpNotifier(
        cfg, from_address="imi@brabant.example", from_name="IMI", clock=FakeClock(), **kw
    )


def test_starttls_with_password_delivers_the_whole_message(server: SmtpTestServer) -> None:
    """STARTTLS, verified certificate, AUTH: text, HTML, .ics and our headers arrive."""
    _notifier(_cfg(server)).send(MAIL)
    (got,) = server.handler.received
    assert got.mail_from == "imi@brabant.example"
    assert got.rcpt_tos == ["vth-milieu@example.org", "a.voorbeeld@example.org"]
    msg = got.message
    assert msg["Message-ID"] == MAIL.message_id
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg[LOOP_HEADER] == "1"
    assert "Bcc" not in msg
    types = [p.get_content_type() for p in msg.walk()]
    assert {"text/plain", "text/html", "text/calendar"} <= set(types)


@pytest.mark.parametrize("server", ["tls"], indirect=True)
def test_implicit_tls(server: SmtpTestServer) -> None:
    """Implicit TLS (port 465 style) with the certificate verified."""
    _notifier(_cfg(server, security="tls")).send(MAIL)
    assert len(server.handler.received) == 1


@pytest.mark.parametrize("server", ["none"], indirect=True)
def test_plain_relay_without_credentials(server: SmtpTestServer) -> None:
    """An internal relay: no TLS, no authentication."""
    cfg = SmtpConfig(host="127.0.0.1", port=server.port, security="none")
    _notifier(cfg).send(MAIL)
    assert len(server.handler.received) == 1


def test_credentials_are_refused_without_tls() -> None:
    """A password is never sent without TLS: the schema refuses it, and so does the adapter."""
    data = {"host": "127.0.0.1", "security": "none", "username": "u", "password": {"env": "P"}}
    with pytest.raises(ValidationError, match="only sent over tls or starttls"):
        SmtpConfig.model_validate(data, context={"environ": {"P": "x"}})
    password = Secret.model_validate({"env": "P"}, context={"environ": {"P": "x"}})
    with pytest.raises(ConfigError):
        _notifier(SmtpConfig.model_construct(**{**data, "password": password}))


def test_xoauth2(server: SmtpTestServer) -> None:
    """OAuth2 (XOAUTH2) with a token from the provider."""
    cfg = SmtpConfig(
        host="127.0.0.1",
        port=server.port,
        security="starttls",
        ca_file=server.ca_file,
        username=USER,
    )
    _notifier(cfg, token_provider=lambda: TOKEN).send(MAIL)
    assert len(server.handler.received) == 1


def test_wrong_token_is_rejected(server: SmtpTestServer) -> None:
    """A refused token is permanent: a person must look at the credentials."""
    cfg = SmtpConfig(
        host="127.0.0.1",
        port=server.port,
        security="starttls",
        ca_file=server.ca_file,
        username=USER,
    )
    with pytest.raises(NotifierRejectedError):
        _notifier(cfg, token_provider=lambda: "wrong").send(MAIL)


def test_wrong_password_is_rejected(server: SmtpTestServer) -> None:
    """Authentication failure maps to NotifierRejectedError, without the password in it."""
    cfg = SmtpConfig.model_validate(
        {
            "host": "127.0.0.1",
            "port": server.port,
            "ca_file": server.ca_file,
            "username": USER,
            "password": {"env": "P"},
        },
        context={"environ": {"P": "not-the-password"}},
    )
    with pytest.raises(NotifierRejectedError) as info:
        _notifier(cfg).send(MAIL)
    assert "not-the-password" not in str(info.value)


def test_untrusted_certificate_is_rejected(server: SmtpTestServer) -> None:
    """Verification is on by default: a self-signed certificate not configured is refused."""
    cfg = _cfg(server, ca_file=None)
    with pytest.raises(NotifierRejectedError, match="certificate"):
        _notifier(cfg).send(MAIL)
    assert server.handler.received == []


def test_temporary_reply_is_transient(server: SmtpTestServer) -> None:
    """A 4xx reply to DATA is temporary: retried later."""
    server.handler.data_reply = "451 4.3.0 try again later"
    with pytest.raises(NotifierUnavailableError):
        _notifier(_cfg(server)).send(MAIL)


def test_permanent_reply_is_rejected(server: SmtpTestServer) -> None:
    """A 5xx reply to DATA is permanent."""
    server.handler.data_reply = "554 5.6.0 message refused"
    with pytest.raises(NotifierRejectedError):
        _notifier(_cfg(server)).send(MAIL)


def test_all_recipients_refused_is_rejected(server: SmtpTestServer) -> None:
    """Every recipient refused with 5xx: permanent."""
    server.handler.rcpt_reply = "550 5.1.1 no such user"
    with pytest.raises(NotifierRejectedError):
        _notifier(_cfg(server)).send(MAIL)


def test_recipients_refused_temporarily_is_transient(server: SmtpTestServer) -> None:
    """Every recipient refused with 4xx (greylisting): temporary."""
    server.handler.rcpt_reply = "450 4.2.0 greylisted"
    with pytest.raises(NotifierUnavailableError):
        _notifier(_cfg(server)).send(MAIL)


def test_no_server_is_transient() -> None:
    """Nobody listening: temporary, retried."""
    cfg = SmtpConfig(host="127.0.0.1", port=free_port(), security="none", timeout_seconds=5)
    with pytest.raises(NotifierUnavailableError, match="unreachable"):
        _notifier(cfg).send(MAIL)


@pytest.mark.parametrize("server", ["none"], indirect=True)
def test_starttls_required_but_missing_is_rejected(server: SmtpTestServer) -> None:
    """A server without STARTTLS when we require it: configuration problem, permanent."""
    with pytest.raises(NotifierRejectedError):
        _notifier(_cfg(server)).send(MAIL)
