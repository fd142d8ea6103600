"""Reply commands: the words people type, read the same way whatever their case or accents."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imi_mailwatch.replies.commands import (
    Command,
    CommandKind,
    NotUnderstood,
    Problem,
    parse_command,
    pause_problem,
    resolve_team,
)

K = CommandKind


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("AANVAARD", K.ACCEPT),
        ("aanvaard", K.ACCEPT),
        ("Aanvaarden.", K.ACCEPT),
        ("Geaccepteerd", K.ACCEPT),
        ("geaccepteerd in IMI", K.ACCEPT),
        ("Áánvaard!", K.ACCEPT),
        ("BEANTWOORD", K.ANSWERED),
        ("beantwoorden", K.ANSWERED),
        ("Afgehandeld?", K.ANSWERED),
        ("DOORGESTUURD", K.FORWARDED),
        ("afgewezen.", K.REJECTED),
        ("HERVAT", K.RESUME),
        ("hervatten", K.RESUME),
        ("IK PAK DIT OP", K.CLAIM),
        ("Ik pak dit op!", K.CLAIM),
        ("ik  pak   het op", K.CLAIM),
        ("AKKOORD", K.APPROVE),
        ("Akkoord.", K.APPROVE),
        ("*Akkoord*", K.APPROVE),
    ],
)
def test_words_and_synonyms_are_recognised(line: str, kind: CommandKind) -> None:
    """Each command and its usual synonyms give that command, whatever case and punctuation."""
    assert parse_command(line) == Command(kind)


@pytest.mark.parametrize(
    ("line", "until"),
    [
        ("PAUZE TOT 15-12-2026", date(2026, 12, 15)),
        ("pauze tot 1-2-2027", date(2027, 2, 1)),
        ("Pauze tot 05/01/2027.", date(2027, 1, 5)),
        ("pauzeer tot 29-02-2028", date(2028, 2, 29)),
        ("Pauze t/m 15.12.2026", date(2026, 12, 15)),
    ],
)
def test_pause_reads_its_date(line: str, until: date) -> None:
    """PAUZE TOT reads dd-mm-jjjj, d-m-jjjj and dd/mm/jjjj as a calendar date."""
    assert parse_command(line) == Command(K.PAUSE, until=until)


@pytest.mark.parametrize(
    "line",
    ["PAUZE", "pauze tot", "pauze tot 31-02-2027", "pauze tot 29-02-2027", "pauze tot 15-12-26",
     "pauze tot morgen", "pauze tot 2026-12-15", "pauze tot 32-01-2027"],
)  # fmt: skip
def test_pause_without_a_valid_date_is_not_understood(line: str) -> None:
    """PAUZE with no date, a date that does not exist, or another format gets help."""
    assert parse_command(line) == NotUnderstood(Problem.BAD_DATE)


def test_reroute_and_team_keep_the_team_as_written() -> None:
    """HERROUTEER and TEAM keep the team name as typed, without trailing punctuation."""
    assert parse_command("HERROUTEER Milieu") == Command(K.REROUTE, team="Milieu")
    assert parse_command("herrouteer naar Ruimte en Wonen.") == Command(
        K.REROUTE, team="Ruimte en Wonen"
    )
    assert parse_command("TEAM Économie") == Command(K.CHOOSE_TEAM, team="Économie")
    assert parse_command("team") == NotUnderstood(Problem.NO_TEAM)
    assert parse_command("herrouteer") == NotUnderstood(Problem.NO_TEAM)


@pytest.mark.parametrize(
    "line",
    ["Hallo", "Aanvaard, groet Jan", "ja", "ok", "Dank je wel!", "AANVAARD?? ok", "accept"],
)
def test_anything_else_is_unknown(line: str) -> None:
    """A sentence around a command, or words that are no command, are not guessed at."""
    result = parse_command(line)
    assert isinstance(result, NotUnderstood)
    assert result.problem is Problem.UNKNOWN


def test_two_commands_on_one_line_are_ambiguous() -> None:
    """A line with words of two commands is ambiguous and names both."""
    assert parse_command("aanvaard en beantwoord") == NotUnderstood(
        Problem.AMBIGUOUS, (K.ACCEPT, K.ANSWERED)
    )
    assert parse_command("Akkoord, team Milieu") == NotUnderstood(
        Problem.AMBIGUOUS, (K.APPROVE, K.CHOOSE_TEAM)
    )


def test_nothing_typed_is_empty() -> None:
    """No line, or only punctuation, is an empty reply."""
    assert parse_command(None) == NotUnderstood(Problem.EMPTY)
    assert parse_command(" ... ") == NotUnderstood(Problem.EMPTY)


@given(st.text(max_size=300))
def test_any_line_gives_a_command_or_a_reason(line: str) -> None:
    """Whatever the line, reading it gives a command or a reason, never an exception."""
    assert isinstance(parse_command(line), Command | NotUnderstood)


def test_teams_resolve_by_key_or_name() -> None:
    """A team is found by its key or its name, folded; an unknown or doubtful one is not."""
    teams = {"milieu": "Team Milieu", "ruimte": "Ruimte en Wonen", "milieu2": "Milieu"}
    assert resolve_team("RUIMTE", teams) == "ruimte"
    assert resolve_team("ruimte en wonen", teams) == "ruimte"
    assert resolve_team("Team Milieu", teams) == "milieu"
    assert resolve_team("milieu", teams) is None  # a key of one and the name of another
    assert resolve_team("Verkeer", teams) is None


def test_a_pause_past_the_reply_date_or_in_the_past_is_refused() -> None:
    """A pause ends between today and the reply date; otherwise a Dutch reason is given."""
    today, reply = date(2026, 11, 28), date(2026, 12, 14)
    assert pause_problem(date(2026, 12, 14), today=today, reply_date=reply) is None
    assert pause_problem(date(2026, 11, 28), today=today, reply_date=reply) is None
    past = pause_problem(date(2026, 12, 15), today=today, reply_date=reply)
    assert past is not None
    assert "antwoorddatum 14-12-2026" in past
    assert "verleden" in (pause_problem(date(2026, 11, 27), today=today, reply_date=reply) or "")
