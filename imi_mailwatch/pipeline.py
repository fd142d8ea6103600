"""One message, start to finish (the task outbox is in ``imi_mailwatch.outbox``).

For each message: parse and authenticate (AlertReader) -> route (RuleSet) ->
record, in ONE transaction, the message's outcome, the request's new state, the
intent to create or annotate its task (the outbox), the follow-up plan and the
audit trail -> carry out the outbox (create the task exactly once) ->
mark acknowledged -> acknowledge at the source (in this order: see
``Pipeline._acknowledge``). The daemon hands over a fetch batch at a time
(``Pipeline.handle_batch``): its messages are recorded and marked acknowledged in
one transaction (group commit), then the outbox is carried out and the source told.

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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Protocol, runtime_checkable

import structlog

from imi_mailwatch.alerts.mime import MailMessage
from imi_mailwatch.config import Beheerder
from imi_mailwatch.decide import (
    DISPOSITION,
    REPLY_OUTCOMES,
    Classifier,
    ModuleSettings,
    Outcome,
    ReplyResult,
    Router,
    TaskSettings,
    decide_message,
    note,
)
from imi_mailwatch.errors import (
    MailSourceRejectedError,
    StateError,
    TransientError,
)
from imi_mailwatch.model import (
    Alert,
    Classification,
    Disposition,
    MessageKind,
    Module,
    RawMessage,
    Route,
    TaskStatus,
)
from imi_mailwatch.outbox import TaskOutbox
from imi_mailwatch.ports import Clock, MailSource, StateStore
from imi_mailwatch.proposals import Proposals
from imi_mailwatch.records import RequestRecord
from imi_mailwatch.texts import TextBook

log = structlog.get_logger(__name__)


_Read = tuple[RawMessage, Classification, MailMessage | None]  # a message as classified
_TASK_OUTCOMES = frozenset({Outcome.TASK_CREATED, Outcome.REQUEST_UPDATED})


@runtime_checkable
class MessageReader(Protocol):
    """A classifier that also hands over the message it parsed (``AlertReader``)."""

    def read(self, data: bytes) -> tuple[Classification, MailMessage | None]: ...


class Replies(Protocol):
    """The replies to the daemon's own mails among the messages (``reply_path.ReplyHandler``):
    the pipeline hands them over and needs nothing else of the reply path."""

    def answers_daemon(self, data: bytes, message: MailMessage | None = None) -> bool:
        """Whether the message answers one of the daemon's mails by its headers."""
        ...

    def record(self, store: StateStore, raw: RawMessage, c: Classification) -> ReplyResult | None:
        """Record it as a reply inside the caller's transaction; None when it is none."""
        ...


class FollowUpPlanner(Protocol):
    """Plans reminders for a request; called inside the recording transaction."""

    def replan(self, store: StateStore, request: RequestRecord, *, closed: bool) -> None: ...


@dataclass(frozen=True, slots=True)
class MessageResult:
    outcome: Outcome
    request_id: str | None = None
    alert_type: str | None = None
    reason: str | None = None


