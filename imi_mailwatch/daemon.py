"""The daemon's lifecycle: run states, one worker per mailbox, periodic work, drain.

Each mailbox has its own worker thread, so a mailbox that hangs or fails never
stalls another. One more thread runs the periodic work (the task outbox,
follow-ups, rules reload, reports, retention) until the stop flag is set. The
main thread only waits for that flag, so a stop is heard at once however long a
periodic task or a Corsa call takes. Signal handlers live in the CLI; they only
call :meth:`Daemon.request_stop`.

Run states: STARTING -> RUNNING -> DRAINING -> STOPPED. In DRAINING every worker
finishes the message in hand (the pipeline never stops half-way through one)
and the daemon waits for them until ``drain_seconds`` after the stop request;
a worker still busy then is left behind (its message comes again on the next
start: see the pipeline's crash safety). The CLI also holds a hard deadline.

The heartbeat (the ``daemon`` health row) is written by whichever loop makes
progress: the periodic loop at every tick and between periodic jobs, a mailbox
worker before each message, the outbox before each task. A daemon whose loops
all stand still for two heartbeat intervals is stale; a clean stop records
``stopped``. Each heartbeat also pings systemd's watchdog; ``READY=1`` and
``STOPPING=1`` mark the start and the stop (see ``imi_mailwatch.sdnotify``).

A worker never dies silently. A failed pass is logged (an unexpected error with
its traceback) and tried again after a growing pause; an unreachable or refusing
mailbox is retried for as long as it takes. An unexpected error (a full disk, a
broken state store, a bug) that repeats ``worker_max_failures`` times in a row,
or anything that ends a worker thread, is fatal: the daemon records itself
unhealthy, stops, and ``run`` exits non-zero so that systemd or Docker restarts
it (``Daemon.failure`` says why).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import structlog

from imi_mailwatch import metrics
from imi_mailwatch.decide import Outcome
from imi_mailwatch.errors import MailSourceRejectedError, PermanentError, TransientError
from imi_mailwatch.model import RawMessage
from imi_mailwatch.outbox import TaskOutbox
from imi_mailwatch.pipeline import Pipeline
from imi_mailwatch.ports import Clock, MailSource, PeriodicTask, StateStore
from imi_mailwatch.sdnotify import READY, STOPPING, WATCHDOG

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


HEARTBEAT_SECONDS = 30.0  # service.heartbeat_seconds: two intervals without a beat are stale
STOPPED = "stopped"  # the error of the daemon's health row after a clean stop
WORKER_MAX_FAILURES = 10  # unexpected errors in a row before a worker gives up (fatal)


def _no_notify(*states: str) -> None:
    """Without systemd there is no one to tell."""


@dataclass(kw_only=True, eq=False, repr=False)
class Daemon:
    """Runs the pipeline over every mailbox until stopped."""

    sources: Sequence[MailSource]
    pipeline: Pipeline
    outbox: TaskOutbox
    store: StateStore
    clock: Clock
    periodic: list[tuple[str, PeriodicTask]] = field(default_factory=list)
    drain_seconds: float = 10.0
    tick_seconds: float = 5.0
    wait_seconds: float = 300.0
    heartbeat_seconds: float = HEARTBEAT_SECONDS
    notify: Callable[..., None] = _no_notify  # systemd's sd_notify (READY, WATCHDOG ...)
    worker_max_failures: int = WORKER_MAX_FAILURES
    backoff_first: float = 1.0
    backoff_max: float = 300.0

    def __post_init__(self) -> None:
        self.sources = list(self.sources)
        self.periodic = list(self.periodic)
        self.failure: str | None = None  # why the daemon gave up (run exits non-zero)
        self.state = RunState.STARTING
        self.counters = Counters()
        self.stop_event = threading.Event()
        self.stop_reason: str | None = None
        self._stop_requested_at: float | None = None
        self.started_at: datetime | None = None
        self.beat_error: str | None = None  # why the last heartbeat could not be written
        self._beat_lock = threading.Lock()
        self._beat_due: float | None = None  # monotonic time the next heartbeat is due
        self._last_beat: float | None = None  # monotonic time of the last one written
        self._stopped_recorded = False
        self._reached: dict[str, float] = {}  # mailbox -> monotonic time its row was written
        self.outbox.on_progress = self.heartbeat
        # active or standby: the hot standby's lease keeper answers (``standby.LeaseKeeper``)
        self.role_of: Callable[[], str] = lambda: "active"
        metrics.run_state(self.state.value)

    # -- run states ------------------------------------------------------------------------

    def _enter(self, state: RunState) -> None:
        if state is self.state:
            return
        self.state = state
        metrics.run_state(state.value)
        log.info("daemon.state_changed", state=state.value)

    def request_stop(self, reason: str = "requested") -> None:
        """Ask the daemon to stop: finish the message in hand, then drain.

        Safe to call from a signal handler: it only sets values and the stop flag.
        """
        if self._stop_requested_at is None:
            self._stop_requested_at = time.monotonic()
            self.stop_reason = reason
        self.stop_event.set()

    def heartbeat(self, *, force: bool = False) -> None:
        """Write the heartbeat and ping the watchdog, at most every half interval.

        Any thread may call it as it makes progress. A failed write (the state store
        is full or read-only) is logged once and leaves the watchdog unfed.
        """
        now = time.monotonic()
        with self._beat_lock:  # only claims the slot: never held while writing
            if self._stopped_recorded or self.failure is not None:
                return  # after the drain or a failure, the row says so: never undo it
            if not force and self._beat_due is not None and now < self._beat_due:
                return
            self._beat_due = now + self.heartbeat_seconds / 2
        try:
            self.store.record_health("daemon", ok=True)
        except Exception as exc:
            if self.beat_error is None:
                log.error("daemon.heartbeat_failed", error=type(exc).__name__)
            self.beat_error = type(exc).__name__
            return
        self.beat_error = None
        self._last_beat = now
        self.notify(WATCHDOG)

    def role(self) -> str:
        """This node's role: ``active`` (the only node, or the lease holder) or ``standby``."""
        return self.role_of()

    def beat_age(self) -> float | None:
        """Seconds since this process last wrote its heartbeat (None: never)."""
        last = self._last_beat
        return None if last is None else time.monotonic() - last

    def _started(self) -> None:
        self.started_at = self.clock.now()
        self._stopped_recorded = False
        self._enter(RunState.RUNNING)
        self.heartbeat(force=True)

    def _record_stopped(self) -> None:
        """A clean stop: `health` says so at once instead of waiting for a stale heartbeat."""
        with self._beat_lock:
            self._stopped_recorded = True
        if self.failure is not None:
            return  # the row keeps the reason the daemon gave up
        try:
            self.store.record_health("daemon", ok=False, error=STOPPED)
        except Exception as exc:
            log.warning("daemon.heartbeat_failed", error=type(exc).__name__)

    def _mailbox_reached(self, source: MailSource, *, force: bool = False) -> None:
        """Record that the mailbox answers: at the first message of a pass, then at most
        every half heartbeat interval, and at the end of every pass."""
        now = time.monotonic()
        last = self._reached.get(source.name)
        if force or last is None or now - last >= self.heartbeat_seconds / 2:
            self._reached[source.name] = now
            self.store.record_health(f"mailbox:{source.name}", ok=True)

    def fail(self, reason: str) -> None:
        """Give up: the daemon cannot go on. Health says so, and ``run`` exits non-zero."""
        if self.failure is None:
            self.failure = reason
        log.critical("daemon.failed", reason=reason)
        try:
            self.store.record_health("daemon", ok=False, error=reason)
        except Exception as exc:  # the store may be what failed; the exit code still tells
            log.error("daemon.health_write_failed", error=type(exc).__name__)
        self.request_stop("failed")

    # -- one message, one mailbox pass -------------------------------------------------

    def pass_over(self, source: MailSource) -> int:
        """Handle every waiting message of one mailbox; stops early when asked to.

        Messages come in batches of what the fetch holds (at most ``GROUP_MESSAGES``
        and ``GROUP_BYTES``), recorded with group commit (``Pipeline.handle_batch``).
        """
        handled = 0
        for batch in _batches(source.fetch()):
            self._mailbox_reached(source, force=handled == 0)
            self.heartbeat()
            results = self.pipeline.handle_batch(source, batch, self.stop_event.is_set)
            now = self.clock.now()
            for raw, result in zip(batch, results, strict=False):
                self.counters.count(result.outcome.value)
                waited = (now - raw.received_at).total_seconds() if raw.received_at else None
                metrics.message_handled(result.outcome.value, seconds_since_arrival=waited)
            handled += len(results)  # after a stop, the rest of the batch comes again
            if self.stop_event.is_set():
                break
        self._mailbox_reached(source, force=True)
        return handled

    def run_periodic(self) -> None:
        """The outbox, then every periodic task; one failing task never stops the rest."""
        for name, task in [("outbox", self.outbox.drain), *self.periodic]:
            self.heartbeat()
            try:
                task()
            except Exception as exc:
                log.error(
                    "daemon.periodic_failed", task=name, error=type(exc).__name__, exc_info=True
                )

    def run_once(self) -> dict[str, int]:
        """One pass over every mailbox plus the periodic work; returns outcome counts."""
        self._started()
        for source in self.sources:
            if self.stop_event.is_set():
                break
            try:
                self.pass_over(source)
            except (TransientError, PermanentError) as exc:
                self._source_failed(source, exc)
        if not self.stop_event.is_set():
            self.run_periodic()
        self._record_stopped()
        self._enter(RunState.STOPPED)
        return self.counters.snapshot()

    # -- the long run ------------------------------------------------------------------------

    def run(self) -> dict[str, int]:
        """Run until stopped; then drain until ``drain_seconds`` after the stop request."""
        self._started()
        workers = [
            threading.Thread(target=self._worker, args=(s,), name=f"mailbox-{s.name}", daemon=True)
            for s in self.sources
        ]
        periodic = threading.Thread(target=self._periodic_loop, name="periodic", daemon=True)
        for w in workers:
            w.start()
        periodic.start()
        self.notify(READY)
        tick = min(self.tick_seconds, self.heartbeat_seconds / 2)
        while not self.stop_event.wait(tick):
            pass  # the main thread only waits: a stop is heard whatever the others do
        self._stop_requested_at = self._stop_requested_at or time.monotonic()
        self.notify(STOPPING)
        log.info("daemon.stopping", signal=self.stop_reason or "requested")
        self._enter(RunState.DRAINING)
        # leave a little of the drain time for closing the mailboxes and the last log line
        deadline = self._stop_requested_at + max(0.0, self.drain_seconds - 1.0)
        for w in [*workers, periodic]:
            w.join(max(0.0, deadline - time.monotonic()))
        busy = [w.name.removeprefix("mailbox-") for w in [*workers, periodic] if w.is_alive()]
        if busy:
            log.warning("daemon.drain_timeout", busy=busy, drain_seconds=self.drain_seconds)
        for s in self.sources:
            if s.name in busy:
                continue  # its worker still holds the connection
            try:
                s.close()
            except Exception as exc:
                log.warning("mailbox.close_failed", source=s.name, error=type(exc).__name__)
        self._record_stopped()
        self._enter(RunState.STOPPED)
        return self.counters.snapshot()

    def _periodic_loop(self) -> None:
        """The periodic work's thread: a beat and one round of the periodic work every
        tick, until the stop flag. Never ends silently (as a mailbox worker)."""
        tick = min(self.tick_seconds, self.heartbeat_seconds / 2)
        try:
            while not self.stop_event.is_set():
                self.heartbeat()
                self.run_periodic()
                self.stop_event.wait(tick)
        except BaseException as exc:
            log.critical("daemon.periodic_died", error=type(exc).__name__, exc_info=True)
            self.fail(f"periodic work died: {type(exc).__name__}")

    def _worker(self, source: MailSource) -> None:
        """One mailbox's thread: never ends before the stop flag but through ``fail``."""
        try:
            self._work(source)
        except BaseException as exc:
            log.critical(
                "mailbox.worker_died", source=source.name, error=type(exc).__name__, exc_info=True
            )
            self.fail(f"mailbox worker {source.name} died: {type(exc).__name__}")
            return
        if not self.stop_event.is_set():  # pragma: no cover - _work only returns when stopping
            self.fail(f"mailbox worker {source.name} ended")

    def _work(self, source: MailSource) -> None:
        backoff = self.backoff_first
        failures = 0  # unexpected errors in a row
        while not self.stop_event.is_set():
            try:
                self.pass_over(source)
                backoff, failures = self.backoff_first, 0
                source.wait(self.wait_seconds, self.stop_event)
                continue
            except TransientError as exc:
                self._source_failed(source, exc)
            except MailSourceRejectedError as exc:
                self._source_failed(source, exc)
                self.stop_event.wait(self.backoff_max)  # credentials or folders need a person
                continue
            except Exception as exc:
                failures += 1
                self.counters.errors += 1
                log.error(
                    "mailbox.worker_error",
                    source=source.name,
                    error=type(exc).__name__,
                    failures=failures,
                    retry_in_s=round(backoff, 2),
                    exc_info=True,
                )
                self._source_failed(source, exc)
                if failures >= self.worker_max_failures:
                    self.fail(
                        f"mailbox worker {source.name}: {failures} failures in a row "
                        f"({type(exc).__name__})"
                    )
                    return
            self.stop_event.wait(backoff)
            backoff = min(backoff * 2, self.backoff_max)

    def _source_failed(self, source: MailSource, exc: BaseException) -> None:
        metrics.mailbox_failed(source.name)
        try:
            self.store.record_health(f"mailbox:{source.name}", ok=False, error=type(exc).__name__)
        except Exception as store_exc:  # e.g. the disk is full: the failure is still logged
            log.error(
                "mailbox.health_write_failed", source=source.name, error=type(store_exc).__name__
            )
        log.warning(
            "mailbox.failed",
            source=source.name,
            error=type(exc).__name__,
            detail=str(exc)[:200],
            permanent=isinstance(exc, PermanentError),
        )


__all__ = ["Daemon", "Outcome", "RunState"]


GROUP_MESSAGES = 200
GROUP_BYTES = 8 * 1024 * 1024


def _batches(messages: Iterable[RawMessage]) -> Iterator[list[RawMessage]]:
    """The messages in groups of at most GROUP_MESSAGES and about GROUP_BYTES."""
    batch: list[RawMessage] = []
    size = 0
    for raw in messages:
        batch.append(raw)
        size += len(raw.data)
        if len(batch) >= GROUP_MESSAGES or size >= GROUP_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch
