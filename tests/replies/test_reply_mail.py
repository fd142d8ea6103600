"""Replies by mail, end to end: Dovecot (the watched mailbox), aiosmtpd (the mail the daemon
sends), the real pipeline and SQLite store. The daemon's own reminder is taken from the SMTP
server, answered as Outlook or a phone would, APPENDed to the mailbox, and the effect checked.
"""

from __future__ import annotations

import itertools
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from imi_mailwatch.adapters.memory import InMemoryTaskSink
from imi_mailwatch.app import App, build_app
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.config import config_from_data
from imi_mailwatch.records import Handling
from tests.deadlines.smtp_server import SmtpTestServer
from tests.replies.mail import iphone, outlook_desktop, outlook_web
from tests.servers.dovecot import DovecotServer, dovecot_server

__all__ = ["dovecot_server"]  # the fixture

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
                "imap": {
                    "host": imap.host,
                    "port": imap.port,
                    "security": "none",
                    "username": imap.user,
                    "password": {"env": "IMI_IMAP_PASSWORD"},
                    "first_start": "all",
                    "timeout_seconds": 10,
                },
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


_SEQ = itertools.count(1)
_REMINDER_ID = re.compile(rf"<imi\.{REQUEST}\.d[mp]?\d")


def unique(data: bytes) -> bytes:
    """The reply with a Message-ID of its own (each reply a person sends has one)."""
    return data.replace(b"<reply-1@mail.brabant.nl>", f"<reply-{next(_SEQ)}@mail.{OWN}>".encode())


def reminders_after(w: World, count: int) -> list[EmailMessage]:
    """Reminders about the request among the mails after the first ``count``."""
    return [m for m in w.sent()[count:] if _REMINDER_ID.match(str(m["Message-ID"]))]


def run_days(w: World, days: int) -> None:
    for _ in range(days):
        w.clock.advance(timedelta(days=1))
        w.app.daemon.run_once()


def confirmation(w: World, to: str, word: str) -> EmailMessage:
    found = [m for m in w.answers_to(to) if f"Bevestiging: {word}" in str(m["Subject"])]
    assert len(found) == 1, [str(m["Subject"]) for m in w.answers_to(to)]
    return found[0]


def _reply_to(mail: EmailMessage) -> dict[str, Any]:
    """Reply headers and the quoted history: the daemon's own mail, quoted whole."""
    body = mail.get_body(("plain",))
    assert body is not None
    return {
        "subject": f"RE: {mail['Subject']}",
        "in_reply_to": str(mail["Message-ID"]),
        "original": body.get_content(),
    }


def _team_address(w: World) -> str:
    request = w.app.store.get_request(REQUEST)
    assert request is not None and request.team_mailbox
    return request.team_mailbox


def test_unknown_first_line_from_outlook_gets_the_help_answer(world: World) -> None:
    """An Outlook reply to the reminder with no command gets the Dutch help answer, once."""
    sent = reminder(world)
    data = outlook_desktop("Dank je, ik kijk ernaar", sender=_team_address(world),
                           auth_results=(AR_PASS,), **_reply_to(sent))  # fmt: skip
    world.deliver(data)
    (answer,) = world.answers_to(_team_address(world))[-1:]
    assert "Bedankt voor uw antwoord over IMI-verzoek 184523" in answer.get_content()
    assert answer["In-Reply-To"] == "<reply-1@mail.brabant.nl>"
    before = len(world.sent())
    world.deliver(data)  # the same reply again (a replay): not answered again
    assert len(world.sent()) == before
    assert REQUEST in str(answer["Message-ID"])
    assert len(world.imap.folder_uids(FOLDERS["handled"])) == 3  # the alert, the reply twice


def test_untrusted_reply_changes_nothing_and_is_answered(world: World) -> None:
    """A reply without DMARC pass changes nothing: the "not trusted" answer, a notice."""
    sent = reminder(world)
    before = world.app.store.get_request(REQUEST)
    data = outlook_web("BEANTWOORD", sender=_team_address(world), auth_results=(AR_FAIL,),
                       **_reply_to(sent))  # fmt: skip
    world.deliver(data)
    (answer,) = world.answers_to(_team_address(world))[-1:]
    assert "Wij konden niet vaststellen dat het echt van u komt" in answer.get_content()
    assert world.app.store.get_request(REQUEST) == before
    notices = world.app.store.notices_pending() + world.app.store.query(
        "SELECT key, kind, text FROM notices WHERE kind = 'reply'"
    )
    assert any(n["kind"] == "reply" for n in notices)
    assert world.imap.folder_uids(FOLDERS["rejected"])


