"""Reminders and reports over SMTP (standard library smtplib).

Security (``notify.smtp.security``): ``tls`` (implicit TLS, port 465),
``starttls`` (port 587, the default) or ``none`` (an internal relay on port 25).
Certificates are always verified, against the system store or ``ca_file``.
Authentication: a password (``AUTH LOGIN/PLAIN``), OAuth2 (``AUTH XOAUTH2``,
Exchange Online's SMTP.SendAsApp), or none for a relay that trusts the host.
Credentials are refused over an unencrypted connection.

Errors are translated here (``ports.Notifier``)::

    4xx reply, connection refused/reset, timeout, TLS handshake cut  -> NotifierUnavailableError
    connection lost or timed out after the message was handed over
    (DATA sent, no reply: it may have arrived)                       -> NotifierUncertainError
    5xx reply, authentication failed, certificate not trusted,
    the server lacks STARTTLS or AUTH                                -> NotifierRejectedError

When the server accepts some recipients and refuses others, the mail has gone
out: the refusals are logged (as a count) and nothing is raised, because a
retry would deliver it twice to those who got it.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from typing import Any

import structlog

from imi_mailwatch.config import SmtpConfig
from imi_mailwatch.errors import (
    ConfigError,
    NotifierRejectedError,
    NotifierUnavailableError,
    NotifierUncertainError,
)
from imi_mailwatch.mailbuild import build_message
from imi_mailwatch.model import OutgoingMail
from imi_mailwatch.ports import Clock

log = structlog.get_logger(__name__)

SMTP_SCOPE = "https://outlook.office365.com/.default"
_DEFAULT_PORT = {"tls": 465, "starttls": 587, "none": 25}


def _by_code(code: int, what: str) -> NotifierUnavailableError | NotifierRejectedError:
    if 400 <= code < 500:
        return NotifierUnavailableError(f"SMTP server: {what} ({code}, temporary)")
    return NotifierRejectedError(f"SMTP server: {what} ({code})")


class _SMTP(smtplib.SMTP):
    """Remembers whether DATA was sent: a connection lost after it may hide a delivery."""

    data_sent = False

    def data(self, msg: Any) -> tuple[int, bytes]:
        self.data_sent = True
        return super().data(msg)


class _SMTPSSL(smtplib.SMTP_SSL):
    """``_SMTP`` over implicit TLS."""

    data_sent = False

    def data(self, msg: Any) -> tuple[int, bytes]:
        self.data_sent = True
        return super().data(msg)


class SmtpNotifier:
    """``ports.Notifier`` over SMTP; one connection per message (reminders are rare)."""

    def __init__(
        self,
        cfg: SmtpConfig,
        *,
        from_address: str,
        clock: Clock,
        from_name: str = "",
        token_provider: Callable[[], str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if cfg.security == "none" and (cfg.password is not None or cfg.oauth is not None):
            raise ConfigError(
                "notify.smtp: credentials are only sent over tls or starttls, not security none"
            )
        if cfg.password is not None and not cfg.username:
            raise ConfigError("notify.smtp: a password needs a username")
        self._cfg = cfg
        self._from_address = from_address
        self._from_name = from_name
        self._clock = clock
        self._port = cfg.port or _DEFAULT_PORT[cfg.security]
        self._context = ssl_context or ssl.create_default_context(cafile=cfg.ca_file)
        self._tokens = token_provider
        if self._tokens is None and cfg.oauth is not None:
            from imi_mailwatch.adapters.oauth import OAuthTokenProvider

            self._tokens = OAuthTokenProvider(
                cfg.oauth,
                SMTP_SCOPE,
                clock=clock,
                unavailable_error=NotifierUnavailableError,
                rejected_error=NotifierRejectedError,
            ).token

    def send(self, mail: OutgoingMail) -> None:
        """Send one message; raises NotifierUnavailableError or NotifierRejectedError."""
        recipients = list(dict.fromkeys((*mail.to, *mail.cc)))
        if not recipients:
            raise NotifierRejectedError("no recipients")
        msg = build_message(
            mail,
            from_address=self._from_address,
            from_name=self._from_name,
            date=self._clock.now().timestamp(),
        )
        smtp: _SMTP | _SMTPSSL | None = None
        try:
            with self._connect() as smtp:
                self._authenticate(smtp)
                refused = smtp.send_message(msg, self._from_address, recipients)
        except (smtplib.SMTPException, OSError) as exc:
            # smtplib's errors are OSErrors too: only a lost connection or a time-out counts
            lost = isinstance(exc, smtplib.SMTPServerDisconnected) or not isinstance(
                exc, smtplib.SMTPException
            )
            if lost and smtp is not None and smtp.data_sent:
                raise NotifierUncertainError(
                    "SMTP server: connection lost after the message was sent, before it "
                    "was confirmed"
                ) from None
            raise self._translate(exc) from None
        if refused:
            log.warning(
                "smtp.recipients_refused",
                refused=len(refused),
                accepted=len(recipients) - len(refused),
            )
        log.debug("smtp.sent", recipients=len(recipients) - len(refused))

    def _connect(self) -> _SMTP | _SMTPSSL:
        cfg = self._cfg
        if cfg.security == "tls":
            return _SMTPSSL(
                cfg.host, self._port, timeout=cfg.timeout_seconds, context=self._context
            )
        smtp = _SMTP(cfg.host, self._port, timeout=cfg.timeout_seconds)
        try:
            if cfg.security == "starttls":
                smtp.ehlo()
                smtp.starttls(context=self._context)
                smtp.ehlo()
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _authenticate(self, smtp: smtplib.SMTP) -> None:
        cfg = self._cfg
        if self._tokens is not None:
            user = cfg.username or self._from_address
            token = self._tokens()

            def xoauth2(challenge: bytes | None = None) -> str:
                # a challenge after the initial response carries the error: answer empty
                return "" if challenge else f"user={user}\x01auth=Bearer {token}\x01\x01"

            smtp.ehlo_or_helo_if_needed()
            smtp.auth("XOAUTH2", xoauth2)
        elif cfg.password is not None and cfg.username:
            smtp.login(cfg.username, cfg.password.reveal())

    def _translate(  # noqa: PLR0911 - one flat table of exception -> error reads best
        self, exc: smtplib.SMTPException | OSError
    ) -> NotifierUnavailableError | NotifierRejectedError:
        """The project's error for an smtplib or socket error (see the module docstring)."""
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            codes = [code for code, _ in exc.recipients.values()]
            temporary = all(400 <= c < 500 for c in codes)
            return _by_code(450 if temporary else 550, "every recipient refused")
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return NotifierRejectedError(f"SMTP server: authentication failed ({exc.smtp_code})")
        if isinstance(exc, smtplib.SMTPSenderRefused):
            return _by_code(exc.smtp_code, "sender refused")
        if isinstance(exc, smtplib.SMTPDataError):
            return _by_code(exc.smtp_code, "message refused")
        if isinstance(exc, smtplib.SMTPConnectError):
            return NotifierUnavailableError(f"SMTP server: connection refused ({exc.smtp_code})")
        if isinstance(exc, smtplib.SMTPResponseException):
            return _by_code(exc.smtp_code, "command refused")
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return NotifierRejectedError(f"SMTP server does not support it: {exc}")
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            return NotifierUnavailableError("SMTP server closed the connection")
        if isinstance(exc, ssl.SSLCertVerificationError):
            return NotifierRejectedError(
                f"SMTP server certificate not trusted: {exc.verify_message}"
            )
        if isinstance(exc, ssl.SSLError):
            return NotifierUnavailableError(f"SMTP TLS failed: {exc.reason}")
        if isinstance(exc, smtplib.SMTPException):
            return NotifierUnavailableError(f"SMTP failed: {type(exc).__name__}")
        return NotifierUnavailableError(
            f"SMTP server {self._cfg.host}:{self._port} unreachable: "
            f"{exc.strerror or type(exc).__name__}"
        )
