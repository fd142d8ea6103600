"""The ports of the state the core keeps: one narrow Protocol per kind of state,
and ``StateStore``, all of them on one store so that writes share a transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any, Protocol, TypedDict, Unpack, runtime_checkable

from imi_mailwatch.model import (
    OutgoingMail,
    TaskStatus,
)
from imi_mailwatch.records import (
    ActionEntry,
    ActionRecord,
    AlertEntry,
    DeferredFollowUp,
    DeskMailRow,
    DeskState,
    FollowUpKind,
    FollowUpRow,
    FollowUpStatus,
    HealthRecord,
    MessageEntry,
    MessageRecord,
    OutboxItem,
    PlannedFollowUp,
    PurgePlan,
    QuarantineEntry,
    QuarantineRecord,
    QuarterFacts,
    Recording,
    RequestRecord,
    Snapshot,
)


@runtime_checkable
class CursorStore(Protocol):
    """Durable per-folder cursors for mail sources (IMAP UIDVALIDITY/UID, Graph delta link).

    ``set_cursor`` is durable when it returns. Cursors are opaque strings to the store.
    """

    def get_cursor(self, source: str, folder: str) -> str | None:
        """The stored cursor, or None before the first run."""
        ...

    def set_cursor(self, source: str, folder: str, value: str) -> None:
        """Store the cursor durably (replaces the previous value)."""
        ...


# -- the state the core keeps ---------------------------------------------------------------
#
# One Protocol per kind of state. Every method that writes joins the caller's
# transaction (``with store.transaction():``); a write outside one is its own
# transaction. Reads see the caller's transaction. Times are UTC; a naive
# datetime is refused (ValueError). Errors of the engine reach the caller as
# StateError only where said; a bug in a query is not translated.


class Transactional(Protocol):
    """Atomic units of work over any of the state ports of one store."""

    def transaction(self) -> AbstractContextManager[None]:
        """One atomic unit: all its writes are durable together when it leaves, or none
        (an exception rolls back). Nested uses join the outer transaction."""
        ...

    def now(self) -> datetime:
        """The store's clock (the one it stamps rows with)."""
        ...


class MessageLog(Transactional, Protocol):
    """Messages seen, keyed by (source, Message-ID, content hash)."""

    def find_message(
        self, source: str, message_id: str | None, content_hash: str
    ) -> MessageRecord | None:
        """The record of this message, or None when it was never recorded."""
        ...

    def record_message(self, entry: MessageEntry) -> int:
        """Record a message once; returns its row id. A second record of the same key
        raises (the caller looks it up first, in the same transaction)."""
        ...

    def mark_acknowledged(self, row_id: int) -> None:
        """Note that the source was told (idempotent: the first moment is kept)."""
        ...

    def mark_acknowledged_many(self, row_ids: list[int]) -> None:
        """``mark_acknowledged`` for several records, durable together (group commit)."""
        ...

    def forget_message(self, row_id: int) -> None:
        """Remove the record, so the message is handled again when seen again."""
        ...

    def message_counts(self) -> dict[str, int]:
        """Records per disposition."""
        ...

    def message_log(self) -> list[dict[str, Any]]:
        """Every record in the order seen (ref, kind, disposition, reason, ids)."""
        ...


