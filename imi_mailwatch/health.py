"""Health: is the daemon alive, ready, doing its work? Three verdicts from one list of checks.

The daemon writes what it observes into the state store's ``health`` table
(``record_health``): ``daemon`` (the heartbeat, every half
``service.heartbeat_seconds`` while a loop makes progress; ``stopped`` after a
clean stop), ``mailbox:NAME`` when a mailbox answers, ``task_sink`` after every
task sink call, ``rules`` on every reload. Inside the daemon it also knows when
it last wrote its heartbeat and its run state. A check is a pure function
``Facts -> problems``; a verdict is a tuple of checks:

- ``LIVENESS`` (``/livez``): the process works: not stopped, and its loops wrote
  a heartbeat within two intervals. 503 means: restart it.
- ``READINESS`` (``/readyz``): it can do its job now: running, the state store
  writable, every mailbox answered since the start, the rules in force valid.
- ``HEALTH`` (``/healthz`` and ``imi-mailwatch health``): the ops verdict, with
  tolerance for short outages: the heartbeat not older than two intervals and
  no clean stop, each mailbox reached within ``service.mailbox_stale_minutes``,
  the task sink not failing longer than ``service.sink_failing_minutes``, valid
  rules; inside the daemon, liveness too. The rules row follows the files: it is
  unhealthy while the files on disk are broken (the previous rules stay in force),
  or "degraded" when the daemon started on the last good rules kept in the state
  store; putting back the content in force, or any valid content, clears it.

Another process (``imi-mailwatch health``: a Docker HEALTHCHECK, a systemd timer)
has only the rows; the checks that need in-process facts say nothing there. To
add a check, write one function and add it to the verdicts it belongs to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog

from imi_mailwatch.config import Config
from imi_mailwatch.health_http import HealthServer, parse_listen
from imi_mailwatch.ports import StateStore
from imi_mailwatch.records import HealthRecord

log = structlog.get_logger(__name__)

__all__ = [
    "HEALTH",
    "LIVENESS",
    "READINESS",
    "Facts",
    "HealthReport",
    "HealthServer",
    "check",
    "evaluate",
    "parse_listen",
]

DAEMON = "daemon"
TASK_SINK = "task_sink"
RULES = "rules"
MAILBOX_PREFIX = "mailbox:"
# the ``error`` of the rules row (written by the app from the rule watcher's status)
RULES_INVALID = "invalid rules"
RULES_FROM_STORE = "degraded: stored rules"
_RULES_PROBLEMS = {
    "": "the rules files are invalid (the previous rules stay in force)",
    RULES_INVALID: "the rules files are invalid (the previous rules stay in force)",
    RULES_FROM_STORE: "degraded: the rules files are invalid; running on the last good rules "
    "kept in the state store",
}
STOPPED = "stopped"
ROUNDING = timedelta(seconds=1)  # the store keeps whole seconds


@dataclass(frozen=True, slots=True)
class HealthReport:
    """The verdict: healthy or not, each problem in one line, and the rows it read."""

    ok: bool
    problems: tuple[str, ...] = ()
    components: tuple[dict[str, Any], ...] = field(default=())
    role: str | None = None  # this daemon's: active or standby (hot standby, PostgreSQL)
    nodes: tuple[dict[str, Any], ...] = field(default=())  # every node's role (PostgreSQL)

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "status": "ok" if self.ok else "unhealthy",
            "problems": list(self.problems),
            "components": list(self.components),
        }
        if self.role is not None:
            found["role"] = self.role
        if self.nodes:
            found["nodes"] = list(self.nodes)
        return found


class DaemonView(Protocol):
    """What the health checks read from the running daemon (``daemon.Daemon``)."""

    @property
    def started_at(self) -> datetime | None: ...

    @property
    def beat_error(self) -> str | None: ...

    @property
    def failure(self) -> str | None: ...

    def beat_age(self) -> float | None: ...

    def role(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything a check may look at. The in-process facts are None in another process."""

    rows: Mapping[str, HealthRecord]
    now: datetime
    mailboxes: Sequence[str] = ()
    mailbox_stale: timedelta = timedelta(minutes=30)
    sink_failing: timedelta = timedelta(minutes=30)
    heartbeat: timedelta = timedelta(seconds=30)
    run_state: str | None = None
    beat_age: timedelta | None = None  # since this process last wrote its heartbeat
    beat_error: str | None = None  # why the last heartbeat write failed
    started_at: datetime | None = None
    failure: str | None = None  # why this daemon gave up (``Daemon.fail``)
    role: str | None = None  # active or standby (``standby.Role``)

    @property
    def in_process(self) -> bool:
        return self.run_state is not None

    @property
    def heartbeat_stale(self) -> timedelta:
        return 2 * self.heartbeat + ROUNDING


