"""What each command changes, worked out before anything is written (desk.service)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from imi_mailwatch.deadlines.notices import CloseReason
from imi_mailwatch.desk import texts
from imi_mailwatch.records import DeskState, Handling, RequestRecord
from imi_mailwatch.replies.commands import Command, CommandKind, pause_problem, resolve_team

if TYPE_CHECKING:
    from imi_mailwatch.desk.service import Actor, DeskContext


@dataclass
class Change:
    """What one command does, worked out before anything is written."""

    done: str  # Dutch: what was done
    state: DeskState
    request: RequestRecord | None = None  # a changed request (re-route)
    memo: str | None = None  # a line for the Corsa memo
    cc_beheerders: bool = False
    extra: str | None = None  # a line for the confirmation (the beheerders' part)
    mails: list[tuple[str, tuple[str, ...], tuple[str, str]]] = field(default_factory=list)
    replan: bool = True
    close: CloseReason | None = None  # tell the team the Corsa task may close (planned)
    release: bool = False  # the held task is created now (routing.mode: propose)


class Refused(Exception):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def team_addresses(desk: DeskContext, request: RequestRecord) -> tuple[str, ...]:
    team = desk.teams().get(request.team_key or "")
    found = [request.team_mailbox, *request.handlers]
    if team is not None:
        found += [team.mailbox, *team.handlers]
    return tuple(dict.fromkeys(a.lower() for a in found if a))


def change(  # noqa: PLR0911
    desk: DeskContext,
    request: RequestRecord,
    state: DeskState,
    command: Command,
    actor: Actor,
    *,
    claimer: str | None,
    held: bool = False,
) -> Change:
    """What the command changes, or Refused with the Dutch reason. ``held``: the request's
    task waits for AKKOORD or TEAM (``routing.mode: propose``, :mod:`imi_mailwatch.proposals`)."""
    now = desk.clock.now()
    kind = command.kind
    by = texts.who(actor.address, actor.name)
    if kind is CommandKind.ACCEPT:
        if state.accepted_at is not None:
            return Change("het verzoek was al als aanvaard gemeld.", state, replan=False)
        return Change("aanvaard in IMI vastgelegd.", dataclasses.replace(state, accepted_at=now))
    if kind in _HANDLING:
        handled = _HANDLING[kind]
        new = dataclasses.replace(state, handled=handled, answered_at=now)
        change = Change(
            f"{texts.HANDLED[handled]} in IMI vastgelegd. Herinneringen en escalaties stoppen.",
            new,
            memo=f"In IMI {texts.HANDLED[handled]} (gemeld door {by}).",
        )
        if handled is not Handling.ANSWERED:  # the letter taak_sluiten.j2, as on withdrawal
            change.done += " Het team hoort dat de taak in Corsa dicht kan."
            change.close = CloseReason(handled.value)
        return change
    if kind is CommandKind.PAUSE:
        assert command.until is not None  # the parser gives PAUZE a date
        today = desk.calendar.local_date(now)
        problem = pause_problem(command.until, today=today, reply_date=request.deadline)
        if problem is not None:
            raise Refused(problem)
        until = texts.day(command.until)
        new = dataclasses.replace(state, paused_until=command.until)
        return Change(f"gepauzeerd: geen herinneringen tot en met {until}.", new)
    if kind is CommandKind.RESUME:
        if state.paused_until is None:
            return Change("er was geen pauze; er verandert niets.", state, replan=False)
        new = dataclasses.replace(state, paused_until=None)
        return Change("de pauze is beëindigd; de herinneringen gaan weer door.", new)
    if kind is CommandKind.CLAIM:
        who = _claimer(desk, actor, claimer)
        new = dataclasses.replace(state, claimer=who)
        return Change(
            f"opgepakt door {who}. De herinneringen gaan voortaan naar {who}.",
            new,
            cc_beheerders=True,
            extra=texts.claim_note(who, request.task_ref),
            replan=False,
        )
    if kind is CommandKind.APPROVE:
        # routing.mode: propose: a held task is created now, for the proposed team
        new = dataclasses.replace(state, route_confirmed_at=state.route_confirmed_at or now)
        team = request.team_name or request.team_key
        done = f"de route naar {team} is bevestigd."
        if held:
            done += " De taak in Corsa wordt nu aangemaakt."
        return Change(done, new, cc_beheerders=True, replan=False, release=held)
    return _reroute(desk, request, state, command, actor, held=held)


_HANDLING: Mapping[CommandKind, Handling] = {
    CommandKind.ANSWERED: Handling.ANSWERED,
    CommandKind.FORWARDED: Handling.FORWARDED,
    CommandKind.REJECTED: Handling.REJECTED,
}


def _reroute(
    desk: DeskContext,
    request: RequestRecord,
    state: DeskState,
    command: Command,
    actor: Actor,
    *,
    held: bool = False,
) -> Change:
    """HERROUTEER and TEAM: the request moves to another team (TEAM also confirms).

    A held task (routing.mode: propose) has told no team yet: TEAM creates it for the
    chosen team, with no memo line and no mail to the team first proposed."""
    now = desk.clock.now()
    teams = desk.teams()
    by_key = {k: t.name for k, t in teams.items()}
    key = resolve_team(command.team or "", by_key)
    if key is None:
        raise Refused(texts.unknown_team(command.team or "", by_key))
    confirm = command.kind is CommandKind.CHOOSE_TEAM
    new_state = dataclasses.replace(
        state, route_confirmed_at=(state.route_confirmed_at or now) if confirm else
        state.route_confirmed_at
    )  # fmt: skip
    team = teams[key]
    if key == request.team_key:
        release = held and confirm
        done = f"het verzoek ligt al bij {team.name}; er verandert niets."
        if release:
            done = f"de route naar {team.name} is bevestigd. De taak in Corsa wordt nu aangemaakt."
        return Change(done, new_state, cc_beheerders=True, replan=False, release=release)
    old_name = request.team_name or request.team_key or "(geen team)"
    old_addresses = team_addresses(desk, request) + _maybe(state.claimer)
    moved = dataclasses.replace(
        request,
        team_key=team.key,
        team_name=team.name,
        org_unit=team.org_unit,
        team_mailbox=team.mailbox,
        handlers=team.handlers,
        is_default=False,
    )
    by = texts.who(actor.address, actor.name)
    change = Change(
        f"het verzoek gaat naar {team.name} (was: {old_name}). De herinneringen volgen het "
        "nieuwe team; beide teams krijgen bericht.",
        dataclasses.replace(new_state, claimer=None),
        request=moved,
        memo=f"Verzoek doorgezet naar {team.name} (was: {old_name}), door {by}.",
        cc_beheerders=True,
        extra=texts.reroute_note(request.task_ref),
    )
    if held:
        change.memo, change.extra = None, None
        change.release = confirm
        change.done = f"het verzoek gaat naar {team.name} (voorgesteld was: {old_name})." + (
            " De taak in Corsa wordt nu aangemaakt voor dit team." if confirm else ""
        )
        return change
    new_addresses = team_addresses(desk, moved)
    old_only = tuple(a for a in old_addresses if a not in new_addresses)
    for kind, to, to_us in (("rerouteold", old_only, False), ("reroutenew", new_addresses, True)):
        mail = texts.reroute_mail(
            request.request_id,
            to_us=to_us,
            old_team=old_name,
            new_team=team.name,
            by=by,
            task_ref=request.task_ref,
            beheerders=names(desk),
            in_corsa=actor.via.value == "corsa",
            book=desk.texts,
        )
        change.mails.append((kind, _others(to, actor), mail))
    return change


def _claimer(desk: DeskContext, actor: Actor, claimer: str | None) -> str:
    who = (claimer or actor.address).strip().lower()
    if "@" not in who:
        raise Refused(texts.CLAIM_NEEDS_ADDRESS)
    domain = who.rpartition("@")[2].rstrip(".")
    own = {d.strip().lstrip("@").rstrip(".").lower() for d in desk.own_domains}
    if own and domain not in own:
        raise Refused(texts.CLAIM_OUTSIDE)
    return who


def _maybe(address: str | None) -> tuple[str, ...]:
    return (address,) if address else ()


def _others(addresses: tuple[str, ...], actor: Actor) -> tuple[str, ...]:
    """The addresses to tell, without the actor (who gets the confirmation)."""
    return tuple(a for a in dict.fromkeys(addresses) if a != actor.address.lower())


def names(desk: DeskContext) -> list[str]:
    return [f"{b.name} ({b.email})" for b in desk.beheerders]
