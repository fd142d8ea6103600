"""structlog configuration: JSON lines when not on a terminal, readable on a terminal.

Event names are stable and listed in docs/logging.md. Processors drop nothing the
callers did not put in; callers never pass bodies, addresses or secrets.

Libraries log through the standard library, and Python warnings go there too
(:func:`logging.captureWarnings`); a handler hands each record to structlog as a
``library.log`` event, so every line on the stream has the one format and is
written by the one writer. Text can come from outside (a library's message may
quote the alert text that upset it): control characters in every value are
escaped before rendering (``\\x1b``), so no line carries a raw control byte, and
no terminal escape sequence or line break gets through the readable format either.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import sys
from collections.abc import Iterator, MutableMapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, TextIO, cast

if TYPE_CHECKING:
    import structlog


_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MULTILINE_KEYS = frozenset({"exception", "stack"})  # tracebacks keep their line breaks
_LIBRARY_MESSAGE_CHARS = 2_000


def escape_controls(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with each control character (C0, DEL, C1) written as its escape."""

    def escape(m: re.Match[str]) -> str:
        ch = m.group()
        if keep_newlines and ch in "\n\t":
            return ch
        return ch.encode("unicode_escape").decode("ascii")

    return _CONTROL.sub(escape, text)


def _escaped(value: object, *, keep_newlines: bool = False) -> object:
    if isinstance(value, str):
        return escape_controls(value, keep_newlines=keep_newlines)
    if isinstance(value, list | tuple):
        return [_escaped(v) for v in value]
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    return value


def _escape_event(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: control characters escaped in every value (see above)."""
    for key, value in event_dict.items():
        event_dict[key] = _escaped(value, keep_newlines=key in _MULTILINE_KEYS)
    return event_dict


class _ToStructlog(logging.Handler):
    """A standard-library record (a library's, or a Python warning) as a structlog event."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()[:_LIBRARY_MESSAGE_CHARS]
        except Exception:  # a library's bad format string: keep its template
            message = str(record.msg)[:_LIBRARY_MESSAGE_CHARS]
        import structlog

        log = structlog.get_logger()
        fields: dict[str, Any] = {"logger": record.name, "message": message}
        if record.exc_info:
            fields["exc_info"] = record.exc_info
        if record.levelno >= logging.ERROR:
            log.error("library.log", **fields)
        elif record.levelno >= logging.WARNING:
            log.warning("library.log", **fields)
        elif record.levelno >= logging.INFO:
            log.info("library.log", **fields)
        else:
            log.debug("library.log", **fields)


def configure_logging(
    level: str = "info",
    fmt: Literal["auto", "json", "console"] = "auto",
    stream: TextIO | None = None,
) -> None:
    """Route structlog, the standard library's logging and Python warnings to ``stream``
    (stdout), in one format."""
    import structlog  # here: `imi-mailwatch --version` needs none of it

    out = stream or sys.stdout
    use_json = fmt == "json" or (fmt == "auto" and not out.isatty())
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        # a traceback as text in both formats, so that its control characters are
        # escaped like any value's (the console format keeps its line breaks)
        structlog.processors.format_exc_info,
    ]
    renderer: structlog.typing.Processor
    if use_json:
        renderer = structlog.processors.JSONRenderer(sort_keys=False)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=out.isatty())
    structlog.configure(
        processors=[*shared, _escape_event, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    # Libraries (zeep, httpx, exchangelib) log through the standard library: keep
    # them quiet unless debugging, and never let them print request bodies.
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _ToStructlog)]:
        root.removeHandler(old)
    root.addHandler(_ToStructlog())
    root.setLevel(logging.WARNING if level != "debug" else logging.INFO)
    logging.captureWarnings(True)
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


class EscapingWriter(io.TextIOBase):
    """A text stream that writes to ``inner`` with control characters escaped, line
    breaks and tabs kept: for what a command prints (it may quote an alert or a file)."""

    def __init__(self, inner: TextIO) -> None:
        super().__init__()
        self.inner = inner

    def write(self, s: str) -> int:
        self.inner.write(escape_controls(s, keep_newlines=True))
        return len(s)

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        self.inner.flush()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.inner.encoding


@contextlib.contextmanager
def escaped_output() -> Iterator[None]:
    """``sys.stdout`` and ``sys.stderr`` escape control characters for the duration."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = EscapingWriter(saved[0]), EscapingWriter(saved[1])
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
        sys.stdout, sys.stderr = saved


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
