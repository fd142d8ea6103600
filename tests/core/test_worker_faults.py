"""A full disk under the state store: the mailbox worker never dies silently.

The state store lives on a small tmpfs that the test fills up and frees again
(mounting needs root or passwordless sudo: the tests skip without either).
Real Maildir, real SQLite, real daemon threads; no mocks.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from structlog.testing import capture_logs

from imi_mailwatch.adapters.memory import InMemoryNotifier, InMemoryTaskSink
from imi_mailwatch.app import App, build_app
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.commands.demo import DEMO_NOW, make_maildir, sample_mailbox
from imi_mailwatch.config import config_from_data

RULES = Path(__file__).resolve().parents[2] / "rules"
REPO = Path(__file__).resolve().parents[2]
WAIT = 120.0  # seconds an expected event may take on a loaded machine (never a budget)


def _as_root(*argv: str) -> list[str]:
    """The command, through passwordless sudo when the tests do not run as root (CI)."""
    return list(argv) if os.geteuid() == 0 else ["sudo", "-n", *argv]


@pytest.fixture
def small_fs() -> Iterator[Path]:
    """A 4 MB tmpfs owned by the test's user, unmounted afterwards; skips where mounting
    is not allowed (neither root nor passwordless sudo)."""
    mnt = Path(tempfile.mkdtemp(prefix="imi-smallfs-"))
    options = f"size=4m,mode=0700,uid={os.getuid()},gid={os.getgid()}"
    try:
        done = subprocess.run(
            _as_root("mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mnt)),
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:  # no sudo
        done = None
    if done is None or done.returncode != 0:
        mnt.rmdir()
        pytest.skip("mounting a small tmpfs needs root or passwordless sudo")
    try:
        yield mnt
    finally:
        subprocess.run(_as_root("umount", "-l", str(mnt)), check=False)
        with contextlib.suppress(OSError):
            mnt.rmdir()


def fill(fs: Path) -> Path:
    """Write a file until the file system is full; returns it (delete it to free the space)."""
    filler = fs / "filler"
    with contextlib.suppress(OSError), filler.open("wb") as f:
        while True:
            f.write(b"\0" * 65536)
            f.flush()
    return filler


def truncate_wal(db: Path) -> None:
    """Checkpoint and empty the WAL, so that the store's next write needs new disk space."""
    con = sqlite3.connect(str(db), timeout=30)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


def wait_for(what: Callable[[], bool], timeout: float = WAIT) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if what():
            return True
        time.sleep(0.05)
    return what()


def config_data(tmp: Path, state: Path, **service: Any) -> dict[str, Any]:
    return {
        "state": {"path": str(state / "state.sqlite3")},
        "mailboxes": [{"name": "imi", "kind": "maildir", "path": str(tmp / "mailbox")}],
        "rules": {"paths": [str(RULES)]},
        "beheerders": [{"name": "A. Voorbeeld", "email": "a@example.org"}],
        "notify": {"kind": "drop_folder", "drop_folder": {"path": str(tmp / "outbox")}},
        "service": {"health_listen": None, **service},
    }


def deliver(tmp: Path) -> int:
    """Put the sample mailbox's messages into the watched Maildir's new/."""
    staging = tmp / "staging"
    make_maildir(staging, sample_mailbox(), start=1763280000)
    files = list((staging / "new").iterdir())
    for f in files:
        shutil.move(str(f), tmp / "mailbox" / "new" / f.name)
    return len(files)


def recorded(app: App) -> int:
    """How many messages the state store has recorded (every one, handled or ignored)."""
    return int(app.store.query("SELECT count(*) FROM messages")[0][0])


def filed(tmp: Path) -> int:
    box = tmp / "mailbox"
    return sum(len(list(d.iterdir())) for d in box.glob(".IMI.*/cur"))


def test_disk_full_under_the_state_store_is_survived_and_mail_is_read_after(
    tmp_path: Path, small_fs: Path
) -> None:
    """Worker fault (disk full): failures are logged with tracebacks and retried; once the
    space is back the same worker reads the mail."""
    make_maildir(tmp_path / "mailbox", [], start=0)
    cfg = config_from_data(config_data(tmp_path, small_fs), {}, base_dir=str(tmp_path))
    app: App = build_app(
        cfg, clock=FakeClock(DEMO_NOW), sink=InMemoryTaskSink(), notifier=InMemoryNotifier()
    )
    app.daemon.backoff_first, app.daemon.backoff_max = 0.05, 0.2
    app.daemon.worker_max_failures = 10_000  # this test is about surviving, not giving up
    runner = threading.Thread(target=app.daemon.run, name="test-daemon")

    def worker_alive() -> bool:
        return any(t.name == "mailbox-imi" for t in threading.enumerate())

    with capture_logs() as logs:
        runner.start()
        try:
            # the disk fills under a running worker (on a loaded host it may start late)
            assert wait_for(worker_alive), "the mailbox worker did not start"
            truncate_wal(small_fs / "state.sqlite3")
            filler = fill(small_fs)
            total = deliver(tmp_path)

            def errors() -> list[dict[str, Any]]:
                return [e for e in list(logs) if e["event"] == "mailbox.worker_error"]

            wait_for(lambda: len(errors()) >= 3 or not worker_alive())
            assert worker_alive(), "the mailbox worker died"
            assert len(errors()) >= 3
            assert recorded(app) == 0
            assert errors()[0]["exc_info"] is True  # the traceback goes to the log
            filler.unlink()
            assert wait_for(lambda: recorded(app) == total), "mail not read after space freed"
        finally:
            app.daemon.request_stop("test")
            runner.join(WAIT)
    assert app.daemon.failure is None
    assert not runner.is_alive()
    app.close()


