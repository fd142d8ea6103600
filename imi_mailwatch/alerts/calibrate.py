"""Calibration: what was read from an alert, what was not, and the table entries that
would make it recognised. Pure: a parsed message and the layouts in, a report out.

This is how a beheerder adapts the daemon to the first real alert: the proposed
entries go into an override file in ``alerts.layouts_dir`` (see docs/alerts.md).
Guesses are marked as such; values a person must fill in are left as ``XX`` or 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from imi_mailwatch.alerts.extract import SDG_OPTIONAL, Reading, expected_fields, read_fields
from imi_mailwatch.alerts.fields import parse_date, parse_member_state, split_label
from imi_mailwatch.alerts.layouts import FIELD_NAMES, Layouts
from imi_mailwatch.alerts.text import fold, is_bullet, squash
from imi_mailwatch.model import AlertType, Module

MAX_CANDIDATES = 40
_DATEISH = re.compile(
    r"\d{1,4}\s?[-/.]\s?\d{1,2}\s?[-/.]\s?\d{2,4}|\b\d{1,2}\.?\s+[^\W\d]{3,}\s+\d{4}\b"
)
_DASH = "\\-\u2013"  # hyphen (escaped), en dash
_SUBJECT_PREFIX = re.compile(
    f"^\\s*IMI\\s*[:{_DASH}]\\s*(?:[^{_DASH}]{{1,60}}[{_DASH}]\\s*)?", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Found:
    """One field that was read, and where."""

    field: str
    value: str
    source: str  # "label" (line, label), "subject" or "body" (phrase)
    line: int | None = None
    text: str | None = None  # the label or phrase that matched


@dataclass(frozen=True, slots=True)
class Candidate:
    """A ``Label: value`` line with a label no table knows, and the field it may be."""

    line: int
    label: str
    value: str
    guess: str | None  # a field name, or None when the value gives no clue


@dataclass
class Calibration:
    """The outcome of calibrating one message's content."""

    subject: str
    reading: Reading
    language: str  # the language the proposal is for
    found: list[Found] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # field names (and "alert_type")
    unreadable: dict[str, int] = field(default_factory=dict)  # field -> line of its value
    candidates: list[Candidate] = field(default_factory=list)
    proposal: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # problems as the reader reported them
    type_guess: AlertType | None = None  # the proposed type of an unrecognised event

    @property
    def complete(self) -> bool:
        return not self.missing and not self.unreadable and not self.proposal

    def proposal_yaml(self) -> str:
        """The proposed override entries as YAML (empty when nothing is proposed)."""
        if not self.proposal:
            return ""
        text: str = yaml.safe_dump(
            {"language": self.language, **self.proposal},
            allow_unicode=True,
            sort_keys=False,
            default_flow_style=False,
            width=100,
        )
        return text


def calibrate(subject: str, text: str, layouts: Layouts) -> Calibration:
    """Read ``subject`` (prefixes off) and ``text`` and propose what is missing."""
    reading = read_fields(subject, text, layouts)
    language = reading.language or "nl"
    cal = Calibration(subject=subject, reading=reading, language=language)
    cal.notes = list(reading.problems)
    _found(cal)
    _missing(cal)
    cal.candidates = _candidates(text, layouts)
    _propose(cal, text, layouts)
    return cal


def _found(cal: Calibration) -> None:
    r = cal.reading
    if r.subject_hit is not None:
        cal.found.append(
            Found("alert_type", r.alert_type.value, "subject", None, r.subject_hit.phrase)
        )
    elif r.body_hit is not None:
        cal.found.append(Found("alert_type", r.alert_type.value, "body", None, r.body_hit.phrase))
    hits = {h.field: h for h in reversed(r.hits)}
    values: dict[str, str | None] = {
        "request_id": r.request_id,
        "legislative_area": r.legislative_area,
        "requesting_authority": r.requesting_authority,
        "member_state": r.member_state,
        "service_activities": "; ".join(r.service_activities) or None,
        "deadline": r.deadline.isoformat() if r.deadline else None,
    }
    for name in FIELD_NAMES:
        value = values[name]
        if value is None:
            continue
        hit = hits.get(name)
        if hit is not None:
            cal.found.append(Found(name, value, "label", hit.line, hit.label))
        else:
            cal.found.append(Found(name, value, "subject"))


