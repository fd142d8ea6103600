"""Benchmark: one command on a request through the desk service, on the SQLite store.

What a reply, ``imi-mailwatch verzoek`` or the web page costs once it is parsed and
trusted: ``apply_command`` (authorise, change the request, replan its follow-ups,
log the action, owe the confirmation, one transaction with a durable commit) and
then the desk mailer handing the confirmation to a notifier in memory.

    .venv/bin/python bench/bench_desk.py [--requests 300]

Prints p50/p95/max in ms for BEANTWOORD, for PAUZE then HERVAT on other requests,
and per confirmation sent by one pass of the desk mailer.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import structlog

from imi_mailwatch.adapters.memory import InMemoryNotifier
from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.config import Beheerder, DeadlinesConfig
from imi_mailwatch.deadlines import BusinessCalendar, FollowUps
from imi_mailwatch.deadlines.plan import steps_from_config
from imi_mailwatch.desk import Actor, DeskContext, DeskMailer, Via, apply_command
from imi_mailwatch.model import RequestStatus, TaskStatus, Team
from imi_mailwatch.records import RequestRecord
from imi_mailwatch.replies import Command, CommandKind, Role

START = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
TEAM = Team("milieu", "Milieu", "VTH", "team@example.org", ("behandelaar@example.org",))
ACTOR = Actor("team@example.org", Via.MAIL, frozenset({Role.COLLEAGUE}))


def _request(n: int) -> RequestRecord:
    return RequestRecord(f"{500000 + n}", RequestStatus.OPEN, "milieu", "Milieu", "VTH",
                         "team@example.org", ("behandelaar@example.org",), "r", "milieu",
                         False, None, date(2026, 12, 18), "nl", None, "BE", (), None,
                         TaskStatus.CREATED, "memory", f"T-{n}", START, START, None)  # fmt: skip


def _timed(action: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    action()
    return (time.perf_counter() - t0) * 1000


def _report(name: str, ms: list[float]) -> None:
    q = statistics.quantiles(ms, n=20)
    print(f"{name:<28} n={len(ms):<5} p50={statistics.median(ms):6.2f} ms  "
          f"p95={q[18]:6.2f} ms  max={max(ms):6.2f} ms")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    n = parser.parse_args().requests
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    clock = FakeClock(START)
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStateStore(Path(tmp) / "state.sqlite3", clock)
        notifier = InMemoryNotifier()
        d = DeadlinesConfig()
        calendar = BusinessCalendar()
        followups = FollowUps(store=store, notifier=notifier, clock=clock, calendar=calendar,
                              schedule=steps_from_config(d.schedule),
                              beheerders=(Beheerder(name="B", email="b@example.org"),))  # fmt: skip
        desk = DeskContext(clock=clock, teams=lambda: {"milieu": TEAM},
                           beheerders=followups.beheerders, own_domains=("example.org",),
                           planner=followups, calendar=calendar)  # fmt: skip
        for i in range(2 * n):
            with store.transaction():
                store.save_request(_request(i))
                followups.replan(store, _request(i), closed=False)
        answered = [
            _timed(lambda i=i: apply_command(store, desk, f"{500000 + i}",
                                             Command(CommandKind.ANSWERED), ACTOR,
                                             reply_message_id=f"<r{i}@example.org>"))
            for i in range(n)
        ]  # fmt: skip
        pause = Command(CommandKind.PAUSE, until=date(2026, 12, 1))
        paused = [
            _timed(lambda i=i: apply_command(store, desk, f"{500000 + n + i}", pause, ACTOR))
            for i in range(n)
        ]
        resumed = [
            _timed(lambda i=i: apply_command(store, desk, f"{500000 + n + i}",
                                             Command(CommandKind.RESUME), ACTOR))
            for i in range(n)
        ]  # fmt: skip
        mailer = DeskMailer(store, notifier, clock)
        owed = len(store.desk_mails_due(clock.now()))
        total = _timed(mailer.run_due)
        store.close()
    _report("apply BEANTWOORD", answered)
    _report("apply PAUZE TOT", paused)
    _report("apply HERVAT", resumed)
    print(f"{'send the confirmations':<28} n={owed:<5} {total / owed:6.2f} ms per mail "
          "(run_due, each: intent, send, sent)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
