"""Bytes to headers and text: the MIME stage of the alert reader. Pure.

The standard library's parser with the ``compat32`` policy reads the structure:
it never raises on a broken message (it records defects), and this module decodes
headers and bodies itself, so that no access can raise later (``policy.default``
can raise on header access and on unknown charsets; see BENCHMARKS.md for the
comparison that chose this).

Every stage is bounded by counted work, never by elapsed time: the message's
:class:`~imi_mailwatch.alerts.budget.Budget` (lines, parts, nesting, attached
bytes, text, HTML tags), and the caps per part below.

What comes out is a :class:`MailMessage`: decoded headers in order, the raw
(undecoded, unfolded) values of the headers authentication reads, the From
addresses parsed from the raw From (RFC 5322; an encoded word is never decoded
into an address), the plain-text bodies, the HTML bodies (turned into text lines only
when they are read: an alert's plain-text part makes its HTML part unread), and the
attached messages (``message/rfc822``, or an ``.eml`` file), each read the same way.
"""

from __future__ import annotations

import binascii
import contextlib
import email.header
import email.utils
import quopri
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32

from imi_mailwatch.alerts.budget import (
    MAX_ATTACHED_BYTES,
    MAX_HTML_TAGS,
    MAX_TOTAL_TEXT_BYTES,
    Budget,
    parse_bounded,
)
from imi_mailwatch.alerts.html import html_to_text
from imi_mailwatch.alerts.text import squash

MAX_ATTACHED_DEPTH = 4  # attached messages, one inside the other; deeper ones are not read
# Per part (what is beyond is not read):
MAX_HEADERS = 500
MAX_HEADER_CHARS = 8_000
MAX_TEXT_BYTES = 1_000_000  # per text part
MAX_HTML_BYTES = 256_000  # per HTML part: an alert is a few kB; parsing HTML costs most
RAW_KEPT = frozenset(  # read for trust, never decoded
    {
        "from",
        "authentication-results",
        "x-ms-exchange-organization-authas",
        "x-ms-exchange-organization-authsource",
    }
)
MAX_RAW_HEADER_CHARS = 64_000  # kept whole up to here: longer fields fail their own checks
MAX_FROM_CHARS = 2_000  # a longer From is unreadable (no address), never cut
_FOLD = re.compile(r"\r?\n(?=[ \t])")

_PARSER = BytesParser(policy=compat32)  # only for a bounded header block


@dataclass(frozen=True, slots=True)
class MailMessage:
    """One message (or an attached one), decoded."""

    headers: tuple[tuple[str, str], ...]
    raw_headers: tuple[tuple[str, str], ...] = ()  # RAW_KEPT only: undecoded, unfolded
    subject: str = ""
    from_addresses: tuple[str, ...] = ()
    message_id: str | None = None
    date: datetime | None = None
    content_type: str = "text/plain"
    plain: tuple[str, ...] = ()
    html_markup: tuple[str, ...] = ()  # within the budget, cut by ``cut_html``; not yet text
    attached: tuple[MailMessage, ...] = ()
    is_report: bool = False
    problems: tuple[str, ...] = ()
    raw_subject_present: bool = field(default=False)
    _html_text: list[tuple[str, ...]] = field(default_factory=list, repr=False, compare=False)

    def get_all(self, name: str) -> list[str]:
        """Every value of header ``name`` (case-insensitive), top to bottom."""
        key = name.lower()
        return [v for k, v in self.headers if k.lower() == key]

    def get(self, name: str) -> str | None:
        values = self.get_all(name)
        return values[0] if values else None

    @property
    def html(self) -> tuple[str, ...]:
        """The HTML bodies as text, converted the first time they are read."""
        if not self._html_text:
            self._html_text.append(tuple(html_to_text(m) for m in self.html_markup))
        return self._html_text[0]

    @property
    def text(self) -> str:
        """The body to read: the plain-text parts, or else the HTML parts as text."""
        return "\n\n".join(self.plain or self.html)

    @property
    def from_domain(self) -> str | None:
        """The domain of the single From address, lower case; None when not exactly one."""
        if len(self.from_addresses) != 1:
            return None
        return address_domain(self.from_addresses[0])


