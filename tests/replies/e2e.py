"""The end-to-end world of the reply tests: Dovecot (the watched mailbox), aiosmtpd (the
mail the daemon sends), the daemon as wired (``build_app``, real SQLite, fake clock) holding
one new request, and helpers to answer its own mails as Outlook or a phone would."""

from __future__ import annotations

import itertools
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from imi_mailwatch.adapters.memory import InMemoryTaskSink
from imi_mailwatch.app import App, build_app
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.config import config_from_data
from tests.deadlines.smtp_server import SmtpTestServer
from tests.servers.dovecot import DovecotServer, dovecot_server

__all__ = ["dovecot_server", "world"]  # the fixtures, for the test modules

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "tests" / "samples"
AMS = ZoneInfo("Europe/Amsterdam")
OWN = "brabant.example"
FUNCTIONAL = f"imi@{OWN}"
BEHEERDER = f"a.beheer@{OWN}"
COLLEAGUE = f"c.collega@{OWN}"
REQUEST = "184523"  # tests/samples/nl_new_request.eml, reply date 14-12-2026
AR_PASS = (
    f"mx.{OWN}; dkim=pass header.d={OWN}; spf=pass smtp.mailfrom={OWN}; "
    f"dmarc=pass header.from={OWN}"
)
AR_FAIL = f"mx.{OWN}; spf=softfail smtp.mailfrom={OWN}; dmarc=fail header.from={OWN}"
FOLDERS = {"handled": "IMI/Verwerkt", "rejected": "IMI/Afgewezen"}


@dataclass
class World:
    app: App
    imap: DovecotServer
    smtp: SmtpTestServer
    clock: FakeClock

    def sent(self) -> list[EmailMessage]:
        return [r.message for r in self.smtp.handler.received]

    def deliver(self, data: bytes) -> dict[str, int]:
        """APPEND ``data`` to the watched mailbox and run one pass."""
        self.imap.append([data])
        return self.app.daemon.run_once()

    def answers_to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.sent() if address in str(m["To"])]

    def message_outcomes(self) -> list[str]:
        return [str(r["reason"]) for r in self.app.store.message_log() if r["kind"] == "reply"]


def _config(tmp: Path, imap: DovecotServer, smtp_port: int) -> dict[str, Any]:
    return {
        "functional_mailbox": FUNCTIONAL,
        "state": {"path": str(tmp / "state.sqlite3")},
        "mailboxes": [
            {
                "name": "imi",
                "kind": "imap",
                "imap": imap.imap_settings(timeout_seconds=10),
            }
        ],
        # the beheerder also forwards alerts: a reply quoting the daemon's mail is no forward
        "authentication": {"forwarders": [BEHEERDER]},
        "rules": {"paths": [str(REPO / "rules")]},
        "beheerders": [{"name": "A. Beheer", "email": BEHEERDER}],
        "notify": {
            "kind": "smtp",
            "from_address": FUNCTIONAL,
            "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none"},
        },
        "service": {"health_listen": None},
        "replies": {"own_domains": [OWN], "authserv_id": f"mx.{OWN}"},
    }


@pytest.fixture
def world(dovecot_server: DovecotServer, request: pytest.FixtureRequest) -> Iterator[World]:
    """The daemon on a Dovecot mailbox holding one new request; ``replies:`` as the test's
    parameter says (``indirect``)."""
    smtp = SmtpTestServer().start("none")
    tmp = Path(tempfile.mkdtemp(prefix="imi-replies-e2e-"))
    environ = {"IMI_IMAP_PASSWORD": dovecot_server.password}
    data = _config(tmp, dovecot_server, smtp.port)
    data["replies"].update(getattr(request, "param", None) or {})
    cfg = config_from_data(data, environ, base_dir=str(tmp))
    clock = FakeClock(datetime(2026, 11, 16, 10, 0, tzinfo=AMS))
    app = build_app(cfg, clock=clock, sink=InMemoryTaskSink())
    w = World(app, dovecot_server, smtp, clock)
    try:
        w.deliver((SAMPLES / "nl_new_request.eml").read_bytes())
        assert app.store.get_request(REQUEST) is not None
        yield w
    finally:
        app.close()
        smtp.stop()


def reminder(w: World) -> EmailMessage:
    """The daemon's first reminder about the request, as the SMTP server received it."""
    for _ in range(40):
        found = [m for m in w.sent() if REQUEST in str(m["Subject"]) and m["In-Reply-To"] is None]
        found = [m for m in found if "herinnering" in str(m["Subject"]).lower()] or found
        if found:
            return found[0]
        w.clock.advance(timedelta(days=1))
        w.app.daemon.run_once()
    raise AssertionError("no reminder was sent")


SEQ = itertools.count(1)
REMINDER_ID = re.compile(rf"<imi\.{REQUEST}\.d[mp]?\d")


def unique(data: bytes) -> bytes:
    """The reply with a Message-ID of its own (each reply a person sends has one)."""
    return data.replace(b"<reply-1@mail.brabant.nl>", f"<reply-{next(SEQ)}@mail.{OWN}>".encode())


def reminders_after(w: World, count: int) -> list[EmailMessage]:
    """Reminders about the request among the mails after the first ``count``."""
    return [m for m in w.sent()[count:] if REMINDER_ID.match(str(m["Message-ID"]))]


def run_days(w: World, days: int) -> None:
    for _ in range(days):
        w.clock.advance(timedelta(days=1))
        w.app.daemon.run_once()


def confirmation(w: World, to: str, word: str) -> EmailMessage:
    found = [m for m in w.answers_to(to) if f"Bevestiging: {word}" in str(m["Subject"])]
    assert len(found) == 1, [str(m["Subject"]) for m in w.answers_to(to)]
    return found[0]


def reply_to(mail: EmailMessage) -> dict[str, Any]:
    """Reply headers and the quoted history: the daemon's own mail, quoted whole."""
    body = mail.get_body(("plain",))
    assert body is not None
    return {
        "subject": f"RE: {mail['Subject']}",
        "in_reply_to": str(mail["Message-ID"]),
        "original": body.get_content(),
    }


def team_address(w: World) -> str:
    request = w.app.store.get_request(REQUEST)
    assert request is not None and request.team_mailbox
    return request.team_mailbox
