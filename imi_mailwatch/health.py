"""Health: is the daemon doing its work? And the small HTTP endpoint that says so.

The daemon writes what it observes into the state store's ``health`` table
(``record_health``): ``daemon`` (a heartbeat), ``mailbox:NAME`` after every pass
over a mailbox, ``task_sink`` after every task sink call, ``rules`` on every
reload. :func:`evaluate` turns those rows into a verdict; it is pure, so the
``imi-mailwatch health`` command (another process, for a Docker HEALTHCHECK or a
systemd timer) and the HTTP endpoint (inside the daemon) give the same answer.

Unhealthy when:

- the daemon's heartbeat is missing or older than ``service.mailbox_stale_minutes``;
- a configured mailbox was not reached within ``service.mailbox_stale_minutes``;
- the task sink has been failing for longer than ``service.sink_failing_minutes``;
- the rules files are broken (the previous rules stay in force until fixed).

The endpoint (``service.health_listen``, loopback by default) serves ``/healthz``
(JSON; 200 healthy, 503 unhealthy) and ``/metrics`` (Prometheus text format).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog

from imi_mailwatch.adapters.sqlite_store import SqliteStateStore
from imi_mailwatch.config import Config
from imi_mailwatch.health_http import HealthServer, parse_listen
from imi_mailwatch.records import HealthRecord

log = structlog.get_logger(__name__)

__all__ = ["HealthReport", "HealthServer", "check", "evaluate", "parse_listen"]

DAEMON = "daemon"
TASK_SINK = "task_sink"
RULES = "rules"
MAILBOX_PREFIX = "mailbox:"


@dataclass(frozen=True, slots=True)
class HealthReport:
    """The verdict: healthy or not, each problem in one line, and the rows it read."""

    ok: bool
    problems: tuple[str, ...] = ()
    components: tuple[dict[str, Any], ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "unhealthy",
            "problems": list(self.problems),
            "components": list(self.components),
        }


def _ago(now: datetime, then: datetime) -> str:
    minutes = int((now - then).total_seconds() // 60)
    return f"{then.isoformat(timespec='seconds')} ({minutes} min ago)"


def evaluate(
    records: Iterable[HealthRecord],
    *,
    now: datetime,
    mailboxes: Sequence[str],
    mailbox_stale: timedelta,
    sink_failing: timedelta,
) -> HealthReport:
    """Judge the health rows. ``mailboxes``: the configured mailbox names."""
    rows = {r.component: r for r in records}
    problems: list[str] = []

    beat = rows.get(DAEMON)
    if beat is None or beat.last_ok_at is None:
        problems.append("daemon: no heartbeat in the state store (is the daemon running?)")
    elif now - beat.last_ok_at > mailbox_stale:
        problems.append(f"daemon: last heartbeat {_ago(now, beat.last_ok_at)}")

    for name in mailboxes:
        rec = rows.get(MAILBOX_PREFIX + name)
        if rec is None:
            problems.append(f"mailbox {name}: not reached yet")
            continue
        since = rec.last_ok_at or rec.failing_since or rec.updated_at
        if now - since <= mailbox_stale:
            continue
        if rec.ok:
            problems.append(f"mailbox {name}: last reached {_ago(now, since)}")
        elif rec.last_ok_at is None:
            problems.append(f"mailbox {name}: never reached; failing since {_ago(now, since)}")
        else:
            problems.append(f"mailbox {name}: not reached since {_ago(now, since)}")
        if not rec.ok and rec.error:
            problems[-1] += f"; last error {rec.error}"

    sink = rows.get(TASK_SINK)
    if (
        sink is not None
        and not sink.ok
        and sink.failing_since is not None
        and now - sink.failing_since > sink_failing
    ):
        problems.append(
            f"task sink: failing since {_ago(now, sink.failing_since)}"
            + (f"; last error {sink.error}" if sink.error else "")
        )

    rules = rows.get(RULES)
    if rules is not None and not rules.ok:
        problems.append("rules: the rules files are invalid (the previous rules stay in force)")

    components = tuple(
        {
            "component": r.component,
            "ok": r.ok,
            "last_ok_at": r.last_ok_at.isoformat() if r.last_ok_at else None,
            "failing_since": r.failing_since.isoformat() if r.failing_since else None,
            "error": r.error,
        }
        for r in rows.values()
    )
    return HealthReport(ok=not problems, problems=tuple(problems), components=components)


def check(cfg: Config, store: SqliteStateStore, now: datetime) -> HealthReport:
    """Evaluate the state store's health rows against the configuration."""
    return evaluate(
        store.health(),
        now=now,
        mailboxes=[m.name for m in cfg.mailboxes],
        mailbox_stale=timedelta(minutes=cfg.service.mailbox_stale_minutes),
        sink_failing=timedelta(minutes=cfg.service.sink_failing_minutes),
    )
