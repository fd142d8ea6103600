"""structlog configuration: JSON lines when not on a terminal, readable on a terminal.

Event names are stable and listed in docs/logging.md. Processors drop nothing the
callers did not put in; callers never pass bodies, addresses or secrets.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal, TextIO

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
        stream=sys.stderr,
        format="%(levelname)s %(name)s %(message)s",
    )
    for noisy in ("zeep", "httpx", "httpcore", "exchangelib", "msal", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
