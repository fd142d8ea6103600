"""The Monday overview: each team with open requests, and the beheerders for all teams,
get one Dutch mail a week listing the open requests, their reply dates, the working
days left, what is expected of the team and the proposals waiting.

It goes out on Monday at ``reports.overview_time`` (08:00) Amsterdam time. On a
Monday the province is closed (Easter Monday, Whit Monday, a configured closed
day) it goes out at that time on the next working day of the same week; a week
without a working day has no overview. A daemon that was down at that time sends
it when it runs again, on a working day of the same week. There is no mail when
there is nothing to say: a team without open requests gets none, and the
beheerders get none when no request is open and nothing waits in quarantine.

Each mail is keyed by its ISO week and team (``overview:2026-W48:milieu``) and
sent exactly once through :class:`~imi_mailwatch.mailings.ScheduledMailer`.
The text is the beheerders' ``teksten/maandagoverzicht.j2``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import structlog

from imi_mailwatch.clock import AMSTERDAM, local_today, parse_ts
from imi_mailwatch.deadlines.calendar import BusinessCalendar
from imi_mailwatch.mailings import MailingStore
from imi_mailwatch.memo import beheerders_text
from imi_mailwatch.model import OutgoingMail, RequestStatus
from imi_mailwatch.ports import QuarantineStore, RequestStore
from imi_mailwatch.records import RequestRecord
from imi_mailwatch.retry import MAIL_FIRST_WAIT
from imi_mailwatch.scheduled_report import ScheduledReport
from imi_mailwatch.texts import TextBook, shipped_texts
from imi_mailwatch.wording import REQUEST_STATUS, long_date, term_text, word

log = structlog.get_logger(__name__)

BEHEERDERS = "beheerders"  # the key of the overview of all teams


class OverviewStore(MailingStore, RequestStore, QuarantineStore, Protocol):
    """What the overview reads and records."""


_EXPECTED = {
    RequestStatus.OPEN: "wijs het verzoek in IMI toe aan een behandelaar en beantwoord het",
    RequestStatus.ALLOCATED: "beantwoord het verzoek in IMI",
    RequestStatus.INFO_REQUESTED: "beantwoord het verzoek in IMI zodra de gevraagde "
    "informatie binnen is",
}


@dataclass(frozen=True, slots=True)
class Recipient:
    key: str  # team key, or BEHEERDERS
    name: str
    to: tuple[str, ...]


def send_day(calendar: BusinessCalendar, today: date) -> date | None:
    """The day of this ISO week's overview: Monday, or the next working day of the week."""
    monday = today - timedelta(days=today.weekday())
    day = calendar.on_or_after(monday)
    return day if day.isocalendar()[:2] == monday.isocalendar()[:2] else None


def week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _short(day: date) -> str:
    return f"{day:%d-%m-%Y}"


def request_line(
    r: RequestRecord, alerts: Sequence[dict[str, Any]], today: date, cal: BusinessCalendar
) -> dict[str, Any]:
    """One open request as the template lists it (pure)."""
    last = alerts[-1] if alerts else None
    stand = word(REQUEST_STATUS, r.status.value)
    if last is not None:
        seen = parse_ts(last["sent_at"] or last["recorded_at"])
        if seen is not None:
            stand += f" (laatste melding uit IMI: {_short(seen.astimezone(AMSTERDAM).date())})"
    proposal = ""
    if last is not None and last["alert_type"] == "deadline_proposed":
        proposed = date.fromisoformat(last["deadline"]) if last["deadline"] else None
        proposal = "een nieuwe antwoorddatum" + (f" ({_short(proposed)})" if proposed else "")
        proposal += " is voorgesteld; aanvaard of weiger het voorstel in IMI"
    late = r.deadline is not None and r.deadline < today
    expected = _EXPECTED.get(r.status, "beantwoord het verzoek in IMI")
    if late:
        expected = "beantwoord het verzoek zo snel mogelijk in IMI; de antwoorddatum is verstreken"
    return {
        "verzoek": r.request_id,
        "team": r.team_name or "nog geen team",
        "antwoorddatum": long_date(r.deadline) if r.deadline else "onbekend",
        "antwoorddatum_kort": _short(r.deadline) if r.deadline else "onbekend",
        "termijn": (
            term_text(today, r.deadline, cal.working_days_between(today, r.deadline))
            if r.deadline
            else ""
        ),
        "te_laat": late,
        "stand": stand,
        "verwacht": expected,
        "voorstel": proposal,
    }