class RequestStore(Transactional, Protocol):
    """The IMI requests the daemon follows, and the alerts about each."""

    def get_request(self, request_id: str) -> RequestRecord | None: ...

    def save_request(self, rec: RequestRecord) -> None:
        """Insert or replace the whole request (stored as given: minimise before)."""
        ...

    def set_task(
        self, request_id: str, status: TaskStatus, sink: str | None, ref: str | None
    ) -> None:
        """Set the task status; a None sink or ref keeps the stored one."""
        ...

    def requests(self, *, open_only: bool = False) -> list[RequestRecord]:
        """Requests by reply date (those without one last), then id."""
        ...

    def open_requests_by_team(
        self, today: date, awaiting: tuple[str, ...]
    ) -> dict[str, tuple[int, int]]:
        """Per team key ('' for none): the requests not closed or withdrawn, and how many
        of them have a status in ``awaiting`` and a reply date before ``today``."""
        ...

    def add_alert(self, message_row: int, alert: AlertEntry) -> None:
        """Remember one alert about a request (idempotent per message row)."""
        ...

    def alert_history(self, request_id: str) -> list[dict[str, Any]]: ...

    def closed_without(self, since: datetime, actions: tuple[str, ...], limit: int) -> list[str]:
        """Closed or withdrawn requests with a task, closed at or after ``since``, whose
        audit trail holds none of ``actions``; the earliest closed first."""
        ...


