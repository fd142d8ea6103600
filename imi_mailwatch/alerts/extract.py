"""Subject and body text to alert fields, with a record of where each was found. Pure.

The subject is matched against the event phrases of every layout (``{id}`` marks
the request id); the body's ``Label: value`` lines give the fields; where the
subject says nothing, the body's event sentences give the alert type. What was
found, and where, is kept in a :class:`Reading`, so ``calibrate`` can show it and
the pipeline can log what was not recognised.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from imi_mailwatch.alerts.fields import (
    LabelHit,
    find_labels,
    find_request_id,
    languages_by_hits,
    parse_date,
    parse_member_state,
    split_activities,
)
from imi_mailwatch.alerts.layouts import DEFAULT_ID_PATTERN, Layout, Layouts
from imi_mailwatch.alerts.text import fold, squash
from imi_mailwatch.model import Alert, AlertType, Module

_V = TypeVar("_V")

MAX_BODY_CHARS_FOR_PHRASES = 20_000
MAX_FIELD_CHARS = 300
_PREFIX = re.compile(r"^\s*([^\s:\[\]]{1,12})\s*(?:\[\d{1,3}\])?\s*[:\uff1a]\s*")
_DEFAULT_ID = re.compile(f"(?<![0-9A-Za-z]){DEFAULT_ID_PATTERN}(?![0-9A-Za-z])")

# Which fields an alert of each type is expected to carry (the rest may be absent).
EXPECTED_FIELDS: dict[AlertType, tuple[str, ...]] = {
    AlertType.NEW_REQUEST: (
        "requesting_authority",
        "member_state",
        "service_activities",
        "deadline",
    ),
    AlertType.FORWARDED: ("member_state", "service_activities", "deadline"),
    AlertType.DEADLINE_PROPOSED: ("deadline",),
    AlertType.DEADLINE_CHANGED: ("deadline",),
}


# An SDG alert carries no service activities, and may leave the reply date to its term.
SDG_OPTIONAL = frozenset({"service_activities", "deadline"})


def expected_fields(alert_type: AlertType, module: Module) -> tuple[str, ...]:
    """The fields an alert of this type and module is expected to carry."""
    fields = EXPECTED_FIELDS.get(alert_type, ())
    if module is Module.SERVICES:
        return fields
    return tuple(f for f in fields if f not in SDG_OPTIONAL)


@dataclass(frozen=True, slots=True)
class SubjectInfo:
    """A subject with its reply/forward prefixes taken off."""

    text: str
    forward: bool  # FW:, Doorst:, WG:, TR: ...
    reply: bool  # Re:, Antw:, AW: ...


def strip_prefixes(subject: str, layouts: Layouts) -> SubjectInfo:
    """``'FW: RE: IMI - ...'`` -> ``SubjectInfo('IMI - ...', forward=True, reply=True)``."""
    text = squash(subject)
    forward = reply = False
    for _ in range(10):
        m = _PREFIX.match(text)
        if m is None:
            break
        word = fold(m.group(1))
        if word in layouts.forward_prefixes:
            forward = True
        elif word in layouts.reply_prefixes:
            reply = True
        else:
            break
        text = text[m.end() :]
    return SubjectInfo(text, forward, reply)


@dataclass(frozen=True, slots=True)
class PhraseHit:
    alert_type: AlertType
    language: str
    phrase: str
    request_id: str | None


def match_subject(subject: str, layouts: Layouts) -> PhraseHit | None:
    """The longest event phrase of any language found in ``subject``."""
    return _best(fold(subject), layouts, body=False)


def match_body(text: str, layouts: Layouts) -> PhraseHit | None:
    """The longest event sentence of any language found in the body."""
    return _best(fold(text[:MAX_BODY_CHARS_FOR_PHRASES]), layouts, body=True)


def _best(folded: str, layouts: Layouts, *, body: bool) -> PhraseHit | None:
    best: PhraseHit | None = None
    for layout in layouts.languages:
        for phrase in layout.body_phrases if body else layout.subject_phrases:
            m = phrase.pattern.search(folded)
            if m is None:
                continue
            found = m.groupdict().get("id")
            if best is None or len(phrase.text) > len(best.phrase):
                best = PhraseHit(phrase.alert_type, layout.language, phrase.text, found)
    return best


@dataclass(frozen=True, slots=True)
class Reading:
    """Everything read from one alert's subject and body, and where it came from."""

    alert_type: AlertType
    request_id: str | None
    language: str | None
    subject_hit: PhraseHit | None
    body_hit: PhraseHit | None
    hits: tuple[LabelHit, ...]
    legislative_area: str | None
    requesting_authority: str | None
    member_state: str | None
    service_activities: tuple[str, ...]
    deadline: date | None
    problems: tuple[str, ...]
    module: Module = Module.SERVICES

    @property
    def recognised(self) -> bool:
        """Whether anything of an IMI layout was found at all."""
        return bool(self.subject_hit or self.body_hit or self.hits)

    def alert(self, subject: str, message_id: str | None, sent_at: datetime | None) -> Alert:
        return Alert(
            alert_type=self.alert_type,
            request_id=self.request_id or "",
            language=self.language,
            legislative_area=self.legislative_area,
            requesting_authority=self.requesting_authority,
            member_state=self.member_state,
            service_activities=self.service_activities,
            deadline=self.deadline,
            subject=subject[:500],
            message_id=message_id,
            sent_at=sent_at,
            module=self.module,
        )


