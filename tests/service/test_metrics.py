"""Latency and load as metrics: what production shows is what the benchmarks show."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from imi_mailwatch import metrics
from imi_mailwatch.adapters.sqlite_store import SqliteStateStore
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.model import RequestStatus
from imi_mailwatch.records import RequestRecord
from tests.service.helpers import http_get, sample_maildir, write_config
from tests.service.test_lifecycle import Spawn


def _value(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in a Prometheus text exposition (None if absent)."""
    for line in text.splitlines():
        m = re.fullmatch(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)", line)
        if m is None or m.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        if found == labels:
            return float(m.group(3))
    return None


def test_a_daemon_run_shows_latencies_open_requests_and_its_process(
    tmp_path: Path, daemons: Spawn
) -> None:
    """/metrics of a real daemon: arrival->outcome and outcome->task histograms, per-team
    gauges of open and overdue requests, and the process's memory and CPU."""
    sample_maildir(tmp_path)
    config = write_config(tmp_path, service={"health_listen": "127.0.0.1:0"})
    d = daemons(config)
    listening = d.wait_for("health.listening")
    d.wait_for("message.handled", lambda e: "85_spoofed" in e["ref"])
    d.wait_for("task.created")
    text = _settled_scrape(f"http://127.0.0.1:{listening['port']}/metrics")
    handled = _value(text, "imi_mailwatch_messages_total", outcome="task_created")
    assert handled is not None and handled > 0
    created = _value(
        text, "imi_mailwatch_tasks_created_total", sink="drop_folder", found_existing="false"
    )
    assert created is not None and created > 0
    opened = [line for line in text.splitlines() if line.startswith("imi_mailwatch_open_requests{")]
    assert opened and sum(float(line.split()[-1]) for line in opened) > 0
    assert "imi_mailwatch_overdue_requests{" in text
    rss = _value(text, "process_resident_memory_bytes")
    assert rss is not None and rss > 10 * 2**20
    assert _value(text, "process_cpu_seconds_total") is not None


def _settled_scrape(url: str, tries: int = 300) -> str:
    """A scrape in which each counter equals its histogram's count.

    The daemon may still be handling the other sample messages: a scrape is not atomic
    across metrics, so one taken between a counter and its histogram shows them apart.
    """
    text = ""
    for _ in range(tries):
        status, text = http_get(url)
        assert status == 200
        pairs = (
            (
                _value(text, "imi_mailwatch_messages_total", outcome="task_created"),
                _value(
                    text, "imi_mailwatch_arrival_to_outcome_seconds_count", outcome="task_created"
                ),
            ),
            (
                _value(
                    text,
                    "imi_mailwatch_tasks_created_total",
                    sink="drop_folder",
                    found_existing="false",
                ),
                _value(text, "imi_mailwatch_outcome_to_task_seconds_count", sink="drop_folder"),
            ),
        )
        if all(count is not None and count == seen for count, seen in pairs):
            return text
        time.sleep(0.1)
    raise AssertionError(f"counters and histogram counts never agreed:\n{text}")


def _request(
    request_id: str, team: str | None, status: RequestStatus, deadline: date | None
) -> RequestRecord:
    now = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    return RequestRecord(
        request_id=request_id,
        status=status,
        team_key=team,
        team_name=None,
        org_unit=None,
        team_mailbox=None,
        handlers=(),
        rule=None,
        field=None,
        is_default=False,
        schedule=None,
        deadline=deadline,
        language=None,
        legislative_area=None,
        member_state=None,
        service_activities=(),
        requesting_authority=None,
        task_status=None,
        task_sink=None,
        task_ref=None,
        created_at=now,
        updated_at=now,
        closed_at=None,
    )


def test_open_and_overdue_requests_per_team(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Overdue: still awaiting an answer and past its reply date (Dutch date); closed ones
    and answered ones are not overdue; requests without a team count under team ''.
    The store counts them: a scrape reads no request (10,000 open ones would be read on
    every scrape)."""
    clock = FakeClock(datetime(2026, 11, 30, 23, 30, tzinfo=UTC))  # 1 December in Amsterdam
    store = SqliteStateStore(tmp_path / "state.sqlite3", clock)
    try:
        for rec in (
            _request("1", "vth", RequestStatus.OPEN, date(2026, 11, 30)),
            _request("2", "vth", RequestStatus.ALLOCATED, date(2026, 12, 1)),
            _request("3", "vth", RequestStatus.ANSWERED, date(2026, 11, 1)),
            _request("4", "vth", RequestStatus.CLOSED, date(2026, 11, 1)),
            _request("5", "eco", RequestStatus.INFO_REQUESTED, date(2026, 11, 2)),
            _request("6", None, RequestStatus.OPEN, None),
        ):
            store.save_request(rec)

        def no_reading(**_: object) -> None:
            raise AssertionError("a scrape read the requests one by one")

        monkeypatch.setattr(store, "requests", no_reading)
        text = metrics.render(metrics.StateCollector(store)).decode()
    finally:
        store.close()
    assert _value(text, "imi_mailwatch_open_requests", team="vth") == 3
    assert _value(text, "imi_mailwatch_overdue_requests", team="vth") == 1
    assert _value(text, "imi_mailwatch_open_requests", team="eco") == 1
    assert _value(text, "imi_mailwatch_overdue_requests", team="eco") == 1
    assert _value(text, "imi_mailwatch_open_requests", team="") == 1
    assert _value(text, "imi_mailwatch_overdue_requests", team="") == 0
