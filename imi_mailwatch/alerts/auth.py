"""Who sent it: Authentication-Results of the trusted mail server, and DKIM as an option.

Only an ``Authentication-Results`` header whose authserv-id is the configured one
(the receiving mail server) is read, and of those only the topmost: the receiving
server adds its header above everything the sender wrote, so a header lower down
with the same authserv-id can only be a forgery (RFC 8601, section 5). Every other
such header is ignored.

A sender domain passes when DMARC passed for it, or, where DMARC gave no verdict,
when a DKIM signature aligned with it passed. ``dmarc=fail`` always fails. Without
a trusted header, the daemon can verify DKIM signatures itself (dkimpy), when
configured to. Reasons are short, stable English texts with no personal data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import structlog

log = structlog.get_logger(__name__)

_METHODS = frozenset(
    [
        "auth",
        "dkim",
        "dkim-adsp",
        "domainkeys",
        "iprev",
        "sender-id",
        "spf",
        "dmarc",
        "arc",
        "compauth",
        "bimi",
        "smime",
        "rrvs",
        "vbr",
        "dkim-atps",
        "x-dkim-adsp",
    ]
)
MAX_AR_CHARS = 4_000


@dataclass(frozen=True, slots=True)
class MethodResult:
    method: str
    result: str
    props: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuthResults:
    authserv_id: str
    results: tuple[MethodResult, ...]

    def of(self, method: str) -> list[MethodResult]:
        return [r for r in self.results if r.method == method]


def _strip_comments(value: str) -> str:
    out: list[str] = []
    depth = 0
    quoted = False
    for ch in value[:MAX_AR_CHARS]:
        if ch == '"' and depth == 0:
            quoted = not quoted
            out.append(ch)
        elif quoted:
            out.append(ch)
        elif ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def parse_authentication_results(value: str) -> AuthResults | None:
    """One Authentication-Results value; None when it cannot be read at all."""
    text = _strip_comments(value)
    segments = [s.strip() for s in text.split(";")]
    if not segments or not segments[0]:
        return None
    head = segments[0].split()
    if "=" in head[0]:
        authserv_id = ""
        rest = segments
    else:
        authserv_id = head[0].lower()
        rest = [" ".join(head[1:]), *segments[1:]]
    results: list[MethodResult] = []
    current: tuple[str, str] | None = None
    props: dict[str, str] = {}
    for segment in rest:
        for token in segment.split():
            key, eq, val = token.partition("=")
            if not eq:
                continue
            key = key.lower().split("/", 1)[0]
            val = val.strip('"').lower()
            if key in _METHODS:
                if current:
                    results.append(MethodResult(current[0], current[1], props))
                current, props = (key, val), {}
            elif current is not None:
                props.setdefault(key, val)
    if current:
        results.append(MethodResult(current[0], current[1], props))
    return AuthResults(authserv_id, tuple(results))


def trusted_results(headers: Sequence[tuple[str, str]], authserv_id: str) -> AuthResults | None:
    """The topmost Authentication-Results added by ``authserv_id``; all others are ignored."""
    wanted = authserv_id.strip().lower()
    for name, value in headers:
        if name.lower() != "authentication-results":
            continue
        parsed = parse_authentication_results(value)
        if parsed is not None and parsed.authserv_id == wanted:
            return parsed
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
    authserv_id: str,
    dkim_domains: tuple[str, ...] | None = None,
) -> SenderCheck:
    """Whether mail from ``from_domain`` is authenticated (see the module docstring)."""
    if results is None:
        if dkim_domains is None:
            return SenderCheck(
                False, f"no trusted Authentication-Results (authserv-id {authserv_id})"
            )
        if any(aligned(d, from_domain) for d in dkim_domains):
            return SenderCheck(True, f"dkim=pass aligned with {from_domain} (verified locally)")
        return SenderCheck(
            False, f"no valid aligned DKIM signature for {from_domain} (verified locally)"
        )
    dmarc = [
        r for r in results.of("dmarc")
        if not r.props.get("header.from") or r.props["header.from"] == from_domain
    ]  # fmt: skip
    if any(r.result == "fail" for r in dmarc):
        return SenderCheck(False, f"dmarc=fail for {from_domain}")
    if any(r.result == "pass" for r in dmarc):
        return SenderCheck(True, f"dmarc=pass for {from_domain}")
    for r in results.of("dkim"):
        d = r.props.get("header.d") or r.props.get("header.i", "").rpartition("@")[2]
        if r.result == "pass" and d and aligned(d, from_domain):
            return SenderCheck(True, f"dkim=pass aligned with {from_domain}")
    if dmarc:
        return SenderCheck(
            False, f"dmarc={dmarc[0].result} and no aligned dkim=pass for {from_domain}"
        )
    return SenderCheck(False, f"no dmarc or aligned dkim pass for {from_domain}")


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