def test_a_worker_failing_past_the_bound_makes_run_exit_non_zero(
    tmp_path: Path, small_fs: Path
) -> None:
    """Worker fault past the bound (disk stays full): `run` stops and exits 1, never healthy."""
    make_maildir(tmp_path / "mailbox", [], start=0)
    data = config_data(tmp_path, small_fs, worker_max_failures=2, drain_seconds=5)
    data["logging"] = {"format": "json"}
    cfg_file = tmp_path / "imi-mailwatch.yaml"
    cfg_file.write_text(yaml.safe_dump(data))
    proc = subprocess.Popen(
        [sys.executable, "-m", "imi_mailwatch", "run", "-c", str(cfg_file)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    out = proc.stdout
    assert out is not None
    reader = threading.Thread(target=lambda: lines.extend(iter(out.readline, "")))
    reader.start()
    try:
        assert wait_for(lambda: any('"daemon.started"' in line for line in lines))
        truncate_wal(small_fs / "state.sqlite3")
        fill(small_fs)
        deliver(tmp_path)
        code = proc.wait(WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(WAIT)
    events = [json.loads(line) for line in lines if line.startswith("{")]
    names = [e["event"] for e in events]
    assert code == 1, lines[-20:]
    assert "daemon.failed" in names
    assert [e for e in events if e["event"] == "daemon.stopped"][-1]["failure"]
    assert filed(tmp_path) == 0  # nothing was lost: the mail waits in new/ for the restart


def test_a_daemon_that_gave_up_is_unhealthy_in_the_store_and_on_the_endpoint(
    tmp_path: Path,
) -> None:
    """Health tells the truth about worker death: `health` (store) and /healthz both say so."""
    from imi_mailwatch.health import HEALTH, LIVENESS, check, facts, judge

    make_maildir(tmp_path / "mailbox", [], start=0)
    cfg = config_from_data(config_data(tmp_path, tmp_path), {}, base_dir=str(tmp_path))
    app = build_app(cfg, clock=FakeClock(DEMO_NOW), sink=InMemoryTaskSink())
    app.daemon.heartbeat(force=True)
    app.daemon.fail("mailbox worker imi: 10 failures in a row (OperationalError)")
    app.daemon.heartbeat(force=True)  # a later heartbeat does not hide it
    report = check(cfg, app.store, app.clock.now())
    assert not report.ok
    assert "daemon: mailbox worker imi: 10 failures in a row (OperationalError)" in report.problems
    for checks in (HEALTH, LIVENESS):  # what /healthz and /livez serve inside the daemon
        seen = facts(cfg, app.store, app.clock.now(), daemon=app.daemon, run_state="running")
        served = judge(seen, checks)
        assert not served.ok
        assert "daemon: gave up: mailbox worker imi: 10 failures" in " ".join(served.problems)
    assert app.daemon.stop_event.is_set()
    app.close()


def test_a_stop_request_is_heard_while_a_periodic_task_hangs(tmp_path: Path) -> None:
    """A slow periodic task (a Corsa call that hangs, a report over 10,000 requests) never
    keeps the daemon from hearing a stop: it drains at once, and a second signal can end it."""
    make_maildir(tmp_path / "mailbox", [], start=0)
    cfg = config_from_data(config_data(tmp_path, tmp_path), {}, base_dir=str(tmp_path))
    app = build_app(cfg, clock=FakeClock(DEMO_NOW), sink=InMemoryTaskSink())
    entered, release = threading.Event(), threading.Event()

    def hangs() -> None:
        entered.set()
        release.wait(WAIT)

    app.daemon.periodic.append(("hangs", hangs))
    runner = threading.Thread(target=app.daemon.run, name="test-daemon")
    runner.start()
    try:
        assert entered.wait(WAIT)
        app.daemon.request_stop("SIGTERM")
        deadline = time.monotonic() + WAIT  # a guard only: draining follows at once
        while app.daemon.state.value != "draining" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert app.daemon.state.value == "draining"
        assert not release.is_set()  # the task still hangs
    finally:
        release.set()
        runner.join(WAIT)
    assert not runner.is_alive()