@dataclass(eq=False, repr=False)
class MondayOverview(ScheduledReport[OverviewStore]):
    """The periodic task that sends the week's overviews; ``_done`` is a week."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self._pause_until: datetime | None = None  # a mail waits for its back-off

    def due(self, now: datetime) -> tuple[date, str] | None:
        """(the overview's day, its week) when this week's overview is due at ``now``."""
        today = local_today(now)
        day = send_day(self.calendar, today)
        if day is None or not self.calendar.is_working_day(today):
            return None
        if self._before_time(now, day):
            return None
        return day, week_key(day)

    def run(self) -> int:
        """Send what is due this week and not sent yet; the number of mails sent now."""
        now = self.mailer.clock.now()
        due = self.due(now)
        if due is None or due[1] == self._done:
            return 0
        if self._pause_until is not None and now < self._pause_until:
            return 0  # a deferred mail is not due before its back-off: read nothing
        day, week = due
        today = local_today(now)
        book = self.texts or shipped_texts()
        groups = self._groups(today)
        sent, waiting = 0, 0
        for recipient, lines in groups:
            key = f"overview:{week}:{recipient.key}"
            if self.mailer.sent(key):
                continue
            context = self._context(recipient, lines, day, book)
            if not recipient.to or not context:
                continue  # nothing to say, or no one to say it to
            compose = functools.partial(self._mail, recipient=recipient, context=context, book=book)
            if self.mailer.send_once(key, compose):
                sent += 1
            else:
                waiting += 1
        if not waiting:
            self._done = week
            log.info("overview.done", week=week, sent=sent)
        self._pause_until = now + MAIL_FIRST_WAIT if waiting else None
        return sent

    def _groups(self, today: date) -> list[tuple[Recipient, list[dict[str, Any]]]]:
        open_requests = [
            r for r in self.store.requests(open_only=True) if r.status != RequestStatus.ANSWERED
        ]
        lines = {
            r.request_id: request_line(
                r, self.store.alert_history(r.request_id), today, self.calendar
            )
            for r in open_requests
        }
        teams: dict[str, Recipient] = {}
        per_team: dict[str, list[dict[str, Any]]] = {}
        for r in open_requests:
            if r.team_key is None or r.is_default:
                continue  # the beheerders' overview lists it
            to = (r.team_mailbox,) if r.team_mailbox else tuple(r.handlers)
            teams.setdefault(r.team_key, Recipient(r.team_key, r.team_name or r.team_key, to))
            per_team.setdefault(r.team_key, []).append(lines[r.request_id])
        beheerders = self._current_beheerders()
        groups = [(teams[k], per_team[k]) for k in sorted(teams)]
        everyone = Recipient(BEHEERDERS, "alle teams", tuple(b.email for b in beheerders))
        return [*groups, (everyone, [lines[r.request_id] for r in open_requests])]

    def _context(
        self, recipient: Recipient, lines: list[dict[str, Any]], day: date, book: TextBook
    ) -> dict[str, Any]:
        for_beheerders = recipient.key == BEHEERDERS
        counts = self.store.quarantine_counts() if for_beheerders else {}
        quarantined, rejected = counts.get("quarantined", 0), counts.get("rejected", 0)
        if not lines and not quarantined and not rejected:
            return {}
        ordered = sorted(lines, key=lambda x: (x["antwoorddatum_kort"] == "onbekend", _order(x)))
        return {
            "datum": long_date(day),
            "week": day.isocalendar()[1],
            "voor_beheerders": for_beheerders,
            "team": recipient.name,
            "verzoeken": ordered,
            "aantal": len(ordered),
            "te_laat": sum(1 for x in ordered if x["te_laat"]),
            "voorstellen": sum(1 for x in ordered if x["voorstel"]),
            "quarantaine": quarantined,
            "geweigerd": rejected,
            "beheerders": beheerders_text(self.beheerders),
        }

    @staticmethod
    def _mail(
        message_id: str, *, recipient: Recipient, context: dict[str, Any], book: TextBook
    ) -> OutgoingMail:
        parts = book.letter("maandagoverzicht", **context)
        return OutgoingMail(
            message_id=message_id,
            to=recipient.to,
            subject=" ".join(parts["onderwerp"].split()),
            text=parts["tekst"].strip() + "\n",
        )


def _order(line: dict[str, Any]) -> tuple[str, str]:
    short = str(line["antwoorddatum_kort"])
    return (short[6:] + short[3:5] + short[:2], str(line["verzoek"]))