class OutboxStore(Transactional, Protocol):
    """Task intents, recorded with the alert and carried out after the commit."""

    def outbox_add(
        self, request_id: str, action: str, idem_key: str, payload: Mapping[str, Any]
    ) -> bool:
        """Record an intent; False when one with this key exists already (idempotent)."""
        ...

    def outbox_due(self, *, request_id: str | None = None, limit: int = 100) -> list[OutboxItem]:
        """Pending intents whose next attempt is due, in the order recorded."""
        ...

    def outbox_begin_attempt(self, item_id: int) -> int:
        """Count an attempt durably before the sink is called; returns the attempts so far."""
        ...

    def outbox_finish(self, item_id: int, status: str, error: str | None = None) -> None: ...

    def outbox_defer(self, item_id: int, error: str, next_attempt_at: datetime) -> None: ...

    def outbox_waiting(self, *, after: datetime) -> list[OutboxItem]:
        """Pending intents whose next attempt lies after ``after`` (backing off)."""
        ...

    def outbox_clear_payload(self, item_id: int) -> None:
        """Drop the alert copy and memo an intent carried, once it is carried out."""
        ...

    def outbox_counts(self) -> dict[str, int]: ...

    def outbox_rows(self, statuses: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        """Rows without their payload, in the order recorded (only ``statuses`` if given)."""
        ...

    def outbox_row(self, row_id: int) -> dict[str, Any] | None: ...

    def outbox_make_due(self, row_id: int) -> None:
        """Pending again and due at once; the attempts so far are kept."""
        ...

    def outbox_held(self, *, request_id: str | None = None) -> list[OutboxItem]:
        """Intents held for a confirmation (status ``held``, routing.mode: propose), with
        their payload, in the order recorded."""
        ...

    def outbox_release(self, item_id: int, payload: Mapping[str, Any]) -> None:
        """A held intent becomes pending and due at once, carrying ``payload``."""
        ...


class FollowUpMatch(TypedDict, total=False):
    """Which follow-ups of a request ``FollowUpStore.followup_exists`` asks about."""

    kind: FollowUpKind
    step: str
    due_at: datetime


class FollowUpStore(Transactional, Protocol):
    """The durable follow-up schedule: one row per (request, step, due); a sent one stays sent."""

    def followups_cancel_reminders(self, request_id: str, now: datetime) -> None: ...

    def followups_cancel(  # the request's open follow-ups of these kinds
        self, request_id: str, kinds: Iterable[FollowUpKind], now: datetime
    ) -> None: ...

    def followup_exists(self, request_id: str, **match: Unpack[FollowUpMatch]) -> bool:
        """Whether the request has a follow-up of the kind, step and due moment given."""
        ...

    def followup_plan(self, request_id: str, p: PlannedFollowUp, now: datetime) -> None: ...

    # open follow-ups due and not backing off, by request, kind and due moment
    def followups_due(self, now: datetime) -> list[FollowUpRow]: ...

    def followups_deferred(self, now: datetime) -> list[DeferredFollowUp]: ...

    def followup_retry_at(self, row_id: int, when: datetime) -> None: ...

    def followup_set_status(
        self, row_id: int, status: FollowUpStatus, now: datetime, error: str | None = None
    ) -> None: ...

    # the intent to send, durable before the notifier is called (attempt counted)
    def followup_sending(self, row_id: int, message_id: str, now: datetime) -> None: ...

    def followup_defer(self, row_id: int, when: datetime, error: str, now: datetime) -> None: ...

    def followup_sent(self, row_id: int, now: datetime) -> None: ...

    def followup_move(self, row_id: int, due_at: datetime, now: datetime) -> None: ...

    def next_followup(self, request_id: str) -> dict[str, Any] | None: ...

    def followups_of(self, request_id: str) -> list[dict[str, Any]]: ...


class NoticeStore(Transactional, Protocol):
    """What the beheerders must hear of: once per key, sent in digests."""

    def notice_add(self, key: str, kind: str, text: str) -> bool:
        """Keep a notice; False when one with this key exists (idempotent)."""
        ...

    def notice_forget(self, key: str) -> None: ...

    def notices_pending(self) -> list[dict[str, Any]]: ...

    def notices_pending_kinds(self) -> dict[str, str]:
        """The kinds of the unsent notices, each with its oldest ``created_at`` (ISO)."""
        ...

    def notices_pending_bound(self) -> dict[str, Any] | None:
        """The oldest unsent notice bound to a mail (interrupted or refused), with its
        bookkeeping (message_id, attempts, next_attempt_at, last_error); None if none."""
        ...

    def notices_last_sent(self) -> str | None: ...

    def notices_bind(self, keys: list[str], message_id: str) -> None: ...

    def notices_defer(
        self, message_id: str, attempts: int, next_at: datetime, error: str | None
    ) -> None: ...

    def notices_sent(self, message_id: str) -> None: ...

    def parked_unnoticed(self) -> list[dict[str, Any]]:
        """Parked outbox rows (request_id, last_error) without a ``parked:`` notice."""
        ...

    def default_routed_unnoticed(self) -> list[dict[str, Any]]:
        """Requests on the default route (request_id, team_name) without a notice."""
        ...

    def pending_unnoticed(self, before: datetime) -> list[dict[str, Any]]:
        """Pending requests (request_id): known only from follow-ups (no team, not our
        own), first recorded before ``before``, without a notice."""
        ...

    def failed_followups_unnoticed(self) -> list[dict[str, Any]]:
        """Failed follow-ups (id, request_id, kind, last_error) without a notice."""
        ...


class QuarantineStore(Transactional, Protocol):
    """Quarantined and rejected mail (a raw copy only when configured)."""

    def quarantine_add(self, message_row: int, entry: QuarantineEntry) -> None:
        """Keep an item (idempotent per message row)."""
        ...

    def quarantine(self, *, unresolved_only: bool = True) -> list[QuarantineRecord]: ...

    def quarantine_raw(self, quarantine_id: int) -> bytes | None: ...

    def quarantine_resolve(self, quarantine_id: int) -> None:
        """Mark resolved now; an item resolved before keeps its moment."""
        ...

    def quarantine_unreported(self) -> list[dict[str, Any]]:
        """Unresolved items not yet reported (id, source, ref, kind, reason, request_id)."""
        ...

    def quarantine_reported(self, quarantine_id: int) -> None: ...

    def quarantine_counts(self) -> dict[str, int]:
        """Unresolved items per kind."""
        ...


class AuditLog(Transactional, Protocol):
    """The audit trail (no personal data, no bodies) and component health."""

    def audit(self, event: str, request_id: str | None = None, **detail: Any) -> None: ...

    def audit_trail(self, request_id: str) -> list[dict[str, Any]]: ...

    def last_audit_at(self, action: str) -> str | None: ...

    def record_health(self, component: str, ok: bool, error: str | None = None) -> None:
        """Whether a component works; ``failing_since`` is kept until it works again."""
        ...

    def health(self) -> list[HealthRecord]: ...


class RetentionStore(Transactional, Protocol):
    """What the retention policy reads (a snapshot) and removes (its plan)."""

    def retention_snapshot(self) -> Snapshot:
        """The facts the pure policy needs; read inside the caller's transaction."""
        ...

    def retention_apply(self, due: PurgePlan, audit_keeps: frozenset[str]) -> None:
        """Remove what ``due`` names (inside the caller's transaction)."""
        ...


class MailingLog(Transactional, Protocol):
    """Scheduled mails (the Monday overview, the quarterly report): each key once.

    A mail is claimed under a deterministic key and Message-ID before it is sent
    and marked sent after the notifier took it. A crash in between leaves the
    claim unsent, and the same mail (same Message-ID) is sent again; a key that
    was sent is never sent again.
    """

    def mailing_claim(self, key: str, message_id: str) -> bool:
        """Record the intent to send ``key`` as ``message_id``; False when already claimed."""
        ...

    def mailing(self, key: str) -> dict[str, Any] | None:
        """The claim of ``key`` (message_id, attempts, next_attempt_at, last_error,
        sent_at), or None."""
        ...

    def mailing_defer(
        self, key: str, attempts: int, next_at: datetime, error: str | None
    ) -> None: ...

    def mailing_sent(self, key: str) -> None:
        """Mark ``key`` sent now (idempotent)."""
        ...


class StatisticsStore(Protocol):
    """The facts of the quarterly report; read-only, no personal data."""

    def request_facts(self, since: datetime, until: datetime) -> list[QuarterFacts]:
        """Requests first recorded in ``[since, until)``, with the first moment of
        each step of their life in IMI (received, accepted, answered)."""
        ...

    def rejected_between(self, since: datetime, until: datetime) -> int:
        """Messages rejected as not from IMI (quarantine kind ``rejected``) in the period."""
        ...


class DeskStore(Transactional, Protocol):
    """What people said about a request (imi_mailwatch.desk): its desk state, the log of
    commands given, the mails the desk owes (sent like follow-ups: intent, send, sent)."""

    def desk_state(self, request_id: str) -> DeskState:
        """The request's desk state; the empty one when nothing was said."""
        ...

    def desk_save(self, state: DeskState) -> None:
        """Replace the request's desk state (``updated_at`` stamped by the store)."""
        ...

    def action_add(self, entry: ActionEntry) -> int | None:
        """Log a command; None (nothing logged) when its ``reply_message_id`` is logged."""
        ...

    def action_by_reply(self, reply_message_id: str) -> ActionRecord | None: ...

    def actions_of(self, request_id: str) -> list[ActionRecord]: ...

    def desk_mail_add(self, request_id: str, mail: OutgoingMail) -> bool:
        """Owe a mail; False (nothing changes) when its Message-ID is owed or sent."""
        ...

    def desk_mails_due(self, now: datetime) -> list[DeskMailRow]:
        """Pending or interrupted (``sending``) mails due at ``now``, oldest first."""
        ...

    def desk_mail_sending(self, message_id: str) -> None:
        """The intent to send, durable before the notifier is called (attempt counted)."""
        ...

    def desk_mail_defer(self, message_id: str, when: datetime, error: str) -> None: ...

    def desk_mail_done(self, message_id: str, *, sent: bool, error: str | None = None) -> None: ...

    def desk_mails_of(self, request_id: str) -> list[DeskMailRow]: ...


class Recorder(Protocol):
    """Commits one message's decision."""

    def commit(self, rec: Recording) -> int:
        """Write everything ``rec`` holds in one transaction (joining the caller's) or
        nothing; returns the message's row id. A message recorded before raises."""
        ...


class StateStore(
    Recorder,
    MessageLog,
    RequestStore,
    OutboxStore,
    FollowUpStore,
    NoticeStore,
    QuarantineStore,
    AuditLog,
    RetentionStore,
    CursorStore,
    DeskStore,
    Protocol,
):
    """Every state port on one store, so that writes of several share one transaction."""
