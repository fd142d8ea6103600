"""The durable follow-up schedule: plan inside the recording transaction, send when due.

``replan`` is called by the pipeline inside the transaction that records an
alert, so the schedule always matches the request: a new request gets its
reminders, a changed reply date moves them, closing or withdrawal cancels them
(closing also plans the closing mail and the archive check).

``run_due`` is the daemon's periodic task. Within working hours it sends, per
request and kind, only the LATEST follow-up that is due; older due ones are
marked skipped, so a daemon that was down for days sends one mail per request,
not a burst. A repeating (overdue) step then schedules its next working day.

Exactly once, as far as mail allows (see docs/deadlines.md), in the steps every
mail sent once takes (:mod:`imi_mailwatch.sendonce`):

1. record the intent: status ``sending``, attempt counted, Message-ID stored;
2. hand the mail to the notifier with that Message-ID;
3. mark it ``sent`` (and plan the next occurrence of a repeating step).

A crash between 1 and 3 leaves a ``sending`` row. On the next pass it is sent
again with the SAME Message-ID (at-least-once): the notifier cannot tell
whether the first attempt arrived, and a lost reminder is worse than a repeat
that mail clients and stores can recognise by its id. The drop-folder notifier
is idempotent by that id; a crash can therefore never produce two different
reminders for one step, only the same one twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from itertools import groupby
from typing import Any

import structlog

from imi_mailwatch import metrics
from imi_mailwatch.clock import parse_ts
from imi_mailwatch.config import Beheerder
from imi_mailwatch.deadlines.calendar import BusinessCalendar
from imi_mailwatch.deadlines.compose import Composer, addresses
from imi_mailwatch.deadlines.notices import (
    CloseReason,
    acceptance_plan,
    own_request_plan,
    task_close_plan,
    task_notice_plan,
)
from imi_mailwatch.deadlines.plan import (
    ARCHIVE_STEP,
    CLOSING_STEP,
    archive_check_day,
    desk_plan,
    held_by_desk,
    latest_occurrence,
    moot,
    plan_reminders,
    step_by_key,
    steps_from_record,
)
from imi_mailwatch.model import Module, OutgoingMail, ReminderStep, RequestStatus, TaskStatus
from imi_mailwatch.ports import Clock, Notifier, StateStore
from imi_mailwatch.records import (
    FollowUpKind,
    FollowUpRow,
    FollowUpStatus,
    Handling,
    PlannedFollowUp,
    RequestRecord,
)
from imi_mailwatch.sendonce import MailSender, Sending
from imi_mailwatch.texts import TextBook

log = structlog.get_logger(__name__)

_WATCHES = (FollowUpKind.ACCEPTANCE, FollowUpKind.TASK_NOTICE)  # cancelled once moot


class FollowUps:
    """Plans and sends the reminders, the closing mail and the archive check."""

    def __init__(
        self,
        *,
        store: StateStore,
        notifier: Notifier,
        clock: Clock,
        calendar: BusinessCalendar,
        schedule: Sequence[ReminderStep],
        beheerders: Sequence[Beheerder] = (),
        escalation: Sequence[str] = (),
        archive_months: int = 4,
        domain: str = "imi-mailwatch.invalid",
        resend_after: timedelta = timedelta(minutes=60),
        reply_to: str | None = None,
        task_notice: bool = True,
        acceptance_days: tuple[int, int] = (3, 5),
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.clock = clock
        self.calendar = calendar
        self.schedule = tuple(schedule)
        self.beheerders = tuple(beheerders)
        self.escalation = tuple(escalation)
        self.archive_months = archive_months
        self.domain = domain
        self.resend_after = resend_after
        self.reply_to = reply_to  # Reply-To of every mail: the functional mailbox
        self.task_notice = task_notice  # tell the team when its Corsa task was created
        self.acceptance_days = acceptance_days  # the acceptance watch: team, beheerders
        self.sender = MailSender(store, notifier, clock, resend_after=resend_after)
        self.composer = Composer(
            calendar, self.beheerders, self.escalation, domain, archive_months, reply_to
        )
        self.texts: TextBook | None = None  # the beheerders' letters; None: the shipped ones

    # -- planning (inside the pipeline's transaction) ---------------------------------------

    def steps_for(self, request: RequestRecord) -> tuple[ReminderStep, ...]:
        """The rule's own schedule when it has one, else the configured schedule."""
        if request.schedule is not None:
            return steps_from_record(request.schedule)
        return self.schedule

    def replan(self, store: StateStore, request: RequestRecord, *, closed: bool) -> None:
        """Bring the request's follow-ups in line with its state. Idempotent.

        Called inside the transaction that records an alert; it only writes.
        """
        now = self.clock.now()
        store.followups_cancel_reminders(request.request_id, now)
        desk = store.desk_state(request.request_id)
        # an acceptance reminder after AANVAARD or the end, a task notice after the end
        moot_kinds = [k for k in _WATCHES if moot(k, request, desk)]
        if moot_kinds:
            store.followups_cancel(request.request_id, moot_kinds, now)
        planned: list[PlannedFollowUp] = []
        if request.outgoing:
            planned = own_request_plan(store, self.calendar, request, now)
        elif closed or request.status.is_final:
            # the closing mail carries the Services close-out recipe: not for SDG requests,
            # nor for a pending one (no team yet: its new-request alert plans it, if ever)
            if (
                request.status is RequestStatus.CLOSED
                and request.module is Module.SERVICES
                and request.team_key is not None
            ):
                planned = self._closing_plan(store, request, now)
            elif request.status is RequestStatus.WITHDRAWN:
                planned = self._task_close_plan(store, request, CloseReason.WITHDRAWN, now)
            store.audit("followups.cancelled", request.request_id, status=request.status.value)
        elif request.deadline is not None and request.status is not RequestStatus.ANSWERED:
            planned = plan_reminders(self.calendar, request.deadline, self.steps_for(request))
            planned = desk_plan(self.calendar, planned, desk)  # handled, paused: held back
            store.audit(
                "followups.planned",
                request.request_id,
                deadline=request.deadline,
                steps=[p.step for p in planned],
            )
        for p in planned:
            store.followup_plan(request.request_id, p, now)
        log.info(
            "deadline.replanned",
            request_id=request.request_id,
            status=request.status.value,
            planned=len(planned),
            deadline=request.deadline.isoformat() if request.deadline else None,
        )

    def task_created(self, store: StateStore, request_id: str) -> None:
        """Plan what follows a created Corsa task: the notice to the team
        (``deadlines.task_notice``) and the acceptance watch (``acceptance_*_days``).

        Called inside the transaction that records the task's creation, so both are
        planned exactly once. Idempotent.
        """
        request = store.get_request(request_id)
        if request is None or request.status.is_final:
            return
        now = self.clock.now()
        planned = []
        if self.task_notice and not store.followup_exists(
            request_id, kind=FollowUpKind.TASK_NOTICE
        ):
            planned.append(task_notice_plan(self.calendar, request, now))
        if not store.followup_exists(request_id, kind=FollowUpKind.ACCEPTANCE):
            team_days, beheerders_days = self.acceptance_days
            planned += acceptance_plan(
                self.calendar, request, now, team_days=team_days, beheerders_days=beheerders_days
            )
        for p in planned:
            store.followup_plan(request_id, p, now)
        if planned:
            store.audit("followups.task_planned", request_id, steps=[p.step for p in planned])

    def plan_task_close(
        self, store: StateStore, request: RequestRecord, reason: CloseReason
    ) -> None:
        """Plan the notice that the Corsa task may be closed (withdrawn, forwarded,
        rejected). Idempotent; call it inside the transaction that records the reason."""
        now = self.clock.now()
        for p in self._task_close_plan(store, request, reason, now):
            store.followup_plan(request.request_id, p, now)

    def _task_close_plan(
        self, store: StateStore, request: RequestRecord, reason: CloseReason, now: datetime
    ) -> list[PlannedFollowUp]:
        if request.task_status not in (TaskStatus.CREATED, TaskStatus.PENDING):
            return []  # no task in Corsa: nothing to close
        if store.followup_exists(request.request_id, kind=FollowUpKind.TASK_CLOSE):
            return []  # told once; a repeated alert or command changes nothing
        handled = store.desk_state(request.request_id).handled
        if reason is CloseReason.WITHDRAWN and handled in (Handling.FORWARDED, Handling.REJECTED):
            return []  # the desk told the team when it said DOORGESTUURD or AFGEWEZEN
        store.audit("followups.task_close_planned", request.request_id, reason=reason.value)
        return [task_close_plan(self.calendar, request, reason, now)]

    def _closing_plan(
        self, store: StateStore, request: RequestRecord, now: datetime
    ) -> list[PlannedFollowUp]:
        if store.followup_exists(request.request_id, kind=FollowUpKind.CLOSING):
            return []  # planned at the first closing; a repeated alert changes nothing
        closed_at = request.closed_at or now
        closed_on = self.calendar.local_date(closed_at)
        check_on = archive_check_day(self.calendar, closed_on, self.archive_months)
        roles = ("team", "handlers", "beheerders")
        return [
            PlannedFollowUp(
                CLOSING_STEP,
                FollowUpKind.CLOSING,
                self.calendar.next_working_moment(closed_at),
                roles,
                request.deadline,
            ),
            PlannedFollowUp(
                ARCHIVE_STEP,
                FollowUpKind.ARCHIVE,
                self.calendar.opening(check_on),
                roles,
                request.deadline,
            ),
        ]

    # -- sending (the periodic task) ---------------------------------------------------------

    def run_due(self) -> int:
        """Send what is due (the latest per request and kind). Returns the mails sent."""
        now = self.clock.now()
        if not self.calendar.is_working_moment(now):
            return 0
        self._clamp_deferred(now)
        return self.sender.run(self, self._latest(self.store.followups_due(now), now))

    def _latest(self, rows: list[FollowUpRow], now: datetime) -> Iterator[FollowUpRow]:
        """The latest due follow-up per request and kind; the older ones are superseded."""
        for _, group in groupby(rows, key=lambda r: (r.request_id, r.kind)):
            *older, latest = list(group)
            if older:
                self._supersede(older, now)
            yield latest

    def _clamp_deferred(self, now: datetime) -> None:
        """A retry stored further ahead than its back-off allows (the clock jumped back)
        is brought back to now + back-off (retry.clamped)."""
        for r in self.store.followups_deferred(now):
            stored = r.next_attempt_at
            retry_at = self.sender.retry_at(stored, now, r.attempts, r.last_error)
            if retry_at == stored:
                continue
            with self.store.transaction():
                self.store.followup_retry_at(r.id, retry_at)
            log.warning(
                "deadline.retry_clamped",
                request_id=r.request_id,
                ahead_s=int((stored - now).total_seconds()),
                retry_in_s=int((retry_at - now).total_seconds()),
            )

    def _supersede(self, rows: list[FollowUpRow], now: datetime) -> None:
        with self.store.transaction():
            for row in rows:
                self._set_status(row.id, FollowUpStatus.SKIPPED, now)
                self._plan_next_occurrence(row, now)
        log.info(
            "deadline.followups_superseded",
            request_id=rows[0].request_id,
            steps=[r.step for r in rows],
        )

    def _set_status(
        self, row_id: int, status: FollowUpStatus, now: datetime, error: str | None = None
    ) -> None:
        self.store.followup_set_status(row_id, status, now, error)

    def _repeat_step(self, row: FollowUpRow) -> ReminderStep | None:
        if row.kind is not FollowUpKind.REMINDER or not row.step.endswith("r"):
            return None
        request = self.store.get_request(row.request_id)
        if request is None:
            return None
        step = step_by_key(self.steps_for(request), row.step)
        return step if step is not None and step.repeat else None

    def _plan_next_occurrence(self, row: FollowUpRow, now: datetime) -> None:
        """After a repeating step was sent or superseded: its next working day."""
        if self._repeat_step(row) is None:
            return
        after = max(self.calendar.local_date(row.due_at), self.calendar.local_date(now))
        nxt = self.calendar.opening(self.calendar.next_working_day(after))
        self.store.followup_plan(
            row.request_id,
            PlannedFollowUp(row.step, row.kind, nxt, row.recipients, row.deadline),
            now,
        )

    # -- the steps of one follow-up mail (sendonce.MailQueue) ---------------------------

    def prepare(self, row: FollowUpRow, now: datetime) -> Sending[FollowUpRow] | None:
        """The mail of a due follow-up; None when it was cancelled or failed without one."""
        request = self.store.get_request(row.request_id)
        desk = self.store.desk_state(row.request_id)
        if (
            request is None
            or moot(row.kind, request, desk)
            or held_by_desk(self.calendar, row.kind, row.due_at, desk)
        ):
            with self.store.transaction():
                self._set_status(row.id, FollowUpStatus.CANCELLED, now, "request no longer open")
            return None
        if row.kind is FollowUpKind.REMINDER and row.step.endswith("r"):
            row = self._catch_up_repeat(row, now)
        mail = self._build(row, request, now, claimer=desk.claimer)
        if not mail.to:
            log.error("deadline.no_recipients", request_id=row.request_id, step=row.step)
            with self.store.transaction():
                self._mark_failed(row, now, "no recipients configured", "no recipients")
            return None
        return Sending(row, mail, row.attempts, row.status is FollowUpStatus.SENDING)

    def sending(self, s: Sending[FollowUpRow], now: datetime) -> None:
        if s.interrupted:
            log.warning(
                "deadline.resend_after_interruption",
                request_id=s.row.request_id,
                step=s.row.step,
                message_id=s.mail.message_id,
            )
        self.store.followup_sending(s.row.id, s.mail.message_id, now)

    def deferred(
        self, s: Sending[FollowUpRow], now: datetime, delay: timedelta, error: str
    ) -> None:
        self.store.followup_defer(s.row.id, now + delay, error, now)
        log.warning(
            "deadline.send_deferred",
            request_id=s.row.request_id,
            step=s.row.step,
            error=error,
            retry_in_s=int(delay.total_seconds()),
        )

    def sent(self, s: Sending[FollowUpRow], now: datetime) -> None:
        row, recipients = s.row, len(s.mail.to) + len(s.mail.cc)
        self.store.followup_sent(row.id, now)
        self._plan_next_occurrence(row, now)
        self.store.audit(
            f"followup.{row.kind.value}_sent",
            row.request_id,
            step=row.step,
            message_id=s.mail.message_id,
            recipients=recipients,
        )
        metrics.reminder_sent(row.kind.value)
        log.info(
            f"deadline.{row.kind.value}_sent",
            request_id=row.request_id,
            step=row.step,
            attempt=s.attempts + 1,
            recipients=recipients,
        )

    def failed(
        self, row: FollowUpRow, now: datetime, error: str, exc: BaseException | None
    ) -> None:
        """Refused, or an unexpected error: failed (the beheerders' report tells them)."""
        log.error(
            "deadline.send_failed",
            request_id=row.request_id,
            step=row.step,
            error=error,
            exc_info=exc,
        )
        self._mark_failed(row, now, error, error)

    def _mark_failed(self, row: FollowUpRow, now: datetime, error: str, audited: str) -> None:
        self._set_status(row.id, FollowUpStatus.FAILED, now, error)
        self._plan_next_occurrence(row, now)
        self.store.audit("followup.failed", row.request_id, step=row.step, error=audited)

    def _catch_up_repeat(self, row: FollowUpRow, now: datetime) -> FollowUpRow:
        """A repeating step missed for days is sent once, dated today."""
        if row.status is FollowUpStatus.SENDING:
            return row  # an interrupted attempt keeps its Message-ID
        first = self.calendar.local_date(row.due_at)
        day = latest_occurrence(self.calendar, first, now)
        if day == first:
            return row
        due = self.calendar.opening(day)
        with self.store.transaction():
            if self.store.followup_exists(
                row.request_id, step=row.step, due_at=due
            ):  # today's occurrence exists already (sent): this one is stale
                self._set_status(row.id, FollowUpStatus.SKIPPED, now)
                return row
            self.store.followup_move(row.id, due, now)
        return FollowUpRow(
            row.id,
            row.request_id,
            row.step,
            row.kind,
            due,
            row.status,
            row.recipients,
            row.deadline,
            row.attempts,
            row.message_id,
        )

    # -- building the mail ---------------------------------------------------------------

    def addresses(
        self, request: RequestRecord, roles: Sequence[str], claimer: str | None = None
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """To (team mailbox, handlers) and Cc (beheerders, escalation) for these roles;
        a request someone claimed (IK PAK DIT OP) goes to them, the team mailbox in Cc."""
        return addresses(
            request, roles, beheerders=self.beheerders, escalation=self.escalation, claimer=claimer
        )

    def _build(
        self, row: FollowUpRow, request: RequestRecord, now: datetime, claimer: str | None = None
    ) -> OutgoingMail:
        return self.composer.build(
            row,
            request,
            now,
            steps=self.steps_for(request),
            status_since=self._status_since(request),
            texts=self.texts,
            claimer=claimer,
        )

    def _status_since(self, request: RequestRecord) -> date:
        """The local day IMI last reported on the request (its latest alert)."""
        history = self.store.alert_history(request.request_id)
        last = history[-1] if history else None
        at = parse_ts(last["sent_at"] or last["recorded_at"]) if last is not None else None
        return self.calendar.local_date(at or request.updated_at)

    # -- reading (status, demo) ---------------------------------------------------------------

    def next_followup(self, request_id: str) -> dict[str, Any] | None:
        return next_followup(self.store, request_id)


def next_followup(store: StateStore, request_id: str) -> dict[str, Any] | None:
    """The next follow-up of a request that is still to be sent, as data."""
    return store.next_followup(request_id)
