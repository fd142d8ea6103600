"""Replies by mail that must change nothing, end to end (Dovecot, aiosmtpd, the daemon as
wired): forged, unauthorised, without a command, about no request, automatic. Each gets the
right Dutch answer, or none at all where an answer could start a loop or reach a stranger."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import pytest

from imi_mailwatch.reply_path import MAX_ANSWERS_PER_DAY
from tests.replies.e2e import (
    AR_FAIL,
    AR_PASS,
    BEHEERDER,
    COLLEAGUE,
    FOLDERS,
    FUNCTIONAL,
    OWN,
    REQUEST,
    SAMPLES,
    SEQ,
    World,
    confirmation,
    dovecot_server,
    reminder,
    reply_to,
    team_address,
    unique,
    world,
)
from tests.replies.mail import iphone, outlook_desktop, outlook_web

__all__ = ["dovecot_server", "world"]  # the fixtures


def test_untrusted_reply_changes_nothing_and_is_answered(world: World) -> None:
    """A reply without DMARC pass changes nothing: the "not trusted" answer, a notice."""
    sent = reminder(world)
    before = world.app.store.get_request(REQUEST)
    data = outlook_web("BEANTWOORD", sender=team_address(world), auth_results=(AR_FAIL,),
                       **reply_to(sent))  # fmt: skip
    world.deliver(data)
    (answer,) = world.answers_to(team_address(world))[-1:]
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
                         **reply_to(sent)))  # fmt: skip
    assert world.app.store.get_request(REQUEST) == before
    (answer,) = world.answers_to(sender)
    assert "niets veranderd" in answer.get_content()


def test_another_teams_colleague_is_refused(world: World) -> None:
    """A trusted colleague outside the team may not say BEANTWOORD: the refusal answer."""
    sent = reminder(world)
    before = world.app.store.get_request(REQUEST)
    world.deliver(outlook_desktop("BEANTWOORD", sender=COLLEAGUE, auth_results=(AR_PASS,),
                                  **reply_to(sent)))  # fmt: skip
    assert world.app.store.get_request(REQUEST) == before
    (answer,) = world.answers_to(COLLEAGUE)
    assert "is niet uitgevoerd" in answer.get_content()


def test_command_quoted_deep_in_the_history_is_not_read(world: World) -> None:
    """BEANTWOORD only in the quoted history: the help answer, nothing applied."""
    sent = reminder(world)
    before = world.app.store.get_request(REQUEST)
    kw = reply_to(sent)  # an earlier answer in the thread said BEANTWOORD, quoted below
    kw["original"] = "BEANTWOORD\n\nMet vriendelijke groet,\nPiet\n\n" + kw["original"]
    world.deliver(outlook_desktop("", sender=team_address(world), auth_results=(AR_PASS,),
                                  **kw))  # fmt: skip
    assert world.app.store.get_request(REQUEST) == before
    assert world.app.store.desk_state(REQUEST).handled is None
    (answer,) = world.answers_to(team_address(world))[-1:]
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
    data = outlook_desktop("Ik ben afwezig tot maandag.", sender=team_address(world),
                           auth_results=(AR_PASS,), extra=extra, **reply_to(sent))  # fmt: skip
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


def test_a_team_member_may_not_reroute(world: World) -> None:
    """HERROUTEER by the team (not a beheerder): refused, the route stays."""
    sent = reminder(world)
    team = team_address(world)
    world.deliver(unique(outlook_desktop("HERROUTEER natuur", sender=team,
                                         auth_results=(AR_PASS,), **reply_to(sent))))  # fmt: skip
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


def _bounce(to_bounce: EmailMessage) -> bytes:
    """A delivery report (RFC 3464) about one of the daemon's mails, as Exchange writes it."""
    head = "".join(f"{k}: {v}\r\n" for k, v in to_bounce.items() if k.lower() != "bcc")
    return (
        "From: Microsoft Outlook <postmaster@brabant.example>\r\n"
        f"To: {FUNCTIONAL}\r\n"
        f"Subject: Onbestelbaar: {to_bounce['Subject']}\r\n"
        f"Message-ID: <bounce-{next(SEQ)}@brabant.example>\r\n"
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
    team = team_address(world)
    world.deliver(unique(outlook_desktop("Wat moet ik doen?", sender=team,
                                         auth_results=(AR_PASS,), **reply_to(sent))))  # fmt: skip
    (answer,) = world.answers_to(team)[-1:]
    before = len(world.sent())
    world.deliver(_bounce(answer))
    world.deliver(answer.as_bytes())  # the answer itself comes back (a rule forwarded it)
    assert len(world.sent()) == before
    kinds = [(r["kind"], r["reason"]) for r in world.app.store.message_log()][-2:]
    assert kinds[0][0] == "reply" and str(kinds[0][1]).startswith("automatic: ")
    assert kinds[1][0] == "not_imi"  # its loop header: never read as a reply


@pytest.mark.parametrize("sender", [BEHEERDER, COLLEAGUE])
def test_a_reply_quoting_the_alert_is_a_reply_not_a_forward(world: World, sender: str) -> None:
    """A reply to the daemon's mail whose quoted history holds the IMI alert's text (a
    proposal quotes what the alert said) is read as a reply, not as a forwarded alert, from a
    configured forwarder (the beheerder) and from anyone else."""
    sent = reminder(world)
    alert = (SAMPLES / "nl_new_request.eml").read_bytes().decode("utf-8", "replace")
    head, _, body = alert.replace("\r\n", "\n").partition("\n\n")
    quoted = "\n".join(line for line in head.splitlines() if line.startswith(("From:", "Subject:")))
    kw = reply_to(sent)
    kw["original"] = f"{kw['original']}\n\nWat de melding zei:\n\n{quoted}\n\n{body}"
    world.deliver(unique(outlook_desktop("Ik pak dit op", sender=sender, auth_results=(AR_PASS,),
                                         **kw)))  # fmt: skip
    confirmation(world, sender, "IK PAK DIT OP")
    assert world.app.store.desk_state(REQUEST).claimer == sender


def test_answers_to_one_sender_are_capped_so_no_rule_can_loop(world: World) -> None:
    """A mailbox rule that sends every mail from the daemon back (no auto-reply marks) gets
    at most a few answers a day, so the daemon and the rule cannot mail each other for ever."""
    sent = reminder(world)
    team = team_address(world)

    def answers() -> int:
        return sum(".answer." in str(m["Message-ID"]) for m in world.answers_to(team))

    for n in range(6):
        data = outlook_desktop(f"Teruggestuurd door een regel ({n})", sender=team,
                               auth_results=(AR_PASS,), **reply_to(sent))  # fmt: skip
        world.deliver(unique(data))
    assert answers() == MAX_ANSWERS_PER_DAY
    world.clock.advance(timedelta(days=1, minutes=1))  # the next day: answered again
    world.deliver(unique(outlook_desktop("Nog een", sender=team, auth_results=(AR_PASS,),
                                         **reply_to(sent))))  # fmt: skip
    assert answers() == MAX_ANSWERS_PER_DAY + 1
