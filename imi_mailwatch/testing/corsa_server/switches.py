"""The Corsa test server's failure switches: what the next calls do wrong."""

from __future__ import annotations

import threading
from collections import deque

from imi_mailwatch.testing.corsa_server.wire import GARBLE_MODES


class FailureSwitches:
    """Queued failures, taken by the server as calls come in (under ``_lock``)."""

    _lock: threading.RLock

    def _init_switches(self) -> None:
        self._fail: dict[str, deque[str]] = {}
        self._http_errors: deque[tuple[str | None, int]] = deque()
        self._lose: dict[str, int] = {}
        self._garble: dict[str, deque[str]] = {}

    def fail_next(self, operation: str, last_error: str, times: int = 1) -> None:
        """The next ``times`` calls of ``operation`` answer Result=false with this LastError."""
        with self._lock:
            self._fail.setdefault(operation, deque()).extend([last_error] * times)

    def http_error_next(
        self, status: int = 500, times: int = 1, operation: str | None = None
    ) -> None:
        """The next ``times`` requests (of ``operation``, or any) answer this HTTP status."""
        with self._lock:
            self._http_errors.extend([(operation, status)] * times)

    def lose_response_next(self, operation: str, times: int = 1) -> None:
        """Carry out the next call of ``operation``, then answer HTTP 500 (a lost answer)."""
        with self._lock:
            self._lose[operation] = self._lose.get(operation, 0) + times

    def garble_next(self, operation: str, how: str = "truncated", times: int = 1) -> None:
        """Carry out the next ``times`` calls of ``operation``, then answer HTTP 200 with a
        damaged body: ``truncated`` (the XML cut off half-way), ``unexpected`` (well-formed
        XML that is not this operation's answer) or ``empty`` (no body at all)."""
        if how not in GARBLE_MODES:
            raise ValueError(f"garble mode must be one of {GARBLE_MODES}")
        with self._lock:
            self._garble.setdefault(operation, deque()).extend([how] * times)

    def heal(self) -> None:
        """Drop every failure still queued by the switches: the service answers again."""
        with self._lock:
            self._fail.clear()
            self._http_errors.clear()
            self._lose.clear()
            self._garble.clear()
