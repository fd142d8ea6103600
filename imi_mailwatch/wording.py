"""The Dutch words staff read for the daemon's codes, dates and counts. Pure.

Every enum value that reaches a mail, ``status``, ``history`` or the demo is
turned into Dutch here and nowhere else: request states, alert types, task
states, follow-up kinds and states, reminder steps and quarantine kinds. The
tables are keyed by the plain string value, so a value read back from the state
store and the enum member itself find the same word. An unknown code is shown
as itself, in brackets, rather than hidden.

Dates read as Dutch dates (``maandag 26 april 2027``), counts agree with their
number (``1 werkdag``, ``2 werkdagen``), and a date in the past is never written
with "nog".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime

from imi_mailwatch.clock import AMSTERDAM

WEEKDAYS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def long_date(day: date) -> str:
    """``vrijdag 20 november 2026``."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


def long_moment(instant: datetime) -> str:
    """``maandag 16 november 2026 om 10:00`` in Amsterdam time."""
    local = instant.astimezone(AMSTERDAM)
    return f"{long_date(local.date())} om {local:%H:%M}"


def count(n: int, singular: str, plural: str) -> str:
    """``1 werkdag``, ``0 werkdagen``, ``2 werkdagen``."""
    return f"{n} {singular if abs(n) == 1 else plural}"


def working_days(n: int) -> str:
    """``1 werkdag`` / ``n werkdagen`` (the absolute number)."""
    return count(abs(n), "werkdag", "werkdagen")


def calendar_days(n: int) -> str:
    """``1 kalenderdag`` / ``n kalenderdagen`` (the absolute number)."""
    return count(abs(n), "kalenderdag", "kalenderdagen")


def term_text(today: date, reply_date: date, working_days_left: int) -> str:
    """Where a request stands against its reply date, as one phrase.

    ``working_days_left`` is ``BusinessCalendar.working_days_between(today, reply_date)``.
    It is 0 both on the reply date and on the last working day before a reply date
    that falls on a closed day; only the first is "vandaag".
    """
    if today == reply_date:
        return "vandaag is de antwoorddatum"
    if working_days_left > 0:
        return f"nog {working_days(working_days_left)}"
    if working_days_left < 0:
        return f"{working_days(working_days_left)} te laat"
    if today < reply_date:
        return "vandaag is de laatste werkdag vóór de antwoorddatum"
    return "de antwoorddatum is verstreken"


REQUEST_STATUS: Mapping[str, str] = {
    "open": "nieuw, nog niet toegewezen in IMI",
    "allocated": "toegewezen in IMI",
    "info_requested": "aanvullende informatie gevraagd",
    "answered": "beantwoord",
    "closed": "afgesloten",
    "withdrawn": "ingetrokken",
}

ALERT_TYPE: Mapping[str, str] = {
    "new_request": "nieuw verzoek",
    "allocated": "toegewezen aan een behandelaar",
    "forwarded": "doorgestuurd",
    "deadline_proposed": "nieuwe antwoorddatum voorgesteld",
    "deadline_changed": "antwoorddatum gewijzigd",
    "info_requested": "aanvullende informatie gevraagd",
    "reply_received": "antwoord ontvangen",
    "reminder": "herinnering van IMI",
    "closed": "afgesloten",
    "withdrawn": "ingetrokken",
    "referred": "doorverwezen",
    "unknown": "onbekende melding",
}

TASK_STATUS: Mapping[str, str] = {
    "pending": "wordt aangemaakt",
    "created": "aangemaakt",
    "parked": "niet aangemaakt (actie nodig)",
}

TASK_SINK: Mapping[str, str] = {
    "corsa": "Corsa",
    "drop_folder": "de taakmap",
    "email": "de postkamer (per e-mail)",
    "memory": "het testgeheugen",
}

FOLLOWUP_KIND: Mapping[str, str] = {
    "reminder": "herinnering",
    "closing": "afsluitbericht",
    "archive": "archiefcontrole",
    "task_notice": "bericht aan het team: taak aangemaakt",
    "task_close": "bericht aan het team: taak kan dicht",
    "acceptance": "herinnering om te aanvaarden",
    "own_request": "bericht over eigen verzoek",
    "own-reply": "antwoord op eigen verzoek",
    "own-closed": "eigen verzoek afgesloten",
}

FOLLOWUP_STATUS: Mapping[str, str] = {
    "scheduled": "gepland",
    "sending": "wordt verstuurd",
    "sent": "verstuurd",
    "skipped": "overgeslagen (een latere stap ging voor)",
    "cancelled": "vervallen",
    "failed": "mislukt (geweigerd door de mailserver)",
}

DISPOSITION: Mapping[str, str] = {
    "handled": "verwerkt",
    "ignored": "genegeerd",
    "quarantined": "quarantaine",
    "rejected": "afgewezen",
}

MODULE: Mapping[str, str] = {  # model.Module
    "services": "Dienstenrichtlijn",
    "sdg_evidence": "SDG: echtheid van elektronisch bewijs",
    "sdg_exceptions": "SDG: uitzonderingen op onlineprocedures",
}
QUARANTINE_KIND: Mapping[str, str] = {
    "quarantined": "quarantaine",
    "quarantine": "quarantaine",
    "rejected": "afgewezen",
}


def word(table: Mapping[str, str], code: object) -> str:
    """The Dutch word for ``code`` in ``table``; an unknown code as ``(code)``."""
    if code is None:
        return "onbekend"
    key = str(code)
    return table.get(key, f"({key})")


_STEP = re.compile(r"d([+-]\d+)(r?)")


def step_text(step: str) -> str:
    """A reminder step in words: ``d-5`` is "5 werkdagen vóór de antwoorddatum"."""
    if step in FOLLOWUP_KIND:
        return FOLLOWUP_KIND[step]
    m = _STEP.fullmatch(step)
    if m is None:
        return f"({step})"
    offset = int(m.group(1))
    if offset == 0:
        text = "op de antwoorddatum"
    elif offset < 0:
        text = f"{working_days(offset)} vóór de antwoorddatum"
    else:
        text = f"{working_days(offset)} na de antwoorddatum"
    return text + (", daarna elke werkdag" if m.group(2) else "")


def followup_text(kind: str, step: str) -> str:
    """``herinnering 5 werkdagen vóór de antwoorddatum``, ``afsluitbericht``."""
    name = word(FOLLOWUP_KIND, kind)
    if str(kind) == "reminder":
        return f"{name} {step_text(step)}"
    return name