def _missing(cal: Calibration) -> None:
    r = cal.reading
    if r.alert_type is AlertType.UNKNOWN:
        cal.missing.append("alert_type")
    have = {f.field for f in cal.found}
    for hit in r.hits:
        if hit.field in ("member_state", "deadline") and hit.field not in have and hit.value:
            cal.unreadable.setdefault(hit.field, hit.line)
    wanted = (
        set(FIELD_NAMES)
        if r.alert_type in (AlertType.NEW_REQUEST, AlertType.UNKNOWN)
        else {"request_id"}
    )
    wanted |= set(expected_fields(r.alert_type, r.module))
    if r.module is not Module.SERVICES:
        wanted -= SDG_OPTIONAL
    cal.missing.extend(
        name
        for name in FIELD_NAMES
        if name in wanted and name not in have and name not in cal.unreadable
    )


# Words in a label that hint at its field, folded (for labels no table knows yet).
LABEL_HINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("requesting_authority", ("autorit", "instan", "behord", "authorit", "organis")),
    ("legislative_area", ("gebied", "area", "bereich", "domaine", "sector")),
    ("service_activities", ("activ", "tatigkeit", "dienstleist", "dienstverlen")),
    ("member_state", ("lidstaat", "land", "staat", "state", "pays", "etat", "country")),
    ("deadline", ("datum", "date", "frist", "deadline", "termijn", "echeance")),
    ("request_id", ("id", "nummer", "number", "nr", "ref", "kenmerk", "numero")),
)


def _hint(label: str) -> str | None:
    words = re.findall(r"[a-z]+", fold(label))
    for name, stems in LABEL_HINTS:
        if any(
            w.startswith(stem) or (len(stem) > 3 and stem in w) for w in words for stem in stems
        ):
            return name
    return None


def _guess(label: str, value: str, following: list[str], layouts: Layouts) -> str | None:
    by_value = _guess_value(value, following, layouts)
    return by_value or _hint(label)


def _guess_value(value: str, following: list[str], layouts: Layouts) -> str | None:
    first = squash(value)
    if not first:
        return "service_activities" if following and is_bullet(following[0]) else None
    checks: tuple[tuple[str, bool], ...] = (
        ("request_id", re.fullmatch(r"\d{5,12}", first) is not None),
        ("deadline", bool(_DATEISH.search(first) or parse_date(first, layouts.months))),
        ("member_state", parse_member_state(first, layouts.member_states) is not None),
        ("service_activities", ";" in first),
    )
    return next((name for name, hit in checks if hit), None)


def _candidates(text: str, layouts: Layouts) -> list[Candidate]:
    lines = text.splitlines()[:5000]
    out: list[Candidate] = []
    for i, line in enumerate(lines):
        split = split_label(line)
        if split is None:
            continue
        label, value = squash(split[0]), squash(split[1])
        folded = fold(label)
        if (
            not label
            or folded in layouts.label_index
            or folded in layouts.forward_headers
            or "://" in line
            or len(label.split()) > 5
        ):
            continue
        guess = _guess(label, value, lines[i + 1 : i + 3], layouts)
        out.append(Candidate(i + 1, label, value[:120], guess))
        if len(out) >= MAX_CANDIDATES:
            break
    return out


def subject_phrase(subject: str, request_id: str | None) -> str | None:
    """The event part of a subject with ``{id}`` for the request id; None without an id."""
    if not request_id or request_id not in subject:
        return None
    event = _SUBJECT_PREFIX.sub("", subject, count=1).strip() or subject
    if request_id not in event:
        event = subject
    return event.replace(request_id, "{id}", 1)


_DATE_WORDS = r"\w*datum|date|deadline|\w*frist|termijn|delai"  # a proposed or changed date

