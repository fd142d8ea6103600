"""The history of one request: its audit trail as text, CSV or PDF.

``load_history`` reads what the state store keeps about one request (the
request row, its audit trail and its follow-ups) into a ``History`` value; the
``render_*`` functions are pure and turn that value into what a handler can
archive in the Corsa case. The history holds what the audit trail holds: ids,
alert types, dates, team, rule, task reference and reminder steps; never a
message body, an address or a name of a person.

Times are shown in Europe/Amsterdam; the CSV also carries them in ISO 8601 with
their offset, so that a spreadsheet sorts them right.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from imi_mailwatch.clock import AMSTERDAM, local_minute, parse_ts
from imi_mailwatch.desk.texts import action_line
from imi_mailwatch.pdf import PdfDocument, resolve_font
from imi_mailwatch.ports import StateStore
from imi_mailwatch.reasons import dutch
from imi_mailwatch.wording import (
    ALERT_TYPE,
    FOLLOWUP_STATUS,
    REQUEST_STATUS,
    TASK_SINK,
    followup_text,
    long_date,
    step_text,
    word,
)


@dataclass(frozen=True, slots=True)
class Event:
    """One line of the history."""

    at: datetime
    kind: str  # the audit action, or "followup.<status>" for a reminder
    text: str  # Dutch description
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class History:
    request_id: str
    status: str
    team: str | None
    deadline: date | None
    task: str | None  # "sink ref" of the task, when there is one
    created_at: datetime
    closed_at: datetime | None
    events: tuple[Event, ...]
    planned: tuple[Event, ...] = ()  # reminders still scheduled
    reduced: bool = False  # the record was reduced to a skeleton by the retention policy


def load_history(store: StateStore, request_id: str) -> History | None:
    """What the store keeps about one request, or None when it knows no such request."""
    with store.transaction():  # one consistent read
        request = store.get_request(request_id)
        if request is None:
            return None
        audit = store.audit_trail(request_id)
        followups = store.followups_of(request_id)
        actions = store.actions_of(request_id)
    events: list[Event] = []
    reduced = False
    for row in audit:
        action = str(row["action"])
        if action.startswith("followup."):
            continue  # the followups table below is the record of every reminder sent
        reduced = reduced or action == "privacy.reduced"
        detail = _detail(row["detail"])
        events.append(Event(_ts(row["at"]), action, describe(action, detail), detail))
    planned: list[Event] = []
    for row in followups:
        detail = {"step": row["step"], "kind": row["kind"]}
        status = str(row["status"])
        sent_at = parse_ts(row["sent_at"])
        what = _capital(followup_text(row["kind"], row["step"]))
        if sent_at is not None:
            events.append(Event(sent_at, "followup.sent", f"{what}: verstuurd", detail))
        elif status in ("cancelled", "skipped"):
            continue  # never sent; the audit trail says when and why plans changed
        elif status == "scheduled":
            text = f"{what}: gepland"
            planned.append(Event(_ts(row["due_at"]), "followup.scheduled", text, detail))
        else:
            text = f"{what}: {word(FOLLOWUP_STATUS, status)}"
            events.append(Event(_ts(row["updated_at"]), f"followup.{status}", text, detail))
    for a in actions:  # commands given by reply, CLI or web (imi_mailwatch.desk)
        e = a.entry
        text = action_line(e.command, e.actor, e.via, e.argument, e.ok)
        events.append(Event(a.at, f"action.{e.command}", text, {"via": e.via, "ok": e.ok}))
    events.sort(key=lambda e: e.at)  # stable: audit order is kept for equal times
    task = (
        f"{request.task_ref} in {word(TASK_SINK, request.task_sink)}" if request.task_ref else None
    )
    return History(
        request_id=request.request_id,
        status=request.status.value,
        team=request.team_name or request.team_key,
        deadline=request.deadline,
        task=task,
        created_at=request.created_at,
        closed_at=request.closed_at,
        events=tuple(events),
        planned=tuple(planned),
        reduced=reduced,
    )


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _routed(d: Mapping[str, Any]) -> str:
    if d.get("default"):
        return f"Gerouteerd naar {d.get('team', '?')} (standaardroute)"
    rule = f" (regel {d['rule']})" if d.get("rule") else ""
    return f"Gerouteerd naar {d.get('team', '?')}{rule}"


def _alert(d: Mapping[str, Any]) -> str:
    deadline = _date(d.get("deadline"))
    extra = f", antwoorddatum {long_date(deadline)}" if deadline else ""
    return f"IMI-melding geregistreerd: {word(ALERT_TYPE, d.get('alert_type'))}{extra}"


def _task(d: Mapping[str, Any]) -> str:
    verb = "Bestaande taak gevonden" if d.get("found_existing") else "Taak aangemaakt"
    return f"{verb} in {word(TASK_SINK, d.get('sink'))}: {d.get('task_ref', '?')}"


_DESCRIBE: Mapping[str, Callable[[Mapping[str, Any]], str]] = {
    "request.routed": _routed,
    "request.forward": lambda d: (
        f"Niet voor de provincie: de beheerders sturen het verzoek in IMI door naar "
        f"{d.get('to', '?')} (regel {d.get('rule', '?')}); geen taak aangemaakt"
    ),
    "alert.recorded": _alert,
    "task.created": _task,
    "task.annotated": lambda d: f"Regel toegevoegd aan het memo van taak {d.get('task_ref', '?')}",
    "task.parked": lambda d: (
        "Taak kon niet worden aangemaakt; de beheerders zijn gewaarschuwd. "
        + dutch(d.get("error") or "refused")
    ),
    "message.quarantined": lambda d: (
        "Bericht over dit verzoek in quarantaine gezet. " + dutch(d.get("reason"))
    ),
    "message.rejected": lambda d: (
        "Bericht over dit verzoek afgewezen. " + dutch(d.get("reason") or "failed authentication")
    ),
    "quarantine.resolved": lambda d: f"Quarantaine-item #{d.get('quarantine_id', '?')} opgelost",
    "quarantine.released": lambda d: (
        f"Quarantaine-item #{d.get('quarantine_id', '?')} vrijgegeven voor nieuwe verwerking"
    ),
    "followups.planned": lambda d: (
        "Herinneringen gepland: "
        + ("; ".join(step_text(s) for s in d.get("steps") or []) or "geen")
    ),
    "followups.cancelled": lambda d: (
        "Geplande herinneringen vervallen"
        + (f" (verzoek {word(REQUEST_STATUS, d['status'])})" if d.get("status") else "")
    ),
    "privacy.reduced": lambda d: "Teruggebracht tot een skelet volgens het bewaarbeleid",
    "history.attached": lambda d: f"Verloop toegevoegd aan taak {d.get('task_ref', '?')}",
    "history.attach_failed": lambda d: "Verloop kon niet aan de taak worden toegevoegd",
}

# the "soort" column of the CSV: the first part of the event's code, in Dutch
_SORT = {
    "request": "routering",
    "alert": "IMI-melding",
    "task": "taak",
    "message": "bericht",
    "quarantine": "quarantaine",
    "followups": "herinneringen",
    "followup": "e-mail",
    "privacy": "bewaarbeleid",
    "history": "verloop",
}


def describe(action: str, detail: Mapping[str, Any]) -> str:
    """A Dutch description of one audit action (an unknown one: a Dutch note and its code)."""
    render = _DESCRIBE.get(action)
    return render(detail) if render is not None else f"Gebeurtenis ({action})"


# -- rendering (pure) ----------------------------------------------------------------------


def _local(at: datetime) -> str:
    return local_minute(at)


def _header(h: History) -> list[tuple[str, str]]:
    rows = [
        ("IMI-verzoek", h.request_id),
        ("Status", word(REQUEST_STATUS, h.status)),
        ("Team", h.team or "onbekend"),
        ("Antwoorddatum", long_date(h.deadline) if h.deadline else "onbekend"),
        ("Taak", h.task or "geen"),
        ("Eerste melding", _local(h.created_at)),
    ]
    if h.closed_at is not None:
        rows.append(("Afgesloten", _local(h.closed_at)))
    if h.reduced:
        rows.append(("Let op", "teruggebracht tot een skelet; details zijn verwijderd"))
    return rows


def render_text(h: History) -> str:
    """The history as plain text (Dutch), one event per line."""
    lines = [f"{label + ':':<16} {value}" for label, value in _header(h)]
    lines.append("")
    lines.append(f"Verloop ({len(h.events)}):")
    for e in h.events:
        lines.append(f"  {_local(e.at)}  {e.text}")
    if h.planned:
        lines.append("")
        lines.append(f"Gepland ({len(h.planned)}):")
        for e in h.planned:
            lines.append(f"  {_local(e.at)}  {e.text}")
    return "\n".join(lines) + "\n"


CSV_COLUMNS = ("request_id", "tijdstip", "tijdstip_iso", "soort", "omschrijving", "code")


def render_csv(h: History) -> str:
    """The history as CSV (comma separated, UTF-8, a header row); planned reminders last.

    ``soort`` and ``omschrijving`` are Dutch; ``code`` is the event's stable code
    (``alert.recorded``), for whoever filters or counts the rows.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for e in (*h.events, *h.planned):
        writer.writerow(
            (
                h.request_id,
                _local(e.at),
                e.at.astimezone(AMSTERDAM).isoformat(timespec="seconds"),
                _SORT.get(e.kind.partition(".")[0], "overig"),
                e.text,
                e.kind,
            )
        )
    return buf.getvalue()


def render_pdf(h: History, *, font: str | Path | None = None, now: datetime | None = None) -> bytes:
    """The history as a PDF for the Corsa case (A4, Dutch)."""
    title = f"Verloop van IMI-verzoek {h.request_id}"
    header = _header(h)
    sections = [
        (heading, [_event_line(e) for e in events])
        for heading, events in (("Verloop", h.events), ("Gepland", h.planned))
        if events or heading == "Verloop"
    ]
    texts = [title, *(f"{k}: {v}" for k, v in header), *(t for _, ls in sections for t in ls)]
    doc = PdfDocument(title, header, font=resolve_font(font, texts), created=now)
    for heading, section_lines in sections:
        doc.section(heading, section_lines)
    if now is not None:
        doc.note(f"Opgesteld door imi-mailwatch op {_local(now)}.")
    return doc.output()


def _event_line(e: Event) -> str:
    return f"{_local(e.at)}  {e.text}"


def _detail(text: str | None) -> dict[str, Any]:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _date(value: object) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _ts(value: str | None) -> datetime:
    parsed = parse_ts(value)
    if parsed is None:
        raise ValueError("a stored timestamp is missing")
    return parsed
