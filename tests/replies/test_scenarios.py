"""Whole replies as people send them, and forgeries: read, linked, trusted and decided."""

from __future__ import annotations

from datetime import date

import pytest

from imi_mailwatch.replies.authz import decide
from imi_mailwatch.replies.commands import Command, CommandKind, NotUnderstood
from imi_mailwatch.replies.reader import ReplyReading, read
from tests.replies.mail import (
    BEHEERDER,
    ID_DOMAINS,
    ORIGINAL,
    OWN,
    TEAM_BOX,
    TRUST,
    iphone,
    outlook_desktop,
    outlook_web,
)

K = CommandKind
TEAM = (TEAM_BOX, "j.jansen@brabant.nl")


def _read(data: bytes) -> ReplyReading:
    return read(data, trust=TRUST, id_domains=ID_DOMAINS)


def _allowed(reading: ReplyReading) -> bool:
    assert isinstance(reading.command, Command)
    assert reading.sender is not None
    return decide(reading.command.kind, reading.sender, team_addresses=TEAM, claimer=None,
                  beheerders=(BEHEERDER,), own_domains=(OWN,)).allowed  # fmt: skip


@pytest.mark.parametrize(
    ("build", "typed", "command"),
    [
        (outlook_desktop, "AANVAARD", Command(K.ACCEPT)),
        (outlook_web, "beantwoord.", Command(K.ANSWERED)),
        (iphone, "Pauze tot 10-12-2026", Command(K.PAUSE, until=date(2026, 12, 10))),
        (outlook_web, "Ik pak dit op", Command(K.CLAIM)),
    ],
)
def test_a_handlers_reply_is_actionable(build, typed: str, command: Command) -> None:  # type: ignore[no-untyped-def]
    """A team member's reply from Outlook, Outlook on the web or an iPhone is acted on."""
    reading = _read(build(typed))
    assert reading.actionable
    assert reading.command == command
    assert reading.link is not None
    assert reading.link.request_id == "184523"
    assert _allowed(reading)


def test_no_dmarc_pass_changes_nothing() -> None:
    """A reply from a team address without the trusted dmarc=pass is not actionable."""
    fail = "mx.brabant.nl; spf=softfail smtp.mailfrom=brabant.nl; dmarc=fail header.from=brabant.nl"
    reading = _read(outlook_desktop("AANVAARD", auth_results=(fail,)))
    assert reading.trust is not None
    assert not reading.trust.trusted
    assert not reading.actionable


def test_an_outsider_changes_nothing() -> None:
    """An outsider's reply, authenticated for its own domain, is not trusted."""
    ar = "mx.brabant.nl; dmarc=pass header.from=evil.example"
    reading = _read(outlook_web("AANVAARD", sender="Boef <boef@evil.example>", auth_results=(ar,)))
    assert not reading.actionable


def test_a_look_alike_domain_changes_nothing() -> None:
    """A reply from brabant-nl.example with its own dmarc=pass is not trusted."""
    ar = "mx.brabant.nl; dmarc=pass header.from=brabant-nl.example"
    data = iphone("AANVAARD", sender="J. Jansen <j.jansen@brabant-nl.example>", auth_results=(ar,))
    assert not _read(data).actionable


def test_another_team_is_refused() -> None:
    """A trusted colleague of another team may not AANVAARD; a refusal follows."""
    reading = _read(outlook_desktop("AANVAARD", sender="X <x.ander@brabant.nl>"))
    assert reading.actionable
    assert not _allowed(reading)


def test_only_beheerders_reroute() -> None:
    """HERROUTEER from a handler is refused; from a beheerder it is allowed."""
    assert not _allowed(_read(outlook_web("HERROUTEER Milieu")))
    assert _allowed(_read(outlook_web("HERROUTEER Milieu", sender=f"A <{BEHEERDER}>")))


@pytest.mark.parametrize("build", [outlook_desktop, outlook_web, iphone], ids=lambda b: b.__name__)
def test_a_command_quoted_deep_in_the_history_is_never_read(build) -> None:  # type: ignore[no-untyped-def]
    """A command in an older mail deep in the quoted thread is never taken as the reply's."""
    deep = "\n".join(
        ["Dank voor het bericht", "", "Van: Boef", "Onderwerp: RE: [IMI 184523]", "",
         "> AANVAARD", "> > HERROUTEER Milieu", "", ORIGINAL]
    )  # fmt: skip
    reading = _read(build("Prima, dank je", original=deep))
    assert isinstance(reading.command, NotUnderstood)
    assert not reading.actionable
    empty = _read(build("", original=deep))
    assert not isinstance(empty.command, Command)
