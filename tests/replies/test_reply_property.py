"""Properties of the reply path over the in-memory store and the real desk: whatever a forged,
unauthorised or malformed reply holds, the request, its desk state and the action log stay as
they were; and a reply is recorded once."""

from __future__ import annotations

import dataclasses
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imi_mailwatch.model import Classification, MessageKind, RawMessage
from imi_mailwatch.msgid import make_message_id
from imi_mailwatch.replies.commands import NotUnderstood, parse_command
from imi_mailwatch.replies.trust import ReplyTrust
from imi_mailwatch.reply_path import ReplyHandler, ReplySettings
from tests.desk.conftest import DeskRig, rig
from tests.replies.mail import iphone, outlook_desktop, outlook_web

__all__ = ["rig"]  # the fixture

OWN = "example.org"
TEAM_BOX = "vth-milieu@example.org"  # the request's team (tests/deadlines/conftest.py)
REMINDER = make_message_id("184523", "dm5", "20261120", "brabant.example")
PASS = f"mx.{OWN}; dkim=pass header.d={OWN}; dmarc=pass header.from={OWN}"
NOT_TRUSTED = (
    (),  # no stamp at all
    (f"mx.{OWN}; spf=fail smtp.mailfrom={OWN}; dmarc=fail header.from={OWN}",),
    (f"mx.{OWN}; dkim=pass header.d={OWN}; dmarc=none header.from={OWN}",),  # dkim alone
    (PASS.replace(f"mx.{OWN}", "mx.elders.example"),),  # another server's stamp
    (f"mx.{OWN}; dmarc=fail header.from={OWN}", PASS),  # the sender's own "pass" below ours
    (PASS.replace(f"header.from={OWN}", "header.from=elders.example"),),  # another domain
)
COMMANDS = ("BEANTWOORD", "AANVAARD", "AFGEWEZEN", "DOORGESTUURD", "HERVAT", "Ik pak dit op",
            "HERROUTEER economie", "PAUZE TOT 20-11-2026", "TEAM economie", "AKKOORD")  # fmt: skip
OUTSIDERS = ("iemand@elders.example", f"{TEAM_BOX}.evil.example", "vth-milieu@examp1e.org",
             "vth-milieu@mail.example.org", "vth-milieu@example.org.")  # fmt: skip
BUILDERS = (outlook_desktop, outlook_web, iphone)
_SEQ = itertools.count(1)


def _handler(rig: DeskRig) -> ReplyHandler:
    trust = ReplyTrust(own_domains=(OWN,), authserv_id=f"mx.{OWN}")
    settings = ReplySettings(trust=trust, id_domains=("brabant.example",),
                             beheerders=("a.voorbeeld@example.org",))  # fmt: skip
    return ReplyHandler(settings, rig.desk)


def _handle(rig: DeskRig, data: bytes) -> None:
    n = next(_SEQ)
    data = data.replace(b"<reply-1@mail.brabant.nl>", f"<p-{n}@example.org>".encode())
    raw = RawMessage("imi", f"1:{n}", data)
    c = Classification(kind=MessageKind.NOT_IMI, message_id=f"<p-{n}@example.org>")
    with rig.store.transaction():
        assert _handler(rig).record(rig.store, raw, c) is not None


def _snapshot(rig: DeskRig) -> tuple[object, ...]:
    s = rig.store
    return s.get_request("184523"), s.desk_state("184523"), s.actions_of("184523")


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    command=st.sampled_from(COMMANDS),
    auth=st.sampled_from(NOT_TRUSTED),
    build=st.sampled_from(BUILDERS),
    sender=st.sampled_from((TEAM_BOX, "a.voorbeeld@example.org", *OUTSIDERS)),
)
def test_an_untrusted_reply_never_changes_a_request(
    rig: DeskRig, command: str, auth: tuple[str, ...], build: object, sender: str
) -> None:
    """No trusted stamp for the own domain (or another domain): nothing changes, whatever the
    command and whoever the From claims to be."""
    if rig.store.get_request("184523") is None:
        rig.record()
    before = _snapshot(rig)
    assert callable(build)
    _handle(rig, build(command, sender=sender, auth_results=auth, in_reply_to=REMINDER))
    assert _snapshot(rig) == before


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    command=st.sampled_from(COMMANDS),
    first=st.text(max_size=40).filter(lambda t: isinstance(parse_command(t), NotUnderstood)),
    build=st.sampled_from(BUILDERS),
)
def test_a_command_only_in_the_quoted_history_changes_nothing(
    rig: DeskRig, command: str, first: str, build: object
) -> None:
    """The team's trusted reply with a command only below the quote marker: nothing changes."""
    if rig.store.get_request("184523") is None:
        rig.record()
    before = _snapshot(rig)
    assert callable(build)
    data = build(first, sender=TEAM_BOX, auth_results=(PASS,), in_reply_to=REMINDER,
                 original=f"{command}\n\nMet vriendelijke groet,\nPiet")  # fmt: skip
    _handle(rig, data)
    assert _snapshot(rig) == before


def test_the_same_reply_trusted_does_change_it(rig: DeskRig) -> None:
    """The control: the team's trusted BEANTWOORD through the same path is carried out."""
    rig.record()
    before = _snapshot(rig)
    _handle(rig, outlook_desktop("BEANTWOORD", sender=TEAM_BOX, auth_results=(PASS,),
                                 in_reply_to=REMINDER))  # fmt: skip
    assert _snapshot(rig) != before
    assert rig.store.desk_state("184523").handled is not None


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    command=st.sampled_from([c for c in COMMANDS if c != "Ik pak dit op"]),
    sender=st.sampled_from(("c.collega@example.org", "economie@example.org")),
)
def test_a_colleague_outside_the_request_changes_nothing(
    rig: DeskRig, command: str, sender: str
) -> None:
    """A trusted colleague who is not of the team, not the claimer and no beheerder (another
    team's box among them): refused, logged as refused, the request and its state as before."""
    if rig.store.get_request("184523") is None:
        rig.record()
    before = _snapshot(rig)[:2]
    _handle(rig, outlook_web(command, sender=sender, auth_results=(PASS,), in_reply_to=REMINDER))
    assert _snapshot(rig)[:2] == before
    assert not any(a.entry.ok for a in rig.store.actions_of("184523"))


def test_answers_off_records_but_sends_no_answer(rig: DeskRig) -> None:
    """replies.answer false: a reply without a command is recorded, and no answer is owed."""
    rig.record()
    handler = _handler(rig)
    handler.settings = dataclasses.replace(handler.settings, answer=False)
    raw = RawMessage(
        "imi",
        "1:999",
        outlook_desktop("Dank je", sender=TEAM_BOX, auth_results=(PASS,), in_reply_to=REMINDER),
    )
    with rig.store.transaction():
        result = handler.record(rig.store, raw, Classification(kind=MessageKind.NOT_IMI))
    assert result is not None and result.outcome.value == "reply_help"
    assert rig.store.desk_mails_of("184523") == []
