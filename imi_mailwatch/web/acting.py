"""The web's actions on a request, applied by the desk service (one implementation).

The form's words map to a reply command; :func:`imi_mailwatch.desk.service.apply_command`
does the rest (authorisation, the change, replanning, the action log with the user's
address and ``via=web``, the confirmation mail), in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from imi_mailwatch.desk.service import Actor, DeskContext, Via, apply_command
from imi_mailwatch.replies.authz import Role
from imi_mailwatch.replies.commands import Command, CommandKind
from imi_mailwatch.web.app import Desk
from imi_mailwatch.web.auth import WebUser

FORM_COMMANDS = {
    "akkoord": CommandKind.APPROVE,
    "herrouteer": CommandKind.REROUTE,
    "beantwoord": CommandKind.ANSWERED,
}


@dataclass(frozen=True, slots=True)
class WebResult:
    ok: bool
    text: str  # Dutch, for the flash message


def apply_web_command(
    desk: Desk, user: WebUser, request_id: str, action: str, *, team: str | None
) -> WebResult:
    """Apply one of the form's actions as ``user``; what happened, in Dutch."""
    kind = FORM_COMMANDS.get(action)
    if kind is None:
        return WebResult(False, "Onbekende actie.")
    if kind is CommandKind.REROUTE and not team:
        return WebResult(False, "Kies het team waar het verzoek heen moet.")
    if desk.actions is None:
        return WebResult(False, "Acties zijn in deze installatie niet beschikbaar.")
    actor = Actor(
        address=user.address,
        via=Via.WEB,
        roles=frozenset({Role.BEHEERDER}) if user.may_act else frozenset(),
        name=user.name,
    )
    command = Command(kind=kind, team=team if kind is CommandKind.REROUTE else None)
    context: DeskContext = desk.actions
    result = apply_command(desk.store, context, request_id, command, actor)
    return WebResult(result.ok, result.text)
