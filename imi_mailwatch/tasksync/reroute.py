"""The task outbox's ``reroute`` action: move the task after HERROUTEER, exactly once.

The desk records the row in the transaction of the re-route (``desk.service``);
:class:`~imi_mailwatch.outbox.TaskOutbox` carries it out here. The attempt is
counted before the sink is called, and the sink's ``reroute`` reads before it
writes, so a crash or a lost answer repeats a move that is then found done.

- the task is not created yet: the row waits (its ``create_task`` comes first and
  registers the document at the team the request had then; this row moves it);
- a later re-route of the same request supersedes this one: skipped;
- moved (or found at the unit): done, and the unit becomes the read-back's
  baseline (:func:`record_route`), so the read-back does not take our own move
  for a move in Corsa;
- refused (``TaskSinkRejectedError``: no right to modify, ``reroute: false``, case
  mode) or a sink that cannot move tasks: the beheerders get a Dutch mail saying
  what to move in Corsa (a desk mail under a deterministic Message-ID), done;
- unavailable: the outbox defers the row as any other.
"""

from __future__ import annotations

import json
from typing import Any

import structlog

from imi_mailwatch.errors import PermanentError
from imi_mailwatch.model import OutgoingMail
from imi_mailwatch.msgid import make_message_id
from imi_mailwatch.ports import StateStore, TaskSink
from imi_mailwatch.records import OutboxItem
from imi_mailwatch.task_intent import task_to_change
from imi_mailwatch.tasksync import texts
from imi_mailwatch.tasksync.ports import RoutableSink
from imi_mailwatch.texts import TextBook

log = structlog.get_logger(__name__)

ROUTE_EVENT = "corsa.route"  # audit: the unit the task is at in the sink, as last known


def last_route(store: StateStore, request_id: str) -> str | None:
    """The unit the request's task was last known to be at (the read-back's baseline)."""
    for entry in reversed(store.audit_trail(request_id)):
        if entry["action"] == ROUTE_EVENT:
            detail = json.loads(entry["detail"] or "{}")
            return str(detail.get("org_unit") or "")
    return None


def record_route(store: StateStore, request_id: str, org_unit: str, *, source: str) -> None:
    """Remember where the task is now (``source``: imi, corsa, refused)."""
    store.audit(ROUTE_EVENT, request_id, org_unit=org_unit, source=source)


def carry_out_reroute(
    store: StateStore, sink: TaskSink, item: OutboxItem, *, book: TextBook | None = None
) -> bool:
    """Carry out one ``reroute`` row (module docstring); True when it completed.
    ``book``: the beheerders' own texts for the mail to move by hand (None: the shipped)."""
    found = task_to_change(store, item, "move")
    if found is None:
        return False
    (request, ref), item_id, request_id, payload = found, item.id, item.request_id, item.payload
    unit = str(payload["org_unit"])
    if request.team_key != payload.get("team_key") or request.org_unit != unit:
        with store.transaction():
            store.outbox_finish(item_id, "skipped", "superseded by a later re-route")
        log.info("task.reroute_superseded", request_id=request_id)
        return False
    store.outbox_begin_attempt(item_id)
    why: str | None = None
    moved = False
    if isinstance(sink, RoutableSink):
        try:
            moved = sink.reroute(ref, unit)
        except PermanentError as exc:
            why = texts.why_not_moved(str(exc))
            log.warning("task.reroute_refused", request_id=request_id, error=str(exc)[:200])
    else:
        why = texts.WHY_UNSUPPORTED
    with store.transaction():
        if why is None:
            record_route(store, request_id, unit, source="imi")
            store.outbox_finish(item_id, "done")
            store.audit("task.rerouted", request_id, task_ref=ref.ref, org_unit=unit)
        else:
            if last_route(store, request_id) is None:  # the task stays where it was
                record_route(store, request_id, str(payload.get("old_org_unit") or ""),
                             source="refused")  # fmt: skip
            _tell_beheerders(store, request_id, ref.ref, payload, why, book)
            store.outbox_finish(item_id, "done", "not moved: the beheerders were told")
            store.audit("task.reroute_refused", request_id, task_ref=ref.ref, org_unit=unit)
    store.record_health("task_sink", ok=True)
    if why is None:
        log.info("task.rerouted", request_id=request_id, task_ref=ref.ref, org_unit=unit,
                 moved=moved)  # fmt: skip
    else:
        log.info("task.reroute_by_hand", request_id=request_id, task_ref=ref.ref,
                 org_unit=unit, moved=moved)  # fmt: skip
    return True


def _tell_beheerders(  # noqa: PLR0917
    store: StateStore,
    request_id: str,
    task_ref: str,
    payload: dict[str, Any],
    why: str,
    book: TextBook | None,
) -> None:
    to = tuple(str(a) for a in payload.get("beheerders") or ())
    if not to:
        log.warning("task.reroute_nobody_to_tell", request_id=request_id)
        return
    subject, body = texts.move_by_hand_mail(
        request_id,
        task_ref,
        str(payload.get("team") or ""),
        str(payload["org_unit"]),
        str(payload.get("old_org_unit") or ""),
        why,
        [str(n) for n in payload.get("names") or ()],
        book=book,
    )
    reply_to = payload.get("reply_to")
    key = str(payload.get("key") or "x")
    domain = str(payload.get("domain") or "imi-mailwatch.invalid")
    mail = OutgoingMail(
        message_id=make_message_id(request_id, "corsamove", key, domain),
        to=to,
        cc=(),
        subject=subject,
        text=body,
        headers=(("Reply-To", str(reply_to)),) if reply_to else (),
    )
    store.desk_mail_add(request_id, mail)
