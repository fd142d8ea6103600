"""One follow-up as an e-mail: its recipients, the commands it offers, its letter. Pure.

Every mail about a request goes out with the same three things (see
docs/antwoorden.md): a ``Reply-To`` of the functional mailbox, a subject that
starts with ``[IMI 184523]`` and the reply commands its recipients may give
(:func:`imi_mailwatch.actions.reply_actions`). The Message-ID is the follow-up's
own (:func:`imi_mailwatch.deadlines.plan.message_id`), so a reply's
``In-Reply-To`` names the request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from imi_mailwatch.actions import reply_actions
from imi_mailwatch.config import Beheerder
from imi_mailwatch.deadlines.calendar import BusinessCalendar
from imi_mailwatch.deadlines.mails import (
    Envelope,
    archive_mail,
    closing_mail,
    own_request_mail,
    reminder_mail,
)
from imi_mailwatch.deadlines.notices import team_notice_mail
from imi_mailwatch.deadlines.plan import (
    OWN_CLOSED_STEP,
    archive_check_day,
    message_id,
    step_by_key,
)
from imi_mailwatch.model import OutgoingMail, ReminderStep
from imi_mailwatch.records import FollowUpKind, FollowUpRow, RequestRecord
from imi_mailwatch.replies.authz import Role
from imi_mailwatch.texts import TextBook

# follow-ups about a request that no longer runs in IMI (or whose task may close):
# they offer no reply command
_NO_COMMANDS = frozenset(
    {FollowUpKind.CLOSING, FollowUpKind.ARCHIVE, FollowUpKind.TASK_CLOSE, FollowUpKind.OWN_REQUEST}
)


def addresses(
    request: RequestRecord,
    roles: Sequence[str],
    *,
    beheerders: Sequence[Beheerder],
    escalation: Sequence[str],
    claimer: str | None = None,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """To (team mailbox, handlers) and Cc (beheerders, escalation) for these roles;
    a request someone claimed (IK PAK DIT OP) goes to them, the team mailbox in Cc."""
    to: list[str] = []
    cc: list[str] = []
    team = "team" in roles or "handlers" in roles
    if claimer and team:
        to.append(claimer)
        cc.extend([request.team_mailbox] if request.team_mailbox else [])
    if "team" in roles and request.team_mailbox and not claimer:
        to.append(request.team_mailbox)
    if "handlers" in roles and not claimer:
        to.extend(request.handlers)
    if "beheerders" in roles:
        cc.extend(b.email for b in beheerders)
    if "escalation" in roles:
        cc.extend(escalation)
    if not to:  # no team mailbox: the beheerders must hear of it
        to, cc = cc or [b.email for b in beheerders], []
    to_t = tuple(dict.fromkeys(to))
    cc_t = tuple(a for a in dict.fromkeys(cc) if a not in to_t)
    return to_t, cc_t


def recipient_roles(
    request: RequestRecord,
    to: Sequence[str],
    cc: Sequence[str],
    beheerders: Sequence[Beheerder],
    claimer: str | None = None,
) -> frozenset[Role]:
    """The roles of a mail's recipients, for the commands it offers."""
    team = {a.lower() for a in (request.team_mailbox, *request.handlers, claimer) if a}
    own = {b.email.lower() for b in beheerders}
    everyone = {a.lower() for a in (*to, *cc)}
    roles: set[Role] = set()
    if everyone & team:
        roles.add(Role.TEAM)
    if everyone & own:
        roles.add(Role.BEHEERDER)
    return frozenset(roles)


@dataclass(frozen=True, slots=True)
class Composer:
    """What every follow-up mail needs besides its row and request."""

    calendar: BusinessCalendar
    beheerders: tuple[Beheerder, ...]
    escalation: tuple[str, ...]
    domain: str
    archive_months: int
    reply_to: str | None = None

    def envelope(
        self, row: FollowUpRow, request: RequestRecord, claimer: str | None = None
    ) -> Envelope:
        """Recipients, Message-ID, Reply-To and reply commands of one follow-up."""
        to, cc = addresses(
            request,
            row.recipients,
            beheerders=self.beheerders,
            escalation=self.escalation,
            claimer=claimer,
        )
        due_day = self.calendar.local_date(row.due_at)
        open_request = row.kind not in _NO_COMMANDS and not request.status.is_final
        return Envelope(
            message_id(request.request_id, row.step, due_day, self.domain),
            to,
            cc,
            reply_to=self.reply_to,
            actions=reply_actions(
                recipient_roles(request, to, cc, self.beheerders, claimer),
                open_request=open_request,
            ),
        )

    def build(
        self,
        row: FollowUpRow,
        request: RequestRecord,
        now: datetime,
        *,
        steps: Sequence[ReminderStep],
        status_since: date,
        texts: TextBook | None,
        claimer: str | None = None,
    ) -> OutgoingMail:
        """The mail of one follow-up, as it reads at ``now``."""
        env = self.envelope(row, request, claimer)
        today = self.calendar.local_date(now)
        if row.kind is FollowUpKind.REMINDER:
            reply_date = request.deadline or row.deadline
            assert reply_date is not None  # reminders are planned only with a date
            step = step_by_key(steps, row.step) or ReminderStep(offset=0, recipients=row.recipients)
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
                status_since=status_since,
                texts=texts,
            )
        if row.kind in (FollowUpKind.TASK_NOTICE, FollowUpKind.ACCEPTANCE, FollowUpKind.TASK_CLOSE):
            return team_notice_mail(
                request, env, step=row.step, beheerders=self.beheerders, texts=texts
            )
        closed_on = self.calendar.local_date(request.closed_at or now)
        if row.kind is FollowUpKind.OWN_REQUEST:
            return own_request_mail(
                request,
                env,
                closed_on=closed_on if row.step == OWN_CLOSED_STEP else None,
                beheerders=self.beheerders,
                texts=texts,
            )
        if row.kind is FollowUpKind.CLOSING:
            return closing_mail(
                request,
                env,
                closed_on=closed_on,
                archive_check_on=archive_check_day(self.calendar, closed_on, self.archive_months),
                beheerders=self.beheerders,
                texts=texts,
            )
        return archive_mail(
            request, env, closed_on=closed_on, beheerders=self.beheerders, texts=texts
        )
