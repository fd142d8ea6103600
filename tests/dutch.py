"""Checks of a text staff read: Dutch, consistent dates, no contradictions, no holes.

- :func:`english_in`: English words and the daemon's codes (states, steps, class
  names, unfilled placeholders). Technical detail in brackets
  (``(technisch: dmarc=fail for ...)``) is exempt: it is there on purpose, for a
  beheerder to pass on to ops.
- :func:`problems_in`: all of that, plus "nog ... te laat", a weekday that does
  not match its date, a send announced for a closed day, "nog" before a past
  date, "vandaag" for another day, and an empty placeholder.

Shared by the tests of the reasons catalogue, the commands and the mail templates.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date

from imi_mailwatch.deadlines.calendar import BusinessCalendar
from imi_mailwatch.wording import MONTHS, WEEKDAYS

CAL = BusinessCalendar()

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


_LONG_DATE = re.compile(
    rf"\b({'|'.join(WEEKDAYS)}) (\d{{1,2}}) ({'|'.join(MONTHS)}) (\d{{4}})\b", re.IGNORECASE
)
_SEND_WORDS = re.compile(r"\b(stuurt|sturen|volgt|verstuurd|controlebericht)\b", re.IGNORECASE)
_STILL_TO_GO = re.compile(r"\bnog (?:\d+|te gaan)\b", re.IGNORECASE)  # not "nog niet"
_HOLES = re.compile(
    r"\{\w*\}|\bNone\b|\(\s*\)|\[\s*\]|\s[,.;:](?!\d)|^\s+[\w' -]+:\s*$|van ,|: \.|''"
)


def plain(part: str) -> str:
    """The text of an HTML part (tags off, entities resolved); a text part as it is."""
    if part.lstrip().startswith("<!DOCTYPE"):
        part = re.sub(r"<(?:td|th|p|li|h3|tr)[^>]*>", "\n", part)
        part = html.unescape(re.sub(r"<[^>]+>", " ", part))
        part = re.sub(r"[ \t]+", " ", part)
    return part


def _sentences(text: str) -> Iterator[str]:
    for line in text.splitlines():
        yield from (s for s in re.split(r"(?<=[.?!])\s+", line) if s.strip())


def problems_in(text: str, *, today: date | None = None) -> list[str]:
    """What is wrong with one text staff will read (empty: nothing)."""
    found = [f"English or code: {w}" for w in english_in(text)]
    for sentence in _sentences(text):
        if re.search(r"\bnog\b.*\bte laat\b", sentence, re.IGNORECASE):
            found.append(f"'nog' with 'te laat': {sentence}")
        announces = _SEND_WORDS.search(sentence) is not None
        for m in _LONG_DATE.finditer(sentence):
            weekday, day, month, year = m.groups()
            when = date(int(year), MONTHS.index(month.lower()) + 1, int(day))
            if WEEKDAYS[when.weekday()] != weekday.lower():
                found.append(f"weekday does not match its date: {m.group(0)}")
            if announces and not CAL.is_working_day(when):
                found.append(f"a send announced for a closed day: {sentence}")
            if today is not None and when < today and _STILL_TO_GO.search(sentence):
                found.append(f"a past date with 'nog': {sentence}")
            if sentence.lower().startswith("vandaag") and today is not None and when != today:
                found.append(f"'vandaag' is not today ({today}): {sentence}")
    for line in text.splitlines():
        if line.strip() == "--":  # the signature separator
            continue
        hole = _HOLES.search(line)
        if hole is not None:
            found.append(f"empty placeholder {hole.group(0)!r} in: {line}")
    return found
