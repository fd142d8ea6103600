"""Benchmark: one Prometheus scrape of the state gauges over many open requests.

    .venv/bin/python bench/bench_metrics.py [--requests 10000] [--teams 20] [--rounds 10]

Fills a SQLite state store with synthetic open requests spread over the teams, then
renders the state collector's metrics (quarantine sizes, component health, open and
overdue requests per team) ``rounds`` times: the median time of a scrape and the
peak of Python memory one scrape allocates (tracemalloc), beside the floor of an
empty store. A scrape comes every 15-60 s from Prometheus, so it must not read the
requests one by one.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imi_mailwatch import metrics
from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.clock import FakeClock
from tests.contract.state.samples import request


def scrape(store: SqliteStateStore, rounds: int) -> tuple[float, float]:
    """Median milliseconds of a scrape, and the peak MiB one scrape allocates."""
    collector = metrics.StateCollector(store)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        metrics.render(collector)
        times.append(time.perf_counter() - started)
    tracemalloc.start()
    metrics.render(collector)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(times) * 1000, peak / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    structlog.configure(logger_factory=structlog.ReturnLoggerFactory())
    with tempfile.TemporaryDirectory(prefix="imi-bench-metrics-") as tmp:
        store = SqliteStateStore(Path(tmp) / "state.sqlite3", FakeClock())
        try:
            floor_ms, floor_mib = scrape(store, args.rounds)
            with store.transaction():
                for i in range(args.requests):
                    team = f"team{i % args.teams}"
                    store.save_request(request(str(400000 + i), team_key=team))
            ms, mib = scrape(store, args.rounds)
        finally:
            store.close()
    print(f"empty store:        scrape {floor_ms:6.1f} ms median, {floor_mib:.2f} MiB peak")
    print(f"{args.requests:,} open requests: scrape {ms:6.1f} ms median, {mib:.2f} MiB peak")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
