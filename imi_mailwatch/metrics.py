"""Prometheus metrics: one registry, a few counters, and calls that name the event.

Code that does something worth counting calls one function here, for example
``metrics.message_handled("task_created")`` or ``metrics.reminder_sent("reminder")``;
it never touches prometheus-client itself. Gauges that describe the state
(quarantine size, last successful contact per mailbox) are read from the state
store when /metrics is scraped, so they are right after a restart too.

Label values are always from small fixed sets (outcomes, sink kinds, error
classes): never request ids, addresses or message text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Enum, Info, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from imi_mailwatch import __version__
from imi_mailwatch.records import HealthRecord

REGISTRY = CollectorRegistry(auto_describe=True)

MESSAGES = Counter(
    "imi_mailwatch_messages",
    "Messages handled, by outcome (task_created, forward, request_updated, noted, ignored, "
    "quarantined, rejected, duplicate).",
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
BUILD = Info("imi_mailwatch_build", "The running version.", registry=REGISTRY)
BUILD.info({"version": __version__})


def message_handled(outcome: str) -> None:
    """One message was handled with this outcome (``pipeline.Outcome`` value)."""
    MESSAGES.labels(outcome=outcome).inc()


def task_created(sink: str, *, found_existing: bool = False) -> None:
    """The task sink created a task (or found the one an earlier attempt created)."""
    TASKS_CREATED.labels(sink=sink, found_existing=str(found_existing).lower()).inc()


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


class StoreReader(Protocol):
    """What the state collector needs of the state store (``SqliteStateStore``)."""

    def health(self) -> list[HealthRecord]: ...

    def query(self, sql: str) -> list[sqlite3.Row]: ...


class StateCollector(Collector):
    """Gauges read from the state store at scrape time."""

    def __init__(self, store: StoreReader) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        sizes = GaugeMetricFamily(
            "imi_mailwatch_quarantine_size",
            "Unresolved messages in quarantine, by kind (quarantined, rejected).",
            labels=["kind"],
        )
        counts = {"quarantined": 0, "rejected": 0}
        for row in self.store.query(
            "SELECT kind, count(*) AS n FROM quarantine WHERE resolved_at IS NULL GROUP BY kind"
        ):
            counts[str(row["kind"])] = int(row["n"])
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
