"""Reply commands: one line in, one command (or the reason there is none) out. Pure.

The line is compared case-insensitively, with accents and repeated spaces ignored,
and without trailing punctuation (``Aanvaard.``, ``akkoord!``). The whole line must be
one command: ``Aanvaard, groet Jan`` is not one, and gets the help answer (a command
that changes a request is never guessed from a sentence).

=================  ========================================================
command            also accepted
=================  ========================================================
AANVAARD           aanvaarden, geaccepteerd, geaccepteerd in IMI, aanvaard in IMI
BEANTWOORD         beantwoorden, beantwoord in IMI, afgehandeld
DOORGESTUURD       doorgestuurd in IMI, doorgezonden
AFGEWEZEN          afgewezen in IMI, afwijzen
PAUZE TOT datum    pauzeer tot datum (dd-mm-jjjj, d-m-jjjj, dd/mm/jjjj, dd.mm.jjjj)
HERVAT             hervatten
IK PAK DIT OP      ik pak het op
HERROUTEER team    herrouteer naar team, herrouteren naar team
AKKOORD            akkoord met het voorstel
TEAM team          (a team name or key of the rules)
=================  ========================================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from imi_mailwatch.alerts.text import fold

__all__ = [
    "Command",
    "CommandKind",
    "NotUnderstood",
    "Problem",
    "parse_command",
    "pause_problem",
    "resolve_team",
]


class CommandKind(StrEnum):
    ACCEPT = "aanvaard"
    ANSWERED = "beantwoord"
    FORWARDED = "doorgestuurd"
    REJECTED = "afgewezen"
    PAUSE = "pauze"
    RESUME = "hervat"
    CLAIM = "claim"
    REROUTE = "herrouteer"
    APPROVE = "akkoord"
    CHOOSE_TEAM = "team"


WORD: Mapping[CommandKind, str] = {  # how the command is written in the Dutch texts
    CommandKind.ACCEPT: "AANVAARD",
    CommandKind.ANSWERED: "BEANTWOORD",
    CommandKind.FORWARDED: "DOORGESTUURD",
    CommandKind.REJECTED: "AFGEWEZEN",
    CommandKind.PAUSE: "PAUZE TOT dd-mm-jjjj",
    CommandKind.RESUME: "HERVAT",
    CommandKind.CLAIM: "IK PAK DIT OP",
    CommandKind.REROUTE: "HERROUTEER teamnaam",
    CommandKind.APPROVE: "AKKOORD",
    CommandKind.CHOOSE_TEAM: "TEAM teamnaam",
}


@dataclass(frozen=True, slots=True)
class Command:
    """A recognised command with its argument: ``until`` for PAUZE, ``team`` for
    HERROUTEER and TEAM (as written, without trailing punctuation)."""

    kind: CommandKind
    until: date | None = None
    team: str | None = None


class Problem(StrEnum):
    EMPTY = "empty"  # nothing typed above the quoted history
    UNKNOWN = "unknown"  # no command
    AMBIGUOUS = "ambiguous"  # words of more than one command
    BAD_DATE = "bad_date"  # PAUZE without a valid date
    NO_TEAM = "no_team"  # HERROUTEER or TEAM without a team name


@dataclass(frozen=True, slots=True)
class NotUnderstood:
    """No command: the sender gets the help answer (:mod:`imi_mailwatch.replies.texts`)."""

    problem: Problem
    candidates: tuple[CommandKind, ...] = ()  # for AMBIGUOUS: the commands it could be


_IMI = r"(?: in (?:imi|het imi-systeem))?"
_SIMPLE: tuple[tuple[CommandKind, re.Pattern[str]], ...] = (
    (CommandKind.ACCEPT, re.compile(rf"(?:aanvaard|aanvaarden|geaccepteerd|accepteer){_IMI}")),
    (CommandKind.ANSWERED, re.compile(rf"(?:beantwoord|beantwoorden|afgehandeld){_IMI}")),
    (CommandKind.FORWARDED, re.compile(rf"(?:doorgestuurd|doorgezonden){_IMI}")),
    (CommandKind.REJECTED, re.compile(rf"(?:afgewezen|afwijzen){_IMI}")),
    (CommandKind.RESUME, re.compile(r"hervat|hervatten")),
    (CommandKind.CLAIM, re.compile(r"ik pak (?:dit|het) op")),
    (CommandKind.APPROVE, re.compile(r"akkoord(?: met (?:het|dit) voorstel)?")),
)
_PAUSE = re.compile(r"(?:pauze|pauzeer|pauzeren)(?: (?:tot|tot en met|t/m))?(?: (?P<date>.*))?")
_DATE = re.compile(r"(?P<d>\d{1,2})\s?[-/.]\s?(?P<m>\d{1,2})\s?[-/.]\s?(?P<y>\d{4})")
_REROUTE = re.compile(r"(?:herrouteer|herrouteren)(?: naar)?(?: (?P<team>.+))?")
_TEAM = re.compile(r"team(?: (?P<team>.+))?")
# The first word of each command, to tell an unknown line from an ambiguous one.
_WORDS: Mapping[str, CommandKind] = {
    "aanvaard": CommandKind.ACCEPT,
    "aanvaarden": CommandKind.ACCEPT,
    "geaccepteerd": CommandKind.ACCEPT,
    "beantwoord": CommandKind.ANSWERED,
    "beantwoorden": CommandKind.ANSWERED,
    "afgehandeld": CommandKind.ANSWERED,
    "doorgestuurd": CommandKind.FORWARDED,
    "afgewezen": CommandKind.REJECTED,
    "pauze": CommandKind.PAUSE,
    "hervat": CommandKind.RESUME,
    "herrouteer": CommandKind.REROUTE,
    "akkoord": CommandKind.APPROVE,
    "team": CommandKind.CHOOSE_TEAM,
}
_TRAILING = ".,;:!?)\"'*_ \u2019\u201d"
_LEADING = "\"'*_( \u2018\u201c"


def normalise(line: str) -> str:
    """The line as commands are compared: folded, without trailing punctuation."""
    return fold(line).strip(_LEADING).rstrip(_TRAILING).strip()


def parse_command(line: str | None) -> Command | NotUnderstood:  # noqa: PLR0911
    """The command on ``line`` (see the module docstring), or why there is none."""
    if line is None or not normalise(line):
        return NotUnderstood(Problem.EMPTY)
    text = normalise(line)
    for kind, pattern in _SIMPLE:
        if pattern.fullmatch(text):
            return Command(kind)
    original = line.strip().rstrip(_TRAILING).strip()
    if m := _PAUSE.fullmatch(text):
        until = _date(m["date"] or "")
        return Command(CommandKind.PAUSE, until=until) if until else NotUnderstood(Problem.BAD_DATE)
    if m := _REROUTE.fullmatch(text):
        team = _argument(original, m["team"])
        return Command(CommandKind.REROUTE, team=team) if team else NotUnderstood(Problem.NO_TEAM)
    if m := _TEAM.fullmatch(text):
        team = _argument(original, m["team"])
        return (
            Command(CommandKind.CHOOSE_TEAM, team=team) if team else NotUnderstood(Problem.NO_TEAM)
        )
    named = tuple(dict.fromkeys(k for w in re.findall(r"[a-z]+", text) if (k := _WORDS.get(w))))
    if len(named) > 1:
        return NotUnderstood(Problem.AMBIGUOUS, named)
    return NotUnderstood(Problem.UNKNOWN, named)


def _date(text: str) -> date | None:
    m = _DATE.fullmatch(text.strip())
    if m is None:
        return None
    try:
        return date(int(m["y"]), int(m["m"]), int(m["d"]))
    except ValueError:
        return None


def _argument(original: str, folded: str | None) -> str | None:
    """The argument as it was written (its last words), matching the folded one."""
    if not folded:
        return None
    words = original.split()
    count = len(folded.split())
    team = " ".join(words[-count:]) if count <= len(words) else folded
    return team.strip(_LEADING).rstrip(_TRAILING).strip() or None


def resolve_team(name: str, teams: Mapping[str, str]) -> str | None:
    """The key of the team named ``name`` (its key or its name, folded), given
    ``teams`` as key -> name; None when none or more than one fits."""
    wanted = normalise(name)
    found = {k for k, n in teams.items() if wanted in (normalise(k), normalise(n))}
    return found.pop() if len(found) == 1 else None


def pause_problem(until: date, *, today: date, reply_date: date | None) -> str | None:
    """Why a pause until ``until`` is refused (Dutch), or None when it may be set.

    A pause ends on a day from today up to the reply date: a pause past the reply
    date would hide the deadline.
    """
    if until < today:
        return f"De datum {until:%d-%m-%Y} ligt in het verleden."
    if reply_date is not None and until > reply_date:
        return (
            f"De pauze tot {until:%d-%m-%Y} loopt voorbij de antwoorddatum "
            f"{reply_date:%d-%m-%Y}. Een pauze kan duren tot en met de antwoorddatum, "
            "zodat de termijn niet uit het zicht raakt."
        )
    return None
