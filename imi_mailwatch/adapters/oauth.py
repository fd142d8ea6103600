"""App-only OAuth2 tokens from Microsoft Entra ID (client credentials flow, msal).

One ``OAuthTokenProvider`` per scope: Graph (``https://graph.microsoft.com/.default``),
IMAP/SMTP on Exchange Online (``https://outlook.office365.com/.default``) or EWS.
msal keeps the token in its in-memory cache and asks for a new one about five
minutes before it expires; ``invalidate()`` drops it after a server said 401.

The credential is a client secret or, preferred, a certificate (a PEM file with
the private key and the certificate). From 30 days before ``secret_expires_on``
every fresh token logs ``oauth.secret_expiring`` as a warning.

Errors: msal answers with a dict holding ``error``. ``invalid_client``,
``unauthorized_client``, ``invalid_scope``, ``invalid_request`` and
``invalid_grant`` will not cure themselves: they raise the *rejected* error
class; everything else (network, 5xx, ``temporarily_unavailable``) raises the
*unavailable* class. By default these are the mail-source errors; a notifier
passes its own. Neither the token nor the secret ever reaches a log or an
exception text.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import msal
import requests
import structlog

from imi_mailwatch.config import OAuthConfig
from imi_mailwatch.errors import (
    MailSourceRejectedError,
    MailSourceUnavailableError,
    PermanentError,
    TransientError,
)
from imi_mailwatch.ports import Clock

log = structlog.get_logger(__name__)

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
OUTLOOK_SCOPE = "https://outlook.office365.com/.default"

SECRET_WARNING_DAYS = 30

_PERMANENT_CODES = frozenset(
    {"invalid_client", "unauthorized_client", "invalid_scope", "invalid_request", "invalid_grant"}
)


TOKEN_TIMEOUT_SECONDS = 30.0


class _Session(requests.Session):
    """requests with a timeout and our CA on every call.

    msal sets ``Session.verify``, but requests lets ``REQUESTS_CA_BUNDLE`` win over
    a session's setting; a per-call ``verify`` always wins.
    """

    def __init__(self, ca_file: str | None) -> None:
        super().__init__()
        self._ca_file = ca_file
        adapter = requests.adapters.HTTPAdapter(max_retries=1)
        self.mount("https://", adapter)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("timeout", TOKEN_TIMEOUT_SECONDS)
        if self._ca_file:
            kwargs["verify"] = self._ca_file
        return super().request(method, url, *args, **kwargs)


class OAuthTokenProvider:
    """Hands out a valid bearer token for one scope; thread-safe."""

    def __init__(
        self,
        cfg: OAuthConfig,
        scope: str,
        *,
        clock: Clock,
        http_client: Any | None = None,
        unavailable_error: type[TransientError] = MailSourceUnavailableError,
        rejected_error: type[PermanentError] = MailSourceRejectedError,
    ) -> None:
        self._cfg = cfg
        self._scope = cfg.scope or scope
        self._clock = clock
        self._http_client = http_client
        self._unavailable = unavailable_error
        self._rejected = rejected_error
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = threading.Lock()

    @property
    def scope(self) -> str:
        return self._scope

    def token(self) -> str:
        """A bearer token, from msal's cache or freshly acquired."""
        with self._lock:
            app = self._application()
            try:
                result = app.acquire_token_for_client(scopes=[self._scope])
            except requests.RequestException as exc:
                log.error("oauth.token_failed", scope=self._scope, error=type(exc).__name__)
                raise self._unavailable(
                    f"token endpoint unreachable: {type(exc).__name__}"
                ) from None
            except ValueError as exc:  # msal raises this on a response that is no JSON
                log.error("oauth.token_failed", scope=self._scope, error=type(exc).__name__)
                raise self._unavailable("token endpoint gave an unreadable answer") from None
        if not isinstance(result, dict) or "access_token" not in result:
            self._fail(result if isinstance(result, dict) else {})
        if result.get("token_source") == "identity_provider":
            log.info("oauth.token_acquired", scope=self._scope, expires_in=result.get("expires_in"))
            self._warn_secret_expiry()
        return str(result["access_token"])

    def __call__(self) -> str:
        return self.token()

    def invalidate(self) -> None:
        """Forget the cached token (the resource server rejected it)."""
        with self._lock:
            if self._app is not None:
                self._app.remove_tokens_for_client()
        log.info("oauth.token_invalidated", scope=self._scope)

    def _fail(self, result: dict[str, Any]) -> None:
        code = str(result.get("error") or "no_token")
        # AADSTS codes are safe to log: they name the problem, not the tenant's data.
        codes = result.get("error_codes") or []
        log.error("oauth.token_failed", scope=self._scope, error=code, error_codes=codes)
        if code in _PERMANENT_CODES:
            raise self._rejected(f"token request refused: {code}")
        raise self._unavailable(f"token request failed: {code}")

    def _application(self) -> msal.ConfidentialClientApplication:
        if self._app is not None:
            return self._app
        cfg = self._cfg
        authority = f"{cfg.authority.rstrip('/')}/{cfg.tenant_id}"
        kwargs: dict[str, Any] = {"authority": authority}
        kwargs["http_client"] = self._http_client or _Session(cfg.ca_file)
        if not cfg.authority.startswith("https://login.microsoftonline.com"):
            # A sovereign cloud, an inspecting proxy or a test authority: msal cannot
            # ask login.microsoftonline.com whether it knows this host.
            kwargs["validate_authority"] = False
            kwargs["instance_discovery"] = False
        try:
            self._app = msal.ConfidentialClientApplication(
                cfg.client_id, client_credential=self._credential(), **kwargs
            )
        except requests.RequestException as exc:
            log.error("oauth.token_failed", scope=self._scope, error=type(exc).__name__)
            raise self._unavailable(f"authority unreachable: {type(exc).__name__}") from None
        except ValueError as exc:
            # msal: unknown tenant or an authority URL it cannot use.
            log.error("oauth.token_failed", scope=self._scope, error="authority_invalid")
            raise self._rejected(
                "the authority or tenant was not accepted (check tenant_id and authority)"
            ) from exc
        return self._app

    def _credential(self) -> str | dict[str, str]:
        cfg = self._cfg
        if cfg.certificate_file:
            try:
                pem = Path(cfg.certificate_file).read_text(encoding="utf-8")
            except OSError as exc:
                raise self._rejected(f"cannot read the certificate file: {exc.strerror}") from None
            cred = {"private_key": pem}
            cert_start = pem.find("-----BEGIN CERTIFICATE-----")
            if cert_start >= 0:
                cred["public_certificate"] = pem[cert_start:]
            if cfg.certificate_thumbprint:
                cred["thumbprint"] = cfg.certificate_thumbprint.replace(":", "")
            elif cert_start < 0:
                raise self._rejected(
                    "certificate_file holds no certificate and no certificate_thumbprint is set"
                )
            return cred
        if cfg.client_secret is not None:
            return cfg.client_secret.reveal()
        raise self._rejected("oauth needs client_secret or certificate_file")

    def _warn_secret_expiry(self) -> None:
        expires = self._cfg.secret_expires_on
        if expires is None:
            return
        today = self._clock.now().date()
        if today >= expires - timedelta(days=SECRET_WARNING_DAYS):
            log.warning(
                "oauth.secret_expiring",
                client_id=self._cfg.client_id,
                expires_on=expires.isoformat(),
                days_left=(expires - today).days,
            )