def address_domain(address: str) -> str | None:
    """The domain of an addr-spec, lower case, or None when it has none."""
    local, at, domain = address.rpartition("@")
    if not at or not local:
        return None
    domain = domain.strip().strip(".").lower()
    if not domain or any(not (c.isalnum() or c in "-.") for c in domain):
        return None
    return domain


def read_message(
    data: bytes, budget: Budget, *, depth: int = 0, cut_html: Callable[[str], str] | None = None
) -> MailMessage:
    """Parse ``data`` into a :class:`MailMessage`. Raises only BudgetExceededError.

    ``cut_html`` (the reply reader's) is given each HTML body of this message, not of
    attached ones, before it becomes text, and returns the markup to read.
    """
    return _convert(parse_bounded(data, budget), budget, depth, cut_html=cut_html)


def read_headers(data: bytes) -> MailMessage:
    """Only the header block of ``data`` (for a message over the size budget)."""
    end = len(data)
    for sep in (b"\r\n\r\n", b"\n\n"):
        found = data.find(sep, 0, 256_000)
        if found != -1:
            end = min(end, found)
    head = data[: min(end, 256_000)]
    parsed = _PARSER.parsebytes(head + b"\n\n", headersonly=True)
    return _convert(parsed, Budget(), 0, walk=False)


def _convert(
    msg: Message,
    budget: Budget,
    depth: int,
    *,
    walk: bool = True,
    cut_html: Callable[[str], str] | None = None,
) -> MailMessage:
    problems: list[str] = []
    headers: list[tuple[str, str]] = []
    raw_kept: list[tuple[str, str]] = []
    raw_items = _raw_headers(msg)
    if len(raw_items) > MAX_HEADERS:
        problems.append("too many headers")
    for name, value in raw_items[:MAX_HEADERS]:
        headers.append((_safe_name(name), decode_header_value(value)))
        if _safe_name(name).lower() in RAW_KEPT:
            raw_kept.append((_safe_name(name), raw_header_value(value)))
    subjects = [v for k, v in headers if k.lower() == "subject"]
    froms = [v for k, v in raw_kept if k.lower() == "from"]
    addresses: list[str] = []
    for value in froms:
        addresses.extend(parse_addresses(value))
    ids = [v for k, v in headers if k.lower() == "message-id"]
    dates = [v for k, v in headers if k.lower() == "date"]
    content_type = _content_type(msg)
    collected = _Walk(budget, depth, problems=problems, cut_html=cut_html)
    if walk:
        _walk(msg, collected)
    return MailMessage(
        headers=tuple(headers),
        raw_headers=tuple(raw_kept),
        subject=subjects[0] if subjects else "",
        from_addresses=tuple(addresses),
        message_id=ids[0].strip()[:300] if ids else None,
        date=_parse_date(dates[0]) if dates else None,
        content_type=content_type,
        plain=tuple(collected.plain),
        html_markup=tuple(collected.html),
        attached=tuple(collected.attached),
        is_report=collected.is_report or content_type == "multipart/report",
        problems=tuple(collected.problems),
        raw_subject_present=bool(subjects),
    )


