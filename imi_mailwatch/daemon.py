"""The daemon's lifecycle: run states, one worker per mailbox, periodic work, drain.

Each mailbox has its own worker thread, so a mailbox that hangs or fails never
stalls another. The main thread runs the periodic work (the task outbox,
follow-ups, rules reload, reports, retention) until the stop flag is set. Signal
handlers live in the CLI; they only set the flag.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import structlog

from imi_mailwatch.adapters.sqlite_store import SqliteStateStore
from imi_mailwatch.errors import MailSourceRejectedError, PermanentError, TransientError
from imi_mailwatch.model import RawMessage
from imi_mailwatch.pipeline import Outcome, Pipeline, TaskOutbox
from imi_mailwatch.ports import Clock, MailSource

log = structlog.get_logger(__name__)


class RunState(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    DRAINING = "draining"
    STOPPED = "stopped"


@dataclass
class Counters:
    """What the daemon did since it started (the shutdown line, metrics)."""

    outcomes: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, outcome: str) -> None:
        with self.lock:
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return dict(self.outcomes)


PeriodicTask = Callable[[], object]


class Daemon:
    """Runs the pipeline over every mailbox until stopped."""

    def __init__(
        self,
        *,
        sources: Sequence[MailSource],
        pipeline: Pipeline,
        outbox: TaskOutbox,
        store: SqliteStateStore,
        clock: Clock,
        periodic: Sequence[tuple[str, PeriodicTask]] = (),
        drain_seconds: float = 10.0,
        tick_seconds: float = 5.0,
        wait_seconds: float = 300.0,
    ) -> None:
        self.sources = list(sources)
        self.pipeline = pipeline
        self.outbox = outbox
        self.store = store
        self.clock = clock
        self.periodic = list(periodic)
        self.drain_seconds = drain_seconds
        self.tick_seconds = tick_seconds
        self.wait_seconds = wait_seconds
        self.state = RunState.STARTING
        self.counters = Counters()
        self.stop_event = threading.Event()

    # -- one message, one mailbox pass -------------------------------------------------

    def _handle(self, source: MailSource, raw: RawMessage) -> None:
        result = self.pipeline.handle(source, raw)
        self.counters.count(result.outcome.value)

    def pass_over(self, source: MailSource) -> int:
        """Handle every waiting message of one mailbox; stops early when asked to."""
        handled = 0
        for raw in source.fetch():
            self._handle(source, raw)
            handled += 1
            if self.stop_event.is_set():
                break
        self.store.record_health(f"mailbox:{source.name}", ok=True)
        return handled

    def run_periodic(self) -> None:
        """The outbox, then every periodic task; one failing task never stops the rest."""
        try:
            self.outbox.drain()
        except Exception as exc:
            log.error("daemon.periodic_failed", task="outbox", error=type(exc).__name__)
        for name, task in self.periodic:
            try:
                task()
            except Exception as exc:
                log.error("daemon.periodic_failed", task=name, error=type(exc).__name__)

    def run_once(self) -> dict[str, int]:
        """One pass over every mailbox plus the periodic work; returns outcome counts."""
        self.state = RunState.RUNNING
        for source in self.sources:
            try:
                self.pass_over(source)
            except (TransientError, PermanentError) as exc:
                self._source_failed(source, exc)
        self.run_periodic()
        self.state = RunState.STOPPED
        return self.counters.snapshot()

    # -- the long run ------------------------------------------------------------------------

    def run(self) -> dict[str, int]:
        """Run until ``stop_event`` is set; then drain for at most ``drain_seconds``."""
        self.state = RunState.RUNNING
        workers = [
            threading.Thread(target=self._worker, args=(s,), name=f"mailbox-{s.name}", daemon=True)
            for s in self.sources
        ]
        for w in workers:
            w.start()
        while not self.stop_event.is_set():
            self.run_periodic()
            self.stop_event.wait(self.tick_seconds)
        self.state = RunState.DRAINING
        deadline = time.monotonic() + self.drain_seconds
        for w in workers:
            w.join(max(0.0, deadline - time.monotonic()))
        for s in self.sources:
            try:
                s.close()
            except Exception as exc:
                log.warning("mailbox.close_failed", source=s.name, error=type(exc).__name__)
        self.state = RunState.STOPPED
        return self.counters.snapshot()

    def _worker(self, source: MailSource) -> None:
        backoff = 1.0
        while not self.stop_event.is_set():
            try:
                self.pass_over(source)
                backoff = 1.0
                source.wait(self.wait_seconds, self.stop_event)
            except TransientError as exc:
                self._source_failed(source, exc)
                self.stop_event.wait(backoff)
                backoff = min(backoff * 2, 300.0)
            except MailSourceRejectedError as exc:
                self._source_failed(source, exc)
                self.stop_event.wait(300.0)  # credentials or folders need a person
            except Exception as exc:
                self.counters.errors += 1
                self._source_failed(source, exc)
                self.stop_event.wait(backoff)
                backoff = min(backoff * 2, 300.0)

    def _source_failed(self, source: MailSource, exc: BaseException) -> None:
        self.store.record_health(f"mailbox:{source.name}", ok=False, error=type(exc).__name__)
        log.warning(
            "mailbox.failed",
            source=source.name,
            error=type(exc).__name__,
            detail=str(exc)[:200],
            permanent=isinstance(exc, PermanentError),
        )


__all__ = ["Daemon", "Outcome", "RunState"]
