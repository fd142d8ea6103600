"""What changes state from the web desk: login and logout, actions on a request and on
the quarantine. Every POST is checked for its CSRF token first and for the role
``beheerder`` next; only then is anything done.

Actions on a request go through the desk service (:func:`imi_mailwatch.desk.service.
apply_command`, ``Via.WEB``): the same code as the reply commands and ``verzoek``,
which authorises, changes the request, replans and logs the action with who did it.
The quarantine's release and resolve are :mod:`imi_mailwatch.privacy.quarantine`'s,
audited here with the user's address in the same transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
import structlog
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from imi_mailwatch.desk.texts import action_line
from imi_mailwatch.privacy.history import History
from imi_mailwatch.privacy.quarantine import release, resolve
from imi_mailwatch.records import RequestRecord
from imi_mailwatch.web.app import Desk, Handler, desk_of, error_page, render, require_user
from imi_mailwatch.web.auth import (
    CSRF_FIELD,
    SESSION_USER,
    WebUser,
    csrf_ok,
    user_from_claims,
)

log = structlog.get_logger(__name__)

_MAIL_STATUS = {
    "pending": "nog te versturen",
    "sending": "wordt verstuurd",
    "sent": "verstuurd",
    "failed": "mislukt",
}

WEB_ACTION = "web.action"
"""Audit action of every quarantine action taken on the web (detail: who, what, item)."""


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a request's timeline."""

    at: datetime
    what: str
    who: str | None = None


@dataclass(frozen=True, slots=True)
class Action:
    """A button on the request page: the command's value and its Dutch label."""

    command: str
    label: str
    needs_team: bool = False


def teams(desk: Desk) -> Mapping[str, str]:
    """The teams of the rules in force, key -> name, to re-route to (none without actions)."""
    if desk.actions is None:
        return {}
    return {key: team.name for key, team in desk.actions.teams().items()}


def timeline(desk: Desk, request_id: str, history: History) -> list[Line]:
    """The history's events, the actions (with who) and the mails the desk sent, by time."""
    # the history's own action lines are left out: _desk_lines shows them with who and result
    lines = [Line(e.at, e.text) for e in history.events if not e.kind.startswith("action.")]
    lines.extend(_desk_lines(desk, request_id))
    lines.sort(key=lambda line: line.at)
    return lines


def _desk_lines(desk: Desk, request_id: str) -> list[Line]:
    """Every action with who gave it and what they were told, and every mail the desk owes."""
    out: list[Line] = []
    for a in desk.store.actions_of(request_id):
        e = a.entry
        text = f"{action_line(e.command, e.actor, e.via, e.argument, e.ok)}. {e.result}"
        out.append(Line(a.at, text, who=e.actor or None))
    for m in desk.store.desk_mails_of(request_id):
        to = ", ".join(m.mail.to)
        status = _MAIL_STATUS.get(m.status.value, m.status.value)
        out.append(Line(m.created_at, f"E-mail '{m.mail.subject}' aan {to}: {status}"))
    return out


def actions_for(desk: Desk, user: WebUser, record: RequestRecord) -> list[Action]:
    """The actions this user may take on this request (none for a lezer or a closed one):
    AKKOORD while the route is a proposal, BEANTWOORD until it was answered."""
    if not user.may_act or record.status.is_final or desk.actions is None:
        return []
    state = desk.store.desk_state(record.request_id)
    actions = []
    held = bool(desk.store.outbox_held(request_id=record.request_id))  # routing: propose
    if held or (record.is_default and state.route_confirmed_at is None):
        actions.append(Action("akkoord", "Route bevestigen (AKKOORD)"))
    actions.append(Action("herrouteer", "Naar een ander team (HERROUTEER)", needs_team=True))
    if state.handled is None:
        actions.append(Action("beantwoord", "Beantwoord in IMI (BEANTWOORD)"))
    return actions


FormAction = Callable[[Request, WebUser, Any, Desk], Awaitable[Response]]


def for_beheerders(action: FormAction) -> Handler:
    """A POST only a beheerder may make, and only with the right CSRF token: ``action``
    gets the user, the form and the desk; anyone else the refusal."""

    @functools.wraps(action)
    async def handler(request: Request) -> Response:
        form = await request.form()
        if not csrf_ok(request, form.get(CSRF_FIELD)):
            log.warning("web.csrf_refused", path=request.url.path)
            return error_page(
                request,
                403,
                "Geweigerd",
                "Dit formulier is verlopen of kwam niet van de IMI-desk. Laad de pagina "
                "opnieuw en probeer het nog eens.",
            )
        user = require_user(request)
        if isinstance(user, Response):
            return user
        if not user.may_act:
            return error_page(
                request,
                403,
                "Geen toestemming",
                "Als lezer kunt u verzoeken bekijken maar geen acties uitvoeren.",
            )
        return await action(request, user, form, desk_of(request))

    return handler


