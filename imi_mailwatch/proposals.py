"""Route proposals (``routing.mode: propose``): a new request's task waits for a beheerder.

In ``propose`` the pipeline records a new request as in ``auto`` (the request, its
follow-ups from the moment it is known, the intent to create its Corsa task), and in
the same transaction :meth:`Proposals.hold` sets that intent aside (outbox status
``held``: recorded, not carried out) and owes the beheerders the proposal mail
(``teksten/voorstel.j2``, sent by the desk mailer under a deterministic Message-ID):
the proposed team, the rule and why (``route --explain``'s words), what the alert
said and the memo that would go to Corsa, with the commands AKKOORD and TEAM.

AKKOORD or TEAM x (:func:`imi_mailwatch.desk.apply_command`) calls :func:`release`
in the transaction of the desk action: the held intent becomes pending again, its
task re-routed to the request's team, and the task outbox creates it exactly once.
:meth:`Proposals.remind_due` puts an unconfirmed proposal to the beheerders again,
once, after ``routing.proposal_reminder_hours`` working hours.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog

from imi_mailwatch.config import Beheerder
from imi_mailwatch.deadlines.calendar import BusinessCalendar
from imi_mailwatch.deadlines.mails import Envelope, _common, _letter, shipped_texts
from imi_mailwatch.model import Alert, OutgoingMail, alert_from_payload
from imi_mailwatch.msgid import make_message_id
from imi_mailwatch.ports import Clock, StateStore
from imi_mailwatch.records import OutboxItem, RequestRecord
from imi_mailwatch.replies.authz import Role
from imi_mailwatch.replies.texts import actions_block
from imi_mailwatch.texts import TextBook
from imi_mailwatch.wording import long_date

if TYPE_CHECKING:
    from imi_mailwatch.rules import RuleSet

HELD = "held"  # the outbox status of a create intent that waits for AKKOORD / TEAM
_STEP = {False: "proposal", True: "proposal-reminder"}  # X-IMI-Followup, Message-ID kind

log = structlog.get_logger(__name__)

Explain = Callable[[Alert], Sequence[str]]  # the chosen rule's verdict, in Dutch lines


def chosen_verdict(ruleset: RuleSet, alert: Alert) -> list[str]:
    """Why the chosen rule (or the default route) fits ``alert``: ``route --explain``'s
    Dutch reasons, without the rules file's path."""
    for verdict in ruleset.explain(alert):
        if verdict.chosen:
            return list(verdict.reasons)
    return []


def held_item(store: StateStore, request_id: str) -> OutboxItem | None:
    """The request's create intent that waits for a confirmation, if any."""
    found = [i for i in store.outbox_held(request_id=request_id) if i.action == "create_task"]
    return found[0] if found else None


def release(store: StateStore, request: RequestRecord) -> bool:
    """Inside the desk action's transaction: the held create intent is released, its task
    routed to the request's (chosen) team. False when nothing was held."""
    item = held_item(store, request.request_id)
    if item is None:
        return False
    store.outbox_release(item.id, rerouted(item.payload, request))
    store.audit("proposal.released", request.request_id, team=request.team_key)
    log.info("proposal.released", request_id=request.request_id, team=request.team_key)
    return True


def rerouted(payload: Mapping[str, Any], request: RequestRecord) -> dict[str, Any]:
    """The task payload sent to the request's team (the memo is rendered with its name)."""
    team = {
        "key": request.team_key,
        "name": request.team_name,
        "org_unit": request.org_unit,
        "mailbox": request.team_mailbox,
        "handlers": list(request.handlers),
    }
    return {**payload, "team": team}


def after_working_hours(calendar: BusinessCalendar, start: datetime, hours: int) -> datetime:
    """The moment ``hours`` working hours after ``start`` (the calendar's working hours)."""
    left = timedelta(hours=hours)
    at = calendar.next_working_moment(start)
    while True:
        day = calendar.local_date(at)
        closing = datetime.combine(day, calendar.end, tzinfo=calendar.tz)
        if left <= closing - at:
            return at + left
        left -= closing - at
        at = calendar.opening(calendar.next_working_day(day))


