"""Who sent it: Authentication-Results of the trusted mail server, and DKIM as an option.

Only an ``Authentication-Results`` field stamped by the receiving mail server is
read, and of those only the topmost: the receiving server adds its field above
everything the sender wrote, so a field lower down with the same authserv-id can
only be a forgery (RFC 8601, section 5). With an authserv-id configured, that is
the topmost field carrying it; for Exchange Online, which writes no authserv-id,
the topmost field of all, and only if it has none. Fields are read from the raw
header by the RFC 8601 grammar (:mod:`imi_mailwatch.alerts.authres`), never after
RFC 2047 decoding; a trusted field that cannot be read whole fails.

A sender domain passes when DMARC passed for exactly that domain (``header.from``
equal to the From domain; a ``dmarc=pass`` naming no domain counts for nothing,
and a DMARC result naming another domain means the server read another From than
the daemon did, which fails), or, where DMARC gave no verdict for it, when a DKIM
signature aligned with it passed. ``dmarc=fail`` always fails. With local
verification configured the daemon verifies DKIM signatures itself (dkimpy) and
that result alone decides: no Authentication-Results field is read then. Reasons
are short, stable English texts with no personal data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import structlog

from imi_mailwatch.alerts.authres import AuthResError, MethodResult, authserv_id_of, parse

log = structlog.get_logger(__name__)

__all__ = ["AuthResults", "MethodResult", "SenderCheck", "check_sender", "trusted_results"]


@dataclass(frozen=True, slots=True)
class AuthResults:
    """The trusted field's results; ``problem`` set when it could not be read (then none pass)."""

    authserv_id: str | None
    results: tuple[MethodResult, ...]
    problem: str | None = None

    def of(self, method: str) -> list[MethodResult]:
        return [r for r in self.results if r.method == method]


def stamp_label(authserv_id: str | None) -> str:
    """How reasons name the trusted stamp: its authserv-id, or Exchange Online."""
    return "Exchange Online" if authserv_id is None else f"authserv-id {authserv_id}"


def trusted_results(
    headers: Sequence[tuple[str, str]], authserv_id: str | None
) -> AuthResults | None:
    """The trusted Authentication-Results among the raw ``headers``; all others are ignored.

    With an ``authserv_id``: the topmost field carrying it. With None (Exchange Online,
    which writes no authserv-id): the topmost field of all, and only when it carries no
    authserv-id. A trusted field that cannot be read whole gives results with a
    ``problem``: a failed check, never a look at a lower field.
    """
    fields = [v for n, v in headers if n.lower() == "authentication-results"]
    if authserv_id is None:
        if not fields:
            return None
        try:
            parsed = parse(fields[0])
        except AuthResError as exc:
            return AuthResults(None, (), problem=str(exc))
        return AuthResults(None, parsed.results) if parsed.authserv_id is None else None
    wanted = authserv_id.strip().lower()
    for value in fields:
        if not wanted or authserv_id_of(value) != wanted:
            continue
        try:
            parsed = parse(value)
        except AuthResError as exc:
            return AuthResults(wanted, (), problem=str(exc))
        return AuthResults(wanted, parsed.results)
    return None


def domain_in(domain: str | None, allowed: Iterable[str]) -> bool:
    """``domain`` is one of ``allowed`` or a subdomain of one (never a look-alike)."""
    if not domain:
        return False
    domain = domain.lower().rstrip(".")
    for raw in allowed:
        entry = raw.lower().strip().lstrip("@").rstrip(".")
        if entry and (domain == entry or domain.endswith("." + entry)):
            return True
    return False


def is_allowed_sender(address: str | None, domains: Iterable[str], senders: Iterable[str]) -> bool:
    """``address`` is one of the exact ``senders``, or at one of ``domains`` (or a subdomain)."""
    if not address or "@" not in address:
        return False
    address = address.strip().lower()
    if any(address == s.strip().lower() for s in senders):
        return True
    return domain_in(address.rpartition("@")[2], domains)


def is_forwarder(address: str | None, forwarders: Iterable[str]) -> bool:
    """``address`` is a configured forwarder: an exact address, or any at an ``@domain`` entry."""
    if not address or "@" not in address:
        return False
    address = address.lower()
    domain = address.rpartition("@")[2]
    for raw in forwarders:
        entry = raw.strip().lower()
        if entry.startswith("@"):
            if domain == entry[1:]:
                return True
        elif entry == address:
            return True
    return False


