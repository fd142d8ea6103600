"""The daemon's own Message-IDs: made from what a mail is about, read back from a reply. Pure.

Every mail about a request carries ``<imi.{request}.{kind}.{key}@{domain}>``: the
request id, what the mail is (a reminder step such as ``dm5`` for five working days
before the reply date, ``notice``, ``confirm``...), and a key that tells two mails of
the same kind apart (a day ``20261120``, a digest). The same mail gets the same id on
every attempt, so a resend is recognised as a repeat, and a reply's
``In-Reply-To``/``References`` name the request it answers.

Each part holds only ``[A-Za-z0-9-]``: anything else becomes ``-``, so the dots
between the parts can always be read back. IMI request ids are digits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["DaemonMessageId", "make_message_id", "message_ids_in", "parse_message_id"]

PREFIX = "imi"
_UNSAFE = re.compile(r"[^A-Za-z0-9-]+")
_PART = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,118}[A-Za-z0-9])?"
_OURS = re.compile(
    rf"<{PREFIX}\.(?P<request>{_PART})\.(?P<kind>{_PART})\.(?P<key>{_PART})"
    r"@(?P<domain>[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)>"
)
_ANY_ID = re.compile(r"<[^<>\s]{1,300}>")
MAX_IDS = 100  # a References field names at most this many (the newest are kept)


@dataclass(frozen=True, slots=True)
class DaemonMessageId:
    """One of the daemon's own Message-IDs, read back: what it was about."""

    request_id: str
    kind: str
    key: str
    domain: str


def _part(value: str) -> str:
    return _UNSAFE.sub("-", value).strip("-")[:120].strip("-") or "x"


def make_message_id(request_id: str, kind: str, key: str, domain: str) -> str:
    """``<imi.184523.dm5.20261120@brabant.nl>``: the same arguments, the same id."""
    return f"<{PREFIX}.{_part(request_id)}.{_part(kind)}.{_part(key)}@{domain}>"


def parse_message_id(value: str, domains: Iterable[str] | None = None) -> DaemonMessageId | None:
    """The daemon's id in ``value`` (one ``<...>``), or None when it is not one of ours.

    With ``domains``, only ids at one of those domains (case-insensitive) are ours.
    """
    match = _OURS.fullmatch(value.strip())
    if match is None:
        return None
    domain = match["domain"].lower()
    if domains is not None and domain not in {d.strip().strip(".").lower() for d in domains}:
        return None
    return DaemonMessageId(match["request"], match["kind"], match["key"], domain)


def message_ids_in(value: str) -> list[str]:
    """The ``<...>`` ids in an In-Reply-To or References value, in order (at most the
    last :data:`MAX_IDS`)."""
    return _ANY_ID.findall(value[-MAX_IDS * 302 :])[-MAX_IDS:]