Check = Callable[[Facts], Iterable[str]]


def _ago(now: datetime, then: datetime) -> str:
    seconds = int((now - then).total_seconds())
    ago = f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"
    return f"{then.isoformat(timespec='seconds')} ({ago} ago)"


# -- the checks ------------------------------------------------------------------------------


def loop_problems(f: Facts) -> Iterator[str]:
    """In the daemon: not stopped, and a loop wrote the heartbeat within two intervals."""
    if not f.in_process:
        return
    if f.failure is not None:
        yield f"daemon: gave up: {f.failure}"
    elif f.run_state == STOPPED:
        yield "daemon: stopped"
    elif f.role == "standby":
        return  # a hot standby waits for the lease: its loops have not started, rightly
    elif f.beat_age is None or f.beat_age > f.heartbeat_stale:
        since = "never" if f.beat_age is None else f"{int(f.beat_age.total_seconds())} s ago"
        yield f"daemon: its loops have not written a heartbeat since {since}"


def heartbeat_problems(f: Facts) -> Iterator[str]:
    """The heartbeat row: present, not older than two intervals, no clean stop after it."""
    beat = f.rows.get(DAEMON)
    if beat is None or beat.last_ok_at is None:
        yield "daemon: no heartbeat in the state store (is the daemon running?)"
    elif not beat.ok and beat.error == STOPPED:
        yield f"daemon: stopped at {beat.updated_at.isoformat(timespec='seconds')}"
    elif not beat.ok:  # the daemon gave up (Daemon.fail)
        yield f"daemon: {beat.error or 'stopped after a failure'}"
    elif f.now - beat.last_ok_at > f.heartbeat_stale:
        yield f"daemon: last heartbeat {_ago(f.now, beat.last_ok_at)}"


def store_problems(f: Facts) -> Iterator[str]:
    """In the daemon: the state store took the last heartbeat."""
    if f.beat_error is not None:
        yield f"state store: cannot write the heartbeat ({f.beat_error})"


def mailbox_problems(f: Facts) -> Iterator[str]:
    """Each configured mailbox reached within ``mailbox_stale``."""
    for name in f.mailboxes:
        rec = f.rows.get(MAILBOX_PREFIX + name)
        if rec is None:
            yield f"mailbox {name}: not reached yet"
            continue
        since = rec.last_ok_at or rec.failing_since or rec.updated_at
        if f.now - since <= f.mailbox_stale:
            continue
        if rec.ok:
            problem = f"mailbox {name}: last reached {_ago(f.now, since)}"
        elif rec.last_ok_at is None:
            problem = f"mailbox {name}: never reached; failing since {_ago(f.now, since)}"
        else:
            problem = f"mailbox {name}: not reached since {_ago(f.now, since)}"
        if not rec.ok and rec.error:
            problem += f"; last error {rec.error}"
        yield problem


def connected_problems(f: Facts) -> Iterator[str]:
    """Readiness: each mailbox answered since this start and its last contact worked."""
    started = f.started_at.replace(microsecond=0) if f.started_at else None
    for name in f.mailboxes:
        rec = f.rows.get(MAILBOX_PREFIX + name)
        if rec is None or rec.last_ok_at is None or (started and rec.last_ok_at < started):
            yield f"mailbox {name}: not connected yet"
        elif not rec.ok:
            yield f"mailbox {name}: not connected" + (f" ({rec.error})" if rec.error else "")