@dataclass
class Proposals:
    """The proposals of ``routing.mode: propose`` (module docstring)."""

    clock: Clock
    calendar: BusinessCalendar
    beheerders: tuple[Beheerder, ...]
    domain: str
    reply_to: str | None = None
    reminder_hours: int = 4
    explain: Explain | None = None
    texts: TextBook | None = None

    def hold(self, store: StateStore, request_id: str) -> bool:
        """Inside the recording transaction: hold the new request's create intent and owe
        the proposal mail. False when there was no intent to hold."""
        item = next(
            (i for i in store.outbox_due(request_id=request_id) if i.action == "create_task"),
            None,
        )
        request = store.get_request(request_id)
        if item is None or request is None:
            return False
        store.outbox_finish(item.id, HELD)
        store.desk_mail_add(request_id, self.mail(request, item.payload, reminder=False))
        store.audit("proposal.held", request_id, team=request.team_key, rule=request.rule)
        log.info("proposal.held", request_id=request_id, team=request.team_key)
        return True

    def drop(self, store: StateStore, request_id: str) -> bool:
        """Inside the recording transaction: the request was closed or withdrawn before its
        route was confirmed, so its held task is never created. False when none was held."""
        item = held_item(store, request_id)
        if item is None:
            return False
        store.outbox_finish(item.id, "skipped", "request ended before the route was confirmed")
        store.outbox_clear_payload(item.id)
        store.audit("proposal.dropped", request_id)
        log.info("proposal.dropped", request_id=request_id)
        return True

    def remind(self, store: StateStore) -> int:
        """Owe the reminder of each proposal unconfirmed ``reminder_hours`` working hours
        after it was made (once: its Message-ID is fixed). Returns how many were owed."""
        if not self.reminder_hours:
            return 0
        now, owed = self.clock.now(), 0
        for item in store.outbox_held():
            request = store.get_request(item.request_id)
            made = item.created_at
            if request is None or made is None:
                continue
            if after_working_hours(self.calendar, made, self.reminder_hours) > now:
                continue
            owed_before = {m.message_id for m in store.desk_mails_of(item.request_id)}
            if self.message_id(item.request_id, reminder=True) in owed_before:
                continue  # reminded before (the common case: no letter is rendered)
            mail = self.mail(request, item.payload, reminder=True)
            with store.transaction():
                if store.desk_mail_add(item.request_id, mail):
                    store.audit("proposal.reminded", item.request_id)
                    log.info("proposal.reminded", request_id=item.request_id)
                    owed += 1
        return owed

    def message_id(self, request_id: str, *, reminder: bool) -> str:
        """The proposal's (or its reminder's) fixed Message-ID: it is owed once."""
        return make_message_id(request_id, _STEP[reminder], "1", self.domain)

    def mail(
        self, request: RequestRecord, payload: Mapping[str, Any], *, reminder: bool
    ) -> OutgoingMail:
        """The proposal (or its reminder) to the beheerders, answerable with AKKOORD / TEAM."""
        step = _STEP[reminder]
        rule = f"regel {request.rule}" if request.rule else "de standaardroute"
        if request.is_default:
            rule = "de standaardroute (geen regel paste)"
        parts = (self.texts or shipped_texts()).letter(
            "voorstel",
            **_common(request, self.beheerders),
            regel=rule,
            herinnering=reminder,
            termijn=f"{self.reminder_hours} werkuren",
        )
        subject, letter = _letter(parts, self._facts(request, payload))
        env = Envelope(
            self.message_id(request.request_id, reminder=reminder),
            tuple(b.email for b in self.beheerders),
            reply_to=self.reply_to,
            actions=actions_block(Role.BEHEERDER, proposal=True),
        )
        return env.mail(subject, letter, request_id=request.request_id, followup=step)

    def _facts(
        self, request: RequestRecord, payload: Mapping[str, Any]
    ) -> tuple[tuple[str, str], ...]:
        reply = long_date(request.deadline) if request.deadline else "niet bekend"
        why = "niet bekend"
        if self.explain is not None and payload.get("alert"):
            why = "; ".join(self.explain(alert_from_payload(payload["alert"]))) or why
        return (
            ("Verzoek", request.request_id),
            ("Voorgesteld team", request.team_name or request.team_key or "niet bekend"),
            ("Waarom", why),
            ("Antwoorddatum", reply),
            ("De melding", str(payload.get("summary") or "niet bekend")),
            ("Memo voor Corsa", str(payload.get("memo") or "niet bekend")),
        )
