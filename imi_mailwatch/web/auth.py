"""Login (OpenID Connect), roles and CSRF protection of the web desk.

- Login: the authorization code flow with Authlib against the configured issuer
  (Microsoft Entra ID in production). The ID token's e-mail and groups decide the
  role: ``beheerder`` (every action) or ``lezer`` (read only); anyone else is refused.
- The session is Starlette's signed cookie: ``Secure``, ``HttpOnly``, ``SameSite=Lax``
  (Lax, so that the identity provider's redirect back carries it), for
  ``web.session_minutes``. It holds the identity and the CSRF token, nothing else.
- CSRF: every form carries the session's token; every POST without the right one is
  refused (403) before anything happens.
- ``auth: none`` (the demo, loopback only): everyone is a beheerder named ``lokaal``.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from starlette.requests import Request

from imi_mailwatch.config_web import RoleMembers, WebConfig

SESSION_USER = "user"
SESSION_CSRF = "csrf"
CSRF_FIELD = "csrf_token"
LOCAL_ADDRESS = "lokaal@localhost"  # the identity of auth: none (the demo)


class WebRole(StrEnum):
    BEHEERDER = "beheerder"
    LEZER = "lezer"


@dataclass(frozen=True, slots=True)
class WebUser:
    """Who is logged in: a lower-case address, a display name and the role."""

    address: str
    name: str | None
    role: WebRole

    @property
    def may_act(self) -> bool:
        return self.role is WebRole.BEHEERDER

    def as_session(self) -> dict[str, str]:
        return {"address": self.address, "name": self.name or "", "role": self.role.value}


def _members(m: RoleMembers, address: str, groups: frozenset[str]) -> bool:
    return address in {a.lower() for a in m.addresses} or bool(groups & set(m.groups))


def role_for(web: WebConfig, address: str, groups: Iterable[str]) -> WebRole | None:
    """The role of this address and these groups; None when neither role is theirs."""
    address = address.strip().lower()
    group_set = frozenset(str(g) for g in groups)
    if _members(web.beheerders, address, group_set):
        return WebRole.BEHEERDER
    if _members(web.lezers, address, group_set):
        return WebRole.LEZER
    return None


def user_from_claims(web: WebConfig, claims: Mapping[str, Any]) -> WebUser | None:
    """The user the ID token's claims describe, or None when they have no role."""
    oidc = web.oidc
    email_claim = oidc.email_claim if oidc else "email"
    groups_claim = oidc.groups_claim if oidc else "groups"
    address = str(claims.get(email_claim) or "").strip().lower()
    if "@" not in address:
        return None
    raw_groups = claims.get(groups_claim) or ()
    groups = [raw_groups] if isinstance(raw_groups, str) else list(raw_groups)
    role = role_for(web, address, groups)
    if role is None:
        return None
    name = claims.get("name")
    return WebUser(address=address, name=str(name) if name else None, role=role)


def current_user(request: Request, web: WebConfig) -> WebUser | None:
    """The logged-in user of this request (everyone, as beheerder, with auth: none)."""
    if web.auth == "none":
        return WebUser(address=LOCAL_ADDRESS, name="lokaal", role=WebRole.BEHEERDER)
    data = request.session.get(SESSION_USER)
    if not isinstance(data, dict):
        return None
    try:
        return WebUser(
            address=str(data["address"]), name=data.get("name") or None, role=WebRole(data["role"])
        )
    except (KeyError, ValueError):
        return None


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use)."""
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


def csrf_ok(request: Request, submitted: object) -> bool:
    """Whether a form's token is the session's (compared in constant time)."""
    expected = request.session.get(SESSION_CSRF)
    if not isinstance(expected, str) or not expected or not isinstance(submitted, str):
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


def make_oauth(web: WebConfig) -> Any:
    """The Authlib client registered as ``oidc`` (None with auth: none)."""
    if web.auth == "none" or web.oidc is None:
        return None
    from authlib.integrations.starlette_client import OAuth

    oauth = OAuth()
    oauth.register(
        name="oidc",
        server_metadata_url=web.oidc.issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_id=web.oidc.client_id,
        client_secret=web.oidc.client_secret.reveal(),
        client_kwargs={"scope": " ".join(web.oidc.scopes)},
    )
    return oauth
