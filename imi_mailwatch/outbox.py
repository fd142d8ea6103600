"""The task outbox: recorded intents carried out against the task sink, exactly once.

The pipeline records an intent (create the task, add a memo line) in the same
transaction as the message, the desk a memo line or a move of the task
with the command; :class:`TaskOutbox` carries it out, now or on a later pass.
It knows two actions itself (``create_task``, ``annotate``); the others are
handed to it (``actions``: :func:`imi_mailwatch.tasksync.actions.task_actions`,
the move of a task and IMI's PDF report), so that it needs none of their modules. Exactly once (see
docs/corsa.md): an attempt is counted durably before the sink is called; when an
earlier attempt may have reached the sink, the outbox first asks
``sink.find(request_id)`` (Corsa: by kenmerk) and only creates when nothing is
found.

One row never holds up the others: an unavailable sink defers the row (back-off,
30 s doubling to ``max_backoff``) and ends the pass; any other failure parks that
row, reports it (the beheerders' report lists parked rows) and the pass goes on.
``imi-mailwatch outbox retry ID`` makes a parked row due again.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import structlog

from imi_mailwatch import metrics
from imi_mailwatch.clock import local_today
from imi_mailwatch.config import Beheerder
from imi_mailwatch.errors import PermanentError, TransientError
from imi_mailwatch.memo import compose_memo
from imi_mailwatch.model import TaskRequest, TaskStatus, Team, alert_from_payload
from imi_mailwatch.ports import Clock, StateStore, TaskSink
from imi_mailwatch.records import OutboxItem
from imi_mailwatch.retry import clamped
from imi_mailwatch.task_intent import task_to_change
from imi_mailwatch.texts import TextBook

log = structlog.get_logger(__name__)


def _nothing() -> None:
    return None


OutboxAction = Callable[["TaskOutbox", OutboxItem], bool]
"""Carries out one row of its action; True when it completed (False: nothing to do
now). Raises ``TransientError`` to defer the row, anything else to park it."""


@dataclass(eq=False)  # a service: compared and hashed by identity
class TaskOutbox:
    """Carries out recorded task intents against the task sink, exactly once.

    Serialised by a lock: two threads never work on the outbox at the same time.
    """

    store: StateStore
    sink: TaskSink
    clock: Clock
    max_backoff: timedelta = field(default=timedelta(minutes=30), kw_only=True)
    actions: Mapping[str, OutboxAction] = field(default_factory=dict, kw_only=True)
    # ^ the actions besides create_task and annotate, by name
    on_progress: Callable[[], None] = field(init=False, default_factory=lambda: _nothing)
    # ^ the daemon's heartbeat
    texts: TextBook | None = field(init=False, default=None)  # None: the shipped texts
    # called inside the transaction that records a created task (the team's notice)
    on_task_created: Callable[[StateStore, str], None] | None = field(init=False, default=None)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def drain(self, request_id: str | None = None) -> int:
        """Carry out due intents (of one request, or all). Returns how many completed."""
        done = 0
        with self._lock:
            self._clamp_deferred()
            for item in self.store.outbox_due(request_id=request_id):
                self.on_progress()
                try:
                    if self._carry_out(item):
                        done += 1
                except TransientError as exc:
                    delay = self.backoff(item.attempts + 1)
                    self.store.outbox_defer(item.id, _safe(exc), self.clock.now() + delay)
                    self.store.record_health("task_sink", ok=False, error=type(exc).__name__)
                    metrics.task_sink_error(permanent=False)
                    log.warning(
                        "outbox.deferred",
                        request_id=item.request_id,
                        action=item.action,
                        error=type(exc).__name__,
                        retry_in_s=int(delay.total_seconds()),
                    )
                    break  # the sink is down: the rest waits for the next pass
                except Exception as exc:  # refused, or a row the code cannot carry out
                    self._park(item.id, item.request_id, item.action, exc)
        return done

    def backoff(self, attempts: int) -> timedelta:
        """The wait after ``attempts`` failed attempts: 30 s doubling up to ``max_backoff``."""
        wait: timedelta = timedelta(seconds=30) * 2 ** min(max(attempts - 1, 0), 10)
        return min(wait, self.max_backoff)

    def _clamp_deferred(self) -> None:
        """A retry stored further ahead than its back-off allows (the clock jumped back)
        is brought back to now + back-off (retry.clamped)."""
        now = self.clock.now()
        for item in self.store.outbox_waiting(after=now):
            if item.next_attempt_at is None:
                continue
            allowed = self.backoff(item.attempts)
            if clamped(item.next_attempt_at, now, allowed) != item.next_attempt_at:
                self.store.outbox_defer(item.id, item.last_error or "", now + allowed)
                log.warning(
                    "outbox.retry_clamped",
                    request_id=item.request_id,
                    ahead_s=int((item.next_attempt_at - now).total_seconds()),
                    retry_in_s=int(allowed.total_seconds()),
                )

    def _park(self, item_id: int, request_id: str, action: str, exc: Exception) -> None:
        """Park one row for good and report it; the other rows go on whatever happens here."""
        unexpected = not isinstance(exc, PermanentError)
        # an unexpected error's text may quote anything: only its class is kept
        error = f"internal error: {type(exc).__name__}" if unexpected else _safe(exc)
        try:
            with self.store.transaction():
                self.store.outbox_finish(item_id, "parked", error)
                if action == "create_task":
                    self.store.set_task(request_id, TaskStatus.PARKED, None, None)
                self.store.audit("task.parked", request_id, action=action, error=error)
        except Exception as store_exc:
            log.error(
                "outbox.park_failed",
                request_id=request_id,
                action=action,
                error=type(store_exc).__name__,
                exc_info=True,
            )
        metrics.task_sink_error(permanent=True)
        log.error(
            "outbox.parked",
            request_id=request_id,
            action=action,
            error=type(exc).__name__,
            exc_info=exc if unexpected else None,
        )

    def _carry_out(self, item: OutboxItem) -> bool:
        item_id, request_id, action, payload = item.id, item.request_id, item.action, item.payload
        if action == "create_task":
            attempts = self.store.outbox_begin_attempt(item_id)
            ref = self.sink.find(request_id) if attempts > 1 else None
            found = ref is not None
            if ref is None:
                today = local_today(self.clock.now())  # the memo counts from now
                ref = self.sink.create(_task_from_payload(payload, today, self.texts))
            with self.store.transaction():
                self.store.set_task(request_id, TaskStatus.CREATED, ref.sink, ref.ref)
                self.store.outbox_finish(item_id, "done")
                self.store.outbox_clear_payload(item_id)
                self.store.audit(
                    "task.created",
                    request_id,
                    sink=ref.sink,
                    task_ref=ref.ref,
                    found_existing=found,
                )
                if self.on_task_created is not None:
                    self.on_task_created(self.store, request_id)
            self.store.record_health("task_sink", ok=True)
            waited = (
                (self.clock.now() - item.created_at).total_seconds()
                if item.created_at is not None
                else None
            )
            metrics.task_created(ref.sink, found_existing=found, seconds_since_outcome=waited)
            log.info(
                "task.created",
                request_id=request_id,
                sink=ref.sink,
                task_ref=ref.ref,
                found_existing=found,
            )
            return True
        if action == "annotate":
            to_change = task_to_change(self.store, item, "annotate")
            if to_change is None:
                return False
            _, task = to_change
            self.store.outbox_begin_attempt(item_id)
            self.sink.annotate(task, payload["line"])
            with self.store.transaction():
                self.store.outbox_finish(item_id, "done")
                self.store.audit("task.annotated", request_id, task_ref=task.ref)
            self.store.record_health("task_sink", ok=True)
            log.info("task.annotated", request_id=request_id, task_ref=task.ref)
            return True
        carry_out = self.actions.get(action)
        if carry_out is None:
            raise PermanentError(f"unknown outbox action {action!r}")
        return carry_out(self, item)


def _task_from_payload(p: dict[str, Any], today: date, texts: TextBook | None) -> TaskRequest:
    """The task of a recorded intent, its memo rendered for ``today`` (the call's day)."""
    team = p["team"]
    deadline = date.fromisoformat(p["deadline"]) if p.get("deadline") else None
    memo = p["memo"]  # as rendered when recorded (intents recorded by an earlier version)
    if "memo_template" in p:
        memo = compose_memo(
            p["memo_template"],
            None if p.get("memo_own_template") else texts,
            field=p["memo_field"],
            beheerders=[Beheerder.model_validate(b) for b in p["memo_beheerders"]],
            today=today,
            deadline=deadline,
            request_id=p["request_id"],
            team=team["name"],
        )
    return TaskRequest(
        request_id=p["request_id"],
        team=Team(
            key=team["key"],
            name=team["name"],
            org_unit=team["org_unit"],
            mailbox=team.get("mailbox"),
            handlers=tuple(team.get("handlers") or ()),
        ),
        subject=p["subject"],
        summary=p["summary"],
        memo=memo,
        received_on=date.fromisoformat(p["received_on"]),
        deadline=deadline,
        alert_eml=base64.b64decode(p["alert_eml"]),
        alert=alert_from_payload(p["alert"]),
        confidentiality=p.get("confidentiality"),
    )


def _safe(exc: BaseException) -> str:
    """An error text fit for the state store and logs (our own errors are written so)."""
    return f"{type(exc).__name__}: {exc}"[:500]
