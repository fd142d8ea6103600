"""The one service for actions on a request: a reply mail, the CLI and the web call it.

``apply_command`` authorises the actor (:mod:`imi_mailwatch.replies.authz`), changes the
request and its desk state, replans the follow-ups, logs the action and owes the
confirmation mail, all in one ``store.transaction()`` (joining the caller's). The
mails are sent afterwards by :class:`imi_mailwatch.desk.mailer.DeskMailer` under
their deterministic Message-IDs, so a crash between recording and sending resends
the same mail. A reply applied before (the same reply Message-ID) changes nothing
again: the first outcome is returned.

=================  =============================================================
command            effect
=================  =============================================================
AANVAARD           acceptance recorded (the first moment is kept)
BEANTWOORD         handled in IMI: reminders and escalations stop; IMI's "closed"
                   still brings the closing mail
DOORGESTUURD,      as BEANTWOORD, and the team is told the Corsa task can be closed
AFGEWEZEN
PAUZE TOT d        no reminders up to and including d (never past the reply date)
HERVAT             the pause ends
IK PAK DIT OP      the actor (or, from the CLI, the address given) is the claimer:
                   reminders go to them; the beheerders are told (cc)
HERROUTEER team    the request moves to the team; a memo line and the move of the
                   Corsa document (``reroute``) go to Corsa through the task outbox;
                   both teams are told; the beheerders in cc
AKKOORD            the route is confirmed; a task held for it (routing.mode:
                   propose) is released to the task outbox
TEAM team          another team is chosen (as HERROUTEER) and the route confirmed;
                   a held task is released, for that team
=================  =============================================================
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

import structlog

from imi_mailwatch import proposals
from imi_mailwatch.clock import parse_ts
from imi_mailwatch.config import Beheerder
from imi_mailwatch.deadlines.calendar import BusinessCalendar
from imi_mailwatch.deadlines.notices import CloseReason
from imi_mailwatch.desk import changes, texts
from imi_mailwatch.desk.changes import Change, Refused, names, team_addresses
from imi_mailwatch.memo import memo_line
from imi_mailwatch.model import OutgoingMail, Team
from imi_mailwatch.msgid import make_message_id
from imi_mailwatch.ports import Clock, StateStore
from imi_mailwatch.records import ActionEntry, DeskState, RequestRecord
from imi_mailwatch.replies.authz import WHO_MAY, Decision, Role, decide
from imi_mailwatch.replies.commands import Command, CommandKind
from imi_mailwatch.replies.texts import refusal_answer
from imi_mailwatch.tasksync.payload import reroute_payload
from imi_mailwatch.texts import TextBook

__all__ = ["ActionResult", "Actor", "DeskContext", "Planner", "Via", "apply_command"]

_ASSIGN = frozenset({Role.BEHEERDER})  # a beheerder may claim for a colleague (CLI, web)

log = structlog.get_logger(__name__)


class Via(StrEnum):
    MAIL = "mail"
    CLI = "cli"
    WEB = "web"
    CORSA = "corsa"  # the status read-back: what a document in Corsa says (tasksync)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who gives the command. ``roles`` are those the caller vouches for (CLI: beheerder;
    web: from the sign-in; mail: colleague for a trusted own-domain sender); the roles
    for this request (team, claimer, beheerder by address) are added by the service."""

    address: str  # lower-case e-mail address (web: the OIDC e-mail; cli: "cli:<os user>")
    via: Via
    roles: frozenset[Role]
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ActionResult:
    ok: bool
    request_id: str
    command: CommandKind
    text: str  # Dutch: the request's new state and next follow-up, or why refused


