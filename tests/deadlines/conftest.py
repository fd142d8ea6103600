"""Shared pieces for the deadline tests: a real SQLite store, a fake clock, requests."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import structlog

from imi_mailwatch.adapters.memory import InMemoryNotifier
from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.config import Beheerder, DeadlinesConfig
from imi_mailwatch.deadlines import BusinessCalendar, FollowUps
from imi_mailwatch.deadlines.plan import steps_from_config
from imi_mailwatch.model import RequestStatus, TaskStatus
from imi_mailwatch.records import RequestRecord

BEHEERDERS = (
    Beheerder(name="A. Voorbeeld", email="a.voorbeeld@example.org", role="first"),
    Beheerder(name="B. Voorbeeld", email="b.voorbeeld@example.org", role="backup"),
)
ESCALATION = ("escalatie@example.org",)


def make_request(
    request_id: str = "184523",
    deadline: date | None = date(2026, 11, 27),
    status: RequestStatus = RequestStatus.OPEN,
    **changes: Any,
) -> RequestRecord:
    """A synthetic request as the pipeline records it."""
    now = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
    rec = RequestRecord(
        request_id=request_id,
        status=status,
        team_key="milieu",
        team_name="Milieu, afval en bodem (VTH)",
        org_unit="VTH-MILIEU",
        team_mailbox="vth-milieu@example.org",
        handlers=("behandelaar@example.org",),
        rule="afval",
        field="milieu en afval",
        is_default=False,
        schedule=None,
        deadline=deadline,
        language="nl",
        legislative_area="Diensten",
        member_state="BE",
        service_activities=("Inzameling van afval",),
        requesting_authority=None,
        task_status=TaskStatus.CREATED,
        task_sink="memory",
        task_ref="MEM-00001",
        created_at=now,
        updated_at=now,
        closed_at=None,
    )
    return replace(rec, **changes)


class Desk:
    """A store, a clock, a notifier and the follow-ups, as the daemon wires them."""

    def __init__(self, path: Path, start: datetime) -> None:
        self.path = path
        self.clock = FakeClock(start)
        self.notifier = InMemoryNotifier()
        self.store = SqliteStateStore(path, self.clock)
        self.followups = self.make_followups()

    def make_followups(self, **overrides: Any) -> FollowUps:
        d = DeadlinesConfig(escalation=ESCALATION)
        return FollowUps(
            store=self.store,
            notifier=overrides.pop("notifier", self.notifier),
            clock=self.clock,
            calendar=BusinessCalendar(extra_closed_days=d.extra_closed_days),
            schedule=steps_from_config(d.schedule),
            beheerders=BEHEERDERS,
            escalation=ESCALATION,
            archive_months=d.archive_followup_months,
            domain="brabant.example",
            **overrides,
        )

    def record(self, request: RequestRecord, *, closed: bool = False) -> None:
        """Save the request and replan in one transaction, as the pipeline does."""
        with self.store.transaction():
            self.store.save_request(request)
            self.followups.replan(self.store, request, closed=closed)

    def at(self, when: datetime) -> int:
        """Move the clock to ``when`` and run the periodic task once."""
        self.clock.set(when)
        return self.followups.run_due()

    def rows(self, request_id: str = "184523") -> list[dict[str, Any]]:
        return [
            dict(r)
            for r in self.store.query(
                "SELECT step, kind, due_at, status, message_id, attempts FROM followups "
                "WHERE request_id = ? ORDER BY due_at, id",
                (request_id,),
            )
        ]

    def close(self) -> None:
        self.store.close()


@pytest.fixture
def workdir() -> Iterator[Path]:
    yield Path(tempfile.mkdtemp(prefix="imi-deadlines-"))


@pytest.fixture
def desk(workdir: Path) -> Iterator[Desk]:
    d = Desk(workdir / "state.sqlite3", datetime(2026, 11, 16, 8, 0, tzinfo=UTC))
    yield d
    d.close()


@pytest.fixture(autouse=True)
def _keep_structlog_config() -> Iterator[None]:
    """capture_logs reconfigures structlog; put the configuration back afterwards."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)
