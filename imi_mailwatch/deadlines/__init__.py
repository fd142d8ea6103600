"""Deadline follow-up: the business calendar, the durable reminder schedule and its mails.

``build_followups(cfg, store=..., notifier=..., clock=...)`` gives the object the
daemon wires in twice: as the pipeline's planner (``replan``, inside the
recording transaction of each alert) and as a periodic task (``run_due``).
See docs/deadlines.md.
"""

from __future__ import annotations

from imi_mailwatch.deadlines.build import build_followups
from imi_mailwatch.deadlines.calendar import BusinessCalendar
from imi_mailwatch.deadlines.followups import FollowUps, next_followup
from imi_mailwatch.records import FollowUpKind, FollowUpStatus

__all__ = [
    "BusinessCalendar",
    "FollowUpKind",
    "FollowUpStatus",
    "FollowUps",
    "build_followups",
    "next_followup",
]
