"""The daemon as a process: start-up and shutdown lines, drain on a signal, a second signal."""

from __future__ import annotations

import json
import signal
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from imi_mailwatch.testing.corsa_server import CorsaTestServer
from tests.service.helpers import (
    WAIT,
    DaemonProcess,
    cli,
    http_get,
    sample_maildir,
    write_config,
)

Spawn = Callable[[Path], DaemonProcess]


def _hold_corsa(server: CorsaTestServer, delay: float) -> threading.Event:
    """Make every Corsa answer wait ``delay`` seconds; the event is set at the first call."""
    entered = threading.Event()
    original = server.handle_soap

    def handle(body: bytes, session_id: str | None) -> tuple[int, bytes, str | None]:
        entered.set()
        return original(body, session_id)

    server.handle_soap = handle  # type: ignore[method-assign]
    server.delay_seconds = delay
    return entered


def test_runs_serves_health_and_stops_cleanly_on_sigterm(tmp_path: Path, daemons: Spawn) -> None:
    """SIGTERM: exit 0 with a start-up line (summary, no secrets) and a shutdown line."""
    sample_maildir(tmp_path)
    config = write_config(tmp_path, service={"health_listen": "127.0.0.1:0"})
    d = daemons(config)
    started = d.wait_for("daemon.started")
    assert started["mailboxes"] == ["imi:maildir"]
    assert started["task_sink"] == "drop_folder"
    listening = d.wait_for("health.listening")
    base = f"http://127.0.0.1:{listening['port']}"
    d.wait_for("message.handled", lambda e: "85_spoofed" in e["ref"])
    d.wait_for("task.created")

    status, body = http_get(base + "/healthz")
    assert status == 200, body
    assert json.loads(body)["status"] == "ok"
    assert json.loads(body)["state"] == "running"
    status, text = http_get(base + "/metrics")
    assert status == 200
    assert 'imi_mailwatch_messages_total{outcome="task_created"}' in text
    assert 'imi_mailwatch_quarantine_size{kind="rejected"} 1.0' in text
    assert 'imi_mailwatch_mailbox_last_contact_timestamp_seconds{mailbox="imi"}' in text
    assert 'imi_mailwatch_run_state{imi_mailwatch_run_state="running"} 1.0' in text
    assert http_get(base + "/nothing")[0] == 404

    health = cli("health", "-c", str(config), cwd=tmp_path)
    assert health.returncode == 0, health.stdout + health.stderr
    assert health.stdout.strip() == "healthy"

    d.signal(signal.SIGTERM)
    assert d.wait_exit() == 0, d.stderr
    stopped = d.named("daemon.stopped")[-1]
    assert stopped["drain_expired"] is False
    assert stopped["outcomes"]["task_created"] == 7
    assert d.named("daemon.stopping")[0]["signal"] == "SIGTERM"
    states = [e["state"] for e in d.named("daemon.state_changed")]
    assert states == ["running", "draining", "stopped"]


def test_sigterm_finishes_the_message_in_hand(
    tmp_path: Path, daemons: Spawn, corsa: CorsaTestServer
) -> None:
    """A signal during a Corsa call: that call is finished, no next one begins; the messages
    in hand (the fetch batch, recorded in one commit before any call) are filed, their tasks
    wait in the outbox, and the rest of the mailbox stays where it is."""
    box = sample_maildir(tmp_path)
    waiting = len(list((box / "new").iterdir()))
    entered = _hold_corsa(corsa, 0.3)
    config = write_config(tmp_path, corsa_url=corsa.url, service={"drain_seconds": 60})
    d = daemons(config)
    assert entered.wait(WAIT)
    d.signal(signal.SIGTERM)
    assert d.wait_exit() == 0, d.stderr
    outcomes = [e["outcome"] for e in d.named("message.handled")]
    assert outcomes.count("task_created") == 1
    assert "task_queued" in outcomes  # the next new requests of the batch: not carried out
    assert len(corsa.documents) == 1
    filed = [o for o in outcomes if o != "ignored"]  # ordinary mail stays in the inbox
    assert len(list((box / "new").iterdir())) == waiting - len(filed)
    assert d.named("daemon.stopped")[-1]["outcomes"] == dict(Counter(outcomes))


def test_drain_deadline_ends_a_hung_call(
    tmp_path: Path, daemons: Spawn, corsa: CorsaTestServer
) -> None:
    """A Corsa call that hangs past service.drain_seconds: exit 1 with the shutdown line."""
    sample_maildir(tmp_path)
    entered = _hold_corsa(corsa, WAIT)
    config = write_config(tmp_path, corsa_url=corsa.url, service={"drain_seconds": 1})
    d = daemons(config)
    assert entered.wait(WAIT)
    d.signal(signal.SIGTERM)
    assert d.wait_exit() == 1
    stopped = d.named("daemon.stopped")[-1]
    assert stopped["drain_expired"] is True
    assert stopped["level"] == "error"
    # nothing was recorded half-way: the message comes again on the next start
    assert not d.named("message.handled")


def test_second_signal_exits_at_once(
    tmp_path: Path, daemons: Spawn, corsa: CorsaTestServer
) -> None:
    """A second SIGTERM or SIGINT while draining ends the process at once, exit 1."""
    sample_maildir(tmp_path)
    entered = _hold_corsa(corsa, WAIT)
    config = write_config(tmp_path, corsa_url=corsa.url, service={"drain_seconds": 120})
    d = daemons(config)
    assert entered.wait(WAIT)
    d.signal(signal.SIGTERM)
    d.wait_for("daemon.state_changed", lambda e: e["state"] == "draining")
    d.signal(signal.SIGINT)
    assert d.wait_exit() == 1
    assert d.named("daemon.forced_exit")[0]["signal"] == "SIGINT"
