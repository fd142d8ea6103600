"""Giving memory back to the system after a burst (glibc's ``malloc_trim``), and
keeping a library's optional import out of the process (:func:`import_without`).

A backlog of alerts leaves the C heap with free pages between live blocks
(SOAP bodies, parsed mails, lxml trees of the messages handled). glibc keeps
those pages resident until ``malloc_trim`` returns them; CPython never calls
it. Measured on a run of 300 new requests into the Corsa test server: 2.3 MiB
of the daemon's resident memory, at a cost well under a millisecond a call.
The daemon's periodic work calls :class:`MemoryTrim`, which trims at most once
per ``every`` seconds. Not glibc (musl, macOS): it does nothing.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any


@functools.cache
def _glibc_trim() -> Callable[[int], Any] | None:
    try:
        import ctypes

        trim: Callable[[int], Any] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def malloc_trim() -> bool:
    """Return the C heap's free pages to the system; False where glibc's call is missing."""
    trim = _glibc_trim()
    if trim is None:
        return False
    trim(0)
    return True


class MemoryTrim:
    """The periodic task: :func:`malloc_trim` at most once every ``every`` seconds."""

    def __init__(self, every: float = 60.0) -> None:
        self.every = every
        self._last: float | None = None

    def __call__(self) -> bool:
        """Trim when due; whether it trimmed."""
        now = time.monotonic()
        if self._last is not None and now - self._last < self.every:
            return False
        self._last = now
        return malloc_trim()


@contextlib.contextmanager
def import_without(name: str) -> Iterator[None]:
    """Within the block, ``import name`` fails with ImportError unless ``name`` is loaded
    already; afterwards it imports as usual.

    For a library that imports an optional package it never needs here: zeep imports
    httpx (and through it click and pygments) for its AsyncTransport only, 2.5 MiB of
    the daemon's resident memory when no Graph mailbox needs httpx. Used while the
    process imports its adapters, before its worker threads start.
    """
    if name in sys.modules:
        yield
        return
    sys.modules[name] = None  # type: ignore[assignment]  # the import system's "not here"
    try:
        yield
    finally:
        if sys.modules.get(name, ...) is None:
            del sys.modules[name]
