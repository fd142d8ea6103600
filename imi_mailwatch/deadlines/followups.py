"""The durable follow-up schedule: plan inside the recording transaction, send when due.

``replan`` is called by the pipeline inside the transaction that records an
alert, so the schedule always matches the request: a new request gets its
reminders, a changed reply date moves them, closing or withdrawal cancels them
(closing also plans the closing mail and the archive check).

``run_due`` is the daemon's periodic task. Within working hours it sends, per
request and kind, only the LATEST follow-up that is due; older due ones are
marked skipped, so a daemon that was down for days sends one mail per request,
not a burst. A repeating (overdue) step then schedules its next working day.

Exactly once, as far as mail allows (see docs/deadlines.md):

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

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from itertools import groupby
from typing import Any

import structlog

from imi_mailwatch import metrics
from imi_mailwatch.clock import parse_ts
from imi_mailwatch.config import Beheerder, Config
from imi_mailwatch.deadlines.calendar import BusinessCalendar
from imi_mailwatch.deadlines.mails import (
    Envelope,
    archive_mail,
    closing_mail,
    reminder_mail,
)
from imi_mailwatch.deadlines.plan import (
    ARCHIVE_STEP,
    CLOSING_STEP,
    archive_check_day,
    desk_plan,
    held_by_desk,
    latest_occurrence,
    message_id,
    plan_reminders,
    step_by_key,
    steps_from_config,
    steps_from_record,
)
from imi_mailwatch.errors import NotifierUncertainError, PermanentError, TransientError
from imi_mailwatch.model import OutgoingMail, ReminderStep, RequestStatus
from imi_mailwatch.ports import Clock, Notifier, StateStore
from imi_mailwatch.records import (
    FollowUpKind,
    FollowUpRow,
    FollowUpStatus,
    PlannedFollowUp,
    RequestRecord,
)
from imi_mailwatch.retry import clamped, mail_retry_delay
from imi_mailwatch.texts import TextBook

log = structlog.get_logger(__name__)


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
        planned: list[PlannedFollowUp] = []
        if closed or request.status.is_final:
            if request.status is RequestStatus.CLOSED:
                planned = self._closing_plan(store, request, now)
            store.audit("followups.cancelled", request.request_id, status=request.status.value)
        elif request.deadline is not None and request.status is not RequestStatus.ANSWERED:
            planned = plan_reminders(self.calendar, request.deadline, self.steps_for(request))
            desk = store.desk_state(request.request_id)  # handled, paused: held back
            planned = desk_plan(self.calendar, planned, desk)
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
        rows = self.store.followups_due(now)
        sent = 0
        for _, group in groupby(rows, key=lambda r: (r.request_id, r.kind)):
            *older, latest = list(group)
            if older:
                self._supersede(older, now)
            try:
                sent += self._send_one(latest, now)
            except TransientError:
                break  # the mail server is down: the rest waits for the next pass
            except Exception as exc:  # a bug or bad data in this one: fail it, go on
                self._fail_unexpected(latest, now, exc)
        return sent

    def _fail_unexpected(self, row: FollowUpRow, now: datetime, exc: Exception) -> None:
        """Mark one follow-up failed (the beheerders' report tells them) after an
        unexpected error, so that it neither blocks the others nor repeats every tick."""
        error = f"internal error: {type(exc).__name__}"
        log.error(
            "deadline.send_failed",
            request_id=row.request_id,
            step=row.step,
            error=type(exc).__name__,
            exc_info=exc,
        )
        try:
            with self.store.transaction():
                self._set_status(row.id, FollowUpStatus.FAILED, now, error)
                self._plan_next_occurrence(row, now)
                self.store.audit("followup.failed", row.request_id, step=row.step, error=error)
        except Exception as store_exc:
            log.error(
                "deadline.fail_record_failed",
                request_id=row.request_id,
                error=type(store_exc).__name__,
                exc_info=True,
            )

    def _clamp_deferred(self, now: datetime) -> None:
        """A retry stored further ahead than its back-off allows (the clock jumped back)
        is brought back to now + back-off (retry.clamped)."""
        for r in self.store.followups_deferred(now):
            stored = r.next_attempt_at
            uncertain = r.last_error == NotifierUncertainError.__name__
            error = NotifierUncertainError() if uncertain else TransientError()
            allowed = mail_retry_delay(r.attempts, error, resend_after=self.resend_after)
            if clamped(stored, now, allowed) == stored:
                continue
            with self.store.transaction():
                self.store.followup_retry_at(r.id, now + allowed)
            log.warning(
                "deadline.retry_clamped",
                request_id=r.request_id,
                ahead_s=int((stored - now).total_seconds()),
                retry_in_s=int(allowed.total_seconds()),
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

    def _send_one(self, row: FollowUpRow, now: datetime) -> int:
        request = self.store.get_request(row.request_id)
        desk = self.store.desk_state(row.request_id)
        if (
            request is None
            or (
                row.kind is FollowUpKind.REMINDER
                and (request.status.is_final or request.status is RequestStatus.ANSWERED)
            )
            or held_by_desk(self.calendar, row.kind, row.due_at, desk)
        ):
            with self.store.transaction():
                self._set_status(row.id, FollowUpStatus.CANCELLED, now, "request no longer open")
            return 0
        if row.kind is FollowUpKind.REMINDER and row.step.endswith("r"):
            row = self._catch_up_repeat(row, now)
        mail = self._build(row, request, now, claimer=desk.claimer)
        if not mail.to:
            with self.store.transaction():
                self._set_status(row.id, FollowUpStatus.FAILED, now, "no recipients configured")
                self._plan_next_occurrence(row, now)
                self.store.audit(
                    "followup.failed", row.request_id, step=row.step, error="no recipients"
                )
            log.error("deadline.no_recipients", request_id=row.request_id, step=row.step)
            return 0
        resend = row.status is FollowUpStatus.SENDING
        with self.store.transaction():  # 1. the intent, durable before the notifier is called
            self.store.followup_sending(row.id, mail.message_id, now)
        if resend:
            log.warning(
                "deadline.resend_after_interruption",
                request_id=row.request_id,
                step=row.step,
                message_id=mail.message_id,
            )
        try:
            self.notifier.send(mail)  # 2.
        except TransientError as exc:
            delay = mail_retry_delay(row.attempts + 1, exc, resend_after=self.resend_after)
            with self.store.transaction():
                self.store.followup_defer(row.id, now + delay, type(exc).__name__, now)
            self.store.record_health("notifier", ok=False, error=type(exc).__name__)
            log.warning(
                "deadline.send_deferred",
                request_id=row.request_id,
                step=row.step,
                error=type(exc).__name__,
                retry_in_s=int(delay.total_seconds()),
            )
            raise
        except PermanentError as exc:
            with self.store.transaction():
                self._set_status(row.id, FollowUpStatus.FAILED, now, type(exc).__name__)
                self._plan_next_occurrence(row, now)
                self.store.audit(
                    "followup.failed", row.request_id, step=row.step, error=type(exc).__name__
                )
            log.error(
                "deadline.send_failed",
                request_id=row.request_id,
                step=row.step,
                error=type(exc).__name__,
            )
            return 0
        with self.store.transaction():  # 3.
            self.store.followup_sent(row.id, now)
            self._plan_next_occurrence(row, now)
            self.store.audit(
                f"followup.{row.kind.value}_sent",
                row.request_id,
                step=row.step,
                message_id=mail.message_id,
                recipients=len(mail.to) + len(mail.cc),
            )
        self.store.record_health("notifier", ok=True)
        metrics.reminder_sent(row.kind.value)
        log.info(
            f"deadline.{row.kind.value}_sent",
            request_id=row.request_id,
            step=row.step,
            attempt=row.attempts + 1,
            recipients=len(mail.to) + len(mail.cc),
        )
        return 1

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
            cc.extend(b.email for b in self.beheerders)
        if "escalation" in roles:
            cc.extend(self.escalation)
        if not to:  # no team mailbox: the beheerders must hear of it
            to, cc = cc or [b.email for b in self.beheerders], []
        to_t = tuple(dict.fromkeys(to))
        cc_t = tuple(a for a in dict.fromkeys(cc) if a not in to_t)
        return to_t, cc_t

    def _build(
        self, row: FollowUpRow, request: RequestRecord, now: datetime, claimer: str | None = None
    ) -> OutgoingMail:
        to, cc = self.addresses(request, row.recipients, claimer)
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

    # -- reading (status, demo) ---------------------------------------------------------------

    def next_followup(self, request_id: str) -> dict[str, Any] | None:
        return next_followup(self.store, request_id)


def next_followup(store: StateStore, request_id: str) -> dict[str, Any] | None:
    """The next follow-up of a request that is still to be sent, as data."""
    return store.next_followup(request_id)


def build_followups(
    cfg: Config, *, store: StateStore, notifier: Notifier, clock: Clock
) -> FollowUps:
    """The follow-ups as configured (``deadlines`` and ``notify`` sections)."""
    d = cfg.deadlines
    calendar = BusinessCalendar(
        timezone=d.timezone,
        start=d.working_hours_start,
        end=d.working_hours_end,
        extra_closed_days=d.extra_closed_days,
    )
    domain = cfg.notify.from_address.rpartition("@")[2] or "imi-mailwatch.invalid"
    return FollowUps(
        store=store,
        notifier=notifier,
        clock=clock,
        calendar=calendar,
        schedule=steps_from_config(d.schedule),
        beheerders=cfg.beheerders,
        escalation=d.escalation,
        archive_months=d.archive_followup_months,
        domain=domain,
        resend_after=timedelta(minutes=cfg.reports.resend_minutes),
    )
