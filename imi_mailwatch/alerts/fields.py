"""Label/value lines to alert fields: request id, dates, member states, activities. Pure."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from imi_mailwatch.alerts.layouts import Layouts
from imi_mailwatch.alerts.text import fold, is_bullet, squash, strip_bullet

MAX_LINES = 5_000
MAX_LABEL_CHARS = 80
MAX_VALUE_LINES = 100


@dataclass(frozen=True, slots=True)
class LabelHit:
    """One labelled value found in a body."""

    field: str
    language: str
    label: str  # as written
    value: str  # as written; several lines for a list
    line: int  # 1-based line number in the text


def split_label(line: str) -> tuple[str, str] | None:
    """``'Lidstaat: Duitsland'`` -> ``('Lidstaat', 'Duitsland')``; None if no label."""
    s = line.strip().lstrip(">").strip().lstrip("*_").strip()
    idx = s.find(":")
    if idx == -1:
        idx = s.find("\uff1a")
    if 0 < idx <= MAX_LABEL_CHARS:
        return s[:idx].rstrip("*_ \t"), s[idx + 1 :].lstrip("*_ \t")
    if "\t" in s:
        label, _, value = s.partition("\t")
        if 0 < len(label) <= MAX_LABEL_CHARS:
            return label.strip(), value.strip()
    return None


def find_labels(text: str, layouts: Layouts) -> list[LabelHit]:
    """Every known label in ``text`` with its value, in order of appearance."""
    lines = text.splitlines()[:MAX_LINES]
    index = layouts.label_index
    hits: list[LabelHit] = []
    i = 0
    while i < len(lines):
        split = split_label(lines[i])
        known = index.get(fold(split[0])) if split else None
        if split is None or known is None:
            i += 1
            continue
        language, name = known
        value = squash(split[1])
        j = i + 1
        extra: list[str] = []
        if not value or name == "service_activities":
            j, extra = _continuation(lines, j, index, bullets_only=bool(value))
        if extra:
            value = "\n".join([value, *extra] if value else extra)
        hits.append(LabelHit(name, language, squash(split[0]), value, i + 1))
        i = j
    return hits


def _continuation(
    lines: list[str], start: int, index: Mapping[str, tuple[str, str]], *, bullets_only: bool
) -> tuple[int, list[str]]:
    """The lines that continue a value: bullets, or anything up to a blank line or label."""
    out: list[str] = []
    j = start
    while j < len(lines) and len(out) < MAX_VALUE_LINES:
        raw = lines[j].strip().lstrip(">").strip()
        if not raw:
            if out or j - start >= 1:
                break
            j += 1
            continue
        split = split_label(raw)
        if split is not None and fold(split[0]) in index:
            break
        if bullets_only and not is_bullet(raw):
            break
        out.append(squash(raw))
        j += 1
    return j, out


def languages_by_hits(hits: list[LabelHit]) -> list[str]:
    """Languages in order of how many labels of theirs were found."""
    return [lang for lang, _ in Counter(h.language for h in hits).most_common()]


def split_activities(value: str) -> tuple[str, ...]:
    """Service activities as written, in order: split on ``;`` and on lines, bullets removed."""
    out: list[str] = []
    for line in value.splitlines():
        for piece in line.split(";"):
            item = strip_bullet(piece)
            if item and item not in out:
                out.append(item)
    return tuple(out)


_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_NUMERIC = re.compile(r"(?<!\d)(\d{1,2})\s?[-/.]\s?(\d{1,2})\s?[-/.]\s?(\d{4})(?!\d)")
_DAY_MONTH = re.compile(
    r"(?<!\d)(\d{1,2})(?:er|st|nd|rd|th|e|\.)?\s+(?:of\s+|de\s+)?([a-z]{3,10})\.?,?\s+(\d{4})(?!\d)"
)
_MONTH_DAY = re.compile(r"\b([a-z]{3,10})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})(?!\d)")


def parse_date(value: str, months: Mapping[str, int]) -> date | None:
    """A date in dd-mm-yyyy, dd/mm/yyyy, dd.mm.yyyy, yyyy-mm-dd or a long form.

    Long forms use the month names of every layout (``14 maart 2027``,
    ``14. März 2027``, ``1er mars 2027``, ``March 14, 2027``); a weekday in front
    is ignored. Day first for numeric forms, as in every language of the layouts.
    """
    text = fold(value)[:200]
    for pattern, order in ((_ISO, "ymd"), (_NUMERIC, "dmy")):
        m = pattern.search(text)
        if m:
            parts = dict(zip(order, (int(g) for g in m.groups()), strict=True))
            found = _date(parts["y"], parts["m"], parts["d"])
            if found:
                return found
    m = _DAY_MONTH.search(text)
    if m and m.group(2) in months:
        found = _date(int(m.group(3)), months[m.group(2)], int(m.group(1)))
        if found:
            return found
    m = _MONTH_DAY.search(text)
    if m and m.group(1) in months:
        return _date(int(m.group(3)), months[m.group(1)], int(m.group(2)))
    return None


def _date(year: int, month: int, day: int) -> date | None:
    if not 1900 <= year <= 2200:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


_CODES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "IS",
        "LI",
        "NO",
        "CH",
    ]
)
_ALIASES = {"EL": "GR", "UK": "GB"}
_PAREN = re.compile(r"\(([^()]*)\)")


def parse_member_state(value: str, states: Mapping[str, str]) -> str | None:
    """A member state's ISO 3166-1 alpha-2 code from its name in any layout language or its code."""
    candidates = [value.strip()]
    candidates += _PAREN.findall(value)
    candidates.append(_PAREN.sub("", value))
    candidates += re.split("\\s[-\u2013/]\\s|,", value)
    for raw in candidates:
        candidate = raw.strip().strip(".")
        if not candidate:
            continue
        upper = candidate.upper()
        if len(candidate) == 2 and (upper in _CODES or upper in _ALIASES):
            return _ALIASES.get(upper, upper)
        code = states.get(fold(candidate))
        if code:
            return code
    return None


def find_request_id(value: str, pattern: re.Pattern[str]) -> str | None:
    m = pattern.search(value)
    return m.group(0) if m else None
