"""Which request a reply answers: the daemon's own Message-IDs first, then the subject. Pure.

A reply names the mail it answers in ``In-Reply-To`` and the thread in
``References`` (RFC 5322, 3.6.4). When one of those is one of the daemon's own ids
(:mod:`imi_mailwatch.msgid`) at one of its id domains, it names the request; the
``In-Reply-To`` is read first, then ``References`` from the newest. Only when no
header names a request is the subject read: ``[IMI 184523]`` after any number of
``RE:``, ``AW:``, ``Antw:``, ``FW:``... prefixes. A subject naming two different
requests names none.

Linking says which request a reply is about; it is no proof of anything: whether the
sender may act on that request is decided by :mod:`imi_mailwatch.replies.trust` and
:mod:`imi_mailwatch.replies.authz`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from imi_mailwatch.alerts.mime import MailMessage
from imi_mailwatch.msgid import DaemonMessageId, message_ids_in, parse_message_id

__all__ = ["Link", "LinkedBy", "link_request", "request_in_subject", "strip_reply_prefixes"]


class LinkedBy(StrEnum):
    IN_REPLY_TO = "in-reply-to"
    REFERENCES = "references"
    SUBJECT = "subject"


@dataclass(frozen=True, slots=True)
class Link:
    """The request a reply is about, how that was found, and the mail it answers."""

    request_id: str
    by: LinkedBy
    answers: DaemonMessageId | None = None  # None when linked by the subject


_PREFIX = re.compile(
    r"^\s*(?:re|aw|antw|antwoord|fw|fwd|fwd?|doorst|wg|tr|sv|vs|r)\s*(?:\[\d+\])?\s*:\s*",
    re.IGNORECASE,
)
_SUBJECT_ID = re.compile(r"\[\s*IMI[\s:#-]*(\d{1,12})\s*\]", re.IGNORECASE)


def strip_reply_prefixes(subject: str) -> str:
    """The subject without its ``RE:``/``AW:``/``Antw:``/``FW:`` prefixes (any number)."""
    for _ in range(20):
        stripped = _PREFIX.sub("", subject, count=1)
        if stripped == subject:
            break
        subject = stripped
    return subject.strip()


def request_in_subject(subject: str) -> str | None:
    """The request id in ``[IMI 184523]``; None when there is none or several differ."""
    found = set(_SUBJECT_ID.findall(strip_reply_prefixes(subject)[:2000]))
    return found.pop() if len(found) == 1 else None


def link_request(message: MailMessage, id_domains: Iterable[str]) -> Link | None:
    """The request ``message`` replies to (see the module docstring), or None."""
    domains = tuple(id_domains)
    headers = (
        (LinkedBy.IN_REPLY_TO, message.get_all("in-reply-to")[:1]),
        (LinkedBy.REFERENCES, message.get_all("references")[:5]),
    )
    for by, values in headers:
        for mid in reversed(message_ids_in(" ".join(values))):
            ours = parse_message_id(mid, domains)
            if ours is not None:
                return Link(ours.request_id, by, ours)
    request_id = request_in_subject(message.subject)
    return Link(request_id, LinkedBy.SUBJECT) if request_id else None
