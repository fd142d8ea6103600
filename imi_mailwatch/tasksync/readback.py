"""The status read-back: what a request's task says in Corsa, followed in IMI-mailwatch.

Every ``task_sink.corsa.readback_minutes`` the daemon reads the document of each
open request with a created task (``ReadableSink.read_task``: Corsa's
``GetFieldValues``). Requests already handled (BEANTWOORD and friends) and
requests with a ``create_task`` or ``reroute`` row still in the outbox are left
alone: the first need nothing, the second are about to change in Corsa by our
own hand.

- **Completed** in Corsa (``completed_field`` filled): BEANTWOORD through the desk
  (``apply_command`` with the actor ``corsa``, ``Via.CORSA``, role beheerder), so
  the reminders and escalations stop and the action is in the history; the
  beheerders get one mail saying so (the desk's confirmation; the action happens
  once, because the request is handled afterwards).
- **Moved** in Corsa (the route field differs from the unit the task was last
  known at, :func:`~imi_mailwatch.tasksync.reroute.last_route`, else the
  request's unit): the team whose ``org_unit`` is that unit becomes the request's
  team through the desk's HERROUTEER, so the reminders follow, both teams and the
  beheerders hear, and it is in the history. No single team with that unit: the
  beheerders are told once (report line) and the request stays. Either way the
  new unit becomes the baseline, so a move is followed once.
- **Outage** (``TaskSinkUnavailableError``): the pass ends and nothing changes;
  the ``corsa_readback`` health row fails, and once it has failed for
  ``report_after`` the beheerders are told once per outage (an ``outage`` notice
  keyed by when it began). The next good pass clears it.
- A document that cannot be read (``TaskSinkRejectedError``: deleted, no rights):
  that request is skipped, the beheerders are told once per request.

Each request's change is one ``store.transaction()``: the desk's action, its
mails and the new baseline together.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from imi_mailwatch.desk.service import Actor, DeskContext, Via, apply_command
from imi_mailwatch.errors import PermanentError, TransientError
from imi_mailwatch.model import TaskRef, TaskStatus, Team
from imi_mailwatch.ports import StateStore
from imi_mailwatch.reasons import dutch
from imi_mailwatch.records import RequestRecord
from imi_mailwatch.replies.authz import Role
from imi_mailwatch.replies.commands import Command, CommandKind
from imi_mailwatch.tasksync import texts
from imi_mailwatch.tasksync.payload import REROUTE
from imi_mailwatch.tasksync.ports import ReadableSink, TaskReading
from imi_mailwatch.tasksync.reroute import last_route, record_route

if TYPE_CHECKING:
    from imi_mailwatch.app import App

log = structlog.get_logger(__name__)

COMPONENT = "corsa_readback"  # its health row
CORSA_ACTOR = Actor("corsa", Via.CORSA, frozenset({Role.BEHEERDER}), name="een beheerder in Corsa")
_BUSY = ("create_task", REROUTE)  # outbox actions that will change the task by our hand


@dataclass(eq=False, repr=False)
class CorsaReadback:
    """The daemon's periodic task; calling it runs a pass when one is due."""

    store: StateStore
    sink: ReadableSink
    desk: DeskContext
    _: KW_ONLY
    sink_name: str = "corsa"
    every: timedelta = timedelta(minutes=15)
    report_after: timedelta = timedelta(minutes=30)
    _next: datetime | None = field(default=None, init=False)

    def __call__(self) -> int:
        """Run a pass when ``every`` has passed since the last one; requests changed."""
        now = self.desk.clock.now()
        if self._next is not None and now < self._next and self._next - now <= self.every:
            return 0  # (a clock that jumped back does not hold the job up for longer)
        self._next = now + self.every
        return self.run()

    def run(self) -> int:
        """One pass over every open request with a created task; requests changed."""
        busy = {r["request_id"] for r in self.store.outbox_rows(("pending", "parked"))
                if r["action"] in _BUSY}  # fmt: skip
        changed = read = 0
        for request in self.store.requests(open_only=True):
            if not self._tracked(request) or request.request_id in busy:
                continue
            if self.store.desk_state(request.request_id).handled is not None:
                continue
            assert request.task_ref is not None  # _tracked
            try:
                reading = self.sink.read_task(TaskRef(self.sink_name, request.task_ref))
            except TransientError as exc:
                self._outage(exc)
                return changed
            except PermanentError as exc:
                self._unreadable(request, exc)
                continue
            read += 1
            try:
                changed += self._follow(request, reading)
            except Exception as exc:  # a bug or bad data in this one: log it, go on
                log.error("readback.failed", request_id=request.request_id,
                          error=type(exc).__name__, exc_info=True)  # fmt: skip
        self.store.record_health(COMPONENT, ok=True)
        log.info("readback.pass", read=read, changed=changed)
        return changed

    def _tracked(self, request: RequestRecord) -> bool:
        return (
            request.task_status is TaskStatus.CREATED
            and request.task_sink == self.sink_name
            and bool(request.task_ref)
        )

    def _follow(self, request: RequestRecord, reading: TaskReading) -> int:
        rid = request.request_id
        if reading.completed:
            with self.store.transaction():
                result = apply_command(self.store, self.desk, rid,
                                       Command(CommandKind.ANSWERED), CORSA_ACTOR)  # fmt: skip
                self.store.audit("corsa.completed", rid, task_ref=request.task_ref,
                                 completed_on=str(reading.completed_on or ""))  # fmt: skip
            log.info("readback.completed", request_id=rid, task_ref=request.task_ref,
                     applied=result.ok)  # fmt: skip
            return int(result.ok)
        baseline = last_route(self.store, rid) or request.org_unit or ""
        if not reading.route or reading.route == baseline:
            return 0
        team = team_for(self.desk.teams(), reading.route, current=request.team_key)
        with self.store.transaction():
            record_route(self.store, rid, reading.route, source="corsa")
            if team is None:
                self._add_notice(f"corsa-unit:{rid}:{reading.route}", texts.unit_without_team(
                    rid, request.task_ref or "", reading.route,
                    request.team_name or request.team_key or "(geen team)"))  # fmt: skip
                log.warning("readback.unit_without_team", request_id=rid, org_unit=reading.route)
                return 0
            if team.key == request.team_key:
                log.info("readback.moved_to_own_team", request_id=rid, org_unit=reading.route)
                return 0
            command = Command(CommandKind.REROUTE, team=team.key)
            result = apply_command(self.store, self.desk, rid, command, CORSA_ACTOR)
        log.info("readback.moved", request_id=rid, org_unit=reading.route, team=team.key,
                 was=baseline, applied=result.ok)  # fmt: skip
        return int(result.ok)

    def _outage(self, exc: TransientError) -> None:
        self.store.record_health(COMPONENT, ok=False, error=type(exc).__name__)
        since = next((h.failing_since for h in self.store.health() if h.component == COMPONENT),
                     None)  # fmt: skip
        log.warning("readback.unavailable", error=type(exc).__name__,
                    failing_since=since.isoformat() if since else None)  # fmt: skip
        if since is None or self.desk.clock.now() - since < self.report_after:
            return
        with self.store.transaction():
            text = texts.outage(since, dutch(type(exc).__name__))
            self._add_notice(f"outage:{COMPONENT}:{since.isoformat()}", text, kind="outage")

    def _unreadable(self, request: RequestRecord, exc: PermanentError) -> None:
        rid = request.request_id
        digest = hashlib.sha256(str(exc).encode()).hexdigest()[:12]
        log.warning("readback.unreadable", request_id=rid, error=str(exc)[:200])
        with self.store.transaction():
            self._add_notice(f"corsa-read:{rid}:{digest}",
                             texts.unreadable(rid, request.task_ref or ""))  # fmt: skip

    def _add_notice(self, key: str, text: str, *, kind: str = "corsa") -> None:
        if self.store.notice_add(key, kind, text):
            self.store.audit("report.noticed", None, kind=kind, key=key)
            log.info("report.noticed", kind=kind, key=key)


def team_for(teams: Mapping[str, Team], unit: str, *, current: str | None) -> Team | None:
    """The team whose organisation unit is ``unit``: the current team if it is one of
    them, else the only one; None when none or several."""
    found = [t for t in teams.values() if t.org_unit == unit]
    for team in found:
        if team.key == current:
            return team
    return found[0] if len(found) == 1 else None


def readback_job(app: App) -> CorsaReadback | None:
    """The read-back for a built app: only for the Corsa sink with ``readback_minutes``."""
    cfg = app.config
    corsa = cfg.task_sink.corsa
    if cfg.task_sink.kind != "corsa" or corsa is None or not corsa.readback_minutes:
        return None
    if not isinstance(app.sink, ReadableSink):
        return None
    from imi_mailwatch.desk import context_from_app

    return CorsaReadback(
        app.store,
        app.sink,
        context_from_app(app),
        sink_name=str(getattr(app.sink, "name", "corsa")),
        every=timedelta(minutes=corsa.readback_minutes),
        report_after=timedelta(minutes=cfg.reports.sink_failing_minutes),
    )