@pytest.mark.parametrize(
    ("sender", "auth"),
    [
        ("iemand@buiten.example", (AR_PASS,)),  # an outsider
        (f"j.jansen@{OWN}.evil.example", (AR_PASS,)),  # a look-alike domain
        ("j.jansen@brabant-example.example", (AR_PASS,)),  # another look-alike
    ],
)
def test_forged_replies_change_nothing(world: World, sender: str, auth: tuple[str, ...]) -> None:
    """An outsider or a look-alike domain gets the "not trusted" answer; the request stays."""
    sent = reminder(world)
    before = world.app.store.get_request(REQUEST)
    world.deliver(iphone("HERROUTEER Natuur", sender=sender, auth_results=auth,
                         **_reply_to(sent)))  # fmt: skip
    assert world.app.store.get_request(REQUEST) == before
    (answer,) = world.answers_to(sender)
    assert "niets veranderd" in answer.get_content()


def test_another_teams_colleague_is_refused(world: World) -> None:
    """A trusted colleague outside the team may not say BEANTWOORD: the refusal answer."""
    sent = reminder(world)
    before = world.app.store.get_request(REQUEST)
    world.deliver(outlook_desktop("BEANTWOORD", sender=COLLEAGUE, auth_results=(AR_PASS,),
                                  **_reply_to(sent)))  # fmt: skip
    assert world.app.store.get_request(REQUEST) == before
    (answer,) = world.answers_to(COLLEAGUE)
    assert "is niet uitgevoerd" in answer.get_content()


def test_command_quoted_deep_in_the_history_is_not_read(world: World) -> None:
    """BEANTWOORD only in the quoted history: the help answer, nothing applied."""
    sent = reminder(world)
    before = world.app.store.get_request(REQUEST)
    kw = _reply_to(sent)  # an earlier answer in the thread said BEANTWOORD, quoted below
    kw["original"] = "BEANTWOORD\n\nMet vriendelijke groet,\nPiet\n\n" + kw["original"]
    world.deliver(outlook_desktop("", sender=_team_address(world), auth_results=(AR_PASS,),
                                  **kw))  # fmt: skip
    assert world.app.store.get_request(REQUEST) == before
    assert world.app.store.desk_state(REQUEST).handled is None
    (answer,) = world.answers_to(_team_address(world))[-1:]
    assert "Bedankt voor uw antwoord over IMI-verzoek 184523" in answer.get_content()  # help


@pytest.mark.parametrize(
    "extra",
    [
        ("Auto-Submitted: auto-replied",),
        ("X-Auto-Response-Suppress: All",),
        ("Precedence: bulk",),
    ],
)
def test_an_auto_reply_is_never_answered(world: World, extra: tuple[str, ...]) -> None:
    """An out-of-office reply to the reminder is recorded and never answered: no mail loop."""
    sent = reminder(world)
    before = len(world.sent())
    data = outlook_desktop("Ik ben afwezig tot maandag.", sender=_team_address(world),
                           auth_results=(AR_PASS,), extra=extra, **_reply_to(sent))  # fmt: skip
    world.deliver(data)
    world.clock.advance(timedelta(minutes=5))
    world.app.daemon.run_once()
    assert len([m for m in world.sent()[before:] if m["In-Reply-To"]]) == 0
    outcomes = [r for r in world.app.store.message_log() if r["kind"] == "reply"]
    assert [r["disposition"] for r in outcomes] == ["handled"]


def test_unlinked_command_from_a_colleague_gets_the_which_request_answer(world: World) -> None:
    """A trusted command that names no request: the answer asks which request."""
    data = outlook_desktop("AANVAARD", subject="Verzoek", sender=COLLEAGUE,
                           auth_results=(AR_PASS,), in_reply_to=None)  # fmt: skip
    world.deliver(data)
    (answer,) = world.answers_to(COLLEAGUE)
    assert "Wij konden niet vinden over welk IMI-verzoek" in answer.get_content()


def test_beantwoord_from_outlook_stops_reminders_and_is_confirmed(world: World) -> None:
    """BEANTWOORD in an Outlook reply to the reminder: confirmed, no reminder after it."""
    sent = reminder(world)
    team = _team_address(world)
    world.deliver(unique(outlook_desktop("BEANTWOORD", sender=team, auth_results=(AR_PASS,),
                                         **_reply_to(sent))))  # fmt: skip
    mail = confirmation(world, team, "BEANTWOORD")
    assert world.app.store.desk_state(REQUEST).handled is Handling.ANSWERED
    assert REQUEST in str(mail["Message-ID"])
    count = len(world.sent())
    run_days(world, 14)  # past the reply date
    assert reminders_after(world, count) == []


def test_a_replayed_reply_applies_and_confirms_once(world: World) -> None:
    """The same reply APPENDed twice (a replay): one action, one confirmation."""
    sent = reminder(world)
    team = _team_address(world)
    data = unique(outlook_web("Beantwoord.", sender=team, auth_results=(AR_PASS,),
                              **_reply_to(sent)))  # fmt: skip
    world.deliver(data)
    world.deliver(data)
    confirmation(world, team, "BEANTWOORD")
    assert len(world.app.store.actions_of(REQUEST)) == 1


