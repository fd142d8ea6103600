"""What a due follow-up says and to whom: the mail of one follow-up row.

The letters themselves are in ``mails`` (the templates in ``teksten/``); this
picks the letter for the row's kind, fills in what it needs from the request and
the calendar, and addresses it by the row's roles.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from imi_mailwatch.clock import parse_ts
from imi_mailwatch.config import Beheerder
from imi_mailwatch.deadlines.calendar import BusinessCalendar
from imi_mailwatch.deadlines.mails import (
    Envelope,
    archive_mail,
    closing_mail,
    own_request_mail,
    reminder_mail,
)
from imi_mailwatch.deadlines.plan import (
    OWN_CLOSED_STEP,
    archive_check_day,
    message_id,
    step_by_key,
)
from imi_mailwatch.model import OutgoingMail, ReminderStep
from imi_mailwatch.ports import StateStore
from imi_mailwatch.records import FollowUpKind, FollowUpRow, RequestRecord
from imi_mailwatch.texts import TextBook


class FollowUpLetters:
    """The mail of a follow-up row (the sending part is ``followups.FollowUps``)."""

    store: StateStore
    calendar: BusinessCalendar
    beheerders: tuple[Beheerder, ...]
    escalation: tuple[str, ...]
    archive_months: int
    domain: str
    texts: TextBook | None

    def steps_for(self, request: RequestRecord) -> tuple[ReminderStep, ...]:
        raise NotImplementedError

    # -- building the mail ---------------------------------------------------------------

    def addresses(
        self, request: RequestRecord, roles: Sequence[str]
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """To (team mailbox, handlers) and Cc (beheerders, escalation) for these roles."""
        to: list[str] = []
        cc: list[str] = []
        if "team" in roles and request.team_mailbox:
            to.append(request.team_mailbox)
        if "handlers" in roles:
            to.extend(request.handlers)
        if "beheerders" in roles:
            cc.extend(b.email for b in self.beheerders)
        if "escalation" in roles:
            cc.extend(self.escalation)
        if not to:  # no team mailbox: the beheerders must hear of it
            to, cc = cc or [b.email for b in self.beheerders], []
        to_t = tuple(dict.fromkeys(to))
        cc_t = tuple(a for a in dict.fromkeys(cc) if a not in to_t)
        return to_t, cc_t

    def _build(self, row: FollowUpRow, request: RequestRecord, now: datetime) -> OutgoingMail:
        to, cc = self.addresses(request, row.recipients)
        due_day = self.calendar.local_date(row.due_at)
        env = Envelope(message_id(request.request_id, row.step, due_day, self.domain), to, cc)
        if row.kind is FollowUpKind.REMINDER:
            reply_date = request.deadline or row.deadline
            assert reply_date is not None  # reminders are planned only with a date
            step = step_by_key(self.steps_for(request), row.step) or ReminderStep(
                offset=0, recipients=row.recipients
            )
            today = self.calendar.local_date(now)
            return reminder_mail(
                request,
                step,
                env,
                reply_date=reply_date,
                working_days_left=self.calendar.working_days_between(today, reply_date),
                today=today,
                beheerders=self.beheerders,
                now=now,
                domain=self.domain,
                status_since=self._status_since(request),
                texts=self.texts,
            )
        closed_on = self.calendar.local_date(request.closed_at or now)
        if row.kind is FollowUpKind.OWN_REQUEST:
            return own_request_mail(
                request,
                env,
                closed_on=closed_on if row.step == OWN_CLOSED_STEP else None,
                beheerders=self.beheerders,
                texts=self.texts,
            )
        if row.kind is FollowUpKind.CLOSING:
            return closing_mail(
                request,
                env,
                closed_on=closed_on,
                archive_check_on=archive_check_day(self.calendar, closed_on, self.archive_months),
                beheerders=self.beheerders,
                texts=self.texts,
            )
        return archive_mail(
            request, env, closed_on=closed_on, beheerders=self.beheerders, texts=self.texts
        )

    def _status_since(self, request: RequestRecord) -> date:
        """The local day IMI last reported on the request (its latest alert)."""
        history = self.store.alert_history(request.request_id)
        last = history[-1] if history else None
        at = parse_ts(last["sent_at"] or last["recorded_at"]) if last is not None else None
        return self.calendar.local_date(at or request.updated_at)
