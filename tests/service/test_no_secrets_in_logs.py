"""No log line holds a configured secret or a fragment of a message body.

The main scenarios run as real processes over the sample Maildir with the
Corsa test server and a configured password and licence key: a normal run, a
second run over the same mail, Corsa refusing the password, Corsa answering
HTTP 500, and the daemon stopped by SIGTERM. Everything they write to standard
output and standard error is searched.
"""

from __future__ import annotations

import email
import email.policy
import re
import signal
from collections.abc import Callable
from pathlib import Path

from imi_mailwatch.commands.demo import sample_mailbox
from imi_mailwatch.testing.corsa_server import CorsaTestServer, start
from tests.service.helpers import (
    CORSA_LICENCE,
    CORSA_PASSWORD,
    DaemonProcess,
    cli,
    sample_maildir,
    write_config,
)

MIN_FRAGMENT = 24  # characters: long enough to be body text, not a word that also names a thing


def body_fragments() -> set[str]:
    """Lines of body text of every sample message (decoded text and HTML parts)."""
    fragments: set[str] = set()
    for _name, data in sample_mailbox():
        msg = email.message_from_bytes(data, policy=email.policy.default)
        for part in msg.walk():
            if part.get_content_maintype() != "text":
                continue
            text = part.get_content()
            text = re.sub(r"<[^>]+>", "\n", text)  # HTML: the text between tags
            for raw_line in text.splitlines():
                line = " ".join(raw_line.split())
                if len(line) >= MIN_FRAGMENT:
                    fragments.add(line)
    assert len(fragments) > 20
    return fragments


def check(output: str) -> None:
    assert output.strip(), "the scenario wrote no log at all"
    assert CORSA_PASSWORD not in output
    assert CORSA_LICENCE not in output
    flat = " ".join(output.split())
    leaked = sorted(f for f in body_fragments() if f in flat)
    assert not leaked, f"body text in the log: {leaked[:3]}"


def test_main_scenarios_log_no_secret_and_no_body(
    tmp_path: Path, corsa: CorsaTestServer, daemons: Callable[[Path], DaemonProcess]
) -> None:
    """Normal run, rerun, Corsa down, the daemon stopped: no secret, no body text logged."""
    outputs: list[str] = []

    ok_dir = tmp_path / "ok"
    ok_dir.mkdir()
    sample_maildir(ok_dir)
    config = write_config(ok_dir, corsa_url=corsa.url, logging={"level": "debug"})
    for _ in range(2):  # the second run meets only duplicates
        run = cli("run", "--once", "-c", str(config), cwd=ok_dir)
        assert run.returncode == 0, run.stderr
        outputs.append(run.stdout + run.stderr)
    assert '"outcome": "task_created"' in outputs[0]
    assert len(corsa.documents) == 7

    down_dir = tmp_path / "down"
    down_dir.mkdir()
    sample_maildir(down_dir)
    corsa.http_error_next(500, times=3)
    config = write_config(down_dir, corsa_url=corsa.url, logging={"level": "debug"})
    run = cli("run", "--once", "-c", str(config), cwd=down_dir)
    assert run.returncode == 0, run.stderr
    assert "outbox.deferred" in run.stdout
    outputs.append(run.stdout + run.stderr)

    wrong, url = start(
        username="imi-mailwatch", password="another-password", license_key=CORSA_LICENCE
    )
    try:
        wrong_dir = tmp_path / "wrong"
        wrong_dir.mkdir()
        sample_maildir(wrong_dir)
        config = write_config(wrong_dir, corsa_url=url, logging={"level": "debug"})
        run = cli("run", "--once", "-c", str(config), cwd=wrong_dir)
        assert run.returncode == 0, run.stderr
        assert "corsa.connect_failed" in run.stdout or "outbox.parked" in run.stdout
        outputs.append(run.stdout + run.stderr)
    finally:
        wrong.stop()

    daemon_dir = tmp_path / "daemon"
    daemon_dir.mkdir()
    sample_maildir(daemon_dir)
    config = write_config(daemon_dir, corsa_url=corsa.url, service={"health_listen": "127.0.0.1:0"})
    d = daemons(config)
    d.wait_for("message.handled", lambda e: "85_spoofed" in e["ref"])
    d.signal(signal.SIGTERM)
    assert d.wait_exit() == 0
    outputs.append("".join(d.lines) + d.stderr)

    for output in outputs:
        check(output)
