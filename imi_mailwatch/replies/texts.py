"""The Dutch texts of the reply channel: the actions block, help and refusals. Pure.

Every mail about a request ends with :func:`actions_block` for its recipient: the
commands that recipient may give, one per line, each with what it does. A reply the
daemon cannot act on gets one of the answers below; each says why, what to do now,
and who can help. The texts are plain Dutch (B1) for handlers and beheerders, and
name no one but the beheerders given. The answers are templates in ``teksten/``
(``antwoorden.j2``, ``weigering.j2``): the beheerders' own ``book`` when given, else
the shipped ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from imi_mailwatch.replies.authz import Decision, Role, allowed_commands
from imi_mailwatch.replies.commands import WORD, CommandKind, NotUnderstood, Problem

if TYPE_CHECKING:
    from imi_mailwatch.texts import TextBook

__all__ = [
    "DOES",
    "actions_block",
    "commands_for",
    "help_answer",
    "refusal_answer",
    "unlinked_answer",
    "untrusted_answer",
]

HEADING = "Antwoord met één woord op de eerste regel:"

DOES: Mapping[CommandKind, str] = {
    CommandKind.ACCEPT: "u heeft het verzoek in IMI aanvaard. De herinneringen om te "
    "aanvaarden stoppen.",
    CommandKind.ANSWERED: "u heeft het antwoord in IMI verstuurd. Herinneringen en "
    "escalaties stoppen.",
    CommandKind.FORWARDED: "u heeft het verzoek in IMI doorgestuurd naar een andere "
    "instantie. De herinneringen stoppen en de taak in Corsa kan dicht.",
    CommandKind.REJECTED: "u heeft het verzoek in IMI afgewezen. De herinneringen stoppen "
    "en de taak in Corsa kan dicht.",
    CommandKind.PAUSE: "geen herinneringen tot die datum. De datum mag niet na de "
    "antwoorddatum liggen.",
    CommandKind.RESUME: "een pauze stopt: de herinneringen gaan weer door.",
    CommandKind.CLAIM: "u pakt dit verzoek zelf op. De herinneringen komen dan naar u. De "
    "IMI-beheerders verplaatsen de taak in Corsa.",
    CommandKind.REROUTE: "het verzoek gaat naar een ander team. Beide teams krijgen "
    "bericht en er komt een regel in het memo in Corsa.",
    CommandKind.APPROVE: "het voorgestelde team klopt. De taak wordt in Corsa aangemaakt.",
    CommandKind.CHOOSE_TEAM: "een ander team dan voorgesteld. De taak wordt voor dat team "
    "in Corsa aangemaakt.",
}

_PROPOSAL_ONLY = (CommandKind.APPROVE, CommandKind.CHOOSE_TEAM)
_FOOTER = (
    "Zet het woord bovenaan uw antwoord, boven de tekst van deze mail. "
    "Eén opdracht per antwoord. U krijgt altijd een bevestiging."
)


def commands_for(role: Role, *, proposal: bool = False) -> tuple[CommandKind, ...]:
    """The commands a recipient in ``role`` may give in answer to a mail.

    A proposal mail (a route waiting for a beheerder) asks only AKKOORD or TEAM; the
    other mails never offer them. Every recipient works for the organisation, so
    IK PAK DIT OP is offered to all.
    """
    if proposal:
        return _PROPOSAL_ONLY if role is Role.BEHEERDER else ()
    kinds = allowed_commands({role, Role.COLLEAGUE})
    return tuple(k for k in kinds if k not in _PROPOSAL_ONLY)


def _lines(kinds: Iterable[CommandKind]) -> list[str]:
    return [f"  {WORD[k]}: {DOES[k]}" for k in kinds]


def actions_block(role: Role, *, proposal: bool = False) -> str:
    """The block "Antwoord met één woord op de eerste regel:" for a recipient in ``role``."""
    kinds = commands_for(role, proposal=proposal)
    if not kinds:
        return ""
    return "\n".join([HEADING, "", *_lines(kinds), "", _FOOTER])


_WHY: Mapping[Problem, str] = {
    Problem.EMPTY: "Wij vonden geen opdracht bovenaan uw antwoord.",
    Problem.UNKNOWN: "Wij herkennen de eerste regel van uw antwoord niet als opdracht.",
    Problem.AMBIGUOUS: "De eerste regel van uw antwoord bevat meer dan één opdracht. "
    "Wij voeren niets uit als niet duidelijk is welke opdracht u bedoelt.",
    Problem.BAD_DATE: "Bij PAUZE TOT hoort een geldige datum, zoals PAUZE TOT 15-01-2027.",
    Problem.NO_TEAM: "Bij HERROUTEER en TEAM hoort de naam van een team, zoals TEAM Milieu.",
}


def _book(book: TextBook | None) -> TextBook:
    from imi_mailwatch.texts import shipped_texts  # Jinja2 loads when an answer is written

    return book if book is not None else shipped_texts()


def help_answer(
    problem: NotUnderstood,
    commands: Sequence[CommandKind],
    *,
    request_id: str | None,
    beheerders: Sequence[str] = (),
    book: TextBook | None = None,
) -> str:
    """The help answer to a reply without a command: why, then the valid commands."""
    return _book(book).mail(
        "antwoorden",
        soort="hulp",
        verzoek=request_id or "",
        waarom=_WHY[problem.problem],
        opdrachten=[f"{WORD[k]}: {DOES[k]}" for k in commands],
        beheerders=", ".join(beheerders),
    )[1]


def refusal_answer(
    command: CommandKind,
    decision: Decision,
    *,
    request_id: str,
    beheerders: Sequence[str] = (),
    reason: str | None = None,
    book: TextBook | None = None,
) -> str:
    """The answer to a command the sender may not give (or that cannot be done now).

    ``reason`` (Dutch) replaces the explanation of the decision, for a refusal that is
    not about the sender: a pause past the reply date, a team that does not exist.
    """
    word = WORD[command].split()[0] if command is not CommandKind.CLAIM else WORD[command]
    return _book(book).mail(
        "weigering",
        verzoek=request_id,
        opdracht=word,
        reden=reason or decision.explanation,
        wie_mag=decision.who_may if reason is None else "",
        beheerders=", ".join(beheerders),
    )[1]


def untrusted_answer(
    *, request_id: str | None, beheerders: Sequence[str] = (), book: TextBook | None = None
) -> str:
    """The answer to a reply whose sender could not be confirmed: nothing was done."""
    return _book(book).mail(
        "antwoorden",
        soort="onbevestigd",
        verzoek=request_id or "",
        waarom="",
        opdrachten=[],
        beheerders=", ".join(beheerders),
    )[1]


def unlinked_answer(*, beheerders: Sequence[str] = (), book: TextBook | None = None) -> str:
    """The answer to a reply that names no request the daemon knows: nothing was done."""
    return _book(book).mail(
        "antwoorden",
        soort="onbekend",
        verzoek="",
        waarom="",
        opdrachten=[],
        beheerders=", ".join(beheerders),
    )[1]