@dataclass
class _Walk:
    """What a walk over one message's parts collects (see :func:`_walk`)."""

    budget: Budget
    depth: int
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)  # markup, converted when read
    attached: list[MailMessage] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    is_report: bool = False
    cut_html: Callable[[str], str] | None = None

    def attach(self, part: Message, payload: object) -> None:
        """An attached message (message/rfc822 or an .eml file), read the same way."""
        if self.depth >= MAX_ATTACHED_DEPTH:
            self.problems.append("attached messages nested too deep")
            return
        if isinstance(payload, list):
            inner = next((child for child in payload if isinstance(child, Message)), None)
            if inner is not None:
                self.attached.append(_convert(inner, self.budget, self.depth + 1))
            return
        data = _payload_bytes(part, MAX_ATTACHED_BYTES + 1)
        if not data:
            return
        if not self.budget.take_attached(len(data)):
            self.problems.append(f"attached messages over {MAX_ATTACHED_BYTES:,} bytes: not read")
            return
        self.attached.append(read_message(data, self.budget, depth=self.depth + 1))

    def text(self, part: Message, ctype: str) -> None:
        """A text/plain or text/html body part, decoded, within the text budget."""
        if self.budget.text_bytes >= MAX_TOTAL_TEXT_BYTES:
            self.problems.append("too much text")
            return
        limit = MAX_HTML_BYTES if ctype == "text/html" else MAX_TEXT_BYTES
        raw = _payload_bytes(part, limit + 1)
        if len(raw) > limit:
            raw = raw[:limit]
            self.problems.append(f"{ctype} part cut at {limit} bytes")
        self.budget.text_bytes += len(raw)
        text = decode_text(raw, _charset(part))
        if ctype == "text/html":
            if self.cut_html is not None:
                text = self.cut_html(text)
            markup = self.budget.take_html(text)
            if len(markup) < len(text):
                self.problems.append(f"HTML cut at {MAX_HTML_TAGS:,} tags")
            if markup:
                self.html.append(markup)
        else:
            self.plain.append(text)


def _walk(root: Message, walk: _Walk) -> None:
    """Collect text bodies and attached messages, iteratively (the parse bounded the
    number of parts and their depth)."""
    stack: list[Message] = [root]
    while stack:
        part = stack.pop()
        ctype = _content_type(part)
        if ctype in ("multipart/report", "message/delivery-status"):
            walk.is_report = True
        payload = _raw_payload(part)
        if ctype == "message/rfc822" or (
            isinstance(payload, list) and ctype.startswith("message/")
        ):
            walk.attach(part, payload)
        elif isinstance(payload, list):
            stack.extend(child for child in reversed(payload) if isinstance(child, Message))
        elif _filename(part).lower().endswith(".eml"):
            walk.attach(part, payload)
        elif ctype in ("text/plain", "text/html") and not _header(
            part, "content-disposition"
        ).lower().startswith("attachment"):
            walk.text(part, ctype)


def _payload_bytes(part: Message, limit: int) -> bytes:
    """The decoded payload (base64, quoted-printable), at most ``limit`` bytes."""
    payload = _raw_payload(part)
    if not isinstance(payload, str):
        return b""
    cte = _header(part, "content-transfer-encoding").strip().lower()
    raw = payload.encode("ascii", "surrogateescape")
    if cte == "base64":
        cleaned = raw[: limit * 4 // 3 + 4096].translate(None, _NOT_B64)
        cleaned += b"=" * (-len(cleaned) % 4)
        try:
            return binascii.a2b_base64(cleaned)[:limit]
        except (binascii.Error, ValueError):
            return raw[:limit]
    if cte == "quoted-printable":
        return quopri.decodestring(raw[: limit * 3])[:limit]
    return raw[:limit]


_B64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
_NOT_B64 = bytes(b for b in range(256) if b not in _B64)


_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "windows-1252": "cp1252",
    "cp1252": "cp1252",
    "utf8": "utf-8",
}


def decode_text(data: bytes, declared: str | None) -> str:
    """Bytes to text, tolerant of a missing or wrong charset declaration.

    Valid UTF-8 with non-ASCII bytes is taken as UTF-8 whatever the declaration
    says (a label that is wrong that way round is far more common than text that
    merely looks like UTF-8); otherwise the declared charset, then windows-1252.
    NUL bytes are dropped.
    """
    if data.isascii():
        text = data.decode("ascii")
    else:
        charset = _CHARSET_ALIASES.get((declared or "").strip().strip("\"'").lower(), declared)
        order: list[str] = ["utf-8"]
        if charset and charset.lower().startswith(("utf-16", "utf-32")):
            order.insert(0, charset)
        elif charset:
            order.append(charset)
        text = ""
        for codec in order:
            try:
                text = data.decode(codec)
                break
            except (UnicodeDecodeError, LookupError):
                continue
        else:
            text = data.decode("cp1252", errors="replace")
    return text.replace("\x00", "")


