"""A real SMTP server on loopback (aiosmtpd) for the notifier tests.

It speaks STARTTLS or implicit TLS with a self-signed certificate, checks a
password or an XOAUTH2 token, and can answer a chosen reply code to RCPT or DATA,
or take a message and drop the connection before confirming it (``drop_after_data``).
"""

from __future__ import annotations

import base64
import socket
import ssl
import tempfile
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.servers.graph_server import make_self_signed

USER = "imi-notify"
PASSWORD = "synthetic-smtp-secret"
TOKEN = "synthetic-oauth-token"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Handler:
    received: list[Received] = field(default_factory=list)
    rcpt_reply: str | None = None  # e.g. "550 5.1.1 no such user"
    data_reply: str | None = None  # e.g. "451 4.3.0 try again later"
    # accept the message (it counts as received), then drop the connection before the
    # 250 reply: the client cannot know that the message arrived
    drop_after_data: bool = False

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        raw = envelope.original_content or b""
        msg = message_from_bytes(raw, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), msg))
        if self.drop_after_data and server.transport is not None:
            server.transport.abort()
        return "250 queued"

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        blob = args[1] if len(args) > 1 else ""
        text = base64.b64decode(blob).decode()
        ok = text == f"user={USER}\x01auth=Bearer {TOKEN}\x01\x01"
        return AuthResult(success=ok, handled=False)


def _authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    if isinstance(data, LoginPassword):
        ok = data.login.decode() == USER and data.password.decode() == PASSWORD
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535
    return AuthResult(success=False, handled=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpTestServer:
    """Start with ``start(security)``; ``ca_file`` is the certificate to trust."""

    def __init__(self) -> None:
        self.handler = Handler()
        self.directory = tempfile.mkdtemp(prefix="imi-smtp-")
        self.ca_file, key = make_self_signed(self.directory)
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(self.ca_file, key)
        self.port = 0
        self._controller: Controller | None = None

    def start(self, security: str) -> SmtpTestServer:
        self.port = free_port()
        kwargs: dict[str, Any] = {
            "authenticator": _authenticator,
            "auth_require_tls": True,
        }
        if security == "starttls":
            kwargs["tls_context"] = self.context
            kwargs["require_starttls"] = True
        elif security == "tls":
            kwargs["ssl_context"] = self.context
            kwargs["auth_require_tls"] = False  # aiosmtpd sees only STARTTLS as TLS
        else:
            kwargs["auth_require_tls"] = False
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