class Pipeline:
    """Handles one message at a time; see the module docstring for the order."""

    def __init__(
        self,
        *,
        store: StateStore,
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
        modules: Mapping[Module, ModuleSettings] | None = None,
        term: Callable[[date, int], date] | None = None,
        functional_mailbox: str | None = None,
        replies: Replies | None = None,
        send_mails: Callable[[], object] | None = None,
        proposals: Proposals | None = None,
    ) -> None:
        self.store = store
        self.classifier = classifier
        self.router = router
        self.outbox = outbox
        self.clock = clock
        self.settings = TaskSettings(
            memo_template,
            tuple(beheerders),
            confidentiality,
            keep_raw_quarantine,
            texts,
            modules or {},
            term,
            functional_mailbox,
        )
        self.planner = planner
        self.replies = replies  # None: replies to the daemon's mails are ordinary mail
        self.send_mails: Callable[[], object] = send_mails or (lambda: None)  # desk mails
        self.proposals = proposals  # routing.mode: propose (None: auto)

    def handle(
        self, source: MailSource, raw: RawMessage, classification: Classification | None = None
    ) -> MessageResult:
        """Handle one message and acknowledge it at its source.

        Mail-source and state-store errors propagate (the mailbox loop retries);
        anything else that goes wrong with this one message quarantines it with
        the error's class as the reason, so one bad message never stops the loop.
        """
        try:
            return self._handle(source, raw, classification)
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
            self._acknowledge(source, raw, Disposition.QUARANTINED, row_id)
            return result

    def handle_batch(
        self,
        source: MailSource,
        raws: Sequence[RawMessage],
        stop: Callable[[], bool] = lambda: False,
    ) -> list[MessageResult]:
        """Handle the messages of one fetch, in order, with group commit.

        The messages of a batch (alerts, replies, ordinary mail, duplicates) are
        recorded in ONE transaction that also marks them acknowledged; after that
        commit the task intents it recorded are carried out (``_carry_out``), and only
        then is each message acknowledged at the source, in fetch order. So a crash
        leaves every message either unrecorded (handed over again) or durably recorded
        (only acknowledged again, its intents carried out on the next pass). Two alerts
        of one request in a batch are decided in order, the second reading what the
        first recorded in the same transaction. A failure inside the batch undoes it and
        handles its messages one by one (``handle`` quarantines the bad one). Once
        ``stop()`` is true no next message begins: the messages in hand are committed
        and acknowledged, the rest stays at the source; and no next task intent is
        carried out (no new call to the sink): they wait in the outbox for the next start.
        """
        results: list[MessageResult] = []
        run: list[_Read] = []
        for raw in raws:
            if stop():
                break
            try:
                c, message = self._classify(raw.data)
            except Exception:
                results += self._commit_run(source, run, stop)
                run = []
                results.append(self.handle(source, raw))  # quarantines it
                continue
            run.append((raw, c, message))
        return results + self._commit_run(source, run, stop)

    def _commit_run(
        self, source: MailSource, run: Sequence[_Read], stop: Callable[[], bool]
    ) -> list[MessageResult]:
        if not run:
            return []
        done: list[tuple[RawMessage, Disposition, MessageResult]] = []
        try:
            with self.store.transaction():
                rows = []
                for raw, c, message in run:
                    seen = self.store.find_message(raw.source, c.message_id, raw.content_hash)
                    if seen is not None:
                        dup = MessageResult(Outcome.DUPLICATE, seen.request_id, seen.alert_type)
                        done.append((raw, seen.disposition, dup))
                        rows.append(seen.id)
                        continue
                    result, row_id = self._record(raw, c, raw.content_hash, message)
                    done.append((raw, DISPOSITION[result.outcome], result))
                    rows.append(row_id)
                # marked in the same commit: the source is told right after (see _acknowledge)
                self.store.mark_acknowledged_many(rows)
        except (TransientError, MailSourceRejectedError, StateError):
            raise
        except Exception:
            return [self.handle(source, raw, c) for raw, c, _ in run]
        results = self._carry_out([result for _, _, result in done], stop)
        for (raw, disposition, _), result in zip(done, results, strict=True):
            source.acknowledge(raw, disposition)  # durable and marked: now tell the source
            _log_handled(raw, result)
        return results

    def _handle(
        self, source: MailSource, raw: RawMessage, classification: Classification | None = None
    ) -> MessageResult:
        content_hash = raw.content_hash
        if classification is None:
            classification = self.classifier.classify(raw.data)
        seen = self.store.find_message(raw.source, classification.message_id, content_hash)
        if seen is not None:
            self._acknowledge(source, raw, seen.disposition, seen.id)
            result = MessageResult(Outcome.DUPLICATE, seen.request_id, seen.alert_type)
            _log_handled(raw, result)
            return result

        with self.store.transaction():
            result, row_id = self._record(raw, classification, content_hash)
        (result,) = self._carry_out([result])
        self._acknowledge(source, raw, DISPOSITION[result.outcome], row_id)
        _log_handled(raw, result)
        return result

    def _classify(self, data: bytes) -> tuple[Classification, MailMessage | None]:
        """The verdict, and the parsed message when the classifier hands it over (so the
        reply check need not parse it again)."""
        if isinstance(self.classifier, MessageReader):
            return self.classifier.read(data)
        return self.classifier.classify(data), None

    def _carry_out(
        self, results: Sequence[MessageResult], stop: Callable[[], bool] = lambda: False
    ) -> list[MessageResult]:
        """After the commit that recorded ``results``: each request's task intents, in the
        order of the messages, then what the replies owe (``_after_reply``). A new request
        whose task the outbox could not deliver now is TASK_QUEUED (task.created follows
        on delivery).

        The sink is called here, never inside the recording transaction: the outbox
        counts each attempt durably before it calls the sink (exactly once), so those
        commits stay one per task. Once ``stop()`` is true no next one is carried out:
        what is left waits, recorded, for the outbox's next pass (the next start).
        """
        for task in dict.fromkeys(
            r.request_id for r in results if r.outcome in _TASK_OUTCOMES and r.request_id
        ):
            if stop():
                break
            self.outbox.drain(task)
        for about in dict.fromkeys(r.request_id for r in results if r.outcome in REPLY_OUTCOMES):
            if stop():
                break
            self._after_reply(about)
        return [
            replace(r, outcome=Outcome.TASK_QUEUED)
            if r.outcome is Outcome.TASK_CREATED and not self._task_exists(r.request_id)
            else r
            for r in results
        ]

    def _after_reply(self, request_id: str | None) -> None:
        """A memo line the reply's command added, then the mails it owes (confirmation,
        answer): carried out now, so the sender hears back at once. A failure here
        leaves them recorded for the periodic work."""
        try:
            if request_id:
                self.outbox.drain(request_id)
            self.send_mails()
        except (TransientError, MailSourceRejectedError, StateError):
            raise
        except Exception as exc:
            log.error("reply.followup_failed", request_id=request_id, error=type(exc).__name__,
                      exc_info=True)  # fmt: skip

    def _acknowledge(
        self, source: MailSource, raw: RawMessage, disposition: Disposition, row_id: int
    ) -> None:
        """Mark the durable record acknowledged, then tell the source.

        In this order a kill between the two is harmless: the source still holds the
        message and hands it over again, and the duplicate path acknowledges it. In
        the other order a kill after the source's move would leave a record that is
        never marked, since nothing hands that message over again.
        """
        self.store.mark_acknowledged(row_id)
        source.acknowledge(raw, disposition)

    def _task_exists(self, request_id: str | None) -> bool:
        request = self.store.get_request(request_id) if request_id else None
        return request is not None and request.task_status is TaskStatus.CREATED

    def _record(
        self,
        raw: RawMessage,
        c: Classification,
        content_hash: str,
        message: MailMessage | None = None,
    ) -> tuple[MessageResult, int]:
        """Decide (a pure value), commit it with one call, plan the follow-ups.

        ``message``: the message as the classifier parsed it, if it handed it over."""
        if self.replies is not None and (
            c.kind is MessageKind.NOT_IMI
            # before the reader's verdict: see there
            or self.replies.answers_daemon(raw.data, message)
        ):
            reply = self.replies.record(self.store, raw, c)
            if reply is not None:
                result = MessageResult(reply.outcome, reply.request_id, None, reply.reason)
                return result, reply.row_id
        decision, _ = decide_message(
            raw, c, history=self.store, router=_Lazy(self.router), now=self.clock.now(),
            settings=self.settings,
        )  # fmt: skip
        row_id = self.store.commit(decision.recording)
        t = decision.transition
        if self.planner is not None and t is not None and (t.replan or t.closed):
            self.planner.replan(self.store, t.record, closed=t.closed)
        if self.proposals is not None and t is not None and t.closed:
            self.proposals.drop(self.store, t.record.request_id)  # never confirmed: no task
        m = decision.recording.message
        outcome = decision.outcome
        held = (
            outcome is Outcome.TASK_CREATED
            and self.proposals is not None
            and self.proposals.hold(self.store, m.request_id or "")
        )
        if held:  # routing.mode: propose: the task waits for AKKOORD or TEAM
            outcome = Outcome.TASK_HELD
        return MessageResult(outcome, m.request_id, m.alert_type, decision.reason), row_id

    def _note(
        self, raw: RawMessage, c: Classification, content_hash: str, outcome: Outcome, reason: str
    ) -> tuple[MessageResult, int]:
        decision = note(raw, c, outcome, reason, keep_raw=self.settings.keep_raw_quarantine)
        row_id = self.store.commit(decision.recording)
        m = decision.recording.message
        return MessageResult(outcome, m.request_id, m.alert_type, reason), row_id


class _Lazy:
    """The current rules, asked for only when an alert is routed."""

    def __init__(self, current: Callable[[], Router]) -> None:
        self.current = current

    def route(self, alert: Alert) -> Route:
        return self.current().route(alert)


def _log_handled(raw: RawMessage, result: MessageResult) -> None:
    """The canonical line of one message."""
    log.info(
        "message.handled",
        source=raw.source,
        ref=raw.ref,
        outcome=result.outcome.value,
        request_id=result.request_id,
        alert_type=result.alert_type,
        reason=result.reason,
    )
