"""Re-routes, route confirmation and the close-the-task notice, over the in-memory store."""

from __future__ import annotations

import pytest

from imi_mailwatch.desk import Actor, Via
from imi_mailwatch.model import RequestStatus
from imi_mailwatch.records import Handling
from imi_mailwatch.replies import Command, CommandKind, Role
from tests.desk.conftest import BEHEERDER, TEAM, DeskRig

BEHEERDER_MAIL = Actor("a.voorbeeld@example.org", Via.MAIL, frozenset({Role.COLLEAGUE}))


@pytest.mark.parametrize(
    ("kind", "handled"),
    [(CommandKind.FORWARDED, Handling.FORWARDED), (CommandKind.REJECTED, Handling.REJECTED)],
)
def test_forwarded_or_rejected_stops_reminders_and_tells_the_team_to_close_the_task(
    rig: DeskRig, kind: CommandKind, handled: Handling
) -> None:
    """DOORGESTUURD / AFGEWEZEN: reminders stop, the team is told once (the letter
    taak_sluiten.j2) that the Corsa task can be closed; a memo line goes to Corsa."""
    rig.record()
    assert rig.apply(Command(kind)).ok
    assert rig.open_reminders() == []
    assert rig.store.desk_state("184523").handled is handled
    mails = {m.message_id.split(".")[2]: m.mail for m in rig.store.desk_mails_of("184523")}
    assert set(mails) == {"confirm"}
    planned = [f for f in rig.store.followups_of("184523") if f["kind"] == "task_close"]
    assert len(planned) == 1  # the letter taak_sluiten.j2, as when IMI reports a withdrawal
    (memo,) = rig.store.outbox_rows()
    assert memo["action"] == "annotate"
    assert rig.apply(Command(kind)).ok  # said again: told once
    assert len([f for f in rig.store.followups_of("184523") if f["kind"] == "task_close"]) == 1


def test_herrouteer_moves_the_request_and_tells_both_teams(rig: DeskRig) -> None:
    """HERROUTEER by a beheerder: the team changes, a memo line and the move of the task
    are queued for Corsa, both teams are told, the confirmation has the beheerders in cc,
    and reminders follow."""
    rig.record()
    result = rig.apply(Command(CommandKind.REROUTE, team="team economie"), BEHEERDER_MAIL)
    assert result.ok and "Team Economie" in result.text
    moved = rig.store.get_request("184523")
    assert moved is not None and moved.team_key == "economie"
    assert moved.team_mailbox == "economie@example.org" and moved.org_unit == "ECO"
    memo, move = rig.store.outbox_rows()
    assert (memo["action"], move["action"]) == ("annotate", "reroute")
    mails = {m.message_id.split(".")[2]: m.mail for m in rig.store.desk_mails_of("184523")}
    assert set(mails["rerouteold"].to) == {"vth-milieu@example.org", "behandelaar@example.org"}
    assert set(mails["reroutenew"].to) == {"economie@example.org", "eco-behandelaar@example.org"}
    assert mails["confirm"].to == ("a.voorbeeld@example.org",)
    assert mails["confirm"].cc == ("b.voorbeeld@example.org",)
    assert rig.open_reminders()  # still planned, now addressed to the new team
    team, _ = rig.followups.addresses(moved, ("team",))
    assert team == ("economie@example.org",)
    assert not rig.apply(Command(CommandKind.ANSWERED), TEAM).ok  # the old team no longer may


def test_herrouteer_is_for_beheerders_only_and_needs_a_known_team(rig: DeskRig) -> None:
    """The team may not re-route; an unknown team is refused with the list of teams."""
    rig.record()
    assert not rig.apply(Command(CommandKind.REROUTE, team="Team Economie"), TEAM).ok
    unknown = rig.apply(Command(CommandKind.REROUTE, team="Onbekend"), BEHEERDER)
    assert not unknown.ok and "Team Economie" in unknown.text
    request = rig.store.get_request("184523")
    assert request is not None and request.team_key == "milieu"


def test_akkoord_confirms_the_route_and_team_chooses_another(rig: DeskRig) -> None:
    """AKKOORD records the confirmation; TEAM x re-routes and confirms."""
    rig.record(is_default=True)
    assert rig.apply(Command(CommandKind.APPROVE), BEHEERDER).ok
    first = rig.store.desk_state("184523").route_confirmed_at
    assert first is not None
    assert rig.apply(Command(CommandKind.CHOOSE_TEAM, team="economie"), BEHEERDER).ok
    request = rig.store.get_request("184523")
    assert request is not None and request.team_key == "economie" and not request.is_default
    assert rig.store.desk_state("184523").route_confirmed_at == first


def test_a_closed_request_takes_no_commands(rig: DeskRig) -> None:
    """Commands on a closed or withdrawn request are refused: nothing changes."""
    rig.record(status=RequestStatus.CLOSED)
    result = rig.apply(Command(CommandKind.ANSWERED))
    assert not result.ok and "gesloten" in result.text
    assert rig.store.desk_state("184523").handled is None


def test_reminders_go_to_the_claimer_with_the_team_in_cc(rig: DeskRig) -> None:
    """After IK PAK DIT OP the reminders are addressed to the claimer; the team mailbox
    stays in cc, the handlers are left out."""
    rig.record()
    colleague = Actor("jan@example.org", Via.MAIL, frozenset({Role.COLLEAGUE}))
    assert rig.apply(Command(CommandKind.CLAIM), colleague).ok
    request = rig.store.get_request("184523")
    assert request is not None
    to, cc = rig.followups.addresses(request, ("team", "handlers"), "jan@example.org")
    assert to == ("jan@example.org",) and cc == ("vth-milieu@example.org",)


def test_teams_and_corsa_never_see_the_cli_account(rig: DeskRig) -> None:
    """A re-route from the CLI names 'een IMI-beheerder' to the teams and in the memo
    line, not the server account."""
    rig.record()
    assert rig.apply(Command(CommandKind.REROUTE, team="economie"), BEHEERDER).ok
    texts = [m.mail.text for m in rig.store.desk_mails_of("184523")]
    assert all("cli:" not in t for t in texts)
    assert any("door een IMI-beheerder" in t for t in texts)
    memo, move = rig.store.outbox_due(request_id="184523")
    assert "een IMI-beheerder" in memo.payload["line"] and "cli:" not in memo.payload["line"]
    assert "cli:" not in str(move.payload)
