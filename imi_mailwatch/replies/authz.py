"""Who may give which command for a request. Pure: addresses in, a decision out.

=============================================  ==========================================
command                                        who may
=============================================  ==========================================
AANVAARD, BEANTWOORD, DOORGESTUURD, AFGEWEZEN,  the request's team (the addresses of its
PAUZE TOT, HERVAT                              team in the rules), the claimer, beheerders
IK PAK DIT OP                                  any address at one of the own domains
HERROUTEER, AKKOORD, TEAM                      the beheerders
=============================================  ==========================================

Addresses are compared whole and case-insensitively; the own domains exactly (a
subdomain or a look-alike is another domain). The decision is only about the
sender; whether the message is really from that sender is decided first, by
:mod:`imi_mailwatch.replies.trust`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from imi_mailwatch.replies.commands import CommandKind

__all__ = ["WHO_MAY", "Decision", "Role", "allowed_commands", "decide", "roles_of"]


class Role(StrEnum):
    TEAM = "team"
    CLAIMER = "claimer"
    BEHEERDER = "beheerder"
    COLLEAGUE = "colleague"  # any address at one of the own domains


_REQUEST_PEOPLE = frozenset({Role.TEAM, Role.CLAIMER, Role.BEHEERDER})
WHO_MAY: Mapping[CommandKind, frozenset[Role]] = {
    CommandKind.ACCEPT: _REQUEST_PEOPLE,
    CommandKind.ANSWERED: _REQUEST_PEOPLE,
    CommandKind.FORWARDED: _REQUEST_PEOPLE,
    CommandKind.REJECTED: _REQUEST_PEOPLE,
    CommandKind.PAUSE: _REQUEST_PEOPLE,
    CommandKind.RESUME: _REQUEST_PEOPLE,
    CommandKind.CLAIM: frozenset({Role.COLLEAGUE}),
    CommandKind.REROUTE: frozenset({Role.BEHEERDER}),
    CommandKind.APPROVE: frozenset({Role.BEHEERDER}),
    CommandKind.CHOOSE_TEAM: frozenset({Role.BEHEERDER}),
}

_WHO_DUTCH: Mapping[frozenset[Role], str] = {
    _REQUEST_PEOPLE: (
        "het team van dit verzoek, de collega die het verzoek heeft opgepakt "
        "(met IK PAK DIT OP) en de IMI-beheerders"
    ),
    frozenset({Role.COLLEAGUE}): "iedere medewerker met een e-mailadres van de eigen organisatie",
    frozenset({Role.BEHEERDER}): "de IMI-beheerders",
}


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether the sender may give the command, and in Dutch who may."""

    allowed: bool
    roles: frozenset[Role]
    who_may: str  # Dutch: "de IMI-beheerders"
    explanation: str  # Dutch: one or two sentences for the answer to the sender


def _address(value: str | None) -> str:
    return (value or "").strip().lower()


def roles_of(
    sender: str,
    *,
    team_addresses: Iterable[str],
    claimer: str | None,
    beheerders: Iterable[str],
    own_domains: Iterable[str],
) -> frozenset[Role]:
    """The roles ``sender`` has for one request."""
    address = _address(sender)
    if not address or "@" not in address:
        return frozenset()
    roles: set[Role] = set()
    if address in {_address(a) for a in team_addresses}:
        roles.add(Role.TEAM)
    if claimer and address == _address(claimer):
        roles.add(Role.CLAIMER)
    if address in {_address(a) for a in beheerders}:
        roles.add(Role.BEHEERDER)
    domain = address.rpartition("@")[2].rstrip(".")
    if domain in {d.strip().lstrip("@").rstrip(".").lower() for d in own_domains}:
        roles.add(Role.COLLEAGUE)
    return frozenset(roles)


def allowed_commands(roles: Iterable[Role]) -> tuple[CommandKind, ...]:
    """The commands these roles may give, in the order of :class:`CommandKind`."""
    have = set(roles)
    return tuple(k for k in CommandKind if WHO_MAY[k] & have)


def decide(
    command: CommandKind,
    sender: str,
    *,
    team_addresses: Iterable[str],
    claimer: str | None,
    beheerders: Iterable[str],
    own_domains: Iterable[str],
) -> Decision:
    """Whether ``sender`` may give ``command`` for the request (module docstring)."""
    roles = roles_of(
        sender,
        team_addresses=team_addresses,
        claimer=claimer,
        beheerders=beheerders,
        own_domains=own_domains,
    )
    who = _WHO_DUTCH[WHO_MAY[command]]
    if WHO_MAY[command] & roles:
        return Decision(True, roles, who, "")
    explanation = f"Dit commando mogen alleen {who} geven. Uw adres hoort daar niet bij."
    return Decision(False, roles, who, explanation)