def sink_problems(f: Facts) -> Iterator[str]:
    """The task sink not failing for longer than ``sink_failing``."""
    sink = f.rows.get(TASK_SINK)
    if (
        sink is not None
        and not sink.ok
        and sink.failing_since is not None
        and f.now - sink.failing_since > f.sink_failing
    ):
        yield f"task sink: failing since {_ago(f.now, sink.failing_since)}" + (
            f"; last error {sink.error}" if sink.error else ""
        )


def rules_problems(f: Facts) -> Iterator[str]:
    """The rules files are valid."""
    rules = f.rows.get(RULES)
    if rules is not None and not rules.ok:
        yield "rules: " + _RULES_PROBLEMS.get(rules.error or "", _RULES_PROBLEMS[""])


def running_problems(f: Facts) -> Iterator[str]:
    """Readiness: the daemon is in its running state (not starting, draining, stopped)."""
    if f.in_process and f.run_state != "running":
        yield f"daemon: {f.run_state}"


LIVENESS: tuple[Check, ...] = (loop_problems,)
READINESS: tuple[Check, ...] = (
    running_problems,
    loop_problems,
    store_problems,
    connected_problems,
    rules_problems,
)
HEALTH: tuple[Check, ...] = (
    loop_problems,
    heartbeat_problems,
    mailbox_problems,
    sink_problems,
    rules_problems,
)


# -- verdicts --------------------------------------------------------------------------------


def judge(facts: Facts, checks: Sequence[Check] = HEALTH) -> HealthReport:
    """Run ``checks`` over ``facts``; each problem is one line."""
    problems = [p for c in checks for p in c(facts)]
    components = tuple(
        {
            "component": r.component,
            "ok": r.ok,
            "last_ok_at": r.last_ok_at.isoformat() if r.last_ok_at else None,
            "failing_since": r.failing_since.isoformat() if r.failing_since else None,
            "error": r.error,
        }
        for r in facts.rows.values()
    )
    return HealthReport(
        ok=not problems, problems=tuple(problems), components=components, role=facts.role
    )


def evaluate(
    records: Iterable[HealthRecord],
    *,
    now: datetime,
    mailboxes: Sequence[str],
    mailbox_stale: timedelta,
    sink_failing: timedelta,
    heartbeat: timedelta = timedelta(seconds=30),
    checks: Sequence[Check] = HEALTH,
) -> HealthReport:
    """Judge the health rows alone (another process). ``mailboxes``: the configured names."""
    facts = Facts(
        rows={r.component: r for r in records},
        now=now,
        mailboxes=tuple(mailboxes),
        mailbox_stale=mailbox_stale,
        sink_failing=sink_failing,
        heartbeat=heartbeat,
    )
    return judge(facts, checks)


def facts(
    cfg: Config,
    store: StateStore | None,
    now: datetime,
    *,
    daemon: DaemonView | None = None,
    run_state: str | None = None,
    heartbeat_seconds: float | None = None,
) -> Facts:
    """The facts for a verdict; ``store`` None: no rows (liveness reads none)."""
    age = daemon.beat_age() if daemon is not None else None
    return Facts(
        rows={r.component: r for r in store.health()} if store is not None else {},
        now=now,
        mailboxes=tuple(m.name for m in cfg.mailboxes),
        mailbox_stale=timedelta(minutes=cfg.service.mailbox_stale_minutes),
        sink_failing=timedelta(minutes=cfg.service.sink_failing_minutes),
        heartbeat=timedelta(seconds=heartbeat_seconds or cfg.service.heartbeat_seconds),
        run_state=run_state,
        beat_age=timedelta(seconds=age) if age is not None else None,
        beat_error=daemon.beat_error if daemon is not None else None,
        started_at=daemon.started_at if daemon is not None else None,
        failure=daemon.failure if daemon is not None else None,
        role=daemon.role() if daemon is not None else None,
    )


def check(cfg: Config, store: StateStore, now: datetime) -> HealthReport:
    """The ``imi-mailwatch health`` verdict: the state store's rows against the configuration."""
    return judge(facts(cfg, store, now), HEALTH)
