"""One daemon per state: a second `run` on the same SQLite file is refused at start (a lock
file beside the file); on PostgreSQL the second waits as a hot standby for the lease."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.service.helpers import DaemonProcess, cli, sample_maildir, write_config


def test_a_second_daemon_on_the_same_sqlite_state_is_refused_with_a_clear_error(
    tmp_path: Path, daemons: Callable[..., DaemonProcess]
) -> None:
    """Double work from two daemons on one state file: the second exits 78, naming the first."""
    sample_maildir(tmp_path)
    config = write_config(tmp_path)
    first = daemons(config)
    first.wait_for("daemon.started")
    second = cli("run", "-c", str(config), cwd=tmp_path)
    assert second.returncode == 78, second.stderr
    assert "another imi-mailwatch daemon" in second.stderr
    assert f"pid {first.proc.pid}" in second.stderr
    assert first.proc.poll() is None  # the first runs on, untouched
    first.signal()
    assert first.wait_exit() == 0
    again = cli("run", "--once", "-c", str(config), cwd=tmp_path)  # the lock went with it
    assert again.returncode == 0, again.stderr


def test_a_second_daemon_on_the_same_postgresql_state_waits_as_standby(
    tmp_path: Path, daemons: Callable[..., DaemonProcess], postgres_url: str
) -> None:
    """Double work from two daemons on one database: one holds the lease, the other waits and
    takes over when the first stops; `health` lists both nodes' roles."""
    sample_maildir(tmp_path)
    config = write_config(tmp_path, state={"url": postgres_url, "lease_seconds": 3})
    first = daemons(config)
    first.wait_for("lease.won")
    second = daemons(config)
    second.wait_for("lease.waiting")
    report = cli("health", "--json", "-c", str(config), cwd=tmp_path)
    roles = {n["node"]: n["role"] for n in json.loads(report.stdout)["nodes"]}
    assert sorted(roles.values()) == ["active", "standby"], report.stdout
    assert not second.named("lease.won")
    first.signal()
    assert first.wait_exit() == 0
    won = second.wait_for("lease.won")
    assert won["token"] > first.wait_for("lease.won")["token"]
    second.signal()
    assert second.wait_exit() == 0
