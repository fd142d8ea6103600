"""The ports to the world outside the state: time, mail in, tasks out, mail out."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol, runtime_checkable

from imi_mailwatch.model import (
    Disposition,
    OutgoingMail,
    RawMessage,
    TaskRef,
    TaskRequest,
)

PeriodicTask = Callable[[], object]
"""Work the daemon runs between passes (follow-ups, reports, retention)."""


@runtime_checkable
class Clock(Protocol):
    """Where time comes from, so that tests can move it."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


@runtime_checkable
class MailSource(Protocol):
    """A mailbox the daemon watches.

    Contract:
    - ``fetch`` yields messages not yet acknowledged, oldest first. A message that
      was yielded but not acknowledged (a crash in between) is yielded again on the
      next run: delivery is at-least-once, and the pipeline de-duplicates.
    - ``acknowledge`` is called only after the message's outcome is durably
      recorded. It moves the message according to ``disposition`` (never deletes
      it) and is idempotent: acknowledging an already-moved message is no error.
    - ``wait`` blocks until new mail may be there (IMAP IDLE, a poll interval),
      ``timeout`` seconds have passed, or ``stop`` is set; it never raises for a
      timeout.
    - Errors: ``MailSourceUnavailableError`` (transient: retried with backoff) and
      ``MailSourceRejectedError`` (authentication, permission, missing folder:
      reported, the source is marked unhealthy, other sources go on).
    """

    name: str

    def fetch(self) -> Iterable[RawMessage]:
        """Yield new messages, oldest first."""
        ...

    def acknowledge(self, message: RawMessage, disposition: Disposition) -> None:
        """Move the message where its disposition says; advance the cursor."""
        ...

    def wait(self, timeout: float, stop: threading.Event) -> None:
        """Block until new mail may be there, the timeout passes, or stop is set."""
        ...

    def close(self) -> None:
        """Release connections. Safe to call twice."""
        ...


@runtime_checkable
class TaskSink(Protocol):
    """Where tasks for the teams are created (Corsa, a drop folder, an intake mailbox).

    Contract for exactly-once: the pipeline records its intent before ``create``
    and, when an earlier attempt may have reached the sink, calls ``find`` first.
    ``find`` must therefore see every task ``create`` made, by the request id.
    - ``create`` returns the sink's reference for the new task. It is idempotent per
      request id: when the sink holds a task for the request already, it returns that
      task's reference and changes nothing (its memo lines stay).
    - ``annotate`` appends a dated line to the task's memo; appending the same line
      twice is tolerated by the caller (it records what it appended).
    - Errors: ``TaskSinkUnavailableError`` (transient, retried) and
      ``TaskSinkRejectedError`` (permanent: the request is parked).
    """

    name: str

    def find(self, request_id: str) -> TaskRef | None:
        """The task already created for this IMI request id, if any."""
        ...

    def create(self, task: TaskRequest) -> TaskRef:
        """Create the task with its memo and the alert attached."""
        ...

    def annotate(self, ref: TaskRef, line: str) -> None:
        """Append one line to the task's memo."""
        ...


@runtime_checkable
class Notifier(Protocol):
    """Sends e-mail: reminders, escalations and reports to the beheerders.

    ``send`` either hands the whole message to the mail system or raises
    ``NotifierUnavailableError`` (transient) / ``NotifierRejectedError``; its
    subclass ``NotifierUncertainError`` when the message may have arrived (the
    connection was lost after it was handed over), which callers retry only after
    ``reports.resend_minutes``. The message's Message-ID is fixed by the caller,
    so a retry carries the same id.
    """

    def send(self, mail: OutgoingMail) -> None:
        """Send one message."""
        ...
