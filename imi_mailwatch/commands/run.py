"""``imi-mailwatch run``: the daemon. Signal handlers are installed here and only set a flag.

First SIGTERM or SIGINT: the daemon finishes the message in hand and drains; a
hard deadline of ``service.drain_seconds`` after the signal ends the process
even when something hangs (a crash-safe stop: see the pipeline). A second
signal ends it at once. Exit codes: 0 after a normal stop, 1 when the drain
deadline or a second signal ended it or the daemon gave up (a mailbox worker
that cannot go on: ``Daemon.failure``), 78 when the configuration is invalid.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType

import structlog

from imi_mailwatch import __version__, metrics, pdf
from imi_mailwatch.adapters.state_store import fence_store, one_daemon_lock, standby_lease
from imi_mailwatch.app import App, build_app
from imi_mailwatch.commands import EXIT_CONFIG, EXIT_FAILED, EXIT_OK
from imi_mailwatch.commands.common import Subparsers, add_command, arg, load_for_run
from imi_mailwatch.errors import ConfigError, StateError
from imi_mailwatch.health import HEALTH, LIVENESS, READINESS, Check, HealthReport, facts, judge
from imi_mailwatch.health_http import HealthServer
from imi_mailwatch.logging_setup import LocklessLog, configure_logging
from imi_mailwatch.pdf_child import ChildRenderer
from imi_mailwatch.sdnotify import SystemdNotifier
from imi_mailwatch.standby import LeaseKeeper

log = structlog.get_logger("imi_mailwatch")


def register(subparsers: Subparsers) -> None:
    once = arg("--once", action="store_true", help="one pass over every mailbox, then exit")
    add_command(subparsers, "run", once, run=run)


class Shutdown:
    """What the signal handlers do. Kept small: a handler runs between two bytecodes."""

    def __init__(self, app: App, started: float) -> None:
        self.app = app
        self.started = started
        self.signals = 0
        self.timer: threading.Timer | None = None

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self.handle)
        signal.signal(signal.SIGINT, self.handle)

    def handle(self, signum: int, _frame: FrameType | None) -> None:
        self.signals += 1
        name = signal.Signals(signum).name
        if self.signals > 1:
            # not through structlog: the main thread may be inside it, holding its lock
            LocklessLog().warning("daemon.forced_exit", signal=name)
            os._exit(EXIT_FAILED)
        self.app.daemon.request_stop(name)
        self.timer = threading.Timer(self.app.config.service.drain_seconds, self.drain_expired)
        self.timer.daemon = True
        self.timer.start()

    def drain_expired(self) -> None:
        """The hard deadline: the shutdown line, then exit without waiting any longer."""
        daemon = self.app.daemon
        log.error(
            "daemon.stopped",
            uptime_s=round(time.monotonic() - self.started, 1),
            outcomes=daemon.counters.snapshot(),
            errors=daemon.counters.errors,
            drain_expired=True,
        )
        os._exit(EXIT_FAILED)

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()


def run(args: argparse.Namespace) -> int:
    cfg = load_for_run(args)  # the same checks as check-config: secrets, files, mailboxes
    configure_logging(cfg.logging.level, cfg.logging.format)
    started = time.monotonic()
    single = one_daemon_lock(cfg)  # SQLite: one daemon per state file
    try:
        if single is not None:
            single.acquire()
        app = build_app(cfg)
    except (ConfigError, StateError) as exc:
        if single is not None:
            single.release()
        return _start_failed(exc)
    keeper = _keeper(app)  # PostgreSQL: one active daemon, the others standbys
    shutdown = Shutdown(app, started)
    shutdown.install()
    notifier = SystemdNotifier(os.environ)
    app.daemon.notify = notifier
    if notifier.watchdog_seconds:  # systemd's WatchdogSec: beat well within it
        app.daemon.heartbeat_seconds = min(
            app.daemon.heartbeat_seconds, notifier.watchdog_seconds / 2
        )
    server: HealthServer | None = None
    pdfs = _render_pdfs_in_helper()
    try:
        if not args.once and cfg.service.health_listen:
            server = start_health_server(app)
        log.info(
            "daemon.started",
            version=__version__,
            once=args.once,
            pid=os.getpid(),
            drain_seconds=cfg.service.drain_seconds,
            health_listen=cfg.service.health_listen if not args.once else None,
            **cfg.summary(),
        )
        if keeper is not None and not _become_active(app, keeper):
            log.info("daemon.stopped", uptime_s=round(time.monotonic() - started, 1))
            return EXIT_OK  # stopped while standby
        counts = app.daemon.run_once() if args.once else app.daemon.run()
    except ConfigError as exc:
        return _start_failed(exc)
    finally:
        if server is not None:
            server.stop()
        if keeper is not None:
            keeper.stop()
        app.close()
        if single is not None:
            single.release()
        pdf.set_renderer(None)
        pdfs.close()
    shutdown.cancel()
    failure = app.daemon.failure
    (log.error if failure else log.info)(
        "daemon.stopped",
        uptime_s=round(time.monotonic() - started, 1),
        outcomes=counts,
        errors=app.daemon.counters.errors,
        drain_expired=False,
        failure=failure,
    )
    return EXIT_FAILED if failure else EXIT_OK


def _keeper(app: App) -> LeaseKeeper | None:
    """PostgreSQL: the keeper of the hot standby's lease (None for SQLite)."""
    lease = standby_lease(app.config)
    if lease is None:
        return None
    keeper = LeaseKeeper(lease, on_lost=app.daemon.fail)
    app.daemon.role_of = lambda: keeper.role.value
    return keeper


def _become_active(app: App, keeper: LeaseKeeper) -> bool:
    """Wait as standby until the lease is won (False: stopped first); from then on every
    write of the store passes the lease's fence, and the keeper renews the lease."""
    if not keeper.wait_for_lease(app.daemon.stop_event):
        return False
    fence_store(app.store, keeper.lease)
    keeper.start()
    return True


def _render_pdfs_in_helper() -> ChildRenderer:
    """The daemon's PDFs are made in a helper process: it keeps no PDF stack (30-40 MiB)."""
    renderer = ChildRenderer()
    pdf.set_renderer(renderer.render)
    return renderer


def _start_failed(exc: ConfigError | StateError) -> int:
    log.error("daemon.start_failed", error=type(exc).__name__, detail=str(exc)[:500])
    print(str(exc), file=sys.stderr)
    return EXIT_CONFIG


def start_health_server(app: App) -> HealthServer:
    """/livez, /readyz, /healthz and /metrics for this daemon (raises ConfigError)."""
    cfg, daemon = app.config, app.daemon

    def verdict(checks: tuple[Check, ...], *, rows: bool = True) -> Callable[[], HealthReport]:
        def judged() -> HealthReport:
            seen = facts(
                cfg,
                app.store if rows else None,
                app.clock.now(),
                daemon=daemon,
                run_state=daemon.state.value,
                heartbeat_seconds=daemon.heartbeat_seconds,
            )
            return judge(seen, checks)

        return judged

    server = HealthServer(
        str(cfg.service.health_listen),
        check=verdict(HEALTH),
        live=verdict(LIVENESS, rows=False),  # the process alone: no state store read
        ready=verdict(READINESS),
        state=lambda: daemon.state.value,
        collector=metrics.StateCollector(app.store),
    )
    server.start()
    return server
