"""Telling the beheerders: quarantined and rejected mail, parked tasks, reminders that
could not be sent, requests on the default route, broken rules and outages.

Every occasion becomes a *notice* in the state store, keyed by what it is about
(``quarantine:12``, ``parked:184523``, ``outage:mailbox:imi:2026-11-16T09:00:00+00:00``),
so it is reported once however often the daemon restarts. A run collects new
occasions, then sends what is pending as one Dutch e-mail to the beheerders.

Exactly once, as far as e-mail allows: before sending, the pending notices are
bound to a Message-ID derived from their keys; after the notifier accepted the
mail they are marked sent. A crash in between sends the same mail again with the
same Message-ID, which mail clients and servers recognise as a repeat. A notifier
that is down leaves the notices pending: the same mail is tried again with the
back-off every outgoing mail has (``retry.mail_retry_delay``), and after a
failure that may hide a delivery (the server took the mail, the confirmation was
lost) not before ``reports.resend_minutes``: a report goes out at most once per
that period, however often the daemon's periodic work runs.

Urgent notices (outages, broken rules) go out at the next run; the others are
gathered for ``reports.digest_minutes`` so that a burst of bad mail makes one
e-mail, not a hundred. Notices carry no message bodies and no personal data:
mailbox name, message reference, request id and the reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog

from imi_mailwatch.actions import Action, desk_page, offer
from imi_mailwatch.clock import parse_ts
from imi_mailwatch.config import Beheerder, ReportsConfig
from imi_mailwatch.memo import beheerders_text
from imi_mailwatch.model import OutgoingMail
from imi_mailwatch.ports import Clock, Notifier, StateStore
from imi_mailwatch.reasons import dutch
from imi_mailwatch.sendonce import MailSender, Outcome, Sending
from imi_mailwatch.wording import FOLLOWUP_KIND, long_moment, word

if TYPE_CHECKING:  # the texts (Jinja2) load when a report is written, not for `route`
    from imi_mailwatch.texts import TextBook

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class NoticeKind:
    """How the report shows one kind of notice: its group's title and explanation, and
    the action it asks of the beheerders (its words and its desk page: actions.py)."""

    title: str
    lead: str = ""  # the explanation, before the action's own words when ``offered``
    action: Action | None = None  # links the group to the desk's page for it
    offered: bool = False  # the explanation ends with what to do (``offer(action)``)
    urgent: bool = False  # sent at the next run, not gathered for the digest

    @property
    def explanation(self) -> str:
        if not self.offered or self.action is None:
            return self.lead
        return " ".join(part for part in (self.lead, offer(self.action)) if part)


# Every notice kind, in the order of the report.
NOTICE_KINDS: dict[str, NoticeKind] = {
    "outage": NoticeKind("Storing", urgent=True),
    "rules": NoticeKind(
        "Routeringsregels afgekeurd", action=Action.FIX_RULES, offered=True, urgent=True
    ),
    "texts": NoticeKind("Teksten afgekeurd", action=Action.FIX_TEXTS, offered=True, urgent=True),
    "parked": NoticeKind(
        "Taak kon niet in Corsa worden aangemaakt", action=Action.CREATE_TASK, offered=True
    ),
    "followup": NoticeKind(
        "Herinnering kon niet worden verstuurd", action=Action.WARN_TEAM, offered=True
    ),
    "corsa": NoticeKind(
        "Taak in Corsa niet te volgen",
        "IMI-mailwatch leest de taken in Corsa terug (afgehandeld, verplaatst). Bij deze "
        "verzoeken lukte dat niet, of paste het niet bij de routeringsregels.",
        Action.ASSIGN_TEAM,
    ),
    "forward": NoticeKind(
        "Verzoek doorsturen naar een andere autoriteit",
        "Volgens de routeringsregels hoort dit verzoek bij een andere autoriteit. Er is "
        "geen taak in Corsa aangemaakt. Stuur het verzoek in IMI door naar de genoemde "
        "autoriteit, of maak zelf een taak aan als het toch voor de provincie is.",
        Action.ASSIGN_TEAM,
    ),
    "default": NoticeKind(
        "Verzoek zonder passende regel (standaardroute)",
        "Geen regel paste; de taak staat bij het team van de standaardroute.",
        Action.ASSIGN_TEAM,
        offered=True,
    ),
    "pending": NoticeKind(
        "Vervolgmelding over een verzoek zonder melding van het nieuwe verzoek",
        "IMI meldde iets over deze verzoeken, maar de melding van het nieuwe verzoek "
        "(waarmee het verzoek naar een team gaat) is na een dag nog niet binnen. Er is nog geen "
        "taak. Zoek het verzoek op in IMI; staat de melding in de quarantaine, geef die dan vrij.",
        Action.ASSIGN_TEAM,
    ),
    "reply": NoticeKind(
        "Opdracht per antwoordmail niet uitgevoerd",
        "Iemand gaf een opdracht door een mail van IMI-mailwatch te beantwoorden, maar "
        "de opdracht is niet uitgevoerd. De afzender heeft een uitleg gekregen. Bekijk bij "
        "twijfel het bericht in de mailbox, of voer de opdracht zelf uit.",
        Action.ASSIGN_TEAM,
    ),
    "rejected": NoticeKind(
        "Vervalst of niet-geverifieerd IMI-bericht geweigerd",
        "Deze berichten zeggen van IMI te komen, maar kwamen niet door de "
        "echtheidscontrole (DMARC/DKIM).",
        Action.CHECK_REJECTED,
        offered=True,
    ),
    "quarantine": NoticeKind(
        "Bericht in quarantaine",
        "Deze IMI-berichten konden niet (helemaal) gelezen worden.",
        Action.HANDLE_QUARANTINED,
        offered=True,
    ),
}
URGENT_KINDS = frozenset(name for name, kind in NOTICE_KINDS.items() if kind.urgent)
OTHER_KIND = NoticeKind("Overige meldingen")

# a follow-up may arrive before its new-request alert; after this long the beheerders hear
PENDING_AFTER = timedelta(days=1)

_COMPONENTS = {
    "task_sink": "het taaksysteem (Corsa)",
    "notifier": "het verzenden van e-mail",
    "rules": "de routeringsregels",
}


@dataclass(frozen=True, slots=True)
class Notice:
    key: str
    kind: str
    text: str  # one Dutch line, no personal data


def _by_kind(batch: Sequence[dict[str, str]]) -> list[tuple[NoticeKind, list[str]]]:
    """The notices' lines by kind in the order of the report; those of a kind the table
    does not know last, together (they are marked sent with the report all the same)."""
    groups = [
        (kind, [p["text"] for p in batch if p["kind"] == name])
        for name, kind in NOTICE_KINDS.items()
    ]
    groups.append((OTHER_KIND, [p["text"] for p in batch if p["kind"] not in NOTICE_KINDS]))
    return [(kind, lines) for kind, lines in groups if lines]


def _component_nl(component: str) -> str:
    if component.startswith("mailbox:"):
        return f"de mailbox {component.removeprefix('mailbox:')}"
    return _COMPONENTS.get(component, component)


class BeheerderReports:
    """Collects occasions into notices and mails them to the beheerders."""

    def __init__(
        self,
        store: StateStore,
        notifier: Notifier,
        clock: Clock,
        *,
        beheerders: Sequence[Beheerder],
        config: ReportsConfig,
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.clock = clock
        self.beheerders = tuple(beheerders)
        self.texts: TextBook | None = None  # the beheerders' texts and contacts (teksten/)
        self.desk_url: str | None = None  # web.public_url: the report links to its pages
        self.config = config
        self.resend_after = timedelta(minutes=config.resend_minutes)

    @property
    def recipients(self) -> tuple[str, ...]:
        """The beheerders' addresses: ``teksten/beheerders.yaml``, else the configured."""
        beheerders = self.texts.beheerders() if self.texts is not None else self.beheerders
        return tuple(b.email for b in beheerders)

    # -- occasions -------------------------------------------------------------------

    def report_rules_broken(
        self, error: Exception, *, occasion: str | None = None, at_start: bool = False
    ) -> None:
        """Broken rules: one notice per ``occasion`` (default: per distinct problem list).

        ``at_start``: the daemon started on the last good rules from the state store.
        """
        problems = getattr(error, "problems", None) or [str(error)]
        text = "\n".join(f"  {p}" for p in problems)
        key = "rules:" + (occasion or hashlib.sha256(text.encode()).hexdigest()[:16])
        lead = (
            "Bij het starten waren de routeringsregels ongeldig; de dienst werkt met de "
            "laatst goedgekeurde regels uit de statusopslag tot de fout is hersteld.\n"
            if at_start
            else "De gewijzigde routeringsregels zijn afgekeurd; de vorige regels blijven "
            "in gebruik tot de fout is hersteld.\n"
        )
        self._add(Notice(key, "rules", lead + text))

    def report_texts_broken(self, problems: Sequence[str]) -> None:
        """A broken template in teksten/: one notice per distinct problem list."""
        text = "\n".join(f"  {p}" for p in problems)
        key = "texts:" + hashlib.sha256(text.encode()).hexdigest()[:16]
        lead = "Een tekst in de map teksten is afgekeurd; de standaardtekst wordt gebruikt.\n"
        self._add(Notice(key, "texts", lead + text))

    def collect(self) -> None:
        """Turn what happened since the last run into notices (idempotent).

        Runs every few seconds: each query asks only for occasions without a notice
        yet, so a quiet daemon reads nothing and writes nothing here.
        """
        for q in self.store.quarantine_unreported():
            kind = "rejected" if q["kind"] == "rejected" else "quarantine"
            where = f"mailbox {q['source']}, bericht {q['ref']}"
            about = f", verzoek {q['request_id']}" if q["request_id"] else ""
            self._add(
                Notice(f"quarantine:{q['id']}", kind, f"{where}{about}: {dutch(q['reason'])}")
            )
            self.store.quarantine_reported(q["id"])
        for row in self.store.parked_unnoticed():
            self._add(
                Notice(
                    f"parked:{row['request_id']}",
                    "parked",
                    f"verzoek {row['request_id']}: {dutch(row['last_error'] or 'refused')}",
                )
            )
        proposed = {i.request_id for i in self.store.outbox_held()}  # routing.mode: propose
        for row in self.store.default_routed_unnoticed():
            if row["request_id"] in proposed:
                continue  # the proposal mail asks the beheerders already (AKKOORD / TEAM)
            self._add(
                Notice(
                    f"default:{row['request_id']}",
                    "default",
                    f"verzoek {row['request_id']}: geen regel paste, naar "
                    f"{row['team_name'] or 'de beheerders'} gestuurd.",
                )
            )
        since = self.clock.now() - PENDING_AFTER
        for row in self.store.pending_unnoticed(since):
            self._add(
                Notice(
                    f"pending:{row['request_id']}",
                    "pending",
                    f"verzoek {row['request_id']}: alleen vervolgmeldingen ontvangen, nog "
                    "geen melding van het nieuwe verzoek; nog geen team en geen taak.",
                )
            )
        for row in self.store.failed_followups_unnoticed():
            self._add(
                Notice(
                    f"followup:{row['id']}",
                    "followup",
                    f"verzoek {row['request_id']}: de {word(FOLLOWUP_KIND, row['kind'])} kon "
                    "niet worden verstuurd. "
                    f"{dutch(row['last_error'] or 'NotifierRejectedError')}",
                )
            )
        now = self.clock.now()
        for h in self.store.health():
            if h.ok or h.failing_since is None:
                continue
            minutes = (
                self.config.mailbox_unreachable_minutes
                if h.component.startswith("mailbox:")
                else None
            )
            if h.component in ("task_sink", "notifier"):
                minutes = self.config.sink_failing_minutes
            if minutes is None or now - h.failing_since < timedelta(minutes=minutes):
                continue
            self._add(
                Notice(
                    f"outage:{h.component}:{h.failing_since.isoformat()}",
                    "outage",
                    f"{_component_nl(h.component)} werkt niet sinds "
                    f"{long_moment(h.failing_since)}. {dutch(h.error) + ' ' if h.error else ''}"
                    "Niets gaat verloren: het werk wordt ingehaald zodra het weer werkt.",
                )
            )

    def _add(self, notice: Notice) -> None:
        if self.store.notice_add(notice.key, notice.kind, notice.text):
            self.store.audit("report.noticed", None, kind=notice.kind, key=notice.key)
            log.info("report.noticed", kind=notice.kind, key=notice.key)

    # -- sending ---------------------------------------------------------------------

    def run(self) -> int:
        """Collect and send; the daemon calls this periodically. Returns notices sent.

        A failure while collecting (traceback logged) never keeps what is already
        pending from being sent.
        """
        try:
            with self.store.transaction():
                self.collect()
        except Exception as exc:
            log.error("report.collect_failed", error=type(exc).__name__, exc_info=True)
        if not self.recipients:
            return 0
        return self.send_pending()

    @property
    def _sender(self) -> MailSender:
        return MailSender(self.store, self.notifier, self.clock, resend_after=self.resend_after)

    def _retry_due(self, first: dict[str, Any]) -> bool:
        """Whether an interrupted or refused mail may be tried again now (back-off)."""
        now = self.clock.now()
        next_at = parse_ts(first["next_attempt_at"])
        if next_at is None:
            return True  # interrupted by a crash: repeat it now
        attempts = int(first["attempts"])
        retry_at = self._sender.retry_at(next_at, now, attempts, first["last_error"])
        if retry_at != next_at:  # the clock jumped back
            log.warning("report.retry_clamped", ahead_s=int((next_at - now).total_seconds()))
            with self.store.transaction():
                self.store.notices_defer(
                    first["message_id"], attempts, retry_at, first["last_error"]
                )
        return now >= retry_at

    def _due(self) -> bool:
        """Whether a report is to be sent now, from the pending notices' kinds and ages
        alone: a digest window that gathers thousands of notices (a flood of mail no
        rule routes) does not read them all on every pass of the periodic work."""
        bound = self.store.notices_pending_bound()
        if bound is not None:
            return self._retry_due(bound)
        kinds = self.store.notices_pending_kinds()
        if not kinds:
            return False
        if URGENT_KINDS & kinds.keys():
            return True
        last_at = parse_ts(self.store.notices_last_sent())
        now = self.clock.now()
        oldest = min(parse_ts(at) or now for at in kinds.values())
        window = timedelta(minutes=self.config.digest_minutes)
        return last_at is None or now - last_at >= window or now - oldest >= window

    def send_pending(self) -> int:
        """Send the pending notices as one mail, through the send loop of every mail sent
        once (``sendonce``): the batch is bound to the mail's Message-ID before the
        notifier is called, and a repeat carries the same batch under the same ID."""
        if not self._due():
            return 0
        pending = self.store.notices_pending()
        if not pending:
            return 0
        bound = [p for p in pending if p["message_id"]]
        if bound:  # repeat the interrupted mail exactly
            message_id = bound[0]["message_id"]
            batch = [p for p in pending if p["message_id"] == message_id]
        else:
            batch = pending
            digest = hashlib.sha256("\n".join(p["key"] for p in batch).encode()).hexdigest()
            message_id = f"<report-{digest[:24]}@imi-mailwatch.invalid>"
        batch = [{**p, "message_id": message_id} for p in batch]
        s = Sending(batch, self.compose(batch, message_id), int(batch[0]["attempts"] or 0))
        outcome = self._sender.send(_ReportBook(self), s, self.clock.now())
        return len(batch) if outcome is Outcome.SENT else 0

    def compose(self, batch: Sequence[dict[str, str]], message_id: str) -> OutgoingMail:
        """The report mail: the beheerders' ``teksten/meldingen.j2``, else the shipped one."""
        groups = [
            {
                "titel": kind.title,
                "uitleg": kind.explanation,
                "regels": lines,
                "desk": desk_page(kind.action, self.desk_url) if kind.action else None,
            }
            for kind, lines in _by_kind(batch)
        ]
        review = any(p["kind"] in ("quarantine", "rejected") for p in batch)
        from imi_mailwatch.texts import shipped_texts

        parts = (self.texts or shipped_texts()).letter(
            "meldingen",
            aantal=len(batch),
            groepen=groups,
            beoordelen=offer(Action.REVIEW) if review else "",
            beheerders=beheerders_text(self.beheerders),
        )
        return OutgoingMail(
            message_id=message_id,
            to=self.recipients,
            subject=" ".join(parts["onderwerp"].split()),
            text=parts["tekst"].strip() + "\n",
        )


