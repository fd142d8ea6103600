"""The Dutch e-mails of the deadline follow-up: reminders, closing, archive check. Pure.

Each mail is built from one ``Letter`` (greeting, facts, steps, notes) into a
plain-text and an HTML part that say the same. Reminders carry the reply date
as an .ics attachment. No personal data: the service provider's name is not
known to the daemon and stays a placeholder for the handler to fill in.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event

from imi_mailwatch.config import Beheerder
from imi_mailwatch.deadlines.calendar import add_months
from imi_mailwatch.memo import beheerders_text
from imi_mailwatch.model import Attachment, OutgoingMail, ReminderStep
from imi_mailwatch.records import RequestRecord
from imi_mailwatch.wording import (
    REQUEST_STATUS,
    calendar_days,
    long_date,
    term_text,
    word,
)

IMI_URL = "https://webgate.ec.europa.eu/imi-net/"
CASE_TYPE = "Informatieverzoeken algemeen"
RETENTION = "10 jaar"
BLOCK_MONTHS = 6  # IMI blocks personal data six months after closing


def status_text(request: RequestRecord, since: date | None) -> str:
    """The latest IMI status known, with the day IMI reported it."""
    status = word(REQUEST_STATUS, request.status)
    return f"{status} (gemeld op {long_date(since)})" if since else status


@dataclass(frozen=True, slots=True)
class Letter:
    """What one mail says, before it becomes text and HTML."""

    greeting: str
    intro: str
    facts: tuple[tuple[str, str], ...]
    heading: str
    steps: tuple[str, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def text(self) -> str:
        width = max(len(k) for k, _ in self.facts) + 2
        lines = [self.greeting, "", self.intro, ""]
        lines += [f"  {k + ':':<{width}} {v}" for k, v in self.facts]
        lines += ["", self.heading]
        lines += [f"{i}. {s}" for i, s in enumerate(self.steps, 1)]
        for note in self.notes:
            lines += ["", note]
        lines += ["", "-- ", "Dit bericht is automatisch verstuurd door imi-mailwatch."]
        return "\n".join(lines) + "\n"

    def html(self) -> str:
        e = html.escape
        rows = "".join(
            f'<tr><th style="text-align:left;padding:2px 12px 2px 0">{e(k)}</th>'
            f"<td>{e(v)}</td></tr>"
            for k, v in self.facts
        )
        steps = "".join(f"<li>{e(s)}</li>" for s in self.steps)
        notes = "".join(f"<p>{e(n)}</p>" for n in self.notes)
        return (
            '<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8"></head>'
            '<body style="font-family:Arial,sans-serif;font-size:14px">'
            f"<p>{e(self.greeting)}</p><p>{e(self.intro)}</p><table>{rows}</table>"
            f"<h3>{e(self.heading)}</h3><ol>{steps}</ol>{notes}"
            '<p style="color:#666;font-size:12px">Dit bericht is automatisch verstuurd door '
            "imi-mailwatch.</p></body></html>"
        )


@dataclass(frozen=True, slots=True)
class Envelope:
    """Who gets the mail and under which id."""

    message_id: str
    to: tuple[str, ...]
    cc: tuple[str, ...] = ()

    def mail(
        self,
        subject: str,
        letter: Letter,
        *,
        request_id: str,
        followup: str,
        attachments: tuple[Attachment, ...] = (),
    ) -> OutgoingMail:
        """The letter as an e-mail to these recipients, marked with request and follow-up."""
        return OutgoingMail(
            message_id=self.message_id,
            to=self.to,
            cc=self.cc,
            subject=subject,
            text=letter.text(),
            html=letter.html(),
            attachments=attachments,
            headers=(("X-IMI-Request", request_id), ("X-IMI-Followup", followup)),
        )


def _team(request: RequestRecord) -> str:
    return request.team_name or request.team_key or "(nog geen team)"


def _corsa(request: RequestRecord) -> str:
    if request.task_ref:
        return request.task_ref
    return "nog niet bekend (de taak wordt nog aangemaakt)"


def _activities(request: RequestRecord) -> str:
    return " / ".join(request.service_activities) or "[naam dienstverleningsactiviteit]"


def _beheerders_step(beheerders: Sequence[Beheerder]) -> str:
    return f"IMI-beheerder(s): {beheerders_text(beheerders)}."


def reply_date_ics(
    request: RequestRecord, reply_date: date, *, now: datetime, domain: str
) -> bytes:
    """A one-day calendar item on the reply date.

    The UID is the same for every reminder of a request, and SEQUENCE grows with
    time, so a calendar that already holds the item updates it when the date moved.
    """
    cal = Calendar()
    cal.add("prodid", "-//Provincie Noord-Brabant//imi-mailwatch//NL")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    ev = Event()
    ev.add("uid", f"imi-{request.request_id}-antwoorddatum@{domain}")
    ev.add("dtstamp", now.astimezone(UTC))
    ev.add("sequence", int((now - datetime(2020, 1, 1, tzinfo=UTC)).total_seconds() // 60))
    ev.add("dtstart", reply_date)
    ev.add("dtend", reply_date + timedelta(days=1))
    ev.add("summary", f"Antwoorddatum IMI-verzoek {request.request_id}")
    ev.add(
        "description",
        f"Uiterlijk vandaag het IMI-verzoek {request.request_id} in IMI beantwoorden "
        f"(team {_team(request)}; Corsa-kenmerk {_corsa(request)}).",
    )
    ev.add("transp", "TRANSPARENT")
    cal.add_component(ev)
    data: bytes = cal.to_ical()
    return data


def reminder_mail(
    request: RequestRecord,
    step: ReminderStep,
    env: Envelope,
    *,
    reply_date: date,
    working_days_left: int,
    today: date,
    beheerders: Sequence[Beheerder],
    now: datetime,
    domain: str,
    status_since: date | None = None,
) -> OutgoingMail:
    """A reminder or an escalation about one request's reply date.

    ``working_days_left`` is 0 on the reply date and also on the last working day
    before a reply date that falls on a closed day; the text tells them apart.
    """
    rid = request.request_id
    term = term_text(today, reply_date, working_days_left)
    escalation = working_days_left < 0 and "escalation" in step.recipients
    if working_days_left > 0:
        subject = (
            f"Herinnering: IMI-verzoek {rid} uiterlijk {reply_date:%d-%m-%Y} beantwoorden ({term})"
        )
        intro = (
            f"Het IMI-informatieverzoek {rid} moet uiterlijk {long_date(reply_date)} in IMI "
            f"beantwoord zijn; dat is {term}."
        )
    elif today == reply_date:
        subject = f"Vandaag: antwoorddatum IMI-verzoek {rid} ({reply_date:%d-%m-%Y})"
        intro = f"Vandaag, {long_date(reply_date)}, is de antwoorddatum van IMI-verzoek {rid}."
    elif working_days_left == 0 and today < reply_date:
        subject = f"Laatste werkdag: IMI-verzoek {rid} uiterlijk {reply_date:%d-%m-%Y} beantwoorden"
        intro = (
            f"De antwoorddatum van IMI-verzoek {rid} is {long_date(reply_date)}; de provincie "
            f"is die dag gesloten. Vandaag, {long_date(today)}, is de laatste werkdag ervoor."
        )
    else:
        prefix = "Escalatie" if escalation else "Termijn verstreken"
        subject = (
            f"{prefix}: IMI-verzoek {rid} had uiterlijk {reply_date:%d-%m-%Y} beantwoord "
            f"moeten zijn ({term})"
        )
        intro = (
            f"De antwoorddatum van IMI-verzoek {rid} ({long_date(reply_date)}) is verstreken; "
            f"IMI heeft nog niet gemeld dat het verzoek is afgesloten."
        )
    if working_days_left > 0:
        term = f"{term} ({calendar_days((reply_date - today).days)})"
    facts = (
        ("IMI-verzoek", rid),
        ("Team", _team(request)),
        ("Vakgebied", request.field or "onbekend"),
        ("Dienstverleningsactiviteit", _activities(request)),
        ("Antwoorddatum", long_date(reply_date)),
        ("Termijn", term),
        ("Laatst bekende stand in IMI", status_text(request, status_since)),
        ("Corsa-kenmerk", _corsa(request)),
    )
    steps = (
        f"Beantwoord het verzoek in IMI zelf ({IMI_URL}); antwoorden kan alleen daar. "
        "U hebt daarvoor toegang tot IMI nodig als raadpleger-behandelaar.",
        "Lukt het niet om op tijd te antwoorden, hoort de taak niet bij uw team of hebt u nog "
        "geen toegang tot IMI? Neem dan direct contact op met de " + _beheerders_step(beheerders),
        "Is het verzoek al beantwoord? Dan hoeft u niets te doen: de herinneringen stoppen zodra "
        "IMI meldt dat de verzoekende autoriteit het verzoek heeft afgesloten.",
    )
    notes = ["In de bijlage staat de antwoorddatum als agenda-item (.ics)."]
    if escalation:
        notes.insert(
            0,
            "Dit is een escalatie: de IMI-beheerders en de escalatiecontactpersoon ontvangen "
            "dit bericht ook. Elke werkdag volgt een nieuwe herinnering tot het verzoek is "
            "afgesloten.",
        )
    letter = Letter(
        greeting=f"Beste collega's van {_team(request)},",
        intro=intro,
        facts=facts,
        heading="Wat moet u doen?",
        steps=steps,
        notes=tuple(notes),
    )
    ics = reply_date_ics(request, reply_date, now=now, domain=domain)
    return env.mail(
        subject,
        letter,
        request_id=rid,
        followup=step.key,
        attachments=(Attachment(f"antwoorddatum-imi-{rid}.ics", "text/calendar", ics),),
    )


def _archive_steps(request: RequestRecord) -> tuple[str, ...]:
    return (
        "Maak in Corsa van het pdf-document dat u als taak ontving "
        f"(Corsa-kenmerk {_corsa(request)}) een zaak aan met de naam: "
        f'"IMI-verzoek over {_activities(request)} [naam dienstverlener]".',
        f'Kies als zaaktype "{CASE_TYPE}", met een bewaartermijn van {RETENTION}.',
        "Druk in IMI het eindrapport van het verzoek af als pdf en sla het op in Corsa bij "
        "deze zaak.",
    )


def closing_mail(
    request: RequestRecord,
    env: Envelope,
    *,
    closed_on: date,
    archive_check_on: date,
    beheerders: Sequence[Beheerder],
) -> OutgoingMail:
    """Once, when IMI reports the request closed: the archiving steps of the work instruction.

    ``archive_check_on`` is the working day the archive check is due
    (:func:`imi_mailwatch.deadlines.plan.archive_check_day`), not a month count.
    """
    rid = request.request_id
    block_on = add_months(closed_on, BLOCK_MONTHS)
    letter = Letter(
        greeting=f"Beste collega's van {_team(request)},",
        intro=(
            f"Het IMI-verzoek {rid} is op {long_date(closed_on)} in IMI afgesloten. Volgens de "
            "werkinstructie IMI-verzoeken archiveert de behandelaar het verzoek nu in Corsa."
        ),
        facts=(
            ("IMI-verzoek", rid),
            ("Team", _team(request)),
            ("Dienstverleningsactiviteit", _activities(request)),
            ("Corsa-kenmerk", _corsa(request)),
            ("Afgesloten op", long_date(closed_on)),
            ("Archiveren vóór", long_date(block_on)),
        ),
        heading="Zo archiveert u het verzoek",
        steps=_archive_steps(request),
        notes=(
            f"Doe dit ruim vóór {long_date(block_on)}: zes maanden na het afsluiten blokkeert "
            "IMI de persoonsgegevens in het verzoek, en na drie jaar worden ze gewist.",
            f"Op {long_date(archive_check_on)} stuurt imi-mailwatch een controlebericht. "
            "Vragen? " + _beheerders_step(beheerders),
        ),
    )
    return env.mail(
        f"IMI-verzoek {rid} is afgesloten: archiveer het vóór {block_on:%d-%m-%Y}",
        letter,
        request_id=rid,
        followup="closing",
    )


def archive_mail(
    request: RequestRecord,
    env: Envelope,
    *,
    closed_on: date,
    beheerders: Sequence[Beheerder],
) -> OutgoingMail:
    """The check before IMI blocks the personal data of a closed request."""
    rid = request.request_id
    block_on = add_months(closed_on, BLOCK_MONTHS)
    letter = Letter(
        greeting=f"Beste collega's van {_team(request)},",
        intro=(
            f"Het IMI-verzoek {rid} is op {long_date(closed_on)} afgesloten. Op "
            f"{long_date(block_on)} blokkeert IMI de persoonsgegevens erin. Is het verzoek al "
            "gearchiveerd in Corsa? Dan hoeft u niets te doen."
        ),
        facts=(
            ("IMI-verzoek", rid),
            ("Team", _team(request)),
            ("Dienstverleningsactiviteit", _activities(request)),
            ("Corsa-kenmerk", _corsa(request)),
            ("IMI blokkeert op", long_date(block_on)),
        ),
        heading="Nog niet gearchiveerd? Doe dan nu het volgende",
        steps=_archive_steps(request),
        notes=("Vragen? " + _beheerders_step(beheerders),),
    )
    return env.mail(
        f"Controle archivering IMI-verzoek {rid}: IMI blokkeert op {block_on:%d-%m-%Y}",
        letter,
        request_id=rid,
        followup="archive",
    )
