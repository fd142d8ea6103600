"""Health follows the daemon's life: ready and watchdog to systemd, stale when it is gone,
healthy while it works through a backlog."""

from __future__ import annotations

import json
import os
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from imi_mailwatch.adapters.memory import InMemoryNotifier, InMemoryTaskSink
from imi_mailwatch.app import build_app
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.commands.demo import DEMO_NOW
from imi_mailwatch.commands.run import start_health_server
from imi_mailwatch.config import config_from_data
from imi_mailwatch.model import TaskRef, TaskRequest
from tests.service.helpers import (
    RULES,
    WAIT,
    DaemonProcess,
    cli,
    http_get,
    sample_maildir,
    write_config,
)

Spawn = Callable[..., DaemonProcess]
HEARTBEAT = 4.0  # seconds: short, so that staleness shows within a test


@pytest.fixture
def notify_socket() -> Iterator[tuple[socket.socket, str]]:
    """A fake systemd notification socket: a unix datagram socket the test reads."""
    folder = tempfile.mkdtemp(prefix="imi-notify-")
    path = os.path.join(folder, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(WAIT)
    yield sock, path
    sock.close()


def _receive_until(sock: socket.socket, wanted: str) -> list[str]:
    """Every state line received up to and including the first ``wanted`` one."""
    seen: list[str] = []
    while wanted not in seen:
        seen.extend(sock.recv(4096).decode().splitlines())  # socket.timeout fails the test
    return seen


def _config(tmp_path: Path) -> Path:
    sample_maildir(tmp_path)
    return write_config(tmp_path, service={"heartbeat_seconds": HEARTBEAT})


def test_the_daemon_tells_systemd_ready_watchdog_and_stopping(
    tmp_path: Path, daemons: Spawn, notify_socket: tuple[socket.socket, str]
) -> None:
    """sd_notify: READY=1 once started, WATCHDOG=1 with the heartbeats, STOPPING=1 on
    SIGTERM; after the clean stop `health` says the daemon stopped."""
    sock, path = notify_socket
    config = _config(tmp_path)
    d = daemons(config, env={"NOTIFY_SOCKET": path})
    assert "READY=1" in _receive_until(sock, "READY=1")
    _receive_until(sock, "WATCHDOG=1")
    _receive_until(sock, "WATCHDOG=1")  # again: it keeps coming
    d.wait_for("message.handled", lambda e: "85_spoofed" in e["ref"])

    d.signal(signal.SIGTERM)
    _receive_until(sock, "STOPPING=1")
    assert d.wait_exit() == 0, d.stderr
    health = cli("health", "-c", str(config), cwd=tmp_path)
    assert health.returncode == 1
    assert "daemon: stopped" in health.stdout


def test_health_turns_unhealthy_within_two_heartbeats_of_a_kill(
    tmp_path: Path, daemons: Spawn
) -> None:
    """Stale heartbeat: after SIGKILL (no chance to say goodbye) `health` is unhealthy once
    two heartbeat intervals have passed, not half an hour later."""
    config = _config(tmp_path)
    d = daemons(config)
    d.wait_for("message.handled", lambda e: "85_spoofed" in e["ref"])
    healthy = cli("health", "-c", str(config), cwd=tmp_path)
    assert healthy.returncode == 0, healthy.stdout

    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait(timeout=WAIT)
    killed = time.monotonic()
    # two intervals, plus the second the store rounds its timestamps to, plus a margin
    while time.monotonic() - killed < 2 * HEARTBEAT + 1.5:
        time.sleep(0.2)
    stale = cli("health", "-c", str(config), cwd=tmp_path)
    assert stale.returncode == 1, stale.stdout
    assert "daemon: last heartbeat" in stale.stdout


class GatedSink(InMemoryTaskSink):
    """A slow task sink: each create waits until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Semaphore(0)
        self.gate = threading.Semaphore(0)

    def create(self, task: TaskRequest) -> TaskRef:
        self.entered.release()
        if not self.gate.acquire(timeout=WAIT):
            raise AssertionError("the test never let the task through")
        return super().create(task)


def test_health_and_readiness_stay_200_during_the_first_pass_over_a_backlog(
    tmp_path: Path,
) -> None:
    """Backlog: while the first pass works through waiting messages (a slow sink), /healthz
    and /readyz answer 200 and /livez too; none says 'not reached yet'."""
    sample_maildir(tmp_path)
    data = {
        "state": {"path": str(tmp_path / "state.sqlite3")},
        "mailboxes": [{"name": "imi", "kind": "maildir", "path": str(tmp_path / "mailbox")}],
        "rules": {"paths": [str(RULES)]},
        "beheerders": [{"name": "A. Voorbeeld", "email": "a@example.org"}],
        "notify": {"kind": "drop_folder", "drop_folder": {"path": str(tmp_path / "outbox")}},
        "service": {"health_listen": "127.0.0.1:0"},
    }
    cfg = config_from_data(data, {}, base_dir=str(tmp_path))
    sink = GatedSink()
    app = build_app(cfg, clock=FakeClock(DEMO_NOW), sink=sink, notifier=InMemoryNotifier())
    server = start_health_server(app)
    base = f"http://127.0.0.1:{server.address[1]}"
    runner = threading.Thread(target=app.daemon.run, daemon=True)
    runner.start()
    try:
        for _ in range(7):  # the new requests of the sample mailbox, one at a time
            assert sink.entered.acquire(timeout=WAIT)
            for path in ("/healthz", "/readyz", "/livez"):
                status, body = http_get(base + path)
                assert status == 200, (path, body)
                assert json.loads(body)["status"] == "ok"
            sink.gate.release()
    finally:
        for _ in range(20):
            sink.gate.release()
        app.daemon.request_stop("test")
        runner.join(WAIT)
        server.stop()
        app.close()
    assert len(sink.tasks) == 7
