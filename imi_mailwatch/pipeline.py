"""One message, start to finish (the task outbox is in ``imi_mailwatch.outbox``).

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

import structlog

from imi_mailwatch.adapters.sqlite_store import SqliteStateStore, parse_day, parse_ts
from imi_mailwatch.clock import AMSTERDAM
from imi_mailwatch.config import Beheerder
from imi_mailwatch.errors import (
    MailSourceRejectedError,
    StateError,
    TransientError,
)
from imi_mailwatch.lifecycle import apply_alert, needs_route
from imi_mailwatch.memo import compose_memo, is_copy, task_subject, task_summary
from imi_mailwatch.model import (
    Alert,
    Classification,
    Disposition,
    MessageKind,
    RawMessage,
    Route,
    TaskStatus,
)
from imi_mailwatch.outbox import TaskOutbox, alert_to_payload
from imi_mailwatch.ports import Clock, MailSource
from imi_mailwatch.records import RequestRecord
from imi_mailwatch.reports import forward_notice
from imi_mailwatch.texts import TextBook

log = structlog.get_logger(__name__)


class Outcome(StrEnum):
    """What became of one message (the ``outcome`` field of ``message.handled``)."""

    TASK_CREATED = "task_created"  # a new request: its task exists at the sink
    TASK_QUEUED = "task_queued"  # a new request: its task waits in the outbox (sink down)
    FORWARD = "forward"  # a new request a rule sends out of the province: beheerders told
    REQUEST_UPDATED = "request_updated"  # a later alert on a known request
    NOTED = "noted"  # recorded, nothing to do (late alert on a closed request)
    IGNORED = "ignored"  # ordinary mail, left alone
    QUARANTINED = "quarantined"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"  # seen before: only acknowledged again


_DISPOSITION = {
    Outcome.TASK_CREATED: Disposition.HANDLED,
    Outcome.TASK_QUEUED: Disposition.HANDLED,
    Outcome.FORWARD: Disposition.HANDLED,
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
        texts: TextBook | None = None,
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
        self.texts = texts

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
        if result.outcome is Outcome.TASK_CREATED and not self._task_exists(result.request_id):
            # the outbox could not deliver it now: say so (task.created follows on delivery)
            result = replace(result, outcome=Outcome.TASK_QUEUED)
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

    def _task_exists(self, request_id: str | None) -> bool:
        request = self.store.get_request(request_id) if request_id else None
        return request is not None and request.task_status is TaskStatus.CREATED

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
        forward = route.forward if route is not None and transition.changed else None
        outcome = (
            Outcome.TASK_CREATED
            if transition.create_task
            else Outcome.FORWARD
            if forward is not None
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
        if forward is not None and route is not None:
            notice = forward_notice(alert.request_id, forward, route.rule)
            self.store.audit("request.forward", alert.request_id, rule=route.rule, to=forward.to)
            if self.store.add_notice(notice.key, notice.kind, notice.text):
                self.store.audit("report.noticed", None, kind=notice.kind, key=notice.key)
        self.store.audit(
            "alert.recorded",
            alert.request_id,
            alert_type=alert.alert_type.value,
            source=raw.source,
            deadline=alert.deadline,
        )
        if transition.create_task and route is not None:
            memo = compose_memo(
                self.memo_template,
                self.texts,
                field=route.field,
                beheerders=self.beheerders,
                today=today,
                deadline=alert.deadline,
                request_id=alert.request_id,
                team=route.team.name,
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
