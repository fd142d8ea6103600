"""Route proposals answered by reply mail, end to end: with ``routing.mode: propose`` a new
request's alert is APPENDed to the watched Dovecot mailbox, the daemon (wired by
``build_app``, real SQLite, fake clock) holds its Corsa task and mails the beheerders the
proposal; that mail is taken from the aiosmtpd server and answered as Outlook would, and
the task is checked at the Corsa test server over a real socket."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from imi_mailwatch.adapters.corsa_soap import CorsaSoapTaskSink
from imi_mailwatch.app import build_app
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.config import config_from_data
from imi_mailwatch.testing.corsa_server import CorsaTestServer, Document, start
from tests.corsa.conftest import corsa_config
from tests.deadlines.smtp_server import SmtpTestServer
from tests.replies.e2e import (
    AMS,
    AR_PASS,
    BEHEERDER,
    REQUEST,
    SAMPLES,
    World,
    _config,
    confirmation,
    dovecot_server,
    reply_to,
    team_address,
    unique,
)
from tests.replies.mail import outlook_desktop
from tests.servers.dovecot import DovecotServer

__all__ = ["dovecot_server"]  # the fixture

PROPOSED = "icb"  # tests/samples/nl_new_request.eml fits no rule: the default route
PROPOSED_UNIT = "ICB"
PROPOSED_BOX = "icb-imi@brabant.example"
OTHER = "natuur"  # another team of rules/00-teams.yaml
OTHER_NAME = "Natuur, flora en fauna"
OTHER_UNIT = "NATUUR"
OTHER_BOX = "natuur@brabant.example"


class ProposalWorld(World):
    corsa: CorsaTestServer
    route_field: str

    def documents(self) -> list[Document]:
        """The request's live documents at the Corsa test server."""
        return self.corsa.documents_for(REQUEST)

    def units(self) -> list[str]:
        """The route field (organisation unit) of each of the request's documents."""
        return [d.fields.get(self.route_field, "") for d in self.documents()]

    def proposal(self) -> EmailMessage:
        """The daemon's route proposal, as the SMTP server received it."""
        found = [m for m in self.sent() if str(m["X-IMI-Followup"]) == "proposal"]
        assert len(found) == 1, [str(m["Subject"]) for m in self.sent()]
        return found[0]


@pytest.fixture
def proposing(dovecot_server: DovecotServer) -> Iterator[ProposalWorld]:
    """The daemon in ``routing.mode: propose`` on Dovecot and the Corsa test server, after
    the new request's alert was APPENDed and handled."""
    corsa, _url = start()
    cfg_corsa = corsa_config(corsa.url)
    sink = CorsaSoapTaskSink(
        cfg_corsa, clock=FakeClock(), stop=threading.Event(),
        retry_first_wait=0.01, retry_max_wait=0.05,
    )  # fmt: skip
    smtp = SmtpTestServer().start("none")
    tmp = Path(tempfile.mkdtemp(prefix="imi-proposal-e2e-"))
    data = _config(tmp, dovecot_server, smtp.port)
    data["routing"] = {"mode": "propose"}
    cfg = config_from_data(data, {"IMI_IMAP_PASSWORD": dovecot_server.password},
                           base_dir=str(tmp))  # fmt: skip
    clock = FakeClock(datetime(2026, 11, 16, 10, 0, tzinfo=AMS))
    app = build_app(cfg, clock=clock, sink=sink)
    w = ProposalWorld(app, dovecot_server, smtp, clock)
    w.corsa, w.route_field = corsa, cfg_corsa.fields.org_unit or ""
    try:
        w.deliver((SAMPLES / "nl_new_request.eml").read_bytes())
        request = app.store.get_request(REQUEST)
        assert request is not None and request.team_key == PROPOSED
        yield w
    finally:
        app.close()
        sink.close()
        smtp.stop()
        corsa.stop()


def answer(w: ProposalWorld, first: str, sender: str = BEHEERDER) -> bytes:
    """An Outlook reply to the proposal, trusted for the own domain, with its own Message-ID."""
    return unique(outlook_desktop(first, sender=sender, auth_results=(AR_PASS,),
                                  **reply_to(w.proposal())))  # fmt: skip


def new_task_notices(w: ProposalWorld, address: str) -> list[EmailMessage]:
    """The notices to ``address`` that its team has a new Corsa task."""
    return [m for m in w.answers_to(address) if "Nieuwe taak in Corsa" in str(m["Subject"])]


