"""Health: the verdict on the health rows, the command's exit codes, the HTTP endpoint."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from imi_mailwatch import metrics
from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.clock import FakeClock, SystemClock
from imi_mailwatch.errors import ConfigError
from imi_mailwatch.health import (
    HEALTH,
    LIVENESS,
    READINESS,
    Facts,
    HealthReport,
    HealthServer,
    evaluate,
    parse_listen,
)
from imi_mailwatch.health import judge as verdict
from imi_mailwatch.records import HealthRecord
from tests.service.helpers import WAIT, cli, http_get, sample_maildir, write_config

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
STALE = timedelta(minutes=30)


def rec(
    component: str,
    ok: bool,
    *,
    ok_ago: int | None = None,
    failing_ago: int | None = None,
    error: str | None = None,
) -> HealthRecord:
    """A health row; ``*_ago`` in minutes before NOW."""
    return HealthRecord(
        component=component,
        ok=ok,
        last_ok_at=NOW - timedelta(minutes=ok_ago) if ok_ago is not None else None,
        failing_since=NOW - timedelta(minutes=failing_ago) if failing_ago is not None else None,
        error=error,
        updated_at=NOW,
    )


def judge(*rows: HealthRecord, mailboxes: tuple[str, ...] = ("imi",)) -> HealthReport:
    return evaluate(rows, now=NOW, mailboxes=mailboxes, mailbox_stale=STALE, sink_failing=STALE)


def test_healthy_when_everything_was_reached_recently() -> None:
    """Heartbeat, mailbox, sink and rules fine: healthy, no problems."""
    report = judge(
        rec("daemon", True, ok_ago=1),
        rec("mailbox:imi", True, ok_ago=2),
        rec("task_sink", True, ok_ago=5),
        rec("rules", True, ok_ago=60),
    )
    assert report.ok and report.problems == ()


def test_a_short_mailbox_outage_is_still_healthy() -> None:
    """A mailbox failing for less than mailbox_stale_minutes does not make it unhealthy."""
    report = judge(
        rec("daemon", True, ok_ago=0),
        rec("mailbox:imi", False, ok_ago=10, failing_ago=9, error="TimeoutError"),
    )
    assert report.ok


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ((), "daemon: no heartbeat"),
        ((rec("daemon", True, ok_ago=45),), "daemon: last heartbeat"),
        ((rec("daemon", True, ok_ago=0),), "mailbox imi: not reached yet"),
        (
            (rec("daemon", True, ok_ago=0), rec("mailbox:imi", True, ok_ago=31)),
            "mailbox imi: last reached",
        ),
        (
            (
                rec("daemon", True, ok_ago=0),
                rec(
                    "mailbox:imi", False, ok_ago=40, failing_ago=39, error="MailSourceRejectedError"
                ),
            ),
            "mailbox imi: not reached since",
        ),
        (
            (
                rec("daemon", True, ok_ago=0),
                rec("mailbox:imi", False, failing_ago=31, error="TimeoutError"),
            ),
            "mailbox imi: never reached",
        ),
        (
            (
                rec("daemon", True, ok_ago=0),
                rec("mailbox:imi", True, ok_ago=1),
                rec(
                    "task_sink", False, ok_ago=50, failing_ago=31, error="TaskSinkUnavailableError"
                ),
            ),
            "task sink: failing since",
        ),
        (
            (
                rec("daemon", True, ok_ago=0),
                rec("mailbox:imi", True, ok_ago=1),
                rec("rules", False, failing_ago=1),
            ),
            "rules: the rules files are invalid",
        ),
    ],
)
def test_unhealthy_cases(rows: tuple[HealthRecord, ...], expected: str) -> None:
    """Each unhealthy condition is reported with a line that names it."""
    report = judge(*rows)
    assert not report.ok
    assert any(p.startswith(expected) for p in report.problems), report.problems


def test_a_task_sink_failing_briefly_is_healthy_and_errors_are_named() -> None:
    """The sink failing for less than sink_failing_minutes is fine; the error class is shown."""
    rows = (rec("daemon", True, ok_ago=0), rec("mailbox:imi", True, ok_ago=1))
    assert judge(*rows, rec("task_sink", False, failing_ago=29)).ok
    report = judge(*rows, rec("task_sink", False, failing_ago=31, error="TaskSinkUnavailableError"))
    assert report.problems[-1].endswith("last error TaskSinkUnavailableError")


def test_unconfigured_mailboxes_are_ignored() -> None:
    """Rows of a mailbox no longer configured do not count."""
    report = judge(
        rec("daemon", True, ok_ago=0), rec("mailbox:old", False, failing_ago=600), mailboxes=()
    )
    assert report.ok


def test_parse_listen() -> None:
    """HOST:PORT and [v6]:PORT are accepted; anything else is a configuration error."""
    assert parse_listen("127.0.0.1:9310") == ("127.0.0.1", 9310)
    assert parse_listen("[::1]:0") == ("::1", 0)
    for bad in ("9310", "localhost", "host:port", ":9310", "h:70000"):
        with pytest.raises(ConfigError):
            parse_listen(bad)


def test_health_command_exit_codes(tmp_path: Path) -> None:
    """No state: 1. Stopped after --once: 1. Beating: 0. Sink failing too long or rules
    broken: 1, with the reason."""
    sample_maildir(tmp_path)
    config = write_config(tmp_path, service={"heartbeat_seconds": 600})
    before = cli("health", "-c", str(config), cwd=tmp_path)
    assert before.returncode == 1
    assert "does not exist" in before.stdout

    assert cli("run", "--once", "-c", str(config), cwd=tmp_path).returncode == 0
    stopped = cli("health", "-c", str(config), cwd=tmp_path)
    assert stopped.returncode == 1  # --once has ended: the daemon is not running
    assert "daemon: stopped at" in stopped.stdout

    state = tmp_path / "state" / "state.sqlite3"
    running = SqliteStateStore(state, SystemClock())
    running.record_health("daemon", ok=True)  # as a running daemon's heartbeat does
    running.close()
    ok = cli("health", "-c", str(config), cwd=tmp_path)
    assert (ok.returncode, ok.stdout.strip()) == (0, "healthy")

    past = SqliteStateStore(state, FakeClock(datetime.now(UTC) - timedelta(hours=2)))
    past.record_health("task_sink", ok=False, error="TaskSinkUnavailableError")
    past.close()
    sink = cli("health", "--json", "-c", str(config), cwd=tmp_path)
    assert sink.returncode == 1
    verdict = json.loads(sink.stdout)
    assert verdict["status"] == "unhealthy"
    assert verdict["problems"][0].startswith("task sink: failing since")

    store = SqliteStateStore(state, SystemClock())
    store.record_health("task_sink", ok=True)
    store.record_health("rules", ok=False, error="invalid rules")
    store.close()
    rules = cli("health", "-c", str(config), cwd=tmp_path)
    assert rules.returncode == 1
    assert "rules: the rules files are invalid" in rules.stdout


def test_health_command_exits_1_on_an_invalid_configuration(tmp_path: Path) -> None:
    """Docker reserves exit codes other than 0 and 1: a broken configuration is 1 too."""
    config = tmp_path / "bad.yaml"
    config.write_text("service:\n  drain_secnds: 5\n", encoding="utf-8")
    result = cli("health", "-c", str(config), cwd=tmp_path)
    assert result.returncode == 1
    assert "unhealthy" in result.stdout


def test_endpoint_serves_healthz_and_metrics_over_http() -> None:
    """/healthz answers 200 or 503 with JSON, /metrics the Prometheus text, others 404."""
    verdict = [HealthReport(ok=True)]
    server = HealthServer("127.0.0.1:0", check=lambda: verdict[0], state=lambda: "running")
    server.start()
    try:
        base = f"http://127.0.0.1:{server.address[1]}"
        status, body = http_get(base + "/healthz")
        assert status == 200
        assert json.loads(body) == {
            "status": "ok",
            "problems": [],
            "components": [],
            "state": "running",
        }
        verdict[0] = HealthReport(ok=False, problems=("rules: broken",))
        status, body = http_get(base + "/healthz")
        assert status == 503
        assert json.loads(body)["problems"] == ["rules: broken"]
        metrics.task_sink_error(permanent=False)
        status, text = http_get(base + "/metrics")
        assert status == 200
        assert 'imi_mailwatch_task_sink_errors_total{kind="transient"}' in text
        assert "imi_mailwatch_build_info{version=" in text
        assert http_get(base + "/")[0] == 404
    finally:
        server.stop()


def test_endpoint_on_a_taken_port_is_a_configuration_error() -> None:
    """A port in use is reported as a configuration problem, not a traceback."""
    first = HealthServer("127.0.0.1:0", check=lambda: HealthReport(ok=True), state=lambda: "x")
    first.start()
    try:
        second = HealthServer(
            f"127.0.0.1:{first.address[1]}", check=lambda: HealthReport(ok=True), state=lambda: "x"
        )
        with pytest.raises(ConfigError, match="cannot listen"):
            second.start()
    finally:
        first.stop()


def test_read_only_commands_need_no_secrets(tmp_path: Path) -> None:
    """health and status read the state store: they run without the daemon's secrets."""
    sample_maildir(tmp_path)
    config = write_config(tmp_path, corsa_url="http://127.0.0.1:9/corsa")
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMI_CORSA_")}
    for command in (["health"], ["status", "--json"]):
        result = subprocess.run(
            [sys.executable, "-m", "imi_mailwatch", *command, "-c", str(config)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
        assert "IMI_CORSA_PASSWORD" not in result.stdout + result.stderr, command
    check = subprocess.run(
        [sys.executable, "-m", "imi_mailwatch", "check-config", "-c", str(config)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert check.returncode == 78  # the daemon's own check still wants them
    assert "IMI_CORSA_PASSWORD" in check.stdout + check.stderr


def test_slow_clients_cannot_exhaust_the_endpoint(caplog: pytest.LogCaptureFixture) -> None:
    """Slowloris: hundreds of clients that connect and send nothing add no thread each,
    and an ordinary client still gets its answer meanwhile; stopping with them open is quiet."""
    server = HealthServer("127.0.0.1:0", check=lambda: HealthReport(ok=True), state=lambda: "x")
    server.start()
    silent: list[socket.socket] = []
    try:
        threads_before = threading.active_count()
        for _ in range(300):
            silent.append(socket.create_connection(server.address, timeout=WAIT))
        # the last silent connection has been accepted once this request is answered
        status, _body = http_get(f"http://127.0.0.1:{server.address[1]}/healthz")
        assert status == 200
        assert threading.active_count() <= threads_before + 4
    finally:
        server.stop()
        for s in silent:
            s.close()
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []


def test_a_client_that_stops_half_way_is_dropped() -> None:
    """Slowloris: a request never finished is closed by the server after its read timeout."""
    server = HealthServer(
        "127.0.0.1:0",
        check=lambda: HealthReport(ok=True),
        state=lambda: "x",
        read_timeout=0.5,
    )
    server.start()
    try:
        with socket.create_connection(server.address, timeout=WAIT) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # no blank line: never ends
            assert s.recv(1024) == b""  # the server closed it (a timeout here fails the test)
    finally:
        server.stop()


def test_heartbeat_is_stale_after_two_intervals_and_a_clean_stop_at_once() -> None:
    """Stale liveness: two heartbeat intervals (plus the store's rounding) without a beat, or
    a recorded clean stop, make it unhealthy; the mailbox tolerance does not apply to it."""
    beat = timedelta(seconds=30)
    mailbox = rec("mailbox:imi", True, ok_ago=0)

    def at(seconds_ago: int, *, ok: bool = True, error: str | None = None) -> HealthReport:
        row = HealthRecord(
            component="daemon",
            ok=ok,
            last_ok_at=NOW - timedelta(seconds=seconds_ago),
            failing_since=None if ok else NOW,
            error=error,
            updated_at=NOW,
        )
        return evaluate(
            (row, mailbox),
            now=NOW,
            mailboxes=("imi",),
            mailbox_stale=STALE,
            sink_failing=STALE,
            heartbeat=beat,
        )

    assert at(60).ok
    assert at(62).problems == (
        f"daemon: last heartbeat {(NOW - timedelta(seconds=62)).isoformat()} (62 s ago)",
    )
    assert at(1, ok=False, error="stopped").problems[0].startswith("daemon: stopped at")


def test_liveness_and_readiness_verdicts_inside_the_daemon() -> None:
    """/livez asks only whether the loops beat; /readyz also wants the mailboxes connected
    since this start, the store writable, the rules valid and the run state running."""
    started = NOW - timedelta(minutes=5)
    rows = {
        "daemon": rec("daemon", True, ok_ago=0),
        "mailbox:imi": rec("mailbox:imi", True, ok_ago=10),  # from before this start
        "rules": rec("rules", True, ok_ago=5),
    }
    base = Facts(
        rows=rows,
        now=NOW,
        mailboxes=("imi",),
        run_state="running",
        beat_age=timedelta(seconds=3),
        started_at=started,
    )
    assert verdict(base, LIVENESS).ok
    assert verdict(base, READINESS).problems == ("mailbox imi: not connected yet",)
    connected = replace(base, rows={**rows, "mailbox:imi": rec("mailbox:imi", True, ok_ago=1)})
    assert verdict(connected, READINESS).ok
    assert verdict(connected, HEALTH).ok

    stuck = replace(connected, beat_age=timedelta(seconds=70))
    assert verdict(stuck, LIVENESS).problems[0].startswith("daemon: its loops have not written")
    assert not verdict(stuck, HEALTH).ok
    assert verdict(replace(connected, beat_error="OperationalError"), READINESS).problems == (
        "state store: cannot write the heartbeat (OperationalError)",
    )
    assert not verdict(replace(connected, run_state="draining"), READINESS).ok
    assert verdict(replace(connected, run_state="draining"), LIVENESS).ok
    assert not verdict(replace(connected, run_state="stopped"), LIVENESS).ok
