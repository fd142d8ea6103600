"""The Dutch texts of the desk: what a command did, the request's state, the mails. Pure.

Plain Dutch (B1) for handlers and beheerders. A confirmation says what was done, how
the request stands now and what the next follow-up is; the notices to a team say
what changed for them. No text names anyone but the actor, the claimer and the
beheerders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from imi_mailwatch.records import DeskState, Handling, RequestRecord
from imi_mailwatch.replies.authz import Role
from imi_mailwatch.replies.commands import WORD, CommandKind
from imi_mailwatch.replies.texts import actions_block
from imi_mailwatch.texts import TextBook, shipped_texts

HANDLED: Mapping[Handling, str] = {
    Handling.ANSWERED: "beantwoord",
    Handling.FORWARDED: "doorgestuurd naar een andere instantie",
    Handling.REJECTED: "afgewezen",
}
_NEXT_KIND: Mapping[str, str] = {
    "reminder": "herinnering",
    "closing": "afsluitbericht",
    "archive": "archiefcontrole",
}


def day(value: date) -> str:
    return f"{value:%d-%m-%Y}"


def word(kind: CommandKind) -> str:
    """The command as the texts name it: ``PAUZE``, ``IK PAK DIT OP``."""
    return WORD[kind] if kind is CommandKind.CLAIM else WORD[kind].split()[0]


def who(address: str, name: str | None = None) -> str:
    """The actor as the teams and the Corsa memo name them."""
    if name:
        return name
    return "een IMI-beheerder" if address.startswith("cli:") else address


def state_lines(
    request: RequestRecord,
    state: DeskState,
    *,
    next_due: date | None,
    next_kind: str | None,
    local: Any,
) -> list[str]:
    """How the request stands, one fact a line. ``local`` turns a moment into a local day."""
    team = request.team_name or request.team_key or "(geen team)"
    if state.claimer:
        team += f", opgepakt door {state.claimer}"
    lines = [f"Team: {team}"]
    if request.deadline is not None:
        lines.append(f"Antwoorddatum: {day(request.deadline)}")
    accepted = day(local(state.accepted_at)) if state.accepted_at else "nog niet gemeld"
    lines.append(f"Aanvaard in IMI: {accepted}")
    if state.handled is not None and state.answered_at is not None:
        lines.append(
            f"Afgehandeld in IMI: {HANDLED[state.handled]} op {day(local(state.answered_at))}"
        )
    else:
        lines.append("Afgehandeld in IMI: nog niet gemeld")
    if state.paused_until is not None:
        lines.append(f"Pauze: geen herinneringen tot en met {day(state.paused_until)}")
    if next_due is not None:
        lines.append(f"Volgende {_NEXT_KIND.get(next_kind or '', 'bericht')}: {day(next_due)}")
    else:
        lines.append("Volgende herinnering: geen, er zijn geen herinneringen meer gepland")
    return lines


def result_text(request_id: str, done: str, lines: Sequence[str]) -> str:
    """ActionResult.text of a command carried out: what was done, then the state."""
    return "\n".join([f"IMI-verzoek {request_id}: {done}", "", *lines])


def refused_text(request_id: str, kind: CommandKind, why: str) -> str:
    """ActionResult.text of a refused command."""
    return (
        f"IMI-verzoek {request_id}: de opdracht {word(kind)} is niet uitgevoerd. "
        f"Er is niets veranderd. {why}"
    )


def _mail(
    book: TextBook | None,
    name: str,
    request_id: str,
    *,
    beheerders: Sequence[str] = (),
    **context: Any,
) -> tuple[str, str]:
    """(subject, body) of the text ``name`` about one request (the beheerders' own, else
    the shipped one), the subject tagged ``[IMI 184523]`` for the replies."""
    texts = book if book is not None else shipped_texts()
    subject, body = texts.mail(
        name, verzoek=request_id, beheerders=", ".join(beheerders), **context
    )
    return f"[IMI {request_id}] {subject}", body


def confirmation_mail(
    kind: CommandKind,
    done: str,
    lines: Sequence[str],
    *,
    request_id: str,
    role: Role,
    extra: str | None = None,
    beheerders: Sequence[str] = (),
    book: TextBook | None = None,
) -> tuple[str, str]:
    """(subject, body) of the confirmation to the actor: what was done, the state
    (``teksten/bevestiging.j2``)."""
    return _mail(
        book,
        "bevestiging",
        request_id,
        beheerders=beheerders,
        opdracht=word(kind),
        gedaan=done[:1].upper() + done[1:],
        stand=list(lines),
        extra=extra or "",
        opdrachten=actions_block(role),
    )


def corsa_mail(
    kind: CommandKind,
    done: str,
    lines: Sequence[str],
    *,
    request_id: str,
    task_ref: str | None,
    beheerders: Sequence[str] = (),
    book: TextBook | None = None,
) -> tuple[str, str]:
    """(subject, body) to the beheerders of what the read-back found in Corsa and did
    (``teksten/teruggelezen.j2``)."""
    return _mail(
        book,
        "teruggelezen",
        request_id,
        beheerders=beheerders,
        verplaatst=kind is CommandKind.REROUTE,
        taak=task_ref or "",
        gedaan=done[:1].lower() + done[1:],
        stand=list(lines),
    )


def refusal_mail(
    request_id: str, kind: CommandKind, body: str, *, book: TextBook | None = None
) -> tuple[str, str]:
    """(subject, body) of the answer to a refused command (body from replies.texts)."""
    subject, _ = _mail(book, "weigering", request_id, opdracht=word(kind), reden="", wie_mag="")
    return subject, body


def reroute_mail(
    request_id: str,
    *,
    to_us: bool,
    old_team: str,
    new_team: str,
    by: str,
    task_ref: str | None,
    beheerders: Sequence[str] = (),
    in_corsa: bool = False,
    book: TextBook | None = None,
) -> tuple[str, str]:
    """(subject, body) to the old team (``to_us`` False) or the new team (True);
    ``in_corsa``: the task was moved in Corsa and the request followed
    (``teksten/herrouteer.j2``)."""
    return _mail(
        book,
        "herrouteer",
        request_id,
        beheerders=beheerders,
        naar_ons=to_us,
        oud_team=old_team,
        nieuw_team=new_team,
        door=by,
        taak=task_ref or "",
        in_corsa=in_corsa,
        opdrachten=actions_block(Role.TEAM),
    )


def claim_note(claimer: str, task_ref: str | None) -> str:
    """The line for the beheerders in the confirmation of a claim."""
    task = f"de taak {task_ref}" if task_ref else "de taak"
    return (
        f"Voor de IMI-beheerders: {claimer} heeft dit verzoek opgepakt. Verplaats {task} "
        "in Corsa naar deze collega. De herinneringen gaan voortaan naar deze collega."
    )


def reroute_note(task_ref: str | None) -> str:
    """The line for the beheerders in the confirmation of a re-route."""
    task = f"de taak {task_ref}" if task_ref else "de taak"
    return (
        f"IMI-mailwatch verplaatst {task} in Corsa naar de taakbak van het nieuwe team en "
        "zet een regel in het memo. Lukt het verplaatsen niet, dan krijgt u een bericht "
        "met wat u in Corsa zelf moet verplaatsen."
    )


def unknown_team(name: str, teams: Mapping[str, str]) -> str:
    names = ", ".join(sorted(teams.values())) or "(geen)"
    return f"Het team '{name}' staat niet (of niet eenduidig) in de regels. Teams: {names}."


UNKNOWN_REQUEST = "Dit verzoek is niet bekend bij IMI-mailwatch."
FINAL = (
    "Het verzoek is in IMI al gesloten of ingetrokken. Er zijn geen herinneringen meer, "
    "dus er valt niets te veranderen."
)
CLAIM_OUTSIDE = "IK PAK DIT OP kan alleen met een e-mailadres van de eigen organisatie."
CLAIM_NEEDS_ADDRESS = "Geef het e-mailadres van de collega die het verzoek oppakt."


VIA: Mapping[str, str] = {
    "mail": "per e-mail",
    "cli": "via de opdrachtregel",
    "web": "via de website",
    "corsa": "vanuit Corsa (teruggelezen)",
}


def action_line(command: str, actor: str, via: str, argument: str | None, ok: bool) -> str:
    """One action of the log, for status and history: ``BEANTWOORD door x per e-mail``."""
    try:
        what = word(CommandKind(command))
    except ValueError:
        what = command.upper()
    if argument:
        what += f" {argument}"
    by = f" door {actor}" if actor else ""  # the retention policy removed who it was
    line = f"{what}{by} {VIA.get(via, via)}"
    return line if ok else line + " (niet uitgevoerd)"