def said_to(w: ProposalWorld, address: str, words: str) -> list[EmailMessage]:
    """The mails to ``address`` whose plain text says ``words``."""
    found = []
    for mail in w.answers_to(address):
        body = mail.get_body(("plain",))
        if body is not None and words in body.get_content():
            found.append(mail)
    return found


def test_the_proposal_holds_the_task_until_akkoord_by_reply(proposing: ProposalWorld) -> None:
    """No task while the proposal waits; a beheerder's AKKOORD by reply creates it once, for
    the proposed team, and is confirmed; the same reply again creates nothing more."""
    proposal = proposing.proposal()
    assert proposing.documents() == []
    assert BEHEERDER in str(proposal["To"]) and REQUEST in str(proposal["Subject"])
    data = answer(proposing, "AKKOORD")
    proposing.deliver(data)  # the released task is created in the same pass
    assert proposing.units() == [PROPOSED_UNIT]
    confirmed = confirmation(proposing, BEHEERDER, "AKKOORD")
    body = confirmed.get_body(("plain",))
    assert body is not None and "De route naar Team ICB" in body.get_content()
    assert len(new_task_notices(proposing, PROPOSED_BOX)) == 1
    proposing.deliver(data)  # a replay of the mailbox: the same reply again
    proposing.app.daemon.run_once()
    assert proposing.units() == [PROPOSED_UNIT]
    confirmation(proposing, BEHEERDER, "AKKOORD")  # still exactly one
    assert len(new_task_notices(proposing, PROPOSED_BOX)) == 1
    assert len(proposing.app.store.actions_of(REQUEST)) == 1


def test_a_second_akkoord_after_the_task_exists_creates_none(proposing: ProposalWorld) -> None:
    """A second, distinct AKKOORD reply (a new Message-ID) once the task exists: confirmed,
    but the Corsa document stays one."""
    proposing.deliver(answer(proposing, "AKKOORD"))
    proposing.deliver(answer(proposing, "Akkoord."))
    proposing.app.daemon.run_once()
    assert proposing.units() == [PROPOSED_UNIT]
    assert len(proposing.app.store.actions_of(REQUEST)) == 2
    confirmed = [
        m for m in proposing.answers_to(BEHEERDER) if "Bevestiging: AKKOORD" in str(m["Subject"])
    ]
    assert len(confirmed) == 2
    assert len(new_task_notices(proposing, PROPOSED_BOX)) == 1


def test_team_by_reply_creates_the_task_for_that_team(proposing: ProposalWorld) -> None:
    """TEAM with another team's name from the rules, by reply: the task is created once, for
    that team and not the proposed one; a replay creates no second task."""
    data = answer(proposing, f"TEAM {OTHER_NAME}")
    proposing.deliver(data)
    assert proposing.units() == [OTHER_UNIT]
    request = proposing.app.store.get_request(REQUEST)
    assert request is not None and request.team_key == OTHER
    confirmation(proposing, BEHEERDER, "TEAM")
    assert len(new_task_notices(proposing, OTHER_BOX)) == 1
    assert proposing.answers_to(PROPOSED_BOX) == []  # the team first proposed hears nothing
    proposing.deliver(data)
    proposing.app.daemon.run_once()
    assert proposing.units() == [OTHER_UNIT]
    assert len(proposing.app.store.actions_of(REQUEST)) == 1


def test_akkoord_from_a_team_member_is_refused_in_dutch(proposing: ProposalWorld) -> None:
    """AKKOORD from the proposed team's own address (no beheerder) creates no task; the
    sender is told in Dutch that it was not done and who may; a replay changes nothing."""
    team = team_address(proposing)
    data = answer(proposing, "AKKOORD", sender=team)
    proposing.deliver(data)
    proposing.app.daemon.run_once()
    assert proposing.documents() == []
    (refusal,) = proposing.answers_to(team)
    body = refusal.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "is niet uitgevoerd. Er is niets veranderd." in text
    assert "Dit commando mogen alleen de IMI-beheerders geven." in text
    assert not any("Bevestiging" in str(m["Subject"]) for m in proposing.sent())
    proposing.deliver(data)
    proposing.app.daemon.run_once()
    assert proposing.documents() == []
    assert len(proposing.answers_to(team)) == 1
    held = proposing.app.store.outbox_held(request_id=REQUEST)
    assert [i.action for i in held] == ["create_task"]


