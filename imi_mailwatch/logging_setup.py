"""structlog configuration: JSON lines when not on a terminal, readable on a terminal.

Event names are stable and listed in docs/logging.md. Processors drop nothing the
callers did not put in; callers never pass bodies, addresses or secrets.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO, cast

import structlog

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def configure_logging(
    level: str = "info",
    fmt: Literal["auto", "json", "console"] = "auto",
    stream: TextIO | None = None,
) -> None:
    """Route structlog (and the standard library's logging) to ``stream`` (stdout)."""
    out = stream or sys.stdout
    use_json = fmt == "json" or (fmt == "auto" and not out.isatty())
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.typing.Processor
    if use_json:
        renderer = structlog.processors.JSONRenderer(sort_keys=False)
        shared.append(structlog.processors.format_exc_info)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=out.isatty())
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    # Libraries (zeep, httpx, exchangelib) log through the standard library: keep
    # them quiet unless debugging, and never let them print request bodies.
    logging.basicConfig(
        level=logging.WARNING if level != "debug" else logging.INFO,
        stream=CurrentStderr(),
        format="%(levelname)s %(name)s %(message)s",
    )
    for noisy in ("zeep", "httpx", "httpcore", "exchangelib", "msal", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class CurrentStderr(io.TextIOBase):
    """``sys.stderr`` as it is at each write, not as it was when logging was configured.

    The commands other than ``run`` log here; resolving the stream late keeps them
    right when the caller swaps ``sys.stderr`` (test runners, tools calling ``main``).
    """

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def current_stderr() -> TextIO:
    """A stream that writes to whatever ``sys.stderr`` is at the time of each write."""
    return cast(TextIO, CurrentStderr())  # a TextIOBase: write, flush, isatty


class LocklessLog:
    """One JSON line written straight to a file descriptor, taking no lock.

    For signal handlers: a handler runs in the main thread between two bytecodes,
    possibly while that thread is inside the logger holding its lock, and logging
    through structlog there would wait for itself forever. The line starts with a
    newline so that it stands on its own even after a half-written line.
    """

    def __init__(self, fd: int = 1) -> None:
        self.fd = fd

    def warning(self, event: str, **fields: Any) -> None:
        record = {
            "event": event,
            "level": "warning",
            "timestamp": datetime.now(UTC).isoformat(),
            **fields,
        }
        with contextlib.suppress(OSError):
            os.write(self.fd, ("\n" + json.dumps(record, default=str) + "\n").encode())