def test_pause_from_an_iphone_html_only_reply(world: World) -> None:
    """PAUZE TOT from an iPhone (HTML only, signature, quoted history): no reminders till then."""
    sent = reminder(world)
    team = _team_address(world)
    until = date(2026, 12, 10)
    world.deliver(unique(iphone(f"Pauze tot {until:%d-%m-%Y}", sender=team, html_only=True,
                                auth_results=(AR_PASS,), **_reply_to(sent))))  # fmt: skip
    confirmation(world, team, "PAUZE")
    assert world.app.store.desk_state(REQUEST).paused_until == until
    count = len(world.sent())
    while world.clock.now().astimezone(AMS).date() < until:
        run_days(world, 1)
        assert reminders_after(world, count) == []


def test_a_colleague_claims_the_request(world: World) -> None:
    """IK PAK DIT OP from a colleague of the own domain: the claimer; the beheerders in cc."""
    sent = reminder(world)
    world.deliver(unique(outlook_web("Ik pak dit op", sender=COLLEAGUE, auth_results=(AR_PASS,),
                                     **_reply_to(sent))))  # fmt: skip
    mail = confirmation(world, COLLEAGUE, "IK PAK DIT OP")
    assert BEHEERDER in str(mail["Cc"])
    assert world.app.store.desk_state(REQUEST).claimer == COLLEAGUE


def test_a_beheerder_reroutes_by_reply(world: World) -> None:
    """HERROUTEER by a beheerder: the request moves, a memo line reaches the task."""
    sent = reminder(world)
    old = _team_address(world)
    world.deliver(unique(outlook_desktop("HERROUTEER natuur", sender=BEHEERDER,
                                         auth_results=(AR_PASS,), **_reply_to(sent))))  # fmt: skip
    confirmation(world, BEHEERDER, "HERROUTEER")
    request = world.app.store.get_request(REQUEST)
    assert request is not None and request.team_key == "natuur"
    assert world.answers_to("natuur@brabant.example")
    assert world.answers_to(old)
    sink = world.app.sink
    assert isinstance(sink, InMemoryTaskSink)
    assert any("natuur" in line.lower() for lines in sink.memos.values() for line in lines)


def test_a_team_member_may_not_reroute(world: World) -> None:
    """HERROUTEER by the team (not a beheerder): refused, the route stays."""
    sent = reminder(world)
    team = _team_address(world)
    world.deliver(unique(outlook_desktop("HERROUTEER natuur", sender=team,
                                         auth_results=(AR_PASS,), **_reply_to(sent))))  # fmt: skip
    request = world.app.store.get_request(REQUEST)
    assert request is not None and request.team_key != "natuur"
    (answer,) = [m for m in world.answers_to(team) if "Niet uitgevoerd" in str(m["Subject"])]
    assert "de IMI-beheerders" in answer.get_content()
    world.clock.advance(timedelta(minutes=61))  # the beheerders' digest is due
    world.app.daemon.run_once()
    reports = [m.get_content() for m in world.answers_to(BEHEERDER)]
    (text,) = [t for t in reports if "Opdracht per antwoordmail niet uitgevoerd" in t]
    assert "verzoek 184523: opdracht HERROUTEER niet uitgevoerd" in text


def test_a_forged_reply_about_no_known_request_is_not_answered(world: World) -> None:
    """Backscatter: a forged From with any "[IMI n]" subject must not make the daemon mail it."""
    victim = "slachtoffer@elders.example"
    world.deliver(unique(outlook_desktop("AANVAARD", subject="RE: [IMI 999999] Verzoek",
                                         sender=victim, auth_results=(AR_FAIL,),
                                         in_reply_to=None)))  # fmt: skip
    assert world.answers_to(victim) == []
    (record,) = [r for r in world.app.store.message_log() if r["kind"] == "reply"]
    assert record["disposition"] == "rejected"


def test_a_mixed_case_sender_is_the_same_person(world: World) -> None:
    """The From address is compared and recorded in lower case: the team's BEANTWOORD counts."""
    sent = reminder(world)
    team = _team_address(world)
    world.deliver(unique(outlook_desktop("BEANTWOORD", sender=team.upper(),
                                         auth_results=(AR_PASS,), **_reply_to(sent))))  # fmt: skip
    assert world.app.store.desk_state(REQUEST).handled is Handling.ANSWERED
    assert all(a.entry.actor == team for a in world.app.store.actions_of(REQUEST))


