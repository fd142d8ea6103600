"""One daemon per state: a second `run` on the same SQLite file or PostgreSQL database is
refused at start (a lock file beside the file, a session advisory lock in the database)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.service.helpers import DaemonProcess, cli, sample_maildir, write_config


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_a_second_daemon_on_the_same_state_is_refused_with_a_clear_error(
    tmp_path: Path,
    daemons: Callable[..., DaemonProcess],
    engine: str,
    request: pytest.FixtureRequest,
) -> None:
    """Double work from two daemons on one state: the second exits 78, naming the first."""
    sample_maildir(tmp_path)
    if engine == "postgres":
        config = write_config(tmp_path, state={"url": request.getfixturevalue("postgres_url")})
    else:
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
