"""The Dutch e-mails of the deadline follow-up: reminders, closing, archive check. Pure.

Each mail is built from one ``Letter`` (greeting, facts, steps, notes) into a
plain-text and an HTML part that say the same. The words (subject, greeting,
introduction, heading, steps, notes) come from the beheerders' letter templates
(``teksten/herinnering.j2``, ``afsluiting.j2``, ``archiefcontrole.j2``; see
:mod:`imi_mailwatch.texts`); the facts table, dates and counts come from here.
Reminders carry the reply date as an .ics attachment. No personal data: the
service provider's name is not known to the daemon and stays a placeholder for
the handler to fill in.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache

from imi_mailwatch.config import Beheerder
from imi_mailwatch.deadlines.calendar import add_months
from imi_mailwatch.memo import beheerders_text
from imi_mailwatch.model import Attachment, OutgoingMail, ReminderStep
from imi_mailwatch.records import RequestRecord
from imi_mailwatch.texts import TextBook
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
    actions: str = ""  # the reply commands (imi_mailwatch.actions.reply_actions)

    def text(self) -> str:
        width = max(len(k) for k, _ in self.facts) + 2
        lines = [self.greeting, "", self.intro, ""]
        lines += [f"  {k + ':':<{width}} {v}" for k, v in self.facts]
        lines += ["", self.heading]
        lines += [f"{i}. {s}" for i, s in enumerate(self.steps, 1)]
        for note in self.notes:
            lines += ["", note]
        if self.actions:
            lines += ["", self.actions]
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
        if self.actions:
            notes += "".join(
                f"<p>{'<br>'.join(e(line.strip()) for line in para.splitlines())}</p>"
                for para in self.actions.split("\n\n")
            )
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
    """Who gets the mail, under which id, where answers go and which commands it offers."""

    message_id: str
    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    reply_to: str | None = None  # the functional mailbox, which reads the answers
    actions: str = ""  # the reply commands for these recipients (actions.reply_actions)

    def mail(
        self,
        subject: str,
        letter: Letter,
        *,
        request_id: str,
        followup: str,
        attachments: tuple[Attachment, ...] = (),
    ) -> OutgoingMail:
        """The letter as an e-mail to these recipients, marked with request and follow-up.

        The subject starts with ``[IMI 184523]`` and the letter ends with the reply
        commands, so that an answer finds its request (imi_mailwatch.replies.linking).
        """
        if self.actions:
            letter = replace(letter, actions=self.actions)
        headers = [("X-IMI-Request", request_id), ("X-IMI-Followup", followup)]
        if self.reply_to:
            headers.insert(0, ("Reply-To", self.reply_to))
        return OutgoingMail(
            message_id=self.message_id,
            to=self.to,
            cc=self.cc,
            subject=tagged_subject(request_id, subject),
            text=letter.text(),
            html=letter.html(),
            attachments=attachments,
            headers=tuple(headers),
        )


def tagged_subject(request_id: str, subject: str) -> str:
    """``[IMI 184523] Herinnering: ...``: the tag that names the request, once, in front."""
    tag = f"[IMI {request_id}]"
    return subject if subject.startswith(tag) else f"{tag} {subject}"


def _team(request: RequestRecord) -> str:
    return request.team_name or request.team_key or "(nog geen team)"


def _corsa(request: RequestRecord) -> str:
    if request.task_ref:
        return request.task_ref
    return "nog niet bekend (de taak wordt nog aangemaakt)"


def _activities(request: RequestRecord) -> str:
    return " / ".join(request.service_activities) or "[naam dienstverleningsactiviteit]"


def reply_date_ics(
    request: RequestRecord, reply_date: date, *, now: datetime, domain: str
) -> bytes:
    """A one-day calendar item on the reply date.

    The UID is the same for every reminder of a request, and SEQUENCE grows with
    time, so a calendar that already holds the item updates it when the date moved.
    """
    from icalendar import Calendar, Event  # only here: 2.8 MiB the daemon rarely needs

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


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _items(text: str) -> tuple[str, ...]:
    """The points of a block: each starts with '- '; other lines continue the point before."""
    items: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("- "):
            items.append(stripped[2:].strip())
        elif items:
            items[-1] += " " + stripped
        else:
            items.append(stripped)
    return tuple(items)


def _letter(parts: dict[str, str], facts: tuple[tuple[str, str], ...]) -> tuple[str, Letter]:
    """The subject and the letter from the filled-in blocks of a letter template."""
    letter = Letter(
        greeting=_one_line(parts["aanhef"]),
        intro=_one_line(parts["inleiding"]),
        facts=facts,
        heading=_one_line(parts["kop"]),
        steps=_items(parts["stappen"]),
        notes=_items(parts["notities"]),
    )
    return _one_line(parts["onderwerp"]), letter


@cache
def shipped_texts() -> TextBook:
    """The shipped letter templates, when no TextBook of the beheerders is wired in."""
    return TextBook(None)


def _common(request: RequestRecord, beheerders: Sequence[Beheerder]) -> dict[str, object]:
    return {
        "verzoek": request.request_id,
        "team": _team(request),
        "beheerders": beheerders_text(beheerders),
        "activiteit": _activities(request),
        "corsa": _corsa(request),
    }


def _state(today: date, reply_date: date, working_days_left: int) -> str:
    if working_days_left > 0:
        return "voor"
    if today == reply_date:
        return "vandaag"
    if working_days_left == 0 and today < reply_date:
        return "laatste_werkdag"
    return "verstreken"


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
    texts: TextBook | None = None,
) -> OutgoingMail:
    """A reminder or an escalation about one request's reply date (``herinnering.j2``).

    ``working_days_left`` is 0 on the reply date and also on the last working day
    before a reply date that falls on a closed day; ``toestand`` tells them apart.
    """
    rid = request.request_id
    term = term_text(today, reply_date, working_days_left)
    escalation = working_days_left < 0 and "escalation" in step.recipients
    parts = (texts or shipped_texts()).letter(
        "herinnering",
        **_common(request, beheerders),
        antwoorddatum=long_date(reply_date),
        antwoorddatum_kort=f"{reply_date:%d-%m-%Y}",
        vandaag=long_date(today),
        termijn=term,
        toestand=_state(today, reply_date, working_days_left),
        escalatie=escalation,
        vakgebied=request.field or "onbekend",
        imi_url=IMI_URL,
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
    subject, letter = _letter(parts, facts)
    ics = reply_date_ics(request, reply_date, now=now, domain=domain)
    return env.mail(
        subject,
        letter,
        request_id=rid,
        followup=step.key,
        attachments=(Attachment(f"antwoorddatum-imi-{rid}.ics", "text/calendar", ics),),
    )


def closing_mail(
    request: RequestRecord,
    env: Envelope,
    *,
    closed_on: date,
    archive_check_on: date,
    beheerders: Sequence[Beheerder],
    texts: TextBook | None = None,
) -> OutgoingMail:
    """Once, when IMI reports the request closed: the archiving steps (``afsluiting.j2``).

    ``archive_check_on`` is the working day the archive check is due
    (:func:`imi_mailwatch.deadlines.plan.archive_check_day`), not a month count.
    """
    rid = request.request_id
    block_on = add_months(closed_on, BLOCK_MONTHS)
    words = _closed_words(request, beheerders, closed_on, block="archiveren_voor")
    parts = (texts or shipped_texts()).letter(
        "afsluiting", **words, controle_op=long_date(archive_check_on)
    )
    facts = (
        *_closed_facts(request),
        ("Afgesloten op", long_date(closed_on)),
        ("Archiveren vóór", long_date(block_on)),
    )
    subject, letter = _letter(parts, facts)
    return env.mail(subject, letter, request_id=rid, followup="closing")


def _closed_words(
    request: RequestRecord, beheerders: Sequence[Beheerder], closed_on: date, *, block: str
) -> dict[str, object]:
    """The words of every letter about a closed request (close-out, archive check);
    ``block`` (and ``<block>_kort``) names the day IMI blocks the personal data."""
    block_on = add_months(closed_on, BLOCK_MONTHS)
    return {
        **_common(request, beheerders),
        "afgesloten_op": long_date(closed_on),
        block: long_date(block_on),
        f"{block}_kort": f"{block_on:%d-%m-%Y}",
        "zaaktype": CASE_TYPE,
        "bewaartermijn": RETENTION,
    }


def _closed_facts(request: RequestRecord) -> tuple[tuple[str, str], ...]:
    """The facts that open the letters about a closed request (close-out, archive check)."""
    return (
        ("IMI-verzoek", request.request_id),
        ("Team", _team(request)),
        ("Dienstverleningsactiviteit", _activities(request)),
        ("Corsa-kenmerk", _corsa(request)),
    )


def archive_mail(
    request: RequestRecord,
    env: Envelope,
    *,
    closed_on: date,
    beheerders: Sequence[Beheerder],
    texts: TextBook | None = None,
) -> OutgoingMail:
    """The check before IMI blocks the personal data (``archiefcontrole.j2``)."""
    rid = request.request_id
    block_on = add_months(closed_on, BLOCK_MONTHS)
    words = _closed_words(request, beheerders, closed_on, block="blokkeert_op")
    parts = (texts or shipped_texts()).letter("archiefcontrole", **words)
    facts = (*_closed_facts(request), ("IMI blokkeert op", long_date(block_on)))
    subject, letter = _letter(parts, facts)
    return env.mail(subject, letter, request_id=rid, followup="archive")


def own_request_mail(
    request: RequestRecord,
    env: Envelope,
    *,
    closed_on: date | None,
    beheerders: Sequence[Beheerder],
    texts: TextBook | None = None,
) -> OutgoingMail:
    """The province's own request (``eigen-verzoek.j2``): a reply waits in IMI, or, with
    ``closed_on``, it is closed and the final report goes into the zaak."""
    rid = request.request_id
    parts = (texts or shipped_texts()).letter(
        "eigen_verzoek",
        **_common(request, beheerders),
        afgesloten=closed_on is not None,
        afgesloten_op=long_date(closed_on) if closed_on else "",
        imi_url=IMI_URL,
    )
    facts: tuple[tuple[str, str], ...] = (
        ("IMI-verzoek", rid),
        ("Soort", "verzoek van de provincie aan een buitenlandse autoriteit"),
    )
    if closed_on is not None:
        facts += (("Afgesloten op", long_date(closed_on)),)
    subject, letter = _letter(parts, facts)
    step = "own-closed" if closed_on is not None else "own-reply"
    return env.mail(subject, letter, request_id=rid, followup=step)
