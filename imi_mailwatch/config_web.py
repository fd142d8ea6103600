"""The ``web`` section: the web desk (``imi-mailwatch web``), its login and its roles.

Login is OpenID Connect (Microsoft Entra ID in production). Who logs in gets the role
``beheerder`` (every action) or ``lezer`` (read only) from the groups claim or the
e-mail address, as configured here; anyone else is refused. ``auth: none`` (everyone
is beheerder, for the demo) is only accepted on a loopback address: see
:func:`startup_problems`, which ``imi-mailwatch web`` checks before it listens.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from imi_mailwatch.config_types import EmailAddress, Secret, Transport, is_loopback
from imi_mailwatch.config_types import Section as _Section


def _host_port(value: str) -> str:
    host, _, port = value.rpartition(":")
    if not (host.strip("[]") and port.isdigit() and int(port) < 65536):
        raise ValueError("give HOST:PORT, for example 127.0.0.1:8080")
    return value


class OidcConfig(Transport):
    """The OpenID Connect client: the app registration at the identity provider."""

    issuer: str  # https://login.microsoftonline.com/TENANT/v2.0
    client_id: str
    client_secret: Secret
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    email_claim: str = "email"  # Entra ID: "email", or "preferred_username" (the UPN)
    groups_claim: str = "groups"  # Entra ID: the group object ids ("groupMembershipClaims")

    def plaintext(self) -> list[str]:
        parts = urlsplit(self.issuer)
        if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
            return [f"issuer {self.issuer} sends tokens in clear to {parts.hostname}"]
        return []


class RoleMembers(_Section):
    """Who has a role: members of any of these groups, or these addresses."""

    groups: tuple[str, ...] = ()
    addresses: tuple[EmailAddress, ...] = ()


class WebConfig(_Section):
    listen: str = "127.0.0.1:8080"
    # the address people use (behind the reverse proxy); the login's redirect URI is
    # <public_url>/auth/callback. Default: http://<listen>
    public_url: str | None = None
    auth: Literal["oidc", "none"] = "oidc"
    oidc: OidcConfig | None = None
    session_secret: Secret | None = None  # signs the session cookie; default: new per start
    session_minutes: int = Field(default=480, ge=5, le=24 * 60)
    beheerders: RoleMembers = RoleMembers()
    lezers: RoleMembers = RoleMembers()
    # the reverse proxies whose X-Forwarded-For/-Proto headers are believed
    trusted_proxies: tuple[str, ...] = ("127.0.0.1",)

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        return _host_port(value)

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def startup_problems(web: WebConfig) -> list[str]:
    """Why the web desk must not start with this configuration (empty: it may)."""
    problems: list[str] = []
    if web.auth == "none":
        if not is_loopback(web.host):
            problems.append(
                f"web.auth: none is only allowed on a loopback address, not on {web.listen}; "
                "configure web.oidc (login) to listen elsewhere"
            )
        return problems
    if web.oidc is None:
        problems.append(
            "web.oidc is not configured: the web desk needs a login (OpenID Connect); "
            "for a local demo only, set web.auth: none and listen on 127.0.0.1"
        )
    if not (web.beheerders.groups or web.beheerders.addresses or web.lezers.groups
            or web.lezers.addresses):  # fmt: skip
        problems.append(
            "web.beheerders and web.lezers are empty: nobody could log in; "
            "name groups or addresses for the roles"
        )
    if web.public_url is None and not is_loopback(web.host):
        problems.append(
            "web.public_url is not set: give the https address people use, "
            "so that the login can return there"
        )
    elif web.public_url and urlsplit(web.public_url).scheme != "https":
        host = urlsplit(web.public_url).hostname or ""
        if not is_loopback(host):
            problems.append(f"web.public_url {web.public_url} must be https")
    return problems
