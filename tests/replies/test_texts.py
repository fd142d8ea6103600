"""The Dutch texts: the actions block per recipient, the help and the refusals."""

from __future__ import annotations

from imi_mailwatch.replies.authz import Role, decide
from imi_mailwatch.replies.commands import CommandKind, NotUnderstood, Problem, parse_command
from imi_mailwatch.replies.texts import (
    actions_block,
    commands_for,
    help_answer,
    refusal_answer,
    unlinked_answer,
    untrusted_answer,
)

K = CommandKind


def test_the_team_block_lists_the_team_commands() -> None:
    """The team's block offers the request work and IK PAK DIT OP, never routing."""
    block = actions_block(Role.TEAM)
    assert block.startswith("Antwoord met één woord op de eerste regel:")
    for word in ("AANVAARD", "BEANTWOORD", "DOORGESTUURD", "AFGEWEZEN", "PAUZE TOT dd-mm-jjjj",
                 "HERVAT", "IK PAK DIT OP"):  # fmt: skip
        assert f"  {word}: " in block
    for word in ("HERROUTEER", "AKKOORD", "TEAM teamnaam"):
        assert word not in block


def test_the_beheerders_block_adds_rerouting() -> None:
    """The beheerders' block adds HERROUTEER; a proposal offers only AKKOORD and TEAM."""
    assert "  HERROUTEER teamnaam: " in actions_block(Role.BEHEERDER)
    assert commands_for(Role.BEHEERDER, proposal=True) == (K.APPROVE, K.CHOOSE_TEAM)
    assert commands_for(Role.TEAM, proposal=True) == ()
    assert actions_block(Role.TEAM, proposal=True) == ""


def test_every_command_in_a_block_is_read_back_as_that_command() -> None:
    """Each word a block offers, typed as shown, is read as the command it describes."""
    typed = {K.PAUSE: "PAUZE TOT 01-12-2026", K.REROUTE: "HERROUTEER Milieu",
             K.CHOOSE_TEAM: "TEAM Milieu"}  # fmt: skip
    from imi_mailwatch.replies.commands import WORD

    for kind in K:
        parsed = parse_command(typed.get(kind, WORD[kind]))
        assert not isinstance(parsed, NotUnderstood)
        assert parsed.kind is kind


def test_help_lists_the_commands_and_says_why() -> None:
    """The help answer says why nothing happened and lists the valid commands."""
    text = help_answer(
        NotUnderstood(Problem.AMBIGUOUS),
        commands_for(Role.TEAM),
        request_id="184523",
        beheerders=("A. Beheer (a.beheer@brabant.nl)",),
    )
    assert "IMI-verzoek 184523" in text
    assert "Er is niets veranderd." in text
    assert "meer dan één opdracht" in text
    assert "  AANVAARD: " in text
    assert "A. Beheer" in text


def test_help_for_someone_without_commands() -> None:
    """Someone who may give no command is told so."""
    assert "geen opdrachten" in help_answer(NotUnderstood(Problem.UNKNOWN), (), request_id=None)


def test_refusals_say_who_may() -> None:
    """A refusal names the command, the request and who may give it."""
    decision = decide(K.REROUTE, "p@brabant.nl", team_addresses=(), claimer=None,
                      beheerders=("a@brabant.nl",), own_domains=("brabant.nl",))  # fmt: skip
    text = refusal_answer(K.REROUTE, decision, request_id="184523")
    assert "Uw opdracht HERROUTEER voor IMI-verzoek 184523 is niet uitgevoerd." in text
    assert "Wie dit mag: de IMI-beheerders." in text
    pause = refusal_answer(K.PAUSE, decision, request_id="184523", reason="Te laat.")
    assert "PAUZE" in pause
    assert "Te laat." in pause


def test_untrusted_and_unlinked_answers_change_nothing() -> None:
    """The answers to an unconfirmed sender and to an unlinked reply say nothing changed."""
    assert "niets veranderd" in untrusted_answer(request_id="184523")
    assert "[IMI 184523]" in unlinked_answer()


def test_every_example_in_the_handlers_page_is_a_command() -> None:
    """Each example in docs/antwoorden.md is read as a command, and every command has one."""
    from pathlib import Path

    page = Path(__file__).parents[2] / "docs" / "antwoorden.md"
    examples = [
        line.strip()
        for line in page.read_text(encoding="utf-8").splitlines()
        if line.startswith("    ") and not line.strip().startswith("imi-mailwatch")
    ]
    parsed = [parse_command(line) for line in examples]
    assert all(not isinstance(p, NotUnderstood) for p in parsed), examples
    assert {p.kind for p in parsed if not isinstance(p, NotUnderstood)} == set(K)
