"""Checks that a text staff read is Dutch: no English words or codes of the daemon.

Shared by the tests of the reasons catalogue, the commands and the mail templates.
Technical detail in brackets (``(technisch: dmarc=fail for ...)``) is exempt: it
is there on purpose, for a beheerder to pass on to ops.
"""

from __future__ import annotations

import re

# English words and the daemon's own codes that must never reach a PNB employee
ENGLISH = (
    "new_request",
    "info_requested",
    "deadline_changed",
    "deadline_proposed",
    "reply_received",
    "reminder",
    "closing",
    "archive",
    "created",
    "pending",
    "parked",
    "rejected",
    "quarantined",
    "handled",
    "ignored",
    "allocated",
    "scheduled",
    "sent",
    "failed",
    "cancelled",
    "skipped",
    "the",
    "request",
    "alert",
    "without",
    "deadline",
    "reply",
    "review",
    "allowed",
    "sender",
    "unknown",
    "none",
    "None",
    "null",
    "due",
    "step",
    "kind",
    "today",
    "working days",
)
_WORDS = re.compile(r"(?<![\w/.@-])(" + "|".join(map(re.escape, ENGLISH)) + r")(?![\w/@-])")
_CODES = re.compile(r"\b[A-Za-z]+(?:Error|Exception)\b|\bd[+-]\d+r?\b|\{\{|\}\}|\{[a-z_]+\}")
_TECHNICAL = re.compile(r"\(technisch: [^)]*\)")


def english_in(text: str) -> list[str]:
    """English words, class names, step codes or unfilled placeholders found in ``text``."""
    plain = _TECHNICAL.sub("", text)
    found = [m.group(1) for m in _WORDS.finditer(plain)]
    found += [m.group(0) for m in _CODES.finditer(plain)]
    return found
