"""One message, start to finish; and the task outbox.

For each message: parse and authenticate (AlertReader) -> route (RuleSet) ->
record, in ONE transaction, the message's outcome, the request's new state, the
intent to create or annotate its task (the outbox), the follow-up plan and the
audit trail -> carry out the outbox (create the task exactly once) ->
acknowledge at the source -> mark acknowledged.

A crash before the transaction commits leaves nothing behind: the source hands
the message over again. A crash after it leaves a durable record: the message
is recognised by (source, Message-ID, content hash) and only acknowledged; the
outbox intent is carried out on the next pass. So running twice over the same
mailbox does nothing twice.

Exactly-once task creation (see docs/corsa.md): an attempt is counted durably
before the sink is called; when an earlier attempt may have reached the sink,
the outbox first asks ``sink.find(request_id)`` (Corsa: by kenmerk) and only
creates when nothing is found.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

import structlog

from imi_mailwatch import metrics
from imi_mailwatch.adapters.sqlite_store import SqliteStateStore, parse_day, parse_ts
from imi_mailwatch.clock import AMSTERDAM
from imi_mailwatch.config import Beheerder
from imi_mailwatch.errors import (
    MailSourceRejectedError,
    PermanentError,
    StateError,
    TransientError,
)
from imi_mailwatch.lifecycle import apply_alert, needs_route
from imi_mailwatch.memo import is_copy, render_memo, task_subject, task_summary
from imi_mailwatch.model import (
    Alert,
    AlertType,
    Classification,
    Disposition,
    MessageKind,
    RawMessage,
    Route,
    TaskRef,
    TaskRequest,
    TaskStatus,
    Team,
)
from imi_mailwatch.ports import Clock, MailSource, TaskSink
from imi_mailwatch.records import RequestRecord

log = structlog.get_logger(__name__)


class Outcome(StrEnum):
    """What became of one message (the ``outcome`` field of ``message.handled``)."""

    TASK_CREATED = "task_created"  # a new request: task created (or queued in the outbox)
    REQUEST_UPDATED = "request_updated"  # a later alert on a known request
    NOTED = "noted"  # recorded, nothing to do (late alert on a closed request)
    IGNORED = "ignored"  # ordinary mail, left alone
    QUARANTINED = "quarantined"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"  # seen before: only acknowledged again


_DISPOSITION = {
    Outcome.TASK_CREATED: Disposition.HANDLED,
    Outcome.REQUEST_UPDATED: Disposition.HANDLED,
    Outcome.NOTED: Disposition.HANDLED,
    Outcome.IGNORED: Disposition.IGNORED,
    Outcome.QUARANTINED: Disposition.QUARANTINED,
    Outcome.REJECTED: Disposition.REJECTED,
}


class Classifier(Protocol):
    def classify(self, data: bytes) -> Classification: ...


class Router(Protocol):
    def route(self, alert: Alert) -> Route: ...


class FollowUpPlanner(Protocol):
    """Plans reminders for a request; called inside the recording transaction."""

    def replan(self, store: SqliteStateStore, request: RequestRecord, *, closed: bool) -> None: ...


@dataclass(frozen=True, slots=True)
class MessageResult:
    outcome: Outcome
    request_id: str | None = None
    alert_type: str | None = None
    reason: str | None = None


def local_today(now: datetime) -> date:
    return now.astimezone(AMSTERDAM).date()


def alert_to_payload(alert: Alert) -> dict[str, Any]:
    data = asdict(alert)
    data["alert_type"] = alert.alert_type.value
    data["deadline"] = alert.deadline.isoformat() if alert.deadline else None
    data["sent_at"] = alert.sent_at.isoformat() if alert.sent_at else None
    data["service_activities"] = list(alert.service_activities)
    return data


def alert_from_payload(data: dict[str, Any]) -> Alert:
    return Alert(
        alert_type=AlertType(data["alert_type"]),
        request_id=data["request_id"],
        language=data.get("language"),
        legislative_area=data.get("legislative_area"),
        requesting_authority=data.get("requesting_authority"),
        member_state=data.get("member_state"),
        service_activities=tuple(data.get("service_activities") or ()),
        deadline=date.fromisoformat(data["deadline"]) if data.get("deadline") else None,
        subject=data.get("subject") or "",
        message_id=data.get("message_id"),
        sent_at=datetime.fromisoformat(data["sent_at"]) if data.get("sent_at") else None,
    )


class TaskOutbox:
    """Carries out recorded task intents against the task sink, exactly once.

    Serialised by a lock: two threads never work on the outbox at the same time.
    """

    def __init__(
        self,
        store: SqliteStateStore,
        sink: TaskSink,
        clock: Clock,
        *,
        max_backoff: timedelta = timedelta(minutes=30),
    ) -> None:
        self.store = store
        self.sink = sink
        self.clock = clock
        self.max_backoff = max_backoff
        self._lock = threading.Lock()
        self.on_progress: Callable[[], None] = lambda: None  # the daemon's heartbeat

    def drain(self, request_id: str | None = None) -> int:
        """Carry out due intents (of one request, or all). Returns how many completed."""
        done = 0
        with self._lock:
            for item in self.store.outbox_due(request_id=request_id):
                self.on_progress()
                try:
                    if self._carry_out(item.id, item.request_id, item.action, item.payload):
                        done += 1
                except TransientError as exc:
                    delay = min(
                        timedelta(seconds=30 * 2 ** min(item.attempts, 10)), self.max_backoff
                    )
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
                except PermanentError as exc:
                    with self.store.transaction():
                        self.store.outbox_finish(item.id, "parked", _safe(exc))
                        if item.action == "create_task":
                            self.store.set_task(item.request_id, TaskStatus.PARKED, None, None)
                        self.store.audit(
                            "task.parked", item.request_id, action=item.action, error=_safe(exc)
                        )
                    metrics.task_sink_error(permanent=True)
                    log.error(
                        "outbox.parked",
                        request_id=item.request_id,
                        action=item.action,
                        error=type(exc).__name__,
                    )
        return done

    def _carry_out(
        self, item_id: int, request_id: str, action: str, payload: dict[str, Any]
    ) -> bool:
        if action == "create_task":
            attempts = self.store.outbox_begin_attempt(item_id)
            ref = self.sink.find(request_id) if attempts > 1 else None
            found = ref is not None
            if ref is None:
                today = local_today(self.clock.now())  # the memo counts from the call
                ref = self.sink.create(_task_from_payload(payload, today))
            with self.store.transaction():
                self.store.set_task(request_id, TaskStatus.CREATED, ref.sink, ref.ref)
                self.store.outbox_finish(item_id, "done")
                self.store.execute("UPDATE outbox SET payload = '{}' WHERE id = ?", (item_id,))
                self.store.audit(
                    "task.created",
                    request_id,
                    sink=ref.sink,
                    task_ref=ref.ref,
                    found_existing=found,
                )
            self.store.record_health("task_sink", ok=True)
            metrics.task_created(ref.sink, found_existing=found)
            log.info(
                "task.created",
                request_id=request_id,
                sink=ref.sink,
                task_ref=ref.ref,
                found_existing=found,
            )
            return True
        if action == "annotate":
            request = self.store.get_request(request_id)
            if request is None or request.task_status is TaskStatus.PARKED:
                with self.store.transaction():
                    self.store.outbox_finish(item_id, "skipped", "no task to annotate")
                return False
            if request.task_ref is None or request.task_sink is None:
                return False  # the task is not created yet; its create intent comes first
            self.store.outbox_begin_attempt(item_id)
            self.sink.annotate(TaskRef(request.task_sink, request.task_ref), payload["line"])
            with self.store.transaction():
                self.store.outbox_finish(item_id, "done")
                self.store.audit("task.annotated", request_id, task_ref=request.task_ref)
            self.store.record_health("task_sink", ok=True)
            log.info("task.annotated", request_id=request_id, task_ref=request.task_ref)
            return True
        raise PermanentError(f"unknown outbox action {action!r}")


def _task_from_payload(p: dict[str, Any], today: date) -> TaskRequest:
    team = p["team"]
    deadline = date.fromisoformat(p["deadline"]) if p.get("deadline") else None
    memo = p["memo"]  # rendered when recorded (intents recorded by an earlier version)
    if "memo_template" in p:
        memo = render_memo(
            p["memo_template"],
            field=p["memo_field"],
            beheerders=[Beheerder.model_validate(b) for b in p["memo_beheerders"]],
            today=today,
            deadline=deadline,
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


class Pipeline:
    """Handles one message at a time; see the module docstring for the order."""

    def __init__(
        self,
        *,
        store: SqliteStateStore,
        classifier: Classifier,
        router: Callable[[], Router],
        outbox: TaskOutbox,
        clock: Clock,
        memo_template: str,
        beheerders: Sequence[Beheerder],
        planner: FollowUpPlanner | None = None,
        confidentiality: str | None = None,
        keep_raw_quarantine: bool = True,
    ) -> None:
        self.store = store
        self.classifier = classifier
        self.router = router
        self.outbox = outbox
        self.clock = clock
        self.memo_template = memo_template
        self.beheerders = tuple(beheerders)
        self.planner = planner
        self.confidentiality = confidentiality
        self.keep_raw_quarantine = keep_raw_quarantine

    def handle(self, source: MailSource, raw: RawMessage) -> MessageResult:
        """Handle one message and acknowledge it at its source.

        Mail-source and state-store errors propagate (the mailbox loop retries);
        anything else that goes wrong with this one message quarantines it with
        the error's class as the reason, so one bad message never stops the loop.
        """
        try:
            return self._handle(source, raw)
        except (TransientError, MailSourceRejectedError, StateError):
            raise
        except Exception as exc:
            log.error("message.failed", source=raw.source, ref=raw.ref, error=type(exc).__name__)
            reason = f"internal error: {type(exc).__name__}"
            c = Classification(kind=MessageKind.IMI_ALERT, reason=reason)
            with self.store.transaction():
                seen = self.store.find_message(raw.source, None, raw.content_hash)
                if seen is None:
                    result, row_id = self._note(
                        raw, c, raw.content_hash, Outcome.QUARANTINED, reason
                    )
                else:
                    result, row_id = MessageResult(Outcome.QUARANTINED, None, None, reason), seen.id
            source.acknowledge(raw, Disposition.QUARANTINED)
            self.store.mark_acknowledged(row_id)
            return result

    def _handle(self, source: MailSource, raw: RawMessage) -> MessageResult:
        content_hash = raw.content_hash
        classification = self.classifier.classify(raw.data)
        seen = self.store.find_message(raw.source, classification.message_id, content_hash)
        if seen is not None:
            source.acknowledge(raw, seen.disposition)
            self.store.mark_acknowledged(seen.id)
            log.info(
                "message.handled",
                source=raw.source,
                ref=raw.ref,
                outcome=Outcome.DUPLICATE.value,
                request_id=seen.request_id,
            )
            return MessageResult(Outcome.DUPLICATE, seen.request_id, seen.alert_type)

        with self.store.transaction():
            result, row_id = self._record(raw, classification, content_hash)
        if result.outcome in (Outcome.TASK_CREATED, Outcome.REQUEST_UPDATED) and result.request_id:
            self.outbox.drain(result.request_id)
        source.acknowledge(raw, _DISPOSITION[result.outcome])
        self.store.mark_acknowledged(row_id)
        log.info(
            "message.handled",
            source=raw.source,
            ref=raw.ref,
            outcome=result.outcome.value,
            request_id=result.request_id,
            alert_type=result.alert_type,
            reason=result.reason,
        )
        return result

    def _record(
        self, raw: RawMessage, c: Classification, content_hash: str
    ) -> tuple[MessageResult, int]:
        alert = c.alert
        if c.kind is MessageKind.NOT_IMI:
            return self._note(raw, c, content_hash, Outcome.IGNORED, c.reason or "not an IMI alert")
        if c.kind is MessageKind.REJECTED:
            return self._note(
                raw, c, content_hash, Outcome.REJECTED, c.reason or "failed authentication"
            )
        if alert is None or not alert.request_id:
            return self._note(
                raw,
                c,
                content_hash,
                Outcome.QUARANTINED,
                c.reason or "IMI alert without a request id",
            )

        now = self.clock.now()
        today = local_today(now)
        current = self.store.get_request(alert.request_id)
        earlier = [
            (r["alert_type"], parse_day(r["deadline"]), parse_ts(r["sent_at"] or r["recorded_at"]))
            for r in self.store.alert_history(alert.request_id)
        ]
        copy = is_copy(earlier, alert.alert_type.value, alert.deadline, alert.sent_at or now)
        route = self.router().route(alert) if needs_route(current, alert) else None
        transition = apply_alert(current, alert, route, now, today)
        outcome = (
            Outcome.TASK_CREATED
            if transition.create_task
            else Outcome.REQUEST_UPDATED
            if transition.changed
            else Outcome.NOTED
        )
        row_id = self.store.record_message(
            source=raw.source,
            ref=raw.ref,
            message_id=c.message_id,
            content_hash=content_hash,
            kind=c.kind,
            disposition=_DISPOSITION[outcome],
            reason=None,
            request_id=alert.request_id,
            alert_type=alert.alert_type.value,
        )
        self.store.add_alert(
            alert.request_id, row_id, alert.alert_type.value, alert.deadline, alert.sent_at
        )
        if transition.changed:
            self.store.save_request(transition.record)
        if route is not None:
            self.store.audit(
                "request.routed",
                alert.request_id,
                rule=route.rule,
                team=route.team.key,
                default=route.is_default,
            )
        self.store.audit(
            "alert.recorded",
            alert.request_id,
            alert_type=alert.alert_type.value,
            source=raw.source,
            deadline=alert.deadline,
        )
        if transition.create_task and route is not None:
            memo = render_memo(
                self.memo_template,
                field=route.field,
                beheerders=self.beheerders,
                today=today,
                deadline=alert.deadline,
            )
            payload = {
                "request_id": alert.request_id,
                "team": {
                    "key": route.team.key,
                    "name": route.team.name,
                    "org_unit": route.team.org_unit,
                    "mailbox": route.team.mailbox,
                    "handlers": list(route.team.handlers),
                },
                "subject": task_subject(alert),
                "summary": task_summary(alert, today),
                "memo": memo,
                # the memo is rendered again when Corsa is called, so its count is current
                "memo_template": self.memo_template,
                "memo_field": route.field,
                "memo_beheerders": [b.model_dump() for b in self.beheerders],
                "received_on": today.isoformat(),
                "deadline": alert.deadline.isoformat() if alert.deadline else None,
                "alert_eml": base64.b64encode(raw.data).decode("ascii"),
                "alert": alert_to_payload(alert),
                "confidentiality": self.confidentiality,
            }
            self.store.outbox_add(
                alert.request_id, "create_task", f"create:{alert.request_id}", payload
            )
        if transition.memo_line is not None and not copy:
            self.store.outbox_add(
                alert.request_id,
                "annotate",
                f"annotate:{alert.request_id}:{row_id}",
                {"line": transition.memo_line},
            )
        if self.planner is not None and (transition.replan or transition.closed):
            self.planner.replan(self.store, transition.record, closed=transition.closed)
        return MessageResult(outcome, alert.request_id, alert.alert_type.value), row_id

    def _note(
        self, raw: RawMessage, c: Classification, content_hash: str, outcome: Outcome, reason: str
    ) -> tuple[MessageResult, int]:
        alert = c.alert
        request_id = alert.request_id if alert and alert.request_id else None
        row_id = self.store.record_message(
            source=raw.source,
            ref=raw.ref,
            message_id=c.message_id,
            content_hash=content_hash,
            kind=c.kind,
            disposition=_DISPOSITION[outcome],
            reason=reason,
            request_id=request_id,
            alert_type=alert.alert_type.value if alert else None,
        )
        if outcome in (Outcome.QUARANTINED, Outcome.REJECTED):
            self.store.quarantine_add(
                message_row=row_id,
                source=raw.source,
                ref=raw.ref,
                kind=outcome.value,
                reason=reason,
                request_id=request_id,
                raw=raw.data if self.keep_raw_quarantine else None,
            )
            self.store.audit(
                f"message.{outcome.value}", request_id, source=raw.source, reason=reason
            )
        result = MessageResult(
            outcome, request_id, alert.alert_type.value if alert else None, reason
        )
        return result, row_id
