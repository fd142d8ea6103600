"""Benchmark: the Monday overview and the quarterly report over a large state store.

    .venv/bin/python bench/bench_reports.py [--requests 2000] [--teams 20]

Fills a SQLite state store with synthetic open requests (three alerts each) spread
over the teams, then times one Monday overview (every team's mail and the
beheerders' mail, composed from the shipped templates and handed to an in-memory
notifier) and one quarterly report (facts, figures, CSV) over the same requests.
Both run once a week or once a quarter, so seconds would do; this shows they stay
far below the daemon's tick.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from imi_mailwatch.adapters.memory import InMemoryNotifier
from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.config import Beheerder
from imi_mailwatch.deadlines.calendar import BusinessCalendar
from imi_mailwatch.mailings import ScheduledMailer
from imi_mailwatch.model import Disposition, MessageKind, RequestStatus, TaskStatus
from imi_mailwatch.overview import MondayOverview
from imi_mailwatch.quarterly import Quarter, quarterly_mail
from imi_mailwatch.records import AlertEntry, MessageEntry, RequestRecord

START = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)


def _request(n: int, teams: int) -> RequestRecord:
    team = n % teams
    return RequestRecord(
        request_id=str(300000 + n), status=RequestStatus.ALLOCATED, team_key=f"team{team}",
        team_name=f"Team {team}", org_unit=None, team_mailbox=f"team{team}@example.org",
        handlers=(), rule="r", field="f", is_default=False, schedule=None,
        deadline=date(2026, 11, 2) + timedelta(days=n % 60), language="nl",
        legislative_area="Diensten", member_state="BE", service_activities=("x",),
        requesting_authority=None, task_status=TaskStatus.CREATED, task_sink="memory",
        task_ref=None, created_at=START + timedelta(minutes=n), updated_at=START,
        closed_at=None,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--teams", type=int, default=20)
    args = parser.parse_args()
    clock = FakeClock(START)
    store = SqliteStateStore(Path(tempfile.mkdtemp()) / "state.sqlite3", clock)
    with store.transaction():
        for n in range(args.requests):
            rec = _request(n, args.teams)
            store.save_request(rec)
            for k, kind in enumerate(("new_request", "allocated", "deadline_proposed")):
                row = store.record_message(
                    MessageEntry("imi", f"{n}:{k}", f"<{n}.{k}@example.org>", f"{n}.{k}",
                                 MessageKind.IMI_ALERT, Disposition.HANDLED, None,
                                 rec.request_id, kind)
                )  # fmt: skip
                store.add_alert(row, AlertEntry(rec.request_id, kind, rec.deadline, rec.created_at))
    notifier = InMemoryNotifier()
    beheerders = (Beheerder(name="A. Voorbeeld", email="a@example.org"),)
    overview = MondayOverview(
        store, ScheduledMailer(store, notifier, clock), BusinessCalendar(), beheerders=beheerders
    )
    clock.set(datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    began = time.perf_counter()
    sent = overview.run()
    took = time.perf_counter() - began
    print(f"Monday overview: {args.requests} open requests, {sent} mails in {took:.2f} s")
    began = time.perf_counter()
    mail = quarterly_mail(Quarter(2026, 4), store, to=("c@example.org",), message_id="<q@x>")
    took = time.perf_counter() - began
    size = len(mail.attachments[0].data)
    print(f"Quarterly report: {args.requests} requests in {took:.2f} s (CSV {size} bytes)")
    store.close()


if __name__ == "__main__":
    main()
