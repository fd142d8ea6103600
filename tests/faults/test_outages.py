"""Outages of Dovecot, Corsa and the SMTP server: nothing lost, the beheerders told once.

The daemon runs in-process on a fake clock (so half an hour of Corsa errors
takes seconds), against the real servers: Dovecot stopped and started again,
the Corsa test server answering HTTP 503, the SMTP server not listening.
Outage thresholds are set to one minute.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from imi_mailwatch.app import App, build_app
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.config import load_config
from tests.faults.corpus import Corpus, make_corpus
from tests.faults.harness import (
    AMSTERDAM,
    CORSA_LICENCE,
    CORSA_PASSWORD,
    ENVIRON,
    FOLDERS,
    KillLog,
    Outcome,
    check,
    days_back_to_working_day,
    query,
    write_config,
)
from tests.faults.servers import ServerProcess
from tests.servers.dovecot import DovecotServer, dovecot_available, dovecot_server, free_port

__all__ = ["dovecot_server"]

pytestmark = [
    pytest.mark.dovecot,
    pytest.mark.skipif(not dovecot_available(), reason="Dovecot is not installed"),
]

COMPONENT_NL = {
    "mailbox": "de mailbox imi werkt niet",
    "corsa": "het taaksysteem (Corsa) werkt niet",
    "smtp": "het verzenden van e-mail werkt niet",
}


class Rig:
    """The daemon in-process on a fake clock, over real servers in their own processes."""

    def __init__(self, tmp: Path, dovecot: DovecotServer) -> None:
        back = days_back_to_working_day()
        day = (datetime.now(UTC) - timedelta(days=back)).astimezone(AMSTERDAM).date()
        self.clock = FakeClock(datetime.combine(day, time(9, 0), AMSTERDAM))
        self.dovecot = dovecot
        self.corsa = ServerProcess("corsa", CORSA_PASSWORD, CORSA_LICENCE)
        self.smtp = ServerProcess("smtp", str(free_port()))
        path = write_config(
            tmp,
            imap=dovecot,
            corsa_url=self.corsa.info["url"],
            smtp_port=self.smtp.info["port"],
            reports={"sink_failing_minutes": 1, "mailbox_unreachable_minutes": 1},
        )
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["task_sink"]["corsa"]["retry_attempts"] = 1  # the outbox retries, on the fake clock
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        env = {**ENVIRON, "IMI_IMAP_PASSWORD": dovecot.password}
        self.app: App = build_app(load_config(path, env), clock=self.clock)
        self.db = tmp / "state.sqlite3"
        self.corpus: Corpus = make_corpus(16, today=day, seed=5)

    def cycles(self, minutes: int) -> None:
        """One daemon pass per fake minute."""
        for _ in range(minutes):
            self.app.daemon.run_once()
            self.clock.advance(timedelta(minutes=1))

    def received(self) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = self.smtp.command("state")["received"]
        return got

    def outage_mails(self, component: str) -> int:
        return sum(COMPONENT_NL[component] in r["text"] for r in self.received())

    def outcome(self) -> Outcome:
        return Outcome(
            corpus=self.corpus,
            kills=KillLog(),
            documents=self.corsa.command("state")["documents"],
            received=self.received(),
            folders={n: self.dovecot.folder_message_ids(f) for n, f in FOLDERS.items()},
            messages=query(self.db, "SELECT * FROM messages"),
            followups=query(self.db, "SELECT * FROM followups"),
            outbox=query(self.db, "SELECT id, request_id, action, status, attempts FROM outbox"),
        )

    def close(self) -> None:
        self.app.close()
        for s in self.app.sources or []:
            s.close()
        self.corsa.stop()
        self.smtp.stop()


@pytest.fixture
def rig(tmp_path: Path, dovecot_server: DovecotServer) -> Iterator[Rig]:
    r = Rig(tmp_path, dovecot_server)
    yield r
    r.close()


def _assert_all_held(rig: Rig) -> None:
    problems = check(rig.outcome())
    assert problems == [], "\n".join(problems)


def test_dovecot_down_for_minutes(rig: Rig) -> None:
    """Dovecot stopped for 5 minutes: one outage mail; after the restart everything is handled."""
    rig.dovecot.append(i.data for i in rig.corpus.items)
    rig.dovecot.stop()
    rig.cycles(5)
    assert rig.outage_mails("mailbox") == 1
    assert not any(r["kenmerk"] for r in rig.corsa.command("state")["documents"])
    rig.dovecot.start()
    rig.cycles(35)  # the outbox and follow-ups catch up (backoff at most 30 minutes)
    assert rig.outage_mails("mailbox") == 1
    _assert_all_held(rig)


def test_corsa_errors_for_half_an_hour(rig: Rig) -> None:
    """Corsa answering 503 for 30 minutes: mail is filed, tasks come after recovery, once."""
    rig.corsa.command("down", on=True)
    rig.dovecot.append(i.data for i in rig.corpus.items)
    rig.cycles(30)
    assert rig.corsa.command("state")["documents"] == []
    assert len(rig.dovecot.folder_uids("INBOX")) == 1  # only the ordinary mail stays
    assert rig.outage_mails("corsa") == 1
    rig.corsa.command("down", on=False)
    rig.cycles(35)
    assert rig.outage_mails("corsa") == 1
    _assert_all_held(rig)


def test_smtp_down(rig: Rig) -> None:
    """The SMTP server away for 20 minutes: reminders and the outage mail arrive after, once."""
    rig.smtp.command("down", on=True)
    rig.dovecot.append(i.data for i in rig.corpus.items)
    rig.cycles(20)
    assert rig.received() == []
    due = query(rig.db, "SELECT count(*) AS n FROM followups WHERE status = 'scheduled'")
    assert due[0]["n"] > 0
    rig.smtp.command("down", on=False)
    rig.cycles(35)
    assert rig.outage_mails("smtp") == 1
    ids = [r["message_id"] for r in rig.received()]
    assert len(ids) == len(set(ids)), json.dumps(ids)
    _assert_all_held(rig)