def aligned(signing_domain: str, from_domain: str) -> bool:
    """Relaxed DKIM alignment, without a public-suffix list: one contains the other."""
    d = signing_domain.lower().rstrip(".")
    f = from_domain.lower().rstrip(".")
    if d.count(".") < 1 or f.count(".") < 1:
        return False
    return d == f or f.endswith("." + d) or d.endswith("." + f)


@dataclass(frozen=True, slots=True)
class SenderCheck:
    passed: bool
    reason: str


def check_sender(  # noqa: PLR0911 - one return per verdict reads best
    results: AuthResults | None,
    from_domain: str,
    *,
    authserv_id: str | None,
    dkim_domains: tuple[str, ...] | None = None,
) -> SenderCheck:
    """Whether mail from ``from_domain`` is authenticated (see the module docstring).

    ``dkim_domains`` (local verification configured) decides alone: ``results`` are
    then not read at all. ``authserv_id`` only names the stamp in reasons.
    """
    if dkim_domains is not None:
        if any(aligned(d, from_domain) for d in dkim_domains):
            return SenderCheck(True, f"dkim=pass aligned with {from_domain} (verified locally)")
        return SenderCheck(
            False, f"no valid aligned DKIM signature for {from_domain} (verified locally)"
        )
    if results is None:
        return SenderCheck(False, f"no trusted Authentication-Results ({stamp_label(authserv_id)})")
    if results.problem is not None:
        return SenderCheck(False, f"trusted Authentication-Results unreadable: {results.problem}")
    domain = _norm(from_domain)
    named = {_norm(r.props.get("header.from")) for r in results.of("dmarc")} - {""}
    if named - {domain}:  # the server read another From than we did: trust neither
        return SenderCheck(False, f"dmarc judged another From domain than {from_domain}")
    own = [r for r in results.of("dmarc") if _norm(r.props.get("header.from")) == domain]
    nameless = [r for r in results.of("dmarc") if not _norm(r.props.get("header.from"))]
    if any(r.result == "fail" for r in own + nameless):
        return SenderCheck(False, f"dmarc=fail for {from_domain}")
    if any(r.result == "pass" for r in own):
        return SenderCheck(True, f"dmarc=pass for {from_domain}")
    for r in results.of("dkim"):
        d = r.props.get("header.d") or r.props.get("header.i", "").rpartition("@")[2]
        if r.result == "pass" and d and aligned(d, from_domain):
            return SenderCheck(True, f"dkim=pass aligned with {from_domain}")
    if own:
        return SenderCheck(
            False, f"dmarc={own[0].result} and no aligned dkim=pass for {from_domain}"
        )
    return SenderCheck(False, f"no dmarc or aligned dkim pass for {from_domain}")


def _norm(domain: str | None) -> str:
    return (domain or "").strip().rstrip(".").lower()


DnsFunc = Callable[..., bytes | None]


def verify_dkim(data: bytes, dnsfunc: DnsFunc | None = None, timeout: int = 5) -> tuple[str, ...]:
    """The domains (d=) of the DKIM signatures in ``data`` that verify. Never raises.

    Uses dkimpy; DNS is looked up through ``dnsfunc`` when given (tests), else
    through dkimpy's resolver with ``timeout`` seconds.
    """
    try:
        import dkim
        from dkim.util import parse_tag_value
    except ImportError:  # pragma: no cover - dkimpy is a dependency
        return ()
    domains: list[str] = []
    try:
        checker = dkim.DKIM(data, timeout=timeout)
        signatures = [v for k, v in checker.headers if k.lower() == b"dkim-signature"]
        for idx, value in enumerate(signatures[:5]):
            try:
                tags = parse_tag_value(value)
                kwargs = {"dnsfunc": dnsfunc} if dnsfunc is not None else {}
                if checker.verify(idx=idx, **kwargs):
                    d = tags.get(b"d", b"").decode("ascii", "replace").lower()
                    if d:
                        domains.append(d)
            except Exception as exc:
                log.debug("alerts.dkim_failed", error=exc.__class__.__name__)
    except Exception as exc:
        log.debug("alerts.dkim_failed", error=exc.__class__.__name__)
    return tuple(domains)
