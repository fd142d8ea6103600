"""A desk over the in-memory store: a fake clock, the real follow-ups, two teams."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import structlog

from imi_mailwatch.adapters.memory import InMemoryNotifier
from imi_mailwatch.adapters.memory_state import MemoryStateStore
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.config import DeadlinesConfig
from imi_mailwatch.deadlines import BusinessCalendar, FollowUps
from imi_mailwatch.deadlines.plan import steps_from_config
from imi_mailwatch.desk import Actor, DeskContext, DeskMailer, Via, apply_command
from imi_mailwatch.desk.service import ActionResult
from imi_mailwatch.model import Team
from imi_mailwatch.records import RequestRecord
from imi_mailwatch.replies import Command, Role
from tests.deadlines.conftest import BEHEERDERS, ESCALATION, make_request

START = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)  # a Monday, 09:00 in Amsterdam
TEAMS = {
    "milieu": Team("milieu", "Milieu, afval en bodem (VTH)", "VTH-MILIEU",
                   "vth-milieu@example.org", ("behandelaar@example.org",)),
    "economie": Team("economie", "Team Economie", "ECO", "economie@example.org",
                     ("eco-behandelaar@example.org",)),
}  # fmt: skip
TEAM = Actor("vth-milieu@example.org", Via.MAIL, frozenset({Role.COLLEAGUE}))
BEHEERDER = Actor("cli:beheer", Via.CLI, frozenset({Role.BEHEERDER}))


@dataclass
class DeskRig:
    clock: FakeClock
    store: MemoryStateStore
    notifier: InMemoryNotifier
    followups: FollowUps
    desk: DeskContext
    mailer: DeskMailer

    def record(self, request: RequestRecord | None = None, **changes: Any) -> RequestRecord:
        """Save a request and plan its follow-ups, as the pipeline does."""
        rec = request or make_request(**changes)
        with self.store.transaction():
            self.store.save_request(rec)
            self.followups.replan(self.store, rec, closed=False)
        return rec

    def apply(
        self, command: Command, actor: Actor = TEAM, request_id: str = "184523", **kw: Any
    ) -> ActionResult:
        return apply_command(self.store, self.desk, request_id, command, actor, **kw)

    def open_reminders(self, request_id: str = "184523") -> list[dict[str, Any]]:
        return [
            f
            for f in self.store.followups_of(request_id)
            if f["kind"] == "reminder" and f["status"] in ("scheduled", "sending")
        ]


@pytest.fixture
def rig() -> DeskRig:
    clock = FakeClock(START)
    store = MemoryStateStore(clock)
    notifier = InMemoryNotifier()
    d = DeadlinesConfig(escalation=ESCALATION)
    calendar = BusinessCalendar(extra_closed_days=d.extra_closed_days)
    followups = FollowUps(store=store, notifier=notifier, clock=clock, calendar=calendar,
                          schedule=steps_from_config(d.schedule), beheerders=BEHEERDERS,
                          escalation=ESCALATION, domain="brabant.example")  # fmt: skip
    desk = DeskContext(clock=clock, teams=lambda: TEAMS, beheerders=BEHEERDERS,
                       own_domains=("example.org",), domain="brabant.example",
                       reply_to="imi@example.org", planner=followups,
                       calendar=calendar)  # fmt: skip
    return DeskRig(clock, store, notifier, followups, desk, DeskMailer(store, notifier, clock))


@pytest.fixture(autouse=True)
def _keep_structlog_config() -> Iterator[None]:
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)
