"""A reply through the daemon as a real process (``python -m imi_mailwatch run``), killed with
SIGKILL at the worst moment: the SMTP server (in a process of its own) took the confirmation,
the daemon never saw the 250. Restarted, it sends the same confirmation under the same
Message-ID; the command is applied once; the reply APPENDed again changes nothing."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from imi_mailwatch.msgid import make_message_id
from tests.faults.harness import Daemon, query
from tests.faults.servers import ServerProcess
from tests.replies.e2e import AR_PASS, FUNCTIONAL, OWN, REQUEST, SAMPLES, unique
from tests.replies.mail import outlook_desktop
from tests.servers.dovecot import DovecotServer, free_port, requires_dovecot

PATIENCE = 120.0  # seconds: a guard against a hang, never a measurement
TEAM = f"icb-imi@{OWN}"  # the default route's team, which the sample request takes


def _config(tmp: Path, imap: DovecotServer, smtp_port: int) -> Path:
    data: dict[str, Any] = {
        "functional_mailbox": FUNCTIONAL,
        "state": {"path": "state.sqlite3"},
        "logging": {"level": "info", "format": "json"},
        "mailboxes": [{"name": "imi", "kind": "imap",
                       "imap": imap.imap_settings(poll_seconds=1, timeout_seconds=10)}],
        "rules": {"paths": [str(SAMPLES.parents[1] / "rules")]},
        "beheerders": [{"name": "A. Beheer", "email": f"a.beheer@{OWN}"}],
        "task_sink": {"kind": "drop_folder", "drop_folder": {"path": "corsa-drop"}},
        "notify": {"kind": "smtp", "from_address": FUNCTIONAL,
                   "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none"}},
        "service": {"health_listen": None, "drain_seconds": 5},
        "replies": {"own_domains": [OWN], "authserv_id": f"mx.{OWN}"},
    }  # fmt: skip
    path = tmp / "imi-mailwatch.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _until(what: str, done: Callable[[], bool], daemon: Daemon | None = None) -> None:
    end = time.monotonic() + PATIENCE
    while not done():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        if daemon is not None and not daemon.alive():
            raise AssertionError(f"the daemon ended while waiting for {what}")
        time.sleep(0.05)


def _confirmations(smtp: ServerProcess) -> list[str]:
    received = smtp.command("state")["received"]
    return [m["message_id"] for m in received if "Bevestiging" in m["subject"]]


@requires_dovecot
def test_a_kill_after_the_confirmation_was_taken_resends_it_under_one_message_id(
    tmp_path: Path,
) -> None:
    """Killed right after the SMTP server took the confirmation: one action, the same
    confirmation Message-ID again after the restart, and a replayed reply changes nothing."""
    dovecot = DovecotServer().start()
    smtp = ServerProcess("smtp", str(free_port()))
    daemon = Daemon(
        _config(tmp_path, dovecot, smtp.info["port"]),
        {**os.environ, "IMI_IMAP_PASSWORD": dovecot.password},
        tmp_path / "daemon.log",
    )
    db = tmp_path / "state.sqlite3"
    try:
        dovecot.append([(SAMPLES / "nl_new_request.eml").read_bytes()])
        pid = daemon.start()
        _until("the request", lambda: bool(query(db, "SELECT 1 FROM requests")), daemon)
        _until("a quiet outbox", lambda: not query(  # the beheerders' first report is out
            db, "SELECT 1 FROM notices WHERE sent_at IS NULL"), daemon)  # fmt: skip
        smtp.command("arm_kill", pid=pid)
        reminder_id = make_message_id(REQUEST, "dm5", "20261207", OWN)
        reply = unique(outlook_desktop("BEANTWOORD", sender=TEAM, auth_results=(AR_PASS,),
                                       in_reply_to=reminder_id,
                                       subject="RE: Herinnering: IMI-verzoek 184523"))  # fmt: skip
        dovecot.append([reply])
        _until("the kill", lambda: not daemon.alive())
        smtp.command("disarm")
        taken = _confirmations(smtp)
        assert len(taken) == 1, "the kill came after the SMTP server took the confirmation"

        daemon.start()
        _until("the confirmation again", lambda: len(_confirmations(smtp)) == 2, daemon)
        assert set(_confirmations(smtp)) == set(taken)  # the same mail, the same Message-ID
        actions = query(db, "SELECT command, ok FROM actions WHERE request_id = ?", (REQUEST,))
        assert actions == [{"command": "beantwoord", "ok": 1}]

        dovecot.append([reply])  # the same reply again: a replay
        _until("the replay handled", lambda: dovecot.folder_uids("INBOX") == [], daemon)
        unsent = "SELECT 1 FROM desk_mails WHERE status NOT IN ('sent', 'failed')"
        _until("the desk mails sent", lambda: not query(db, unsent), daemon)
        assert len(_confirmations(smtp)) == 2
        assert len(query(db, "SELECT 1 FROM actions")) == 1
        assert len(dovecot.folder_uids("IMI/Verwerkt")) == 3  # the alert, the reply twice
    finally:
        daemon.kill()
        smtp.stop()
        dovecot.stop()
        dovecot.cleanup()
