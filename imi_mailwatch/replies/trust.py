"""Whether a reply comes from who its From says: the organisation's own mail. Pure.

A reply is trusted only from one From address at one of the organisation's own
domains (exactly: a subdomain or a look-alike is another domain), and only when
one of the configured trust modes vouches for it (docs/alerts.md, "Replies from the
organisation's own mail"):

- ``dmarc``: the trusted ``Authentication-Results`` stamp, read as for alerts
  (:func:`imi_mailwatch.alerts.auth.trusted_results`, the RFC 8601 grammar on the
  raw header), says ``dmarc=pass`` with ``header.from`` equal to the From domain.
  An aligned DKIM pass without a DMARC pass is not enough here: the organisation
  publishes DMARC for its own domains.
- ``exchange_internal``: Exchange marks mail that it received from an authenticated
  sender inside its own organisation ``X-MS-Exchange-Organization-AuthAs: Internal``
  and names the server that authenticated it in
  ``X-MS-Exchange-Organization-AuthSource``; its header firewall removes both from
  mail arriving from outside. Trusted when every ``AuthAs`` field says ``Internal``
  and the topmost ``AuthSource`` is one of the configured servers (or a host below
  a configured domain). Both are read from the raw header, never after decoding.
  This holds only where the daemon reads the mailbox from Exchange itself (Graph,
  EWS, or IMAP to Exchange with no other server in between).

Reasons are short English texts with domains, never people's addresses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from imi_mailwatch.alerts.auth import check_sender, domain_in, trusted_results
from imi_mailwatch.alerts.mime import MailMessage
from imi_mailwatch.alerts.text import fold

__all__ = ["ReplyTrust", "TrustMode", "TrustVerdict", "check_reply_sender"]

AUTH_AS = "x-ms-exchange-organization-authas"
AUTH_SOURCE = "x-ms-exchange-organization-authsource"
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?")


class TrustMode(StrEnum):
    DMARC = "dmarc"
    EXCHANGE_INTERNAL = "exchange_internal"


@dataclass(frozen=True, slots=True)
class ReplyTrust:
    """The trust settings for replies.

    ``authserv_id`` None means Exchange Online's stamp (it writes no authserv-id),
    as ``stamped_by: exchange_online`` does for alerts.
    """

    own_domains: tuple[str, ...]
    modes: tuple[TrustMode, ...] = (TrustMode.DMARC,)
    authserv_id: str | None = "mx.brabant.nl"
    exchange_auth_sources: tuple[str, ...] = ()  # servers, or domains of servers


@dataclass(frozen=True, slots=True)
class TrustVerdict:
    """``sender`` is the one From address (lower case) when there is exactly one."""

    trusted: bool
    reason: str
    sender: str | None = None
    mode: TrustMode | None = None


def check_reply_sender(message: MailMessage, trust: ReplyTrust) -> TrustVerdict:
    """Whether ``message`` is trusted as mail from its From address (module docstring)."""
    if len(message.from_addresses) != 1:
        return TrustVerdict(False, "not exactly one From address")
    sender = message.from_addresses[0]
    domain = message.from_domain
    own = {_norm(d) for d in trust.own_domains} - {""}
    if domain is None or domain not in own:
        label = domain or "an unreadable domain"
        return TrustVerdict(False, f"From {label} is not one of the own domains", sender)
    reasons: list[str] = []
    for mode in trust.modes:
        if mode is TrustMode.DMARC:
            passed, why = _dmarc(message, domain, trust.authserv_id)
        else:
            passed, why = _exchange_internal(message, trust.exchange_auth_sources)
        if passed:
            return TrustVerdict(True, f"{mode}: {why}", sender, mode)
        reasons.append(f"{mode}: {why}")
    if not reasons:
        reasons.append("no trust mode configured")
    return TrustVerdict(False, "; ".join(reasons), sender)


def _dmarc(message: MailMessage, domain: str, authserv_id: str | None) -> tuple[bool, str]:
    results = trusted_results(message.raw_headers, authserv_id)
    check = check_sender(results, domain, authserv_id=authserv_id)
    if not check.passed:
        return False, check.reason
    assert results is not None  # a pass needs results
    if not any(
        r.result == "pass" and _norm(r.props.get("header.from")) == domain
        for r in results.of("dmarc")
    ):
        return False, f"no dmarc=pass for {domain} (an aligned dkim=pass is not enough)"
    return True, check.reason


def _exchange_internal(message: MailMessage, sources: Sequence[str]) -> tuple[bool, str]:
    raw = message.raw_headers
    auth_as = [fold(v) for n, v in raw if n.lower() == AUTH_AS]
    if not auth_as:
        return False, "no X-MS-Exchange-Organization-AuthAs"
    if any(v != "internal" for v in auth_as):
        return False, "X-MS-Exchange-Organization-AuthAs is not Internal"
    auth_source = [_norm(v) for n, v in raw if n.lower() == AUTH_SOURCE]
    if not auth_source:
        return False, "no X-MS-Exchange-Organization-AuthSource"
    host = auth_source[0]
    if not _HOST.fullmatch(host) or not sources or not domain_in(host, sources):
        return False, "X-MS-Exchange-Organization-AuthSource is not a configured server"
    return True, f"AuthAs Internal from {host}"


def _norm(domain: str | None) -> str:
    return (domain or "").strip().rstrip(".").lower()