# Words that hint at an alert type, folded (lower case, no accents), in nl, en, de
# and fr: a word naming the event weighs 2, a word that only fits it weighs 1
# (a reply date is no reply).
TYPE_HINTS: tuple[tuple[AlertType, int, str], ...] = (
    (AlertType.NEW_REQUEST, 2, r"nieuwe?|new|neue[sn]?|nouvel(?:le)?|nouveau"),
    (AlertType.NEW_REQUEST, 1, r"ontvangen|binnengekomen|received|eingegangen|recue?"),
    (
        AlertType.NEW_REQUEST,
        1,
        r"verificatie\w*|verif(?:y|ication)|uberprufung\w*|uitzondering"
        r"|exception|ausnahme\w*",
    ),
    (AlertType.ALLOCATED, 2, r"toegewezen|allocated|assigned|zugewiesen|attribuee?"),
    (AlertType.FORWARDED, 2, r"doorgestuurd|forwarded|weitergeleitet|transmise?"),
    (AlertType.DEADLINE_PROPOSED, 2, r"voorgesteld|proposed|vorgeschlagen|proposee?"),
    (AlertType.DEADLINE_CHANGED, 2, r"gewijzigd|veranderd|changed|amended|geandert|modifiee?"),
    (AlertType.DEADLINE_PROPOSED, 1, _DATE_WORDS),
    (AlertType.DEADLINE_CHANGED, 1, _DATE_WORDS),
    (AlertType.INFO_REQUESTED, 2, r"informatie|information|informationen|informations"),
    (AlertType.INFO_REQUESTED, 1, r"aanvullende?|further|additional|zusatzliche?|complementaires?"),
    (
        AlertType.REPLY_RECEIVED,
        2,
        r"(?:antwoord|reply|answer|antwort|(?<!date de )reponse)"
        r"(?!\s*(?:date|datum))|beantwoord|beantwortet|replied|answered|repondu",
    ),
    (AlertType.REPLY_RECEIVED, 1, r"ontvangen|received|eingegangen|recue?"),
    (AlertType.REMINDER, 2, r"herinnering|reminder|erinnerung|rappel"),
    (
        AlertType.REMINDER,
        2,
        r"nadert|verstreken|verlopen|approaching|passed|overdue|naht"
        r"|uberschritten|approche|depassee?",
    ),
    (AlertType.CLOSED, 2, r"afgesloten|gesloten|closed|abgeschlossen|cloturee?|close"),
    (AlertType.WITHDRAWN, 2, r"ingetrokken|withdrawn|zuruckgezogen|retiree?"),
    (AlertType.REFERRED, 2, r"doorverwezen|referred|verwiesen|renvoyee?"),
    (AlertType.REFERRED, 1, r"coordinator|koordinator|coordinateur"),
)
_TYPE_HINTS = tuple((t, w, re.compile(rf"\b(?:{p})\b")) for t, w, p in TYPE_HINTS)


def guess_type(text: str) -> AlertType | None:
    """The alert type a subject or sentence in an unknown layout most likely names.

    Each hint word found adds its weight; the type with the highest score wins when
    no other type scores as much. None when nothing fits.
    """
    folded = fold(text)
    score: dict[AlertType, int] = {}
    for alert_type, weight, pattern in _TYPE_HINTS:
        if pattern.search(folded):
            score[alert_type] = score.get(alert_type, 0) + weight
    if not score:
        return None
    ranked = sorted(score.items(), key=lambda kv: -kv[1])
    best, points = ranked[0]
    if len(ranked) > 1 and ranked[1][1] == points:
        return None
    return best


def _body_sentence(text: str) -> str | None:
    """The first sentence of the body that names an event (for an id-less subject)."""
    for raw in text.splitlines()[:40]:
        line = squash(raw)
        if line and split_label(line) is None and "://" not in line and guess_type(line):
            return line.rstrip(".")
    return None


def _propose(cal: Calibration, text: str, layouts: Layouts) -> None:
    r = cal.reading
    labels: dict[str, list[str]] = {}
    for cand in cal.candidates:
        if cand.guess in cal.missing and cand.guess not in labels:
            labels[cand.guess] = [cand.label]
    if labels:
        cal.proposal["labels"] = labels
    request_id = r.request_id
    if request_id is None:
        for cand in cal.candidates:
            if cand.guess == "request_id":
                request_id = cand.value
                break
    if r.alert_type is AlertType.UNKNOWN:
        phrase = subject_phrase(cal.subject, request_id)
        sentence = None if phrase is not None else _body_sentence(text)
        cal.type_guess = guess_type(phrase or sentence or "")
        name = cal.type_guess.value if cal.type_guess else "TYPE"
        if phrase is not None:
            cal.proposal["events"] = {name: {"subject": [phrase]}}
        elif sentence is not None:
            cal.proposal["events"] = {name: {"body": [sentence]}}
    state_hit = next((h for h in r.hits if h.field == "member_state"), None)
    if state_hit is not None and state_hit.value and r.member_state is None:
        cal.proposal["member_states"] = {squash(state_hit.value.splitlines()[0]): "XX"}
    date_hit = next((h for h in r.hits if h.field == "deadline"), None)
    if date_hit is not None and date_hit.value and r.deadline is None:
        words = [w for w in re.findall(r"[^\W\d_]{3,}", fold(date_hit.value))]
        unknown = [w for w in words if w not in layouts.months]
        if unknown:
            cal.proposal["months"] = {unknown[0]: 0}
