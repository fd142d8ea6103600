"""The state store's cost per message on SQLite and on PostgreSQL (local, private server).

Each message is what the pipeline writes for a new request: one ``commit`` of a
Recording (message record, alert, request, audit line, outbox intent) in its own
transaction, then ``mark_acknowledged``; and a group commit of the same in batches
of 20. PostgreSQL runs on this machine (tests/servers/postgres.py, fsync on), so
the figures leave out the network round trip a database server adds. Usage:

    .venv/bin/python bench/bench_state_store.py --messages 2000
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import structlog

from imi_mailwatch.adapters.postgres import PostgresStateStore
from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.model import Disposition, MessageKind, RequestStatus
from imi_mailwatch.ports import StateStore
from imi_mailwatch.records import (
    AlertEntry,
    AuditEntry,
    Intent,
    MessageEntry,
    Recording,
    RequestRecord,
)
from tests.servers.postgres import PostgresServer

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def recording(n: int) -> Recording:
    rid = str(700000 + n)
    return Recording(
        message=MessageEntry(
            source="imi", ref=f"1:{n}", message_id=f"<m{n}@example.org>", content_hash=f"h{n}",
            kind=MessageKind.IMI_ALERT, disposition=Disposition.HANDLED, request_id=rid,
            alert_type="new_request",
        ),
        alert=AlertEntry(request_id=rid, alert_type="new_request", deadline=date(2026, 12, 20),
                         sent_at=NOW),
        request=RequestRecord(
            request_id=rid, status=RequestStatus.OPEN, team_key="eco", team_name="Team Eco",
            org_unit="ORG", team_mailbox="team@example.org", handlers=("b@example.org",),
            rule="r", field="f", is_default=False, schedule=None, deadline=date(2026, 12, 20),
            language="nl", legislative_area="Diensten", member_state="BE",
            service_activities=("Bouw",), requesting_authority="Gemeente", task_status=None,
            task_sink=None, task_ref=None, created_at=NOW, updated_at=NOW, closed_at=None,
        ),
        intents=(Intent(request_id=rid, action="create_task", idem_key=f"create:{rid}",
                        payload={"n": n}),),
        audits=(AuditEntry(event="request.created", request_id=rid, detail={"team": "x"}),),
    )  # fmt: skip


def run(store: StateStore, messages: int, batch: int) -> list[float]:
    """Seconds per message, one figure per batch."""
    times = []
    for start in range(0, messages, batch):
        t0 = time.perf_counter()
        with store.transaction():
            rows = [store.commit(recording(n)) for n in range(start, start + batch)]
        for row in rows:
            store.mark_acknowledged(row)
        times.append((time.perf_counter() - t0) / batch)
    return times


def report(name: str, make: Callable[[], StateStore], messages: int) -> None:
    for batch in (1, 20):
        store = make()
        try:
            per = run(store, messages, batch)
        finally:
            getattr(store, "close", lambda: None)()
        per.sort()
        p50, p95 = statistics.median(per), per[int(len(per) * 0.95) - 1]
        print(f"{name:<10} batch {batch:>2}: {messages / sum(p * batch for p in per):7.0f} msg/s, "
              f"p50 {p50 * 1000:6.2f} ms/msg, p95 {p95 * 1000:6.2f} ms/msg")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    with tempfile.TemporaryDirectory() as tmp, PostgresServer(durable=True) as server:
        files = iter(range(10))
        report("sqlite", lambda: SqliteStateStore(Path(tmp) / f"s{next(files)}.sqlite3",
                                                  FakeClock(NOW)), args.messages)  # fmt: skip
        report("postgres", lambda: PostgresStateStore(server.new_database(), FakeClock(NOW)),
               args.messages)  # fmt: skip


if __name__ == "__main__":
    main()