def find_module(area: str | None, subject: str, layouts: Layouts) -> Module:
    """The IMI module: the longest module name in the legislative area, else in the
    subject; Services when neither names one (the layouts' ``modules`` tables)."""
    for text in (area, subject):
        if not text:
            continue
        folded = fold(text)
        found = [(len(name), module) for name, module in layouts.modules.items() if name in folded]
        if found:
            return max(found, key=lambda hit: hit[0])[1]
    return Module.SERVICES


def _first(hits: list[LabelHit], name: str, language: str | None) -> LabelHit | None:
    own = [h for h in hits if h.field == name and h.language == language]
    if own:
        return own[0]
    other = [h for h in hits if h.field == name]
    return other[0] if other else None


def _short(value: str) -> str:
    return squash(value.splitlines()[0] if value else "")[:MAX_FIELD_CHARS]


def read_fields(subject: str, text: str, layouts: Layouts) -> Reading:
    """Read an alert from its subject (prefixes already off) and body text."""
    problems: list[str] = []
    subject_hit = match_subject(subject, layouts)
    hits = find_labels(text, layouts)
    body_hit = match_body(text, layouts) if subject_hit is None else None

    language = subject_hit.language if subject_hit else None
    if language is None:
        ranked = languages_by_hits(hits)
        language = ranked[0] if ranked else (body_hit.language if body_hit else None)
    layout: Layout | None = layouts.get(language) if language else None
    id_pattern = layout.id_pattern if layout is not None else _DEFAULT_ID

    if subject_hit is not None:
        alert_type = subject_hit.alert_type
    elif body_hit is not None:
        alert_type = body_hit.alert_type
    else:
        alert_type = AlertType.UNKNOWN
        problems.append("alert type: no event phrase found in the subject or the body")

    request_id = _request_id(hits, language, subject, subject_hit, id_pattern, problems=problems)
    values = _values(hits, language, layouts, problems)
    module = find_module(values.legislative_area, subject, layouts)
    for name in expected_fields(alert_type, module):
        if name not in values.present:
            problems.append(f"{name}: no label found")

    return Reading(
        alert_type=alert_type,
        request_id=request_id,
        language=language,
        subject_hit=subject_hit,
        body_hit=body_hit,
        hits=tuple(hits),
        legislative_area=values.legislative_area,
        requesting_authority=values.requesting_authority,
        member_state=values.member_state,
        service_activities=values.service_activities,
        deadline=values.deadline,
        problems=tuple(problems),
        module=module,
    )


def _request_id(
    hits: list[LabelHit],
    language: str | None,
    subject: str,
    subject_hit: PhraseHit | None,
    id_pattern: re.Pattern[str],
    *,
    problems: list[str],
) -> str | None:
    """The request id: the body's label first, else the subject's phrase or pattern."""
    request_id: str | None = None
    id_hit = _first(hits, "request_id", language)
    if id_hit is not None:
        request_id = find_request_id(id_hit.value, id_pattern)
        if request_id is None:
            problems.append(
                f"request_id: label '{id_hit.label}' on line {id_hit.line} "
                "has no value in the request id pattern"
            )
    subject_id = subject_hit.request_id if subject_hit else None
    if request_id is None:
        request_id = subject_id or find_request_id(subject, id_pattern)
    elif subject_id and subject_id != request_id:
        problems.append("request_id: the subject and the body name different ids (body used)")
    if request_id is None:
        problems.append("request_id: not found in the body or the subject")
    return request_id


@dataclass(frozen=True, slots=True)
class _Values:
    legislative_area: str | None
    requesting_authority: str | None
    member_state: str | None
    service_activities: tuple[str, ...]
    deadline: date | None
    present: frozenset[str]  # fields whose label was found with a value


def _parsed(
    hit: LabelHit | None, parse: Callable[[str], _V | None], problem: str, problems: list[str]
) -> _V | None:
    """A labelled field parsed; None, noting ``problem``, when it does not parse."""
    if hit is None:
        return None
    value = parse(_short(hit.value))
    if value is None:
        problems.append(problem.format(hit.line))
    return value


def _values(
    hits: list[LabelHit], language: str | None, layouts: Layouts, problems: list[str]
) -> _Values:
    """The labelled fields other than the request id, parsed."""
    found = {
        name: hit
        for name in ("legislative_area", "requesting_authority", "member_state", "deadline")
        if (hit := _first(hits, name, language)) is not None and hit.value
    }
    member_state = _parsed(
        found.get("member_state"),
        lambda v: parse_member_state(v, layouts.member_states),
        "member_state: value on line {} is not a known member state",
        problems,
    )
    deadline = _parsed(
        found.get("deadline"),
        lambda v: parse_date(v, layouts.months),
        "deadline: value on line {} is not a known date form",
        problems,
    )
    activities: tuple[str, ...] = ()
    activities_hit = _first(hits, "service_activities", language)
    if activities_hit is not None:
        activities = tuple(a[:MAX_FIELD_CHARS] for a in split_activities(activities_hit.value))
    present = set(found)
    if activities:
        present.add("service_activities")
    area = found.get("legislative_area")
    authority = found.get("requesting_authority")
    return _Values(
        legislative_area=_short(area.value) or None if area else None,
        requesting_authority=_short(authority.value) or None if authority else None,
        member_state=member_state,
        service_activities=activities[:50],
        deadline=deadline,
        present=frozenset(present),
    )


def claims_imi(subject: str, text: str, layouts: Layouts) -> bool:
    """Whether a message presents itself as an IMI alert, whoever sent it.

    An event phrase with a request id in the subject, or a request-id label with at
    least one other known label in the body.
    """
    hit = match_subject(subject, layouts)
    if hit is not None and hit.request_id:
        return True
    fields = {h.field for h in find_labels(text[:MAX_BODY_CHARS_FOR_PHRASES], layouts)}
    return "request_id" in fields and len(fields) >= 2
