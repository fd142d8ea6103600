"""Mail floods: an SMTP server that takes a message and drops the connection before
confirming it. Every outgoing mail backs off, keeps its Message-ID, and the same
report is never delivered more than once per ``reports.resend_minutes``.

Real SMTP (aiosmtpd on loopback), real state store, fake clock; the daemon's
periodic cadence (every 5 s) is played on the fake clock.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from imi_mailwatch.adapters.smtp import SmtpNotifier
from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.config import Beheerder, ReportsConfig, SmtpConfig
from imi_mailwatch.reports import BeheerderReports
from tests.deadlines.conftest import Desk, make_request
from tests.deadlines.smtp_server import SmtpTestServer

TICK = timedelta(seconds=5)  # the daemon's periodic cadence


@pytest.fixture
def smtp() -> Iterator[SmtpTestServer]:
    """A plain relay on loopback that takes each message and drops before the 250."""
    srv = SmtpTestServer().start("none")
    srv.handler.drop_after_data = True
    yield srv
    srv.stop()


def notifier(server: SmtpTestServer, clock: FakeClock) -> SmtpNotifier:
    cfg = SmtpConfig.model_validate(
        {"host": "127.0.0.1", "port": server.port, "security": "none", "timeout_seconds": 10}
    )
    return SmtpNotifier(cfg, from_address="imi@brabant.example", clock=clock)


def deliveries(server: SmtpTestServer, message_id: str | None = None) -> int:
    return sum(
        1
        for r in server.handler.received
        if message_id is None or r.message["Message-ID"] == message_id
    )


def test_an_outage_report_lost_after_data_is_not_sent_every_tick(smtp: SmtpTestServer) -> None:
    """Mail flood (accepted, then dropped before 250): one delivery in 6 minutes of 5-second
    ticks, at most one per resend period after, and the same Message-ID throughout."""
    clock = FakeClock()
    store = SqliteStateStore(Path(tempfile.mkdtemp(prefix="imi-flood-")) / "s.sqlite3", clock)
    reports = BeheerderReports(
        store,
        notifier(smtp, clock),
        clock,
        beheerders=[Beheerder(name="Beheerder Een", email="beheer1@example.org")],
        config=ReportsConfig(),  # resend_minutes: 60 by default
    )
    store.record_health("task_sink", ok=False, error="TaskSinkUnavailableError")
    clock.advance(timedelta(minutes=31))
    seen: dict[str, list[datetime]] = {}  # Message-ID -> when each copy was delivered

    def tick(times: int) -> None:
        for _ in range(times):
            reports.run()
            for r in smtp.handler.received[sum(map(len, seen.values())) :]:
                seen.setdefault(str(r.message["Message-ID"]), []).append(clock.now())
            clock.advance(TICK)

    tick(72)  # 6 minutes of the daemon's periodic work
    assert deliveries(smtp) == 1
    tick(12 * 60 * 2)  # two more hours, the server still dropping
    smtp.handler.drop_after_data = False
    tick(12 * 60 * 2)  # and two hours with a server that confirms
    for message_id, times in seen.items():
        gaps = [b - a for a, b in pairwise(times)]
        assert all(gap >= timedelta(minutes=60) for gap in gaps), (message_id, times)
    outage = next(iter(seen))  # the first report keeps its Message-ID throughout
    assert len(seen[outage]) >= 2  # and it was repeated until confirmed
    assert store.query("SELECT count(*) FROM notices WHERE sent_at IS NULL")[0][0] == 0
    store.close()


def test_a_reminder_lost_after_data_is_not_resent_within_the_period(
    smtp: SmtpTestServer, tmp_path: Path
) -> None:
    """Mail flood for follow-ups: a reminder the server took but did not confirm is not
    delivered again within the resend period; the repeat keeps its Message-ID."""
    desk = Desk(tmp_path / "state.sqlite3", datetime(2026, 11, 16, 8, 0, tzinfo=UTC))
    desk.followups = desk.make_followups(notifier=notifier(smtp, desk.clock))
    desk.record(make_request())
    desk.clock.set(datetime(2026, 11, 20, 7, 30, tzinfo=UTC))  # the first reminder is due
    for _ in range(72):
        desk.followups.run_due()
        desk.clock.advance(TICK)
    assert deliveries(smtp) == 1
    smtp.handler.drop_after_data = False
    for _ in range(12 * 60):
        desk.followups.run_due()
        desk.clock.advance(TICK)
    assert deliveries(smtp) == 2
    assert len({r.message["Message-ID"] for r in smtp.handler.received}) == 1
    desk.close()
