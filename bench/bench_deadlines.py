"""Benchmark: the follow-up schedule at scale.

What it measures, on a real SQLite state store in a temporary directory:

- ``replan``: planning the reminders of one request (inside its transaction);
- an idle ``run_due`` pass (nothing due): the daemon does this every few seconds;
- a catch-up pass after a three-day outage, when every request has steps due:
  one mail per request (the latest step), the others superseded;
- building one reminder mail (Dutch text, HTML, .ics) and its MIME bytes.

    .venv/bin/python bench/bench_deadlines.py [--requests 1000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imi_mailwatch.mailbuild import build_message
from tests.deadlines.conftest import Desk, make_request

START = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def _ms(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1000:.2f} ms, max {max(samples) * 1000:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    n = args.requests
    desk = Desk(Path(tempfile.mkdtemp(prefix="imi-bench-")) / "state.sqlite3", START)
    base = make_request()
    replans: list[float] = []
    for i in range(n):
        req = replace(
            base, request_id=f"{200000 + i}", deadline=date(2026, 12, 1) + timedelta(days=i % 30)
        )
        t0 = time.perf_counter()
        desk.record(req)
        replans.append(time.perf_counter() - t0)
    print(f"replan (save + plan 4 steps, one transaction), {n} requests: {_ms(replans)}")

    idle: list[float] = []
    desk.clock.set(datetime(2026, 11, 16, 6, 0, tzinfo=UTC))  # before opening
    for _ in range(50):
        t0 = time.perf_counter()
        desk.followups.run_due()
        idle.append(time.perf_counter() - t0)
    desk.clock.set(datetime(2026, 11, 16, 12, 0, tzinfo=UTC))  # open, first step due 24 Nov
    for _ in range(50):
        t0 = time.perf_counter()
        desk.followups.run_due()
        idle.append(time.perf_counter() - t0)
    print(f"run_due pass with nothing due ({n} requests): {_ms(idle)}")

    desk.clock.set(datetime(2027, 1, 20, 10, 0, tzinfo=UTC))  # weeks later: everything due
    t0 = time.perf_counter()
    sent = desk.followups.run_due()
    took = time.perf_counter() - t0
    print(
        f"catch-up pass after an outage: {sent} mails for {n} requests in {took:.2f} s "
        f"({took / max(sent, 1) * 1000:.2f} ms per request)"
    )

    mail = desk.notifier.sent[0]
    builds: list[float] = []
    for _ in range(200):
        t0 = time.perf_counter()
        build_message(mail, from_address="imi@brabant.example", from_name="IMI").as_bytes()
        builds.append(time.perf_counter() - t0)
    print(f"MIME bytes of one reminder (text, HTML, .ics): {_ms(builds)}")
    desk.close()


if __name__ == "__main__":
    main()
