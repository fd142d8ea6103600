"""Prometheus metrics: one registry, a few counters, and calls that name the event.

Code that does something worth counting calls one function here, for example
``metrics.message_handled("task_created")`` or ``metrics.reminder_sent("reminder")``;
it never touches prometheus-client itself. Gauges that describe the state
(quarantine size, last successful contact per mailbox, open and overdue requests
per team) are read from the state store when /metrics is scraped, so they are
right after a restart too. Two histograms show what the benchmarks measure: from
a message's arrival in its mailbox to its recorded outcome, and from that
outcome to the task created at the sink. The process's memory and CPU come from
prometheus-client's process collector (``process_resident_memory_bytes``,
``process_cpu_seconds_total``).

Label values are always from small fixed sets (outcomes, sink kinds, error
classes): never request ids, addresses or message text.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Enum,
    Histogram,
    Info,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from imi_mailwatch import __version__
from imi_mailwatch.records import HealthRecord

REGISTRY = CollectorRegistry(auto_describe=True)

MESSAGES = Counter(
    "imi_mailwatch_messages",
    "Messages handled, by outcome (task_created, task_queued, forward, request_updated, "
    "noted, ignored, quarantined, rejected, duplicate; replies: reply_applied, reply_refused, "
    "reply_untrusted, reply_help, reply_unlinked, reply_automatic).",
    ["outcome"],
    registry=REGISTRY,
)
TASKS_CREATED = Counter(
    "imi_mailwatch_tasks_created",
    "Tasks created at the task sink (found_existing: an earlier attempt had created it).",
    ["sink", "found_existing"],
    registry=REGISTRY,
)
REMINDERS_SENT = Counter(
    "imi_mailwatch_reminders_sent",
    "Follow-up e-mails sent, by kind (reminder, closing, archive).",
    ["kind"],
    registry=REGISTRY,
)
TASK_SINK_ERRORS = Counter(
    "imi_mailwatch_task_sink_errors",
    "Failed task sink calls: transient (retried later) or permanent (parked).",
    ["kind"],
    registry=REGISTRY,
)
RULE_RELOADS = Counter(
    "imi_mailwatch_rule_reloads",
    "Rule file reloads after a change: ok, or failed (the previous rules stay in force).",
    ["result"],
    registry=REGISTRY,
)
MAILBOX_ERRORS = Counter(
    "imi_mailwatch_mailbox_errors",
    "Failed passes over a mailbox, by mailbox.",
    ["mailbox"],
    registry=REGISTRY,
)
RUN_STATE = Enum(
    "imi_mailwatch_run_state",
    "The daemon's run state.",
    states=["starting", "running", "draining", "stopped"],
    registry=REGISTRY,
)
ROLE = Enum(
    "imi_mailwatch_role",
    "This node's role: active (holds the lease, does the work) or standby (waits for it).",
    states=["active", "standby"],
    registry=REGISTRY,
)
BUILD = Info("imi_mailwatch_build", "The running version.", registry=REGISTRY)
BUILD.info({"version": __version__})
# seconds: from the well under a second of an idle mailbox to a day-long outage
_LATENCY_BUCKETS = (0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)
ARRIVAL_TO_OUTCOME = Histogram(
    "imi_mailwatch_arrival_to_outcome_seconds",
    "From a message's arrival in its mailbox (its delivery time there) to its recorded "
    "outcome, by outcome.",
    ["outcome"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
OUTCOME_TO_TASK = Histogram(
    "imi_mailwatch_outcome_to_task_seconds",
    "From a request's recorded outcome (the task intent) to its task created at the sink.",
    ["sink"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
ProcessCollector(registry=REGISTRY)  # process_resident_memory_bytes, process_cpu_seconds_total

# requests still waiting for an answer; "answered" ones wait only for their closing
_AWAITING_ANSWER = ("open", "allocated", "info_requested")


def message_handled(outcome: str, *, seconds_since_arrival: float | None = None) -> None:
    """One message was handled with this outcome (``pipeline.Outcome`` value).

    ``seconds_since_arrival``: from its arrival in the mailbox to now (None: unknown).
    """
    MESSAGES.labels(outcome=outcome).inc()
    if seconds_since_arrival is not None:
        ARRIVAL_TO_OUTCOME.labels(outcome=outcome).observe(max(0.0, seconds_since_arrival))


def task_created(
    sink: str, *, found_existing: bool = False, seconds_since_outcome: float | None = None
) -> None:
    """The task sink created a task (or found the one an earlier attempt created).

    ``seconds_since_outcome``: from the recorded intent to now (None: unknown).
    """
    TASKS_CREATED.labels(sink=sink, found_existing=str(found_existing).lower()).inc()
    if seconds_since_outcome is not None:
        OUTCOME_TO_TASK.labels(sink=sink).observe(max(0.0, seconds_since_outcome))


def reminder_sent(kind: str = "reminder") -> None:
    """A follow-up e-mail was sent (``kind``: reminder, closing, archive)."""
    REMINDERS_SENT.labels(kind=kind).inc()


def task_sink_error(*, permanent: bool) -> None:
    """A task sink call failed; ``permanent`` when the intent was parked."""
    TASK_SINK_ERRORS.labels(kind="permanent" if permanent else "transient").inc()


def rules_reloaded(*, ok: bool) -> None:
    """The rules were reloaded after a change (``ok=False``: the new files were invalid)."""
    RULE_RELOADS.labels(result="ok" if ok else "failed").inc()


def mailbox_failed(mailbox: str) -> None:
    """A pass over a mailbox failed."""
    MAILBOX_ERRORS.labels(mailbox=mailbox).inc()


def run_state(state: str) -> None:
    """The daemon entered a run state (``daemon.RunState`` value)."""
    RUN_STATE.state(state)


def role(value: str) -> None:
    """This node became ``active`` or ``standby`` (``standby.Role`` value)."""
    ROLE.state(value)


class StoreReader(Protocol):
    """What the state collector needs of the state store."""

    def health(self) -> list[HealthRecord]: ...

    def quarantine_counts(self) -> dict[str, int]: ...

    def open_requests_by_team(
        self, today: date, awaiting: tuple[str, ...]
    ) -> dict[str, tuple[int, int]]: ...

    def now(self) -> datetime: ...


class StateCollector(Collector):
    """Gauges read from the state store at scrape time.

    A request is overdue when it still waits for an answer and its reply date,
    a date in ``timezone``, has passed.
    """

    def __init__(self, store: StoreReader, *, timezone: str = "Europe/Amsterdam") -> None:
        self.store = store
        self.zone = ZoneInfo(timezone)

    def collect(self) -> Iterator[Metric]:
        sizes = GaugeMetricFamily(
            "imi_mailwatch_quarantine_size",
            "Unresolved messages in quarantine, by kind (quarantined, rejected).",
            labels=["kind"],
        )
        counts = {"quarantined": 0, "rejected": 0}
        counts.update(self.store.quarantine_counts())
        for kind, n in sorted(counts.items()):
            sizes.add_metric([kind], float(n))
        contact = GaugeMetricFamily(
            "imi_mailwatch_mailbox_last_contact_timestamp_seconds",
            "When each mailbox was last reached successfully (Unix time).",
            labels=["mailbox"],
        )
        failing = GaugeMetricFamily(
            "imi_mailwatch_component_ok",
            "Whether a component worked the last time it was used (1) or not (0).",
            labels=["component"],
        )
        for rec in self.store.health():
            failing.add_metric([rec.component], 1.0 if rec.ok else 0.0)
            if rec.component.startswith("mailbox:") and rec.last_ok_at is not None:
                contact.add_metric([rec.component[len("mailbox:") :]], rec.last_ok_at.timestamp())
        yield sizes
        yield contact
        yield failing
        yield from self._requests()

    def _requests(self) -> Iterator[Metric]:
        today = self.store.now().astimezone(self.zone).date()
        opened = GaugeMetricFamily(
            "imi_mailwatch_open_requests",
            "Requests not yet closed or withdrawn, by team (team '': not routed to one).",
            labels=["team"],
        )
        overdue = GaugeMetricFamily(
            "imi_mailwatch_overdue_requests",
            "Requests still waiting for an answer whose reply date has passed, by team.",
            labels=["team"],
        )
        # counted by the store: a scrape reads no request, however many are open
        counts = self.store.open_requests_by_team(today, _AWAITING_ANSWER)
        for team_key, (n, late_n) in sorted(counts.items()):
            opened.add_metric([team_key], float(n))
            overdue.add_metric([team_key], float(late_n))
        yield opened
        yield overdue


def render(extra: Collector | None = None) -> bytes:
    """The text exposition of every metric (plus ``extra``, e.g. a StateCollector)."""
    if extra is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Chain(REGISTRY, extra))
    return generate_latest(registry)


class _Chain(Collector):
    def __init__(self, registry: CollectorRegistry, extra: Collector) -> None:
        self.registry = registry
        self.extra = extra

    def collect(self) -> Iterator[Metric]:
        yield from self.registry.collect()
        yield from self.extra.collect()
