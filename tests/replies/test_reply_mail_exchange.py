"""Replies trusted by Exchange's own mark (``replies.trust: [exchange_internal]``), end to end
against Dovecot and aiosmtpd: the mark from a configured server is trusted without DMARC;
the mark from another server, or a mark beside an outsider's From, is not."""

from __future__ import annotations

import pytest

from imi_mailwatch.records import Handling
from tests.replies.e2e import (
    AR_FAIL,
    OWN,
    REQUEST,
    World,
    confirmation,
    dovecot_server,
    reminder,
    reply_to,
    team_address,
    unique,
    world,
)
from tests.replies.mail import outlook_desktop

__all__ = ["dovecot_server", "world"]  # the fixtures

EXCHANGE = {"trust": ["exchange_internal"], "exchange_auth_sources": [f"exch01.{OWN}"]}


def _internal(source: str) -> tuple[str, ...]:
    return (
        "X-MS-Exchange-Organization-AuthAs: Internal",
        "X-MS-Exchange-Organization-AuthMechanism: 04",
        f"X-MS-Exchange-Organization-AuthSource: {source}",
    )


@pytest.mark.parametrize("world", [EXCHANGE], indirect=True)
def test_exchange_internal_mail_is_trusted_without_dmarc(world: World) -> None:
    """AuthAs Internal from a configured Exchange server: BEANTWOORD applied and confirmed."""
    sent = reminder(world)
    team = team_address(world)
    world.deliver(unique(outlook_desktop("BEANTWOORD", sender=team, auth_results=(),
                                         extra=_internal(f"EXCH01.{OWN}"),
                                         **reply_to(sent))))  # fmt: skip
    confirmation(world, team, "BEANTWOORD")
    assert world.app.store.desk_state(REQUEST).handled is Handling.ANSWERED


@pytest.mark.parametrize(
    ("sender", "source"),
    [
        (None, "mail.elders.example"),  # the mark, but from a server not configured
        ("iemand@buiten.example", f"EXCH01.{OWN}"),  # the mark beside an outsider's From
    ],
)
@pytest.mark.parametrize("world", [EXCHANGE], indirect=True)
def test_exchange_mark_that_does_not_hold_changes_nothing(
    world: World, sender: str | None, source: str
) -> None:
    """A mark from another server, or beside an outsider: the "not trusted" answer only."""
    sent = reminder(world)
    sender = sender or team_address(world)
    world.deliver(unique(outlook_desktop("BEANTWOORD", sender=sender, auth_results=(AR_FAIL,),
                                         extra=_internal(source), **reply_to(sent))))  # fmt: skip
    assert world.app.store.desk_state(REQUEST).handled is None
    (answer,) = world.answers_to(sender)[-1:]
    assert "Wij konden niet vaststellen dat het echt van u komt" in answer.get_content()