def decode_header_value(raw: object) -> str:
    """A header value unfolded, with RFC 2047 encoded words and raw 8-bit decoded."""
    if isinstance(raw, email.header.Header):
        raw = str(raw)
    if not isinstance(raw, str):
        return ""
    value = raw[: MAX_HEADER_CHARS * 4]
    if not value.isascii():
        value = decode_text(value.encode("utf-8", "surrogateescape"), None)
    if "=?" in value:
        with contextlib.suppress(Exception):  # hostile encoded words: keep the raw text
            value = str(email.header.make_header(email.header.decode_header(value)))
    return squash(value.replace("\x00", ""))[:MAX_HEADER_CHARS]


def raw_header_value(raw: object) -> str:
    """A header value unfolded and otherwise as sent: encoded words stay as they are.

    Raw 8-bit is read as UTF-8 (replacement characters where it is not); the value is
    kept up to one past ``MAX_RAW_HEADER_CHARS`` so an over-long field is seen as such.
    """
    if isinstance(raw, email.header.Header):
        raw = str(raw)
    if not isinstance(raw, str):
        return ""
    value = raw[: MAX_RAW_HEADER_CHARS + 1]
    if not value.isascii():
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return _FOLD.sub("", value)


def parse_addresses(value: str) -> list[str]:
    """The addr-specs in a raw address header (RFC 5322), lower case; [] when none can be read.

    ``value`` is the undecoded header: display names may be encoded words, an address
    never is (an encoded word standing where an address should is no address). A value
    over ``MAX_FROM_CHARS`` is unreadable as a whole, never cut.
    """
    if len(value) > MAX_FROM_CHARS:
        return []
    try:
        pairs = email.utils.getaddresses([value])
    except Exception:
        return []
    found = []
    for _name, raw in pairs:
        addr = raw.strip().strip("<>").lower()
        if addr and "@" in addr:
            found.append(addr)
    return found


def _parse_date(value: str) -> datetime | None:
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _raw_headers(msg: Message) -> list[tuple[object, object]]:
    """(name, value) as parsed, in order. The public accessors apply the policy, which
    can raise or rewrite on hostile input; the raw list cannot."""
    items: list[tuple[object, object]] = msg._headers  # type: ignore[attr-defined]
    return items


def _raw_payload(part: Message) -> object:
    """The payload as parsed: a list for multipart and message/*, else the raw text
    (``get_payload`` would re-decode 8-bit text and lose the original bytes)."""
    return part._payload  # type: ignore[attr-defined]


def _safe_name(name: object) -> str:
    return name if isinstance(name, str) else str(name)


def _header(part: Message, name: str) -> str:
    key = name.lower()
    for k, v in _raw_headers(part):
        if isinstance(k, str) and k.lower() == key:
            return v if isinstance(v, str) else str(v)
    return ""


def _params(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for piece in value.split(";")[1:20]:
        key, eq, val = piece.partition("=")
        if eq:
            params[key.strip().lower().rstrip("*")] = val.strip().strip('"')
    return params


def _content_type(part: Message) -> str:
    value = _header(part, "content-type")
    ctype = value.split(";", 1)[0].strip().lower()
    if "/" not in ctype or ctype.count("/") != 1 or len(ctype) > 100:
        parent_digest = part.get_default_type() if hasattr(part, "get_default_type") else ""
        return parent_digest or "text/plain"
    return ctype


def _charset(part: Message) -> str | None:
    return _params(_header(part, "content-type")).get("charset")


def _filename(part: Message) -> str:
    name = _params(_header(part, "content-disposition")).get("filename") or _params(
        _header(part, "content-type")
    ).get("name")
    return decode_header_value(name) if name else ""
