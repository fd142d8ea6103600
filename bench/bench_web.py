"""Benchmark: the web desk's overview and export over a large SQLite state store.

Targets (issue 20): the overview with 1,000 open requests renders in <= 300 ms server
time (median); the export of 10,000 requests takes <= 3 s.

    .venv/bin/python bench/bench_web.py [--open 1000] [--export 10000] [--rounds 15]

Server time is the whole request through the ASGI application in-process (Starlette's
TestClient: routing, session, the store's queries, Jinja2 rendering), no network.
Every request has a planned reminder (the overview reads the next follow-up of each),
a task reference and a desk state; a third were accepted and answered.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from starlette.testclient import TestClient

from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.config import config_from_data
from imi_mailwatch.model import RequestStatus, TaskStatus
from imi_mailwatch.records import DeskState, FollowUpKind, PlannedFollowUp, RequestRecord
from imi_mailwatch.web.app import create_app
from imi_mailwatch.web.serve import build_desk

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
ROOT = Path(__file__).resolve().parents[1]
TEAMS = [("vth", "Milieu (VTH)"), ("natuur", "Natuur, flora en fauna"), ("icb", "Team ICB")]


def fill(store: SqliteStateStore, count: int, *, closed_share: float = 0.0) -> None:
    """``count`` synthetic requests (ids from 500000), a reminder and a desk state each."""
    with store.transaction():
        for n in range(count):
            rid = str(500000 + n)
            key, name = TEAMS[n % len(TEAMS)]
            created = NOW - timedelta(days=n % 300)
            closed = n < count * closed_share
            store.save_request(
                RequestRecord(
                    request_id=rid,
                    status=RequestStatus.CLOSED if closed else RequestStatus.OPEN,
                    team_key=key,
                    team_name=name,
                    org_unit="ORG",
                    team_mailbox="team@example.org",
                    handlers=(),
                    rule="regel",
                    field="bouwen",
                    is_default=n % 50 == 0,
                    schedule=None,
                    deadline=(NOW + timedelta(days=(n % 90) - 20)).date(),
                    language="nl",
                    legislative_area="Diensten",
                    member_state="BE",
                    service_activities=("Bouwactiviteiten",),
                    requesting_authority="Gemeente",
                    task_status=TaskStatus.CREATED,
                    task_sink="corsa",
                    task_ref=f"Z-{n:06d}",
                    created_at=created,
                    updated_at=created,
                    closed_at=NOW if closed else None,
                )
            )
            due = NOW + timedelta(days=1 + n % 30)
            store.followup_plan(
                rid,
                PlannedFollowUp("d-5", FollowUpKind.REMINDER, due, ("team",), date(2027, 1, 1)),
                NOW,
            )
            if n % 3 == 0:
                store.desk_save(
                    DeskState(
                        rid,
                        accepted_at=created + timedelta(days=2),
                        answered_at=created + timedelta(days=9),
                    )
                )


def client_for(tmp: Path, store: SqliteStateStore) -> TestClient:
    data = {
        "state": {"path": str(tmp / "state.sqlite3")},
        "rules": {"paths": [str(ROOT / "rules")]},
        "web": {"auth": "none"},
    }
    cfg = config_from_data(data, {}, base_dir=str(tmp))
    return TestClient(create_app(build_desk(cfg, store)), base_url="https://testserver")


def timed(client: TestClient, path: str, rounds: int) -> tuple[list[float], int]:
    times, size = [], 0
    for _ in range(rounds):
        start = time.perf_counter()
        got = client.get(path)
        times.append(time.perf_counter() - start)
        assert got.status_code == 200, got.status_code
        size = len(got.content)
    return times, size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--open", type=int, default=1000)
    parser.add_argument("--export", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    clock = FakeClock(NOW)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        store = SqliteStateStore(tmp / "state.sqlite3", clock)
        fill(store, args.open)
        client = client_for(tmp, store)
        client.get("/")  # templates compiled, caches warm
        times, size = timed(client, "/", args.rounds)
        median = statistics.median(times) * 1000
        print(
            f"overview, {args.open} open requests: median {median:.0f} ms, "
            f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
            f"({args.rounds} rounds, {size / 1024:.0f} kB of HTML); target <= 300 ms"
        )
        store.close()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        store = SqliteStateStore(tmp / "state.sqlite3", clock)
        fill(store, args.export, closed_share=0.7)
        client = client_for(tmp, store)
        for fmt in ("csv", "xlsx"):
            path = f"/export?van=2025-01-01&tot=2026-12-31&formaat={fmt}"
            times, size = timed(client, path, 3)
            print(
                f"export of {args.export} requests as {fmt}: median "
                f"{statistics.median(times):.2f} s ({size / 1024:.0f} kB); target <= 3 s"
            )
        store.close()


if __name__ == "__main__":
    main()
