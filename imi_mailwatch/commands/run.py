"""``imi-mailwatch run``: the daemon. Signal handlers are installed here and only set a flag."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from types import FrameType

import structlog

from imi_mailwatch import __version__
from imi_mailwatch.app import build_app
from imi_mailwatch.commands.common import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    load,
    print_config_error,
)
from imi_mailwatch.errors import ConfigError, StateError
from imi_mailwatch.logging_setup import configure_logging

log = structlog.get_logger("imi_mailwatch")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("run", help="run the daemon")
    p.add_argument("--once", action="store_true", help="one pass over every mailbox, then exit")
    p.set_defaults(func=run)


def install_signal_handlers(stop: threading.Event) -> None:
    """First SIGTERM/SIGINT: finish the message in hand and drain. Second: exit at once."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            log.warning("daemon.forced_exit", signal=signal.Signals(signum).name)
            os._exit(EXIT_FAILED)
        log.info("daemon.stopping", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run(args: argparse.Namespace) -> int:
    try:
        cfg = load(args)
    except ConfigError as exc:
        print_config_error(exc)
        return EXIT_CONFIG
    configure_logging(cfg.logging.level, cfg.logging.format)
    try:
        app = build_app(cfg)
    except (ConfigError, StateError) as exc:
        log.error("daemon.start_failed", error=type(exc).__name__, detail=str(exc)[:500])
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    install_signal_handlers(app.stop)
    started = time.monotonic()
    log.info("daemon.started", version=__version__, once=args.once, **cfg.summary())
    try:
        counts = app.daemon.run_once() if args.once else app.daemon.run()
    finally:
        app.close()
    log.info(
        "daemon.stopped",
        uptime_s=round(time.monotonic() - started, 1),
        outcomes=counts,
        errors=app.daemon.counters.errors,
    )
    return EXIT_OK