def _bounce(to_bounce: EmailMessage) -> bytes:
    """A delivery report (RFC 3464) about one of the daemon's mails, as Exchange writes it."""
    head = "".join(f"{k}: {v}\r\n" for k, v in to_bounce.items() if k.lower() != "bcc")
    return (
        "From: Microsoft Outlook <postmaster@brabant.example>\r\n"
        f"To: {FUNCTIONAL}\r\n"
        f"Subject: Onbestelbaar: {to_bounce['Subject']}\r\n"
        f"Message-ID: <bounce-{next(_SEQ)}@brabant.example>\r\n"
        f"References: {to_bounce['Message-ID']}\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nDe bezorging is mislukt.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns;mx.brabant.example\r\n\r\n"
        "Final-Recipient: rfc822;weg@brabant.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n" + head + "--b--\r\n"
    ).encode()


def test_a_bounce_of_an_answer_is_never_answered(world: World) -> None:
    """A delivery report about the daemon's answer is recorded, never answered: no loop."""
    sent = reminder(world)
    team = _team_address(world)
    world.deliver(unique(outlook_desktop("Wat moet ik doen?", sender=team,
                                         auth_results=(AR_PASS,), **_reply_to(sent))))  # fmt: skip
    (answer,) = world.answers_to(team)[-1:]
    before = len(world.sent())
    world.deliver(_bounce(answer))
    world.deliver(answer.as_bytes())  # the answer itself comes back (a rule forwarded it)
    assert len(world.sent()) == before
    kinds = [(r["kind"], r["reason"]) for r in world.app.store.message_log()][-2:]
    assert kinds[0][0] == "reply" and str(kinds[0][1]).startswith("automatic: ")
    assert kinds[1][0] == "not_imi"  # its loop header: never read as a reply


def test_replies_in_one_fetch_are_each_answered(world: World) -> None:
    """Several replies and ordinary mail in one fetch (group commit): each reply is handled."""
    sent = reminder(world)
    team = _team_address(world)
    world.imap.append([
        unique(outlook_desktop("AANVAARD", sender=team, auth_results=(AR_PASS,),
                               **_reply_to(sent))),
        (SAMPLES / "not_imi_newsletter.eml").read_bytes(),
        unique(outlook_web("Ik pak dit op", sender=COLLEAGUE, auth_results=(AR_PASS,),
                           **_reply_to(sent))),
    ])  # fmt: skip
    world.app.daemon.run_once()
    confirmation(world, team, "AANVAARD")
    confirmation(world, COLLEAGUE, "IK PAK DIT OP")
    state = world.app.store.desk_state(REQUEST)
    assert state.accepted_at is not None and state.claimer == COLLEAGUE


def test_an_answer_waits_out_a_mail_server_outage_under_one_message_id(world: World) -> None:
    """The mail server down: the reply is still recorded and moved; its answer goes out once
    it is back, under the Message-ID recorded with the reply."""
    sent = reminder(world)
    team = _team_address(world)
    world.smtp.handler.data_reply = "451 4.3.0 probeer het later"
    world.deliver(unique(outlook_desktop("Hallo?", sender=team, auth_results=(AR_PASS,),
                                         **_reply_to(sent))))  # fmt: skip
    assert world.imap.folder_uids("INBOX") == []  # acknowledged: the answer is owed, not lost
    (owed,) = [r for r in world.app.store.desk_mails_of(REQUEST) if ".answer." in r.message_id]
    world.smtp.handler.data_reply = None
    for _ in range(3):
        world.clock.advance(timedelta(minutes=30))
        world.app.daemon.run_once()
    answers = [m for m in world.answers_to(team) if str(m["Message-ID"]) == owed.message_id]
    assert len(answers) == 1


@pytest.mark.parametrize("sender", [BEHEERDER, COLLEAGUE])
def test_a_reply_quoting_the_alert_is_a_reply_not_a_forward(world: World, sender: str) -> None:
    """A reply to the daemon's mail whose quoted history holds the IMI alert's text (a
    proposal quotes what the alert said) is read as a reply, not as a forwarded alert, from a
    configured forwarder (the beheerder) and from anyone else."""
    sent = reminder(world)
    alert = (SAMPLES / "nl_new_request.eml").read_bytes().decode("utf-8", "replace")
    head, _, body = alert.replace("\r\n", "\n").partition("\n\n")
    quoted = "\n".join(line for line in head.splitlines() if line.startswith(("From:", "Subject:")))
    kw = _reply_to(sent)
    kw["original"] = f"{kw['original']}\n\nWat de melding zei:\n\n{quoted}\n\n{body}"
    world.deliver(unique(outlook_desktop("Ik pak dit op", sender=sender, auth_results=(AR_PASS,),
                                         **kw)))  # fmt: skip
    confirmation(world, sender, "IK PAK DIT OP")
    assert world.app.store.desk_state(REQUEST).claimer == sender
