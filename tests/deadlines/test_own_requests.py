"""The province's own requests: IMI reports a reply, or the close, and the handler is told.

Through the real daemon (Maildir, SQLite state, in-memory task sink and notifier)
on a fixed clock: a "reply received" alert for a request the province sent mails
its handler (the alert's addressee other than the functional mailbox; the
beheerders when there is none) that a reply waits in IMI; the close mails the
archiving step of the work instruction. No task is created.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from imi_mailwatch.adapters.memory import InMemoryNotifier, InMemoryTaskSink
from imi_mailwatch.app import build_app
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.commands.demo import DEMO_NOW, make_maildir
from imi_mailwatch.config import config_from_data
from imi_mailwatch.model import OutgoingMail
from tests.alerts.mail import message
from tests.privacy.helpers import config_data

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
REPLY = (SAMPLES / "nl_reply_received.eml").read_bytes()
HANDLER = "a.behandelaar@brabant.nl"


def _closed_of_our_request() -> bytes:
    """IMI's "closed" alert about the province's own request 183990."""
    body = (
        "Geachte IMI-gebruiker,\n\nHet verzoek is afgesloten door de verzoekende autoriteit."
        "\n\nVerzoek-ID: 183990\nWetgevingsgebied: Diensten\n"
    )
    return message(
        body,
        subject="IMI - Diensten - Verzoek 183990 afgesloten",
        message_id="<own-closed-183990@imi.ec.europa.eu>",
    )


def _addressed_to_handler(data: bytes) -> bytes:
    """The copy IMI sends to the functional mailbox of a mail to the handler."""
    return data.replace(
        b"To: IMI Provincie Noord-Brabant <imi@brabant.nl>",
        f"To: A. Behandelaar <{HANDLER}>\r\n"
        "Cc: IMI Provincie Noord-Brabant <imi@brabant.nl>".encode(),
    )


def run(
    tmp: Path, messages: list[tuple[str, bytes]], later: bytes | None = None
) -> tuple[list[OutgoingMail], InMemoryTaskSink]:
    """The daemon over ``messages``; ``later`` arrives in a second pass, a day later."""
    make_maildir(tmp / "mailbox", messages, start=1763280000)
    cfg = config_from_data(config_data(tmp), {}, base_dir=str(tmp))
    sink, notifier = InMemoryTaskSink(), InMemoryNotifier()
    clock = FakeClock(DEMO_NOW)
    app = build_app(cfg, clock=clock, sink=sink, notifier=notifier)
    try:
        app.daemon.run_once()
        clock.advance(timedelta(minutes=5))
        app.daemon.run_once()
        if later is not None:
            clock.advance(timedelta(days=1))
            (tmp / "mailbox" / "new" / "1763370000.M9P0.later").write_bytes(later)
            app.daemon.run_once()
            clock.advance(timedelta(minutes=5))
            app.daemon.run_once()
    finally:
        app.close()
    own = [m for m in notifier.sent if "verzoek 183990" in m.subject.lower()
           or "183990" in m.subject]  # fmt: skip
    return own, sink


def test_a_reply_to_our_request_tells_its_handler_a_reply_waits(tmp_path: Path) -> None:
    """The handler the alert was addressed to gets a Dutch mail; no task is created."""
    own, sink = run(tmp_path, [("reply.eml", _addressed_to_handler(REPLY))])
    assert len(own) == 1
    assert own[0].to == (HANDLER,)
    assert "Er wacht een antwoord in IMI" in own[0].subject
    assert "lees het antwoord" in own[0].text
    assert sink.tasks == {}


def test_a_reply_without_a_known_handler_goes_to_the_beheerders(tmp_path: Path) -> None:
    """Addressed only to the functional mailbox: the beheerders are told."""
    own, _ = run(tmp_path, [("reply.eml", REPLY)])
    assert len(own) == 1
    assert own[0].to == ("a@example.org",)


def test_the_close_of_our_request_gives_the_archiving_step(tmp_path: Path) -> None:
    """Closed: the handler is told to store the final report in the zaak; once each."""
    own, sink = run(
        tmp_path, [("reply.eml", _addressed_to_handler(REPLY))], _closed_of_our_request()
    )
    subjects = sorted(m.subject for m in own)
    assert len(own) == 2, subjects
    closed = next(m for m in own if "afgesloten" in m.subject)
    assert closed.to == (HANDLER,)
    assert "eindrapport" in closed.text and "zaak waarin het verzoek een rol speelt" in closed.text
    assert sink.tasks == {}


def test_a_close_before_the_reply_gives_no_services_close_out(tmp_path: Path) -> None:
    """Out of order (closed first, then the reply): only the own-request close mail, never
    the Services close-out recipe for a request no team ever had."""
    own, _ = run(tmp_path, [("closed.eml", _closed_of_our_request())], REPLY)
    subjects = [m.subject for m in own]
    assert subjects == ["[IMI 183990] Uw verzoek is afgesloten: sla het eindrapport op in de zaak"]
