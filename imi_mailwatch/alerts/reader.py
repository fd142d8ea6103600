"""The alert reader: bytes in, a :class:`Classification` out. Never raises.

Order of judgement for one message:

1. Over the size limit, or over the work budget while parsing (lines, parts,
   nesting; see :mod:`imi_mailwatch.alerts.budget`): only the headers are judged;
   whatever might be IMI is kept for review, never acted on. Nothing is timed:
   the load of the host never decides an outcome.
2. Mail the daemon sent itself (``X-IMI-Mailwatch``) is ``not_imi`` (loop protection).
3. Automatic replies, bounces and delivery reports are ``not_imi``.
4. From an allowed IMI sender (``allowed_domains``, ``allowed_senders``):
   authenticated (trusted Authentication-Results, or, when configured, locally
   verified DKIM alone) -> ``imi_alert``; otherwise ``rejected``.
5. A forward of something that claims to be an IMI alert: trusted only from a
   configured forwarder whose own message passed, and only when the forwarded
   message is from an allowed sender; with ``forward_trust: original`` only an
   attached original with its own passing results. Otherwise ``rejected``.
6. Anything else that claims to be an IMI alert is ``rejected``; the rest is ``not_imi``.

Reasons are short English texts without personal data (no addresses of people).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import structlog

from imi_mailwatch.alerts.auth import (
    AuthResults,
    DnsFunc,
    check_sender,
    is_allowed_sender,
    is_forwarder,
    trusted_results,
    verify_dkim,
)
from imi_mailwatch.alerts.budget import Budget, BudgetExceededError
from imi_mailwatch.alerts.extract import (
    Reading,
    SubjectInfo,
    claims_imi,
    match_subject,
    read_fields,
    strip_prefixes,
)
from imi_mailwatch.alerts.forwards import find_inline_forwards
from imi_mailwatch.alerts.layouts import Layouts, load_layouts
from imi_mailwatch.alerts.mime import (
    MailMessage,
    address_domain,
    parse_addresses,
    read_headers,
    read_message,
)
from imi_mailwatch.alerts.text import fold
from imi_mailwatch.config import AlertsConfig, AuthenticationConfig
from imi_mailwatch.model import LOOP_HEADER, AuthVerdict, Classification, MessageKind

log = structlog.get_logger(__name__)

_AUTOMATIC_SENDERS = ("mailer-daemon", "postmaster", "microsoftexchange")
_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(<[^>\r\n]{1,300}>)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Forwarded:
    """The message found inside a forward: attached, or inline in the body."""

    subject: str
    text: str
    from_address: str | None
    attached: MailMessage | None  # the attached message, when it was attached


class AlertReader:
    """Recognises, authenticates and reads IMI alerts (see the module docstring)."""

    def __init__(
        self,
        authentication: AuthenticationConfig,
        alerts: AlertsConfig,
        *,
        layouts: Layouts | None = None,
        dnsfunc: DnsFunc | None = None,
    ) -> None:
        self.authentication = authentication
        self.alerts = alerts
        self.layouts = layouts if layouts is not None else load_layouts(alerts.layouts_dir)
        self._dnsfunc = dnsfunc

    # -- entry point ---------------------------------------------------------------

    def classify(self, data: bytes) -> Classification:
        """What ``data`` is; never raises (a failure is an outcome to quarantine)."""
        return self.read(data)[0]

    def read(self, data: bytes) -> tuple[Classification, MailMessage | None]:
        """:meth:`classify`, and the message parsed for it (the pipeline's reply check and
        calibrate read that one); None when only the headers or nothing could be read."""
        try:
            return self._classify(data)
        except Exception as exc:
            log.warning("alerts.unreadable", error=type(exc).__name__)
            return Classification(
                kind=MessageKind.IMI_ALERT,
                reason=f"unreadable message ({type(exc).__name__}): kept for review",
                message_id=_quick_message_id(data),
            ), None

    def content(self, msg: MailMessage) -> tuple[str, str, bool]:
        """The subject (prefixes off) and text to read: the forwarded alert's, if any.

        Returns ``(subject, text, forwarded)``.
        """
        if not self._allowed(msg):
            fwd = self._forwarded(msg)
            if fwd is not None:
                return fwd.subject, fwd.text, True
        return strip_prefixes(msg.subject, self.layouts).text, msg.text, False

    def _classify(self, data: bytes) -> tuple[Classification, MailMessage | None]:
        limit = self.alerts.max_message_bytes
        if len(data) > limit:
            why = f"message too large ({len(data)} bytes, limit {limit})"
            return self._headers_only(read_headers(data), data, why), None
        try:
            msg = read_message(data, Budget())
        except BudgetExceededError as exc:
            return self._headers_only(read_headers(data), data, str(exc)), None
        return self._judge(msg, data), msg

    # -- judgement -----------------------------------------------------------------

    def _judge(  # noqa: PLR0911 - the order of judgement: one return per verdict
        self, msg: MailMessage, data: bytes
    ) -> Classification:
        mid = msg.message_id
        if msg.get(LOOP_HEADER) is not None:
            return _not_imi("sent by imi-mailwatch itself (loop protection)", mid)
        automatic = self._automatic(msg)
        if automatic:
            return _not_imi(automatic, mid)
        subject = strip_prefixes(msg.subject, self.layouts)
        if len(msg.from_addresses) > 1 or len(msg.get_all("from")) > 1:
            if any(self._allowed_address(a) for a in msg.from_addresses):
                return _rejected("more than one From address", None, mid)
            if claims_imi(subject.text, msg.text, self.layouts):
                return _rejected("looks like an IMI alert but has more than one From", None, mid)
            return _not_imi("not from an allowed IMI sender", mid)
        from_domain = msg.from_domain
        if self._allowed(msg):
            return self._direct(msg, data, subject, str(from_domain))
        forwarded = self._forwarded(msg)
        if forwarded is not None:
            return self._forward(msg, data, forwarded)
        if subject.reply:
            return _not_imi("a reply in a conversation, not an alert", mid)
        if claims_imi(subject.text, msg.text, self.layouts):
            sender = from_domain or "an unreadable sender"
            return _rejected(
                f"looks like an IMI alert but {sender} is not an allowed sender", None, mid
            )
        return _not_imi("not from an allowed IMI sender", mid)

    def _automatic(self, msg: MailMessage) -> str | None:
        auto = fold(msg.get("auto-submitted") or "")
        if auto.startswith("auto-replied"):
            return "automatic reply"
        if msg.is_report:
            return "delivery report"
        address = msg.from_addresses[0] if len(msg.from_addresses) == 1 else ""
        if address.partition("@")[0] in _AUTOMATIC_SENDERS:
            return "delivery report"
        subject = fold(msg.subject)
        if any(subject.startswith(s) for s in self.layouts.bounce_subjects):
            return "delivery report"
        if any(subject.startswith(s) for s in self.layouts.auto_reply_subjects):
            return "automatic reply"
        return None

    @property
    def _stamp(self) -> str | None:
        """The trusted stamp's authserv-id; None for Exchange Online (it writes none)."""
        cfg = self.authentication
        return None if cfg.stamped_by == "exchange_online" else cfg.authserv_id

    def _results(self, msg: MailMessage) -> AuthResults | None:
        """The trusted results in ``msg``; none at all under local verification."""
        if self.authentication.verify_dkim:
            return None
        return trusted_results(msg.raw_headers, self._stamp)

    def _allowed_address(self, address: str | None) -> bool:
        cfg = self.authentication
        return is_allowed_sender(address, cfg.allowed_domains, cfg.allowed_senders)

    def _allowed(self, msg: MailMessage) -> bool:
        """``msg`` has one From, and it is an allowed IMI sender."""
        return len(msg.from_addresses) == 1 and self._allowed_address(msg.from_addresses[0])

    def _sender_check(self, msg: MailMessage, data: bytes, domain: str) -> tuple[bool, str]:
        dkim_domains = None
        if self.authentication.verify_dkim:  # local verification decides alone
            dkim_domains = verify_dkim(data, self._dnsfunc)
        check = check_sender(
            self._results(msg), domain, authserv_id=self._stamp, dkim_domains=dkim_domains
        )
        return check.passed, check.reason

    def _direct(
        self, msg: MailMessage, data: bytes, subject: SubjectInfo, domain: str
    ) -> Classification:
        mid = msg.message_id
        passed, why = self._sender_check(msg, data, domain)
        if not passed:
            verdict = AuthVerdict(False, why)
            return _rejected(f"claims to be from {domain} but failed authentication: {why}",
                             verdict, mid)  # fmt: skip
        verdict = AuthVerdict(True, why)
        reading = read_fields(subject.text, msg.text, self.layouts)
        if not reading.recognised and not _mentions_imi(msg, subject.text):
            return Classification(
                kind=MessageKind.NOT_IMI,
                reason=f"from {domain}, but not an IMI alert",
                auth=verdict,
                message_id=mid,
            )
        return _alert(reading, subject.text, msg, verdict, msg.problems)

    def _forwarded(self, msg: MailMessage) -> Forwarded | None:
        """The forwarded message that claims to be an IMI alert, if there is one."""
        for inner in msg.attached:
            inner_subject = strip_prefixes(inner.subject, self.layouts).text
            if self._allowed(inner) or claims_imi(inner_subject, inner.text, self.layouts):
                address = inner.from_addresses[0] if len(inner.from_addresses) == 1 else None
                return Forwarded(inner_subject, inner.text, address, inner)
        for fwd in find_inline_forwards(msg.text, self.layouts):
            fwd_subject = strip_prefixes(fwd.subject, self.layouts).text
            if self._allowed_address(fwd.from_address) or claims_imi(
                fwd_subject, fwd.text, self.layouts
            ):
                return Forwarded(fwd_subject, fwd.text, fwd.from_address, None)
        return None

    def _forward(self, msg: MailMessage, data: bytes, fwd: Forwarded) -> Classification:
        mid = msg.message_id
        cfg = self.authentication
        sender = msg.from_addresses[0] if msg.from_addresses else None
        if not is_forwarder(sender, cfg.forwarders):
            return _rejected(
                "a forwarded IMI alert from someone who is not a configured forwarder", None, mid
            )
        passed, why = self._sender_check(msg, data, str(msg.from_domain))
        if not passed:
            verdict = AuthVerdict(False, why, via_forwarder=True)
            return _rejected(f"forward failed authentication: {why}", verdict, mid)
        if not self._allowed_address(fwd.from_address):
            verdict = AuthVerdict(False, "forwarded message not from an allowed domain", True)
            return _rejected(
                "the forwarded message is not from an allowed IMI sender", verdict, mid
            )
        refused = self._original_refused(fwd)
        if refused is not None:
            verdict = AuthVerdict(False, refused, via_forwarder=True)
            return _rejected(f"the forwarded message failed authentication: {refused}",
                             verdict, mid)  # fmt: skip
        verdict = AuthVerdict(True, f"forwarded by a configured forwarder; {why}", True)
        reading = read_fields(fwd.subject, fwd.text, self.layouts)
        problems = msg.problems + (fwd.attached.problems if fwd.attached else ())
        inner_msg = fwd.attached
        sent_at = inner_msg.date if inner_msg and inner_msg.date else msg.date
        alert = reading.alert(fwd.subject, mid, sent_at)
        return Classification(
            kind=MessageKind.IMI_ALERT,
            reason=None if alert.request_id else "IMI alert without a request id",
            alert=alert,
            auth=verdict,
            message_id=mid,
            problems=tuple(dict.fromkeys((*reading.problems, *problems))),
        )

    def _original_refused(self, fwd: Forwarded) -> str | None:
        """Why the forwarded original is refused on its own results; None: it is not.

        ``forward_trust: forwarder``: only an attached original whose own trusted
        results fail is refused. ``original``: the original must be attached and its
        own trusted results must pass for its From.
        """
        domain = address_domain(fwd.from_address) if fwd.from_address else None
        inner_results = self._results(fwd.attached) if fwd.attached is not None else None
        if self.authentication.forward_trust == "original":
            if fwd.attached is None:
                return "an inline forward (forward_trust: original trusts attached originals only)"
            check = check_sender(inner_results, str(domain), authserv_id=self._stamp)
            return None if check.passed else f"the attached original: {check.reason}"
        if inner_results is not None and domain:
            check = check_sender(inner_results, domain, authserv_id=self._stamp)
            return None if check.passed else check.reason
        return None

    def _headers_only(self, msg: MailMessage, data: bytes, why: str) -> Classification:
        """Judge a message on its headers alone; nothing here is ever acted on."""
        mid = msg.message_id
        if msg.get(LOOP_HEADER) is not None:
            return _not_imi("sent by imi-mailwatch itself (loop protection)", mid)
        cfg = self.authentication
        subject = strip_prefixes(msg.subject, self.layouts)
        domain = msg.from_domain
        log.warning("alerts.over_budget", reason=why)
        if self._allowed(msg):
            # Local DKIM is not run over a message this size: no verdict, so it fails.
            dkim_domains = () if cfg.verify_dkim else None
            check = check_sender(
                self._results(msg), str(domain), authserv_id=self._stamp, dkim_domains=dkim_domains
            )
            if not check.passed:
                verdict = AuthVerdict(False, check.reason)
                return _rejected(f"{why}; failed authentication: {check.reason}", verdict, mid)
            return Classification(
                kind=MessageKind.IMI_ALERT,
                reason=f"{why}: kept for review",
                auth=AuthVerdict(True, check.reason),
                message_id=mid,
            )
        if match_subject(subject.text, self.layouts) is not None:
            return Classification(
                kind=MessageKind.IMI_ALERT, reason=f"{why}: kept for review", message_id=mid
            )
        return _not_imi(f"{why}; not from an allowed IMI sender", mid)


