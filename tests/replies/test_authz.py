"""Who may give which command: the table of the issue, decided from addresses alone."""

from __future__ import annotations

import pytest

from imi_mailwatch.replies.authz import Role, allowed_commands, decide, roles_of
from imi_mailwatch.replies.commands import CommandKind

K = CommandKind
TEAM = ("vergunningen@brabant.nl", "p.pieters@brabant.nl")
CLAIMER = "c.claim@brabant.nl"
BEHEERDERS = ("a.beheer@brabant.nl", "b.beheer@brabant.nl")
OWN = ("brabant.nl",)
REQUEST_WORK = (K.ACCEPT, K.ANSWERED, K.FORWARDED, K.REJECTED, K.PAUSE, K.RESUME)
BEHEER_ONLY = (K.REROUTE, K.APPROVE, K.CHOOSE_TEAM)


def _may(command: CommandKind, sender: str, claimer: str | None = CLAIMER) -> bool:
    return decide(
        command, sender, team_addresses=TEAM, claimer=claimer, beheerders=BEHEERDERS,
        own_domains=OWN,
    ).allowed  # fmt: skip


@pytest.mark.parametrize("command", REQUEST_WORK)
def test_request_work_is_for_team_claimer_and_beheerders(command: CommandKind) -> None:
    """AANVAARD ... HERVAT: the team, the claimer and the beheerders, nobody else."""
    assert _may(command, "P.Pieters@Brabant.NL")
    assert _may(command, "vergunningen@brabant.nl")
    assert _may(command, CLAIMER)
    assert _may(command, "b.beheer@brabant.nl")
    assert not _may(command, "x.collega@brabant.nl")  # another team
    assert not _may(command, "p.pieters@evil.example")
    assert not _may(command, "p.pieters@brabant.nl.evil.example")


def test_claim_is_for_anyone_of_the_own_domain() -> None:
    """IK PAK DIT OP: any address at an own domain; not a subdomain, look-alike or outsider."""
    assert _may(K.CLAIM, "x.collega@brabant.nl")
    assert _may(K.CLAIM, "X.Collega@BRABANT.NL")
    for sender in ("x@mail.brabant.nl", "x@brabant-nl.example", "x@evil.example", "brabant.nl"):
        assert not _may(K.CLAIM, sender)


@pytest.mark.parametrize("command", BEHEER_ONLY)
def test_routing_is_for_the_beheerders(command: CommandKind) -> None:
    """HERROUTEER, AKKOORD and TEAM: the beheerders only."""
    assert _may(command, "a.beheer@brabant.nl")
    for sender in (*TEAM, CLAIMER, "x.collega@brabant.nl", "a.beheer@evil.example"):
        assert not _may(command, sender)


def test_a_refusal_says_in_dutch_who_may() -> None:
    """A refused command comes with a Dutch explanation naming who may give it."""
    decision = decide(K.REROUTE, "p.pieters@brabant.nl", team_addresses=TEAM, claimer=None,
                      beheerders=BEHEERDERS, own_domains=OWN)  # fmt: skip
    assert not decision.allowed
    assert decision.who_may == "de IMI-beheerders"
    assert "alleen de IMI-beheerders" in decision.explanation
    assert "p.pieters" not in decision.explanation


def test_no_claimer_means_nobody_is_the_claimer() -> None:
    """Without a claimer, an empty or missing sender gets no role."""
    assert roles_of("", team_addresses=TEAM, claimer=None, beheerders=BEHEERDERS,
                    own_domains=OWN) == frozenset()  # fmt: skip
    assert not _may(K.ACCEPT, "c.claim@brabant.nl", claimer=None)


def test_allowed_commands_follow_the_table() -> None:
    """A colleague may only claim; a beheerder may give every command."""
    assert allowed_commands({Role.COLLEAGUE}) == (K.CLAIM,)
    assert set(allowed_commands({Role.BEHEERDER, Role.COLLEAGUE})) == set(K)
