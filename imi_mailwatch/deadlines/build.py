"""The follow-ups as the configuration asks for them (``deadlines`` and ``notify``)."""

from __future__ import annotations

from datetime import timedelta

from imi_mailwatch.config import Config
from imi_mailwatch.deadlines.calendar import calendar_of
from imi_mailwatch.deadlines.followups import FollowUps
from imi_mailwatch.deadlines.plan import steps_from_config
from imi_mailwatch.ports import Clock, Notifier, StateStore


def build_followups(
    cfg: Config, *, store: StateStore, notifier: Notifier, clock: Clock
) -> FollowUps:
    """The follow-ups as configured (``deadlines`` and ``notify`` sections)."""
    d = cfg.deadlines
    calendar = calendar_of(d)
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
        reply_to=cfg.notify.reply_to or cfg.functional_mailbox,
        task_notice=d.task_notice,
        acceptance_days=(d.acceptance_team_days, d.acceptance_beheerders_days),
    )