def test_akkoord_on_the_proposal_reminder_creates_the_task(proposing: ProposalWorld) -> None:
    """The proposal unconfirmed after its working hours is put to the beheerders again; an
    AKKOORD in reply to that reminder (its own Message-ID) creates the task once."""
    proposing.clock.advance(timedelta(hours=5))  # Monday 15:00: past 4 working hours
    proposing.app.daemon.run_once()
    (again,) = [m for m in proposing.sent() if m["X-IMI-Followup"] == "proposal-reminder"]
    assert proposing.documents() == []
    data = unique(outlook_desktop("AKKOORD", sender=BEHEERDER, auth_results=(AR_PASS,),
                                  **reply_to(again)))  # fmt: skip
    proposing.deliver(data)
    proposing.deliver(data)
    assert proposing.units() == [PROPOSED_UNIT]
    confirmation(proposing, BEHEERDER, "AKKOORD")


def test_akkoord_only_in_the_quoted_proposal_creates_nothing(proposing: ProposalWorld) -> None:
    """A beheerder's reply without a command above the quoted proposal (which lists AKKOORD
    and TEAM) creates no task: the Dutch help answer, the task still held."""
    proposing.deliver(answer(proposing, "Dank je, ik kijk er morgen naar."))
    proposing.app.daemon.run_once()
    assert proposing.documents() == []
    assert [i.action for i in proposing.app.store.outbox_held(request_id=REQUEST)] == [
        "create_task"
    ]
    assert len(said_to(proposing, BEHEERDER, "Bedankt voor uw antwoord over IMI-verzoek")) == 1
    assert proposing.app.store.actions_of(REQUEST) == []


def test_team_with_an_unknown_name_creates_nothing(proposing: ProposalWorld) -> None:
    """TEAM with a name no rule knows: refused in Dutch with the teams there are, no task."""
    proposing.deliver(answer(proposing, "TEAM Sprookjesbos"))
    proposing.app.daemon.run_once()
    assert proposing.documents() == []
    (refusal,) = said_to(
        proposing, BEHEERDER, f"Uw opdracht TEAM voor IMI-verzoek {REQUEST} is niet"
    )
    body = refusal.get_body(("plain",))
    assert body is not None and OTHER_NAME in body.get_content()
    request = proposing.app.store.get_request(REQUEST)
    assert request is not None and request.team_key == PROPOSED


def test_akkoord_after_the_request_was_closed_creates_nothing(proposing: ProposalWorld) -> None:
    """IMI closes the request before the route is confirmed: the held task is dropped, and a
    later AKKOORD by reply creates none; the beheerder is told why, in Dutch."""
    proposing.deliver((SAMPLES / "nl_closed.eml").read_bytes())
    proposing.deliver(answer(proposing, "AKKOORD"))
    proposing.app.daemon.run_once()
    assert proposing.documents() == []
    assert proposing.app.store.outbox_held(request_id=REQUEST) == []
    assert said_to(proposing, BEHEERDER, "al gesloten of ingetrokken")


def test_herrouteer_while_held_then_akkoord_creates_for_the_new_team(
    proposing: ProposalWorld,
) -> None:
    """HERROUTEER while the proposal waits moves the proposal, not a task (none exists yet);
    the AKKOORD after it creates the one task, for the new team."""
    proposing.deliver(answer(proposing, "HERROUTEER natuur"))
    proposing.app.daemon.run_once()
    assert proposing.documents() == []
    proposing.deliver(answer(proposing, "AKKOORD"))
    assert proposing.units() == [OTHER_UNIT]
    assert len(new_task_notices(proposing, OTHER_BOX)) == 1
    assert new_task_notices(proposing, PROPOSED_BOX) == []


def test_replaying_alert_and_reply_creates_nothing_twice(proposing: ProposalWorld) -> None:
    """The whole mailbox again after AKKOORD (the alert and the reply, in one fetch): no
    second proposal, no second task, no second confirmation."""
    data = answer(proposing, "AKKOORD")
    proposing.deliver(data)
    proposing.imap.append([(SAMPLES / "nl_new_request.eml").read_bytes(), data])
    proposing.app.daemon.run_once()
    proposing.app.daemon.run_once()
    assert proposing.units() == [PROPOSED_UNIT]
    proposing.proposal()  # still exactly one
    confirmation(proposing, BEHEERDER, "AKKOORD")
    assert len(new_task_notices(proposing, PROPOSED_BOX)) == 1