class Planner(Protocol):
    """Replans a request's follow-ups (``deadlines.FollowUps``)."""

    def replan(self, store: StateStore, request: RequestRecord, *, closed: bool) -> None: ...

    def plan_task_close(
        self, store: StateStore, request: RequestRecord, reason: CloseReason
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class DeskContext:
    """What the service needs besides the store; ``desk.context_from_app`` builds it."""

    clock: Clock
    teams: Callable[[], Mapping[str, Team]]  # the current rules' teams by key
    beheerders: tuple[Beheerder, ...] = ()
    own_domains: tuple[str, ...] = ()
    domain: str = "imi-mailwatch.invalid"  # of the Message-IDs
    reply_to: str | None = None  # the functional mailbox
    planner: Planner | None = None
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    texts: TextBook | None = None  # the beheerders' teksten/; None: the shipped texts

    @property
    def beheerder_addresses(self) -> tuple[str, ...]:
        return tuple(b.email.lower() for b in self.beheerders)


def apply_command(
    store: StateStore,
    desk: DeskContext,
    request_id: str,
    command: Command,
    actor: Actor,
    *,
    reply_message_id: str | None = None,
    claimer: str | None = None,
) -> ActionResult:
    """Apply ``command`` to the request for ``actor`` (module docstring).

    ``claimer``: for IK PAK DIT OP given by a beheerder (CLI, web), the address of the
    colleague who takes the request; by default the actor.
    """
    with store.transaction():
        if reply_message_id is not None:
            done = store.action_by_reply(reply_message_id)
            if done is not None:
                log.info("desk.replayed", request_id=request_id, command=command.kind.value)
                return ActionResult(done.entry.ok, request_id, command.kind, done.entry.result)
        request = store.get_request(request_id)
        if request is None:
            text = texts.refused_text(request_id, command.kind, texts.UNKNOWN_REQUEST)
            log.info("desk.refused", request_id=request_id, command=command.kind.value,
                     via=actor.via.value, reason="unknown_request")  # fmt: skip
            return ActionResult(False, request_id, command.kind, text)
        return _apply(store, desk, request, command, actor, reply_message_id, claimer)


def _apply(  # noqa: PLR0917
    store: StateStore,
    desk: DeskContext,
    request: RequestRecord,
    command: Command,
    actor: Actor,
    reply_message_id: str | None,
    claimer: str | None,
) -> ActionResult:
    kind = command.kind
    rid = request.request_id
    state = store.desk_state(rid)
    key = _key(store, rid, reply_message_id)
    decision = _decide(desk, request, state, command, actor)
    try:
        if not decision.allowed:
            raise Refused(decision.explanation)
        if request.status.is_final:
            raise Refused(texts.FINAL)
        held = proposals.held_item(store, rid) is not None
        change = changes.change(desk, request, state, command, actor, claimer=claimer,
                                held=held)  # fmt: skip
    except Refused as refused:
        return _refuse(store, desk, request, command, actor, decision, refused.why, key,
                       reply_message_id, allowed=decision.allowed)  # fmt: skip
    now = desk.clock.now()
    current = change.request or request
    if change.request is not None:
        store.save_request(dataclasses.replace(change.request, updated_at=now))
    store.desk_save(change.state)
    if actor.via is not Via.CORSA:  # what Corsa said is not written back to it
        _to_corsa(store, desk, request, change, key)
    if change.release:  # routing.mode: propose: the task is created now, exactly once
        proposals.release(store, current)
    if change.replan and desk.planner is not None:
        desk.planner.replan(store, current, closed=False)
    if change.close is not None and desk.planner is not None:
        desk.planner.plan_task_close(store, current, change.close)
    lines = _state_lines(store, desk, current)
    result = texts.result_text(rid, change.done, lines)
    confirm_id = _confirm(store, desk, current, kind, actor, decision, change, lines, key,
                          reply_message_id)  # fmt: skip
    for mail_kind, to, (subject, body) in change.mails:
        if to:
            store.desk_mail_add(rid, _mail(desk, rid, mail_kind, key, to, (), subject, body))
    store.action_add(ActionEntry(rid, actor.address, actor.via.value, kind.value,
                                 _argument(command, claimer), True, result, reply_message_id,
                                 confirm_id))  # fmt: skip
    log.info("desk.applied", request_id=rid, command=kind.value, via=actor.via.value,
             mails=len([m for m in change.mails if m[1]]) + (confirm_id is not None))  # fmt: skip
    return ActionResult(True, rid, kind, result)


def _to_corsa(
    store: StateStore, desk: DeskContext, request: RequestRecord, change: Change, key: str
) -> None:
    """The memo line, and for a re-route the move of the task, through the task outbox."""
    rid = request.request_id
    now = desk.clock.now()
    if change.memo is not None:
        line = memo_line(desk.calendar.local_date(now), change.memo)
        store.outbox_add(rid, "annotate", f"annotate:{rid}:desk:{key}", {"line": line})
    moved = change.request
    if moved is not None and moved.org_unit and moved.org_unit != request.org_unit:
        payload = reroute_payload(desk, request, moved, key)
        store.outbox_add(rid, "reroute", f"reroute:{rid}:desk:{key}", payload)


def _key(store: StateStore, request_id: str, reply_message_id: str | None) -> str:
    """The Message-ID key of this action's mails: from the reply, else its place in the log."""
    if reply_message_id is not None:
        return "r" + hashlib.sha256(reply_message_id.encode()).hexdigest()[:16]
    return f"a{len(store.actions_of(request_id)) + 1}"


def _decide(
    desk: DeskContext, request: RequestRecord, state: DeskState, command: Command, actor: Actor
) -> Decision:
    """The authz decision, with the roles the caller vouches for added."""
    decision = decide(
        command.kind,
        actor.address,
        team_addresses=team_addresses(desk, request),
        claimer=state.claimer,
        beheerders=desk.beheerder_addresses,
        own_domains=desk.own_domains,
    )
    roles = decision.roles | actor.roles
    may = WHO_MAY[command.kind] | (_ASSIGN if command.kind is CommandKind.CLAIM else set())
    if decision.allowed or not may & roles:
        return dataclasses.replace(decision, roles=roles)
    return Decision(True, roles, decision.who_may, "")


def _argument(command: Command, claimer: str | None) -> str | None:
    if command.until is not None:
        return command.until.isoformat()
    return command.team or (claimer.lower() if claimer else None)


def _state_lines(store: StateStore, desk: DeskContext, request: RequestRecord) -> list[str]:
    nxt = store.next_followup(request.request_id)
    due = parse_ts(str(nxt["due_at"])) if nxt else None
    return texts.state_lines(
        request,
        store.desk_state(request.request_id),
        next_due=desk.calendar.local_date(due) if due else None,
        next_kind=str(nxt["kind"]) if nxt else None,
        local=desk.calendar.local_date,
    )


def _mailable(address: str) -> bool:
    return "@" in address and not address.startswith("cli:")


def _mail(  # noqa: PLR0917
    desk: DeskContext,
    request_id: str,
    kind: str,
    key: str,
    to: tuple[str, ...],
    cc: tuple[str, ...],
    subject: str,
    body: str,
    *,
    answers: str | None = None,
) -> OutgoingMail:
    """A desk mail; ``answers``: the reply it answers (threads under it in mail clients)."""
    headers: tuple[tuple[str, str], ...] = (("Reply-To", desk.reply_to),) if desk.reply_to else ()
    if answers:
        headers += (("In-Reply-To", answers), ("References", answers))
    return OutgoingMail(
        message_id=make_message_id(request_id, kind, key, desk.domain),
        to=to,
        cc=tuple(a for a in cc if a not in to),
        subject=subject,
        text=body,
        headers=headers,
    )


def _confirm(  # noqa: PLR0917
    store: StateStore,
    desk: DeskContext,
    request: RequestRecord,
    kind: CommandKind,
    actor: Actor,
    decision: Decision,
    change: Change,
    lines: list[str],
    key: str,
    reply_message_id: str | None = None,
) -> str | None:
    """Owe the confirmation (to the actor; the beheerders in cc where said); its id."""
    if actor.via is Via.CORSA:  # no one gave it: the beheerders hear what Corsa said
        subject, body = texts.corsa_mail(kind, change.done, lines, request_id=request.request_id,
                                         task_ref=request.task_ref,
                                         beheerders=names(desk), book=desk.texts)  # fmt: skip
        if not desk.beheerder_addresses:
            return None
        mail = _mail(desk, request.request_id, "corsa", key, desk.beheerder_addresses, (),
                     subject, body)  # fmt: skip
        store.desk_mail_add(request.request_id, mail)
        return mail.message_id
    to: tuple[str, ...] = (actor.address.lower(),) if _mailable(actor.address) else ()
    cc = desk.beheerder_addresses if change.cc_beheerders else ()
    if not to:
        to, cc = cc, ()
    if not to:
        return None
    role = _role(decision.roles)
    subject, body = texts.confirmation_mail(kind, change.done, lines,
                                            request_id=request.request_id,
                                            role=role, extra=change.extra,
                                            beheerders=names(desk),
                                            book=desk.texts)  # fmt: skip
    mail = _mail(desk, request.request_id, "confirm", key, to, cc, subject, body,
                 answers=reply_message_id)  # fmt: skip
    store.desk_mail_add(request.request_id, mail)
    return mail.message_id


def _role(roles: frozenset[Role]) -> Role:
    for role in (Role.BEHEERDER, Role.CLAIMER, Role.TEAM):
        if role in roles:
            return role
    return Role.COLLEAGUE


def _refuse(  # noqa: PLR0917
    store: StateStore,
    desk: DeskContext,
    request: RequestRecord,
    command: Command,
    actor: Actor,
    decision: Decision,
    why: str,
    key: str,
    reply_message_id: str | None,
    *,
    allowed: bool,
) -> ActionResult:
    """Log the refusal and owe the answer to the actor: nothing about the request changes."""
    rid = request.request_id
    kind = command.kind
    text = texts.refused_text(rid, kind, why)
    confirm_id = None
    if _mailable(actor.address):
        body = refusal_answer(kind, decision, request_id=rid, beheerders=names(desk),
                              reason=why if allowed else None, book=desk.texts)  # fmt: skip
        subject, body = texts.refusal_mail(rid, kind, body, book=desk.texts)
        mail = _mail(desk, rid, "refused", key, (actor.address.lower(),), (), subject, body,
                     answers=reply_message_id)  # fmt: skip
        store.desk_mail_add(rid, mail)
        confirm_id = mail.message_id
    store.action_add(ActionEntry(rid, actor.address, actor.via.value, kind.value,
                                 _argument(command, None), False, text, reply_message_id,
                                 confirm_id))  # fmt: skip
    log.info("desk.refused", request_id=rid, command=kind.value, via=actor.via.value,
             reason="not_allowed" if not allowed else "refused")  # fmt: skip
    return ActionResult(False, rid, kind, text)