def _flash(request: Request, ok: bool, text: str) -> None:
    request.session["flash"] = {"ok": ok, "text": text}


@for_beheerders
async def act(request: Request, user: WebUser, form: Any, desk: Desk) -> Response:
    request_id = request.path_params["request_id"]
    from imi_mailwatch.web.acting import apply_web_command

    result = apply_web_command(
        desk, user, request_id, str(form.get("actie", "")), team=str(form.get("team", "")) or None
    )
    if desk.after_action is not None:
        desk.after_action()
    _flash(request, result.ok, result.text)
    return RedirectResponse(f"/verzoek/{quote(request_id)}", status_code=303)


@for_beheerders
async def quarantine_act(request: Request, user: WebUser, form: Any, desk: Desk) -> Response:
    item_id = int(request.path_params["item_id"])
    what = str(form.get("actie", ""))
    if what not in ("vrijgeven", "oplossen"):
        return error_page(request, 400, "Onbekende actie", "Kies vrijgeven of oplossen.")
    store = desk.store
    with store.transaction():
        done = release(store, item_id) if what == "vrijgeven" else resolve(store, item_id)
        if done is not None and not (what == "vrijgeven" and done.item.kind == "rejected"):
            store.audit(
                WEB_ACTION,
                done.item.request_id,
                action=f"quarantine.{what}",
                quarantine_id=item_id,
                actor=user.address,
                via="web",
            )
    if done is None:
        text, ok = f"Geen quarantaine-item #{item_id}.", False
    elif what == "vrijgeven" and done.item.kind == "rejected":
        text, ok = (
            (
                f"#{item_id} is afgewezen omdat het niet echt van IMI lijkt te komen; "
                "zo'n bericht wordt niet vrijgegeven."
            ),
            False,
        )
    elif what == "vrijgeven":
        text, ok = (
            (
                f"#{item_id} is vrijgegeven. Verplaats het bericht in de mailbox uit de "
                "quarantainemap terug naar de inbox; de daemon verwerkt het dan opnieuw."
            ),
            True,
        )
    else:
        text, ok = (
            (f"#{item_id} was al opgelost." if done.already else f"#{item_id} is opgelost."),
            True,
        )
    log.info("web.quarantine_action", action=what, quarantine_id=item_id, ok=ok)
    _flash(request, ok, text)
    return RedirectResponse(f"/quarantaine/{item_id}", status_code=303)


# -- login -------------------------------------------------------------------------------


async def login(request: Request) -> Response:
    desk = desk_of(request)
    if desk.oauth is None:
        return RedirectResponse("/", status_code=303)
    redirect_uri = desk.cfg.web.base_url + "/auth/callback"
    try:
        response: Response = await desk.oauth.oidc.authorize_redirect(request, redirect_uri)
    except httpx.HTTPError as exc:  # the identity provider's metadata could not be read
        log.warning("web.login_unavailable", error=type(exc).__name__)
        return _provider_down(request)
    return response


def _provider_down(request: Request) -> Response:
    return error_page(
        request,
        503,
        "Inloggen kan nu niet",
        "De inlogdienst van de organisatie is niet bereikbaar. Probeer het over "
        "een paar minuten opnieuw.",
        login=True,
    )


async def callback(request: Request) -> Response:
    desk = desk_of(request)
    if desk.oauth is None:
        return RedirectResponse("/", status_code=303)
    from authlib.integrations.base_client import OAuthError

    try:
        token = await desk.oauth.oidc.authorize_access_token(request)
        claims = dict(token.get("userinfo") or {})
        if not claims.get(desk.cfg.web.oidc.email_claim if desk.cfg.web.oidc else "email"):
            claims.update(await desk.oauth.oidc.userinfo(token=token))
    except httpx.HTTPError as exc:
        log.warning("web.login_unavailable", error=type(exc).__name__)
        return _provider_down(request)
    except OAuthError as exc:
        log.warning("web.login_failed", error=exc.error)
        return error_page(
            request,
            401,
            "Inloggen mislukt",
            "Het inloggen is niet gelukt. Probeer het opnieuw.",
            login=True,
        )
    user = user_from_claims(desk.cfg.web, claims)
    if user is None:
        log.warning("web.login_refused")
        return error_page(
            request,
            403,
            "Geen toegang",
            "U bent ingelogd, maar uw account heeft geen rol in de IMI-desk (beheerder of "
            "lezer). Vraag de IMI-beheerders om toegang.",
        )
    request.session.clear()  # a new session at login: no fixation
    request.session[SESSION_USER] = user.as_session()
    log.info("web.login", role=user.role.value)
    return RedirectResponse("/", status_code=303)


async def logout(request: Request) -> Response:
    request.session.clear()
    return render(
        request,
        "error.html.j2",
        title="Uitgelogd",
        message="U bent uitgelogd bij de IMI-desk.",
        login=True,
    )