def _alert(
    reading: Reading,
    subject: str,
    msg: MailMessage,
    verdict: AuthVerdict,
    extra_problems: tuple[str, ...],
) -> Classification:
    alert = reading.alert(subject, msg.message_id, msg.date)
    addressees: list[str] = []
    for name, value in msg.headers:
        if name.lower() in ("to", "cc"):
            addressees.extend(parse_addresses(value))
    alert = replace(alert, addressees=tuple(dict.fromkeys(addressees))[:20])
    return Classification(
        kind=MessageKind.IMI_ALERT,
        reason=None if alert.request_id else "IMI alert without a request id",
        alert=alert,
        auth=verdict,
        message_id=msg.message_id,
        problems=tuple(dict.fromkeys((*reading.problems, *extra_problems))),
    )


def _mentions_imi(msg: MailMessage, subject: str) -> bool:
    words = f"{subject}\n{msg.get('from') or ''}\n{msg.text[:5000]}"
    return re.search(r"(?<![A-Za-z])IMI(?![A-Za-z])", words) is not None


def _not_imi(reason: str, message_id: str | None) -> Classification:
    return Classification(kind=MessageKind.NOT_IMI, reason=reason, message_id=message_id)


def _rejected(reason: str, verdict: AuthVerdict | None, message_id: str | None) -> Classification:
    return Classification(
        kind=MessageKind.REJECTED,
        reason=reason,
        auth=verdict if verdict is not None else AuthVerdict(False, reason),
        message_id=message_id,
    )


def _quick_message_id(data: bytes) -> str | None:
    """The Message-ID of a message that could not be parsed, read with a plain search."""
    try:
        head = data[:65536].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        m = _MESSAGE_ID.search(head)
        return m.group(1).decode("ascii", "replace") if m else None
    except Exception:
        return None