_Batch = list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class _ReportBook:
    """The steps of the send loop for a report: its rows are the notices it carries."""

    reports: BeheerderReports

    def sending(self, s: Sending[_Batch], now: datetime) -> None:
        self.reports.store.notices_bind([p["key"] for p in s.row], s.mail.message_id)

    def deferred(self, s: Sending[_Batch], now: datetime, delay: timedelta, error: str) -> None:
        self.reports.store.notices_defer(s.mail.message_id, s.attempts + 1, now + delay, error)
        log.warning("report.send_deferred", error=error, notices=len(s.row),
                    attempt=s.attempts + 1, retry_in_s=int(delay.total_seconds()))  # fmt: skip

    def sent(self, s: Sending[_Batch], now: datetime) -> None:
        message_id = s.mail.message_id
        self.reports.store.notices_sent(message_id)
        self.reports.store.audit("report.sent", None, notices=len(s.row), message_id=message_id)
        log.info("report.sent", notices=len(s.row), kinds=sorted({p["kind"] for p in s.row}))

    def failed(self, row: _Batch, now: datetime, error: str, exc: BaseException | None) -> None:
        """Refused: the notices stay pending (the beheerders must still hear of them) and
        the same mail is tried again after ``resend_after``, not at every pass."""
        store = self.reports.store
        log.error("report.send_failed", error=error, notices=len(row))
        store.record_health("notifier", ok=False, error=error)
        attempts = int(row[0]["attempts"] or 0) + 1
        store.notices_defer(row[0]["message_id"], attempts, now + self.reports.resend_after, error)
