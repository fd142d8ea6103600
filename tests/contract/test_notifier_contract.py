"""Notifier contract, over every notifier: SMTP (aiosmtpd on loopback), mail drop, memory.

The contract (ports.Notifier): ``send`` delivers the whole mail to every
recipient with the Message-ID it was given, so that a repeat after an uncertain
attempt is the same mail and recognisable as such; when it returns, the mail was
handed over.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import cast

import pytest

from imi_mailwatch.adapters.mail_drop import DropFolderNotifier
from imi_mailwatch.adapters.memory import InMemoryNotifier
from imi_mailwatch.adapters.smtp import SmtpNotifier
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.config import SmtpConfig
from imi_mailwatch.mailbuild import build_message
from imi_mailwatch.model import Attachment, OutgoingMail
from imi_mailwatch.ports import Notifier
from tests.deadlines.smtp_server import SmtpTestServer

FROM = "imi@provincie.example"

MAIL = OutgoingMail(
    message_id="<imi.300001.dm5.20261120@provincie.example>",
    to=("team@example.org", "behandelaar@example.org"),
    cc=("beheerder@example.org",),
    subject="Herinnering: IMI-verzoek 300001",
    text="Beste collega's,\n",
    attachments=(Attachment("antwoorddatum.ics", "text/calendar", b"BEGIN:VCALENDAR\r\n"),),
)


class Harness:
    def __init__(self, notifier: Notifier, delivered: Callable[[], list[EmailMessage]]) -> None:
        self.notifier = notifier
        self.delivered = delivered  # what arrived, as messages


def smtp(tmp: Path) -> Iterator[Harness]:
    server = SmtpTestServer().start("none")
    cfg = SmtpConfig(host="127.0.0.1", port=server.port, security="none")
    notifier = SmtpNotifier(cfg, from_address=FROM, from_name="IMI", clock=FakeClock())
    try:
        yield Harness(notifier, lambda: [r.message for r in server.handler.received])
    finally:
        server.stop()


def mail_drop(tmp: Path) -> Iterator[Harness]:
    notifier = DropFolderNotifier(tmp / "drop", from_address=FROM, from_name="IMI")

    def read() -> list[EmailMessage]:
        return [
            cast(
                EmailMessage, email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            )
            for p in notifier.sent_files()
        ]

    yield Harness(notifier, read)


def memory(tmp: Path) -> Iterator[Harness]:
    notifier = InMemoryNotifier()
    yield Harness(
        notifier,
        lambda: [build_message(m, from_address=FROM, from_name="IMI") for m in notifier.sent],
    )


NOTIFIERS: dict[str, Callable[[Path], Iterator[Harness]]] = {
    "smtp": smtp,
    "mail_drop": mail_drop,
    "memory": memory,
}


@pytest.fixture(params=sorted(NOTIFIERS))
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    yield from NOTIFIERS[request.param](tmp_path)


def test_the_whole_mail_arrives_with_its_message_id(harness: Harness) -> None:
    """Recipients, subject, text and attachment arrive, under the Message-ID given."""
    harness.notifier.send(MAIL)
    (got,) = harness.delivered()
    assert got["Message-ID"] == MAIL.message_id
    assert got["Subject"] == MAIL.subject
    assert {a.strip() for a in str(got["To"]).split(",")} == set(MAIL.to)
    assert str(got["Cc"]) == "beheerder@example.org"
    assert "text/calendar" in [p.get_content_type() for p in got.walk()]


def test_a_repeat_is_the_same_mail(harness: Harness) -> None:
    """Sending the same mail again carries the same Message-ID: a recognisable repeat."""
    harness.notifier.send(MAIL)
    harness.notifier.send(MAIL)
    ids = {m["Message-ID"] for m in harness.delivered()}
    assert ids == {MAIL.message_id}
