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

import json
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import structlog
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from imi_mailwatch import metrics
from imi_mailwatch.adapters.sqlite_store import SqliteStateStore
from imi_mailwatch.config import Config
from imi_mailwatch.errors import ConfigError
from imi_mailwatch.records import HealthRecord

log = structlog.get_logger(__name__)

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
    if beat is not None and not beat.ok:  # the daemon gave up (Daemon.fail)
        problems.append(f"daemon: {beat.error or 'stopped after a failure'}")

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


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:9310`` for IPv6) -> (host, port). Raises ConfigError."""
    host, sep, port_text = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ConfigError(
            f"service.health_listen: {value!r} is not HOST:PORT (for example 127.0.0.1:9310)"
        )
    return host, int(port_text)


class HealthServer:
    """/healthz and /metrics over HTTP, served from a background thread."""

    def __init__(
        self,
        listen: str,
        *,
        check: Callable[[], HealthReport],
        state: Callable[[], str],
        collector: Collector | None = None,
    ) -> None:
        self.host, self.port = parse_listen(listen)
        self.check = check
        self.state = state
        self.collector = collector
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        """The bound address (the real port when 0 was asked for)."""
        if self._server is None:
            return self.host, self.port
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "imi-mailwatch"
            sys_version = ""

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/healthz":
                    status, ctype, body = outer._healthz()
                elif path == "/metrics":
                    status, ctype, body = 200, CONTENT_TYPE_LATEST, outer._metrics()
                else:
                    status, ctype, body = 404, "text/plain; charset=utf-8", b"not found\n"
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return  # no access log: scrapes every few seconds would drown the rest

        try:
            self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        except OSError as exc:
            raise ConfigError(
                f"service.health_listen: cannot listen on {self.host}:{self.port}: {exc.strerror}"
            ) from None
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="health-http", daemon=True
        )
        self._thread.start()
        host, port = self.address
        log.info("health.listening", host=host, port=port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _healthz(self) -> tuple[int, str, bytes]:
        try:
            report = self.check()
            data = {**report.as_dict(), "state": self.state()}
            status = 200 if report.ok else 503
        except Exception as exc:  # a broken check is itself unhealthy, never a crash
            log.error("health.check_failed", error=type(exc).__name__)
            data = {"status": "unhealthy", "problems": ["health check failed"]}
            status = 503
        body = (json.dumps(data, ensure_ascii=False) + "\n").encode("utf-8")
        return status, "application/json", body

    def _metrics(self) -> bytes:
        return metrics.render(self.collector)
